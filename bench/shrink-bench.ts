/**
 * npm run bench (shrink): a 4 GiB sparse raw file with 300 MiB of random data into RegionTwo
 * (which converts imports to raw), sent as it is (PUT /file) and shrunk (a compressed qcow2 made
 * with qemu-img, glance-direct, converted back by Glance), in the same run:
 * - wall and CPU seconds of the whole CLI process (bench/rusage.py, the same wrapper for both),
 *   interleaved runs, min/median/max, and the ratio shrunk/raw per pair of runs;
 * - the bytes that crossed a loopback proxy in front of Glance.
 * Both sides run with the same link limit (--bwlimit, BENCH_SHRINK_LINK, default 20M: about
 * 170 Mbit/s, a site's uplink to a remote cloud), since on loopback no link is the bottleneck and
 * the wire is what shrink saves. On this machine Glance converts and stores on the same 2 cores,
 * so with a link faster than Glance's own ingest (100M here) shrink costs wall time: see README.
 * Both images end the same: raw, 4 GiB, with the file's sha512 (the CLI verifies it).
 * Prints a table and writes bench-results/shrink.json. Asserts nothing.
 *
 * BENCH_SHRINK_GIB=4, BENCH_SHRINK_DATA_MIB=300, BENCH_SHRINK_LINK=20M and BENCH_RUNS=3 change the plan.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startReferenceOpenStack, stopReferenceOpenStack } from '../test/openstack/reference-openstack';
import { proxiedEntry, writeCloudsYaml } from '../test/support/clouds-yaml';
import { startFaultProxy } from '../test/support/fault-proxy';
import { makeSparseRaw } from '../test/support/files';
import { CLI, deleteAll, fmt, measured, stats, type Cost } from './bench-kit';

const MiB = 1024 * 1024;
const size = Number(process.env.BENCH_SHRINK_GIB ?? 4) * 1024 * MiB;
const dataMiB = Number(process.env.BENCH_SHRINK_DATA_MIB ?? 300);
const link = process.env.BENCH_SHRINK_LINK ?? '20M';
const runs = Number(process.env.BENCH_RUNS ?? 3);

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'gu-shrink-bench-'));
  console.log('starting the reference OpenStack...');
  const cloud = await startReferenceOpenStack({ log: () => undefined });
  const proxy = await startFaultProxy(cloud.glance.RegionTwo.url, []);
  const clouds = writeCloudsYaml(join(work, 'clouds.yaml'), cloud, [
    proxiedEntry(cloud, 'bench', proxy.url, 'RegionTwo'),
  ]);
  const wire = (): number => proxy.log.reduce((n, e) => n + e.bytesIn, 0);
  try {
    const file = join(work, 'sparse.raw');
    makeSparseRaw(file, size, 6, Math.round(dataMiB / 6)); // its data in 6 runs spread over it
    const cost: Record<'raw' | 'shrunk', Cost[]> = { raw: [], shrunk: [] };
    const sent: Record<'raw' | 'shrunk', number[]> = { raw: [], shrunk: [] };
    for (let i = 0; i < runs; i++)
      for (const side of ['raw', 'shrunk'] as const) {
        const home = join(work, `home-${side}-${i}`);
        mkdirSync(home);
        const env = { GLANCE_UPLOADER_HOME: home, OS_CLIENT_CONFIG_FILE: clouds };
        // What RegionTwo does with an import is known from its probe (not measured).
        if (side === 'shrunk')
          await measured(
            work,
            [process.execPath, CLI, 'clouds', 'show', 'bench', '--region', 'RegionTwo', '--probe'],
            env,
          );
        const before = wire();
        const how = side === 'raw' ? ['--shrink', 'off', '--method', 'direct'] : ['--shrink', 'auto'];
        const c = await measured(
          work,
          [
            process.execPath,
            CLI,
            'upload',
            file,
            '--cloud',
            'bench',
            '--region',
            'RegionTwo',
            '--bwlimit',
            link,
            ...how,
          ],
          env,
        );
        cost[side].push(c);
        sent[side].push(wire() - before);
        console.log(
          `  run ${i + 1} ${side}: ${c.wall.toFixed(2)} s wall, ${c.cpu.toFixed(2)} CPU-s, ${((wire() - before) / MiB).toFixed(0)} MiB sent`,
        );
        await deleteAll(cloud);
        rmSync(home, { recursive: true, force: true });
      }
    const wall = { raw: stats(cost.raw.map((c) => c.wall)), shrunk: stats(cost.shrunk.map((c) => c.wall)) };
    const cpu = { raw: stats(cost.raw.map((c) => c.cpu)), shrunk: stats(cost.shrunk.map((c) => c.cpu)) };
    const bytes = { raw: stats(sent.raw), shrunk: stats(sent.shrunk) };
    const ratio = (k: 'wall' | 'cpu'): { min: number; median: number; max: number } =>
      stats(cost.shrunk.map((c, i) => c[k] / (cost.raw[i]?.[k] ?? NaN)));
    const mib = (x: { min: number; median: number; max: number }) => ({
      min: x.min / MiB,
      median: x.median / MiB,
      max: x.max / MiB,
    });
    console.log(
      `\nshrunk vs raw, ${size / 1024 ** 3} GiB with ${dataMiB} MiB of data into RegionTwo (converts to raw), link ${link}/s, ${runs} interleaved runs: median (min..max)`,
    );
    console.log(`  wall s      raw ${fmt(wall.raw)}   shrunk ${fmt(wall.shrunk)}   shrunk/raw ${fmt(ratio('wall'))}x`);
    console.log(`  CPU s       raw ${fmt(cpu.raw)}   shrunk ${fmt(cpu.shrunk)}   shrunk/raw ${fmt(ratio('cpu'))}x`);
    console.log(`  MiB sent    raw ${fmt(mib(bytes.raw), 0)}   shrunk ${fmt(mib(bytes.shrunk), 0)}`);
    mkdirSync('bench-results', { recursive: true });
    writeFileSync(
      join('bench-results', 'shrink.json'),
      JSON.stringify(
        {
          sizeMiB: size / MiB,
          dataMiB,
          link,
          runs,
          wall,
          cpu,
          bytes,
          shrunkVsRaw: { wall: ratio('wall'), cpu: ratio('cpu') },
        },
        null,
        2,
      ),
    );
  } finally {
    await proxy.close();
    await stopReferenceOpenStack(cloud);
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
