/**
 * The queue's controls from the command line: pause, resume, cancel, retry (through the one
 * rule of `allowedActions`), priority, move and remove. Order and removal are plain database
 * updates the engine reads at every tick. A target control is applied here when no engine runs
 * the queue (this process takes the lease for the moment), else requested through the controls
 * table and answered by the engine that runs it (the app, say) with its outcome.
 */
import { allowedActions, type ControlAction } from '../../../shared/target-states';
import { EngineError } from '../io/errors';
import { Controls } from '../queue/controls';
import type { JobRepository } from '../queue/job-repository';
import { Lease } from '../queue/lease';
import type { Scheduler } from '../transfer/scheduler';
import { UsageError } from './args';
import { EXIT } from './exit-codes';
import { out } from './io';
import type { QueueArgs } from './queue-command';
import { targetLine } from './job-report';
import { type Ctx } from './cli-context';

const CONTROLS = ['pause', 'resume', 'cancel', 'retry', 'priority', 'move', 'remove'] as const;
type QueueControl = (typeof CONTROLS)[number];

export function isControl(sub: string): sub is QueueControl {
  return (CONTROLS as readonly string[]).includes(sub);
}

/** A job or target named by its id or a unique prefix of at least 4 characters. */
export function resolveId(repo: JobRepository, id: string): { jobId: string; targetIds: string[] } {
  if (id.length < 4)
    throw new UsageError(
      `"${id}" is too short to name a job or target.`,
      'Give at least 4 characters of its id (queue list shows them).',
    );
  const { jobs, targets } = repo.findByIdPrefix(id);
  if (jobs.length + targets.length > 1)
    throw new UsageError(`"${id}" names more than one job or target.`, 'Give more characters of the id.');
  const job = jobs[0];
  if (job !== undefined) return { jobId: job.id, targetIds: repo.targetsOf(job.id).map((t) => t.id) };
  const target = targets[0];
  if (target !== undefined) return { jobId: target.jobId, targetIds: [target.id] };
  throw new EngineError('queue.not_found', `No job or target ${id} in the queue.`, {
    hint: 'glance-uploader queue list shows what is queued.',
  });
}

export async function controlCommand(ctx: Ctx, scheduler: Scheduler, sub: QueueControl, p: QueueArgs): Promise<number> {
  const { io } = ctx;
  const repo = scheduler.repo;
  const { jobId, targetIds } = resolveId(repo, p.positionals[0] ?? '');
  if (sub === 'remove') {
    repo.removeJob(jobId);
    out(io, `removed ${jobId}`);
    return EXIT.ok;
  }
  if (sub === 'priority' || sub === 'move') {
    reorder(repo, jobId, sub, p);
    for (const j of repo.listJobs()) out(io, `${j.id.slice(0, 8)}  priority ${j.priority}  ${j.name}`);
    return EXIT.ok;
  }
  await controlTargets(ctx, scheduler, sub, targetIds);
  for (const t of repo.targetsOf(jobId).filter((x) => targetIds.includes(x.id)))
    out(io, targetLine(repo.getJob(jobId), t));
  if (sub === 'resume' || sub === 'retry')
    io.stderr.write('Queued again: "glance-uploader queue run" (or the app) sends it.\n');
  return EXIT.ok;
}

function reorder(repo: JobRepository, jobId: string, sub: 'priority' | 'move', p: QueueArgs): void {
  if (sub === 'priority') {
    const n = Number(p.positionals[1]);
    if (!Number.isInteger(n))
      throw new UsageError(
        'queue priority needs a whole number after the id.',
        'For example: queue priority 3f2a 10 (higher runs first; default 0).',
      );
    return repo.setPriority(jobId, n);
  }
  if (p.values.before === undefined)
    throw new UsageError(
      'queue move needs --before ID.',
      'For example: queue move 3f2a --before 9c1d (the job runs before that one).',
    );
  repo.moveBefore(jobId, resolveId(repo, p.values.before).jobId);
}

async function controlTargets(
  ctx: Ctx,
  scheduler: Scheduler,
  action: ControlAction,
  targetIds: string[],
): Promise<void> {
  const lease = new Lease(ctx.db, `cli-control:${process.pid}`);
  const got = lease.acquire();
  if (got.acquired) {
    // No engine runs the queue: act on it directly.
    try {
      for (const id of targetIds) {
        const t = scheduler.repo.getTarget(id);
        // The targets of a job for which the control makes sense (one rule: allowedActions).
        if (allowedActions(t.state).includes(action)) await scheduler.control(id, action);
      }
    } finally {
      lease.release();
    }
    return;
  }
  // The engine that runs the queue (the app, say) applies the request at its next tick.
  const controls = new Controls(ctx.db);
  const ids = targetIds.map((id) => controls.request(`cli:${process.pid}`, id, action));
  const answers = await controls.wait(ids, 30_000);
  if (answers.some((a) => a === undefined))
    throw new EngineError(
      'queue.lease_held',
      `${got.current.holder} (pid ${got.current.pid}) runs the queue but did not answer the ${action} request within 30 s.`,
      { hint: 'It may be busy or hung; the request stays queued and is applied when it answers.' },
    );
  for (const a of answers) {
    if (a === undefined || a.outcome === 'ok') continue;
    const why = a.outcome === 'refused' ? `refused: ${a.error.message} (${a.error.code})` : a.message;
    ctx.io.stderr.write(`${a.targetId.slice(0, 8)}: ${why}\n`);
  }
}
