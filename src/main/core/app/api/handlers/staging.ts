/** The Staging screen: the local server's images, syncing them to clouds, replicating an image between regions. */
import type { HandlerDeps } from './deps';
import type { ApiHandlers } from '../api-service';
import { stagedImages } from '../../../distribution/local-cloud';
import { planReplicate } from '../../../distribution/replicate';
import { planSync, syncRecords } from '../../../distribution/sync-jobs';
import { EngineError } from '../../../io/errors';

type StagingHandlers = Pick<ApiHandlers, 'listStaged' | 'syncStaged' | 'replicateImage'>;

export function stagingHandlers({ engine, db, scheduler }: HandlerDeps): StagingHandlers {
  return {
    listStaged: async () => {
      const images = await stagedImages(engine);
      const records = syncRecords(scheduler.repo);
      return images.map((i) => ({
        id: i.id,
        name: i.name,
        status: i.status,
        size: i.size,
        diskFormat: i.disk_format,
        containerFormat: i.container_format,
        sha512: i.os_hash_value,
        tags: i.tags,
        synced: records.get(i.id) ?? [],
      }));
    },
    syncStaged: async (r) => {
      const all = await stagedImages(engine);
      const wanted =
        r.imageIds === undefined
          ? all.filter((i) => i.status === 'active')
          : r.imageIds.map((id) => {
              const img = all.find((i) => i.id === id);
              if (img === undefined)
                throw new EngineError('staged.not_found', `No staged image ${id}.`, {
                  hint: 'List the staged images again.',
                });
              if (img.status !== 'active')
                throw new EngineError(
                  'staged.not_ready',
                  `Staged image ${img.name ?? id} is ${img.status}, not active.`,
                  {
                    hint: 'Wait until its staging is done.',
                  },
                );
              return img;
            });
      const plan = await planSync(engine, scheduler.repo, wanted, {
        cloud: r.cloud,
        regions: r.regions,
        stores: r.stores ?? [],
        method: r.method ?? 'auto',
        ifExists: 'reuse',
        removeLocal: r.removeLocal === true,
        sameId: r.sameId === true,
      });
      const created = db.transaction(() => plan.jobs.map((j) => scheduler.repo.createJob(j).job.id))();
      return { jobIds: [...new Set([...plan.underWay, ...created])], skipped: plan.skipped.length };
    },
    replicateImage: async (r) => {
      // The copy for regions that cannot pull is downloaded here, before the call answers.
      const plan = await planReplicate(engine, {
        cloud: r.cloud,
        from: r.from,
        to: r.to,
        imageId: r.imageId,
        stores: r.stores ?? [],
        method: r.method ?? 'auto',
        sameId: r.sameId === true,
        keepLocal: r.keepLocal === true,
      });
      return { jobIds: db.transaction(() => plan.jobs.map((j) => scheduler.repo.createJob(j).job.id))() };
    },
  };
}
