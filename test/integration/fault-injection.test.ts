/**
 * Faults between the engine and Glance (a proxy on loopback): a create whose answer is lost
 * after Glance made the image, resets in mid-upload, 500 and 503 answers, a stall, a 401. Every
 * job must end active and verified, with bounded retries that the attempts log shows, and
 * without a duplicate image.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Engine } from '../../src/main/core/clouds/engine';
import { openDatabase, type Db } from '../../src/main/core/queue/database';
import { Scheduler } from '../../src/main/core/transfer/scheduler';
import { proxiedEntry, writeCloudsYaml } from '../support/clouds-yaml';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy';
import { makeFile, type TestFile } from '../support/files';
import { fileJobSource } from '../support/queue-fixture';

const cloud = inject('referenceCloud');
const MiB = 1024 * 1024;
const tag = `fault-${Math.random().toString(36).slice(2, 8)}`;
let dir: string;
let db: Db;
let engine: Engine;
let proxy: FaultProxy;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gu-fault-'));
  const imagePath = /^\/v2\/images\/[0-9a-f-]{36}$/;
  const filePath = /^\/v2\/images\/[0-9a-f-]{36}\/file$/;
  proxy = await startFaultProxy(cloud.glance.RegionOne.url, [
    // Glance creates the first image, but its answer is lost: the retried create must not duplicate it.
    {
      method: 'POST',
      path: /^\/v2\/images$/,
      fault: { kind: 'status', status: 503, after: 'after-forward' },
      times: 1,
    },
    { method: 'PUT', path: filePath, fault: { kind: 'reset', afterBytes: MiB }, times: 2 },
    { method: 'PUT', path: filePath, fault: { kind: 'status', status: 500 }, times: 1, skip: 2 },
    { method: 'PUT', path: filePath, fault: { kind: 'stall', ms: 1500 }, times: 1, skip: 3 },
    { method: 'GET', path: imagePath, fault: { kind: 'status', status: 401 }, times: 1 },
    { method: 'GET', path: imagePath, fault: { kind: 'status', status: 502 }, times: 1, skip: 2 },
  ]);
  const clouds = join(dir, 'clouds.yaml');
  writeCloudsYaml(clouds, cloud, [proxiedEntry(cloud, 'faulty', proxy.url)]);
  engine = new Engine({ env: { OS_CLIENT_CONFIG_FILE: clouds }, cwd: dir, home: dir });
  db = openDatabase(join(dir, 'queue.sqlite3'));
});

afterAll(async () => {
  const g = await engine.glance('ref-demo', 'RegionOne');
  for (const img of await g.listImages({ tags: [tag] })) await g.deleteImage(img.id).catch(() => undefined);
  await proxy.close();
  await engine.close();
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('fault injection', () => {
  it('completes every job through resets, 5xx, a lost create answer, a stall and a 401, with bounded retries', async () => {
    const scheduler = new Scheduler({
      db,
      engine,
      actor: 'fault-test',
      concurrency: 2,
      retryPolicy: { budgetMs: 60_000, baseDelayMs: 200, maxDelayMs: 1000 },
    });
    const files: TestFile[] = [];
    for (let i = 0; i < 4; i++) {
      const f = await makeFile(join(dir, `f${i}.raw`), 2 * MiB + i * MiB);
      files.push(f);
      scheduler.repo.createJob({
        source: await fileJobSource(f.path),
        name: `${tag}-${i}`,
        metadata: { name: `${tag}-${i}`, disk_format: 'raw', container_format: 'bare', tags: [tag] },
        targets: [{ cloud: 'faulty', region: 'RegionOne' }],
      });
    }
    scheduler.start();
    await scheduler.idle();
    await scheduler.stop();

    const repo = scheduler.repo;
    const targets = repo.listJobs().flatMap((j) => repo.targetsOf(j.id));
    expect(targets.map((t) => t.state)).toEqual(['done', 'done', 'done', 'done']);
    for (const t of targets) expect(t.attempt).toBeLessThanOrEqual(6);
    // Every fault fired, and the attempts log shows the retries with their reasons.
    expect(
      proxy.log
        .filter((l) => l.fault !== undefined)
        .map((l) => l.fault)
        .sort(),
    ).toEqual(['reset', 'reset', 'stall', 'status', 'status', 'status', 'status']);
    const errors = repo
      .events()
      .filter((e) => e.kind === 'target.error')
      .map((e) => (e.detail as { error?: { code: string } }).error?.code);
    expect(errors).toEqual(expect.arrayContaining(['glance.unavailable', 'net.unreachable', 'glance.http']));
    expect(errors.every((c) => c !== undefined)).toBe(true);
    // The image made before the lost answer was reused: exactly one image per job, all verified.
    const images = await (await engine.glance('ref-demo', 'RegionOne')).listImages({ tags: [tag] });
    expect(images).toHaveLength(4);
    expect(new Set(images.map((i) => i.id))).toEqual(new Set(targets.map((t) => t.remoteImageId)));
    for (const img of images) {
      const f = files[Number(img.name?.split('-').at(-1))];
      expect(img).toMatchObject({ status: 'active', os_hash_value: f?.sha512, checksum: f?.md5 });
    }
  });
});
