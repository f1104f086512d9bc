/**
 * The embedded server as its own process: started by the CLI for the duration of a command (or
 * by the app), found again when one already runs on a data folder. A running server announces
 * itself in `<data>/server.json` ({pid, url, authUrl}); the file goes when it stops cleanly,
 * and a stale one (its process gone) is ignored.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EngineError } from '../io/errors';

export interface ServerInfo {
  pid: number;
  url: string;
  authUrl: string;
}

const INFO_FILE = 'server.json';

export function writeServerInfo(dataDir: string, info: ServerInfo): void {
  writeFileSync(join(dataDir, INFO_FILE), JSON.stringify(info), { mode: 0o600 });
}

export function removeServerInfo(dataDir: string, pid: number): void {
  const file = join(dataDir, INFO_FILE);
  try {
    if ((JSON.parse(readFileSync(file, 'utf8')) as ServerInfo).pid === pid) rmSync(file, { force: true });
  } catch {
    /* nothing to remove */
  }
}

/** Whether a process exists (one of another user's counts). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The server running on this data folder, if one answers there. */
export async function findRunningServer(dataDir: string): Promise<ServerInfo | undefined> {
  const file = join(dataDir, INFO_FILE);
  if (!existsSync(file)) return undefined;
  let info: ServerInfo;
  try {
    info = JSON.parse(readFileSync(file, 'utf8')) as ServerInfo;
  } catch {
    return undefined;
  }
  if (!alive(info.pid)) return undefined;
  try {
    const res = await fetch(`${info.url}/versions`, { signal: AbortSignal.timeout(2000) });
    await res.arrayBuffer();
    return res.status === 200 ? info : undefined;
  } catch {
    return undefined;
  }
}

/** What `serve --json` runs in: a Node child process, or Electron's utility process. */
export interface ServeChild {
  readonly pid?: number | undefined;
  readonly stdout: NodeJS.ReadableStream | null;
  once(event: 'exit', listener: (code: number | null) => void): unknown;
  kill(signal?: NodeJS.Signals): unknown;
}

/**
 * Wait for the first line a `serve --json` child prints: {url, authUrl} when it listens, or
 * {error} when it cannot. An exit before it, or no line within the time, is a coded error.
 */
export function awaitServeReady(
  child: ServeChild,
  o: { dataDir: string; timeoutMs?: number; stderrTail?: () => string },
): Promise<ServerInfo> {
  const tail = (n: number): string => (o.stderrTail?.() ?? '').trim().split('\n').slice(-n).join(' ');
  return new Promise<ServerInfo>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new EngineError('internal', `The local server did not start within ${(o.timeoutMs ?? 15000) / 1000} s.`, {
          hint: `Run \`glance-uploader serve --data ${o.dataDir}\` to see why. ${tail(1)}`,
        }),
      );
    }, o.timeoutMs ?? 15000);
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n')[0];
      if (!out.includes('\n') || line === undefined) return;
      clearTimeout(timer);
      try {
        const j = JSON.parse(line) as { url: string; authUrl: string; error?: { message: string; hint?: string } };
        if (j.error) throw new EngineError('config.invalid', j.error.message, { hint: j.error.hint ?? '' });
        resolve({ pid: child.pid ?? 0, url: j.url, authUrl: j.authUrl });
      } catch (e) {
        reject(e instanceof EngineError ? e : new EngineError('internal', `Unexpected output from serve: ${line}`));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(
        new EngineError('config.invalid', `The local server stopped at once (exit ${code ?? 'signal'}).`, {
          hint: tail(3) || 'Run glance-uploader serve to see why.',
        }),
      );
    });
  });
}

export interface ServerProcess extends ServerInfo {
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it exited. */
  stop: (graceMs?: number) => Promise<void>;
}

/**
 * Start `glance-uploader serve` as a child process on `dataDir` and wait until it listens.
 * `entry` is the CLI's script (bin/glance-uploader.mjs), run by `execPath` (node, or an
 * Electron binary with ELECTRON_RUN_AS_NODE).
 */
export async function startServerProcess(o: {
  entry: string;
  dataDir: string;
  port?: number;
  execPath?: string;
  env?: Record<string, string | undefined>;
  extraArgs?: string[];
  timeoutMs?: number;
}): Promise<ServerProcess> {
  const child = spawn(
    o.execPath ?? process.execPath,
    // --exit-with-parent: a starter killed with SIGKILL leaves no server behind.
    [
      o.entry,
      'serve',
      '--port',
      String(o.port ?? 0),
      '--data',
      o.dataDir,
      '--json',
      '--exit-with-parent',
      ...(o.extraArgs ?? []),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...o.env } },
  );
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const info = await awaitServeReady(child, {
    dataDir: o.dataDir,
    timeoutMs: o.timeoutMs,
    stderrTail: () => stderr,
  });
  return {
    ...info,
    stop: async (graceMs = 5000) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(t);
    },
  };
}
