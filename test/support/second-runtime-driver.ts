/**
 * Runs under ANOTHER Node.js (test/integration/native-runtimes.test.ts starts it with the
 * second Node.js's binary and tsx): the app's engine worker (out/main/runtime-worker.js) through
 * RuntimeClient, as the Electron main process drives it, with the local server as a child
 * process of this same Node.js. It stages one file to the local server and prints, as its last
 * line, a JSON report: the ABI, the job's end, the events seen, and which better_sqlite3.node
 * files this process and the server have mapped (/proc/PID/maps: what the loader really chose).
 *
 * Usage: node <this> <work folder>   (GLANCE_UPLOADER_NATIVE_DIR in the environment)
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ApiEvent } from '../../src/shared/ipc/contract';
import { toErrorInfo } from '../../src/main/core/io/errors';
import { RuntimeClient } from '../../src/main/core/app/host/runtime-client';
import { findRunningServer, startServerProcess } from '../../src/main/core/local-glance/server-process';
import { CLI } from './cli-process';

const ROOT = join(import.meta.dirname, '..', '..');
const work = process.argv[2] as string;

function mappedSqlite(pid: number): string[] {
  const lines = readFileSync(`/proc/${pid}/maps`, 'utf8').split('\n');
  return [...new Set(lines.filter((l) => l.endsWith('better_sqlite3.node')).map((l) => l.slice(l.indexOf('/'))))];
}

async function main(): Promise<Record<string, unknown>> {
  const home = join(work, 'home');
  const env = {
    GLANCE_UPLOADER_HOME: home,
    GLANCE_UPLOADER_NATIVE_DIR: process.env.GLANCE_UPLOADER_NATIVE_DIR,
    OS_CLIENT_CONFIG_FILE: join(work, 'none.yaml'),
    PATH: process.env.PATH,
  };
  writeFileSync(env.OS_CLIENT_CONFIG_FILE, 'clouds: {}\n');
  const events: ApiEvent[] = [];
  const client = RuntimeClient.spawn({
    workerFile: join(ROOT, 'out', 'main', 'runtime-worker.js'),
    env,
    startLocalServer: (dataDir) => startServerProcess({ entry: CLI, dataDir, env }),
    onEvent: (e) => events.push(e),
  });
  const report: Record<string, unknown> = { node: process.version, abi: process.versions.modules };
  try {
    try {
      report.start = await client.start();
    } catch (e) {
      report.startError = toErrorInfo(e);
      return report;
    }
    const file = join(work, 'second.raw');
    writeFileSync(file, Buffer.alloc(2 * 1024 * 1024 + 5, 7));
    const queued = (await client.call('enqueueUploads', [
      { images: [{ path: file }], cloud: 'local', regions: ['local'] },
    ])) as { result?: { jobIds: string[] }; error?: unknown };
    const jobId = queued.result?.jobIds[0];
    const t0 = Date.now();
    let state: string[] = [];
    while (Date.now() - t0 < 60_000) {
      const last = events.filter(
        (e): e is Extract<ApiEvent, { kind: 'jobUpdated' }> => e.kind === 'jobUpdated' && e.update.jobId === jobId,
      );
      state = last.at(-1)?.update.targets.map((t) => t.state) ?? [];
      if (state.length > 0 && state.every((s) => s === 'done' || s === 'failed')) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const server = await findRunningServer(join(home, 'staging-server'));
    const images = (await client.call('listImages', [{ cloud: 'local', region: 'local' }])) as {
      result?: { status: string; size: number }[];
    };
    Object.assign(report, {
      queued,
      state,
      jobEvents: events.filter((e) => e.kind === 'jobUpdated').length,
      images: images.result,
      mapped: mappedSqlite(process.pid),
      serverMapped: server !== undefined ? mappedSqlite(server.pid) : [],
    });
  } finally {
    await client.stop();
  }
  return report;
}

main().then(
  (r) => process.stdout.write(`${JSON.stringify(r)}\n`),
  (e: unknown) => {
    process.stdout.write(`${JSON.stringify({ crashed: String((e as Error).stack ?? e) })}\n`);
    process.exitCode = 1;
  },
);
