/**
 * One look at a catalog: the file read and checked (its clouds against the engine's), each
 * family's versions from its sources, every targeted region read, and the plan. `plan` shows
 * it; `apply` makes it, then looks again until nothing is left to do.
 */
import type { Engine } from '../clouds/engine';
import { loadCatalog, type Catalog } from './catalog-file';
import { planCatalog, type CatalogPlan } from './catalog-plan';
import { readState } from './catalog-state';
import { declaredVersions, type DeclaredVersion } from './version-sources';

export interface CatalogLook {
  catalog: Catalog;
  declared: Map<string, DeclaredVersion[]>;
  plan: CatalogPlan;
}

/** The catalog at `path` as it stands now (nothing is changed anywhere). */
export function readCatalog(engine: Engine, path: string): Catalog {
  return loadCatalog(path, (name) => engine.hasCloud(name));
}

export async function lookAt(engine: Engine, catalog: Catalog): Promise<CatalogLook> {
  const declared = new Map(catalog.families.map((f) => [f.id, declaredVersions(catalog, f)]));
  const states = await readState(engine, catalog);
  return { catalog, declared, plan: planCatalog(catalog, declared, states) };
}

/** Whether a catalog targets the data folder's own server (which must then run). */
export function targetsLocal(c: Catalog, isLocal: (cloud: string) => boolean): boolean {
  return c.families.some(
    (f) => f.targets.some((t) => isLocal(t.cloud)) || (f.members ?? []).some((m) => isLocal(m.accept_with ?? '')),
  );
}
