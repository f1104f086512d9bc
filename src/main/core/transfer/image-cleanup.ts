/**
 * Deleting the image a failed or canceled target made, so that nothing half-made stays in the
 * cloud. Only an image we made: one adopted by the duplicate check is someone else's. A cloud
 * unreachable now keeps the id recorded, and the next start tries again. A relay's objects in
 * the object store go the same way (relay-cleanup.ts), and the job's compressed copy once no
 * target still has to send it (shrink-cache.ts).
 */
import type { Engine } from '../clouds/engine';
import { toErrorInfo } from '../io/errors';
import type { JobRepository, TargetRecord } from '../queue/job-repository';
import { releaseEndedRelays, releaseRelay } from './relay-cleanup';
import { releaseShrunk, sweepShrinkCache, sweepUnpacked } from './shrink-cache';

/** What a failed or canceled target left: its image, its relay's objects, the job's compressed copy. */
export async function releaseLeftovers(
  engine: Engine,
  repo: JobRepository,
  t: TargetRecord,
  /** Keep the image (for debugging); the relay's objects go anyway. */
  keepImage = false,
): Promise<void> {
  if (!keepImage) await deleteOwnImage(engine, repo, t);
  await releaseRelay(engine, repo, t);
  releaseShrunk(repo, t.jobId);
}

export async function deleteOwnImage(engine: Engine, repo: JobRepository, t: TargetRecord): Promise<void> {
  if (t.remoteImageId === null || !t.imageOwned) return;
  try {
    const glance = await engine.glance(t.cloud, t.region);
    await glance.deleteImageIfPresent(t.remoteImageId);
    repo.note('target.image_deleted', t, { imageId: t.remoteImageId });
    repo.setRemoteImageId(t.id, null);
  } catch (e) {
    repo.note('target.image_delete_failed', t, { imageId: t.remoteImageId, error: toErrorInfo(e) });
  }
}

/**
 * At a start: what ended targets left (images unless kept, relay objects, compressed copies and
 * what a crash left in the cache), one after the
 * other; each failure is noted on its target and tried again at the next start.
 */
export async function releaseAllLeftovers(engine: Engine, repo: JobRepository, keepImages: boolean): Promise<void> {
  try {
    sweepShrinkCache(repo, engine.cacheDir); // first: a copy a crash left may be gigabytes
    sweepUnpacked(repo, engine.cacheDir);
    for (const t of repo.targetsIn(['failed', 'canceled'])) await releaseLeftovers(engine, repo, t, keepImages);
    await releaseEndedRelays(engine, repo);
  } catch {
    /* the database closed meanwhile (the engine stopped): the next start does it */
  }
}
