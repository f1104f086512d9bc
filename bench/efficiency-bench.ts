/**
 * npm run bench: how much CPU each GiB costs us beyond the work nobody can skip (reading the
 * file and computing md5 and sha512, Glance's `checksum` and `os_hash_value`), measured
 * symmetrically: every side is a whole process run through the same wrapper (bench/rusage.py:
 * wall, CPU of the process and what it waited for, peak RSS), interleaved run by run.
 *
 * Per size (BENCH_SIZES_MIB, default 1024,4096) and run (BENCH_RUNS, default 3):
 * - checksums: a Node process reading the file once into md5 and sha512 (the floor);
 * - curl script: a token, a create and `curl -T` against the reference Glance (no hashing);
 * - engine: `glance-uploader upload` to the same Glance (inspect, hash, create, PUT, verify);
 * - fan-out: the same upload to two regions;
 * - server ingest: `curl -T` into `glance-uploader serve`, the server's own CPU for it.
 * Images are deleted between runs, outside the measurement. Prints min/median/max of each figure
 * and the ratios of issue 20; writes bench-results/efficiency.json. Asserts nothing.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  startReferenceOpenStack,
  stopReferenceOpenStack,
  type ReferenceCloud,
} from '../test/openstack/reference-openstack';
import { makeFile } from '../test/support/files';
import { CLI, createImage, deleteAll, startServe, type LocalServe } from './bench-kit';
import { cpuOf } from './proc-cpu';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const sizes = (process.env.BENCH_SIZES_MIB ?? '1024,4096').split(',').map((s) => Number(s) * MiB);
const runs = Number(process.env.BENCH_RUNS ?? 3);
const RUSAGE = join(import.meta.dirname, 'rusage.py');

interface Cost {
  wall: number;
  cpu: number;
  rssMiB: number;
}

/** One whole process through the wrapper; throws when it fails. */
function measured(work: string, cmd: string[], env: Record<string, string> = {}): Cost {
  const out = join(work, 'rusage.json');
  const r = spawnSync('/usr/bin/python3', [RUSAGE, out, ...cmd], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  if (r.status !== 0) throw new Error(`${cmd.join(' ')} failed: ${r.stderr.toString().slice(-400)}`);
  const j = JSON.parse(readFileSync(out, 'utf8')) as { wall: number; cpu: number; maxrssKiB: number };
  return { wall: j.wall, cpu: j.cpu, rssMiB: j.maxrssKiB / 1024 };
}

const CHECKSUMS = `
const { createHash } = require('node:crypto');
const md5 = createHash('md5'), sha = createHash('sha512');
require('node:fs').createReadStream(process.argv[1], { highWaterMark: 4 << 20 })
  .on('data', (c) => { md5.update(c); sha.update(c); })
  .on('end', () => { md5.digest(); sha.digest(); });
`;

/** A token, a create and curl -T: the shell script an operator would write, no hashing. */
function curlScript(cloud: ReferenceCloud, file: string, name: string): string[] {
  const u = cloud.users.demo;
  const auth = JSON.stringify({
    auth: {
      identity: {
        methods: ['password'],
        password: { user: { name: u.name, domain: { id: 'default' }, password: u.password } },
      },
      scope: { project: { name: u.project, domain: { id: 'default' } } },
    },
  });
  const g = cloud.glance.RegionOne.url;
  const script = [
    'set -e',
    `T=$(curl -sSf -D - -o /dev/null -H 'Content-Type: application/json' -d '${auth}' ${cloud.keystoneUrl}/auth/tokens | tr -d '\\r' | awk 'tolower($1)=="x-subject-token:"{print $2}')`,
    `ID=$(curl -sSf -H "X-Auth-Token: $T" -H 'Content-Type: application/json' -d '{"name":"${name}","disk_format":"raw","container_format":"bare"}' ${g}/v2/images | sed 's/.*"id": "\\([^"]*\\)".*/\\1/')`,
    `curl -sSf -X PUT -T '${file}' -H "X-Auth-Token: $T" -H 'Content-Type: application/octet-stream' ${g}/v2/images/$ID/file`,
  ].join('\n');
  return ['bash', '-c', script];
}

/** curl -T into our server; the cost is the server's CPU meanwhile (its process, read from /proc). */
async function serverIngest(work: string, s: LocalServe, file: string, name: string): Promise<Cost> {
  const id = await createImage(s.url, s.token, name);
  const before = cpuOf(s.pid);
  const curl = measured(work, [
    'curl', '-sSf', '-X', 'PUT', '-T', file, '-H', `X-Auth-Token: ${s.token}`,
    '-H', 'Content-Type: application/octet-stream', `${s.url}/v2/images/${id}/file`,
  ]); // prettier-ignore
  await new Promise((r) => setTimeout(r, 300)); // the last ticks of the server's hashing workers
  const cpu = cpuOf(s.pid) - before;
  await fetch(`${s.url}/v2/images/${id}`, { method: 'DELETE', headers: { 'x-auth-token': s.token } });
  return { wall: curl.wall, cpu, rssMiB: 0 };
}

const stats = (xs: number[]): { min: number; median: number; max: number } => {
  const s = [...xs].sort((a, b) => a - b);
  return { min: s[0] ?? NaN, median: s[Math.floor(s.length / 2)] ?? NaN, max: s.at(-1) ?? NaN };
};
const fmt = (x: { min: number; median: number; max: number }, d = 2): string =>
  `${x.median.toFixed(d)} (${x.min.toFixed(d)}..${x.max.toFixed(d)})`;

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'gu-efficiency-'));
  console.log('starting the reference OpenStack and glance-uploader serve...');
  const cloud = await startReferenceOpenStack({ log: () => undefined });
  const server = await startServe(join(work, 'server'));
  const results: Record<string, unknown>[] = [];
  try {
    for (const size of sizes) {
      const file = (await makeFile(join(work, `bench-${size / MiB}.raw`), size)).path;
      const cells: Record<string, Cost[]> = { checksums: [], curl: [], engine: [], fanOut: [], server: [] };
      const engineEnv = (h: string): Record<string, string> => ({
        GLANCE_UPLOADER_HOME: join(work, h),
        OS_CLIENT_CONFIG_FILE: cloud.cloudsYamlPath,
      });
      for (let i = 0; i < runs; i++) {
        cells.checksums?.push(measured(work, [process.execPath, '-e', CHECKSUMS, file]));
        cells.curl?.push(measured(work, curlScript(cloud, file, `curl-${i}`)));
        await deleteAll(cloud);
        const up = [process.execPath, CLI, 'upload', file, '--cloud', 'ref-demo', '--name', `engine-${i}`];
        cells.engine?.push(measured(work, [...up, '--region', 'RegionOne'], engineEnv(`one-${size}-${i}`)));
        await deleteAll(cloud);
        cells.fanOut?.push(measured(work, [...up, '--region', 'RegionOne,RegionTwo'], engineEnv(`two-${size}-${i}`)));
        await deleteAll(cloud);
        cells.server?.push(await serverIngest(work, server, file, `ingest-${i}`));
        console.log(`  ${size / MiB} MiB run ${i + 1} done`);
      }
      const gib = size / GiB;
      const perGiB = (k: string): number[] => (cells[k] ?? []).map((c) => c.cpu / gib);
      const floor = stats(perGiB('checksums')).median;
      const ratio = (k: string): { min: number; median: number; max: number } => stats(perGiB(k).map((x) => x / floor));
      results.push({
        sizeMiB: size / MiB,
        runs,
        cpuPerGiB: Object.fromEntries(Object.keys(cells).map((k) => [k, stats(perGiB(k))])),
        wall: Object.fromEntries(Object.keys(cells).map((k) => [k, stats((cells[k] ?? []).map((c) => c.wall))])),
        engineCpuVsChecksums: ratio('engine'),
        serverCpuVsChecksums: ratio('server'),
        engineWallVsCurl: stats((cells.engine ?? []).map((c, i) => c.wall / (cells.curl?.[i]?.wall ?? NaN))),
        fanOutCpuVsOne: stats((cells.fanOut ?? []).map((c, i) => c.cpu / (cells.engine?.[i]?.cpu ?? NaN))),
        enginePeakRssMiB: stats((cells.engine ?? []).map((c) => c.rssMiB)),
      });
      rmSync(file);
    }
  } finally {
    server.stop();
    await stopReferenceOpenStack(cloud);
    rmSync(work, { recursive: true, force: true });
  }
  for (const r of results) {
    type Stats = { min: number; median: number; max: number };
    const none: Stats = { min: NaN, median: NaN, max: NaN };
    const cpu = (k: string): Stats => (r.cpuPerGiB as Record<string, Stats>)[k] ?? none;
    const s = (k: string): Stats => (r[k] as Stats | undefined) ?? none;
    console.log(`\n${r.sizeMiB as number} MiB, ${runs} runs, median (min..max)`);
    console.log(
      `  CPU-s per GiB: checksums ${fmt(cpu('checksums'))}, engine ${fmt(cpu('engine'))}, curl script ${fmt(cpu('curl'))}, server ingest ${fmt(cpu('server'))}`,
    );
    console.log(`  engine CPU / checksums ${fmt(s('engineCpuVsChecksums'))}x (target <= 1.25)`);
    console.log(`  server CPU / checksums ${fmt(s('serverCpuVsChecksums'))}x (target <= 1.25)`);
    console.log(`  engine wall / curl script wall ${fmt(s('engineWallVsCurl'))}x (target <= 1.10)`);
    console.log(`  fan-out CPU / one region ${fmt(s('fanOutCpuVsOne'))}x (target <= 1.3)`);
    console.log(`  engine peak RSS ${fmt(s('enginePeakRssMiB'), 0)} MiB (target <= 150 at 4 GiB)`);
  }
  mkdirSync('bench-results', { recursive: true });
  writeFileSync('bench-results/efficiency.json', JSON.stringify({ at: new Date().toISOString(), results }, null, 2));
  console.log('written: bench-results/efficiency.json');
}

await main();
