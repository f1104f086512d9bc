/**
 * npm run bench (relay): the relay (segments through RegionOne's Swift, then Glance's
 * web-download) against a direct upload (PUT /file), the same 1 GiB file, in the same run:
 * - wall and CPU seconds of the whole CLI process (bench/rusage.py, the same wrapper for both),
 *   interleaved runs, min/median/max;
 * - the bytes sent again after 3 kills, each once the killed process had put a quarter of the
 *   file on the wire, counted at loopback proxies in front of Glance and Swift: direct starts
 *   again from byte 0 each time, the relay at the first segment not confirmed.
 * Prints a table and writes bench-results/relay.json. Asserts nothing.
 *
 * BENCH_RELAY_MIB=1024 and BENCH_RUNS=3 change the plan.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startReferenceOpenStack, stopReferenceOpenStack } from '../test/openstack/reference-openstack';
import { demoEntry, writeCloudsYaml } from '../test/support/clouds-yaml';
import { startFaultProxy, type FaultProxy } from '../test/support/fault-proxy';
import { makeFile } from '../test/support/files';
import { CLI, deleteAll, fmt, measured, stats, type Cost } from './bench-kit';

const MiB = 1024 * 1024;
const size = Number(process.env.BENCH_RELAY_MIB ?? 1024) * MiB;
const runs = Number(process.env.BENCH_RUNS ?? 3);
/** Each of the 3 killed runs is killed once it sent this share of the file. */
const KILL_AFTER = 0.25;
const KILLS = 3;

/** Request-body bytes the proxy received for requests whose path matches. */
const bytesAt = (p: FaultProxy, path: RegExp): number =>
  p.log.filter((e) => e.method === 'PUT' && path.test(e.path)).reduce((n, e) => n + e.bytesIn, 0);

const FILE_PUT = /\/v2\/images\/[0-9a-f-]+\/file$/;
const SEGMENT_PUT = /\/seg\/\d+$/;

/**
 * Queue one upload, then run `queue run` and SIGKILL it once it put a quarter of the file on
 * the wire, 3 times, then let it finish; the bytes sent beyond the file's size.
 */
async function killedUpload(
  work: string,
  method: string,
  file: string,
  env: Record<string, string>,
  onWire: () => number,
): Promise<number> {
  const upload = ['upload', file, '--cloud', 'bench', '--region', 'RegionOne', '--method', method, '--detach'];
  await measured(work, [process.execPath, CLI, ...upload], env);
  const first = onWire();
  for (let run = 0; ; run++) {
    const child = spawn(process.execPath, [CLI, 'queue', 'run'], { env: { ...process.env, ...env }, stdio: 'ignore' });
    const done = new Promise<number | null>((r) => child.on('close', r));
    let finished = false;
    void done.then(() => (finished = true));
    const start = onWire();
    if (run >= KILLS) {
      await done;
      break;
    }
    while (!finished && onWire() - start < KILL_AFTER * size) await sleep(5);
    if (finished) break;
    child.kill('SIGKILL');
    await done;
  }
  return onWire() - first - size;
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'gu-relay-bench-'));
  console.log('starting the reference OpenStack...');
  const cloud = await startReferenceOpenStack({ log: () => undefined });
  const glance = await startFaultProxy(cloud.glance.RegionOne.url, []);
  const swift = await startFaultProxy(cloud.objectStore.url, []);
  const clouds = writeCloudsYaml(join(work, 'clouds.yaml'), cloud, [
    demoEntry(cloud, 'bench', {
      extra: [
        `image_endpoint_override: ${glance.url}`,
        `object_store_endpoint_override: ${swift.url}/v1/AUTH_%(project_id)s`,
      ],
    }),
  ]);
  try {
    const file = await makeFile(join(work, 'bench.raw'), size);
    const cost: Record<'direct' | 'relay', Cost[]> = { direct: [], relay: [] };
    for (let i = 0; i < runs; i++)
      for (const method of ['direct', 'relay'] as const) {
        const home = join(work, `home-${method}-${i}`);
        mkdirSync(home);
        const c = await measured(
          work,
          [process.execPath, CLI, 'upload', file.path, '--cloud', 'bench', '--region', 'RegionOne', '--method', method],
          { GLANCE_UPLOADER_HOME: home, OS_CLIENT_CONFIG_FILE: clouds },
        );
        cost[method].push(c);
        console.log(
          `  ${size / MiB} MiB run ${i + 1} ${method}: ${c.wall.toFixed(2)} s wall, ${c.cpu.toFixed(2)} CPU-s`,
        );
        await deleteAll(cloud);
        rmSync(home, { recursive: true, force: true });
      }
    const resent: Record<string, number> = {};
    for (const method of ['direct', 'relay'] as const) {
      const home = join(work, `home-kill-${method}`);
      mkdirSync(home);
      const wire = method === 'direct' ? () => bytesAt(glance, FILE_PUT) : () => bytesAt(swift, SEGMENT_PUT);
      resent[method] = await killedUpload(
        work,
        method,
        file.path,
        { GLANCE_UPLOADER_HOME: home, OS_CLIENT_CONFIG_FILE: clouds },
        wire,
      );
      console.log(`  3 kills, ${method}: ${(resent[method] / MiB).toFixed(0)} MiB sent again`);
      await deleteAll(cloud);
    }
    const wall = { direct: stats(cost.direct.map((c) => c.wall)), relay: stats(cost.relay.map((c) => c.wall)) };
    const cpu = { direct: stats(cost.direct.map((c) => c.cpu)), relay: stats(cost.relay.map((c) => c.cpu)) };
    const ratio = (k: 'wall' | 'cpu'): { min: number; median: number; max: number } =>
      stats(cost.relay.map((c, i) => c[k] / (cost.direct[i]?.[k] ?? NaN)));
    console.log(`\nrelay vs direct, ${size / MiB} MiB, ${runs} interleaved runs: median (min..max)`);
    console.log(
      `  wall s     direct ${fmt(wall.direct)}   relay ${fmt(wall.relay)}   relay/direct ${fmt(ratio('wall'))}x`,
    );
    console.log(
      `  CPU s      direct ${fmt(cpu.direct)}   relay ${fmt(cpu.relay)}   relay/direct ${fmt(ratio('cpu'))}x`,
    );
    console.log(
      `  ${KILLS} kills, each after a quarter of the file: sent again direct ${((resent.direct ?? 0) / MiB).toFixed(0)} MiB, relay ${((resent.relay ?? 0) / MiB).toFixed(0)} MiB (64 MiB segments)`,
    );
    mkdirSync('bench-results', { recursive: true });
    writeFileSync(
      join('bench-results', 'relay.json'),
      JSON.stringify(
        {
          sizeMiB: size / MiB,
          runs,
          wall,
          cpu,
          relayVsDirect: { wall: ratio('wall'), cpu: ratio('cpu') },
          resentBytes: resent,
        },
        null,
        2,
      ),
    );
  } finally {
    await glance.close();
    await swift.close();
    await stopReferenceOpenStack(cloud);
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
