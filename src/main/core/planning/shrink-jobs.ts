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
import { AUTO_SHRINK_DATA_SHARE, planShrink } from './shrink-plan';
import { dataOf } from '../inspect/inspect';
import { scanData } from '../io/zero-runs';
import { missingQemuImg, qcow2Bound, qemuImgVersion } from '../io/qemu-img';
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

/** What each region that converts offers (a shrink there may need glance-direct). */
async function offersWhereConverted(
  engine: Engine,
  jobs: NewJob[],
  conversion: (cloud: string, region: string) => ConversionFact | undefined,
): Promise<Map<string, string[] | undefined>> {
  const offered = new Map<string, string[] | undefined>();
  for (const t of jobs.flatMap((j) => j.targets)) {
    const key = `${t.cloud}\n${t.region}`;
    if (!offered.has(key) && conversion(t.cloud, t.region)?.converts === true)
      offered.set(key, await importMethods(engine, t.cloud, t.region));
  }
  return offered;
}

/** The most the job's compressed copy may take (its file's data plus qcow2's tables). */
function copyBound(job: NewJob): number | undefined {
  const src = job.source;
  if (src.kind !== 'file' && src.kind !== 'staged') return undefined;
  return qcow2Bound(src.size, dataOf(job.inspection) ?? src.size);
}

/**
 * A raw file that auto would shrink only if it held less than the file system says (zeros
 * written as data: a disk copied with scp, or downloaded) is read through once to count its
 * zero runs, and the count kept with its inspection. Only where it can change the plan: auto,
 * a region that converts, a file not already known to be mostly empty.
 */
async function scanWhereItMatters(
  job: NewJob,
  mode: ShrinkMode,
  conversion: (cloud: string, region: string) => ConversionFact | undefined,
): Promise<void> {
  const ins = job.inspection as { format?: string; dataSize?: unknown } | undefined;
  if (mode !== 'auto' || job.source.kind !== 'file' || ins?.format !== 'raw' || ins.dataSize !== undefined) return;
  const known = dataOf(ins);
  if (known !== null && known <= job.source.size * AUTO_SHRINK_DATA_SHARE) return;
  if (!job.targets.some((t) => conversion(t.cloud, t.region)?.converts === true)) return;
  job.inspection = { ...ins, dataSize: await scanData(job.source.path) };
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
  const offered = await offersWhereConverted(engine, jobs, conversion);
  let largest: { need: number; name: string } | undefined;
  let tool: Promise<string | undefined> | undefined;
  for (const job of jobs) {
    await scanWhereItMatters(job, o.mode, conversion);
    const plan = planShrink(job, {
      mode: o.mode,
      methodChosen: o.methodChosen,
      conversion,
      offers: (cloud, region) => offered.get(`${cloud}\n${region}`),
    });
    const shrinks = plan.targets.some((t) => t.sendFormat !== undefined);
    if (shrinks && (await (tool ??= qemuImgVersion())) === undefined) {
      // Without qemu-img: asked for (qcow2), a coded error now; by default (auto), the file as it is.
      if (o.mode === 'qcow2') throw missingQemuImg();
      o.onWarning?.(job, 'qemu-img is not installed here: sent as it is (install qemu-utils to shrink).');
      continue;
    }
    job.targets = plan.targets;
    for (const w of plan.warnings) o.onWarning?.(job, w);
    const need = shrinks ? copyBound(job) : undefined;
    if (need !== undefined && (largest === undefined || need > largest.need)) largest = { need, name: job.name };
  }
  if (largest !== undefined)
    await assertCacheFits(shrinkDir(engine.cacheDir), largest.need, largest.name, repo.settings.get('shrinkCacheGiB'));
}
