/**
 * The steps that make an image the catalog keeps look as declared: its name, listing and
 * visibility, the properties, tags, sizes and protection the family declares, its state
 * (deactivated or not), and its members (accepted with the consumer's credentials when given).
 */
import type { GlanceImage } from '../openstack/glance-client';
import type { ImageMember } from '../openstack/glance-members';
import type { PatchOp } from '../openstack/glance-types';
import type { Family } from './catalog-file';
import type { CatalogAction, Emit } from './catalog-plan';
import { PROP } from './catalog-state';
import type { Desired } from './desired-image';

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
export function lookChanges(f: Family, i: GlanceImage, d: Desired, base: Base, emit: Emit): void {
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
export function converge(
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
