/**
 * The relay when things go wrong, against the reference's real Swift and Glance with a loopback
 * proxy in front of Swift (and, for Glance's URL filter, one in front of Glance) that injects
 * one kind of fault per scenario. Each ends recovered (the image verified) or with its code, and
 * in every case nothing of the relay is left: no object of this data folder in the store, no
 * relay row in the queue, no image of a failed target in Glance.
 *
 * The change that makes each fail, each tried by hand once:
 * - resets and 5xx: 'objectstore.unavailable' out of the retryable codes: the 503 is final;
 * - ETag mismatch: `if (etag === md5 || attempt > 0) return md5` in sendOne: the segment is
 *   confirmed with our md5, and only the manifest check finds it (target.relay_segments_lost);
 * - a refused TempURL at import: IMPORT_ROUNDS = 1: the target fails with glance.import_failed;
 * - cleanup after a final failure: releaseLeftovers without releaseRelay: objects remain.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Engine } from '../../src/main/core/clouds/engine';
import { openDatabase, type Db } from '../../src/main/core/queue/database';
import { Settings } from '../../src/main/core/queue/settings';
import { Scheduler } from '../../src/main/core/transfer/scheduler';
import { demoEntry, writeCloudsYaml } from '../support/clouds-yaml';
import { startFaultProxy, type FaultProxy, type FaultRule } from '../support/fault-proxy';
import { makeFile, type TestFile } from '../support/files';
import { demoObjects } from '../support/object-store';
import { rawFileJob, settled } from '../support/queue-fixture';

const cloud = inject('referenceCloud');
const MiB = 1024 * 1024;
const SEGMENT_PUT = /\/seg\/\d+$/;
const MANIFEST = /\/manifest\?/;
/** Glance fetching the TempURL: no token, and no Range (our own check asks for one byte). */
const glanceFetch = (req: IncomingMessage): boolean =>
  req.headers['x-auth-token'] === undefined && req.headers.range === undefined;

let dir: string;
let db: Db;
let engine: Engine;
let scheduler: Scheduler;
let file: TestFile;
const proxies = new Map<string, FaultProxy>();
const entries: string[] = [];

/** A cloud entry whose object store (and, if given, image endpoint) is a fault proxy. */
async function faultyCloud(name: string, swiftRules: FaultRule[], glanceRules?: FaultRule[]): Promise<void> {
  const swift = await startFaultProxy(cloud.objectStore.url, swiftRules);
  proxies.set(name, swift);
  const extra = [`object_store_endpoint_override: ${swift.url}/v1/AUTH_%(project_id)s`];
  if (glanceRules !== undefined) {
    const glance = await startFaultProxy(cloud.glance.RegionOne.url, glanceRules);
    proxies.set(`${name}-glance`, glance);
    extra.push(`image_endpoint_override: ${glance.url}`);
  }
  entries.push(demoEntry(cloud, name, { extra }));
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gu-relay-faults-'));
  file = await makeFile(join(dir, 'f.raw'), 6 * MiB + 5);
  await faultyCloud('relay-resets', [
    { method: 'PUT', path: SEGMENT_PUT, fault: { kind: 'reset', afterBytes: 200 * 1024 }, times: 2, skip: 1 },
    { method: 'PUT', path: SEGMENT_PUT, fault: { kind: 'status', status: 503 }, times: 2, skip: 4 },
  ]);
  await faultyCloud('relay-corrupt', [
    { method: 'PUT', path: SEGMENT_PUT, fault: { kind: 'corrupt', atByte: 1000 }, times: 1, skip: 2 },
  ]);
  await faultyCloud('relay-refused-once', [
    { method: 'GET', path: MANIFEST, when: glanceFetch, fault: { kind: 'status', status: 401 }, times: 1 },
  ]);
  await faultyCloud('relay-refused', [
    { method: 'GET', path: MANIFEST, when: glanceFetch, fault: { kind: 'status', status: 401 }, times: 10 },
  ]);
  // A container ACL or a role that does not allow writing: Swift's 403 on the container.
  await faultyCloud('relay-forbidden', [
    { method: 'PUT', path: /\/glance-uploader-relay$/, fault: { kind: 'status', status: 403 }, times: 5 },
  ]);
  await faultyCloud('relay-quota', [
    { method: 'PUT', path: SEGMENT_PUT, fault: { kind: 'status', status: 413 }, times: 1, skip: 1 },
  ]);
  // Glance's answer when [import_filtering_opts] refuses a URL (glance/api/v2/images.py): 400,
  // the whole URI echoed, signature included.
  await faultyCloud(
    'relay-filtered',
    [],
    [
      {
        method: 'POST',
        path: /\/import$/,
        fault: {
          kind: 'status',
          status: 400,
          body: (b) =>
            JSON.stringify({
              message: `400 Bad Request\n\nURI for web-download does not pass filtering: ${(JSON.parse(b) as { method: { uri: string } }).method.uri}\n\n`,
              code: '400 Bad Request',
              title: 'Bad Request',
            }),
        },
        times: 5,
      },
    ],
  );
  const clouds = writeCloudsYaml(join(dir, 'clouds.yaml'), cloud, entries);
  db = openDatabase(join(dir, 'queue.sqlite3'));
  new Settings(db).set('relaySegmentMiB', 1);
  engine = new Engine({ env: { OS_CLIENT_CONFIG_FILE: clouds }, cwd: dir, home: dir });
  scheduler = new Scheduler({
    db,
    engine,
    actor: 'test-relay-faults',
    concurrency: 3,
    retryPolicy: { budgetMs: 60_000, baseDelayMs: 300, maxDelayMs: 1000 },
  });
  expect(scheduler.start()).toEqual({ acquired: true });
});

afterAll(async () => {
  await scheduler.stop();
  const glance = await engine.glance('ref-demo', 'RegionOne');
  for (const t of db.prepare('SELECT remote_image_id FROM targets WHERE remote_image_id IS NOT NULL').all() as {
    remote_image_id: string;
  }[])
    await glance.deleteImage(t.remote_image_id).catch(() => undefined);
  await engine.close();
  for (const p of proxies.values()) await p.close();
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

async function relay(cloudName: string): Promise<{ jobId: string; targetId: string }> {
  const { job, targets } = scheduler.repo.createJob(
    await rawFileJob(file.path, `relay-fault-${cloudName}`, [
      { cloud: cloudName, region: 'RegionOne', method: 'relay' },
    ]),
  );
  await settled(scheduler, job.id, 120_000);
  return { jobId: job.id, targetId: targets[0]?.id ?? '' };
}

/** Nothing of this data folder's relays in the store or the queue. */
async function nothingLeft(): Promise<void> {
  const install = scheduler.repo.relays.installId();
  expect((await demoObjects(cloud)).filter((o) => o.includes(`/${install}/`))).toEqual([]);
  expect(db.prepare('SELECT COUNT(*) AS n FROM relays').get()).toEqual({ n: 0 });
}

async function expectVerified(targetId: string): Promise<void> {
  const t = scheduler.repo.getTarget(targetId);
  expect(t.state, JSON.stringify(t.error)).toBe('done');
  const image = await (await engine.glance('ref-demo', 'RegionOne')).getImage(t.remoteImageId ?? '');
  expect(image).toMatchObject({ status: 'active', size: file.size, checksum: file.md5, os_hash_value: file.sha512 });
}

async function expectFailedClean(targetId: string, code: string): Promise<string> {
  const t = scheduler.repo.getTarget(targetId);
  expect(t.state).toBe('failed');
  expect(t.error?.code).toBe(code);
  const made = scheduler.repo
    .events({ jobId: t.jobId })
    .map((e) => (e.detail as { imageId?: string } | null)?.imageId)
    .find((id) => id !== undefined);
  expect(made).toBeDefined();
  expect(await (await engine.glance('ref-demo', 'RegionOne')).findImage(made ?? '')).toBeUndefined();
  await nothingLeft();
  return t.error?.message ?? '';
}

const log = (name: string): FaultProxy['log'] => proxies.get(name)?.log ?? [];

describe('relay faults', () => {
  it('resets and 5xx on segments are retried: verified, at most one segment more per fault', async () => {
    const { targetId } = await relay('relay-resets');
    await expectVerified(targetId);
    const puts = log('relay-resets').filter((e) => e.method === 'PUT' && SEGMENT_PUT.test(e.path));
    expect(puts.filter((e) => e.fault !== undefined)).toHaveLength(4);
    expect(puts.reduce((n, e) => n + e.bytesIn, 0)).toBeLessThanOrEqual(file.size + 4 * MiB);
    await nothingLeft();
  });

  it('a segment stored with other bytes (its ETag is not our md5) is sent again', async () => {
    const { jobId, targetId } = await relay('relay-corrupt');
    await expectVerified(targetId);
    // Caught at the segment itself, not later by Swift's check of the manifest (which would
    // also send it again: the second line of defence).
    expect(scheduler.repo.events({ jobId }).map((e) => e.kind)).not.toContain('target.relay_segments_lost');
    const puts = log('relay-corrupt').filter((e) => e.method === 'PUT' && SEGMENT_PUT.test(e.path));
    const corrupted = puts.find((e) => e.fault === 'corrupt');
    expect(puts.filter((e) => e.path === corrupted?.path)).toHaveLength(2);
    await nothingLeft();
  });

  it('an import that fails (Glance refused by the TempURL) is asked again with a new URL', async () => {
    const { jobId, targetId } = await relay('relay-refused-once');
    await expectVerified(targetId);
    const fetches = log('relay-refused-once').filter((e) => e.method === 'GET' && MANIFEST.test(e.path) && !e.token);
    const byGlance = fetches.filter((e) => e.status !== 206);
    expect(byGlance.map((e) => e.status)).toEqual([401, 200]);
    expect(new Set(byGlance.map((e) => e.path)).size).toBe(2); // a new URL for the second import
    expect(scheduler.repo.events({ jobId }).some((e) => e.kind === 'target.relay_import_retried')).toBe(true);
    await nothingLeft();
  });

  it('an import that keeps failing ends with glance.import_failed; image and objects deleted', async () => {
    const { targetId } = await relay('relay-refused');
    await expectFailedClean(targetId, 'glance.import_failed');
  });

  it('an object store over quota (413) ends with objectstore.over_quota; image and objects deleted', async () => {
    const { targetId } = await relay('relay-quota');
    await expectFailedClean(targetId, 'objectstore.over_quota');
  });

  it('an object store that refuses our container (403) ends with objectstore.forbidden; image deleted', async () => {
    const { targetId } = await relay('relay-forbidden');
    await expectFailedClean(targetId, 'objectstore.forbidden');
  });

  it("Glance's URL filter ends with glance.url_filtered, the signature hidden; image and objects deleted", async () => {
    const { targetId } = await relay('relay-filtered');
    const message = await expectFailedClean(targetId, 'glance.url_filtered');
    expect(message).toContain('does not pass filtering');
    expect(message).toContain('temp_url_sig=…');
    expect(message).not.toMatch(/temp_url_sig=[0-9a-f]{8}/);
  });
});
