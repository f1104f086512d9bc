/**
 * Runs the queue: takes the lease (one engine per database), reconciles what a previous engine
 * left unfinished, then starts runnable targets within the global and per-region limits, in
 * queue order. Failures are classified: retryable ones come back after a capped, jittered
 * backoff; final ones fail with their reason, and the image the engine made is deleted.
 * Pause stops sending at once; against Glance, resume sends the whole file again into the SAME
 * image (Glance takes image data in one request), and the audit log says so.
 */
import { EngineError, toErrorInfo } from '../io/errors';
import { JobEventCoalescer, type JobUpdate } from '../queue/job-events';
import { JobRepository, type TargetRecord } from '../queue/job-repository';
import { Lease, type AcquireResult } from '../queue/lease';
import { isWorking, OPEN_STATES, RUNNING_STATES } from '../queue/target-state';
import type { ControlAction } from '../../../shared/target-states';
import { applyControlRequests } from './control-requests';
import { releaseAllLeftovers, releaseLeftovers } from './image-cleanup';
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from './retry-policy';
import { settleFailure } from './settle-failure';
import { BandwidthLimits } from './token-bucket';
import { FanOut } from './fan-out';
import { ProgressWriter } from './progress-writer';
import { runTarget } from './target-runner';
import { resumeWhy, sourceTargetOf, sourceUnavailable } from '../queue/target-methods';
import { jobSnapshot } from '../queue/job-snapshot';
import { pickGroups } from './admission';
import type { SchedulerOptions } from './scheduler-options';
import type { SharedBody } from './upload-stream';

export type { SchedulerOptions } from './scheduler-options';

type StopReason = 'pause' | 'cancel' | 'stop';

interface Running {
  target: TargetRecord;
  abort: AbortController;
  reason?: StopReason;
  done: Promise<void>;
  /** Waiting for another machine's image: it holds no slot (two machines would wait on each other). */
  waiting?: boolean;
}

export class Scheduler {
  readonly repo: JobRepository;
  readonly #lease: Lease;
  /** The global limit (a constant or a schedule, `now` says which) and the jobs' own. */
  readonly bandwidth: BandwidthLimits;
  readonly #doneJobs = new Set<string>();
  readonly #running = new Map<string, Running>();
  readonly #events: JobEventCoalescer;
  readonly #progressWriter: ProgressWriter;
  #timer: NodeJS.Timeout | undefined;
  #beat: NodeJS.Timeout | undefined;
  #pausedAll = false;
  #concurrency: number;
  #applying = false;
  #policy: RetryPolicy;

  constructor(private readonly o: SchedulerOptions) {
    this.repo = new JobRepository(o.db, o.actor);
    this.#progressWriter = new ProgressWriter(this.repo);
    this.#lease = new Lease(o.db, o.actor, { ttlMs: o.leaseTtlMs });
    this.#concurrency = Math.max(1, o.concurrency ?? 2);
    const policy = o.retryPolicy ?? DEFAULT_RETRY_POLICY;
    this.#policy = o.retryBudgetMs !== undefined ? { ...policy, budgetMs: o.retryBudgetMs } : policy;
    this.bandwidth = new BandwidthLimits(o.bwlimit);
    this.#events = new JobEventCoalescer(
      (jobId) => this.snapshot(jobId),
      (u) => o.onJobUpdated?.(u),
    );
  }

  /** Take the lease and start running. When another engine holds it, nothing runs: enqueue only. */
  start(): AcquireResult {
    const got = this.#lease.acquire();
    if (!got.acquired) return got;
    this.#recover();
    this.#beat = setInterval(
      () => {
        if (!this.#lease.heartbeat()) void this.stop(); // taken over after a stall: stop at once
      },
      Math.max(1000, this.#lease.ttlMs / 3),
    );
    this.#timer = setInterval(() => this.#tick(), this.o.tickMs ?? 250);
    this.#tick();
    return got;
  }

  get running(): boolean {
    return this.#lease.held;
  }

  /** What an engine that died left in a working state is retried now; leftovers of failed work are deleted. */
  #recover(): void {
    // An interrupted try did not fail: it costs no attempt and no budget (the time no engine ran
    // is given back), and the log says `target.interrupted`, apart from the errors.
    for (const t of this.repo.targetsIn([...RUNNING_STATES])) {
      const now = Date.now();
      this.repo.transition(t.id, 'retrying', {
        nextAttemptAt: now,
        interrupted: { downtimeMs: Math.max(0, now - t.updatedAt) },
        detail: { recovered: true, interruptedIn: t.state },
      });
    }
    void releaseAllLeftovers(this.o.engine, this.repo, this.o.keepFailedImages === true);
  }

  /** Apply what other processes asked of the queue (controls table), and answer them. */
  #applyControls(): void {
    if (this.#applying) return; // resume/retry tick again: do not re-enter
    this.#applying = true;
    try {
      applyControlRequests(this.o.db, this.repo, (id, action) => this.control(id, action));
    } finally {
      this.#applying = false;
    }
  }

  #tick(): void {
    if (!this.#lease.held) return;
    this.#applyControls();
    this.bandwidth.follow(this.o.clock?.()); // a schedule's limit changes running transfers at once
    if (this.#pausedAll) return;
    const now = Date.now();
    const runnable = this.repo
      .targetsIn(['pending', 'retrying'])
      .filter((t) => !this.#running.has(t.id) && !(t.state === 'retrying' && (t.nextAttemptAt ?? 0) > now))
      .filter((t) => this.#sourceReady(t));
    const running = [...this.#running.values()].filter((r) => r.waiting !== true).map((r) => r.target);
    const limits = { limit: this.#concurrency, perRegion: this.o.perRegion ?? 2 };
    for (const group of pickGroups(runnable, running, limits)) this.#launchGroup(group);
  }

  /**
   * copy-image and glance-download start once the target they copy from is done. When that one
   * failed or was canceled, they fail too (with a hint to retry both), rather than wait forever.
   */
  #sourceReady(t: TargetRecord): boolean {
    const src = sourceTargetOf(t, this.repo.targetsOf(t.jobId));
    if (src === undefined || src.state === 'done') return true; // no source: the runner says why
    if (src.state !== 'failed' && src.state !== 'canceled') return false;
    this.repo.transition(t.id, 'failed', { error: toErrorInfo(sourceUnavailable(t, src)) });
    this.#events.changed(t.jobId, true);
    return false;
  }

  #launchGroup(group: TargetRecord[]): void {
    const first = group[0];
    if (first === undefined) return;
    const job = this.repo.getJob(first.jobId);
    const buckets = this.bandwidth.forJob(job.id, job.bwlimit);
    if (group.length === 1 || job.sourcePath === null || job.sourceSize === null) {
      for (const t of group) void this.#launch(t);
      return;
    }
    const fan = new FanOut(job.sourcePath, job.sourceSize, buckets);
    const runs = group.map((t) => {
      const body = fan.branch((bytes) => this.#progress(t, bytes));
      const shared: SharedBody = { body, digests: () => fan.digests() };
      return this.#launch(t, shared);
    });
    // Settled, not all: a run whose failure handling failed too must not keep the read open.
    void Promise.allSettled(runs)
      .then(() =>
        this.repo.note('job.fanout', first, {
          targets: group.map((t) => t.id),
          bytesRead: fan.bytesRead,
          size: job.sourceSize,
          complete: fan.complete,
        }),
      )
      .catch(() => undefined) // the database closed with the engine: only the note is lost
      .finally(() => void fan.dispose().catch(() => undefined));
  }

  #launch(t: TargetRecord, shared?: SharedBody): Promise<void> {
    const job = this.repo.getJob(t.jobId);
    const abort = new AbortController();
    const entry: Running = { target: t, abort, done: Promise.resolve() };
    this.#running.set(t.id, entry);
    entry.done = runTarget({
      repo: this.repo,
      engine: this.o.engine,
      job,
      target: t,
      signal: abort.signal,
      // A fan-out branch is throttled once, in the reader, for all its targets; these buckets
      // apply when the target reads the file on its own (a resend after a 401).
      buckets: this.bandwidth.forJob(job.id, job.bwlimit),
      onProgress: (bytes) => this.#progress(t, bytes),
      onWaiting: (waiting) => {
        entry.waiting = waiting;
        if (waiting) this.#tick(); // its slot is free now
      },
      shared,
      ...(this.o.importStallMs !== undefined ? { importStallMs: this.o.importStallMs } : {}),
    })
      .then(async () => {
        this.#events.changed(t.jobId, true);
        await this.#jobDone(t.jobId);
      })
      .catch((e: unknown) => this.#failed(entry, e))
      // A failure while handling a failure (a database error, say) is logged, never unhandled.
      .catch((e: unknown) => this.repo.note('scheduler.error', t, { error: toErrorInfo(e) }))
      .finally(() => {
        // A branch this target never read (it failed before, or needed no upload) must not hold the others back.
        shared?.body.detach();
        this.#progressWriter.end(t.id);
        this.#running.delete(t.id);
        this.#tick();
      });
    this.#events.changed(t.jobId);
    return entry.done;
  }

  /**
   * Once every target of a job is done (verified), the job's completion hook runs once (two
   * targets finishing together call it once): what to clean up is the composer's policy.
   */
  async #jobDone(jobId: string): Promise<void> {
    const hook = this.o.onJobDone;
    if (hook === undefined || this.#doneJobs.has(jobId)) return;
    const targets = this.repo.targetsOf(jobId);
    const first = targets[0];
    if (first === undefined || !targets.every((x) => x.state === 'done')) return;
    this.#doneJobs.add(jobId);
    await hook(this.repo.getJob(jobId), first, this.repo);
  }

  #progress(t: TargetRecord, bytes: number): void {
    this.#progressWriter.report(t.id, bytes); // at most once a second; listeners get coalesced events
    this.#events.changed(t.jobId);
  }

  async #failed(entry: Running, e: unknown): Promise<void> {
    const id = entry.target.id;
    const current = this.repo.getTarget(id);
    if (entry.reason === 'stop') return; // the next engine's recovery takes it from here
    if (entry.reason === 'pause') {
      if (isWorking(current.state)) this.repo.transition(id, 'paused', { interrupted: {} });
      else if (current.state === 'retrying') this.repo.transition(id, 'paused');
      this.#events.changed(current.jobId, true);
      return;
    }
    if (entry.reason === 'cancel') {
      await this.#cancelNow(current);
      return;
    }
    if (settleFailure(this.repo, current, e, this.#policy) === 'failed') {
      this.#events.changed(current.jobId, true);
      await this.#deleteImage(this.repo.getTarget(id));
      return;
    }
    this.#events.changed(current.jobId);
  }

  /** The image a failed or canceled target made (unless kept), its relay's objects (image-cleanup.ts). */
  #deleteImage = (t: TargetRecord): Promise<void> =>
    releaseLeftovers(this.o.engine, this.repo, t, this.o.keepFailedImages === true);

  async #cancelNow(t: TargetRecord): Promise<void> {
    if (t.state !== 'canceled') this.repo.transition(t.id, 'canceled');
    this.#events.changed(t.jobId, true);
    await this.#deleteImage(this.repo.getTarget(t.id));
  }

  get retryBudgetMs(): number {
    return this.#policy.budgetMs;
  }

  /** Applies to the next failure of every target (the Settings screen, live). */
  setRetryBudget(ms: number): void {
    this.#policy = { ...this.#policy, budgetMs: ms };
  }

  /** One of the user's controls, allowed or not by `allowedActions` (the caller checks). */
  async control(targetId: string, action: ControlAction): Promise<void> {
    if (action === 'pause') this.pause(targetId);
    else if (action === 'resume') this.resume(targetId);
    else if (action === 'cancel') await this.cancel(targetId);
    else this.retry(targetId);
  }

  /** Stop sending now; the target waits, paused, for resume. */
  pause(targetId: string): void {
    const r = this.#running.get(targetId);
    if (r !== undefined) {
      r.reason = 'pause';
      r.abort.abort();
      return;
    }
    const t = this.repo.getTarget(targetId);
    if (t.state === 'pending' || t.state === 'retrying') this.repo.transition(targetId, 'paused');
    this.#events.changed(t.jobId, true);
  }

  /** Back in the queue. Against Glance the data goes again from byte 0, into the same image. */
  resume(targetId: string): void {
    const t = this.repo.getTarget(targetId);
    if (t.state !== 'paused')
      throw new EngineError('queue.invalid_transition', `Target ${targetId} is ${t.state}, not paused.`, {
        hint: 'Only a paused target can be resumed.',
      });
    this.repo.note('target.resume', t, { why: resumeWhy(t.method) });
    this.repo.transition(targetId, 'pending');
    this.#events.changed(t.jobId);
    this.#tick();
  }

  /** Stop it for good; the image it made is deleted (awaited when the target was not running). */
  async cancel(targetId: string): Promise<void> {
    const r = this.#running.get(targetId);
    if (r !== undefined) {
      r.reason = 'cancel';
      r.abort.abort();
      await r.done;
      return;
    }
    const t = this.repo.getTarget(targetId);
    if (t.state === 'done')
      throw new EngineError('queue.invalid_transition', `Target ${targetId} is done.`, {
        hint: 'Delete the image in the cloud if you do not want it.',
      });
    await this.#cancelNow(t);
  }

  /** A failed or canceled target starts over (attempts counted from zero). */
  retry(targetId: string): void {
    const t = this.repo.getTarget(targetId);
    this.repo.transition(targetId, 'pending', { from: ['failed', 'canceled'] });
    this.#events.changed(t.jobId);
    this.#tick();
  }

  pauseAll(): void {
    this.#pausedAll = true;
    for (const id of [...this.#running.keys()]) this.pause(id);
    for (const t of this.repo.targetsIn(['pending', 'retrying'])) this.pause(t.id);
  }

  resumeAll(): void {
    this.#pausedAll = false;
    for (const t of this.repo.targetsIn(['paused'])) this.resume(t.id);
  }

  /** Targets transferring at once, from the next tick (running ones are not stopped). */
  setConcurrency(n: number): void {
    this.#concurrency = Math.max(1, Math.floor(n));
  }

  /** Resolves when nothing is left to run (every target done, failed, canceled or paused). */
  async idle(pollMs = 200): Promise<void> {
    for (;;) {
      const open = this.repo.targetsIn([...OPEN_STATES]);
      if (open.length === 0 && this.#running.size === 0) return;
      await new Promise((r) => setTimeout(r, pollMs));
    }
  }

  /** A job's state as the renderer sees it (undefined: no such job). */
  snapshot(jobId: string): Omit<JobUpdate, 'seq'> | undefined {
    return jobSnapshot(this.repo, jobId, (id) => this.#progressWriter.written(id));
  }

  /** Stop running (work in flight is left for recovery at the next start) and release the lease. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    clearInterval(this.#beat);
    for (const r of this.#running.values()) {
      r.reason = 'stop';
      r.abort.abort();
    }
    await Promise.all([...this.#running.values()].map((r) => r.done));
    this.#events.flushAll();
    if (this.#lease.held) this.#lease.release();
  }
}
