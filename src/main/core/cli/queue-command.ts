/**
 * `glance-uploader queue run|list|show|pause|resume|cancel|retry|priority|move|remove`: the queue
 * the app shares. `run` takes the lease and works until the queue is empty (`--watch`: keeps
 * watching, with auto-sync); the controls act on a job (all its targets) or one target, directly
 * when no engine runs the queue, else through the controls table (queue-controls.ts).
 */
import { phasesOf } from '../../../shared/phase-timeline';
import { jobSpeed, queueSpeed } from '../queue/queue-speed';
import { phasesText, speedLines } from './speed-text';
import { retryingText } from '../../../shared/retry-text';
import { autoSyncTick } from '../distribution/auto-sync';
import { LOCAL_CLOUD } from '../distribution/local-cloud';
import { EngineError, toErrorInfo } from '../io/errors';
import type { JobRepository } from '../queue/job-repository';
import { Settings } from '../queue/settings';
import { OPEN_STATES } from '../queue/target-state';
import type { Scheduler } from '../transfer/scheduler';
import { bandwidthOption, retryOptions, UsageError } from './args';
import { EXIT } from './exit-codes';
import { out, parse, type CliIo, type Parsed } from './io';
import { formatBytes, type ProgressLine } from './progress-line';
import { controlCommand, isControl, resolveId } from './queue-controls';
import { cliScheduler, follow } from './run-jobs';
import { jobJson, report, targetJson, targetLine } from './job-report';
import { withContext, type Ctx } from './cli-context';
import { withLocalServer } from './staging-commands';

export const QUEUE_HELP = `Usage: glance-uploader queue run [--watch] [--bwlimit RATE] [--retry-for DURATION] [--import-stall DURATION] [--json]
       glance-uploader queue list [--json]
       glance-uploader queue show ID [--json]
       glance-uploader queue pause|resume|cancel|retry ID
       glance-uploader queue priority ID N        higher runs first (default 0)
       glance-uploader queue move ID --before ID2
       glance-uploader queue remove ID

queue run takes --concurrency N (uploads at once, default 2) and --per-region N (default 2).
--bwlimit caps the whole queue: a rate (20M), or a weekly timetable followed live, rclone's
syntax with day tokens: "Mon-Fri 08:00,10M 18:00,off" (10 MiB/s on weekdays 08-18, no limit
otherwise), "08:00,512K 23:00,off", "Mon-00:00,1M Sat-00:00,off". Local time; off: no limit.

ID is a job id or a target id (a unique prefix of at least 4 characters is enough).
Against a cloud, resume sends the whole file again into the same image (Glance takes the data
of an image in one request).`;

const QUEUE_OPTIONS = {
  watch: { type: 'boolean' },
  bwlimit: { type: 'string' },
  'retry-for': { type: 'string' },
  'import-stall': { type: 'string' },
  concurrency: { type: 'string' },
  'per-region': { type: 'string' },
  before: { type: 'string' },
} as const;

export type QueueArgs = Parsed<typeof QUEUE_OPTIONS>;

export async function queueCommand(args: string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = args;
  const p = parse(rest, QUEUE_OPTIONS);
  if (sub === undefined || p.values.help === true || sub === 'help') return (out(io, QUEUE_HELP), EXIT.ok);
  return withContext(io, async ({ db, engine }) => {
    const ctx: Ctx = { io, db, engine, json: p.values.json === true, ...retryOptions(p.values) };
    const { scheduler, line } = cliScheduler(
      ctx,
      p.values.bwlimit === undefined ? undefined : bandwidthOption(p.values.bwlimit),
    );
    if (sub === 'run') return runQueue(ctx, scheduler, line, p.values.watch === true);
    if (sub === 'list') return listQueue(ctx, scheduler.repo);
    if (sub === 'show') return showJob(ctx, scheduler.repo, p.positionals[0] ?? '');
    if (isControl(sub)) return controlCommand(ctx, scheduler, sub, p);
    throw new UsageError(`Unknown queue command "${sub}".`, 'glance-uploader queue --help');
  });
}

async function runQueue(ctx: Ctx, scheduler: Scheduler, line: ProgressLine, watch: boolean): Promise<number> {
  const { io, db } = ctx;
  const repo = scheduler.repo;
  const got = scheduler.start();
  if (!got.acquired)
    throw new EngineError(
      'queue.lease_held',
      `The queue is already run by ${got.current.holder} (pid ${got.current.pid} on ${got.current.host}).`,
      { hint: 'Only one engine runs a queue: let that one finish, or stop it first.' },
    );
  // Jobs that stage, or that remove their staged image, and auto-sync need the local server.
  const open = repo.targetsIn([...OPEN_STATES]);
  const autoSync = new Settings(db).get('autoSync') !== undefined;
  const needsLocal =
    watch || autoSync || open.some((t) => t.cloud === LOCAL_CLOUD || repo.getJob(t.jobId).removeStagedAfter);
  const run = async (): Promise<boolean> => {
    // Auto-sync: staged images not synced yet are queued now, and (watching) every 30 s.
    const tick = (): Promise<void> =>
      autoSyncTick(ctx.engine, db, `cli:${process.pid}`).then(
        (r) => {
          if (r.queued.length > 0 && !ctx.json) io.stderr.write(`auto-sync: queued ${r.queued.length} job(s)\n`);
        },
        (e: unknown) => {
          io.stderr.write(`auto-sync: ${toErrorInfo(e).message}\n`);
        },
      );
    if (autoSync) await tick();
    const every = watch ? setInterval(() => void tick(), 30_000) : undefined;
    try {
      return await follow(ctx, scheduler, line, () => !watch && repo.targetsIn([...OPEN_STATES]).length === 0);
    } finally {
      clearInterval(every);
    }
  };
  const interrupted = needsLocal ? await withLocalServer(io, ctx.engine, ctx.json, run) : await run();
  if (interrupted) return EXIT.interrupted;
  return report(
    ctx,
    repo.listJobs().map((j) => j.id),
  );
}

function listQueue(ctx: Ctx, repo: JobRepository): number {
  const jobs = repo.listJobs().map((j) => ({ job: j, targets: repo.targetsOf(j.id) }));
  const speed = queueSpeed(repo).queue;
  if (ctx.json)
    out(
      ctx.io,
      JSON.stringify({
        jobs: jobs.map((j) => ({ ...jobJson(j.job), targets: j.targets.map((t) => targetJson(t, repo)) })),
        speed,
      }),
    );
  else if (jobs.length === 0) out(ctx.io, 'The queue is empty.');
  else {
    for (const j of jobs)
      out(
        ctx.io,
        `${j.job.id.slice(0, 8)}  ${j.job.name}  ${formatBytes(j.job.sourceSize ?? 0)}  ${j.targets.map((t) => `${t.region}:${retryingText(t, Date.now()) ?? t.state}`).join(' ')}`,
      );
    // The whole queue's speed while something runs or ran in the last minutes.
    if (speed.remaining > 0 || speed.series.some((b) => b > 0)) for (const l of speedLines(speed)) out(ctx.io, l);
  }
  return EXIT.ok;
}

function showJob(ctx: Ctx, repo: JobRepository, id: string): number {
  const { jobId } = resolveId(repo, id);
  const job = repo.getJob(jobId);
  const targets = repo.targetsOf(jobId);
  const events = repo.events({ jobId });
  const speed = jobSpeed(repo, jobId);
  if (ctx.json) {
    out(
      ctx.io,
      JSON.stringify({
        ...jobJson(job),
        metadata: job.metadata,
        targets: targets.map((t) => ({ ...targetJson(t, repo), phases: phasesOf(events, t.id, t.method) })),
        speed,
        events,
      }),
    );
    return EXIT.ok;
  }
  out(
    ctx.io,
    `${job.name}  (${job.id})\n  file   ${job.sourcePath ?? '-'}  ${formatBytes(job.sourceSize ?? 0)}\n  sha512 ${job.sha512 ?? '(not yet)'}`,
  );
  for (const t of targets) {
    out(ctx.io, `  ${targetLine(job, t, repo)}`);
    if (t.planReason !== null) out(ctx.io, `      why: ${t.planReason}`);
    const phases = phasesOf(events, t.id, t.method);
    if (phases.length > 0) out(ctx.io, `      phases: ${phasesText(phases)}`);
  }
  for (const line of speedLines(speed)) out(ctx.io, `  ${line}`);
  for (const e of events.slice(-30))
    out(
      ctx.io,
      `  ${new Date(e.at).toISOString()}  ${e.kind}  ${e.fromState ?? ''}${e.toState ? ` -> ${e.toState}` : ''}  ${e.region ?? ''}`,
    );
  return EXIT.ok;
}
