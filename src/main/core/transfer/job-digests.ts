/**
 * A job's file digests, read once however many of its targets ask at the same time: the regions
 * of a fan-out that check for a duplicate (`--if-exists reuse`) each asked for a whole read of
 * the file, all at once, before any of them sent a byte.
 */
import type { Digests } from '../io/hasher';
import { hashFile } from '../io/hashed-read';
import type { SourceIdentity } from '../io/source-file';
import type { JobRecord } from '../queue/job-repository';

const reading = new Map<string, Promise<Digests>>();

/** Recorded on the job by an earlier attempt, or being read for another target, else read now. */
export function knownOrHashed(
  job: JobRecord,
  source: SourceIdentity,
  hash: (path: string, size: number) => Promise<Digests> = hashFile,
): Promise<Digests> {
  if (job.sha512 !== null && job.md5 !== null) return Promise.resolve({ md5: job.md5, sha512: job.sha512 });
  // Shared while it runs only: a later ask (a retry, a file changed since) reads again.
  let read = reading.get(job.id);
  if (read === undefined) {
    read = hash(source.path, source.size).finally(() => reading.delete(job.id));
    reading.set(job.id, read);
  }
  return read;
}
