/**
 * What the commands that run jobs share: the database and engine they open, running the queue
 * until some jobs settle (with the progress line), and the report of those jobs.
 */
import { dataHome, ensureDataHome } from '../io/data-home';
import { Engine } from '../clouds/engine';
import { databasePath, openDatabase, type Db } from '../queue/database';
import type { JobUpdate } from '../queue/job-events';
import { JobRepository, type JobRecord, type TargetRecord } from '../queue/job-repository';
import { retryingText } from '../../../shared/retry-text';
import { retryBudgetMsOf, Settings } from '../queue/settings';
import { isTerminal } from '../queue/target-state';
import { Scheduler } from '../transfer/scheduler';
import { SavedClouds } from '../clouds/saved-clouds';
import { PassphraseCodec } from '../clouds/secret-codec';
import { EXIT, exitCodeFor } from './exit-codes';
import { out, type CliIo } from './io';
import { formatBytes, ProgressLine } from './progress-line';
import { withLocalCloud } from '../distribution/local-cloud';
import { removeLocalCopy } from '../distribution/local-copy-cleanup';

export interface Ctx {
  io: CliIo;
  db: Db;
  engine: Engine;
  json: boolean;
  /** --retry-for: how long transient failures are retried (else the setting, else 24 h). */
  retryBudgetMs?: number;
  /** --import-stall: how long an import may show no change before it is made again. */
  importStallMs?: number;
}

/**
 * The clouds saved in the app, as the CLI may use them: a secret sealed with a passphrase opens
 * with GLANCE_UPLOADER_SECRET_KEY; one in the app's OS keychain does not (the error says so).
 */
export function cliSavedClouds(db: Db, env: Record<string, string | undefined>): SavedClouds {
  const key = env.GLANCE_UPLOADER_SECRET_KEY;
  return new SavedClouds(db, key !== undefined && key !== '' ? new PassphraseCodec(key) : undefined);
}

export function open(io: CliIo): { db: Db; engine: Engine } {
  const home = ensureDataHome(dataHome(io.env));
  const db = openDatabase(databasePath(home));
  return {
    db,
    engine: new Engine(withLocalCloud({ env: io.env, cwd: io.cwd, savedClouds: cliSavedClouds(db, io.env) })),
  };
}

/** Open the data folder's database and an engine, run `fn`, and close both whatever happens. */
export async function withContext<T>(io: CliIo, fn: (c: { db: Db; engine: Engine }) => Promise<T>): Promise<T> {
  const c = open(io);
  try {
    return await fn(c);
  } finally {
    await c.engine.close();
    c.db.close();
  }
}

export function splitList(text: string | undefined): string[] {
  return (text ?? '')
    .split(',')
    .map((r) => r.trim())
    .filter(Boolean);
}

export function allSettled(targets: TargetRecord[]): boolean {
  return targets.every((t) => isTerminal(t.state) || t.state === 'paused');
}

/**
 * Follow a started scheduler until `done` holds or the user interrupts: the progress line (fed by
 * the scheduler's job-updated snapshots) on a terminal, then a clean stop. True when interrupted.
 */
export async function follow(
  ctx: Ctx,
  scheduler: Scheduler,
  line: ProgressLine,
  done: () => boolean,
): Promise<boolean> {
  const { io } = ctx;
  const tty = io.stderr.isTTY === true && !ctx.json;
  let interrupted = false;
  void io.interrupted?.then(() => (interrupted = true));
  try {
    while (!interrupted && !done()) {
      if (tty) io.stderr.write(`\r${line.render()}\u001b[K`);
      await new Promise((r) => setTimeout(r, 500));
    }
  } finally {
    await scheduler.stop();
    if (tty) io.stderr.write('\n');
  }
  return interrupted;
}

/** The CLI's scheduler, feeding a progress line; `bwlimit` caps the whole queue (queue run --bwlimit). */
export function cliScheduler(ctx: Ctx, bwlimit?: number): { scheduler: Scheduler; line: ProgressLine } {
  const line = new ProgressLine();
  const scheduler = new Scheduler({
    db: ctx.db,
    engine: ctx.engine,
    actor: `cli:${process.pid}`,
    onJobDone: removeLocalCopy(ctx.engine),
    onJobUpdated: (u: JobUpdate) => line.update(u),
    bwlimit,
    retryBudgetMs: ctx.retryBudgetMs ?? retryBudgetMsOf(new Settings(ctx.db)),
    ...(ctx.importStallMs !== undefined ? { importStallMs: ctx.importStallMs } : {}),
  });
  return { scheduler, line };
}

/** Run (or, when another engine holds the queue, watch) until these jobs have settled. */
export async function runJobs(ctx: Ctx, jobIds: string[]): Promise<number> {
  const { io } = ctx;
  // Per-job bandwidth limits (--bwlimit) are stored on the jobs themselves.
  const { scheduler, line } = cliScheduler(ctx);
  const got = scheduler.start();
  if (!got.acquired) {
    io.stderr.write(
      `The queue is run by ${got.current.holder} (pid ${got.current.pid} on ${got.current.host}): waiting for these jobs to finish there.\n`,
    );
  }
  const interrupted = await follow(ctx, scheduler, line, () =>
    allSettled(jobIds.flatMap((id) => scheduler.repo.targetsOf(id))),
  );
  if (interrupted) {
    io.stderr.write('Interrupted: the jobs stay queued and continue at the next "queue run" (or in the app).\n');
    return EXIT.interrupted;
  }
  return report(ctx, jobIds);
}

/**
 * The report of some jobs, per image and target: where (cloud/region/store), the state, the
 * method (and, on a terminal, why it was chosen), the image id, bytes, duration and whether the
 * sha512 was verified there. The exit status is the first failure's.
 */
export function report(ctx: Ctx, jobIds: string[]): number {
  const repo = new JobRepository(ctx.db, 'report');
  const jobs = jobIds.map((id) => ({ job: repo.getJob(id), targets: repo.targetsOf(id) }));
  const failed = jobs.flatMap((j) => j.targets).filter((t) => t.state !== 'done');
  if (ctx.json)
    out(
      ctx.io,
      JSON.stringify({
        jobs: jobs.map((j) => ({ ...jobJson(j.job), targets: j.targets.map((t) => targetJson(t, repo)) })),
      }),
    );
  else for (const j of jobs) for (const t of j.targets) out(ctx.io, targetLine(j.job, t, repo));
  if (failed.length === 0) return EXIT.ok;
  const first = failed.find((t) => t.error !== null)?.error;
  return first ? exitCodeFor(first.code) : EXIT.failed;
}

export function jobJson(j: JobRecord): Record<string, unknown> {
  return {
    id: j.id,
    name: j.name,
    file: j.sourcePath,
    ...(j.sourceImage !== null ? { sourceImage: j.sourceImage } : {}),
    ...(j.stagedImageId !== null ? { stagedImageId: j.stagedImageId } : {}),
    size: j.sourceSize,
    sha512: j.sha512,
    md5: j.md5,
    priority: j.priority,
  };
}

export function targetJson(t: TargetRecord, repo?: JobRepository): Record<string, unknown> {
  const o = repo?.outcome(t.id);
  return {
    id: t.id,
    cloud: t.cloud,
    region: t.region,
    store: t.store,
    method: t.method,
    ...(t.planReason !== null ? { why: t.planReason } : {}),
    state: t.state,
    imageId: t.remoteImageId,
    attempt: t.attempt,
    ...(t.state === 'retrying' ? { nextAttemptAt: t.nextAttemptAt, retrying: retryingText(t, Date.now()) } : {}),
    bytesAccepted: t.bytesAccepted,
    ...(o !== undefined
      ? {
          durationMs: o.startedAt !== null && o.endedAt !== null ? o.endedAt - o.startedAt : null,
          verified: o.verified,
          linked: o.linked,
        }
      : {}),
    error: t.error,
  };
}

export function targetLine(j: JobRecord, t: TargetRecord, repo?: JobRepository): string {
  const where = `${t.cloud}/${t.region}${t.store ? `/${t.store}` : ''}`;
  const waiting = retryingText(t, Date.now());
  const err = t.error ? `  ${waiting ?? t.error.code}: ${t.error.message}` : '';
  const o = repo?.outcome(t.id);
  const facts: string[] = [t.method];
  if (o !== undefined && t.state === 'done') {
    if (t.method === 'existing') facts.push('the source');
    else {
      facts.push(o.linked ? 'linked (already there)' : formatBytes(t.bytesAccepted));
      if (o.startedAt !== null && o.endedAt !== null) facts.push(`${((o.endedAt - o.startedAt) / 1000).toFixed(1)} s`);
      if (o.verified) facts.push('sha512 verified');
    }
  }
  return `${t.state.padEnd(9)} ${j.name}  ${where}  ${t.remoteImageId ?? '-'}  ${facts.join(', ')}${err}`;
}
