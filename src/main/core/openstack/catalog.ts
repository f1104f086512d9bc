/** The Keystone service catalog: which endpoint serves a service type in a region and interface. */
import { EngineError } from '../io/errors';

export interface CatalogEndpoint {
  region: string;
  interface: string;
  url: string;
}

export interface CatalogService {
  type: string;
  name?: string;
  endpoints: CatalogEndpoint[];
}

export function parseCatalog(raw: unknown): CatalogService[] {
  if (!Array.isArray(raw)) return [];
  return raw.flatMap((s: unknown) => {
    if (typeof s !== 'object' || s === null) return [];
    const svc = s as { type?: unknown; name?: unknown; endpoints?: unknown };
    if (typeof svc.type !== 'string' || !Array.isArray(svc.endpoints)) return [];
    const endpoints = svc.endpoints.flatMap((e: unknown) => {
      const ep = e as { region_id?: unknown; region?: unknown; interface?: unknown; url?: unknown };
      const region = typeof ep.region_id === 'string' ? ep.region_id : typeof ep.region === 'string' ? ep.region : '';
      return typeof ep.url === 'string' && typeof ep.interface === 'string'
        ? [{ region, interface: ep.interface, url: ep.url }]
        : [];
    });
    return [{ type: svc.type, name: typeof svc.name === 'string' ? svc.name : undefined, endpoints }];
  });
}

/** Regions that have an endpoint of `type` on `iface`, in catalog order. */
export function regionsOf(catalog: CatalogService[], type: string, iface: string): CatalogEndpoint[] {
  const svc = catalog.find((s) => s.type === type);
  if (svc === undefined) return [];
  return svc.endpoints.filter((e) => e.interface === iface);
}

/** The object store's endpoint of a region on an interface, if the catalog has one. */
export function objectStoreEndpoint(catalog: CatalogService[], region: string, iface: string): string | undefined {
  const svc = catalog.find((s) => s.type === 'object-store');
  return svc?.endpoints.find((e) => e.region === region && e.interface === iface)?.url;
}

export function imageEndpoint(catalog: CatalogService[], region: string, iface: string): string {
  const svc = catalog.find((s) => s.type === 'image');
  if (svc === undefined) {
    throw new EngineError('catalog.no_image_service', 'The service catalog has no image service (Glance).', {
      hint: `Services in the catalog: ${catalog.map((s) => s.type).join(', ') || 'none'}. Ask the cloud operator for Glance access.`,
    });
  }
  const ep = svc.endpoints.find((e) => e.region === region && e.interface === iface);
  if (ep === undefined) {
    const offered = [...new Set(svc.endpoints.filter((e) => e.interface === iface).map((e) => e.region))];
    throw new EngineError('catalog.region_not_found', `No ${iface} image endpoint in region "${region}".`, {
      hint:
        offered.length > 0
          ? `Regions with a ${iface} image endpoint: ${offered.join(', ')}.`
          : `No region has a ${iface} image endpoint; try another interface.`,
    });
  }
  return ep.url;
}
