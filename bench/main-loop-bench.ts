/**
 * The app's main process must never block for more than a frame (16.7 ms at 60 Hz): the
 * engine, the scheduler and the API run there. This runs what the app runs (AppRuntime, the
 * local server as its own process) staging a 1 GiB file and a folder of small ones through the
 * same call the window makes (enqueueUploads), and measures the event loop's delay meanwhile
 * (perf_hooks.monitorEventLoopDelay, 10 ms resolution). Prints p50, p99 and max against a frame.
 * Asserts nothing. BENCH_MAIN_MIB changes the size.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createApiHandlers, dispatch } from '../src/main/core/api/api-service';
import { AppRuntime } from '../src/main/core/app-runtime';
import { startServerProcess } from '../src/main/core/staging/server-process';
import { CLI } from '../test/support/cli-process';
import { makeFile } from '../test/support/files';

const MiB = 1024 * 1024;
const size = Number(process.env.BENCH_MAIN_MIB ?? 1024) * MiB;
const FRAME_MS = 1000 / 60;

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'gu-mainloop-'));
  const env = { GLANCE_UPLOADER_HOME: join(dir, 'home') };
  const runtime = new AppRuntime({
    env,
    startLocalServer: (dataDir) => startServerProcess({ entry: CLI, dataDir, env }),
  });
  try {
    await runtime.start();
    const big = await makeFile(join(dir, 'big.raw'), size);
    const folder = join(dir, 'many');
    mkdirSync(folder);
    for (let i = 0; i < 20; i++) await makeFile(join(folder, `small-${i}.raw`), 4 * MiB + i);
    const handlers = createApiHandlers(runtime.engine, runtime);
    const h = monitorEventLoopDelay({ resolution: 10 });
    h.enable();
    const t0 = performance.now();
    const r = (await dispatch(handlers, 'enqueueUploads', [
      { images: [{ path: big.path }, { path: folder }], cloud: 'local', regions: ['local'] },
    ])) as { result?: { jobIds: string[] }; error?: unknown };
    if (r.result === undefined) throw new Error(`enqueue failed: ${JSON.stringify(r.error)}`);
    // The window polls the queue while it runs, as the renderer does.
    const poll = setInterval(() => void dispatch(handlers, 'listJobs', []), 250);
    await runtime.scheduler.idle();
    clearInterval(poll);
    h.disable();
    const seconds = (performance.now() - t0) / 1000;
    const ms = (ns: number): number => ns / 1e6;
    const failed = r.result.jobIds
      .flatMap((id) => runtime.scheduler.repo.targetsOf(id))
      .filter((t) => t.state !== 'done');
    console.log(
      `\nmain loop while staging ${size / MiB} MiB + 20 small files (${r.result.jobIds.length} jobs, ${failed.length} not done) in ${seconds.toFixed(1)} s:`,
    );
    console.log(
      `event loop delay p50 ${ms(h.percentile(50)).toFixed(1)} ms, p99 ${ms(h.percentile(99)).toFixed(1)} ms, max ${ms(h.max).toFixed(1)} ms (a frame: ${FRAME_MS.toFixed(1)} ms; the 10 ms sampling adds up to 10 ms)`,
    );
  } finally {
    await runtime.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
