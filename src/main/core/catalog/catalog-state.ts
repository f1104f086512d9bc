/**
 * What the clouds hold of a catalog, read from the clouds themselves (never from this machine):
 * the images carrying our properties (catalog, family, version), hidden ones included (Glance
 * lists them only when asked, and then only them: two lists), the images that carry a family's
 * plain name without being ours (left alone unless the family adopts them), and the members of
 * shared families' images. Every region is read before anything is planned: one that cannot be
 * read refuses the whole plan, so an apply is never half-made on a partial picture.
 */
import type { Engine } from '../clouds/engine';
import { EngineError } from '../io/errors';
import type { GlanceImage } from '../openstack/glance-client';
import { listMembers, type ImageMember } from '../openstack/glance-members';
import type { Catalog, Family } from './catalog-file';

/** The properties every image of a catalog carries: its state lives in the clouds. */
export const PROP = {
  catalog: 'glance_uploader_catalog',
  family: 'glance_uploader_family',
  version: 'glance_uploader_version',
  /** On an image a family adopted: its own id (a snapshot of it, which copies properties, has another). */
  adopted: 'glance_uploader_adopted',
  // (and shared/image-properties.ts: which target made it, the sha512 it was verified against)
} as const;

export interface RegionKey {
  cloud: string;
  region: string;
}

export interface RegionState extends RegionKey {
  /** The project the cloud entry works in: only its images are ever changed. */
  project: string;
  /** Images of that project carrying the catalog's name (any family, hidden or not). */
  ours: GlanceImage[];
  /** By family id: images with the family's plain name that the catalog did not make. */
  foreign: Map<string, GlanceImage[]>;
  /** By image id: members of the catalog's images of families that share. */
  members: Map<string, ImageMember[]>;
}

export const regionKey = (k: RegionKey): string => `${k.cloud}\u0000${k.region}`;

/** Every (cloud, region) the catalog targets, with the families that go there. */
export function regionsOf(c: Catalog): (RegionKey & { families: Family[] })[] {
  const out = new Map<string, RegionKey & { families: Family[] }>();
  for (const f of c.families)
    for (const t of f.targets)
      for (const region of t.regions) {
        const k = regionKey({ cloud: t.cloud, region });
        const r = out.get(k) ?? { cloud: t.cloud, region, families: [] };
        if (!r.families.includes(f)) r.families.push(f);
        out.set(k, r);
      }
  return [...out.values()];
}

async function readRegion(engine: Engine, c: Catalog, r: RegionKey & { families: Family[] }): Promise<RegionState> {
  const glance = await engine.glance(r.cloud, r.region);
  const project = (await engine.session(r.cloud).auth()).projectId;
  const mine = { owner: project, properties: { [PROP.catalog]: c.name } };
  const [shown, hidden] = await Promise.all([glance.listImages(mine), glance.listImages({ ...mine, os_hidden: true })]);
  const ours = [...shown, ...hidden].filter((i) => i[PROP.catalog] === c.name);
  const foreign = new Map<string, GlanceImage[]>();
  for (const f of r.families) {
    const named = [
      ...(await glance.listImages({ name: f.name })),
      ...(await glance.listImages({ name: f.name, os_hidden: true })),
    ];
    const theirs = named.filter((i) => i[PROP.catalog] === undefined);
    if (theirs.length > 0) foreign.set(f.id, theirs);
  }
  // (members can be read only while an image is shared: the plan holds the others back by rule)
  const members = new Map<string, ImageMember[]>();
  for (const i of ours) if (i.visibility === 'shared') members.set(i.id, await listMembers(glance, i.id));
  return { cloud: r.cloud, region: r.region, project, ours, foreign, members };
}

/** Reads every region the catalog targets; the first that cannot be read refuses the plan. */
export async function readState(engine: Engine, c: Catalog): Promise<RegionState[]> {
  const regions = regionsOf(c);
  const settled = await Promise.allSettled(regions.map((r) => readRegion(engine, c, r)));
  const states: RegionState[] = [];
  for (const [i, s] of settled.entries()) {
    if (s.status === 'fulfilled') {
      states.push(s.value);
      continue;
    }
    const r = regions[i]!;
    const cause = s.reason instanceof EngineError ? s.reason.info : undefined;
    throw new EngineError(
      cause?.code ?? 'internal',
      `Plan refused: ${r.region} of ${r.cloud} cannot be read (${cause?.message ?? String(s.reason)}). Nothing was changed anywhere.`,
      { hint: cause?.hint ?? 'Every target must answer before a plan is made, so an apply is never half-made.' },
    );
  }
  return states;
}
