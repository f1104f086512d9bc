/**
 * The speed of a job and of the whole queue, from the progress samples the queue's engine wrote
 * (whichever process that is): the graph's bars, the steady rate and the ETA of the bytes the
 * open targets still have to send (shared/speed-series.ts is the one definition of each).
 */
import { SPEED_SPAN_MS, STEADY_WINDOW_MS, speedView, type Sample, type SpeedView } from '../../../shared/speed-series';
import type { JobRepository } from './job-repository';
import type { TargetRecord } from './job-types';
import { OPEN_STATES } from './target-state';

const OPEN = new Set<string>(OPEN_STATES);

/** Samples from a little before the longest look back, so the first step into it is counted. */
const lookBack = (now: number): number => now - Math.max(SPEED_SPAN_MS, STEADY_WINDOW_MS) - 10_000;

type SendSize = (t: TargetRecord) => number;

/**
 * What a target sends: the job's compressed copy when it sends one (shrink), else its file. Each
 * job is read once per call: the queue's view is asked every 2 s, over every open target.
 */
function sendSizes(repo: JobRepository): SendSize {
  const files = new Map<string, number>();
  return (t) => {
    const shrunk = t.sendFormat !== null ? repo.shrunk.get(t.jobId)?.size : undefined;
    if (shrunk !== undefined) return shrunk;
    let size = files.get(t.jobId);
    if (size === undefined) files.set(t.jobId, (size = repo.getJob(t.jobId).sourceSize ?? 0));
    return size;
  };
}

/** Bytes the open targets still have to send, in the units they count their progress in. */
function remainingOf(sizeOf: SendSize, targets: readonly TargetRecord[]): number {
  let left = 0;
  for (const t of targets) if (OPEN.has(t.state)) left += Math.max(0, sizeOf(t) - t.bytesAccepted);
  return left;
}

export function jobSpeed(repo: JobRepository, jobId: string, now = Date.now()): SpeedView {
  const targets = repo.targetsOf(jobId);
  const samples = repo.samples.since(
    lookBack(now),
    targets.map((t) => t.id),
  );
  return speedView(
    [...samples.values()].map((x) => x.samples),
    remainingOf(sendSizes(repo), targets),
    now,
  );
}

export interface QueueSpeed {
  queue: SpeedView;
  /** Jobs with open targets or bytes moved in the graph's span. */
  jobs: { jobId: string; speed: SpeedView }[];
}

interface JobGroup {
  series: (readonly Sample[])[];
  open: TargetRecord[];
}

export function queueSpeed(repo: JobRepository, now = Date.now()): QueueSpeed {
  const samples = [...repo.samples.since(lookBack(now)).values()];
  const open = repo.targetsIn([...OPEN_STATES]);
  const sizeOf = sendSizes(repo);
  // Each job's samples and open targets, grouped in one pass (no query per job).
  const byJob = new Map<string, JobGroup>();
  const of = (jobId: string): JobGroup => {
    let g = byJob.get(jobId);
    if (g === undefined) byJob.set(jobId, (g = { series: [], open: [] }));
    return g;
  };
  for (const t of open) of(t.jobId).open.push(t);
  for (const x of samples) of(x.jobId).series.push(x.samples);
  const jobs = [...byJob].map(([jobId, mine]) => ({
    jobId,
    speed: speedView(mine.series, remainingOf(sizeOf, mine.open), now),
  }));
  return {
    queue: speedView(
      samples.map((x) => x.samples),
      remainingOf(sizeOf, open),
      now,
    ),
    jobs,
  };
}
