/** What a scheduler (scheduler.ts) is made with: its database, engine, limits and hooks. */
import type { Engine } from '../clouds/engine';
import type { Db } from '../queue/database';
import type { JobUpdate } from '../queue/job-events';
import type { JobRecord, JobRepository, TargetRecord } from '../queue/job-repository';
import type { RetryPolicy } from './retry-policy';

export interface SchedulerOptions {
  db: Db;
  engine: Engine;
  /** Who runs, for the lease and the audit log ("app", "cli:<pid>"...). */
  actor: string;
  concurrency?: number;
  perRegion?: number;
  retryPolicy?: RetryPolicy;
  /** The retry budget alone (the setting and `--retry-for`), over the policy's. */
  retryBudgetMs?: number;
  /** An import showing no change for this long is stuck: deleted and made again (`--import-stall`). */
  importStallMs?: number;
  /** Global bandwidth limit, bytes per second (0 or unset: none). */
  bwlimit?: number;
  /** The wall clock a bandwidth schedule is read with (default: now; tests set the day and hour). */
  clock?: () => Date;
  /** Keep the images of failed and canceled targets (debugging); default false: delete them. */
  keepFailedImages?: boolean;
  leaseTtlMs?: number;
  tickMs?: number;
  onJobUpdated?: (u: JobUpdate) => void;
  /**
   * Runs once when every target of a job is done (distribution/local-copy-cleanup.ts removes a
   * synced staged image or a replicate's cached copy). The scheduler names no cloud.
   */
  onJobDone?: (job: JobRecord, first: TargetRecord, repo: JobRepository) => Promise<void>;
}
