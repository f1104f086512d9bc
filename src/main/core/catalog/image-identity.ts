/**
 * Which images of a region are the catalog's, and which hold their version. Identity is by id
 * (the version's, of some generation), never by properties alone: a snapshot of an instance
 * copies its image's properties, ours included, and must never be renamed or deleted as ours.
 */
import { SOURCE_SHA512 } from '../../../shared/image-properties';
import type { GlanceImage } from '../openstack/glance-client';
import type { Catalog, Family } from './catalog-file';
import { catalogImageId } from './catalog-ids';
import { PROP, type RegionState } from './catalog-state';
import { ADOPTED } from './desired-image';
import type { DeclaredVersion } from './version-sources';

/**
 * An image that holds its version: active (or deactivated) and verified against its source (an
 * upload under way, a dead one, or one whose file changed while it was sent does not), or one
 * the family adopted.
 */
export const usable = (i: GlanceImage): boolean =>
  (i.status === 'active' || i.status === 'deactivated') && (i[SOURCE_SHA512] !== undefined || i[PROP.adopted] === i.id);

/** Generations whose ids are looked for beside the declared one (a version made again after a delete). */
const GENERATIONS = 20;

/**
 * Whether the catalog made this image (or adopted it): its id is the version's, of some
 * generation. A snapshot of an instance copies the image's properties, ours included: its id
 * tells it apart, and it is never renamed or deleted.
 */
export function madeByCatalog(
  c: Catalog,
  f: Family,
  s: RegionState,
  i: GlanceImage,
  declared: DeclaredVersion[],
): boolean {
  const version = String(i[PROP.version]);
  if (version.startsWith(ADOPTED)) return i[PROP.adopted] === i.id;
  const gens = new Set([
    ...Array(GENERATIONS + 1).keys(),
    declared.find((v) => v.version === version)?.generation ?? 0,
  ]);
  return [...gens].some(
    (generation) =>
      catalogImageId({ catalog: c.name, family: f.id, version, cloud: s.cloud, region: s.region, generation }) === i.id,
  );
}
