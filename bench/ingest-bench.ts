/**
 * Ingest throughput of the embedded server (`glance-uploader serve`, its own process) against
 * the reference Glance and against a plain disk write (`dd ... conv=fsync`), in the same run,
 * for 1 GiB and 4 GiB files, 3 runs each, the same client (curl -T) for both servers. Targets:
 * >= 2x real Glance, >= 0.7x the disk. Prints a table and writes bench-results/ingest.json.
 * Asserts nothing. BENCH_SIZES_MIB and BENCH_RUNS change the plan.
 *
 * It also says what this machine allows at best: any server that computes Glance's checksums
 * (md5 and sha512, measured here in the same run) needs their CPU time, and shares the cores
 * with the client; the bound ignores every other cost (receiving, writing, the disk), so real
 * servers stay below it.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { issueToken, startReferenceOpenStack, stopReferenceOpenStack } from '../test/openstack/reference-openstack';
import { makeFile } from '../test/support/files';
import { createImage, startServe } from './bench-kit';
import { cpuOf, groupCpu } from './proc-cpu';

const MiB = 1024 * 1024;
const sizes = (process.env.BENCH_SIZES_MIB ?? '1024,4096').split(',').map((s) => Number(s) * MiB);
const runs = Number(process.env.BENCH_RUNS ?? 3);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
}

interface Timed {
  seconds: number;
  /** CPU seconds of the command itself (sampled every 50 ms). */
  cpu: number;
}

function timed(cmd: string, args: string[]): Promise<Timed> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    let cpu = 0;
    const sample = setInterval(() => (cpu = Math.max(cpu, cpuOf(child.pid ?? 0))), 50);
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('close', (code) => {
      clearInterval(sample);
      if (code === 0) resolve({ seconds: (performance.now() - t0) / 1000, cpu });
      else reject(new Error(`${cmd} failed (${code}): ${err}`));
    });
  });
}

/** CPU seconds per GiB of md5 and of sha512 on this machine (one core, Node's OpenSSL), best of 3. */
function hashCost(): { md5: number; sha512: number } {
  const block = Buffer.alloc(64 * MiB, 7);
  const cost = (algorithm: string): number => {
    let best = Infinity;
    for (let i = 0; i < 3; i++) {
      const t0 = process.cpuUsage();
      const h = createHash(algorithm);
      for (let j = 0; j < 4; j++) h.update(block);
      h.digest();
      const used = process.cpuUsage(t0);
      best = Math.min(best, (used.user + used.system) / 1e6);
    }
    return best * 4; // 256 MiB measured, per GiB
  };
  return { md5: cost('md5'), sha512: cost('sha512') };
}

/** curl -T: PUT /file with Content-Length, as fast as the server takes it. */
async function put(url: string, token: string, id: string, file: string): Promise<Timed> {
  return timed('curl', [
    '-sS', '--fail', '-X', 'PUT', '-T', file, '-H', `X-Auth-Token: ${token}`,
    '-H', 'Content-Type: application/octet-stream', `${url}/v2/images/${id}/file`,
  ]); // prettier-ignore
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'gu-ingest-'));
  console.log('starting the reference OpenStack...');
  const cloud = await startReferenceOpenStack({});
  const server = await startServe(join(work, 'server'));
  try {
    const local = server;
    const localToken = server.token;
    const refToken = await issueToken(cloud, 'demo');
    const refUrl = cloud.glance.RegionOne.url;
    const glancePgid = Number(readFileSync(join(cloud.stateDir, 'pids', 'glance-RegionOne.pid'), 'utf8'));
    const hashing = hashCost();
    const cores = cpus().length;
    console.log(
      `hashing on this machine: md5 ${hashing.md5.toFixed(2)} CPU-s/GiB, sha512 ${hashing.sha512.toFixed(2)} CPU-s/GiB, ${cores} cores`,
    );
    const results: Record<string, number>[] = [];
    for (const size of sizes) {
      const file = await makeFile(join(work, `ingest-${size / MiB}.raw`), size);
      const t = { disk: [] as number[], ours: [] as number[], glance: [] as number[] };
      const c = { ours: [] as number[], glance: [] as number[], curl: [] as number[] };
      for (let i = 0; i < runs; i++) {
        const out = join(work, 'dd.out');
        t.disk.push(
          (await timed('dd', [`if=${file.path}`, `of=${out}`, 'bs=1M', 'conv=fsync', 'status=none'])).seconds,
        );
        rmSync(out);
        const lid = await createImage(local.url, localToken, `ingest-${i}`);
        const ours0 = cpuOf(server.pid);
        const o = await put(local.url, localToken, lid, file.path);
        t.ours.push(o.seconds);
        c.ours.push(cpuOf(server.pid) - ours0);
        c.curl.push(o.cpu);
        await fetch(`${local.url}/v2/images/${lid}`, { method: 'DELETE', headers: { 'x-auth-token': localToken } });
        const rid = await createImage(refUrl, refToken, `ingest-${i}`);
        const glance0 = groupCpu(glancePgid);
        t.glance.push((await put(refUrl, refToken, rid, file.path)).seconds);
        c.glance.push(groupCpu(glancePgid) - glance0);
        await fetch(`${refUrl}/v2/images/${rid}`, { method: 'DELETE', headers: { 'x-auth-token': refToken } });
        console.log(
          `  ${size / MiB} MiB run ${i + 1}: disk ${t.disk.at(-1)?.toFixed(2)} s, ours ${t.ours.at(-1)?.toFixed(2)} s, Glance ${t.glance.at(-1)?.toFixed(2)} s`,
        );
      }
      rmSync(file.path);
      const mibps = (xs: number[]): number => size / MiB / median(xs);
      // The least wall time any checksumming server could take here: md5 cannot be split over
      // cores, and the hashing plus the client's own CPU share the cores.
      const gib = size / (1024 * MiB);
      const bestWall = Math.max(hashing.md5 * gib, ((hashing.md5 + hashing.sha512) * gib + median(c.curl)) / cores);
      results.push({
        sizeMiB: size / MiB,
        diskMiBps: mibps(t.disk),
        oursMiBps: mibps(t.ours),
        glanceMiBps: mibps(t.glance),
        oursVsGlance: median(t.glance) / median(t.ours),
        oursVsDisk: median(t.disk) / median(t.ours),
        bestVsGlance: median(t.glance) / bestWall,
        bestVsDisk: median(t.disk) / bestWall,
        oursCpuSeconds: median(c.ours),
        glanceCpuSeconds: median(c.glance),
        curlCpuSeconds: median(c.curl),
      });
    }
    console.log(
      '\nsize      disk MiB/s  ours MiB/s  Glance MiB/s  ours/Glance (target >= 2)  ours/disk (target >= 0.7)',
    );
    for (const r of results)
      console.log(
        `${String(r.sizeMiB).padEnd(9)} ${r.diskMiBps?.toFixed(0).padStart(10)}  ${r.oursMiBps?.toFixed(0).padStart(10)}  ${r.glanceMiBps?.toFixed(0).padStart(12)}  ${r.oursVsGlance?.toFixed(2).padStart(24)}x  ${r.oursVsDisk?.toFixed(2).padStart(23)}x`,
      );
    for (const r of results)
      console.log(
        `${r.sizeMiB} MiB CPU seconds: ours ${r.oursCpuSeconds?.toFixed(1)}, Glance ${r.glanceCpuSeconds?.toFixed(1)}, curl ${r.curlCpuSeconds?.toFixed(1)}; the best any checksumming server could do on this machine: ${r.bestVsGlance?.toFixed(2)}x Glance, ${r.bestVsDisk?.toFixed(2)}x the disk`,
      );
    mkdirSync('bench-results', { recursive: true });
    writeFileSync(
      'bench-results/ingest.json',
      JSON.stringify({ at: new Date().toISOString(), machine: { cores }, hashing, results }, null, 2),
    );
    console.log('written: bench-results/ingest.json');
  } finally {
    server.stop();
    await stopReferenceOpenStack(cloud);
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
