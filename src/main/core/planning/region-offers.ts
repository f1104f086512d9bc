/**
 * What the regions of a plan offer, asked before planning: their import methods and stores, and
 * whether the user is admin there (Glance's default policy for copy-image). A region that cannot
 * be reached now is noted and planned as a push, never a reason to refuse the whole job.
 */
import type { Engine } from '../clouds/engine';
import { EngineError } from '../io/errors';
import type { NewJob } from '../queue/job-repository';
import type { RegionOffer } from './distribution-plan';

/** What each region offers; a region that cannot be reached now is undefined (planned as a push). */
export async function askOffers(
  engine: Engine,
  cloud: string,
  regions: string[],
  onUnreachable?: (region: string) => void,
): Promise<Map<string, RegionOffer | undefined>> {
  const offers = new Map<string, RegionOffer | undefined>();
  for (const region of regions) {
    try {
      const caps = await engine.regionCapabilities(cloud, region);
      offers.set(region, { methods: caps.methods, stores: caps.stores.map((s) => s.id) });
    } catch (e) {
      if (!(e instanceof EngineError && e.code.startsWith('net.'))) throw e;
      offers.set(region, undefined);
      onUnreachable?.(region);
    }
  }
  return offers;
}

/** Whether the user's token carries the admin role (Glance's default policy for copy-image). */
export async function isAdmin(engine: Engine, cloud: string): Promise<boolean> {
  return (await engine.session(cloud).auth()).roles.includes('admin');
}

/**
 * Before queuing: each region must offer the import methods its targets use (/v2/info/import).
 * A region that cannot be reached now is not held against the job (it is checked again when
 * the target runs): the queue is for links that come and go.
 */
export async function checkMethodsOffered(
  engine: Engine,
  cloud: string,
  jobs: readonly NewJob[],
  onUnreachable?: (region: string) => void,
): Promise<void> {
  const byRegion = new Map<string, Set<string>>();
  for (const t of jobs.flatMap((j) => j.targets))
    if (t.method !== undefined && t.method !== 'direct')
      byRegion.set(t.region, (byRegion.get(t.region) ?? new Set()).add(t.method));
  for (const [region, methods] of byRegion) {
    let offered: string[];
    try {
      offered = (await engine.regionCapabilities(cloud, region)).methods;
    } catch (e) {
      if (!(e instanceof EngineError && e.code.startsWith('net.'))) throw e;
      onUnreachable?.(region);
      continue;
    }
    const missing = [...methods].filter((m) => !offered.includes(m));
    if (missing.length > 0)
      throw new EngineError(
        'glance.method_not_offered',
        `${region} of ${cloud} does not offer ${missing.join(', ')}; nothing was queued.`,
        { hint: `It offers: ${offered.join(', ')}.` },
      );
  }
}
