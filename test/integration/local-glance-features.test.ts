/**
 * The embedded server's features and refusals: import tasks, web-download's filtering, two
 * stores and copy-image, CORS, quotas with uploads in flight, what it must refuse (no token, a
 * foreign Host, a path that is no image id), a delete during an upload, the start-up sweep.
 */
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { writeCloudsYaml } from '../../src/main/core/cli/serve-command';
import { Engine } from '../../src/main/core/clouds/engine';
import { openDatabase } from '../../src/main/core/queue/database';
import { StagingServer } from '../../src/main/core/local-glance/server';
import { Scheduler } from '../../src/main/core/transfer/scheduler';
import { makeFile } from '../support/files';
import { fileJobSource } from '../support/queue-fixture';
import { LOCAL_ENTRY, serverCalls, startLocalGlance, stopLocalGlance } from '../support/local-glance';

const ref = inject('referenceCloud');
let dir: string;
let server: StagingServer;
let clouds: string;

const { raw, createRawImage, token } = serverCalls(() => server);

beforeAll(async () => {
  ({ dir, server, clouds } = await startLocalGlance(ref));
}, 60_000);

afterAll(() => stopLocalGlance({ dir, server }));

describe('embedded server: imports, stores, CORS, quotas and refusals', () => {
  it('records glance-direct imports as tasks, as Glance does', async () => {
    const t = await token();
    const json = { 'x-auth-token': t, 'content-type': 'application/json' };
    const id = await createRawImage(t, 'tasked');
    const data = Buffer.alloc(70_000, 3);
    const octets = { 'x-auth-token': t, 'content-type': 'application/octet-stream' };
    expect((await raw('PUT', `/v2/images/${id}/stage`, octets, data)).status).toBe(204);
    const staged = JSON.parse((await raw('GET', `/v2/images/${id}`, { 'x-auth-token': t })).body) as Record<
      string,
      unknown
    >;
    expect(staged).toMatchObject({ status: 'uploading', size: 70_000, checksum: null });
    const body = Buffer.from(JSON.stringify({ method: { name: 'glance-direct' } }));
    expect((await raw('POST', `/v2/images/${id}/import`, json, body)).status).toBe(202);
    const engine = new Engine({ env: { OS_CLIENT_CONFIG_FILE: clouds }, cwd: dir, home: dir });
    try {
      const g = await engine.glance(LOCAL_ENTRY, 'local');
      for (let i = 0; i < 40 && (await g.getImage(id)).status !== 'active'; i++) await sleep(100);
      expect(await g.getImage(id)).toMatchObject({
        status: 'active',
        checksum: createHash('md5').update(data).digest('hex'),
      });
      const tasks = await g.imageTasks(id);
      expect(tasks).toHaveLength(1);
      expect(tasks[0]).toMatchObject({ type: 'api_image_import', status: 'success', image_id: id });
    } finally {
      await engine.close();
    }
    // web-download and copy-image are not offered here: refused as Glance refuses a disabled method.
    const web = Buffer.from(JSON.stringify({ method: { name: 'web-download', uri: 'http://example.org/x' } }));
    expect((await raw('POST', `/v2/images/${id}/import`, json, web)).status).toBe(400);
  });

  it('offers web-download only when enabled, refuses local addresses unless allowed, and records the task', async () => {
    const payload = Buffer.alloc(200_000, 9);
    const origin = createServer((req, res) => {
      if (req.url === '/img.raw') res.writeHead(200, { 'content-length': payload.length }).end(payload);
      else if (req.url === '/moved') res.writeHead(302, { location: '/img.raw' }).end();
      else res.writeHead(404).end();
    });
    await new Promise<void>((r) => origin.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(origin.address() as AddressInfo).port}`;
    const strict = new StagingServer({ dataDir: join(dir, 'web-strict'), port: 0, webDownload: { enabled: true } });
    const open = new StagingServer({
      dataDir: join(dir, 'web-open'),
      port: 0,
      webDownload: { enabled: true, allowLocal: true },
    });
    await strict.start();
    await open.start();
    const saved = server;
    try {
      const importInto = async (s: StagingServer, uri: string): Promise<{ status: number; id: string; t: string }> => {
        server = s;
        const t = await token();
        const json = { 'x-auth-token': t, 'content-type': 'application/json' };
        const id = await createRawImage(t, 'web');
        const body = Buffer.from(JSON.stringify({ method: { name: 'web-download', uri } }));
        return { status: (await raw('POST', `/v2/images/${id}/import`, json, body)).status, id, t };
      };
      const settle = async (s: StagingServer, id: string): Promise<void> => {
        for (let i = 0; i < 50 && s.store.get(id)?.status === 'importing'; i++) await sleep(100);
      };
      // Enabled but strict: loopback does not pass filtering (400), as on Debian's Glance.
      expect((await importInto(strict, `${base}/img.raw`)).status).toBe(400);
      expect((await importInto(strict, 'file:///etc/passwd')).status).toBe(400);
      // Allowed: fetched (through a redirect), hashed, a task that succeeded.
      const ok = await importInto(open, `${base}/moved`);
      expect(ok.status).toBe(202);
      await settle(open, ok.id);
      expect(open.store.get(ok.id)).toMatchObject({
        status: 'active',
        size: payload.length,
        checksum: createHash('md5').update(payload).digest('hex'),
      });
      expect(open.store.tasks.of(ok.id)[0]).toMatchObject({ status: 'success' });
      // A URL that answers 404: the task fails, the image is queued again. Single-store, Glance
      // names no store (its store list is [None]): both bookkeeping lists stay "", the lock goes.
      const missing = await importInto(open, `${base}/nope`);
      await settle(open, missing.id);
      const left = open.store.get(missing.id);
      expect(left).toMatchObject({
        status: 'queued',
        properties: { os_glance_failed_import: '', os_glance_importing_to_stores: '' },
      });
      expect(left?.properties).not.toHaveProperty('os_glance_import_task');
      expect(open.store.tasks.of(missing.id)[0]).toMatchObject({
        status: 'failure',
        message: expect.stringMatching(/HTTP Error 404/),
      });
    } finally {
      server = saved;
      await strict.close();
      await open.close();
      await new Promise((r) => origin.close(r));
    }
  });

  it('with two stores: uploads into the default, copy-image (by our engine) into the other, stores shown as Glance does', async () => {
    const multi = new StagingServer({ dataDir: join(dir, 'multi'), port: 0, stores: ['fast', 'cold'] });
    await multi.start();
    const yaml = join(dir, 'multi-clouds.yaml');
    writeCloudsYaml(yaml, 'multi', multi);
    const home = join(dir, 'multi-engine');
    mkdirSync(home);
    const db = openDatabase(join(home, 'queue.sqlite3'));
    const engine = new Engine({ env: { OS_CLIENT_CONFIG_FILE: yaml }, cwd: home, home });
    const scheduler = new Scheduler({ db, engine, actor: 'test-multi' });
    try {
      // copy-image is an admin's (Glance's copy_image policy): the engine works as multi-admin.
      const g = await engine.glance('multi-admin', 'local');
      expect(await g.importMethods()).toEqual(['glance-direct', 'copy-image']);
      expect((await g.stores()).map((x) => [x.id, x.default])).toEqual([
        ['fast', true],
        ['cold', false],
      ]);
      const f = await makeFile(join(dir, 'multi.raw'), 2 * 1024 * 1024 + 3);
      const { job } = scheduler.repo.createJob({
        source: await fileJobSource(f.path),
        name: 'multi',
        metadata: { name: 'multi', disk_format: 'raw', container_format: 'bare' },
        targets: [
          { cloud: 'multi-admin', region: 'local' },
          { cloud: 'multi-admin', region: 'local', store: 'cold', method: 'copy-image' },
        ],
      });
      expect(scheduler.start()).toEqual({ acquired: true });
      await scheduler.idle();
      const targets = scheduler.repo.targetsOf(job.id);
      expect(targets.map((t) => t.state)).toEqual(['done', 'done']);
      const img = await g.getImage(targets[0]?.remoteImageId ?? '');
      expect(img).toMatchObject({ status: 'active', stores: 'fast,cold', os_hash_value: f.sha512 });
      expect(readFileSync(join(dir, 'multi', 'stores', 's1', img.id)).length).toBe(f.size);
      // Again into a store that has it: refused as Glance refuses it.
      const again = await g.request({
        method: 'POST',
        path: `/v2/images/${img.id}/import`,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ method: { name: 'copy-image' }, stores: ['cold'] }),
      });
      expect(again.status).toBe(400);
      expect(again.body.toString()).toMatch(/already present at store 'cold'/);
    } finally {
      await scheduler.stop();
      await engine.close();
      db.close();
      await multi.close();
    }
  });

  it('answers CORS preflights as oslo.middleware does in front of Glance, without a token', async () => {
    const cors = new StagingServer({
      dataDir: join(dir, 'cors'),
      port: 0,
      cors: { allowedOrigins: ['https://horizon.example'] },
    });
    await cors.start();
    const u = new URL(cors.url);
    const call = (
      method: string,
      headers: Record<string, string>,
    ): Promise<{ status: number; headers: Record<string, unknown> }> =>
      new Promise((resolve, reject) => {
        const req = request({ host: u.hostname, port: u.port, method, path: '/v2/images', headers }, (res) => {
          res.resume();
          resolve({ status: res.statusCode ?? 0, headers: res.headers });
        });
        req.on('error', reject);
        req.end();
      });
    try {
      // The seed case: a preflight for PUT from an allowed origin.
      const ok = await call('OPTIONS', {
        origin: 'https://horizon.example',
        'access-control-request-method': 'PUT',
        'access-control-request-headers': 'X-Auth-Token, Content-Type',
      });
      expect(ok.status).toBe(200);
      expect(ok.headers).toMatchObject({
        'access-control-allow-origin': 'https://horizon.example',
        'access-control-allow-credentials': 'true',
        'access-control-allow-methods': 'PUT',
        'access-control-allow-headers': 'X-Auth-Token,Content-Type',
        'access-control-max-age': '3600',
        vary: 'Origin',
      });
      // Another origin, a method or a header Glance does not allow: 200, and no CORS header.
      const refused: Record<string, string>[] = [
        { origin: 'https://evil.example', 'access-control-request-method': 'PUT' },
        { origin: 'https://horizon.example', 'access-control-request-method': 'HEAD' },
        {
          origin: 'https://horizon.example',
          'access-control-request-method': 'PUT',
          'access-control-request-headers': 'X-Image-Meta-Store',
        },
      ];
      for (const h of refused) {
        const no = await call('OPTIONS', h);
        expect(no.status).toBe(200);
        expect(Object.keys(no.headers).filter((k) => k.startsWith('access-control-'))).toEqual([]);
      }
      // The actual request: CORS headers even on the 401.
      const actual = await call('GET', { origin: 'https://horizon.example' });
      expect(actual.status).toBe(401);
      expect(actual.headers['access-control-expose-headers']).toMatch(/X-Subject-Token/);
      expect(
        (await call('GET', { origin: 'https://evil.example' })).headers['access-control-allow-origin'],
      ).toBeUndefined();
    } finally {
      await cors.close();
    }
  });

  it('counts uploads in flight against the quota: no escaping it by uploading in parallel', async () => {
    const q = new StagingServer({
      dataDir: join(dir, 'quota'),
      port: 0,
      quotaBytes: 10 * 1024 * 1024,
      sizeCap: 8 * 1024 * 1024,
    });
    await q.start();
    const saved = server;
    server = q; // raw() and token() talk to this one
    try {
      const t = await token();
      const a = await createRawImage(t, 'a');
      const b = await createRawImage(t, 'b');
      const u = new URL(q.url);
      // a: 6 MiB announced, 1 MiB sent, then the client waits.
      const inFlight = request({
        host: u.hostname,
        port: u.port,
        method: 'PUT',
        path: `/v2/images/${a}/file`,
        headers: { 'x-auth-token': t, 'content-type': 'application/octet-stream', 'content-length': 6 * 1024 * 1024 },
      });
      inFlight.on('error', () => undefined);
      inFlight.write(Buffer.alloc(1024 * 1024));
      await sleep(300);
      const over = await raw(
        'PUT',
        `/v2/images/${b}/file`,
        { 'x-auth-token': t, 'content-type': 'application/octet-stream', 'content-length': String(6 * 1024 * 1024) },
        Buffer.alloc(6 * 1024 * 1024),
      );
      expect(over.status).toBe(413);
      expect(JSON.parse(over.body)).toMatchObject({
        code: '413 Request Entity Too Large',
        title: 'Request Entity Too Large',
      });
      const capped = await raw(
        'PUT',
        `/v2/images/${b}/file`,
        { 'x-auth-token': t, 'content-type': 'application/octet-stream', 'content-length': String(9 * 1024 * 1024) },
        Buffer.alloc(9 * 1024 * 1024),
      );
      expect(capped.status).toBe(413);
      expect(capped.body).toMatch(/The provided image is too large/);
      inFlight.destroy();
      // Deleting the stalled upload frees its share: b fits now.
      await sleep(200);
      expect((await raw('DELETE', `/v2/images/${a}`, { 'x-auth-token': t })).status).toBe(204);
      const fits = await raw(
        'PUT',
        `/v2/images/${b}/file`,
        { 'x-auth-token': t, 'content-type': 'application/octet-stream', 'content-length': String(6 * 1024 * 1024) },
        Buffer.alloc(6 * 1024 * 1024),
      );
      expect(fits.status).toBe(204);
    } finally {
      server = saved;
      await q.close();
    }
  });

  it('refuses requests without a valid token, from a foreign Host, and paths that are no image id', async () => {
    expect((await raw('GET', '/v2/images')).status).toBe(401);
    expect((await raw('GET', '/v2/images', { 'x-auth-token': 'forged' })).status).toBe(401);
    const t = await token();
    expect((await raw('GET', '/v2/images', { 'x-auth-token': t })).status).toBe(200);
    expect((await raw('GET', '/v2/images', { 'x-auth-token': t, host: 'evil.example:80' })).status).toBe(400);
    for (const p of [
      '/v2/images/..%2f..%2fcredentials.json/file',
      '/v2/images/../../etc/passwd',
      '/v2/images/%2e%2e/file',
    ])
      expect((await raw('GET', p, { 'x-auth-token': t })).status, p).toBe(404);
    // Version discovery is open, as in Glance and Keystone.
    expect((await raw('GET', '/')).status).toBe(300);
    expect((await raw('GET', '/identity/v3')).status).toBe(200);
  });

  it('aborts an upload when its image is deleted (410) and keeps no data; a restart sweeps what a crash left (temp files, data without an image)', async () => {
    const t = await token();
    const id = await createRawImage(t, 'gone');
    const u = new URL(server.url);
    const upload = new Promise<number>((resolve) => {
      const req = request(
        {
          host: u.hostname,
          port: u.port,
          method: 'PUT',
          path: `/v2/images/${id}/file`,
          headers: {
            'x-auth-token': t,
            'content-type': 'application/octet-stream',
            'content-length': 64 * 1024 * 1024,
          },
        },
        (res) => resolve(res.statusCode ?? 0),
      );
      req.on('error', () => resolve(-1));
      req.write(Buffer.alloc(1024 * 1024, 1)); // then nothing more: the upload is in flight
    });
    await new Promise((r) => setTimeout(r, 300));
    expect((await raw('DELETE', `/v2/images/${id}`, { 'x-auth-token': t })).status).toBe(204);
    expect(await upload).toBe(410);
    const images = join(dir, 'server', 'images');
    expect(readdirSync(images).filter((f) => f.includes(id))).toEqual([]);
    // A crash leaves a temp file and an image "saving": the next start cleans both.
    writeFileSync(join(images, `.tmp-${id}-x`), 'partial');
    // ... and a delete cut short leaves the data of an image whose row is gone; a live image's data stays.
    const orphan = randomUUID();
    writeFileSync(join(images, orphan), 'orphaned data');
    const kept = await createRawImage(t, 'kept');
    writeFileSync(join(images, kept), 'must stay');
    const id2 = await createRawImage(t, 'interrupted');
    server.store.db.prepare(`UPDATE images SET status = 'saving', size = 5 WHERE id = ?`).run(id2);
    await server.close();
    server = new StagingServer({ dataDir: join(dir, 'server'), port: 0 });
    await server.start();
    expect(existsSync(join(images, `.tmp-${id}-x`))).toBe(false);
    expect(existsSync(join(images, orphan))).toBe(false);
    expect(readFileSync(join(images, kept), 'utf8')).toBe('must stay');
    expect(server.store.get(id2)).toMatchObject({ status: 'queued', size: null });
    writeCloudsYaml(clouds, LOCAL_ENTRY, server); // the new port
  });
});
