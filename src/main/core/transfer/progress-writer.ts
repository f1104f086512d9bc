/**
 * A transfer's progress as the database keeps it: the target's byte count written at most once
 * a second (listeners get coalesced events instead), each write also a speed sample; when the
 * transfer ends its last count is the closing sample, so an upload shorter than a second still
 * draws its bytes. Only bytes on the wire are samples: a runner's count at verify is no transfer.
 */
import type { JobRepository } from '../queue/job-repository';

export class ProgressWriter {
  readonly #written = new Map<string, { bytes: number; at: number }>();
  readonly #latest = new Map<string, number>();

  constructor(private readonly repo: JobRepository) {}

  report(targetId: string, bytes: number): void {
    this.#latest.set(targetId, bytes);
    const last = this.#written.get(targetId);
    const now = Date.now();
    if (last !== undefined && now - last.at < 1000) return;
    this.repo.setProgress(targetId, bytes);
    this.repo.samples.add(targetId, bytes);
    this.#written.set(targetId, { bytes, at: now });
  }

  /** The transfer stopped (done, failed, paused): its last count not written yet becomes the closing sample. */
  end(targetId: string): void {
    const latest = this.#latest.get(targetId);
    this.#latest.delete(targetId);
    if (latest === undefined || latest === this.#written.get(targetId)?.bytes) return;
    this.repo.samples.add(targetId, latest);
    this.#written.set(targetId, { bytes: latest, at: Date.now() });
  }

  /** The count last written (the snapshot's, between writes). */
  written(targetId: string): number | undefined {
    return this.#written.get(targetId)?.bytes;
  }
}
