/**
 * Replicate: an image that is in one region goes into others (and more stores). Each target gets
 * the cheapest method (distribution-plan.ts): regions offering glance-download pull it from the
 * source region (a job whose source is the image itself); the others are pushed from one local
 * copy, downloaded once with resume and verified into the data folder's cache, and removed by the
 * scheduler once every push is verified (unless kept). Shared by the CLI and the app.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Engine } from '../clouds/engine';
import { EngineError } from '../io/errors';
import { downloadImage } from '../openstack/glance-data';
import { planDistribution, type PlanMethod } from '../planning/distribution-plan';
import type { NewJob, NewTarget } from '../queue/job-repository';
import { identify } from '../io/source-file';
import { stagedMetadata } from './local-cloud';
import { askOffers, isAdmin } from '../planning/region-offers';

export interface ReplicateRequest {
  cloud: string;
  from: string;
  to: string[];
  imageId: string;
  stores: string[];
  method: PlanMethod;
  /** Create every copy with the source image's id. */
  sameId: boolean;
  /** Keep the downloaded copy after the pushes (default: removed once they are verified). */
  keepLocal: boolean;
  bwlimit?: number;
  onUnreachable?: (region: string) => void;
  /** Called with the plan before anything is downloaded or queued. */
  onPlan?: (name: string, targets: NewTarget[]) => void;
  onDownload?: (name: string, targets: number) => void;
}

export interface ReplicatePlan {
  name: string;
  jobs: NewJob[];
  /** The downloaded copy, when some regions are pushed. */
  cache?: string;
}

export async function planReplicate(engine: Engine, r: ReplicateRequest): Promise<ReplicatePlan> {
  const to = r.to.filter((x) => x !== r.from);
  if (to.length === 0)
    throw new EngineError('queue.invalid_job', 'Nothing to replicate into: name regions other than the source.', {
      hint: 'For example from RegionOne to RegionTwo.',
    });
  const source = await engine.glance(r.cloud, r.from);
  const image = await source.findImage(r.imageId);
  if (image === undefined)
    throw new EngineError('source.not_found', `No image ${r.imageId} in ${r.from} of ${r.cloud}.`, {
      hint: `\`openstack image list --os-region-name ${r.from}\` lists them.`,
    });
  if (image.status !== 'active' || image.size === null || image.checksum === null || image.os_hash_value === null)
    throw new EngineError(
      'source.unreadable',
      `Image ${r.imageId} in ${r.from} is ${image.status}: nothing to copy yet.`,
      {
        hint: 'Wait until it is active (with its size and hashes).',
      },
    );
  const offers = await askOffers(engine, r.cloud, [r.from, ...to], r.onUnreachable);
  const plan = planDistribution({
    cloud: r.cloud,
    regions: to,
    stores: r.stores,
    offers,
    sourceRegion: r.from,
    admin: await isAdmin(engine, r.cloud),
    method: r.method,
  });
  const name = image.name ?? image.id;
  r.onPlan?.(name, [...plan.targets, ...plan.push]);
  const common = {
    name,
    metadata: stagedMetadata(image),
    bwlimit: r.bwlimit,
    ...(r.sameId ? { sameImageId: image.id } : {}),
  };
  const jobs: NewJob[] = [];
  if (plan.targets.length > 0)
    jobs.push({
      ...common,
      source: {
        kind: 'image',
        cloud: r.cloud,
        region: r.from,
        id: image.id,
        size: image.size,
        md5: image.checksum,
        sha512: image.os_hash_value,
      },
      targets: plan.targets,
    });
  if (plan.push.length === 0) return { name, jobs };
  // One verified local copy for every region that is pushed (resumed if an earlier run was cut).
  mkdirSync(engine.cacheDir, { recursive: true, mode: 0o700 });
  const cache = join(engine.cacheDir, `${image.id}.img`);
  r.onDownload?.(name, plan.push.length);
  await downloadImage(source, image.id, cache, { resume: true });
  const id = await identify(cache);
  jobs.push({
    ...common,
    source: { kind: 'file', path: cache, size: id.size, mtimeMs: id.mtimeMs, ino: id.ino, dev: id.dev },
    targets: plan.push,
    removeStagedAfter: !r.keepLocal, // the scheduler removes the cached copy once every push is verified
  });
  return { name, jobs, cache };
}
