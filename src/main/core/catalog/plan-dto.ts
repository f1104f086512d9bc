/** The plan and an apply's steps as the app receives them (shared/catalog-dto.ts). */
import type { CatalogActionDto, CatalogPlanDto, CatalogStepDto } from '../../../shared/catalog-dto';
import type { StepOutcome } from './catalog-apply';
import type { CatalogAction, CatalogPlan } from './catalog-plan';

export function actionDto(a: CatalogAction): CatalogActionDto {
  return {
    kind: a.kind,
    cloud: a.cloud,
    region: a.region,
    family: a.family,
    version: a.version ?? null,
    imageId: a.imageId ?? null,
    what: a.what,
    why: a.why,
    drift: a.drift === true,
    afterUpload: a.afterUpload === true,
  };
}

export function planDto(plan: CatalogPlan, path: string): CatalogPlanDto {
  const regions: CatalogPlanDto['regions'] = [];
  for (const a of plan.actions) {
    let r = regions.at(-1);
    if (r === undefined || r.cloud !== a.cloud || r.region !== a.region)
      regions.push((r = { cloud: a.cloud, region: a.region, actions: [] }));
    r.actions.push(actionDto(a));
  }
  return { catalog: plan.catalog, path, changes: plan.changes, regions };
}

export function stepDto(o: StepOutcome): CatalogStepDto {
  return { action: actionDto(o.action), error: o.error ?? null };
}
