/**
 * Progress samples (migration 13's `progress_samples`): the bytes a target had sent at a time,
 * one row per progress write (the scheduler writes at most one a second per target), kept for
 * half an hour. Whoever runs the queue writes them; the app's graphs and `queue show` read
 * them, so a process that only watches (another engine holds the queue) draws the same speed.
 */
import type { Sample } from '../../../shared/speed-series';
import type { Db } from './database';

export interface TargetSamples {
  jobId: string;
  samples: Sample[];
}

/** Samples older than this are deleted (longer than any graph or ETA window looks back). */
export const SAMPLES_KEPT_MS = 30 * 60_000;

export class ProgressSamples {
  #prunedAt = 0;

  constructor(
    private readonly db: Db,
    private readonly now: () => number,
  ) {}

  /** A sample at `at` (default now: a transfer's closing sample carries the time of its last bytes). */
  add(targetId: string, bytes: number, at = this.now()): void {
    this.db.prepare('INSERT INTO progress_samples (target_id, at, bytes) VALUES (?, ?, ?)').run(targetId, at, bytes);
    // At most once a minute: the index on `at` makes it cheap, but not free.
    if (at - this.#prunedAt >= 60_000) {
      this.#prunedAt = at;
      this.db.prepare('DELETE FROM progress_samples WHERE at < ?').run(at - SAMPLES_KEPT_MS);
    }
  }

  /** Each target's samples since `from` (ms), oldest first, with its job; `targetIds` limits it to those. */
  since(from: number, targetIds?: readonly string[]): Map<string, TargetSamples> {
    const rows = this.db
      .prepare(
        `SELECT s.target_id, t.job_id, s.at, s.bytes FROM progress_samples s JOIN targets t ON t.id = s.target_id
          WHERE s.at >= ? ORDER BY s.target_id, s.at`,
      )
      .all(from) as { target_id: string; job_id: string; at: number; bytes: number }[];
    const wanted = targetIds === undefined ? undefined : new Set(targetIds);
    const out = new Map<string, TargetSamples>();
    for (const r of rows) {
      if (wanted !== undefined && !wanted.has(r.target_id)) continue;
      let entry = out.get(r.target_id);
      if (entry === undefined) out.set(r.target_id, (entry = { jobId: r.job_id, samples: [] }));
      entry.samples.push({ at: r.at, bytes: r.bytes });
    }
    return out;
  }
}
