/**
 * npm run bench: upload throughput against the reference Glance, measured in the same run for
 * our engine (the real CLI process, hashing on), curl -T and `openstack image create --file`,
 * for 1 GiB and 4 GiB files, 3 runs each; the engine's peak RSS; two-region fan-out wall time
 * against one region. Prints a table and writes bench-results/upload.json. Ratios only: this
 * is a benchmark, not a test, and asserts nothing.
 *
 * BENCH_SIZES_MIB=1024,4096 and BENCH_RUNS=3 change the plan.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { issueToken, startReferenceOpenStack, stopReferenceOpenStack } from '../test/openstack/reference-openstack';
import { makeFile } from '../test/support/files';
import { CLI, createImage, deleteAll } from './bench-kit';
import { cpuOf, groupCpu } from './proc-cpu';

const MiB = 1024 * 1024;
const sizes = (process.env.BENCH_SIZES_MIB ?? '1024,4096').split(',').map((s) => Number(s) * MiB);
const runs = Number(process.env.BENCH_RUNS ?? 3);

interface Run {
  seconds: number;
  rssMiB?: number;
  /** CPU seconds (user + system) of the measured process, its threads included. */
  cpuSeconds?: number;
  /** CPU seconds the RegionOne Glance (its whole process group) spent meanwhile. */
  glanceCpuSeconds?: number;
}

let glancePgid = 0;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

/** Run a command; wall time in seconds and the peak RSS of the process, sampled every 50 ms. */
function timed(cmd: string, args: string[], env: Record<string, string> = {}): Promise<Run & { stdout: string }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let peak = 0;
    let cpu = 0;
    const glanceBefore = glancePgid ? groupCpu(glancePgid) : 0;
    const sample = setInterval(() => {
      try {
        const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        if (m) peak = Math.max(peak, Number(m[1]) / 1024);
        cpu = Math.max(cpu, cpuOf(child.pid ?? 0));
      } catch {
        /* exited */
      }
    }, 50);
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => {
      clearInterval(sample);
      if (code !== 0) reject(new Error(`${cmd} ${args.join(' ')} exited ${code}: ${stderr.slice(-500)}`));
      else
        resolve({
          seconds: (performance.now() - t0) / 1000,
          rssMiB: peak,
          cpuSeconds: cpu,
          glanceCpuSeconds: glancePgid ? groupCpu(glancePgid) - glanceBefore : undefined,
          stdout,
        });
    });
  });
}

/** The upload phase of our engine from its audit log: first "uploading" to last "verifying". */
function uploadPhaseSeconds(home: string): number {
  const db = new Database(join(home, 'queue.sqlite3'), { readonly: true });
  try {
    const start = (db.prepare("SELECT MIN(at) AS t FROM events WHERE to_state = 'uploading'").get() as { t: number }).t;
    const end = (
      db.prepare("SELECT MAX(at) AS t FROM events WHERE from_state = 'uploading' AND to_state = 'verifying'").get() as {
        t: number;
      }
    ).t;
    return (end - start) / 1000;
  } finally {
    db.close();
  }
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'gu-bench-'));
  console.log('starting the reference OpenStack...');
  const cloud = await startReferenceOpenStack({ log: () => undefined });
  console.log(`ready in ${(cloud.readyMs / 1000).toFixed(1)} s`);
  glancePgid = Number(readFileSync(join(cloud.stateDir, 'pids', 'glance-RegionOne.pid'), 'utf8'));
  const results: Record<string, unknown>[] = [];
  try {
    for (const size of sizes) {
      const file = await makeFile(join(work, `bench-${size / MiB}.raw`), size);
      const cells: Record<string, Run[]> = { curl: [], openstack: [], engine: [], engineUpload: [] };
      for (let i = 0; i < runs; i++) {
        const token = await issueToken(cloud, 'demo');
        const id = await createImage(cloud.glance.RegionOne.url, token, `curl-${i}`);
        const curl = await timed('curl', [
          '-sS',
          '-f',
          '-T',
          file.path,
          '-H',
          `X-Auth-Token: ${token}`,
          '-H',
          'Content-Type: application/octet-stream',
          `${cloud.glance.RegionOne.url}/v2/images/${id}/file`,
        ]);
        cells.curl?.push(curl);
        await deleteAll(cloud);
        const osc = await timed(
          '/usr/bin/openstack',
          ['image', 'create', '--disk-format', 'raw', '--container-format', 'bare', '--file', file.path, `osc-${i}`],
          {
            OS_CLIENT_CONFIG_FILE: cloud.cloudsYamlPath,
            OS_CLOUD: 'ref-demo',
          },
        );
        cells.openstack?.push(osc);
        await deleteAll(cloud);
        const home = join(work, `home-${size}-${i}`);
        const ours = await timed(
          process.execPath,
          [CLI, 'upload', file.path, '--cloud', 'ref-demo', '--region', 'RegionOne', '--name', `engine-${i}`],
          {
            GLANCE_UPLOADER_HOME: home,
            OS_CLIENT_CONFIG_FILE: cloud.cloudsYamlPath,
          },
        );
        cells.engine?.push(ours);
        cells.engineUpload?.push({ seconds: uploadPhaseSeconds(home) });
        await deleteAll(cloud);
        console.log(
          `  ${size / MiB} MiB run ${i + 1}: curl ${curl.seconds.toFixed(2)} s, openstack ${osc.seconds.toFixed(2)} s, engine ${ours.seconds.toFixed(2)} s (upload phase ${cells.engineUpload?.at(-1)?.seconds.toFixed(2)} s, RSS ${ours.rssMiB?.toFixed(0)} MiB)`,
        );
      }
      const med = (k: string): number => median((cells[k] ?? []).map((r) => r.seconds));
      const mibps = (s: number): number => size / MiB / s;
      const cpu = (k: string, f: (r: Run) => number | undefined): number =>
        median((cells[k] ?? []).map((r) => f(r) ?? 0));
      // What this machine allows at best: Glance (one process) needs its CPU seconds on one core,
      // and Glance plus our engine need theirs on all the cores together.
      const cores = (await import('node:os')).cpus().length;
      const glanceCpu = cpu('engine', (r) => r.glanceCpuSeconds);
      const engineCpu = cpu('engine', (r) => r.cpuSeconds);
      const bestEngineWall = Math.max(glanceCpu, (glanceCpu + engineCpu) / cores);
      results.push({
        sizeMiB: size / MiB,
        runs,
        curlSeconds: med('curl'),
        openstackSeconds: med('openstack'),
        engineSeconds: med('engine'),
        engineUploadSeconds: med('engineUpload'),
        curlMiBps: mibps(med('curl')),
        openstackMiBps: mibps(med('openstack')),
        engineMiBps: mibps(med('engine')),
        engineUploadMiBps: mibps(med('engineUpload')),
        engineVsCurl: med('curl') / med('engineUpload'),
        engineVsCurlCeiling: med('curl') / bestEngineWall,
        fanOutFloorEstimate: Math.max(glanceCpu, (2 * glanceCpu + engineCpu) / cores) / med('engineUpload'),
        engineWholeVsOpenstack: med('openstack') / med('engine'),
        enginePeakRssMiB: Math.max(...(cells.engine ?? []).map((r) => r.rssMiB ?? 0)),
        cpuSeconds: {
          curl: median((cells.curl ?? []).map((r) => r.cpuSeconds ?? 0)),
          openstack: median((cells.openstack ?? []).map((r) => r.cpuSeconds ?? 0)),
          engine: median((cells.engine ?? []).map((r) => r.cpuSeconds ?? 0)),
          glanceDuringCurl: median((cells.curl ?? []).map((r) => r.glanceCpuSeconds ?? 0)),
          glanceDuringEngine: median((cells.engine ?? []).map((r) => r.glanceCpuSeconds ?? 0)),
        },
      });
      if (size === sizes[0]) {
        // Fan-out: the same file to two regions against one region, whole CLI runs.
        const one: number[] = [];
        const two: number[] = [];
        for (let i = 0; i < runs; i++) {
          const h1 = join(work, `fan1-${i}`);
          const h2 = join(work, `fan2-${i}`);
          const env = (h: string): Record<string, string> => ({
            GLANCE_UPLOADER_HOME: h,
            OS_CLIENT_CONFIG_FILE: cloud.cloudsYamlPath,
          });
          await timed(
            process.execPath,
            [CLI, 'upload', file.path, '--cloud', 'ref-demo', '--region', 'RegionOne', '--name', `fan1-${i}`],
            env(h1),
          );
          one.push(uploadPhaseSeconds(h1));
          await deleteAll(cloud);
          await timed(
            process.execPath,
            [CLI, 'upload', file.path, '--cloud', 'ref-demo', '--region', 'RegionOne,RegionTwo', '--name', `fan2-${i}`],
            env(h2),
          );
          two.push(uploadPhaseSeconds(h2));
          await deleteAll(cloud);
        }
        results.push({
          fanOut: true,
          sizeMiB: size / MiB,
          oneRegionSeconds: median(one),
          twoRegionsSeconds: median(two),
          ratio: median(two) / median(one),
          // Two Glances' CPU plus ours, on this machine's cores, against one region's wall time.
          floorEstimate: results.at(-1)?.fanOutFloorEstimate,
        });
      }
      rmSync(file.path);
    }
  } finally {
    await stopReferenceOpenStack(cloud);
    rmSync(work, { recursive: true, force: true });
  }
  console.log(
    '\nsize      curl MiB/s  openstack MiB/s  engine upload MiB/s  engine whole MiB/s  engine/curl  engine/openstack (whole)  engine peak RSS',
  );
  for (const r of results.filter((x) => x.fanOut !== true)) {
    const f = (k: string, d = 0): string => (r[k] as number).toFixed(d);
    console.log(
      `${f('sizeMiB').padEnd(9)} ${f('curlMiBps').padStart(10)}  ${f('openstackMiBps').padStart(15)}  ${f('engineUploadMiBps').padStart(19)}  ${f('engineMiBps').padStart(18)}  ${f('engineVsCurl', 2).padStart(11)}x  ${f('engineWholeVsOpenstack', 2).padStart(23)}x  ${f('enginePeakRssMiB').padStart(11)} MiB`,
    );
  }
  for (const r of results.filter((x) => x.fanOut !== true)) {
    const c = r.cpuSeconds as Record<string, number>;
    console.log(
      `${r.sizeMiB as number} MiB CPU seconds: curl ${c.curl?.toFixed(1)}, Glance during curl ${c.glanceDuringCurl?.toFixed(1)}, engine ${c.engine?.toFixed(1)}, Glance during engine ${c.glanceDuringEngine?.toFixed(1)}; best engine/curl this machine allows: ${(r.engineVsCurlCeiling as number).toFixed(2)}x`,
    );
  }
  for (const r of results.filter((x) => x.fanOut === true)) {
    console.log(
      `fan-out ${r.sizeMiB as number} MiB: one region ${(r.oneRegionSeconds as number).toFixed(2)} s, two regions ${(r.twoRegionsSeconds as number).toFixed(2)} s: ${(r.ratio as number).toFixed(2)}x (CPU floor on this machine: about ${((r.floorEstimate as number | undefined) ?? 0).toFixed(2)}x)`,
    );
  }
  mkdirSync('bench-results', { recursive: true });
  writeFileSync(
    'bench-results/upload.json',
    JSON.stringify(
      { at: new Date().toISOString(), machine: { cpus: (await import('node:os')).cpus().length }, results },
      null,
      2,
    ),
  );
  console.log('written: bench-results/upload.json');
}

await main();
