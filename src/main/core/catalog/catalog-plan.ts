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
import { createFieldsOf, desiredOf, olderName, orderVersions, type Desired } from './desired-image';
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

/** An image that holds its version (an upload under way or a dead one does not). */
const usable = (i: GlanceImage): boolean => i.status === 'active' || i.status === 'deactivated';

/** Property, tag, size and protection drift of an image we keep: one update. */
function attributeDrift(f: Family, i: GlanceImage): { patch: PatchOp[]; what: string[] } {
  const patch: PatchOp[] = [];
  const what: string[] = [];
  const set = (op: PatchOp, text: string): void => {
    patch.push(op);
    what.push(text);
  };
  for (const [k, v] of Object.entries(f.properties ?? {}))
    if (i[k] !== v) set({ op: 'add', path: `/${k}`, value: v }, `${k}=${v}`);
  for (const k of ['min_disk', 'min_ram'] as const)
    if (f[k] !== undefined && i[k] !== f[k]) set({ op: 'replace', path: `/${k}`, value: f[k] }, `${k}=${f[k]}`);
  const missing = (f.tags ?? []).filter((t) => !i.tags.includes(t));
  if (missing.length > 0)
    set({ op: 'replace', path: '/tags', value: [...i.tags, ...missing] }, `tags +${missing.join(',')}`);
  if (f.protected !== undefined && i.protected !== f.protected)
    set({ op: 'replace', path: '/protected', value: f.protected }, `protected=${f.protected}`);
  return { patch, what };
}

type Base = Pick<CatalogAction, 'version' | 'imageId' | 'drift'>;

/** Name, listing and visibility: what people see of the image. */
function lookChanges(f: Family, i: GlanceImage, d: Desired, base: Base, emit: Emit): void {
  const version = base.version ?? '';
  if (i.name !== d.name)
    emit({
      ...base,
      kind: 'rename',
      what: `"${i.name ?? ''}" -> "${d.name}"`,
      why: d.name === f.name ? `${version} is the latest` : `${version} is an older version`,
      patch: [{ op: 'replace', path: '/name', value: d.name }],
    });
  if ((i.os_hidden === true) !== d.hidden)
    emit({
      ...base,
      kind: d.hidden ? 'hide' : 'show',
      what: `os_hidden ${String(i.os_hidden === true)} -> ${String(d.hidden)}`,
      why: d.hidden ? 'older versions are hidden' : `${version} must be listed`,
      patch: [{ op: 'replace', path: '/os_hidden', value: d.hidden }],
    });
  if (i.visibility !== d.visibility)
    emit({
      ...base,
      kind: 'visibility',
      what: `${i.visibility} -> ${d.visibility}`,
      why: d.visibility === 'community' ? 'older versions become community' : 'the family’s visibility',
      patch: [{ op: 'replace', path: '/visibility', value: d.visibility }],
    });
}

/** Members of a shared image: added, and accepted with the consumer's credentials when given. */
function memberChanges(f: Family, members: ImageMember[] | undefined, base: Base, emit: Emit): void {
  for (const m of f.members ?? []) {
    const has = members?.find((x) => x.member_id === m.project);
    if (has === undefined)
      emit({
        ...base,
        kind: 'share',
        what: `+ member ${m.project}`,
        why: 'the family is shared with it',
        member: m.project,
      });
    if (m.accept_with !== undefined && has?.status !== 'accepted')
      emit({
        ...base,
        kind: 'accept',
        what: `${m.project}: ${has?.status ?? 'pending'} -> accepted`,
        why: `accepted with ${m.accept_with}’s credentials`,
        member: m.project,
        acceptWith: m.accept_with,
      });
  }
}

/** The steps that make an image we keep look as declared. */
function converge(
  f: Family,
  i: GlanceImage,
  d: Desired,
  members: ImageMember[] | undefined,
  emit: Emit,
  drift: boolean,
): void {
  const version = String(i[PROP.version]);
  const base: Base = { version, imageId: i.id, drift };
  lookChanges(f, i, d, base, emit);
  const upd = attributeDrift(f, i);
  if (upd.patch.length > 0)
    emit({ ...base, kind: 'update', what: upd.what.join(', '), why: 'the catalog declares them', patch: upd.patch });
  if (i.status === 'active' && d.deactivated)
    emit({ ...base, kind: 'deactivate', what: 'active -> deactivated', why: 'older versions are deactivated' });
  if (i.status === 'deactivated' && !d.deactivated)
    emit({ ...base, kind: 'reactivate', what: 'deactivated -> active', why: `${version} must be usable` });
  if (d.visibility === 'shared') memberChanges(f, members, base, emit);
}

/** Why an image beyond keep-N stays (protected, shared), or undefined when it may go. */
function heldBack(f: Family, i: GlanceImage, members: ImageMember[] | undefined): string | undefined {
  if (i.protected && !f.lifecycle.delete_protected)
    return 'it is protected (lifecycle.delete_protected: true lets it go)';
  if ((members ?? []).some((m) => m.status === 'accepted') && !f.lifecycle.delete_shared)
    return 'it is shared with a project that accepted it (lifecycle.delete_shared: true lets it go)';
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
  const main = imgs.find((i) => i.id === id) ?? imgs[0];
  noteExtras(s, version, imgs, main, emit);
  const isLatest = version === v.latest?.version;
  if (!v.kept.has(version)) {
    if (main !== undefined) retire(f, main, s, version, emit, !v.keptNow.has(version));
    return;
  }
  if (main !== undefined && usable(main)) {
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
  if (d === undefined) return; // not declared any more and never finished: nothing to make
  const why =
    main !== undefined
      ? `its image is ${main.status}: the upload continues`
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

function planFamily(c: Catalog, f: Family, declared: DeclaredVersion[], s: RegionState, emit: Emit): void {
  const images = s.ours.filter((i) => i[PROP.family] === f.id);
  const byVersion = new Map<string, GlanceImage[]>();
  for (const i of images)
    byVersion.set(String(i[PROP.version]), [...(byVersion.get(String(i[PROP.version])) ?? []), i]);
  const latest = declared.find((v) => v.latest) ?? declared.at(-1);
  const universe = [...new Set([...declared.map((v) => v.version), ...byVersion.keys()])].sort(orderVersions);
  const keep = f.lifecycle.keep;
  const window = (vs: string[], last: string | undefined): Set<string> => {
    const w = new Set(keep === undefined ? vs : vs.slice(-keep));
    if (last !== undefined) w.add(last);
    return w;
  };
  const kept = window(universe, latest?.version);
  // Until the latest is in this region, the plain name stays where it is (or on the newest there).
  const present = universe.filter((v) => (byVersion.get(v) ?? []).some(usable));
  const holder = images.find((i) => i.name === f.name && usable(i));
  const latestNow =
    latest !== undefined && present.includes(latest.version)
      ? latest.version
      : holder !== undefined && kept.has(String(holder[PROP.version]))
        ? String(holder[PROP.version])
        : present.at(-1);
  const keptNow = window(present, latestNow);
  const settled = latestNow === undefined || String(holder?.[PROP.version]) === latestNow;
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
