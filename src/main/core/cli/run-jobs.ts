/**
 * Running jobs from the command line: the CLI's scheduler (its progress line, its completion
 * hook), following it until some jobs settle or the user interrupts, then their report.
 */
import type { BandwidthSchedule } from '../../../shared/bandwidth-schedule';
import type { JobUpdate } from '../queue/job-events';
import { retryBudgetMsOf, savedBandwidth, Settings } from '../queue/settings';
import { allSettled } from '../queue/target-state';
import { Scheduler } from '../transfer/scheduler';
import { EXIT } from './exit-codes';
import { ProgressLine } from './progress-line';
import { removeLocalCopy } from '../distribution/local-copy-cleanup';
import type { Ctx } from './cli-context';
import { report } from './job-report';

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
      // Woken by the scheduler's updates: a job that settled is reported at once, not at the next redraw.
      await line.nextUpdate(500);
    }
  } finally {
    await scheduler.stop();
    if (tty) io.stderr.write('\n');
  }
  return interrupted;
}

/**
 * The CLI's scheduler, feeding a progress line; `bandwidth` caps the whole queue (queue run
 * --bwlimit: a rate, or a weekly schedule followed live), the saved setting when not given.
 */
export function cliScheduler(
  ctx: Ctx,
  bandwidth?: { rate?: number; schedule?: BandwidthSchedule },
): { scheduler: Scheduler; line: ProgressLine } {
  const line = new ProgressLine();
  const scheduler = new Scheduler({
    db: ctx.db,
    engine: ctx.engine,
    actor: `cli:${process.pid}`,
    onJobDone: removeLocalCopy(ctx.engine),
    onJobUpdated: (u: JobUpdate) => line.update(u),
    retryBudgetMs: ctx.retryBudgetMs ?? retryBudgetMsOf(new Settings(ctx.db)),
    ...(ctx.importStallMs !== undefined ? { importStallMs: ctx.importStallMs } : {}),
  });
  // The saved limit of the queue (the Settings screen, `settings set`) unless --bwlimit says otherwise.
  scheduler.bandwidth.apply(bandwidth ?? savedBandwidth(new Settings(ctx.db)));
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
