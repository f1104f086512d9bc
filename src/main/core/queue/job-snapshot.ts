/**
 * A job as the renderer and the CLI's progress line see it: its targets' states, bytes, errors
 * and whether each was verified. The bytes of an uploading target are the freshest known (the
 * database gets progress at most once a second; the running engine knows more).
 */
import type { JobUpdate, TargetSnapshot } from '../../../shared/dto';
import type { JobRepository } from './job-repository';

/** What the audit log adds to a target: where it resumed, what it sent and Glance stored. */
function withLog<T extends object>(
  repo: JobRepository,
  targetId: string,
  t: T,
): T & Pick<TargetSnapshot, 'resumedAt' | 'conversion'> {
  const at = repo.resumedAt(targetId);
  const conversion = repo.conversion(targetId);
  return { ...t, ...(at !== null ? { resumedAt: at } : {}), ...(conversion !== null ? { conversion } : {}) };
}

/** undefined: no such job (removed meanwhile). */
export function jobSnapshot(
  repo: JobRepository,
  jobId: string,
  liveBytes: (targetId: string) => number | undefined,
): Omit<JobUpdate, 'seq'> | undefined {
  try {
    const job = repo.getJob(jobId);
    return {
      jobId,
      name: job.name,
      size: job.sourceSize,
      sha512: job.sha512,
      targets: repo.targetsOf(jobId).map((t) =>
        withLog(repo, t.id, {
          id: t.id,
          cloud: t.cloud,
          region: t.region,
          store: t.store,
          state: t.state,
          attempt: t.attempt,
          bytesAccepted: t.state === 'uploading' ? Math.max(t.bytesAccepted, liveBytes(t.id) ?? 0) : t.bytesAccepted,
          remoteImageId: t.remoteImageId,
          error: t.error,
          nextAttemptAt: t.nextAttemptAt,
          method: t.method,
          verified: t.state === 'done' && repo.isVerified(jobId, t.id),
          ...(t.sendFormat !== null ? { sendFormat: t.sendFormat } : {}),
        }),
      ),
    };
  } catch {
    return undefined;
  }
}
