/**
 * The rows a new job's targets start as (JobRepository.createJob writes them in its transaction):
 * each with its audit event, written in the same transaction.
 */
import { randomUUID } from 'node:crypto';
import type { AuditLog } from './audit-log';
import type { Db } from './database';
import type { NewJob, NewTarget } from './job-types';

/** The image is already there: its region is a done target, the one the others pull from. */
export function insertSourceTarget(
  db: Db,
  audit: AuditLog,
  jobId: string,
  now: number,
  s: Extract<NewJob['source'], { kind: 'image' }>,
): void {
  const tid = randomUUID();
  db.prepare(
    `INSERT INTO targets (id, job_id, cloud, region, store, method, state, remote_image_id, image_owned,
                            bytes_accepted, plan_reason, created_at, updated_at)
       VALUES (?, ?, ?, ?, '', 'existing', 'done', ?, 0, ?, ?, ?, ?)`,
  ).run(tid, jobId, s.cloud, s.region, s.id, s.size, 'the image is already there', now, now);
  audit.record({
    kind: 'target.adopted_source',
    jobId,
    targetId: tid,
    fromState: null,
    toState: 'done',
    cloud: s.cloud,
    region: s.region,
    imageId: s.id,
    detail: { size: s.size, sha512: s.sha512 },
  });
}

/** A target to run, `pending`, with how it is sent (method, store, shrink) and why. */
export function insertTarget(db: Db, audit: AuditLog, jobId: string, now: number, t: NewTarget): void {
  const tid = randomUUID();
  db.prepare(
    `INSERT INTO targets (id, job_id, cloud, region, store, method, state, plan_reason, send_format, fixed_image_id,
                            created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?, ?)`,
  ).run(
    tid,
    jobId,
    t.cloud,
    t.region,
    t.store ?? '',
    t.method ?? 'direct',
    t.planReason ?? null,
    t.sendFormat ?? null,
    t.imageId ?? null,
    now,
    now,
  );
  audit.record({
    kind: 'target.created',
    jobId,
    targetId: tid,
    fromState: null,
    toState: 'pending',
    cloud: t.cloud,
    region: t.region,
    imageId: null,
    detail: {
      store: t.store ?? '',
      method: t.method ?? 'direct',
      ...(t.sendFormat ? { sendFormat: t.sendFormat } : {}),
    },
  });
}
