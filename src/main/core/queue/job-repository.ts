/**
 * Jobs and their targets in the queue database. Every state change is validated against the
 * state machine and written, with its audit event, in one transaction BEFORE the work it
 * starts; the remote image id is written before the first byte is sent, so that after a crash
 * the engine can re-attach to the image, re-upload into it, or delete it.
 */
import { randomUUID } from 'node:crypto';
import type { ErrorInfo } from '../../../shared/errors';
import { EngineError } from '../io/errors';
import { AuditLog } from './audit-log';
import { RelayStore } from './relay-store';
import { RegionFacts } from './region-facts';
import { Settings } from './settings';
import { insertSourceTarget, insertTarget } from './target-rows';
import { ShrunkFiles } from './shrunk-files';
import { ProgressSamples } from './progress-samples';
import type { Db } from './database';
import { sourceColumns, toJob, toTarget, type JobRow, type TargetRow } from './job-rows';
import type { EventRecord, JobRecord, NewJob, TargetRecord, TransitionOptions } from './job-types';
import { validateTargets } from './target-methods';
import { canTransition, isTerminal, nextFields, transitionKind, type TargetState } from './target-state';

export type {
  EventRecord,
  JobRecord,
  NewJob,
  NewTarget,
  SourceImage,
  TargetRecord,
  TransitionOptions,
} from './job-types';

export class JobRepository {
  constructor(
    private readonly db: Db,
    /** Who acts, for the audit log: "app", "cli", "engine:<pid>"... */
    private readonly actor: string,
    private readonly now: () => number = Date.now,
  ) {
    this.audit = new AuditLog(db, actor, now);
    this.relays = new RelayStore(db, now);
    this.regionFacts = new RegionFacts(db, now);
    this.shrunk = new ShrunkFiles(db, now);
    this.samples = new ProgressSamples(db, now);
    this.settings = new Settings(db);
  }

  /**
   * Relays through an object store (relay-store.ts), what probes found about regions
   * (region-facts.ts), the compressed copies jobs send (shrunk-files.ts), the progress samples
   * the speed graphs are drawn from (progress-samples.ts), the settings.
   */
  readonly relays: RelayStore;
  readonly samples: ProgressSamples;
  readonly regionFacts: RegionFacts;
  readonly shrunk: ShrunkFiles;
  readonly settings: Settings;

  /** The audit log, written in the same transactions as the changes it records. */
  readonly audit: AuditLog;

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
        this.#insertJob(id, now, input);
        this.audit.jobEvent('job.created', id, { name: input.name, source: src });
        if (src.kind === 'image') insertSourceTarget(this.db, this.audit, id, now, src);
        for (const t of input.targets) insertTarget(this.db, this.audit, id, now, t);
        return { job: this.getJob(id), targets: this.targetsOf(id) };
      })
      .immediate();
  }

  #insertJob(id: string, now: number, input: NewJob): void {
    const position = (this.db.prepare('SELECT COALESCE(MAX(position), 0) + 1 AS p FROM jobs').get() as { p: number }).p;
    const c = sourceColumns(input.source);
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
        input.source.kind,
        c.path,
        c.size,
        c.mtimeMs,
        c.ino,
        c.dev,
        c.stagedImageId,
        c.url,
        input.name,
        JSON.stringify(input.metadata ?? {}),
        input.priority ?? 0,
        position,
        input.bwlimit ?? null,
        input.onDuplicate ?? 'upload',
        c.md5,
        c.sha512,
        input.inspection ? JSON.stringify(input.inspection) : null,
        input.allowFormatMismatch ? 1 : 0,
        input.removeStagedAfter ? 1 : 0,
        c.sourceImage,
        input.sameImageId ?? null,
      );
  }

  hasJob(id: string): boolean {
    return this.db.prepare('SELECT 1 FROM jobs WHERE id = ?').get(id) !== undefined;
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

  /** Targets that recorded this remote image (made or adopted it), oldest first. */
  targetsWithImage(imageId: string): TargetRecord[] {
    return (
      this.db.prepare('SELECT * FROM targets WHERE remote_image_id = ? ORDER BY created_at').all(imageId) as TargetRow[]
    ).map(toTarget);
  }

  /** Targets queued to create their image with this id (a catalog's), oldest first. */
  targetsWithFixedImage(imageId: string): TargetRecord[] {
    return (
      this.db.prepare('SELECT * FROM targets WHERE fixed_image_id = ? ORDER BY created_at').all(imageId) as TargetRow[]
    ).map(toTarget);
  }

  /** Jobs and targets whose id starts with `prefix` (ids are lowercase UUIDs: anything else matches none). */
  findByIdPrefix(prefix: string): { jobs: JobRecord[]; targets: TargetRecord[] } {
    if (!/^[0-9a-f-]*$/.test(prefix)) return { jobs: [], targets: [] };
    const like = `${prefix}%`;
    return {
      jobs: (this.db.prepare('SELECT * FROM jobs WHERE id LIKE ?').all(like) as JobRow[]).map(toJob),
      targets: (this.db.prepare('SELECT * FROM targets WHERE id LIKE ?').all(like) as TargetRow[]).map(toTarget),
    };
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
        const { pausedFrom, attempt, continues, interrupted, failingSince, err } = nextFields(t, to, options, now);
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
        this.audit.record({
          kind: transitionKind(to, options),
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

  /** Recorded BEFORE the first byte goes out, so a restart can find, reuse or delete the image. */
  setRemoteImageId(targetId: string, imageId: string | null, owned = true): TargetRecord {
    return this.db
      .transaction(() => {
        const t = this.getTarget(targetId);
        this.db
          .prepare('UPDATE targets SET remote_image_id = ?, image_owned = ?, updated_at = ? WHERE id = ?')
          .run(imageId, owned ? 1 : 0, this.now(), targetId);
        this.audit.record({
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
        this.audit.jobEvent('job.removed', jobId, { name: job.name });
      })
      .immediate();
  }

  // The audit log's questions, asked of the repository by most callers.
  note(kind: string, target: TargetRecord, detail: Record<string, unknown>): void {
    this.audit.note(kind, target, detail);
  }

  previousFailure(targetId: string): ErrorInfo | null {
    return this.audit.previousFailure(targetId);
  }

  outcome(targetId: string): ReturnType<AuditLog['outcome']> {
    return this.audit.outcome(targetId);
  }

  resumedAt(targetId: string): number | null {
    return this.audit.resumedAt(targetId);
  }

  conversion(targetId: string): ReturnType<AuditLog['conversion']> {
    return this.audit.conversion(targetId);
  }

  isVerified(jobId: string, targetId: string): boolean {
    return this.audit.isVerified(jobId, targetId);
  }

  recentEvents(limit: number): EventRecord[] {
    return this.audit.recentEvents(limit);
  }

  events(filter: { jobId?: string; sinceId?: number } = {}): EventRecord[] {
    return this.audit.events(filter);
  }
}
