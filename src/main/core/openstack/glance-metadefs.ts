/**
 * Glance's metadata definitions (`/v2/metadefs`): the properties a cloud's operator describes for
 * images (namespaces associated with `OS::Glance::Image`, each property with its type, allowed
 * values and description). The upload form uses them to offer known keys and values; a cloud
 * without any (or a server without the API) simply offers none.
 */
import { glanceError } from './glance-errors';
import type { GlanceClient } from './glance-client';
import type { MetadefProperty } from '../../../shared/dto';

export const IMAGE_RESOURCE_TYPE = 'OS::Glance::Image';
/** Namespaces read at most (a cloud's catalog of definitions is tens, not thousands). */
const MAX_NAMESPACES = 100;

const enc = encodeURIComponent;

interface RawProperty {
  title?: string;
  description?: string;
  type?: string;
  enum?: unknown[];
  items?: { enum?: unknown[] };
  default?: unknown;
}

async function getJson(glance: GlanceClient, path: string, what: string): Promise<unknown> {
  const res = await glance.request({ method: 'GET', path });
  if (res.status === 404) return undefined; // no metadefs API here
  if (res.status !== 200) throw glanceError(res, what);
  return JSON.parse(res.body.toString('utf8')) as unknown;
}

/** Every property the cloud defines for images, its name with the namespace's image prefix. */
export async function imageMetadefs(glance: GlanceClient): Promise<MetadefProperty[]> {
  const list = (await getJson(
    glance,
    `/v2/metadefs/namespaces?resource_types=${enc(IMAGE_RESOURCE_TYPE)}&limit=${MAX_NAMESPACES}`,
    'Reading the metadata definitions failed',
  )) as { namespaces?: { namespace: string; display_name?: string }[] } | undefined;
  const out: MetadefProperty[] = [];
  // With resource_type, Glance names each property with the association's prefix (hw_, os_...).
  const details = await Promise.all(
    (list?.namespaces ?? []).map(
      async (ns) =>
        [
          ns,
          (await getJson(
            glance,
            `/v2/metadefs/namespaces/${enc(ns.namespace)}?resource_type=${enc(IMAGE_RESOURCE_TYPE)}`,
            `Reading the metadata definitions of ${ns.namespace} failed`,
          )) as { properties?: Record<string, RawProperty> } | undefined,
        ] as const,
    ),
  );
  for (const [ns, detail] of details) {
    for (const [key, p] of Object.entries(detail?.properties ?? {})) {
      const values = p.enum ?? p.items?.enum;
      out.push({
        key,
        namespace: ns.display_name ?? ns.namespace,
        ...(p.title !== undefined ? { title: p.title } : {}),
        ...(p.description !== undefined ? { description: p.description } : {}),
        ...(p.type !== undefined ? { type: p.type } : {}),
        ...(values !== undefined ? { enum: values.map(String) } : {}),
      });
    }
  }
  return merged(out);
}

/**
 * One entry per property name: stock Glance defines some in two namespaces (hw_vif_model for
 * VMware and for libvirt); their allowed values and namespaces are joined rather than one hiding
 * the other.
 */
function merged(list: MetadefProperty[]): MetadefProperty[] {
  const byKey = new Map<string, MetadefProperty>();
  for (const p of list) {
    const seen = byKey.get(p.key);
    if (seen === undefined) {
      byKey.set(p.key, p);
      continue;
    }
    const values = [...new Set([...(seen.enum ?? []), ...(p.enum ?? [])])];
    byKey.set(p.key, {
      ...seen,
      namespace: `${seen.namespace}, ${p.namespace}`,
      ...(values.length > 0 ? { enum: values } : {}),
    });
  }
  return [...byKey.values()].sort((a, b) => a.key.localeCompare(b.key));
}
