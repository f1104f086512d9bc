/**
 * The Catalog screen: the plan of a catalog file (nothing changed), and apply: its uploads queued
 * in the app's queue (the Queue screen shows their progress), then, once they settled, the other
 * steps, looked at again until nothing is left. The call answers when the apply is over.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { ApiHandlers } from '../api-service';
import type { HandlerDeps } from './deps';
import { converge, uploadBatch } from '../../../catalog/catalog-apply';
import { lookAt, readCatalog } from '../../../catalog/catalog-session';
import { planDto, stepDto } from '../../../catalog/plan-dto';
import { allSettled } from '../../../queue/target-state';

type CatalogHandlers = Pick<ApiHandlers, 'catalogPlan' | 'catalogApply'>;

export function catalogHandlers({ engine, db, scheduler }: HandlerDeps): CatalogHandlers {
  const repo = scheduler.repo;
  const settled = (jobIds: string[]): boolean => allSettled(jobIds.flatMap((id) => repo.targetsOf(id)));
  return {
    catalogPlan: async ({ path }) => planDto((await lookAt(engine, readCatalog(engine, path))).plan, path),
    catalogApply: async ({ path }) => {
      const catalog = readCatalog(engine, path);
      const { plan } = await lookAt(engine, catalog);
      const batch = await uploadBatch(catalog, plan, repo);
      const created = db.transaction(() => batch.jobs.map((j) => repo.createJob(j).job.id))();
      const jobIds = [...created, ...batch.queued];
      while (!settled(jobIds)) await sleep(500);
      const { steps, final } = await converge(engine, repo.audit, catalog);
      return { jobIds, refused: batch.refused, steps: steps.map(stepDto), final: planDto(final, path) };
    },
  };
}
