/**
 * The main thread's side of the engine worker (runtime-host.ts): starts the worker, forwards the
 * API calls to it and its events to the app, answers its keychain requests with the codec the
 * shell gives (safeStorage in Electron) and starts the local server for it by the shell's means.
 * A worker that dies fails the calls in flight with `ipc.engine_stopped` and says so once as a
 * notice; the queue is on disk, so the next start goes on where it stopped.
 */
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import type { Envelope, ApiEvent } from '../../../../shared/ipc/contract';
import type { AcquireResult } from '../../queue/lease';
import type { LocalServerHandle } from '../app-runtime';
import { toErrorInfo } from '../../io/errors';
import type { SecretCodec } from '../../clouds/secret-codec';
import type { ServerInfo } from '../../local-glance/server-process';
import { PortRpc } from './port-rpc';
import type { HostInit, KeychainRequest } from './runtime-host';
import { answerSyncCalls } from './sync-call';

export interface RuntimeClientOptions {
  /** The built worker entry (out/main/runtime-worker.js). */
  workerFile: string | URL;
  env: Record<string, string | undefined>;
  codec?: (allowPlaintext: boolean) => SecretCodec;
  startLocalServer?: (dataDir: string, port: number) => Promise<LocalServerHandle>;
  onEvent: (event: ApiEvent) => void;
  autoSyncEveryMs?: number;
}

const STOPPED = {
  code: 'ipc.engine_stopped',
  message: 'The upload engine stopped.',
  hint: 'Restart Glance Uploader: the queue is kept on disk and continues where it stopped.',
} as const;

export class RuntimeClient {
  readonly #worker: Worker;
  readonly #rpc: PortRpc;
  #server: LocalServerHandle | undefined;
  #exited: Promise<number>;

  /** Starts the engine's worker thread and wires the client to it. */
  static spawn(o: RuntimeClientOptions): RuntimeClient {
    const keychain = new MessageChannel();
    const signal = new SharedArrayBuffer(4);
    const init: HostInit = {
      env: o.env,
      ...(o.codec !== undefined ? { keychain: { port: keychain.port2, signal } } : {}),
      localServer: o.startLocalServer !== undefined,
      ...(o.autoSyncEveryMs !== undefined ? { autoSyncEveryMs: o.autoSyncEveryMs } : {}),
    };
    const worker = new Worker(o.workerFile, {
      workerData: init,
      transferList: [keychain.port2],
      env: Object.fromEntries(Object.entries(o.env).filter(([, v]) => v !== undefined)),
      name: 'glance-uploader engine',
    });
    return new RuntimeClient(o, worker, { port: keychain.port1, signal });
  }

  private constructor(
    private readonly o: RuntimeClientOptions,
    worker: Worker,
    keychain: { port: MessagePort; signal: SharedArrayBuffer },
  ) {
    this.#worker = worker;
    const signal = keychain.signal;
    answerSyncCalls(keychain.port, signal, (r) => this.#keychain(r as KeychainRequest));
    keychain.port.unref();
    this.#rpc = new PortRpc(this.#worker);
    this.#rpc.listen('event', (e) => o.onEvent(e as ApiEvent));
    this.#rpc.handle('startLocalServer', async (p) => {
      const { dataDir, port } = p as { dataDir: string; port: number };
      this.#server = await o.startLocalServer?.(dataDir, port);
      if (this.#server === undefined) throw new Error('no local server starter');
      const { stop: _stop, ...info } = this.#server;
      return info satisfies ServerInfo;
    });
    this.#rpc.handle('stopLocalServer', async () => {
      await this.#server?.stop();
      this.#server = undefined;
    });
    this.#worker.on('error', (e) => o.onEvent({ kind: 'notice', message: `The upload engine failed: ${e.message}` }));
    this.#exited = new Promise((resolve) =>
      this.#worker.once('exit', (code) => {
        this.#rpc.close(STOPPED);
        void this.#server?.stop(); // a local server the engine asked for goes with it
        this.#server = undefined;
        resolve(code);
      }),
    );
  }

  get threadId(): number {
    return this.#worker.threadId;
  }

  /** Starts the queue, auto-sync and the local server (see AppRuntime.start). */
  start(): Promise<AcquireResult> {
    return this.#rpc.request<AcquireResult>('start');
  }

  /** One API call, answered as an envelope (never a throw), as `dispatch` answers. */
  async call(method: unknown, args: unknown): Promise<Envelope<unknown>> {
    try {
      return await this.#rpc.request<Envelope<unknown>>('call', { method, args });
    } catch (e) {
      return { error: toErrorInfo(e) };
    }
  }

  /** Targets not finished yet (asked before quitting). */
  openTargets(): Promise<number> {
    return this.#rpc.request<number>('openTargets');
  }

  /** Stops the runtime cleanly (transfers stop where they are), then the worker. */
  async stop(): Promise<void> {
    try {
      await this.#rpc.request('stop');
    } finally {
      await this.#worker.terminate();
      await this.#exited;
    }
  }

  #keychain(r: KeychainRequest): unknown {
    const codec = (this.o.codec as (allowPlaintext: boolean) => SecretCodec)(r.allowPlaintext);
    if (r.op === 'kind') return codec.kind;
    if (r.op === 'seal') return new Uint8Array(codec.seal(r.plain));
    return codec.open(Buffer.from(r.sealed));
  }
}
