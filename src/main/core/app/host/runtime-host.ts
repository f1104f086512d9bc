/**
 * The engine's side of the app: the AppRuntime (queue database, engine, scheduler, auto-sync)
 * in a worker thread of the main process, so that none of its work (SQLite commits with
 * synchronous=FULL, hashing bookkeeping, its garbage collections: its own V8 heap) can delay the
 * main thread, which only draws the desktop and passes messages. It answers the API calls
 * (`dispatch`: the same validation as anywhere), streams job updates and notices, and asks the
 * main thread for what only it has: the keychain (synchronously, see sync-call.ts) and the
 * local server's process (a utility process, in Electron).
 */
import type { MessagePort } from 'node:worker_threads';
import type { ApiEvent } from '../../../../shared/ipc/contract';
import { AppRuntime, type LocalServerHandle } from '../app-runtime';
import { createApiHandlers, dispatch } from '../api/api-service';
import { EngineError, toErrorInfo } from '../../io/errors';
import { OPEN_STATES } from '../../queue/target-state';
import type { SecretCodec, SecretKind } from '../../clouds/secret-codec';
import type { ServerInfo } from '../../local-glance/server-process';
import { PortRpc, type PortLike } from './port-rpc';
import { SyncCaller } from './sync-call';

/** What the main thread hands the worker (workerData). */
export interface HostInit {
  env: Record<string, string | undefined>;
  /** The keychain's port and its wake-up counter; absent: no saved secrets (as in the CLI without a key). */
  keychain?: { port: MessagePort; signal: SharedArrayBuffer };
  /** Whether the main thread can start the local server (it answers `startLocalServer`). */
  localServer: boolean;
  autoSyncEveryMs?: number;
}

/** A request the keychain port carries (answered by the main thread's codec). */
export type KeychainRequest =
  | { op: 'kind'; allowPlaintext: boolean }
  | { op: 'seal'; allowPlaintext: boolean; plain: string }
  | { op: 'open'; allowPlaintext: boolean; sealed: Uint8Array };

/** The codec as the worker sees it: each operation a synchronous call to the main thread. */
export function remoteCodec(caller: SyncCaller, allowPlaintext: boolean): SecretCodec {
  const kind = caller.call({ op: 'kind', allowPlaintext } satisfies KeychainRequest) as SecretKind; // throws as the codec would
  return {
    kind,
    seal: (plain) =>
      Buffer.from(caller.call({ op: 'seal', allowPlaintext, plain } satisfies KeychainRequest) as Uint8Array),
    open: (sealed) =>
      caller.call({ op: 'open', allowPlaintext, sealed: new Uint8Array(sealed) } satisfies KeychainRequest) as string,
  };
}

/** Runs the runtime behind `parent` until asked to stop. */
export function hostRuntime(parent: PortLike | MessagePort, init: HostInit): PortRpc {
  const rpc = new PortRpc(parent);
  const caller = init.keychain !== undefined ? new SyncCaller(init.keychain.port, init.keychain.signal) : undefined;
  let runtime: AppRuntime;
  try {
    runtime = AppRuntime.open({
      env: init.env,
      ...(caller !== undefined ? { codec: (allowPlaintext: boolean) => remoteCodec(caller, allowPlaintext) } : {}),
      ...(init.localServer
        ? {
            startLocalServer: async (dataDir: string, port: number): Promise<LocalServerHandle> => {
              const info = await rpc.request<ServerInfo>('startLocalServer', { dataDir, port });
              return { ...info, stop: () => rpc.request<void>('stopLocalServer') };
            },
          }
        : {}),
      onJobUpdated: (update) => rpc.emit('event', { kind: 'jobUpdated', update } satisfies ApiEvent),
      onNotice: (message) => rpc.emit('event', { kind: 'notice', message } satisfies ApiEvent),
      onQueueDone: (summary) => rpc.emit('event', { kind: 'queueDone', summary } satisfies ApiEvent),
      ...(init.autoSyncEveryMs !== undefined ? { autoSyncEveryMs: init.autoSyncEveryMs } : {}),
    });
  } catch (e) {
    return answerFailure(rpc, e);
  }
  const handlers = createApiHandlers(runtime.engine, runtime);
  rpc.handle('call', (p) => {
    const { method, args } = p as { method: unknown; args: unknown };
    return dispatch(handlers, method, args);
  });
  rpc.handle('start', () => runtime.start());
  rpc.handle('openTargets', () => runtime.scheduler.repo.targetsIn([...OPEN_STATES]).length);
  rpc.handle('stop', () => runtime.stop());
  return rpc;
}

/**
 * The runtime could not be made (SQLite's native module does not load, the database cannot be
 * opened): the worker stays up and answers every request with that error, its code and its fix,
 * so the app can say what went wrong instead of "the engine stopped".
 */
function answerFailure(rpc: PortRpc, e: unknown): PortRpc {
  const info = toErrorInfo(e);
  const fail = (): never => {
    const { code, message, ...extra } = info;
    throw new EngineError(code, message, extra);
  };
  rpc.handle('start', fail);
  rpc.handle('openTargets', () => 0);
  rpc.handle('call', () => ({ error: info }));
  rpc.handle('stop', () => undefined);
  return rpc;
}
