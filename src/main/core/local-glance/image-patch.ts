/**
 * `PATCH /v2/images/{id}` as Glance 25 runs it, in its two steps: the request is read and
 * every change checked first (media type, JSON pointer, operation, value, read-only and
 * reserved attributes, the image schema), then the changes are applied one by one with the
 * policy of each (owner only, publicize for admins, owner changes for admins), and finally an
 * image the caller could no longer see is refused as a whole.
 */
import { HttpError } from './http-kit';
import type { Caller } from './identity';
import { canSee, mayChangeVisibility, mustOwn } from './image-access';
import { BASE, checkPropertyCount, setAttr } from './image-doc';
import type { ImageRecord, ImageStore } from './image-store';
import { checkAttribute } from './schema-check';

const OPS = ['add', 'remove', 'replace'] as const;
type Op = (typeof OPS)[number];

export interface Change {
  op: Op;
  key: string;
  value?: unknown;
  /** 4 for the v2.0 media type (add refuses an existing attribute), 10 for v2.1. */
  draft: 4 | 10;
}

export const PATCH_TYPES: Record<string, 4 | 10> = {
  'application/openstack-images-v2.0-json-patch': 4,
  'application/openstack-images-v2.1-json-patch': 10,
};

const READ_ONLY = new Set([
  'created_at',
  'updated_at',
  'status',
  'checksum',
  'size',
  'virtual_size',
  'direct_url',
  'self',
  'file',
  'schema',
  'id',
  'os_hash_algo',
  'os_hash_value',
]);
const RESERVED = new Set(['location', 'deleted', 'deleted_at']);

const bad = (msg: string): HttpError => new HttpError(400, msg);

/** Glance's _validate_json_pointer and _decode_json_pointer. */
function decodePointer(pointer: string): string[] {
  if (!pointer.startsWith('/')) throw bad(`Pointer \`${pointer}\` does not start with "/".`);
  if (/\/\s*?\//.test(pointer.slice(1))) throw bad(`Pointer \`${pointer}\` contains adjacent "/".`);
  if (pointer.length > 1 && pointer.endsWith('/')) throw bad(`Pointer \`${pointer}\` end with "/".`);
  if (pointer.slice(1).trim() === '/') throw bad(`Pointer \`${pointer}\` does not contains valid token.`);
  if (/~[^01]/.test(pointer) || pointer.endsWith('~'))
    throw bad(`Pointer \`${pointer}\` contains "~" not part of a recognized escape sequence.`);
  return pointer
    .replace(/^\/+/, '')
    .split('/')
    .map((p) => p.replaceAll('~1', '/').replaceAll('~0', '~').trim());
}

/** One raw change read as the media type's draft says (v2.1: op and path; v2.0: the op names the path). */
function readChange(raw: Record<string, unknown>, draft: 4 | 10): { op: Op; path: unknown } {
  if (draft === 10) {
    const op = raw.op;
    if (op === undefined || op === null)
      throw bad('Unable to find `op` in JSON Schema change. It must be one of the following: add, remove, replace.');
    if (!OPS.includes(op as Op))
      throw bad(`Invalid operation: \`${String(op)}\`. It must be one of the following: add, remove, replace.`);
    if (!('path' in raw)) throw bad("Unable to find 'path' in JSON Schema change");
    return { op: op as Op, path: raw.path };
  }
  const named = OPS.filter((o) => o in raw);
  if (named.length > 1)
    throw bad('Operation objects must contain only one member named "add", "remove", or "replace".');
  const [op] = named;
  if (op === undefined)
    throw bad('Operation objects must contain exactly one member named "add", "remove", or "replace".');
  return { op, path: raw[op] };
}

/** The request checked as Glance's deserializer checks it; the changes, in order. */
export function parsePatch(contentType: string | undefined, body: unknown): Change[] {
  const type = (contentType ?? '').split(';')[0]?.trim() ?? '';
  const draft = PATCH_TYPES[type];
  if (draft === undefined) throw HttpError.unsupportedMediaType(contentType ?? '', Object.keys(PATCH_TYPES).join(', '));
  if (body === undefined) throw bad('Body expected in request.');
  if (!Array.isArray(body)) throw bad('Request body must be a JSON array of operation objects.');
  return body.map((raw: unknown) => {
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw bad('Operations must be JSON objects.');
    const { op, path: pointer } = readChange(raw as Record<string, unknown>, draft);
    const path = decodePointer(String(pointer));
    // Glance's depth limits: one segment, except a location added or removed by index.
    const depth = path[0] === 'locations' && op !== 'replace' ? 2 : 1;
    if (path.length !== depth) throw bad(`Invalid JSON pointer for this resource: '/${path.join('/')}'`);
    const key = path[0] ?? '';
    if (op !== 'remove' && !('value' in raw)) throw bad(`Operation "${op}" requires a member named "value".`);
    if (READ_ONLY.has(key)) throw new HttpError(403, `Attribute '${key}' is read-only.`);
    if (RESERVED.has(key) || key.startsWith('os_glance')) throw new HttpError(403, `Attribute '${key}' is reserved.`);
    const value = (raw as { value?: unknown }).value;
    if (op !== 'remove') checkAttribute(key, value);
    return { op, key, value, draft };
  });
}

/** Where locations are hidden (Glance's show_multiple_locations off), they may not change. */
function refuseLocations(op: Op): never {
  const verb = op === 'replace' ? 'update' : op;
  throw new HttpError(403, `It's not allowed to ${verb} locations if locations are invisible.`);
}

/** One change, as Glance's controller applies it. */
function applyChange(img: ImageRecord, c: Change, caller: Caller): void {
  if (c.key === 'locations') refuseLocations(c.op);
  if (c.key === 'owner' && c.op === 'replace' && !caller.isAdmin)
    throw HttpError.detailed(403, "Owner can't be updated by non admin.");
  if (c.key === 'visibility' && c.op !== 'remove') mayChangeVisibility(caller, c.value);
  mustOwn(img, caller);
  const exists = BASE.has(c.key) || Object.hasOwn(img.properties, c.key);
  if (c.op === 'remove') {
    if (BASE.has(c.key)) throw HttpError.detailed(403, `Property ${c.key} may not be removed.`);
    if (!exists) throw HttpError.detailed(409, `Property ${c.key} does not exist.`);
    delete img.properties[c.key];
    return;
  }
  if (c.op === 'replace' && !exists) throw HttpError.detailed(409, `Property ${c.key} does not exist.`);
  if (c.op === 'add' && c.draft === 4 && exists) throw HttpError.detailed(409, `Property ${c.key} already present.`);
  setAttr(img, c.key, c.value);
}

/**
 * The changes applied to the image (not saved: the caller saves it whole). Glance saves and
 * reads the image back inside one transaction: a change that leaves it invisible to the caller
 * (a member giving it to another project) undoes the whole patch.
 */
export function applyPatch(store: ImageStore, img: ImageRecord, changes: Change[], caller: Caller): void {
  for (const c of changes) applyChange(img, c, caller);
  checkPropertyCount(img);
  if (!canSee(store, img, caller)) throw new HttpError(403, `Forbidding request, image ${img.id} not visible`);
}
