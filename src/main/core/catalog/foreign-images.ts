/**
 * Images in a region that the plan of a family does not cover: those with a family's plain name
 * that the catalog did not make (noted, or adopted when the family says so: they join it as
 * older versions), and the catalog's images of a family it no longer sends to the region
 * (noted as drift, never touched).
 */
import type { Family } from './catalog-file';
import type { CatalogAction, Emit } from './catalog-plan';
import { PROP, type RegionKey, type RegionState } from './catalog-state';
import { ADOPTED } from './desired-image';

/** Images with the family's name that the catalog did not make: taken in only when told. */
export function adoption(f: Family, s: RegionState, emit: Emit): void {
  for (const i of s.foreign.get(f.id) ?? []) {
    if (!f.lifecycle.adopt || i.owner !== s.project) {
      emit({
        kind: 'note',
        imageId: i.id,
        what: `"${i.name ?? ''}" (${i.id}) is not the catalog’s`,
        why:
          i.owner !== s.project
            ? 'left alone: another project owns it'
            : 'left alone: lifecycle.adopt: true would rotate it with the family',
      });
      continue;
    }
    const version = `${ADOPTED}${i.created_at.slice(0, 10)}-${i.id.slice(0, 8)}`;
    emit({
      kind: 'adopt',
      version,
      imageId: i.id,
      what: `"${i.name ?? ''}" joins the family as an older version`,
      why: 'lifecycle.adopt is on',
      patch: [
        { op: 'add', path: `/${PROP.family}`, value: f.id },
        { op: 'add', path: `/${PROP.version}`, value: version },
        { op: 'add', path: `/${PROP.adopted}`, value: i.id },
      ],
    });
  }
}

/** The catalog's images of families not sent to this region: notes. */
export function otherFamilies(r: RegionKey & { families: Family[] }, s: RegionState): CatalogAction[] {
  const out: CatalogAction[] = [];
  const here = new Set(r.families.map((f) => f.id));
  for (const i of s.ours.filter((x) => !here.has(String(x[PROP.family]))))
    out.push({
      kind: 'note',
      cloud: r.cloud,
      region: r.region,
      family: String(i[PROP.family]),
      version: String(i[PROP.version]),
      imageId: i.id,
      what: `extra image "${i.name ?? ''}"`,
      why: `${r.region} has an image of a family the catalog does not send here: left alone`,
      drift: true,
    });
  return out;
}
