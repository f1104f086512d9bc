/**
 * What the engine's tests share to queue work and wait for it: a file as a job's source
 * (identified as the queue records it), a raw-file job, polling until a condition holds, and
 * waiting until a job's targets have settled.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Engine } from '../../src/main/core/clouds/engine';
import { identify } from '../../src/main/core/io/source-file';
import type { Db } from '../../src/main/core/queue/database';
import type { NewJob } from '../../src/main/core/queue/job-repository';
import type { Scheduler } from '../../src/main/core/transfer/scheduler';

/** A file as a job's source: its path and the identity (size, mtime, inode, device) the runner checks. */
export async function fileJobSource(path: string): Promise<NewJob['source']> {
  const id = await identify(path);
  return { kind: 'file', path, size: id.size, mtimeMs: id.mtimeMs, ino: id.ino, dev: id.dev };
}

/** A job that uploads a raw file, named `name` (the image too), with these targets and extras. */
export async function rawFileJob(
  path: string,
  name: string,
  targets: NewJob['targets'],
  o: { tags?: string[] } & Partial<Omit<NewJob, 'source' | 'name' | 'targets'>> = {},
): Promise<NewJob> {
  const { tags, ...extra } = o;
  return {
    source: await fileJobSource(path),
    name,
    metadata: { name, disk_format: 'raw', container_format: 'bare', ...(tags !== undefined ? { tags } : {}) },
    targets,
    ...extra,
  };
}

/** Polls `check` until it holds; after `timeoutMs` fails saying what it waited for. */
export async function until(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 60_000,
  everyMs = 100,
): Promise<void> {
  const t0 = Date.now();
  while (!(await check())) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}

/**
 * Until every target of the job is done, failed or canceled, and the scheduler has nothing left
 * running (a target is failed before its image is deleted: its run is over only then).
 */
export async function settled(scheduler: Scheduler, jobId: string, timeoutMs = 90_000): Promise<void> {
  await until(
    `job ${jobId} to settle`,
    () => scheduler.repo.targetsOf(jobId).every((t) => ['done', 'failed', 'canceled'].includes(t.state)),
    timeoutMs,
    200,
  );
  await scheduler.idle(50);
}

/**
 * Deletes from the reference cloud every image the queue's targets recorded (only those the
 * engine made, with `ownedOnly`: an adopted image may belong to another test).
 */
export async function deleteQueuedImages(db: Db, engine: Engine, o: { ownedOnly?: boolean } = {}): Promise<void> {
  const rows = db
    .prepare(
      `SELECT cloud, region, remote_image_id FROM targets WHERE remote_image_id IS NOT NULL${o.ownedOnly ? ' AND image_owned = 1' : ''}`,
    )
    .all() as { cloud: string; region: string; remote_image_id: string }[];
  for (const t of rows)
    await (await engine.glance(t.cloud, t.region)).deleteImage(t.remote_image_id).catch(() => undefined);
}
