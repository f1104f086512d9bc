/**
 * A job as the renderer and the CLI's progress line see it: its targets' states, bytes, errors
 * and whether each was verified. The bytes of an uploading target are the freshest known (the
 * database gets progress at most once a second; the running engine knows more).
 */
import type { JobUpdate } from '../../../shared/dto';
import type { JobRepository } from './job-repository';

function withResume<T extends object>(repo: JobRepository, targetId: string, t: T): T & { resumedAt?: number } {
  const at = repo.resumedAt(targetId);
  return at === null ? t : { ...t, resumedAt: at };
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
        withResume(repo, t.id, {
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
        }),
      ),
    };
  } catch {
    return undefined;
  }
}
