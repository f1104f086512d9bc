/**
 * Faults that end with an image only a check can catch, or a request that only a timeout can
 * end, injected by a proxy in front of the reference Glance:
 * - wrong bytes: one byte of an upload body changed on the way (same length), so Glance stores
 *   other content and makes the image active. The engine sees the mismatch, deletes that image,
 *   uploads again and ends verified; the audit log says so. Fails without `verifyImage`'s hash
 *   check (upload-runner.ts): the target ends done over an image with another sha512.
 * - a stall: the proxy stops taking the upload body for 8 s; the engine's send idle timeout
 *   (2 s here, the HttpTimeouts bodyMs of this test's engine) ends the request as `net.timeout`
 *   long before the stall would, and the retry ends verified. Fails without the send watchdog
 *   (http-client.ts): the upload just waits the stall out and no timeout is recorded.
 * - a 401 on the upload PUT itself: the engine signs in again and sends the whole file once
 *   more, into the same image. Fails when GlanceClient stops resending after a 401 (the try
 *   then fails with auth.expired and the log shows an error).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { Engine } from '../../src/main/core/clouds/engine';
import { openDatabase, type Db } from '../../src/main/core/queue/database';
import { Scheduler } from '../../src/main/core/transfer/scheduler';
import { proxiedEntry, writeCloudsYaml } from '../support/clouds-yaml';
import { startFaultProxy, type FaultProxy, type FaultRule } from '../support/fault-proxy';
import { makeFile, type TestFile } from '../support/files';
import { fileJobSource } from '../support/queue-fixture';

const cloud = inject('referenceCloud');
const MiB = 1024 * 1024;
const tag = `tfault-${Math.random().toString(36).slice(2, 8)}`;
const FILE = /^\/v2\/images\/[0-9a-f-]{36}\/file$/;
const IDLE_MS = 2000;
let dir: string;
let db: Db;
let engine: Engine;
let proxy: FaultProxy;
const rules: FaultRule[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gu-tfault-'));
  proxy = await startFaultProxy(cloud.glance.RegionOne.url, rules);
  const clouds = join(dir, 'clouds.yaml');
  writeCloudsYaml(clouds, cloud, [proxiedEntry(cloud, 'proxied', proxy.url)]);
  engine = new Engine({
    env: { OS_CLIENT_CONFIG_FILE: clouds },
    cwd: dir,
    home: dir,
    timeouts: { connectMs: 10_000, headersMs: 60_000, bodyMs: IDLE_MS },
  });
  db = openDatabase(join(dir, 'queue.sqlite3'));
});

// A rule a failed test left unused must not fall on the next test's requests.
beforeEach(() => {
  rules.length = 0;
});

afterAll(async () => {
  const g = await engine.glance('ref-demo', 'RegionOne');
  for (const img of await g.listImages({ tags: [tag] })) await g.deleteImage(img.id).catch(() => undefined);
  await proxy.close();
  await engine.close();
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

/** One job of `file` to RegionOne through the proxy, run to its end; its target and events. */
async function runOne(file: TestFile, name: string) {
  const scheduler = new Scheduler({
    db,
    engine,
    actor: 'tfault-test',
    retryPolicy: { budgetMs: 120_000, baseDelayMs: 200, maxDelayMs: 1000 },
  });
  const { targets } = scheduler.repo.createJob({
    source: await fileJobSource(file.path),
    name,
    metadata: { name, disk_format: 'raw', container_format: 'bare', tags: [tag] },
    targets: [{ cloud: 'proxied', region: 'RegionOne' }],
  });
  scheduler.start();
  await scheduler.idle();
  await scheduler.stop();
  const t = scheduler.repo.getTarget(targets[0]?.id ?? '');
  const events = scheduler.repo.events({ jobId: t.jobId });
  // What a failed assertion on the target shows: its error and the run's events.
  const story = JSON.stringify({ error: t.error, events: events.map((e) => [e.kind, e.toState, e.detail]) });
  return { t, events, story };
}

async function imagesNamed(name: string) {
  return (await (await engine.glance('ref-demo', 'RegionOne')).listImages({ tags: [tag] })).filter(
    (i) => i.name === name,
  );
}

describe('faults only a check or a timeout can catch', () => {
  it('wrong bytes stored as active: detected, that image deleted, uploaded again, verified', async () => {
    const file = await makeFile(join(dir, 'wrong.raw'), 3 * MiB + 11);
    rules.push({ method: 'PUT', path: FILE, fault: { kind: 'corrupt', atByte: 2 * MiB + 5 }, times: 1 });
    const { t, events, story } = await runOne(file, `${tag}-wrong`);
    expect(t, story).toMatchObject({ state: 'done', attempt: 2 });
    const mismatch = events.find((e) => e.kind === 'target.error');
    expect(mismatch?.detail).toMatchObject({ error: { code: 'transfer.hash_mismatch' } });
    const deleted = events.filter((e) => e.kind === 'target.image_deleted');
    expect(deleted).toHaveLength(1);
    expect(events.filter((e) => e.kind === 'target.verified')).toHaveLength(1);
    // The corrupted image is gone from Glance; the one left holds the file's bytes.
    const images = await imagesNamed(`${tag}-wrong`);
    expect(images).toEqual([
      expect.objectContaining({
        id: t.remoteImageId,
        status: 'active',
        os_hash_value: file.sha512,
        checksum: file.md5,
      }),
    ]);
    expect((deleted[0]?.detail as { imageId: string }).imageId).not.toBe(t.remoteImageId);
  }, 120_000);

  it(`an upload that stalls for 8 s is ended by the ${IDLE_MS / 1000} s send idle timeout, then sent again and verified`, async () => {
    // Larger than what loopback's socket buffers can hold, so the sender really waits.
    const file = await makeFile(join(dir, 'stall.raw'), 48 * MiB + 3);
    rules.push({ method: 'PUT', path: FILE, fault: { kind: 'stall-body', afterBytes: MiB, ms: 8000 }, times: 1 });
    const { t, events, story } = await runOne(file, `${tag}-stall`);
    expect(t, story).toMatchObject({ state: 'done', attempt: 2 });
    const error = events.find((e) => e.kind === 'target.error');
    expect(error?.detail).toMatchObject({ error: { code: 'net.timeout' } });
    expect((error?.detail as { error: { message: string } }).error.message).toMatch(
      /stalled: no byte was taken for 2 s/,
    );
    // Ended by the timeout, not by the stall's end: the failed try lasted well under 8 s.
    const tryStart = events.find((e) => e.toState === 'uploading');
    expect((error?.at ?? 0) - (tryStart?.at ?? 0)).toBeLessThan(7000);
    const images = await imagesNamed(`${tag}-stall`);
    expect(images).toEqual([expect.objectContaining({ status: 'active', os_hash_value: file.sha512 })]);
  }, 120_000);

  it('a 401 on the upload PUT: signed in again, the whole file sent once more into the same image', async () => {
    const file = await makeFile(join(dir, 'unauth.raw'), 2 * MiB + 1);
    rules.push({ method: 'PUT', path: FILE, fault: { kind: 'status', status: 401 }, times: 1 });
    const before = proxy.log.length;
    const { t, events, story } = await runOne(file, `${tag}-401`);
    expect(t, story).toMatchObject({ state: 'done', attempt: 1 });
    expect(events.filter((e) => e.kind === 'target.error')).toEqual([]);
    const puts = proxy.log.slice(before).filter((e) => e.method === 'PUT' && FILE.test(e.path));
    expect(puts.map((p) => p.status)).toEqual([401, 204]);
    expect(puts[0]?.path).toBe(puts[1]?.path); // the same image
    const images = await imagesNamed(`${tag}-401`);
    expect(images).toEqual([expect.objectContaining({ id: t.remoteImageId, os_hash_value: file.sha512 })]);
  }, 120_000);
});
