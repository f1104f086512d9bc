/**
 * `job-updated` snapshots: one per job, with a sequence number, coalesced to one every ~100 ms
 * while a job is busy; a change into a terminal state is sent at once (with anything pending).
 */
import type { JobUpdate } from '../../../shared/dto';

export type { JobUpdate, TargetSnapshot } from '../../../shared/dto';

export class JobEventCoalescer {
  readonly #timers = new Map<string, NodeJS.Timeout>();
  readonly #seq = new Map<string, number>();

  constructor(
    private readonly snapshot: (jobId: string) => Omit<JobUpdate, 'seq'> | undefined,
    private readonly emit: (u: JobUpdate) => void,
    private readonly intervalMs = 100,
  ) {}

  /** Something changed in a job: send soon, or now when `flush` (terminal states). */
  changed(jobId: string, flush = false): void {
    if (flush) {
      this.#send(jobId);
      return;
    }
    if (this.#timers.has(jobId)) return;
    this.#timers.set(
      jobId,
      setTimeout(() => this.#send(jobId), this.intervalMs),
    );
  }

  #send(jobId: string): void {
    const t = this.#timers.get(jobId);
    if (t !== undefined) clearTimeout(t);
    this.#timers.delete(jobId);
    const snap = this.snapshot(jobId);
    if (snap === undefined) return;
    const seq = (this.#seq.get(jobId) ?? 0) + 1;
    this.#seq.set(jobId, seq);
    this.emit({ ...snap, seq });
  }

  /** Send everything pending now (on stop). */
  flushAll(): void {
    for (const jobId of [...this.#timers.keys()]) this.#send(jobId);
  }
}
