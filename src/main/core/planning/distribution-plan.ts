/**
 * The cheapest way to get one image into N regions (and stores) of a cloud, target by target,
 * from what each region advertises (/v2/info/import, its stores) and what the user's roles
 * allow, with the reason shown to the user:
 *
 * - a region that offers glance-download pulls the image from a region that has it (all the
 *   regions of one cloud share its Keystone): the bytes cross the user's link once;
 * - another store of a region gets copy-image from the region's first store (the region must
 *   offer it and the user may use it: Glance's default policy allows admins only; otherwise the
 *   plan is refused, as a push there would make a second image rather than a second copy);
 * - everything else is pushed from the local copy, read once for all (the engine's fan-out);
 *   a file from the relay's size on goes through the region's object store instead, where the
 *   region offers it (resumable at the segment: Glance cannot resume a PUT).
 *
 * Pure: the caller asks the regions, this decides.
 */
import { EngineError } from '../io/errors';
import type { NewTarget } from '../queue/job-repository';

import type { PlanMethod, UploadMethod } from '../../../shared/plan-methods';

export type { PlanMethod };

export interface RegionOffer {
  /** Import methods the region advertises (direct is implied). */
  methods: string[];
  stores: string[];
}

export interface PlanInput {
  cloud: string;
  /** Regions to fill, in the user's order. */
  regions: string[];
  /** Stores to fill in each region (the first gets the data; empty: the default store). */
  stores: string[];
  /** What each region offers; undefined when it could not be asked now (unreachable). */
  offers: ReadonlyMap<string, RegionOffer | undefined>;
  /** A replicate's region that already has the image (it is not a target, it is the source). */
  sourceRegion?: string;
  /** Whether the user's token has the admin role (copy-image's default policy). */
  admin: boolean;
  /** relay: a local file's upload only (never a replicate's). */
  method: UploadMethod;
  /** A local file's size, and the size from which auto relays it where offered. */
  relay?: { size: number; from: number };
}

export interface Plan {
  /** Targets of the job (each with its planReason). */
  targets: NewTarget[];
  /**
   * A replicate's targets that need the bytes pushed from a local copy (glance-download not
   * possible there): the caller downloads the image once and sends it to these.
   */
  push: NewTarget[];
}

export function planDistribution(input: PlanInput): Plan {
  const { cloud, regions, stores } = input;
  const replicate = input.sourceRegion !== undefined;
  // The region others pull from: the replicate's source, else the first region (it gets the push).
  const hub = input.sourceRegion ?? regions[0] ?? '';
  const targets: NewTarget[] = [];
  const push: NewTarget[] = [];
  if (replicate)
    // The source region has the image in its first store already: only its other stores.
    for (const store of stores.slice(1)) {
      targets.push(copyTarget(input, hub, store));
    }
  for (const region of regions) {
    if (region === input.sourceRegion) continue;
    const m = mainMethod(input, region, hub);
    const first: NewTarget = { cloud, region, store: stores[0], method: m.method, planReason: m.reason };
    // A replicate's region without glance-download is pushed, with its other stores.
    const into = replicate && m.method === 'direct' ? push : targets;
    into.push(first);
    for (const store of stores.slice(1)) into.push(copyTarget(input, region, store));
  }
  return { targets, push };
}

/** How the region's first store gets the image. */
function mainMethod(input: PlanInput, region: string, hub: string): { method: string; reason: string } {
  const replicate = input.sourceRegion !== undefined;
  const offers = input.offers;
  const offer = offers.get(region);
  const relay = relayed(input, region, offer);
  if (!replicate && region === hub)
    return (
      relay ?? {
        method: 'direct',
        reason: 'receives the upload: the local copy is read once for every region that gets it',
      }
    );
  if (input.method === 'push') return { method: 'direct', reason: 'push asked for' };
  if (relay !== undefined && input.method === 'relay') return relay;
  if (offer?.methods.includes('glance-download') === true)
    return {
      method: 'glance-download',
      reason: `${region} offers glance-download and shares ${hub}'s Keystone: it pulls the image from ${hub}, no byte crosses this machine again`,
    };
  if (input.method === 'glance-download')
    return {
      method: 'glance-download',
      reason:
        offer === undefined
          ? `glance-download asked for (${region} could not be asked now; checked when it runs)`
          : `glance-download asked for, though ${region} does not advertise it (the target will say so)`,
    };
  if (relay !== undefined) return relay;
  return offer === undefined
    ? { method: 'direct', reason: `${region} could not be asked what it offers now: pushed` }
    : { method: 'direct', reason: `${region} does not offer glance-download: pushed from the local copy` };
}

const GiB = 1024 ** 3;

/** auto, a file from the relay's size on, a region with an object store and web-download: relay. */
function relayed(
  input: PlanInput,
  region: string,
  offer: RegionOffer | undefined,
): { method: string; reason: string } | undefined {
  const r = input.relay;
  if (input.sourceRegion !== undefined) return undefined; // a replicate pushes a downloaded copy
  if (input.method === 'relay') {
    if (offer !== undefined && !offer.methods.includes('relay'))
      throw new EngineError(
        'glance.method_not_offered',
        `${region} cannot take a relay: it needs an object store in the catalog and Glance's web-download.`,
        { hint: `It offers: ${offer.methods.join(', ')}. Choose another method for ${region}.` },
      );
    return {
      method: 'relay',
      reason:
        offer === undefined
          ? `relay asked for (${region} could not be asked now; checked when it runs)`
          : `relay asked for: through ${region}'s object store, resumable at the segment`,
    };
  }
  if (input.method !== 'auto' || r === undefined || r.size < r.from || offer?.methods.includes('relay') !== true)
    return undefined;
  return {
    method: 'relay',
    reason: `${(r.size / GiB).toFixed(1)} GiB, from ${(r.from / GiB).toFixed(1)} GiB on: through ${region}'s object store, resumable at the segment (Glance cannot resume a PUT), then imported by Glance`,
  };
}

/**
 * How another store of a region gets it: copy-image from the region's first store (the same
 * image in one more store). A push would make a second image, not a second copy: when
 * copy-image cannot run there, the plan is refused before anything is queued.
 */
function copyTarget(input: PlanInput, region: string, store: string): NewTarget {
  const { cloud, offers } = input;
  const offer = offers.get(region);
  if (offer !== undefined && !offer.methods.includes('copy-image'))
    throw new EngineError(
      'glance.method_not_offered',
      `${region} does not offer copy-image: the image cannot be put into a second store (${store}) there.`,
      { hint: 'Name one store per region, or ask the operator to enable copy-image.' },
    );
  if (!input.admin)
    throw new EngineError(
      'glance.forbidden',
      `Copying the image into ${store} of ${region} needs copy-image, which Glance's default policy allows to admins only.`,
      { hint: 'Name one store per region, or ask an admin of the cloud to copy it.' },
    );
  return {
    cloud,
    region,
    store,
    method: 'copy-image',
    planReason:
      offer === undefined
        ? `copy-image within ${region} (it could not be asked now; checked when it runs)`
        : `copy-image within ${region}: it offers copy-image and you have the admin role`,
  };
}
