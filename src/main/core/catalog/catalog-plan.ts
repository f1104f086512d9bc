/**
 * The plan (pure): what must change in each cloud and region for it to hold what the catalog
 * declares, each step with its reason, as `terraform plan` shows it. Per family and region: the
 * versions declared and those the region holds, one order for both; the latest (pinned, else the
 * newest declared) carries the plain name, older ones the lifecycle's name and state; beyond
 * keep-N they are deleted, unless protected or shared and not allowed. An image the catalog did
 * not make is never touched unless the family adopts it. Applying the plan, reading the clouds
 * again and planning once more gives nothing to do: that is how apply converges.
 */
import type { CatalogActionKind } from '../../../shared/catalog-dto';
import type { GlanceImage } from '../openstack/glance-client';
import type { PatchOp } from '../openstack/glance-types';
import type { ImageMember } from '../openstack/glance-members';
import type { Catalog, Family } from './catalog-file';
import { catalogImageId } from './catalog-ids';
import { createFieldsOf, desiredOf, olderName, orderVersions } from './desired-image';
import { converge, lookChanges } from './image-changes';
import { madeByCatalog, usable } from './image-identity';
import { adoption, otherFamilies } from './foreign-images';
import { PROP, regionKey, regionsOf, type RegionKey, type RegionState } from './catalog-state';
import { sourceLabel, type DeclaredVersion } from './version-sources';

export type ActionKind = CatalogActionKind;

export interface CatalogAction extends RegionKey {
  kind: ActionKind;
  family: string;
  version?: string;
  imageId?: string;
  /** What changes, for people: `"Ubuntu 24.04" -> "Ubuntu 24.04 (20240601)"`. */
  what: string;
  why: string;
  /** A change made by hand since the catalog was last applied (not a rotation). */
  drift?: boolean;
  /** Done once the upload before it made the image (shown in the plan, made by apply's second pass). */
  afterUpload?: boolean;
  patch?: PatchOp[];
  member?: string;
  acceptWith?: string;
  upload?: { version: DeclaredVersion; fields: Record<string, unknown> };
}

export interface CatalogPlan {
  catalog: string;
  actions: CatalogAction[];
  /** Changes (anything but notes). */
  changes: number;
}

export type Emit = (a: Omit<CatalogAction, 'cloud' | 'region' | 'family'>) => void;

/** Why an image beyond keep-N stays (protected, shared), or undefined when it may go. */
function heldBack(f: Family, i: GlanceImage, members: ImageMember[] | undefined): string | undefined {
  if (i.protected && !f.lifecycle.delete_protected)
    return 'it is protected (lifecycle.delete_protected: true lets it go)';
  // (members are readable only while the image is shared: a family that shares holds them all)
  if (
    ((members ?? []).some((m) => m.status === 'accepted') || (f.members ?? []).length > 0) &&
    !f.lifecycle.delete_shared
  )
    return 'it is shared with other projects (lifecycle.delete_shared: true lets it go)';
  return undefined;
}

/**
 * A version beyond keep-N: deleted (unprotected first when allowed), or kept with the reason. One
 * pushed out only by versions not in the region yet waits for them (`now` false): an upload that
 * fails never leaves a region with fewer versions than it had.
 */
function retire(f: Family, main: GlanceImage, s: RegionState, version: string, emit: Emit, now: boolean): void {
  const keep = f.lifecycle.keep ?? 0;
  if (!now) {
    emit({
      kind: 'delete',
      version,
      imageId: main.id,
      afterUpload: true,
      what: `"${main.name ?? ''}"`,
      why: `only the ${keep} newest versions are kept`,
    });
    return;
  }
  // First it stops looking like the latest (a delete that fails, or one held back, leaves no
  // second image with the plain name).
  lookChanges(f, main, desiredOf(f, version, false, main.created_at), { version, imageId: main.id }, emit);
  const held = heldBack(f, main, s.members.get(main.id));
  if (held !== undefined) {
    emit({
      kind: 'note',
      version,
      imageId: main.id,
      what: `keep "${main.name ?? ''}"`,
      why: `beyond keep ${keep}, but ${held}`,
    });
    return;
  }
  if (main.protected)
    emit({
      kind: 'unprotect',
      version,
      imageId: main.id,
      what: 'protected -> false',
      why: 'to delete it',
      patch: [{ op: 'replace', path: '/protected', value: false }],
    });
  emit({
    kind: 'delete',
    version,
    imageId: main.id,
    what: `"${main.name ?? ''}"`,
    why: `only the ${keep} newest versions are kept`,
  });
}

interface FamilyView {
  c: Catalog;
  f: Family;
  s: RegionState;
  declared: DeclaredVersion[];
  latest: DeclaredVersion | undefined;
  kept: Set<string>;
  /** The version with the plain name until the latest is in the region (the latest once it is). */
  latestNow: string | undefined;
  /** What keep-N keeps of the versions the region holds now. */
  keptNow: Set<string>;
  /** Nothing rotates in this region now: a change on an image we keep was made by hand. */
  settled: boolean;
  /** How many versions the region holds already. */
  held: number;
}

/** A second image of one version (made by hand, or by another generation): noted, left alone. */
function noteExtras(
  s: RegionState,
  version: string,
  imgs: GlanceImage[],
  main: GlanceImage | undefined,
  emit: Emit,
): void {
  for (const x of imgs.filter((i) => i !== main))
    emit({
      kind: 'note',
      version,
      imageId: x.id,
      what: `extra image "${x.name ?? ''}"`,
      why: `${s.region} has a second image of ${version}: left alone`,
      drift: true,
    });
}

function planVersion(v: FamilyView, version: string, imgs: GlanceImage[], emit: Emit): void {
  const { c, f, s } = v;
  const d = v.declared.find((x) => x.version === version);
  const id = catalogImageId({
    catalog: c.name,
    family: f.id,
    version,
    cloud: s.cloud,
    region: s.region,
    generation: d?.generation,
  });
  const main =
    imgs.find((i) => i.id === id && usable(i)) ?? imgs.find(usable) ?? imgs.find((i) => i.id === id) ?? imgs[0];
  noteExtras(s, version, imgs, main, emit);
  const isLatest = version === v.latest?.version;
  if (!v.kept.has(version)) {
    if (main !== undefined) retire(f, main, s, version, emit, !v.keptNow.has(version));
    return;
  }
  if (main !== undefined && usable(main)) {
    // (an image of this version that does not hold it while another does: noteExtras said so)
    const latestNow = version === v.latestNow;
    converge(f, main, desiredOf(f, version, latestNow, main.created_at), s.members.get(main.id), emit, v.settled);
    if (latestNow && !isLatest && v.latest !== undefined)
      emit({
        kind: 'rename',
        version,
        imageId: main.id,
        afterUpload: true,
        what: `"${f.name}" -> "${olderName(f, version, main.created_at)}"`,
        why: `${v.latest.version} takes the plain name once it is in ${s.region}`,
      });
    return;
  }
  if (d !== undefined) planUpload(v, d, id, main, emit); // (not declared any more and never finished: nothing)
}

/** A version the region does not hold yet (or whose image was never verified): its upload. */
function planUpload(v: FamilyView, d: DeclaredVersion, id: string, main: GlanceImage | undefined, emit: Emit): void {
  const { c, f } = v;
  const version = d.version;
  const isLatest = version === v.latest?.version;
  const why =
    main !== undefined
      ? main.status === 'active'
        ? 'its image was never verified against the source: it is checked again'
        : `its image is ${main.status}: the upload continues`
      : v.held === 0
        ? 'new in this region'
        : 'a new version';
  const name = isLatest ? f.name : olderName(f, version, undefined);
  emit({
    kind: 'upload',
    version,
    imageId: id,
    what: `${sourceLabel(d.source)} as "${name}"`,
    why,
    upload: { version: d, fields: createFieldsOf(c, f, d, isLatest) },
  });
  if ((f.members ?? []).length > 0 && desiredOf(f, version, isLatest, undefined).visibility === 'shared')
    emit({
      kind: 'share',
      version,
      imageId: id,
      afterUpload: true,
      what: `+ ${(f.members ?? []).length} member(s)`,
      why: 'the family is shared',
    });
}

/**
 * Which version carries the plain name now: the latest once it is in this region, else where
 * the name is (or the newest there). And whether the family is settled here (not rotating): the
 * latest holds the name, or was renamed since it was made (by hand: a change then is drift).
 */
function whereTheNameIs(
  f: Family,
  images: GlanceImage[],
  byVersion: Map<string, GlanceImage[]>,
  latest: DeclaredVersion | undefined,
  kept: Set<string>,
  present: string[],
): { latestNow: string | undefined; settled: boolean } {
  const holder = images.find((i) => i.name === f.name && usable(i));
  const latestNow =
    latest !== undefined && present.includes(latest.version)
      ? latest.version
      : holder !== undefined && kept.has(String(holder[PROP.version]))
        ? String(holder[PROP.version])
        : present.at(-1);
  const newest = (byVersion.get(latestNow ?? '') ?? []).find(usable);
  const settled =
    newest === undefined ||
    String(holder?.[PROP.version]) === latestNow ||
    newest.name !== olderName(f, latestNow ?? '', newest.created_at);
  return { latestNow, settled };
}

function planFamily(c: Catalog, f: Family, declared: DeclaredVersion[], s: RegionState, emit: Emit): void {
  const all = s.ours.filter((i) => i[PROP.family] === f.id);
  const images = all.filter((i) => madeByCatalog(c, f, s, i, declared));
  for (const i of all.filter((x) => !images.includes(x)))
    emit({
      kind: 'note',
      version: String(i[PROP.version]),
      imageId: i.id,
      what: `"${i.name ?? ''}" carries the catalog's properties`,
      why: 'the catalog did not make it (a snapshot, or made by hand): left alone',
      drift: true,
    });
  const byVersion = new Map<string, GlanceImage[]>();
  for (const i of images)
    byVersion.set(String(i[PROP.version]), [...(byVersion.get(String(i[PROP.version])) ?? []), i]);
  const latest = declared.find((v) => v.latest) ?? declared.at(-1);
  const holds = (v: string): boolean => (byVersion.get(v) ?? []).some(usable);
  // What keep-N counts: versions declared, and those a region holds (an unfinished image of a
  // version no longer declared holds nothing: noted below, never counted).
  const universe = [...new Set([...declared.map((v) => v.version), ...[...byVersion.keys()].filter(holds)])].sort(
    orderVersions,
  );
  for (const [v, imgs] of byVersion)
    if (!universe.includes(v))
      for (const i of imgs)
        emit({
          kind: 'note',
          version: v,
          imageId: i.id,
          what: `"${i.name ?? ''}" is ${i.status}, never verified`,
          why: `${v} is no longer declared: left alone`,
        });
  const keep = f.lifecycle.keep;
  const window = (vs: string[], last: string | undefined): Set<string> => {
    const w = new Set(keep === undefined ? vs : vs.slice(-keep));
    if (last !== undefined) w.add(last);
    return w;
  };
  const kept = window(universe, latest?.version);
  const present = universe.filter(holds);
  const { latestNow, settled } = whereTheNameIs(f, images, byVersion, latest, kept, present);
  const keptNow = window(present, latestNow);
  const view: FamilyView = { c, f, s, declared, latest, kept, latestNow, keptNow, settled, held: byVersion.size };
  for (const version of universe) planVersion(view, version, byVersion.get(version) ?? [], emit);
  adoption(f, s, emit);
}

const ORDER: ActionKind[] = [
  'adopt',
  'upload',
  'rename',
  'hide',
  'show',
  'visibility',
  'update',
  'reactivate',
  'deactivate',
  'share',
  'accept',
  'unprotect',
  'delete',
  'note',
];

/** Renames away from the plain name go before the one into it: never two images with that name. */
function renameOrder(f: Family, a: CatalogAction): number {
  if (a.kind !== 'rename') return 0;
  return a.patch?.[0] !== undefined && 'value' in a.patch[0] && a.patch[0].value === f.name ? 1 : 0;
}

export function planCatalog(c: Catalog, declared: Map<string, DeclaredVersion[]>, states: RegionState[]): CatalogPlan {
  const byKey = new Map(states.map((s) => [regionKey(s), s]));
  const actions: CatalogAction[] = [];
  for (const r of regionsOf(c)) {
    const s = byKey.get(regionKey(r));
    if (s === undefined) continue;
    for (const f of r.families) {
      const mine: CatalogAction[] = [];
      planFamily(c, f, declared.get(f.id) ?? [], s, (a) =>
        mine.push({ ...a, cloud: r.cloud, region: r.region, family: f.id }),
      );
      mine.sort((a, b) => ORDER.indexOf(a.kind) - ORDER.indexOf(b.kind) || renameOrder(f, a) - renameOrder(f, b));
      actions.push(...mine);
    }
    actions.push(...otherFamilies(r, s));
  }
  // An adopted image's own rotation is planned once it carries our properties (the next pass).
  for (const a of actions.filter((x) => x.kind === 'adopt'))
    a.patch?.unshift({ op: 'add', path: `/${PROP.catalog}`, value: c.name });
  return { catalog: c.name, actions, changes: actions.filter((a) => a.kind !== 'note').length };
}
