/**
 * What the regions of a plan offer, asked before planning: their import methods and stores, and
 * whether the user is admin there (Glance's default policy for copy-image). A region that cannot
 * be reached now is noted and planned as a push, never a reason to refuse the whole job.
 */
import type { Engine } from '../clouds/engine';
import { EngineError } from '../io/errors';
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
