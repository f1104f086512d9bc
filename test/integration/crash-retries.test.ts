/**
 * A crash is not a failure: a target whose engine stops in the middle of a try 30 times, and
 * then meets a transient 503 on the try after, still ends done and verified, on attempt 2, with
 * the 30 interruptions logged apart from the one error. Before, each recovery was written as a
 * retry and counted against a small maximum, so the 503 ended the job (`glance.unavailable`).
 *
 * Fails when: a recovery counts as a new attempt (job-repository's `continues` removed: attempt
 * 32), a recovery is logged as an error, or a 503 is taken as final.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Engine } from '../../src/main/core/clouds/engine';
import { openDatabase, type Db } from '../../src/main/core/queue/database';
import { RUNNING_STATES } from '../../src/main/core/queue/target-state';
import { Scheduler } from '../../src/main/core/transfer/scheduler';
import { proxiedEntry, writeCloudsYaml } from '../support/clouds-yaml';
import { startFaultProxy, type FaultProxy, type FaultRule } from '../support/fault-proxy';
import { makeFile } from '../support/files';
import { seededRandom } from '../support/cli-process';
import { fileJobSource } from '../support/queue-fixture';

const cloud = inject('referenceCloud');
const MiB = 1024 * 1024;
const tag = `crash-${Math.random().toString(36).slice(2, 8)}`;
let dir: string;
let db: Db;
let engine: Engine;
let proxy: FaultProxy;
const rules: FaultRule[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gu-crash-'));
  proxy = await startFaultProxy(cloud.glance.RegionOne.url, rules);
  const clouds = join(dir, 'clouds.yaml');
  writeCloudsYaml(clouds, cloud, [proxiedEntry(cloud, 'proxied', proxy.url)]);
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

const scheduler = (): Scheduler =>
  new Scheduler({
    db,
    engine,
    actor: 'crash-test',
    bwlimit: 4 * MiB, // a try lasts about two seconds: the stops land inside it
    retryPolicy: { budgetMs: 3600_000, baseDelayMs: 200, maxDelayMs: 1000 },
  });

describe('crashes never use up a target', () => {
  it('survives 30 stops in the middle of its try, then a transient 503, and ends verified on attempt 2', async () => {
    const random = seededRandom(17);
    const file = await makeFile(join(dir, 'c.raw'), 8 * MiB + 3);
    const first = scheduler();
    const { targets } = first.repo.createJob({
      source: await fileJobSource(file.path),
      name: tag,
      metadata: { name: tag, disk_format: 'raw', container_format: 'bare', tags: [tag] },
      targets: [{ cloud: 'proxied', region: 'RegionOne' }],
    });
    const targetId = targets[0]?.id ?? '';
    const state = (): string => first.repo.getTarget(targetId).state;

    let stops = 0;
    while (stops < 30) {
      const s = scheduler();
      expect(s.start()).toEqual({ acquired: true });
      // The try is under way (a working phase), then a stop at a random moment within it.
      const t0 = Date.now();
      while (!(RUNNING_STATES as readonly string[]).includes(state()) && Date.now() - t0 < 30_000) await sleep(20);
      await sleep(Math.floor(random() * 600));
      expect(state()).not.toBe('done'); // 8 MiB at 4 MiB/s cannot finish in 0.6 s
      await s.stop(); // what a crash leaves: the target in a working phase, for the next engine
      stops++;
    }
    expect(first.repo.getTarget(targetId).attempt).toBe(1);

    // The next try meets a 503 on its upload: transient, so retried, and the one after succeeds.
    rules.push({
      method: 'PUT',
      path: /^\/v2\/images\/[0-9a-f-]{36}\/file$/,
      fault: { kind: 'status', status: 503 },
      times: 1,
    });
    const last = scheduler();
    last.start();
    await last.idle();
    await last.stop();

    const t = last.repo.getTarget(targetId);
    expect(t).toMatchObject({ state: 'done', attempt: 2, error: null });
    expect(proxy.log.filter((e) => e.fault === 'status' && e.status === 503)).toHaveLength(1);
    const events = last.repo.events({ jobId: t.jobId });
    expect(events.filter((e) => e.kind === 'target.interrupted')).toHaveLength(30);
    const errors = events.filter((e) => e.kind === 'target.error');
    expect(errors).toHaveLength(1);
    expect(errors[0]?.detail).toMatchObject({ attempt: 1, error: { code: 'glance.unavailable' } });
    expect(events.filter((e) => e.kind === 'target.verified')).toHaveLength(1);
    // One image in Glance, the file's bytes.
    const images = await (await engine.glance('ref-demo', 'RegionOne')).listImages({ tags: [tag] });
    expect(images).toEqual([
      expect.objectContaining({ id: t.remoteImageId, status: 'active', os_hash_value: file.sha512 }),
    ]);
  }, 300_000);
});
