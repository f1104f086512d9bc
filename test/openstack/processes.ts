/**
 * Process helpers for the reference OpenStack: every service is started as the leader of its own
 * process group with a PID file in the state folder, and stopped only through that PID file, and
 * only when the PID still runs a command line that points into the state folder (a stale PID
 * reused by someone else's process is never signalled).
 */
import { spawn } from 'node:child_process';
import { existsSync, openSync, closeSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export function tail(file: string, lines = 30): string {
  if (!existsSync(file)) return '';
  return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
}

/** Run a command to completion, appending its output to logFile; reject with the log's tail. */
export function run(cmd: string, args: string[], opts: { logFile: string; env?: NodeJS.ProcessEnv }): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      writeFileSync(opts.logFile, `$ ${cmd} ${args.join(' ')}\n${out}\n`, { flag: 'a' });
      if (code === 0) resolve(out);
      else
        reject(
          new Error(`${cmd} ${args[0] ?? ''} exited with ${String(code)}:\n${out.split('\n').slice(-30).join('\n')}`),
        );
    });
  });
}

export function startDetached(
  name: string,
  cmd: string,
  args: string[],
  dirs: { pids: string; logs: string },
  env: NodeJS.ProcessEnv = process.env,
): number {
  const log = openSync(join(dirs.logs, `${name}.out`), 'a');
  const child = spawn(cmd, args, { detached: true, stdio: ['ignore', log, log], env });
  closeSync(log);
  if (child.pid === undefined) throw new Error(`could not start ${name} (${cmd})`);
  child.unref();
  writeFileSync(join(dirs.pids, `${name}.pid`), String(child.pid));
  return child.pid;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** True if pid is alive and its command line mentions stateDir. */
export function pidIsOurs(pid: number, stateDir: string): boolean {
  if (!alive(pid)) return false;
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').includes(stateDir);
  } catch {
    return false;
  }
}

export function readPid(pidsDir: string, name: string): number | undefined {
  const f = join(pidsDir, `${name}.pid`);
  if (!existsSync(f)) return undefined;
  const pid = Number(readFileSync(f, 'utf8').trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Stop the process group recorded in pids/<name>.pid: TERM, then KILL after graceMs. */
export async function stopByPidFile(pidsDir: string, name: string, stateDir: string, graceMs = 10_000): Promise<void> {
  const pid = readPid(pidsDir, name);
  const file = join(pidsDir, `${name}.pid`);
  if (pid !== undefined && pidIsOurs(pid, stateDir)) {
    // The services are started with detached: true, so each leads its own group (forked workers too).
    process.kill(-pid, 'SIGTERM');
    const deadline = Date.now() + graceMs;
    while (groupAlive(pid) && Date.now() < deadline) await sleep(100);
    if (groupAlive(pid)) process.kill(-pid, 'SIGKILL');
    while (groupAlive(pid)) await sleep(50);
  }
  rmSync(file, { force: true });
}

export async function stopAll(pidsDir: string, stateDir: string): Promise<string[]> {
  if (!existsSync(pidsDir)) return [];
  const names = readdirSync(pidsDir)
    .filter((f) => f.endsWith('.pid'))
    .map((f) => f.slice(0, -4));
  await Promise.all(names.map((n) => stopByPidFile(pidsDir, n, stateDir)));
  return names;
}

/** Ports the kernel hands out as free right now, distinct from each other. */
export async function freePorts(count: number, host: string): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: count }, () => {
      return new Promise<Server>((resolve, reject) => {
        const s = createServer();
        s.once('error', reject);
        s.listen(0, host, () => resolve(s));
      });
    }),
  );
  const ports = servers.map((s) => {
    const a = s.address();
    if (a === null || typeof a === 'string') throw new Error('no port');
    return a.port;
  });
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

/** Wait until url answers `want` while the process of pids/<name>.pid is alive. */
export async function waitHttp(
  url: string,
  want: number,
  opts: { name: string; pidsDir: string; stateDir: string; logFile: string; timeoutMs: number },
): Promise<void> {
  const deadline = Date.now() + opts.timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    const pid = readPid(opts.pidsDir, opts.name);
    if (pid === undefined || !pidIsOurs(pid, opts.stateDir)) {
      throw new Error(`${opts.name} exited while starting; last log lines:\n${tail(opts.logFile)}`);
    }
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
      await res.arrayBuffer();
      if (res.status === want) return;
      last = `HTTP ${res.status}`;
    } catch (e) {
      last = (e as Error).message;
    }
    await sleep(150);
  }
  throw new Error(
    `${opts.name} did not answer ${want} on ${url} in ${opts.timeoutMs} ms (last: ${last})\n${tail(opts.logFile)}`,
  );
}
