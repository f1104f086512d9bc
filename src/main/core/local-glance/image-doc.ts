/**
 * The image document of the embedded server, as Glance 25 writes and validates it: which
 * attributes exist, which are read-only or reserved, how each writable one is checked (the
 * messages are Glance's), the document it answers with, and the import methods it offers.
 */
import { HttpError } from './http-kit';
import { isotime } from './glance-time';
import { glanceTime, type ImageRecord, type ImageStore } from './image-store';
import { checkAttribute } from './schema-check';
import type { WebDownloadOptions } from './web-download';

/** Attributes of every image (removing one is refused; replacing one that is unset is not). */
export const BASE = new Set([
  'id',
  'name',
  'visibility',
  'protected',
  'os_hidden',
  'min_disk',
  'min_ram',
  'disk_format',
  'container_format',
  'tags',
  'owner',
]);
const READ_ONLY = new Set([
  'status',
  'checksum',
  'size',
  'virtual_size',
  'os_hash_algo',
  'os_hash_value',
  'created_at',
  'updated_at',
  'self',
  'file',
  'schema',
  'direct_url',
  'stores',
]);
const RESERVED = new Set(['location', 'locations', 'deleted', 'deleted_at']);
export const VISIBILITIES = ['public', 'private', 'shared', 'community'];
/** Glance's image_property_quota and image_tag_quota. */
const MAX_PROPERTIES = 128;
export const MAX_TAGS = 128;

/** The import methods a server with these options offers. */
export function importMethods(o: { webDownload?: WebDownloadOptions; stores?: number }): string[] {
  return [
    'glance-direct',
    ...(o.webDownload?.enabled ? ['web-download'] : []),
    ...((o.stores ?? 1) > 1 ? ['copy-image'] : []),
  ];
}

/**
 * The document Glance answers with, in its key order: custom properties first (as added), the
 * base fields, the links, and `stores` last (multi-store only, once the image has data; a
 * deactivated image's only for an admin).
 */
export function imageDoc(i: ImageRecord, multiStore = false, admin = false): Record<string, unknown> {
  return {
    ...i.properties,
    name: i.name,
    disk_format: i.disk_format,
    container_format: i.container_format,
    visibility: i.visibility,
    size: i.size,
    virtual_size: i.virtual_size,
    status: i.status,
    checksum: i.checksum,
    protected: i.protected,
    min_ram: i.min_ram,
    min_disk: i.min_disk,
    owner: i.owner,
    os_hidden: i.os_hidden,
    os_hash_algo: i.os_hash_algo,
    os_hash_value: i.os_hash_value,
    id: i.id,
    created_at: isotime(i.created_at),
    updated_at: isotime(i.updated_at),
    tags: i.tags,
    self: `/v2/images/${i.id}`,
    file: `/v2/images/${i.id}/file`,
    schema: '/v2/schemas/image',
    // A deactivated image's locations are hidden from all but admins, and its stores with them.
    ...(multiStore && i.stores.length > 0 && (admin || i.status !== 'deactivated')
      ? { stores: i.stores.join(',') }
      : {}),
  };
}

/** A new image as `POST /v2/images` makes it, before the request's attributes are set. */
export function newImage(id: string, owner: string): ImageRecord {
  const now = glanceTime();
  return {
    id: id.toLowerCase(),
    name: null,
    status: 'queued',
    visibility: 'shared',
    protected: false,
    os_hidden: false,
    owner,
    disk_format: null,
    container_format: null,
    size: null,
    virtual_size: null,
    checksum: null,
    os_hash_algo: null,
    os_hash_value: null,
    min_disk: 0,
    min_ram: 0,
    created_at: now,
    updated_at: now,
    tags: [],
    properties: {},
    partial_size: null,
    upload_total: null,
    stores: [],
    packed: false,
    packKept: false,
  };
}

/** A live image (not deleted), or Glance's 404. */
export function liveImage(store: ImageStore, id: string): ImageRecord {
  const img = store.get(id);
  if (img === undefined || img.status === 'deleted') throw new HttpError(404, `No image found with ID ${id}`);
  return img;
}

/** Whether a request may write this attribute at all (create may name the id, an update may not). */
export function checkKey(key: string, forCreate: boolean): void {
  if (READ_ONLY.has(key) || (!forCreate && key === 'id')) throw new HttpError(403, `Attribute '${key}' is read-only.`);
  if (RESERVED.has(key) || key.startsWith('os_glance')) throw new HttpError(403, `Attribute '${key}' is reserved.`);
  if (key.length > 255) throw new HttpError(400, `Property name is longer than 255 characters: ${key.slice(0, 40)}...`);
}

export function checkPropertyCount(img: ImageRecord): void {
  if (Object.keys(img.properties).length > MAX_PROPERTIES)
    throw new HttpError(
      413,
      `The limit has been exceeded on the number of allowed image properties. Attempted: ${Object.keys(img.properties).length}, Maximum: ${MAX_PROPERTIES}`,
    );
}

type Setter = (img: ImageRecord, key: string, value: unknown) => void;

/** The schema's checks (Glance's words), then the value stored. */
const setPlain: Setter = (img, key, value) => {
  checkAttribute(key, value);
  (img as unknown as Record<string, unknown>)[key] = value;
};

const setMinimum: Setter = (img, key, value) => {
  checkAttribute(key, value);
  if ((value as number) < 0)
    throw new HttpError(400, `Invalid value '${String(value)}' for parameter '${key}': Cannot be a negative value`);
  img[key as 'min_disk' | 'min_ram'] = value as number;
};

const setFormat: Setter = (img, key, value) => {
  checkAttribute(key, value);
  const field = key as 'disk_format' | 'container_format';
  if (img.status !== 'queued' && img[field] !== value)
    throw new HttpError(403, `Attribute ${field} can be only replaced for a queued image.`);
  img[field] = value as string | null;
};

const setTags: Setter = (img, _key, value) => {
  checkAttribute('tags', value);
  const tags = [...new Set(value as string[])];
  if (tags.length > MAX_TAGS)
    throw new HttpError(
      413,
      `The limit has been exceeded on the number of allowed image tags. Attempted: ${tags.length}, Maximum: ${MAX_TAGS}`,
    );
  img.tags = tags;
};

const setProperty: Setter = (img, key, value) => {
  checkAttribute(key, value);
  // Defined, not assigned: a property named `__proto__` is a property, not the object's prototype.
  Object.defineProperty(img.properties, key, { value, enumerable: true, writable: true, configurable: true });
};

/** Glance stores an empty owner as none (NULL). */
const setOwner: Setter = (img, key, value) => {
  checkAttribute(key, value);
  img.owner = value === '' ? null : (value as string | null);
};

// A Map, not an object: a property named `constructor` or `__proto__` is a custom property.
const SETTERS = new Map<string, Setter>([
  ['name', setPlain],
  ['visibility', setPlain],
  ['protected', setPlain],
  ['os_hidden', setPlain],
  ['min_disk', setMinimum],
  ['min_ram', setMinimum],
  ['disk_format', setFormat],
  ['container_format', setFormat],
  ['tags', setTags],
  ['owner', setOwner],
]);

/** Set one writable attribute on a record, validated as Glance's schema does. */
export function setAttr(img: ImageRecord, key: string, value: unknown): void {
  (SETTERS.get(key) ?? setProperty)(img, key, value);
}
