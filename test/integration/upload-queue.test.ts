/**
 * The queue end to end against the reference Glance: files of varied sizes to both regions, all
 * verified; pause and resume into the same image; cancel deletes the image; a file that changes
 * mid-upload fails and leaves nothing; a second engine on the same database only enqueues.
 */
import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Engine } from '../../src/main/core/clouds/engine';
import { openDatabase, type Db } from '../../src/main/core/queue/database';
import type { JobUpdate } from '../../src/main/core/queue/job-events';
import type { NewJob, TargetRecord } from '../../src/main/core/queue/job-repository';
import { Scheduler } from '../../src/main/core/transfer/scheduler';
import { makeQcow2 } from '../support/disk-fixtures';
import { hashFile, makeFile, type TestFile } from '../support/files';
import { deleteQueuedImages, fileJobSource, until } from '../support/queue-fixture';

const cloud = inject('referenceCloud');
const MiB = 1024 * 1024;
let dir: string;
let db: Db;
let engine: Engine;
let scheduler: Scheduler;
const updates: JobUpdate[] = [];

async function jobFor(
  file: TestFile,
  name: string,
  regions: { cloud: string; region: string }[],
  extra: Partial<NewJob> = {},
): Promise<NewJob> {
  return {
    source: await fileJobSource(file.path),
    name,
    metadata: { name, disk_format: 'raw', container_format: 'bare', properties: undefined },
    targets: regions,
    ...extra,
  };
}

const both = [
  { cloud: 'ref-demo', region: 'RegionOne' },
  { cloud: 'ref-demo-r2', region: 'RegionTwo' },
];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'gu-queue-'));
  db = openDatabase(join(dir, 'queue.sqlite3'));
  engine = new Engine({ env: { OS_CLIENT_CONFIG_FILE: cloud.cloudsYamlPath }, cwd: dir, home: dir });
  scheduler = new Scheduler({
    db,
    engine,
    actor: 'test-engine',
    concurrency: 3,
    perRegion: 2,
    onJobUpdated: (u) => updates.push(u),
    retryPolicy: { budgetMs: 60_000, baseDelayMs: 500, maxDelayMs: 2000 },
  });
  expect(scheduler.start()).toEqual({ acquired: true });
});

afterAll(async () => {
  await scheduler.stop();
  await deleteQueuedImages(db, engine);
  await engine.close();
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('upload queue', () => {
  it('uploads files of varied sizes to both regions, every image verified', async () => {
    const sizes = [0, 1, MiB + 1, 5 * MiB, 20 * MiB, 48 * MiB];
    const jobs = [];
    for (const [i, size] of sizes.entries()) {
      const f = await makeFile(join(dir, `f${i}.raw`), size);
      jobs.push({ file: f, ...scheduler.repo.createJob(await jobFor(f, `queue-${i}-${size}`, both)) });
    }
    await scheduler.idle();
    for (const { file, job } of jobs) {
      expect(scheduler.repo.getJob(job.id)).toMatchObject({ md5: file.md5, sha512: file.sha512 });
      for (const t of scheduler.repo.targetsOf(job.id)) {
        expect(t).toMatchObject({ state: 'done', bytesAccepted: file.size, error: null });
        const img = await (await engine.glance(t.cloud, t.region)).getImage(t.remoteImageId ?? '');
        expect(img).toMatchObject({
          status: 'active',
          size: file.size,
          checksum: file.md5,
          os_hash_value: file.sha512,
          disk_format: 'raw',
        });
      }
      const kinds = scheduler.repo.events({ jobId: job.id }).map((e) => e.kind);
      expect(kinds.filter((k) => k === 'target.verified')).toHaveLength(2);
      // Snapshots: sequence numbers rise, the last one shows every target done.
      const mine = updates.filter((u) => u.jobId === job.id);
      expect(mine.map((u) => u.seq)).toEqual(mine.map((_, i) => i + 1));
      expect(mine.at(-1)?.targets.map((t) => t.state)).toEqual(['done', 'done']);
    }
  });

  it('reads the file once for both regions (fan-out), each image verified', async () => {
    const f = await makeFile(join(dir, 'fan.raw'), 40 * MiB);
    const { job } = scheduler.repo.createJob(await jobFor(f, 'queue-fanout', both));
    await until('every target done', () => scheduler.repo.targetsOf(job.id).every((t) => t.state === 'done'), 90_000);
    const fan = scheduler.repo.events({ jobId: job.id }).filter((e) => e.kind === 'job.fanout');
    expect(fan).toHaveLength(1);
    expect(fan[0]?.detail).toMatchObject({ bytesRead: f.size, size: f.size, complete: true });
    expect((fan[0]?.detail as { targets: string[] }).targets).toHaveLength(2);
    for (const t of scheduler.repo.targetsOf(job.id)) {
      const img = await (await engine.glance(t.cloud, t.region)).getImage(t.remoteImageId ?? '');
      expect(img).toMatchObject({ status: 'active', os_hash_value: f.sha512, checksum: f.md5 });
    }
  });

  it('stages and imports with glance-direct in both regions, verified like a direct upload', async () => {
    const f = await makeFile(join(dir, 'direct-import.raw'), 12 * MiB);
    const { job } = scheduler.repo.createJob(
      await jobFor(
        f,
        'queue-glance-direct',
        both.map((b) => ({ ...b, method: 'glance-direct' })),
      ),
    );
    await until(
      'the job settled',
      () => scheduler.repo.targetsOf(job.id).every((t) => t.state === 'done' || t.state === 'failed'),
      90_000,
    );
    for (const t of scheduler.repo.targetsOf(job.id)) {
      expect(t).toMatchObject({ state: 'done', method: 'glance-direct', error: null });
      const trail = scheduler.repo
        .events({ jobId: job.id })
        .filter((e) => e.targetId === t.id && e.kind === 'target.transition')
        .map((e) => e.toState);
      expect(trail).toEqual(['inspecting', 'creating', 'uploading', 'importing', 'verifying', 'done']);
      const img = await (await engine.glance(t.cloud, t.region)).getImage(t.remoteImageId ?? '');
      expect(img).toMatchObject({ status: 'active', os_hash_value: f.sha512, checksum: f.md5 });
    }
  });

  it('with reuse, adopts an image that already holds the same bytes instead of uploading, and marks it not ours', async () => {
    const f = await makeFile(join(dir, 'dup.raw'), 6 * MiB);
    const first = scheduler.repo.createJob(await jobFor(f, 'queue-dup-original', [both[0] as (typeof both)[0]]));
    await until('the first job done', () => scheduler.repo.targetsOf(first.job.id).every((t) => t.state === 'done'));
    const original = scheduler.repo.targetsOf(first.job.id)[0]?.remoteImageId;
    const again = scheduler.repo.createJob({
      ...(await jobFor(f, 'queue-dup-again', [both[0] as (typeof both)[0]])),
      onDuplicate: 'reuse',
    });
    await until('the second job settled', () =>
      scheduler.repo.targetsOf(again.job.id).every((t) => t.state === 'done' || t.state === 'failed'),
    );
    const t = scheduler.repo.targetsOf(again.job.id)[0];
    expect(t).toMatchObject({ state: 'done', remoteImageId: original, imageOwned: false, bytesAccepted: f.size });
    const kinds = scheduler.repo.events({ jobId: again.job.id }).map((e) => e.kind);
    expect(kinds).toContain('target.duplicate_reused');
    expect(kinds).toContain('target.image_adopted');
    expect(kinds).not.toContain('target.image'); // no image of our own was created
    expect(await (await engine.glance('ref-demo', 'RegionOne')).listImages({ name: 'queue-dup-again' })).toEqual([]);
  });

  it('pauses at once and resumes into the same image, sending the file again from byte 0', async () => {
    const f = await makeFile(join(dir, 'pause.raw'), 32 * MiB);
    const { targets } = scheduler.repo.createJob(
      await jobFor(f, 'queue-pause', [both[0] as (typeof both)[0]], { bwlimit: 8 * MiB }),
    );
    const id = (targets[0] as TargetRecord).id;
    await until(
      'the coalesced updates',
      () =>
        updates.filter((u) =>
          u.targets.some((t) => t.id === id && t.state === 'uploading' && t.bytesAccepted > 2 * MiB),
        ).length > 0,
    );
    const imageId = scheduler.repo.getTarget(id).remoteImageId;
    scheduler.pause(id);
    await until('the target paused', () => scheduler.repo.getTarget(id).state === 'paused');
    expect(scheduler.repo.getTarget(id)).toMatchObject({
      state: 'paused',
      pausedFrom: 'uploading',
      remoteImageId: imageId,
    });
    scheduler.resume(id);
    await until('the target done', () => scheduler.repo.getTarget(id).state === 'done', 90_000);
    const done = scheduler.repo.getTarget(id);
    expect(done.remoteImageId).toBe(imageId);
    const img = await (await engine.glance('ref-demo', 'RegionOne')).getImage(imageId ?? '');
    expect(img).toMatchObject({ status: 'active', os_hash_value: f.sha512 });
    // Glance is not resumable: the resume sent the file again from byte 0 (no resumed_at_byte).
    const kinds = scheduler.repo.events({ jobId: done.jobId }).map((e) => e.kind);
    expect(kinds).toContain('target.resume');
    expect(kinds).not.toContain('target.resumed_at_byte');
  });

  it('cancel stops the upload and deletes the image it made', async () => {
    const f = await makeFile(join(dir, 'cancel.raw'), 32 * MiB);
    const { targets } = scheduler.repo.createJob(
      await jobFor(f, 'queue-cancel', [both[1] as (typeof both)[0]], { bwlimit: 4 * MiB }),
    );
    const id = (targets[0] as TargetRecord).id;
    await until('the target uploading', () => scheduler.repo.getTarget(id).state === 'uploading');
    const imageId = scheduler.repo.getTarget(id).remoteImageId ?? '';
    await scheduler.cancel(id);
    await until(
      'canceled, its image deleted',
      () => scheduler.repo.getTarget(id).state === 'canceled' && scheduler.repo.getTarget(id).remoteImageId === null,
    );
    const glance = await engine.glance('ref-demo-r2', 'RegionTwo');
    expect(await glance.findImage(imageId)).toBeUndefined();
  });

  it('a file changed during its upload fails with source.changed and leaves no image', async () => {
    const f = await makeFile(join(dir, 'changing.raw'), 16 * MiB);
    const { targets } = scheduler.repo.createJob(
      await jobFor(f, 'queue-changing', [both[0] as (typeof both)[0]], { bwlimit: 8 * MiB }),
    );
    const id = (targets[0] as TargetRecord).id;
    await until('the target uploading', () => scheduler.repo.getTarget(id).state === 'uploading');
    const imageId = scheduler.repo.getTarget(id).remoteImageId ?? '';
    appendFileSync(f.path, 'tampered');
    await until('the target settled', () => ['failed', 'done'].includes(scheduler.repo.getTarget(id).state), 60_000);
    expect(scheduler.repo.getTarget(id)).toMatchObject({ state: 'failed', error: { code: 'source.changed' } });
    await until('its image deleted', () => scheduler.repo.getTarget(id).remoteImageId === null);
    expect(await (await engine.glance('ref-demo', 'RegionOne')).findImage(imageId)).toBeUndefined();
  });

  it('inspects before sending: an unsafe image or a wrong declared format fails at once, with nothing created', async () => {
    makeQcow2(join(dir, 'base.qcow2'), '8M', 1);
    execFileSync('qemu-img', ['create', '-f', 'qcow2', '-b', 'base.qcow2', '-F', 'qcow2', 'overlay.qcow2'], {
      cwd: dir,
    });
    const overlay = { path: join(dir, 'overlay.qcow2'), ...(await hashFile(join(dir, 'overlay.qcow2'))) };
    const noise = await makeFile(join(dir, 'noise.bin'), MiB);
    const asQcow2 = async (f: TestFile, name: string, extra: Partial<NewJob> = {}): Promise<NewJob> => {
      const j = await jobFor(f, name, [both[0] ?? { cloud: 'ref-demo', region: 'RegionOne' }], extra);
      return { ...j, metadata: { ...j.metadata, disk_format: 'qcow2' } };
    };
    const unsafe = scheduler.repo.createJob(await asQcow2(overlay, 'inspect-overlay'));
    const wrong = scheduler.repo.createJob(await asQcow2(noise, 'inspect-noise'));
    const forced = scheduler.repo.createJob(await asQcow2(noise, 'inspect-forced', { allowFormatMismatch: true }));
    // Metadata left empty is filled from the content when the image is created.
    const base = { path: join(dir, 'base.qcow2'), ...(await hashFile(join(dir, 'base.qcow2'))) };
    const bare = await jobFor(base, 'inspect-fill', [both[0] ?? { cloud: 'ref-demo', region: 'RegionOne' }]);
    const filled = scheduler.repo.createJob({ ...bare, metadata: { name: 'inspect-fill' } });
    await until('the four jobs settled', () =>
      [unsafe, wrong, forced, filled].every((j) =>
        ['done', 'failed'].includes(scheduler.repo.targetsOf(j.job.id)[0]?.state ?? ''),
      ),
    );
    for (const [j, code] of [
      [unsafe, 'inspect.backing_file'],
      [wrong, 'inspect.format_mismatch'],
    ] as const) {
      const t = scheduler.repo.targetsOf(j.job.id)[0];
      expect(t).toMatchObject({ state: 'failed', attempt: 1, remoteImageId: null });
      expect(t?.error?.code).toBe(code);
      const kinds = scheduler.repo.events({ jobId: j.job.id }).map((e) => e.kind);
      expect(kinds).toContain('target.inspected');
      expect(kinds).not.toContain('target.image'); // no image was ever created
    }
    // Told to, it goes as declared: Glance stores the bytes under qcow2.
    const t = scheduler.repo.targetsOf(forced.job.id)[0];
    expect(t?.state).toBe('done');
    const img = await (await engine.glance(t?.cloud ?? '', t?.region ?? '')).getImage(t?.remoteImageId ?? '');
    expect(img).toMatchObject({ disk_format: 'qcow2', os_hash_value: noise.sha512 });
    const inspected = scheduler.repo.events({ jobId: forced.job.id }).find((e) => e.kind === 'target.inspected');
    expect(inspected?.detail).toMatchObject({ format: 'raw', declared: 'qcow2' });
    const ft = scheduler.repo.targetsOf(filled.job.id)[0];
    expect(ft?.state).toBe('done');
    const fimg = await (await engine.glance(ft?.cloud ?? '', ft?.region ?? '')).getImage(ft?.remoteImageId ?? '');
    expect(fimg).toMatchObject({ disk_format: 'qcow2', container_format: 'bare', min_disk: 1, virtual_size: 8 * MiB });
  });

  it('a second engine on the same database does not run jobs: it sees the holder', () => {
    const other = openDatabase(join(dir, 'queue.sqlite3'));
    try {
      const second = new Scheduler({ db: other, engine, actor: 'cli-second' });
      const got = second.start();
      expect(got.acquired).toBe(false);
      if (!got.acquired) expect(got.current.holder).toBe('test-engine');
      expect(second.running).toBe(false);
    } finally {
      other.close();
    }
  });
});
