/**
 * The audit log of the queue: every state change, decision and check, with who made it and
 * when, in the `events` table (written in the same transaction as the change it records), and
 * the questions asked of it (what a report says of a target, the error of the try before).
 */
import type { ConversionOutcome } from '../../../shared/dto';
import type { ErrorInfo } from '../../../shared/errors';
import type { Db } from './database';
import { toEvent, type EventRow } from './job-rows';
import type { EventRecord, TargetRecord } from './job-types';

export type NewEvent = Omit<EventRecord, 'id' | 'at' | 'actor' | 'detail'> & {
  detail?: Record<string, unknown> | null;
};

/**
 * An event that proves the image has the source's bytes: an equal image linked, or a check of
 * the digests. A check of an image Glance converted (`converted: true` in its detail) compared
 * the virtual size only: what Glance made has digests of its own.
 */
const EXACT = `(kind = 'target.duplicate_reused' OR (kind = 'target.verified' AND coalesce(json_extract(detail, '$.converted'), 0) = 0))`;

export class AuditLog {
  constructor(
    private readonly db: Db,
    /** Who acts: "app", "cli", "engine:<pid>"... */
    private readonly actor: string,
    private readonly now: () => number,
  ) {}

  record(e: NewEvent): void {
    this.db
      .prepare(
        `INSERT INTO events (at, actor, kind, job_id, target_id, from_state, to_state, cloud, region, image_id, detail)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        this.now(),
        this.actor,
        e.kind,
        e.jobId,
        e.targetId,
        e.fromState,
        e.toState,
        e.cloud,
        e.region,
        e.imageId,
        e.detail ? JSON.stringify(e.detail) : null,
      );
  }

  /** An event of a whole job (created, removed). */
  jobEvent(kind: string, jobId: string, detail: Record<string, unknown>): void {
    this.record({
      kind,
      jobId,
      targetId: null,
      fromState: null,
      toState: null,
      cloud: null,
      region: null,
      imageId: null,
      detail,
    });
  }

  /** Any audit event of the engine's about a target (an attempt, a retry decision, a verified hash...). */
  note(kind: string, target: TargetRecord, detail: Record<string, unknown>): void {
    this.record({
      kind,
      jobId: target.jobId,
      targetId: target.id,
      fromState: target.state,
      toState: target.state,
      cloud: target.cloud,
      region: target.region,
      imageId: target.remoteImageId,
      detail,
    });
  }

  /** The error that ended the try before this one (since the user last started it over), if any. */
  previousFailure(targetId: string): ErrorInfo | null {
    const row = this.db
      .prepare(
        `SELECT detail FROM events WHERE target_id = ? AND kind = 'target.error'
           AND id > COALESCE((SELECT MAX(id) FROM events WHERE target_id = ? AND kind = 'target.transition'
                               AND to_state = 'pending' AND from_state IN ('failed', 'canceled')), 0)
         ORDER BY id DESC LIMIT 1`,
      )
      .get(targetId, targetId) as { detail: string | null } | undefined;
    const detail = row?.detail ? (JSON.parse(row.detail) as { error?: ErrorInfo }) : undefined;
    return detail?.error ?? null;
  }

  /**
   * What a report says of a target: when its work began (first transition out of pending) and
   * ended, whether its image was verified (our check after the transfer, or the equal-hashes check
   * of an image already there), and whether it was linked to such an image rather than sent.
   */
  outcome(targetId: string): { startedAt: number | null; endedAt: number | null; verified: boolean; linked: boolean } {
    const rows = this.db
      .prepare(
        `SELECT kind, at, to_state, ${EXACT} AS exact FROM events WHERE target_id = ? AND kind IN
           ('target.transition', 'target.error', 'target.verified', 'target.duplicate_reused', 'target.adopted_source')
         ORDER BY id`,
      )
      .all(targetId) as { kind: string; at: number; to_state: string | null; exact: number }[];
    const started = rows.find((r) => r.kind === 'target.transition' && r.to_state !== 'queued');
    const done = rows.findLast((r) => r.to_state === 'done');
    return {
      startedAt: started?.at ?? null,
      endedAt: done?.at ?? null,
      verified: rows.some((r) => r.exact === 1),
      linked: rows.some((r) => r.kind === 'target.duplicate_reused'),
    };
  }

  /** The byte the target's latest try continued at (target.resumed_at_byte), if any. */
  /** The detail of the target's latest event of this kind. */
  lastDetail(targetId: string, kind: string): Record<string, unknown> | undefined {
    const row = this.db
      .prepare(`SELECT detail FROM events WHERE target_id = ? AND kind = ? ORDER BY id DESC LIMIT 1`)
      .get(targetId, kind) as { detail: string | null } | undefined;
    return row?.detail ? (JSON.parse(row.detail) as Record<string, unknown>) : undefined;
  }

  resumedAt(targetId: string): number | null {
    const offset = this.lastDetail(targetId, 'target.resumed_at_byte')?.offset;
    return typeof offset === 'number' ? offset : null;
  }

  /** What a shrinking target sent and what Glance stored (target.converted), once it is verified. */
  conversion(targetId: string): ConversionOutcome | null {
    const d = this.lastDetail(targetId, 'target.converted');
    return d !== undefined && typeof d.sentBytes === 'number' ? (d as unknown as ConversionOutcome) : null;
  }

  /**
   * The target's image was checked against the source's hashes (or linked to an equal one). An
   * image Glance converted is not: only its virtual size could be checked. Uses the job's index.
   */
  isVerified(jobId: string, targetId: string): boolean {
    return (
      this.db
        .prepare(`SELECT 1 FROM events WHERE job_id = ? AND target_id = ? AND ${EXACT} LIMIT 1`)
        .get(jobId, targetId) !== undefined
    );
  }

  /** The latest `limit` events, newest first (the app's activity view). */
  recentEvents(limit: number): EventRecord[] {
    return (this.db.prepare('SELECT * FROM events ORDER BY id DESC LIMIT ?').all(limit) as EventRow[]).map(toEvent);
  }

  events(filter: { jobId?: string; sinceId?: number } = {}): EventRecord[] {
    const where: string[] = [];
    const args: (string | number)[] = [];
    if (filter.jobId !== undefined) {
      where.push('job_id = ?');
      args.push(filter.jobId);
    }
    if (filter.sinceId !== undefined) {
      where.push('id > ?');
      args.push(filter.sinceId);
    }
    const sql = `SELECT * FROM events ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id`;
    return (this.db.prepare(sql).all(...args) as EventRow[]).map(toEvent);
  }
}
