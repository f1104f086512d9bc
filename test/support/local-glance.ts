/**
 * The embedded server under test, beside the reference cloud: its own data folder, a
 * clouds.yaml with the reference's entries and ours (`staging`), a qcow2 to send, and the
 * plain-HTTP and CLI calls the server's tests make. Shared by the local-glance-* test files.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { writeCloudsYaml } from '../../src/main/core/cli/serve-command';
import { Engine } from '../../src/main/core/clouds/engine';
import { StagingServer } from '../../src/main/core/local-glance/server';
import type { ReferenceCloud } from '../openstack/reference-openstack';
import { makeQcow2 } from './disk-fixtures';

/**
 * The clouds.yaml entry of the server under test. Not `local`: that name is the engine's own
 * cloud, the server of its data folder (GLANCE_UPLOADER_HOME), whatever clouds.yaml says.
 */
export const LOCAL_ENTRY = 'staging';

export const run = promisify(execFile);

export interface LocalGlance {
  dir: string;
  server: StagingServer;
  /** clouds.yaml: the reference's entries, and ours merged in. */
  clouds: string;
  /** A 1 GiB (virtual) qcow2 with some data in it. */
  qcow2: string;
}

export async function startLocalGlance(ref: ReferenceCloud): Promise<LocalGlance> {
  const dir = mkdtempSync(join(tmpdir(), 'gu-staging-'));
  const server = new StagingServer({ dataDir: join(dir, 'server'), port: 0 });
  await server.start();
  const clouds = join(dir, 'clouds.yaml');
  writeFileSync(clouds, readFileSync(ref.cloudsYamlPath));
  writeCloudsYaml(clouds, LOCAL_ENTRY, server);
  const qcow2 = join(dir, 'compat.qcow2');
  makeQcow2(qcow2, '1G', 2);
  return { dir, server, clouds, qcow2 };
}

export async function stopLocalGlance(g: Pick<LocalGlance, 'dir' | 'server'>): Promise<void> {
  await g.server.close();
  rmSync(g.dir, { recursive: true, force: true });
}

/**
 * The plain calls a test makes to the server it runs now (`current`: a test may replace its
 * server by a restarted one).
 */
export function serverCalls(current: () => StagingServer): {
  raw: (
    method: string,
    path: string,
    headers?: Record<string, string>,
    body?: Buffer,
  ) => Promise<{ status: number; body: string }>;
  rawHead: (path: string, t: string) => Promise<Record<string, string | string[] | undefined>>;
  createRawImage: (t: string, name: string) => Promise<string>;
  token: () => Promise<string>;
} {
  return {
    raw: (method, path, headers = {}, body) => rawRequest(current(), method, path, headers, body),
    rawHead: (path, t) => headRequest(current(), path, t),
    createRawImage: (t, name) => createRawImage(current(), t, name),
    token: async () => localToken(current()),
  };
}

/** The Debian `openstack` CLI on a cloud of the clouds.yaml: exit code and output. */
export async function openstackCli(
  g: { dir: string; clouds: string },
  cloud: string,
  args: string[],
): Promise<{ code: number; out: string; err: string }> {
  try {
    const r = await run('/usr/bin/openstack', ['--os-cloud', cloud, ...args], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: g.dir, OS_CLIENT_CONFIG_FILE: g.clouds },
      timeout: 60_000,
    });
    return { code: 0, out: r.stdout, err: r.stderr };
  } catch (e) {
    const x = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof x.code === 'number' ? x.code : 1, out: x.stdout ?? '', err: x.stderr ?? '' };
  }
}

/** One plain HTTP request to the server: status and body as text. */
export function rawRequest(
  server: StagingServer,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: Buffer,
): Promise<{ status: number; body: string }> {
  const u = new URL(server.url);
  return new Promise((resolve, reject) => {
    // Glance negotiates its error bodies on Accept; the tests read them as JSON.
    const all = { accept: 'application/json', ...headers };
    const req = request({ host: u.hostname, port: u.port, method, path, headers: all }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

export function headRequest(
  server: StagingServer,
  path: string,
  t: string,
): Promise<Record<string, string | string[] | undefined>> {
  const u = new URL(server.url);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: u.hostname, port: u.port, method: 'HEAD', path, headers: { 'x-auth-token': t } },
      (res) => {
        res.resume();
        resolve(res.headers);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** POST /v2/images (raw/bare), its id. */
export async function createRawImage(server: StagingServer, t: string, name: string): Promise<string> {
  const created = await rawRequest(
    server,
    'POST',
    '/v2/images',
    { 'x-auth-token': t, 'content-type': 'application/json' },
    Buffer.from(JSON.stringify({ name, disk_format: 'raw', container_format: 'bare' })),
  );
  return (JSON.parse(created.body) as { id: string }).id;
}

/** A token of one of the server's users (the member `local` unless told), made by its Keystone directly. */
export function localToken(server: StagingServer, who: 'member' | 'admin' = 'member'): string {
  const user = who === 'admin' ? server.creds.admin : server.creds;
  const t = server.identity.authenticate({
    auth: {
      identity: {
        methods: ['password'],
        password: { user: { name: user.username, domain: { id: 'default' }, password: user.password } },
      },
    },
  });
  return t?.id ?? '';
}

/** The same image, whichever cloud, by name (our client), waiting until it is active. */
export async function activeByName(
  g: { dir: string; clouds: string },
  cloud: string,
  region: string,
  name: string,
): Promise<Record<string, unknown>> {
  const engine = new Engine({ env: { OS_CLIENT_CONFIG_FILE: g.clouds }, cwd: g.dir, home: g.dir });
  try {
    const glance = await engine.glance(cloud, region);
    for (let i = 0; i < 120; i++) {
      const [img] = await glance.listImages({ name });
      if (img !== undefined && img.status !== 'importing' && img.status !== 'uploading')
        return img as unknown as Record<string, unknown>;
      await sleep(250);
    }
    throw new Error(`${name} never settled in ${cloud}`);
  } finally {
    await engine.close();
  }
}

export async function deleteByName(
  g: { dir: string; clouds: string },
  cloud: string,
  region: string,
  name: string,
): Promise<void> {
  const engine = new Engine({ env: { OS_CLIENT_CONFIG_FILE: g.clouds }, cwd: g.dir, home: g.dir });
  try {
    const glance = await engine.glance(cloud, region);
    for (const img of await glance.listImages({ name })) await glance.deleteImage(img.id);
  } finally {
    await engine.close();
  }
}
