/**
 * Shrink, applied to jobs about to be queued (the CLI's upload, the app's New upload): what each
 * target's region does with an import (remembered from its probe), what it offers (asked only
 * where a shrink could need glance-direct), the plan (shrink-plan.ts), its warnings, and the
 * cache's room for the largest copy checked now, before anything is queued.
 */
import type { Engine } from '../clouds/engine';
import type { ShrinkMode } from '../../../shared/dto';
import { EngineError } from '../io/errors';
import type { JobRepository, NewJob } from '../queue/job-repository';
import { assertCacheFits, shrinkDir } from '../io/cache-space';
import { qcow2Bound } from '../io/qemu-img';
import { planShrink } from './shrink-plan';
import type { ConversionFact } from '../../../shared/dto';

export interface ShrinkJobsOptions {
  mode: ShrinkMode;
  methodChosen: boolean;
  onWarning?: (job: NewJob, warning: string) => void;
}

async function importMethods(engine: Engine, cloud: string, region: string): Promise<string[] | undefined> {
  try {
    return (await engine.regionCapabilities(cloud, region)).methods;
  } catch (e) {
    if (e instanceof EngineError && e.code.startsWith('net.')) return undefined; // planned without it
    throw e;
  }
}

export async function shrinkJobs(
  engine: Engine,
  repo: JobRepository,
  jobs: NewJob[],
  o: ShrinkJobsOptions,
): Promise<void> {
  if (o.mode === 'off') return;
  const conversion = (cloud: string, region: string): ConversionFact | undefined =>
    repo.regionFacts.conversion(cloud, region)?.value;
  const offered = new Map<string, string[] | undefined>();
  for (const t of jobs.flatMap((j) => j.targets)) {
    const key = `${t.cloud}\n${t.region}`;
    if (!offered.has(key) && conversion(t.cloud, t.region)?.converts === true)
      offered.set(key, await importMethods(engine, t.cloud, t.region));
  }
  let largest: { need: number; name: string } | undefined;
  for (const job of jobs) {
    const plan = planShrink(job, {
      mode: o.mode,
      methodChosen: o.methodChosen,
      conversion,
      offers: (cloud, region) => offered.get(`${cloud}\n${region}`),
    });
    job.targets = plan.targets;
    for (const w of plan.warnings) o.onWarning?.(job, w);
    if (job.source.kind !== 'file' || !plan.targets.some((t) => t.sendFormat !== undefined)) continue;
    const allocated = (job.inspection as { allocatedSize?: number | null } | undefined)?.allocatedSize;
    const need = qcow2Bound(job.source.size, allocated ?? job.source.size);
    if (largest === undefined || need > largest.need) largest = { need, name: job.name };
  }
  if (largest !== undefined)
    await assertCacheFits(shrinkDir(engine.cacheDir), largest.need, largest.name, repo.settings.get('shrinkCacheGiB'));
}
