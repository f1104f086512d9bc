/**
 * Sync jobs from staged images: for each image, the regions (and stores) it is not in yet, a
 * plan per target (distribution-plan.ts, then shrink-plan.ts: a raw image goes compressed where
 * the region converts it back), its data file, metadata and staged digests. A region
 * an earlier sync of the image has done, or is still working on, is skipped: a sync never sends
 * an image twice. Used by `glance-uploader sync` and by auto-sync.
 */
import type { SyncRecord } from '../../../shared/dto';
import type { Engine } from '../clouds/engine';
import { EngineError } from '../io/errors';
import type { GlanceImage } from '../openstack/glance-types';
import { planDistribution, type PlanMethod, type RegionOffer } from '../planning/distribution-plan';
import { askOffers, isAdmin } from '../planning/region-offers';
import { shrinkJobs } from '../planning/shrink-jobs';
import { inspectionSummary } from '../planning/upload-plan';
import { dataOf, inspectFile } from '../inspect/inspect';
import type { JobRecord, JobRepository, NewJob, NewTarget, TargetRecord } from '../queue/job-repository';
import { isTerminal } from '../queue/target-state';
import { identify } from '../io/source-file';
import { isLocalCloud, stagedDataPath, stagedMetadata } from './local-cloud';
import { linkStaged, unpackStaged } from '../io/unpacked-copies';

export interface SyncOptions {
  cloud: string;
  regions: string[];
  /** The stores to fill in each region (the first gets the data); empty: the default store. */
  stores: string[];
  method: PlanMethod;
  ifExists: 'upload' | 'reuse';
  removeLocal: boolean;
  /** Create each image with its staged id in every region. */
  sameId: boolean;
  bwlimit?: number;
  /** Also skip regions where an earlier sync failed or was canceled (auto-sync: the user decides). */
  skipSettled?: boolean;
}

export interface Skipped {
  image: string;
  region: string;
  state: string;
  imageId: string | null;
  jobId: string;
}

export interface SyncPlan {
  jobs: NewJob[];
  /** Earlier sync jobs of these images still under way (followed, not queued again). */
  underWay: string[];
  skipped: Skipped[];
}

/** A target of an earlier sync of this image into that place that is done or under way (or, with `settled`, any). */
export function earlierSync(
  repo: JobRepository,
  stagedId: string,
  where: { cloud: string; region: string; store: string },
  settled = false,
): { job: JobRecord; target: TargetRecord } | undefined {
  for (const j of repo.listJobs()) {
    if (j.stagedImageId !== stagedId) continue;
    const t = repo
      .targetsOf(j.id)
      .find(
        (x) =>
          x.cloud === where.cloud &&
          x.region === where.region &&
          x.store === where.store &&
          (settled || x.state === 'done' || !isTerminal(x.state)),
      );
    if (t !== undefined) return { job: j, target: t };
  }
  return undefined;
}

/** Where each staged image went: the targets of every sync job made from it, by staged image id. */
export function syncRecords(repo: JobRepository): Map<string, SyncRecord[]> {
  const byImage = new Map<string, SyncRecord[]>();
  for (const j of repo.listJobs()) {
    if (j.sourceKind !== 'staged' || j.stagedImageId === null) continue;
    const list = byImage.get(j.stagedImageId) ?? [];
    for (const t of repo.targetsOf(j.id))
      list.push({
        jobId: j.id,
        cloud: t.cloud,
        region: t.region,
        store: t.store,
        method: t.method,
        state: t.state,
        imageId: t.remoteImageId,
        error: t.error?.code ?? null,
      });
    byImage.set(j.stagedImageId, list);
  }
  return byImage;
}

/**
 * A staged image's data file as inspection sees it. The embedded server keeps zeros as holes, so
 * the file system's figure is the data; an image staged before it did (zeros written out) takes
 * the smaller data of the file it was staged from, when this data folder staged it. Shrink
 * decides by that.
 */
async function stagedInspection(repo: JobRepository, imageId: string, path: string): Promise<Record<string, unknown>> {
  const own = inspectionSummary(await inspectFile(path));
  const staging = repo.targetsIn(['done']).find((t) => isLocalCloud(t.cloud) && t.remoteImageId === imageId);
  const data = staging === undefined ? null : dataOf(repo.getJob(staging.jobId).inspection);
  return data !== null && data < (dataOf(own) ?? Infinity) ? { ...own, dataSize: data } : own;
}

/**
 * The file a sync job sends, its own (removed when it is done): a packed image's raw bytes
 * unpacked into the cache, or a link to the raw data the server may pack meanwhile.
 */
async function jobFileOf(
  engine: Engine,
  data: { path: string; packed: boolean },
  id: string,
  size: number,
): Promise<string> {
  return data.packed
    ? await unpackStaged(engine.cacheDir, data.path, id, size)
    : await linkStaged(engine.cacheDir, data.path, id);
}

/** The sync jobs for these staged images (not queued: the caller creates them). */
export async function planSync(
  engine: Engine,
  repo: JobRepository,
  images: GlanceImage[],
  o: SyncOptions,
  onUnreachable?: (region: string) => void,
): Promise<SyncPlan> {
  const plan: SyncPlan = { jobs: [], underWay: [], skipped: [] };
  const store = o.stores[0] ?? '';
  let offers: Map<string, RegionOffer | undefined> | undefined;
  let admin = false;
  for (const img of images) {
    const name = img.name ?? img.id;
    const data = stagedDataPath(engine.localServerDir, img.id);
    if (data === undefined || img.os_hash_value === null || img.checksum === null || img.size === null)
      throw new EngineError('staged.not_ready', `The data of staged image ${name} is missing.`, {
        hint: 'Stage the file again.',
      });
    const missing: string[] = [];
    for (const region of o.regions) {
      const there = earlierSync(repo, img.id, { cloud: o.cloud, region, store }, o.skipSettled === true);
      if (there === undefined) {
        missing.push(region);
        continue;
      }
      if (!isTerminal(there.target.state)) plan.underWay.push(there.job.id);
      plan.skipped.push({
        image: name,
        region,
        state: there.target.state,
        imageId: there.target.remoteImageId,
        jobId: there.job.id,
      });
    }
    if (missing.length === 0) continue;
    if (offers === undefined) {
      offers = await askOffers(engine, o.cloud, o.regions, onUnreachable);
      admin = o.stores.length > 1 && (await isAdmin(engine, o.cloud));
    }
    const targets: NewTarget[] = planDistribution({
      cloud: o.cloud,
      regions: missing,
      stores: o.stores,
      offers,
      admin,
      method: o.method,
    }).targets;
    const path = await jobFileOf(engine, data, img.id, img.size);
    const id = await identify(path);
    const inspection = await stagedInspection(repo, img.id, path); // what shrink decides by
    plan.jobs.push({
      source: {
        kind: 'staged',
        imageId: img.id,
        path,
        size: id.size,
        mtimeMs: id.mtimeMs,
        ino: id.ino,
        dev: id.dev,
        md5: img.checksum,
        sha512: img.os_hash_value,
      },
      name,
      metadata: stagedMetadata(img),
      inspection,
      targets,
      bwlimit: o.bwlimit,
      onDuplicate: o.ifExists,
      removeStagedAfter: o.removeLocal,
      ...(o.sameId ? { sameImageId: img.id } : {}),
    });
  }
  plan.underWay = [...new Set(plan.underWay)];
  // Each destination as it needs the image: a raw image goes compressed where the region
  // converts imports back (the setting shrink), as it is elsewhere.
  await shrinkJobs(engine, repo, plan.jobs, { mode: repo.settings.get('shrink') ?? 'auto', methodChosen: false });
  return plan;
}
