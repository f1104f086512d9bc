/**
 * A transfer's progress as the database keeps it: the target's byte count written at most once
 * a second (listeners get coalesced events instead), each write also a speed sample; when the
 * transfer ends its last count is the closing sample, so an upload shorter than a second still
 * draws its bytes. Only bytes on the wire are samples: a runner's count at verify is no transfer.
 */
import type { JobRepository } from '../queue/job-repository';

export class ProgressWriter {
  readonly #written = new Map<string, { bytes: number; at: number }>();
  /** The latest count reported and when, written or not. */
  readonly #latest = new Map<string, { bytes: number; at: number }>();

  constructor(private readonly repo: JobRepository) {}

  report(targetId: string, bytes: number): void {
    const now = Date.now();
    this.#latest.set(targetId, { bytes, at: now });
    const last = this.#written.get(targetId);
    if (last !== undefined && now - last.at < 1000) return;
    this.repo.setProgress(targetId, bytes);
    this.repo.samples.add(targetId, bytes);
    this.#written.set(targetId, { bytes, at: now });
  }

  /**
   * The transfer stopped (done, failed, paused): its last count not written yet is written, and
   * is the closing sample, at the time it was reported (not later, after an import or a verify).
   */
  end(targetId: string): void {
    const latest = this.#latest.get(targetId);
    this.#latest.delete(targetId);
    if (latest === undefined || latest.bytes === this.#written.get(targetId)?.bytes) return;
    this.repo.setProgress(targetId, latest.bytes);
    this.repo.samples.add(targetId, latest.bytes, latest.at);
    this.#written.set(targetId, latest);
  }

  /** The count last written (the snapshot's, between writes). */
  written(targetId: string): number | undefined {
    return this.#written.get(targetId)?.bytes;
  }
}
