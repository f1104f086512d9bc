/**
 * The Glance v2 client against the reference Glance: discovery, metadata, filters and paging,
 * streaming upload with flat memory, verified (and resumed) download, every import method.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createReadStream } from 'node:fs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Engine } from '../../src/main/core/clouds/engine';
import type { GlanceClient } from '../../src/main/core/openstack/glance-client';
import {
  downloadImage,
  fileSource,
  importImage,
  stageImageData,
  uploadImageData,
} from '../../src/main/core/openstack/glance-data';
import { inStores, waitForImage, type WaitProgress } from '../../src/main/core/openstack/glance-wait';
import { engineError } from '../support/engine-error';
import { makeFile, type TestFile } from '../support/files';

const cloud = inject('referenceCloud');
let engine: Engine;
let demo: GlanceClient;
let admin: GlanceClient;
let demoR2: GlanceClient;
let dir: string;
let small: TestFile;
const created: { glance: () => GlanceClient; id: string }[] = [];
const tag = `t-${randomUUID().slice(0, 8)}`;

async function create(
  glance: GlanceClient,
  name: string,
  extra: Parameters<GlanceClient['createImage']>[0] = {},
): Promise<string> {
  const { image } = await glance.createImage({
    name,
    disk_format: 'raw',
    container_format: 'bare',
    tags: [tag],
    ...extra,
  });
  created.push({ glance: () => glance, id: image.id });
  return image.id;
}

beforeAll(async () => {
  engine = new Engine({ env: { OS_CLIENT_CONFIG_FILE: cloud.cloudsYamlPath }, cwd: tmpdir(), home: tmpdir() });
  demo = await engine.glance('ref-demo', 'RegionOne');
  admin = await engine.glance('ref-admin', 'RegionOne');
  demoR2 = await engine.glance('ref-demo-r2', 'RegionTwo');
  dir = mkdtempSync(join(tmpdir(), 'gu-glance-'));
  small = await makeFile(join(dir, 'small.raw'), 5 * 1024 * 1024 + 123);
});

/** Delete what the tests made; protected images are unprotected first. */
async function cleanUp(glance: GlanceClient, id: string): Promise<void> {
  const img = await glance.findImage(id);
  if (img === undefined) return;
  if (img.protected) await glance.updateImage(id, [{ op: 'replace', path: '/protected', value: false }]);
  await glance.deleteImage(id);
}

afterAll(async () => {
  for (const c of created) await cleanUp(c.glance(), c.id).catch(() => undefined);
  await engine.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('discovery', () => {
  it('finds the v2 API version, import methods, stores and the image schema', async () => {
    expect(await demo.apiVersion()).toMatch(/^2\.\d+$/);
    expect((await demo.importMethods()).sort()).toEqual([
      'copy-image',
      'glance-direct',
      'glance-download',
      'web-download',
    ]);
    const stores = await demo.stores();
    expect(stores.map((s) => s.id).sort()).toEqual(['cold', 'fast']);
    expect(stores.find((s) => s.default)?.id).toBe('fast');
    const schema = await demo.imageSchema();
    expect(schema).toMatchObject({
      name: 'image',
      properties: { name: expect.any(Object), disk_format: expect.any(Object) },
    });
  });
});

describe('image metadata', () => {
  it('creates with every writable field, custom properties and a chosen id; refuses the id twice', async () => {
    const id = randomUUID();
    const { image, importMethods } = await demo.createImage({
      id,
      name: 'all-fields',
      visibility: 'private',
      protected: false,
      os_hidden: false,
      min_disk: 3,
      min_ram: 512,
      disk_format: 'qcow2',
      container_format: 'bare',
      tags: [tag, 'x'],
      properties: { os_distro: 'ubuntu', hw_disk_bus: 'scsi' },
    });
    created.push({ glance: () => demo, id });
    expect(image).toMatchObject({
      id,
      name: 'all-fields',
      status: 'queued',
      visibility: 'private',
      min_disk: 3,
      min_ram: 512,
      disk_format: 'qcow2',
      os_distro: 'ubuntu',
      hw_disk_bus: 'scsi',
    });
    expect(image.tags.sort()).toEqual([tag, 'x'].sort());
    expect(importMethods).toContain('glance-direct');
    const again = await engineError(demo.createImage({ id, name: 'dup' }));
    expect(again.info).toMatchObject({ code: 'glance.conflict', status: 409 });
    expect(again.info.requestId).toMatch(/^req-/);
  });

  it('updates by JSON patch, tags, and refuses what Glance refuses', async () => {
    const id = await create(demo, 'patch-me', { properties: { a: '1', b: '2' } });
    const img = await demo.updateImage(id, [
      { op: 'replace', path: '/name', value: 'patched' },
      { op: 'add', path: '/c', value: '3' },
      { op: 'replace', path: '/a', value: 'one' },
      { op: 'remove', path: '/b' },
      { op: 'replace', path: '/tags', value: [tag, 'p', 'q'] },
    ]);
    expect(img).toMatchObject({ name: 'patched', a: 'one', c: '3' });
    expect(img.b).toBeUndefined();
    await demo.addTag(id, 'r');
    await demo.removeTag(id, 'p');
    expect((await demo.getImage(id)).tags.sort()).toEqual([tag, 'q', 'r'].sort());
    expect((await engineError(demo.updateImage(id, [{ op: 'remove', path: '/no-such-property' }]))).code).toBe(
      'glance.conflict',
    );
    expect((await engineError(demo.updateImage(id, [{ op: 'add', path: '/d', value: 5 }]))).code).toBe(
      'glance.bad_request',
    );
    expect((await engineError(demo.updateImage(id, [{ op: 'replace', path: '/status', value: 'active' }]))).code).toBe(
      'glance.forbidden',
    );
  });

  it('lists with filters, sort and pagination', async () => {
    const a = await create(demo, `${tag}-b`, { properties: { flavour: 'vanilla' } });
    const b = await create(demo, `${tag}-a`, { properties: { flavour: 'chocolate' } });
    const byTag = await demo.listImages({ tags: [tag], sort: [{ key: 'name', dir: 'asc' }], limit: 1 });
    const names = byTag.map((i) => i.name);
    expect(names).toEqual([...names].sort());
    expect(byTag.map((i) => i.id)).toEqual(expect.arrayContaining([a, b]));
    expect((await demo.listImages({ properties: { flavour: 'chocolate' }, tags: [tag] })).map((i) => i.id)).toEqual([
      b,
    ]);
    expect((await demo.listImages({ name: `${tag}-b` })).map((i) => i.id)).toEqual([a]);
    expect(await demo.listImages({ tags: [tag], max: 2, limit: 1 })).toHaveLength(2);
  });

  it('a missing image is glance.not_found; findImage says undefined', async () => {
    const id = randomUUID();
    const e = await engineError(demo.getImage(id));
    expect(e.info).toMatchObject({ code: 'glance.not_found', status: 404 });
    expect(e.message).toContain(id);
    expect(await demo.findImage(id)).toBeUndefined();
    expect((await engineError(demo.deleteImage(id))).code).toBe('glance.not_found');
  });

  it('deactivates and reactivates (admin), and protected images refuse deletion', async () => {
    const id = await create(admin, 'deact', { protected: true });
    await uploadImageData(admin, id, fileSource(small.path, small.size));
    await admin.deactivate(id);
    expect((await admin.getImage(id)).status).toBe('deactivated');
    await admin.reactivate(id);
    expect((await admin.getImage(id)).status).toBe('active');
    expect((await engineError(admin.deleteImage(id))).code).toBe('glance.forbidden');
  });
});

describe('data', () => {
  it('uploads a stream with Content-Length; Glance hashes match the file', async () => {
    const id = await create(demo, 'upload');
    await uploadImageData(demo, id, fileSource(small.path, small.size));
    const img = await demo.getImage(id);
    expect(img).toMatchObject({
      status: 'active',
      size: small.size,
      checksum: small.md5,
      os_hash_algo: 'sha512',
      os_hash_value: small.sha512,
    });
    expect((await demo.listImages({ os_hash_value: small.sha512 })).map((i) => i.id)).toContain(id);
    // Glance refuses a second upload into an active image.
    expect((await engineError(uploadImageData(demo, id, fileSource(small.path, small.size)))).code).toBe(
      'glance.conflict',
    );
  });

  it('streams a 256 MiB upload in flat memory', async () => {
    const big = await makeFile(join(dir, 'big.raw'), 256 * 1024 * 1024);
    const id = await create(demo, 'big');
    global.gc?.();
    const before = process.memoryUsage().rss;
    let peak = before;
    const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
    try {
      await uploadImageData(demo, id, fileSource(big.path, big.size));
    } finally {
      clearInterval(timer);
    }
    expect((await demo.getImage(id)).os_hash_value).toBe(big.sha512);
    // A buffered upload would grow by the file size; streaming stays within a few MiB of chunks.
    expect(peak - before).toBeLessThan(64 * 1024 * 1024);
    rmSync(big.path);
  });

  it('downloads with verification, resumes from a partial file, and removes a corrupt one', async () => {
    const id = await create(demo, 'download');
    await uploadImageData(demo, id, fileSource(small.path, small.size));
    const out = join(dir, 'dl.raw');
    const full = await downloadImage(demo, id, out);
    expect(full).toMatchObject({ bytes: small.size, md5: small.md5, osHashValue: small.sha512, resumedFrom: 0 });
    truncateSync(out, 2 * 1024 * 1024);
    const resumed = await downloadImage(demo, id, out, { resume: true });
    expect(resumed).toMatchObject({ bytes: small.size, md5: small.md5, resumedFrom: 2 * 1024 * 1024 });
    // A partial file that is not a prefix of the image: the result cannot verify and is removed.
    writeFileSync(out, Buffer.alloc(1024 * 1024, 0xff));
    expect((await engineError(downloadImage(demo, id, out, { resume: true }))).code).toBe('glance.checksum_mismatch');
    expect(() => statSync(out)).toThrow();
  });

  it('stages and imports with glance-direct, reporting progress to active', async () => {
    const id = await create(demo, 'direct');
    await stageImageData(demo, id, fileSource(small.path, small.size));
    expect((await demo.getImage(id)).status).toBe('uploading');
    const started = Date.now();
    await importImage(demo, id, { method: { name: 'glance-direct' } });
    const seen: WaitProgress[] = [];
    const img = await waitForImage(demo, id, {
      importStartedAt: started,
      initialDelayMs: 100,
      onProgress: (p) => seen.push(p),
      timeoutMs: 60_000,
    });
    expect(img).toMatchObject({ status: 'active', checksum: small.md5, os_hash_value: small.sha512 });
    expect(seen.at(-1)?.status).toBe('active');
  });

  it('imports with web-download from a loopback server', async () => {
    const server: Server = createServer((_req, res) => {
      res.writeHead(200, { 'content-length': String(small.size) });
      createReadStream(small.path).pipe(res);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    try {
      const id = await create(demo, 'web');
      const started = Date.now();
      await importImage(demo, id, { method: { name: 'web-download', uri: `http://127.0.0.1:${port}/small.raw` } });
      const img = await waitForImage(demo, id, { importStartedAt: started, initialDelayMs: 200, timeoutMs: 60_000 });
      expect(img.checksum).toBe(small.md5);
      // A URL that answers 404: the task fails and the wait says so with a coded error.
      const bad = await create(demo, 'web-404');
      const t = Date.now();
      await importImage(demo, bad, { method: { name: 'web-download', uri: `http://127.0.0.1:${port}/missing` } });
      server.removeAllListeners('request');
      server.on('request', (_req, res) => res.writeHead(404).end());
      const e = await engineError(
        waitForImage(demo, bad, { importStartedAt: t, initialDelayMs: 200, timeoutMs: 60_000 }),
      );
      expect(e.code).toBe('glance.import_failed');
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  it('copies an image to the second store with copy-image (admin only)', async () => {
    const id = await create(admin, 'copy');
    await uploadImageData(admin, id, fileSource(small.path, small.size));
    expect((await admin.getImage(id)).stores).toBe('fast');
    const started = Date.now();
    await importImage(admin, id, { method: { name: 'copy-image' }, stores: ['cold'], allStoresMustSucceed: true });
    const img = await waitForImage(admin, id, {
      until: inStores(['fast', 'cold']),
      importStartedAt: started,
      initialDelayMs: 200,
      timeoutMs: 60_000,
    });
    expect(img.stores?.split(',').sort()).toEqual(['cold', 'fast']);
    const asDemo = await create(demo, 'copy-demo');
    await uploadImageData(demo, asDemo, fileSource(small.path, small.size));
    expect(
      (await engineError(importImage(demo, asDemo, { method: { name: 'copy-image' }, stores: ['cold'] }))).info,
    ).toMatchObject({ code: 'glance.forbidden', status: 403 });
  });

  it('pulls an image from RegionOne into RegionTwo with glance-download', async () => {
    const source = await create(demo, 'gd-source');
    await uploadImageData(demo, source, fileSource(small.path, small.size));
    const target = await create(demoR2, 'gd-target');
    const started = Date.now();
    await importImage(demoR2, target, {
      method: { name: 'glance-download', glanceImageId: source, glanceRegion: 'RegionOne' },
    });
    const img = await waitForImage(demoR2, target, {
      importStartedAt: started,
      initialDelayMs: 200,
      timeoutMs: 60_000,
    });
    expect(img).toMatchObject({ status: 'active', checksum: small.md5, os_hash_value: small.sha512 });
  });

  it('refuses an import method the region does not offer, before calling it', async () => {
    const id = await create(demo, 'nope');
    const e = await engineError(importImage(demo, id, { method: { name: 'cinder-download' } as never }));
    expect(e.code).toBe('glance.method_not_offered');
    expect(e.info.hint).toContain('glance-direct');
  });
});
