/**
 * The speed of a job and of the whole queue, from the progress samples the queue's engine wrote
 * (whichever process that is): the graph's bars, the steady rate and the ETA of the bytes the
 * open targets still have to send (shared/speed-series.ts is the one definition of each).
 */
import { SPEED_SPAN_MS, STEADY_WINDOW_MS, speedView, type SpeedView } from '../../../shared/speed-series';
import type { JobRepository } from './job-repository';
import type { TargetRecord } from './job-types';
import { OPEN_STATES } from './target-state';

const OPEN = new Set<string>(OPEN_STATES);

/** Samples from a little before the longest look back, so the first step into it is counted. */
const lookBack = (now: number): number => now - Math.max(SPEED_SPAN_MS, STEADY_WINDOW_MS) - 10_000;

/** What a target sends: the job's compressed copy when it sends one (shrink), else its file. */
function sendSize(repo: JobRepository, t: TargetRecord): number {
  const shrunk = t.sendFormat !== null ? repo.shrunk.get(t.jobId)?.size : undefined;
  return shrunk ?? repo.getJob(t.jobId).sourceSize ?? 0;
}

/** Bytes the open targets still have to send, in the units they count their progress in. */
function remainingOf(repo: JobRepository, targets: readonly TargetRecord[]): number {
  let left = 0;
  for (const t of targets) if (OPEN.has(t.state)) left += Math.max(0, sendSize(repo, t) - t.bytesAccepted);
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
    remainingOf(repo, targets),
    now,
  );
}

export interface QueueSpeed {
  queue: SpeedView;
  /** Jobs with open targets or bytes moved in the graph's span. */
  jobs: { jobId: string; speed: SpeedView }[];
}

export function queueSpeed(repo: JobRepository, now = Date.now()): QueueSpeed {
  const samples = [...repo.samples.since(lookBack(now)).values()];
  const open = repo.targetsIn([...OPEN_STATES]);
  const jobIds = new Set([...open.map((t) => t.jobId), ...samples.map((x) => x.jobId)]);
  const jobs = [...jobIds].map((jobId) => {
    const mine = samples.filter((x) => x.jobId === jobId).map((x) => x.samples);
    return { jobId, speed: speedView(mine, remainingOf(repo, repo.targetsOf(jobId)), now) };
  });
  return {
    queue: speedView(
      samples.map((x) => x.samples),
      remainingOf(repo, open),
      now,
    ),
    jobs,
  };
}
