/**
 * A catalog's fixed image ids are the lock between machines: the first to create an image sends
 * its data, another machine waits for it to be active. One job's regions share one read of the
 * file (the fan-out), so a region that waits for another machine must let its siblings send:
 * two machines that won one region each (a race two `catalog apply` runs lose half the time)
 * would otherwise each hold back their own upload while waiting on the other's, until the send
 * idle timeout (5 min), and again at every retry. Here "the other machine" is this test: it made
 * RegionTwo's image and sends its data only once our RegionOne upload is done.
 * Fails without leaveFanOut in ensureFixedImage (transfer/image-ensure.ts): RegionOne's upload
 * gets no byte while RegionTwo waits, and the wait for RegionOne below runs out.
 * The same holds across jobs: a waiting target gives its concurrency slot back, or two machines
 * whose slots all wait on each other's images would stand still until the 30 min take-over.
 * Fails when the scheduler counts waiting targets as running (`waiting` in scheduler.ts #tick).
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { MADE_BY } from '../../src/shared/image-properties';
import { Engine } from '../../src/main/core/clouds/engine';
import { fileSource, uploadImageData } from '../../src/main/core/openstack/glance-data';
import { openDatabase, type Db } from '../../src/main/core/queue/database';
import { Scheduler } from '../../src/main/core/transfer/scheduler';
import { makeFile } from '../support/files';
import { fileJobSource, until } from '../support/queue-fixture';

const cloud = inject('referenceCloud');
const MiB = 1024 * 1024;
const tag = `fanwait-${Math.random().toString(36).slice(2, 8)}`;
let dir: string;
let db: Db;
let engine: Engine;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'gu-fanwait-'));
  db = openDatabase(join(dir, 'queue.sqlite3'));
  engine = new Engine({ env: { OS_CLIENT_CONFIG_FILE: cloud.cloudsYamlPath }, cwd: dir, home: dir });
});

afterAll(async () => {
  for (const region of ['RegionOne', 'RegionTwo']) {
    const g = await engine.glance('ref-demo', region);
    for (const img of await g.listImages({ tags: [tag] })) await g.deleteImage(img.id).catch(() => undefined);
  }
  await engine.close();
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

it('a region waiting for another machine’s image lets the job’s other regions send', async () => {
  const file = await makeFile(join(dir, 'split.raw'), 24 * MiB + 5);
  const [one, two] = [randomUUID(), randomUUID()];
  const name = `${tag}-split`;
  const metadata = { name, disk_format: 'raw', container_format: 'bare', tags: [tag] };
  // The other machine won RegionTwo: its image, queued, made by a target of its own queue.
  const otherTwo = await engine.glance('ref-demo', 'RegionTwo');
  await otherTwo.createImage({ ...metadata, id: two, properties: { [MADE_BY]: 'a-target-of-another-machine' } });

  const scheduler = new Scheduler({ db, engine, actor: 'fanwait-test', concurrency: 4 });
  try {
    const { targets } = scheduler.repo.createJob({
      source: await fileJobSource(file.path),
      name,
      metadata,
      targets: [
        { cloud: 'ref-demo', region: 'RegionOne', imageId: one },
        { cloud: 'ref-demo', region: 'RegionTwo', imageId: two },
      ],
    });
    const [t1, t2] = targets.map((t) => t.id);
    scheduler.start();
    await until(
      'RegionOne uploaded while RegionTwo waits',
      () => scheduler.repo.getTarget(t1!).state === 'done',
      60_000,
    );
    const waiting = scheduler.repo.getTarget(t2!);
    expect(waiting.state).not.toBe('done');
    const events = scheduler.repo.events({ jobId: waiting.jobId });
    expect(events.filter((e) => e.kind === 'target.image_of_another').map((e) => e.targetId)).toEqual([t2]);

    // The other machine now sends its data; our RegionTwo target sees it active and verifies it.
    await uploadImageData(otherTwo, two, fileSource(file.path, file.size));
    await until('RegionTwo verified', () => scheduler.repo.getTarget(t2!).state === 'done', 60_000);
    await scheduler.idle();
    // The two regions were one group reading the file once (the fan-out under test).
    const fanout = scheduler.repo.events({ jobId: waiting.jobId }).find((e) => e.kind === 'job.fanout');
    expect(fanout?.detail).toMatchObject({ targets: [t1, t2] });
  } finally {
    await scheduler.stop();
  }
  for (const [region, id] of [
    ['RegionOne', one],
    ['RegionTwo', two],
  ] as const) {
    const image = await (await engine.glance('ref-demo', region)).getImage(id);
    expect(image).toMatchObject({ status: 'active', os_hash_value: file.sha512 });
  }
}, 180_000);

it('a target waiting for another machine’s image gives its slot to the next job', async () => {
  const file = await makeFile(join(dir, 'slot.raw'), 8 * MiB + 1);
  const waitName = `${tag}-wait`;
  const waitId = randomUUID();
  const waitMeta = { name: waitName, disk_format: 'raw', container_format: 'bare', tags: [tag] };
  const otherTwo = await engine.glance('ref-demo', 'RegionTwo');
  await otherTwo.createImage({ ...waitMeta, id: waitId, properties: { [MADE_BY]: 'a-target-of-another-machine' } });

  const scheduler = new Scheduler({ db, engine, actor: 'fanwait-test', concurrency: 1 });
  try {
    const source = await fileJobSource(file.path);
    const waiting = scheduler.repo.createJob({
      source,
      name: waitName,
      metadata: waitMeta,
      targets: [{ cloud: 'ref-demo', region: 'RegionTwo', imageId: waitId }],
    }).targets[0]!.id;
    const nextName = `${tag}-next`;
    const next = scheduler.repo.createJob({
      source,
      name: nextName,
      metadata: { name: nextName, disk_format: 'raw', container_format: 'bare', tags: [tag] },
      targets: [{ cloud: 'ref-demo', region: 'RegionOne' }],
    }).targets[0]!.id;
    scheduler.start();
    await until(
      'the next job done while the first waits',
      () => scheduler.repo.getTarget(next).state === 'done',
      60_000,
    );
    expect(scheduler.repo.getTarget(waiting).state).not.toBe('done');
    await uploadImageData(otherTwo, waitId, fileSource(file.path, file.size));
    await until('the waiting job verified', () => scheduler.repo.getTarget(waiting).state === 'done', 60_000);
  } finally {
    await scheduler.stop();
  }
}, 180_000);
