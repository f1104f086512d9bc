/**
 * Jobs and their targets in the queue database. Every state change is validated against the
 * state machine and written, with its audit event, in one transaction BEFORE the work it
 * starts; the remote image id is written before the first byte is sent, so that after a crash
 * the engine can re-attach to the image, re-upload into it, or delete it.
 */
import type { ActivityEvent } from '../../../shared/dto';
import { randomUUID } from 'node:crypto';
import type { ErrorInfo } from '../../../shared/errors';
import { EngineError } from '../io/errors';
import type { Db } from './database';
import { validateTargets } from './target-methods';
import { canTransition, isTerminal, type TargetState } from './target-state';

export interface NewTarget {
  cloud: string;
  region: string;
  store?: string;
  method?: string;
  /** Why the planner chose this method (shown with the target). */
  planReason?: string;
}

/** Where a replicate job's image already is. */
export interface SourceImage {
  cloud: string;
  region: string;
  id: string;
}

export interface NewJob {
  source:
    | { kind: 'file'; path: string; size: number; mtimeMs: number; ino: number; dev: number }
    /**
     * An image of the local server (sync): its data file, and the digests the server computed
     * when it was staged, which the bytes read now must still have.
     */
    | {
        kind: 'staged';
        imageId: string;
        path: string;
        size: number;
        mtimeMs: number;
        ino: number;
        dev: number;
        md5: string;
        sha512: string;
      }
    /**
     * An image already in a cloud (replicate): other regions pull it (glance-download). The job
     * gets a target for the source region that is done from the start, with that image (adopted:
     * never deleted by us).
     */
    | (SourceImage & { kind: 'image'; size: number; md5: string; sha512: string })
    /** Glance fetches it (web-download); size and digests, when given, are what the result must have. */
    | { kind: 'url'; url: string; size?: number; sha512?: string; md5?: string };
  name: string;
  metadata?: Record<string, unknown>;
  targets: NewTarget[];
  priority?: number;
  bwlimit?: number;
  /** 'reuse': adopt an active image with the same sha512 in a target instead of uploading. */
  onDuplicate?: 'upload' | 'reuse';
  /** What inspection found when the job was queued (kept for display and the audit log). */
  inspection?: Record<string, unknown>;
  /** Send it under its declared disk_format even where the content says otherwise. */
  allowFormatMismatch?: boolean;
  /** Sync: delete the staged image once every target is verified. */
  removeStagedAfter?: boolean;
  /** Create every target's image with this id (one id in every region), instead of Glance's. */
  sameImageId?: string;
}

export interface JobRecord {
  id: string;
  createdAt: number;
  updatedAt: number;
  sourceKind: 'file' | 'staged' | 'url' | 'image';
  sourceImage: SourceImage | null;
  sourcePath: string | null;
  sourceUrl: string | null;
  sourceSize: number | null;
  sourceMtimeMs: number | null;
  sourceIno: number | null;
  sourceDev: number | null;
  stagedImageId: string | null;
  name: string;
  metadata: Record<string, unknown>;
  priority: number;
  position: number;
  md5: string | null;
  sha512: string | null;
  bwlimit: number | null;
  onDuplicate: 'upload' | 'reuse';
  inspection: Record<string, unknown> | null;
  allowFormatMismatch: boolean;
  removeStagedAfter: boolean;
  sameImageId: string | null;
}

export interface TargetRecord {
  id: string;
  jobId: string;
  cloud: string;
  region: string;
  store: string;
  method: string;
  state: TargetState;
  pausedFrom: TargetState | null;
  remoteImageId: string | null;
  /** False for an image we adopted (duplicate check): never deleted by us. */
  imageOwned: boolean;
  /**
   * Tries made: a try that was interrupted without failing (a crash, a kill, a pause, a lost
   * lease) is continued by the next start, not counted again.
   */
  attempt: number;
  nextAttemptAt: number | null;
  bytesAccepted: number;
  error: ErrorInfo | null;
  planReason: string | null;
  /** The last try was interrupted without failing: the next start continues it. */
  interrupted: boolean;
  /** Start of the current run of transient failures (the retry budget's clock), or null. */
  failingSince: number | null;
  createdAt: number;
  updatedAt: number;
}

/** One audit event: the same shape the app's activity view receives. */
export type EventRecord = ActivityEvent;

interface JobRow {
  id: string;
  created_at: number;
  updated_at: number;
  source_kind: 'file' | 'staged' | 'url' | 'image';
  source_image: string | null;
  image_id: string | null;
  source_path: string | null;
  source_url: string | null;
  source_size: number | null;
  source_mtime_ms: number | null;
  source_ino: number | null;
  source_dev: number | null;
  staged_image_id: string | null;
  name: string;
  metadata: string;
  priority: number;
  position: number;
  md5: string | null;
  sha512: string | null;
  bwlimit: number | null;
  on_duplicate: 'upload' | 'reuse';
  inspection: string | null;
  allow_format_mismatch: number;
  remove_staged_after: number;
}

interface TargetRow {
  id: string;
  job_id: string;
  cloud: string;
  region: string;
  store: string;
  method: string;
  state: TargetState;
  paused_from: TargetState | null;
  remote_image_id: string | null;
  image_owned: number;
  attempt: number;
  next_attempt_at: number | null;
  bytes_accepted: number;
  error_code: string | null;
  error_message: string | null;
  error_hint: string | null;
  plan_reason: string | null;
  interrupted: number;
  failing_since: number | null;
  created_at: number;
  updated_at: number;
}

interface EventRow {
  id: number;
  at: number;
  actor: string;
  kind: string;
  job_id: string | null;
  target_id: string | null;
  from_state: string | null;
  to_state: string | null;
  cloud: string | null;
  region: string | null;
  image_id: string | null;
  detail: string | null;
}

function toJob(r: JobRow): JobRecord {
  return {
    id: r.id,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    sourceKind: r.source_kind,
    sourceImage: r.source_image === null ? null : (JSON.parse(r.source_image) as SourceImage),
    sourcePath: r.source_path,
    sourceUrl: r.source_url,
    sourceSize: r.source_size,
    sourceMtimeMs: r.source_mtime_ms,
    sourceIno: r.source_ino,
    sourceDev: r.source_dev,
    stagedImageId: r.staged_image_id,
    name: r.name,
    metadata: JSON.parse(r.metadata) as Record<string, unknown>,
    priority: r.priority,
    position: r.position,
    md5: r.md5,
    sha512: r.sha512,
    bwlimit: r.bwlimit,
    onDuplicate: r.on_duplicate === 'reuse' ? 'reuse' : 'upload',
    inspection: r.inspection === null ? null : (JSON.parse(r.inspection) as Record<string, unknown>),
    allowFormatMismatch: r.allow_format_mismatch !== 0,
    removeStagedAfter: r.remove_staged_after !== 0,
    sameImageId: r.image_id,
  };
}

function toTarget(r: TargetRow): TargetRecord {
  return {
    id: r.id,
    jobId: r.job_id,
    cloud: r.cloud,
    region: r.region,
    store: r.store,
    method: r.method,
    state: r.state,
    pausedFrom: r.paused_from,
    remoteImageId: r.remote_image_id,
    imageOwned: r.image_owned !== 0,
    attempt: r.attempt,
    nextAttemptAt: r.next_attempt_at,
    bytesAccepted: r.bytes_accepted,
    error:
      r.error_code === null
        ? null
        : ({
            code: r.error_code,
            message: r.error_message ?? '',
            ...(r.error_hint ? { hint: r.error_hint } : {}),
          } as ErrorInfo),
    planReason: r.plan_reason,
    interrupted: r.interrupted !== 0,
    failingSince: r.failing_since,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

function toEvent(r: EventRow): EventRecord {
  return {
    id: r.id,
    at: r.at,
    actor: r.actor,
    kind: r.kind,
    jobId: r.job_id,
    targetId: r.target_id,
    fromState: r.from_state,
    toState: r.to_state,
    cloud: r.cloud,
    region: r.region,
    imageId: r.image_id,
    detail: r.detail === null ? null : (JSON.parse(r.detail) as Record<string, unknown>),
  };
}

export interface TransitionOptions {
  /** Refuse unless the target is in one of these states (optimistic check against races). */
  from?: TargetState[];
  error?: ErrorInfo;
  nextAttemptAt?: number;
  /**
   * Count this as a new attempt (entering a working phase from retrying/pending), unless the
   * last try was interrupted without failing: then this start continues it.
   */
  newAttempt?: boolean;
  /**
   * The try in progress stops without having failed (recovery after a crash or a lost lease, a
   * pause): it is logged apart (`target.interrupted`), and the retry budget's clock moves forward
   * by `downtimeMs` (the time no engine worked on it).
   */
  interrupted?: { downtimeMs?: number };
  detail?: Record<string, unknown>;
}

/**
 * The retry budget's clock: it starts at the first transient failure (a move to `retrying` with
 * an error), keeps running through later ones, moves forward by the time no engine ran (an
 * interruption's downtime), and stops when the target is done or the user starts it over.
 */
function failingSinceAfter(t: TargetRecord, to: TargetState, o: TransitionOptions, now: number): number | null {
  if (to === 'done' || (to === 'pending' && isTerminal(t.state))) return null;
  if (o.interrupted !== undefined)
    return t.failingSince === null ? null : t.failingSince + (o.interrupted.downtimeMs ?? 0);
  if (to === 'retrying' && o.error !== undefined) return t.failingSince ?? now;
  return t.failingSince;
}

export class JobRepository {
  constructor(
    private readonly db: Db,
    /** Who acts, for the audit log: "app", "cli", "engine:<pid>"... */
    private readonly actor: string,
    private readonly now: () => number = Date.now,
  ) {}

  #event(e: Omit<EventRecord, 'id' | 'at' | 'actor' | 'detail'> & { detail?: Record<string, unknown> | null }): void {
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

  createJob(input: NewJob): { job: JobRecord; targets: TargetRecord[] } {
    if (input.targets.length === 0)
      throw new EngineError('queue.invalid_job', `Job "${input.name}" has no target.`, {
        hint: 'Give at least one cloud and region.',
      });
    const src = input.source;
    validateTargets(input.name, src.kind, [
      // An image source: its region is a target already (done), the one the others start from.
      ...(src.kind === 'image' ? [{ cloud: src.cloud, region: src.region, store: '', method: 'existing' }] : []),
      ...input.targets.map((t) => ({
        cloud: t.cloud,
        region: t.region,
        store: t.store ?? '',
        method: t.method ?? 'direct',
      })),
    ]);
    const id = randomUUID();
    const now = this.now();
    return this.db
      .transaction(() => {
        const position = (
          this.db.prepare('SELECT COALESCE(MAX(position), 0) + 1 AS p FROM jobs').get() as { p: number }
        ).p;
        const s = input.source;
        this.db
          .prepare(
            `INSERT INTO jobs (id, created_at, updated_at, source_kind, source_path, source_size, source_mtime_ms, source_ino, source_dev,
                               staged_image_id, source_url, name, metadata, priority, position, bwlimit, on_duplicate,
                               md5, sha512, inspection, allow_format_mismatch, remove_staged_after, source_image, image_id)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          )
          .run(
            id,
            now,
            now,
            s.kind,
            s.kind === 'file' || s.kind === 'staged' ? s.path : null,
            s.size ?? null,
            s.kind === 'file' || s.kind === 'staged' ? s.mtimeMs : null,
            s.kind === 'file' || s.kind === 'staged' ? s.ino : null,
            s.kind === 'file' || s.kind === 'staged' ? s.dev : null,
            s.kind === 'staged' ? s.imageId : null,
            s.kind === 'url' ? s.url : null,
            input.name,
            JSON.stringify(input.metadata ?? {}),
            input.priority ?? 0,
            position,
            input.bwlimit ?? null,
            input.onDuplicate ?? 'upload',
            s.kind === 'file' ? null : (s.md5 ?? null),
            s.kind === 'file' ? null : (s.sha512 ?? null),
            input.inspection ? JSON.stringify(input.inspection) : null,
            input.allowFormatMismatch ? 1 : 0,
            input.removeStagedAfter ? 1 : 0,
            s.kind === 'image' ? JSON.stringify({ cloud: s.cloud, region: s.region, id: s.id }) : null,
            input.sameImageId ?? null,
          );
        this.#event({
          kind: 'job.created',
          jobId: id,
          targetId: null,
          fromState: null,
          toState: null,
          cloud: null,
          region: null,
          imageId: null,
          detail: { name: input.name, source: s },
        });
        if (s.kind === 'image') {
          // The image is already there: its region is a done target, the one the others pull from.
          const tid = randomUUID();
          this.db
            .prepare(
              `INSERT INTO targets (id, job_id, cloud, region, store, method, state, remote_image_id, image_owned,
                                    bytes_accepted, plan_reason, created_at, updated_at)
               VALUES (?, ?, ?, ?, '', 'existing', 'done', ?, 0, ?, ?, ?, ?)`,
            )
            .run(tid, id, s.cloud, s.region, s.id, s.size, 'the image is already there', now, now);
          this.#event({
            kind: 'target.adopted_source',
            jobId: id,
            targetId: tid,
            fromState: null,
            toState: 'done',
            cloud: s.cloud,
            region: s.region,
            imageId: s.id,
            detail: { size: s.size, sha512: s.sha512 },
          });
        }
        for (const t of input.targets) {
          const tid = randomUUID();
          this.db
            .prepare(
              `INSERT INTO targets (id, job_id, cloud, region, store, method, state, plan_reason, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?)`,
            )
            .run(tid, id, t.cloud, t.region, t.store ?? '', t.method ?? 'direct', t.planReason ?? null, now, now);
          this.#event({
            kind: 'target.created',
            jobId: id,
            targetId: tid,
            fromState: null,
            toState: 'pending',
            cloud: t.cloud,
            region: t.region,
            imageId: null,
            detail: { store: t.store ?? '', method: t.method ?? 'direct' },
          });
        }
        return { job: this.getJob(id), targets: this.targetsOf(id) };
      })
      .immediate();
  }

  getJob(id: string): JobRecord {
    const row = this.db.prepare('SELECT * FROM jobs WHERE id = ?').get(id) as JobRow | undefined;
    if (row === undefined)
      throw new EngineError('queue.not_found', `No job ${id} in the queue.`, {
        hint: 'It may have been removed; list the queue.',
      });
    return toJob(row);
  }

  /** Jobs in queue order: priority first, then position. */
  listJobs(): JobRecord[] {
    return (this.db.prepare('SELECT * FROM jobs ORDER BY priority DESC, position ASC').all() as JobRow[]).map(toJob);
  }

  getTarget(id: string): TargetRecord {
    const row = this.db.prepare('SELECT * FROM targets WHERE id = ?').get(id) as TargetRow | undefined;
    if (row === undefined)
      throw new EngineError('queue.not_found', `No target ${id} in the queue.`, {
        hint: 'It may have been removed with its job.',
      });
    return toTarget(row);
  }

  targetsOf(jobId: string): TargetRecord[] {
    return (
      this.db
        .prepare('SELECT * FROM targets WHERE job_id = ? ORDER BY created_at, cloud, region, store')
        .all(jobId) as TargetRow[]
    ).map(toTarget);
  }

  /** Targets in a state, in queue order. */
  targetsIn(states: TargetState[]): TargetRecord[] {
    const marks = states.map(() => '?').join(',');
    return (
      this.db
        .prepare(
          `SELECT t.* FROM targets t JOIN jobs j ON j.id = t.job_id WHERE t.state IN (${marks}) ORDER BY j.priority DESC, j.position ASC, t.created_at`,
        )
        .all(...states) as TargetRow[]
    ).map(toTarget);
  }

  /** Move a target to another state, with its audit event, in one transaction. */
  transition(targetId: string, to: TargetState, options: TransitionOptions = {}): TargetRecord {
    return this.db
      .transaction(() => {
        const t = this.getTarget(targetId);
        if ((options.from !== undefined && !options.from.includes(t.state)) || !canTransition(t.state, to)) {
          throw new EngineError('queue.invalid_transition', `Target ${targetId} cannot go from ${t.state} to ${to}.`, {
            hint: options.from
              ? `It had to be ${options.from.join(' or ')}.`
              : "That move is not part of a target's life.",
          });
        }
        const now = this.now();
        const pausedFrom = to === 'paused' ? (t.state === 'retrying' ? (t.pausedFrom ?? 'pending') : t.state) : null;
        const userRestart = to === 'pending' && isTerminal(t.state);
        const continues = options.newAttempt === true && t.interrupted && t.attempt > 0;
        const attempt = options.newAttempt === true && !continues ? t.attempt + 1 : userRestart ? 0 : t.attempt;
        const interrupted =
          options.interrupted !== undefined ? true : options.newAttempt === true || userRestart ? false : t.interrupted;
        const failingSince = failingSinceAfter(t, to, options, now);
        const keepError = to === 'failed' || to === 'retrying' || to === 'canceled';
        const err = options.error ?? (keepError ? t.error : null);
        this.db
          .prepare(
            `UPDATE targets SET state = ?, paused_from = ?, attempt = ?, next_attempt_at = ?, error_code = ?, error_message = ?, error_hint = ?,
                                bytes_accepted = CASE WHEN ? THEN 0 ELSE bytes_accepted END, interrupted = ?, failing_since = ?, updated_at = ?
             WHERE id = ?`,
          )
          .run(
            to,
            pausedFrom,
            attempt,
            to === 'retrying' ? (options.nextAttemptAt ?? now) : null,
            err?.code ?? null,
            err?.message ?? null,
            err?.hint ?? null,
            to === 'pending' ? 1 : 0,
            interrupted ? 1 : 0,
            failingSince,
            now,
            targetId,
          );
        this.#event({
          kind:
            options.interrupted !== undefined
              ? 'target.interrupted'
              : to === 'retrying' || to === 'failed'
                ? 'target.error'
                : 'target.transition',
          jobId: t.jobId,
          targetId,
          fromState: t.state,
          toState: to,
          cloud: t.cloud,
          region: t.region,
          imageId: t.remoteImageId,
          detail: {
            attempt,
            ...(continues ? { continuesAttempt: true } : {}),
            ...(options.error ? { error: options.error } : {}),
            ...(options.nextAttemptAt ? { nextAttemptAt: options.nextAttemptAt } : {}),
            ...options.detail,
          },
        });
        return this.getTarget(targetId);
      })
      .immediate();
  }

  /** Another method for a target (a fallback after a stuck import), with why: in the log and on the target. */
  setMethod(targetId: string, method: string, reason: string): TargetRecord {
    return this.db
      .transaction(() => {
        const t = this.getTarget(targetId);
        this.db
          .prepare('UPDATE targets SET method = ?, plan_reason = ?, updated_at = ? WHERE id = ?')
          .run(method, reason, this.now(), targetId);
        this.note('target.method_changed', t, { from: t.method, to: method, why: reason });
        return this.getTarget(targetId);
      })
      .immediate();
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

  /** Recorded BEFORE the first byte goes out, so a restart can find, reuse or delete the image. */
  setRemoteImageId(targetId: string, imageId: string | null, owned = true): TargetRecord {
    return this.db
      .transaction(() => {
        const t = this.getTarget(targetId);
        this.db
          .prepare('UPDATE targets SET remote_image_id = ?, image_owned = ?, updated_at = ? WHERE id = ?')
          .run(imageId, owned ? 1 : 0, this.now(), targetId);
        this.#event({
          kind: imageId ? (owned ? 'target.image' : 'target.image_adopted') : 'target.image_cleared',
          jobId: t.jobId,
          targetId,
          fromState: t.state,
          toState: t.state,
          cloud: t.cloud,
          region: t.region,
          imageId: imageId ?? t.remoteImageId,
          detail: null,
        });
        return this.getTarget(targetId);
      })
      .immediate();
  }

  /** Bytes the server accepted so far (not audited: progress is too frequent for the log). */
  setProgress(targetId: string, bytesAccepted: number): void {
    this.db
      .prepare('UPDATE targets SET bytes_accepted = ?, updated_at = ? WHERE id = ?')
      .run(bytesAccepted, this.now(), targetId);
  }

  setHashes(jobId: string, hashes: { md5: string; sha512: string }): void {
    this.db
      .prepare('UPDATE jobs SET md5 = ?, sha512 = ?, updated_at = ? WHERE id = ?')
      .run(hashes.md5, hashes.sha512, this.now(), jobId);
  }

  setPriority(jobId: string, priority: number): void {
    this.getJob(jobId);
    this.db.prepare('UPDATE jobs SET priority = ?, updated_at = ? WHERE id = ?').run(priority, this.now(), jobId);
  }

  /** Put a job before another one of the queue (same priority band keeps its order by position). */
  moveBefore(jobId: string, beforeJobId: string): void {
    this.db
      .transaction(() => {
        const before = this.getJob(beforeJobId);
        this.getJob(jobId);
        this.db.prepare('UPDATE jobs SET position = position + 1 WHERE position >= ?').run(before.position);
        this.db
          .prepare('UPDATE jobs SET position = ?, priority = ?, updated_at = ? WHERE id = ?')
          .run(before.position, before.priority, this.now(), jobId);
      })
      .immediate();
  }

  /** Remove a job whose targets are all finished (done, failed or canceled). */
  removeJob(jobId: string): void {
    this.db
      .transaction(() => {
        const job = this.getJob(jobId);
        const live = this.targetsOf(jobId).filter((t) => !isTerminal(t.state));
        if (live.length > 0) {
          throw new EngineError(
            'queue.invalid_transition',
            `Job "${job.name}" still has ${live.length} unfinished target(s).`,
            { hint: 'Cancel it first, then remove it.' },
          );
        }
        this.db.prepare('DELETE FROM jobs WHERE id = ?').run(jobId);
        this.#event({
          kind: 'job.removed',
          jobId,
          targetId: null,
          fromState: null,
          toState: null,
          cloud: null,
          region: null,
          imageId: null,
          detail: { name: job.name },
        });
      })
      .immediate();
  }

  /** Any audit event of the engine's (an attempt, a retry decision, a verified hash...). */
  /**
   * What a report says of a target: when its work began (first transition out of pending) and
   * ended, whether its image was verified (our check after the transfer, or the equal-hashes check
   * of an image already there), and whether it was linked to such an image rather than sent.
   */
  outcome(targetId: string): { startedAt: number | null; endedAt: number | null; verified: boolean; linked: boolean } {
    const rows = this.db
      .prepare(
        `SELECT kind, at, to_state FROM events WHERE target_id = ? AND kind IN
           ('target.transition', 'target.error', 'target.verified', 'target.duplicate_reused', 'target.adopted_source')
         ORDER BY id`,
      )
      .all(targetId) as { kind: string; at: number; to_state: string | null }[];
    const started = rows.find((r) => r.kind === 'target.transition' && r.to_state !== 'queued');
    const done = rows.findLast((r) => r.to_state === 'done');
    return {
      startedAt: started?.at ?? null,
      endedAt: done?.at ?? null,
      verified: rows.some((r) => r.kind === 'target.verified' || r.kind === 'target.duplicate_reused'),
      linked: rows.some((r) => r.kind === 'target.duplicate_reused'),
    };
  }

  /** The target's image was checked against the source's hashes (or linked to an equal one). Uses the job's index. */
  isVerified(jobId: string, targetId: string): boolean {
    return (
      this.db
        .prepare(
          `SELECT 1 FROM events WHERE job_id = ? AND target_id = ?
             AND kind IN ('target.verified', 'target.duplicate_reused') LIMIT 1`,
        )
        .get(jobId, targetId) !== undefined
    );
  }

  note(kind: string, target: TargetRecord, detail: Record<string, unknown>): void {
    this.#event({
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
