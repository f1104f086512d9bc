/**
 * The compressed copy a job sends in place of its file (migration 11's `shrunk_files`): one per
 * job, shared by every target that shrinks, in the data folder's cache. A row is written only once
 * the copy is complete and hashed; a copy without a row is a conversion that did not finish, and
 * the cache sweep removes it (transfer/shrink-cache.ts).
 */
import type { Db } from './database';

export interface ShrunkFile {
  jobId: string;
  path: string;
  format: string;
  size: number;
  md5: string;
  sha512: string;
  createdAt: number;
}

interface ShrunkRow {
  job_id: string;
  path: string;
  format: string;
  size: number;
  md5: string;
  sha512: string;
  created_at: number;
}

const toShrunk = (r: ShrunkRow): ShrunkFile => ({
  jobId: r.job_id,
  path: r.path,
  format: r.format,
  size: r.size,
  md5: r.md5,
  sha512: r.sha512,
  createdAt: r.created_at,
});

export class ShrunkFiles {
  constructor(
    private readonly db: Db,
    private readonly now: () => number = Date.now,
  ) {}

  get(jobId: string): ShrunkFile | undefined {
    const row = this.db.prepare('SELECT * FROM shrunk_files WHERE job_id = ?').get(jobId) as ShrunkRow | undefined;
    return row === undefined ? undefined : toShrunk(row);
  }

  record(f: Omit<ShrunkFile, 'createdAt'>): ShrunkFile {
    this.db
      .prepare(
        `INSERT INTO shrunk_files (job_id, path, format, size, md5, sha512, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (job_id) DO UPDATE SET path = excluded.path, format = excluded.format, size = excluded.size,
           md5 = excluded.md5, sha512 = excluded.sha512, created_at = excluded.created_at`,
      )
      .run(f.jobId, f.path, f.format, f.size, f.md5, f.sha512, this.now());
    return this.get(f.jobId) as ShrunkFile;
  }

  /** Once the file is gone. */
  drop(jobId: string): void {
    this.db.prepare('DELETE FROM shrunk_files WHERE job_id = ?').run(jobId);
  }

  /** Every copy recorded, with whether its job still has a target to run (the sweep keeps those). */
  all(): (ShrunkFile & { live: boolean })[] {
    const rows = this.db
      .prepare(
        `SELECT s.*, EXISTS (SELECT 1 FROM targets t WHERE t.job_id = s.job_id AND t.send_format IS NOT NULL
           AND t.state NOT IN ('done', 'failed', 'canceled')) AS live
         FROM shrunk_files s`,
      )
      .all() as (ShrunkRow & { live: number })[];
    return rows.map((r) => ({ ...toShrunk(r), live: r.live === 1 }));
  }
}
