/**
 * Ingest throughput of the embedded server (`glance-uploader serve`, its own process) against
 * the reference Glance and against a plain disk write (`dd ... conv=fsync`), in the same run,
 * for 1 GiB and 4 GiB files, 3 runs each, the same client (curl -T) for both servers. Targets:
 * >= 2x real Glance, >= 0.7x the disk. Prints a table and writes bench-results/ingest.json.
 * Asserts nothing. BENCH_SIZES_MIB and BENCH_RUNS change the plan.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { issueToken, startReferenceOpenStack, stopReferenceOpenStack } from '../test/openstack/reference-openstack';
import { makeFile } from '../test/support/files';

const MiB = 1024 * 1024;
const sizes = (process.env.BENCH_SIZES_MIB ?? '1024,4096').split(',').map((s) => Number(s) * MiB);
const runs = Number(process.env.BENCH_RUNS ?? 3);
const CLI = join(import.meta.dirname, '..', 'bin', 'glance-uploader.mjs');

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
}

function timed(cmd: string, args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('close', (code) =>
      code === 0 ? resolve((performance.now() - t0) / 1000) : reject(new Error(`${cmd} failed (${code}): ${err}`)),
    );
  });
}

async function createImage(url: string, token: string, name: string): Promise<string> {
  const res = await fetch(`${url}/v2/images`, {
    method: 'POST',
    headers: { 'x-auth-token': token, 'content-type': 'application/json' },
    body: JSON.stringify({ name, disk_format: 'raw', container_format: 'bare' }),
  });
  return ((await res.json()) as { id: string }).id;
}

/** curl -T: PUT /file with Content-Length, as fast as the server takes it. */
async function put(url: string, token: string, id: string, file: string): Promise<number> {
  return timed('curl', [
    '-sS', '--fail', '-X', 'PUT', '-T', file, '-H', `X-Auth-Token: ${token}`,
    '-H', 'Content-Type: application/octet-stream', `${url}/v2/images/${id}/file`,
  ]); // prettier-ignore
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'gu-ingest-'));
  console.log('starting the reference OpenStack...');
  const cloud = await startReferenceOpenStack({});
  const server = spawn(process.execPath, [CLI, 'serve', '--port', '0', '--json', '--data', join(work, 'server')], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  try {
    const local = await new Promise<{ url: string; authUrl: string }>((resolve) =>
      server.stdout.once('data', (d: Buffer) => resolve(JSON.parse(d.toString()) as { url: string; authUrl: string })),
    );
    const creds = JSON.parse(readFileSync(join(work, 'server', 'credentials.json'), 'utf8')) as {
      username: string;
      password: string;
    };
    const auth = await fetch(`${local.authUrl}/auth/tokens`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        auth: {
          identity: {
            methods: ['password'],
            password: { user: { name: creds.username, domain: { id: 'default' }, password: creds.password } },
          },
        },
      }),
    });
    const localToken = auth.headers.get('x-subject-token') ?? '';
    const refToken = await issueToken(cloud, 'demo');
    const refUrl = cloud.glance.RegionOne.url;
    const results: Record<string, number>[] = [];
    for (const size of sizes) {
      const file = await makeFile(join(work, `ingest-${size / MiB}.raw`), size);
      const t = { disk: [] as number[], ours: [] as number[], glance: [] as number[] };
      for (let i = 0; i < runs; i++) {
        const out = join(work, 'dd.out');
        t.disk.push(await timed('dd', [`if=${file.path}`, `of=${out}`, 'bs=1M', 'conv=fsync', 'status=none']));
        rmSync(out);
        const lid = await createImage(local.url, localToken, `ingest-${i}`);
        t.ours.push(await put(local.url, localToken, lid, file.path));
        await fetch(`${local.url}/v2/images/${lid}`, { method: 'DELETE', headers: { 'x-auth-token': localToken } });
        const rid = await createImage(refUrl, refToken, `ingest-${i}`);
        t.glance.push(await put(refUrl, refToken, rid, file.path));
        await fetch(`${refUrl}/v2/images/${rid}`, { method: 'DELETE', headers: { 'x-auth-token': refToken } });
        console.log(
          `  ${size / MiB} MiB run ${i + 1}: disk ${t.disk.at(-1)?.toFixed(2)} s, ours ${t.ours.at(-1)?.toFixed(2)} s, Glance ${t.glance.at(-1)?.toFixed(2)} s`,
        );
      }
      rmSync(file.path);
      const mibps = (xs: number[]): number => size / MiB / median(xs);
      results.push({
        sizeMiB: size / MiB,
        diskMiBps: mibps(t.disk),
        oursMiBps: mibps(t.ours),
        glanceMiBps: mibps(t.glance),
        oursVsGlance: median(t.glance) / median(t.ours),
        oursVsDisk: median(t.disk) / median(t.ours),
      });
    }
    console.log(
      '\nsize      disk MiB/s  ours MiB/s  Glance MiB/s  ours/Glance (target >= 2)  ours/disk (target >= 0.7)',
    );
    for (const r of results)
      console.log(
        `${String(r.sizeMiB).padEnd(9)} ${r.diskMiBps?.toFixed(0).padStart(10)}  ${r.oursMiBps?.toFixed(0).padStart(10)}  ${r.glanceMiBps?.toFixed(0).padStart(12)}  ${r.oursVsGlance?.toFixed(2).padStart(24)}x  ${r.oursVsDisk?.toFixed(2).padStart(23)}x`,
      );
    mkdirSync('bench-results', { recursive: true });
    writeFileSync('bench-results/ingest.json', JSON.stringify({ at: new Date().toISOString(), results }, null, 2));
    console.log('written: bench-results/ingest.json');
  } finally {
    server.kill('SIGTERM');
    await stopReferenceOpenStack(cloud);
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
