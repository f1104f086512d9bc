/**
 * What the benchmarks share: an empty raw image made directly through the Image API, every
 * image of the reference cloud deleted between runs, and `glance-uploader serve` started as its
 * own process with a token of its member, and a whole CLI process measured (wall and CPU
 * seconds through rusage.py), with min/median/max of interleaved runs.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { issueToken, passwordToken, type ReferenceCloud } from '../test/openstack/reference-openstack';

export const CLI = join(import.meta.dirname, '..', 'bin', 'glance-uploader.mjs');

/** Once more after a socket error: an idle keep-alive connection the server closed meanwhile (uWSGI does). */
export async function again<T>(f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch {
    return f();
  }
}

/** An empty raw/bare image on a Glance (`url`: its base URL); its id. */
export async function createImage(url: string, token: string, name: string): Promise<string> {
  const res = await again(() =>
    fetch(`${url}/v2/images`, {
      method: 'POST',
      headers: { 'x-auth-token': token, 'content-type': 'application/json' },
      body: JSON.stringify({ name, disk_format: 'raw', container_format: 'bare' }),
    }),
  );
  return ((await res.json()) as { id: string }).id;
}

/** Every image the demo user sees in both regions, deleted (between runs, outside any measurement). */
export async function deleteAll(cloud: ReferenceCloud): Promise<void> {
  const token = await again(() => issueToken(cloud, 'demo'));
  for (const region of ['RegionOne', 'RegionTwo'] as const) {
    const g = cloud.glance[region].url;
    const res = await again(() => fetch(`${g}/v2/images?limit=1000`, { headers: { 'x-auth-token': token } }));
    for (const img of ((await res.json()) as { images: { id: string }[] }).images)
      await (
        await fetch(`${g}/v2/images/${img.id}`, { method: 'DELETE', headers: { 'x-auth-token': token } })
      ).arrayBuffer();
  }
}

export interface LocalServe {
  url: string;
  pid: number;
  /** A token of the server's member user. */
  token: string;
  stop: () => void;
}

/** `glance-uploader serve --port 0` on `dataDir`, its URL once it announces it. */
export async function startServe(dataDir: string): Promise<LocalServe> {
  const child = spawn(process.execPath, [CLI, 'serve', '--port', '0', '--json', '--data', dataDir], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const info = await new Promise<{ url: string; authUrl: string }>((resolve) =>
    child.stdout.once('data', (d: Buffer) => resolve(JSON.parse(d.toString()) as { url: string; authUrl: string })),
  );
  const creds = JSON.parse(readFileSync(join(dataDir, 'credentials.json'), 'utf8')) as {
    username: string;
    password: string;
  };
  const token = await passwordToken(info.authUrl, creds.username, creds.password);
  return { url: info.url, pid: child.pid ?? 0, token, stop: () => child.kill('SIGTERM') };
}

const RUSAGE = join(import.meta.dirname, 'rusage.py');

export interface Cost {
  wall: number;
  cpu: number;
}

/** A whole process through the wrapper, without blocking this event loop (the proxies live here). */
export function measured(work: string, cmd: string[], env: Record<string, string>): Promise<Cost> {
  const out = join(work, `rusage-${Math.random().toString(36).slice(2)}.json`);
  return new Promise((resolve, reject) => {
    const child = spawn('/usr/bin/python3', [RUSAGE, out, ...cmd], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`${cmd.join(' ')} failed: ${err.slice(-400)}`));
      const j = JSON.parse(readFileSync(out, 'utf8')) as { wall: number; cpu: number };
      resolve({ wall: j.wall, cpu: j.cpu });
    });
  });
}

export const stats = (xs: number[]): { min: number; median: number; max: number } => {
  const s = [...xs].sort((a, b) => a - b);
  return { min: s[0] ?? NaN, median: s[Math.floor(s.length / 2)] ?? NaN, max: s.at(-1) ?? NaN };
};
export const fmt = (x: { min: number; median: number; max: number }, d = 2): string =>
  `${x.median.toFixed(d)} (${x.min.toFixed(d)}..${x.max.toFixed(d)})`;
