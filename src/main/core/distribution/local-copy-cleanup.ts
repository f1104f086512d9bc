/**
 * A job that asked for it removes its local copy once every target is done (verified): a sync
 * job its staged image (from the local server), a replicate's push job the copy it downloaded
 * into the data folder's cache (never a file anywhere else: a user's file is never deleted). A
 * failure to delete is noted, never held against the targets: the copy stays, that is all.
 *
 * The scheduler calls this as its `onJobDone` hook: it knows when a job is done, not what a
 * staged image or the cache is.
 */
import { rm } from 'node:fs/promises';
import { sep } from 'node:path';
import type { Engine } from '../clouds/engine';
import { toErrorInfo } from '../io/errors';
import type { JobRecord, JobRepository, TargetRecord } from '../queue/job-repository';
import { LOCAL_CLOUD, LOCAL_REGION } from './local-cloud';
import { unpackedDir } from '../io/unpacked-copies';

export type JobDoneHook = (job: JobRecord, first: TargetRecord, repo: JobRepository) => Promise<void>;

export function removeLocalCopy(engine: Engine): JobDoneHook {
  return async (job, first, repo) => {
    // The raw bytes a sync unpacked from a packed staged image are the job's own, whatever it asked.
    const unpacked = unpackedDir(engine.cacheDir) + sep;
    if (job.sourceKind === 'staged' && job.sourcePath?.startsWith(unpacked) === true) {
      await rm(job.sourcePath, { force: true });
      repo.note('job.unpacked_removed', first, { path: job.sourcePath });
    }
    if (!job.removeStagedAfter) return;
    const cache = engine.cacheDir + sep;
    if (job.sourceKind === 'file' && job.sourcePath !== null && job.sourcePath.startsWith(cache)) {
      await rm(job.sourcePath, { force: true });
      repo.note('job.cached_copy_removed', first, { path: job.sourcePath });
      return;
    }
    if (job.sourceKind !== 'staged' || job.stagedImageId === null) return;
    try {
      const local = await engine.glance(LOCAL_CLOUD, LOCAL_REGION);
      await local.deleteImageIfPresent(job.stagedImageId);
      repo.note('job.staged_removed', first, { stagedImageId: job.stagedImageId });
    } catch (e) {
      repo.note('job.staged_remove_failed', first, { stagedImageId: job.stagedImageId, error: toErrorInfo(e) });
    }
  };
}
