/**
 * The Image API v2 subset of the embedded server, following real Glance 25 (see
 * ../shared/reference/glance-keystone.md): create, list (filters, sort, pagination with
 * `next`), show, JSON-patch update, delete, tags, deactivate/reactivate, data upload and
 * download (single ranges), glance-direct staging and import, info and schema documents.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { copyFile, open, rename, rm, stat, writeFile } from 'node:fs/promises';
import { once } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { inspectFile } from '../inspect/inspect';
import { SplitHasher } from '../io/hasher';
import { WriteBehind } from './write-behind';
import { HttpError, readJson, send } from './http-kit';
import { checkUri, fetchImage, type WebDownloadOptions } from './web-download';
import { CONTAINER_FORMATS, DISK_FORMATS, glanceTime, UUID_RE, type ImageRecord, type ImageStore } from './image-store';

export interface ImagesApiOptions {
  store: ImageStore;
  /** The project that owns what the local user makes. */
  owner: string;
  /** Largest image accepted, bytes (Glance's image_size_cap). */
  sizeCap: number;
  /** Total bytes all images may hold, those still receiving data included (0: no limit). */
  quotaBytes: number;
  /** How many images may exist (0: no limit). */
  maxImages: number;
  /** web-download: off unless enabled; local addresses only when allowed. */
  webDownload?: WebDownloadOptions;
}

const BASE = new Set([
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
const VISIBILITIES = ['public', 'private', 'shared', 'community'];
const SORT_KEYS = ['name', 'status', 'container_format', 'disk_format', 'size', 'id', 'created_at', 'updated_at'];
/** The import methods a server with these options offers. */
export function importMethods(o: { webDownload?: WebDownloadOptions; stores?: number }): string[] {
  return [
    'glance-direct',
    ...(o.webDownload?.enabled ? ['web-download'] : []),
    ...((o.stores ?? 1) > 1 ? ['copy-image'] : []),
  ];
}

/** The document Glance answers with: base fields, custom properties flattened, links. */
export function imageDoc(i: ImageRecord, multiStore = false): Record<string, unknown> {
  return {
    id: i.id,
    name: i.name,
    status: i.status,
    visibility: i.visibility,
    protected: i.protected,
    os_hidden: i.os_hidden,
    checksum: i.checksum,
    os_hash_algo: i.os_hash_algo,
    os_hash_value: i.os_hash_value,
    size: i.size,
    virtual_size: i.virtual_size,
    min_disk: i.min_disk,
    min_ram: i.min_ram,
    owner: i.owner,
    disk_format: i.disk_format,
    container_format: i.container_format,
    created_at: i.created_at,
    updated_at: i.updated_at,
    tags: i.tags,
    ...i.properties,
    ...(multiStore && i.stores.length > 0 ? { stores: i.stores.join(',') } : {}),
    self: `/v2/images/${i.id}`,
    file: `/v2/images/${i.id}/file`,
    schema: '/v2/schemas/image',
  };
}

function checkKey(key: string, forCreate: boolean): void {
  if (READ_ONLY.has(key) || (!forCreate && key === 'id')) throw new HttpError(403, `Attribute '${key}' is read-only.`);
  if (RESERVED.has(key) || key.startsWith('os_glance')) throw new HttpError(403, `Attribute '${key}' is reserved.`);
  if (key.length > 255) throw new HttpError(400, `Property name is longer than 255 characters: ${key.slice(0, 40)}...`);
}

const schemaError = (what: string): HttpError =>
  new HttpError(400, `Provided object does not match schema 'image': ${what}`);

/** Set one writable attribute on a record, validated as Glance's schema does. */
function setAttr(img: ImageRecord, key: string, value: unknown, owner: string): void {
  switch (key) {
    case 'name':
      if (value !== null && (typeof value !== 'string' || value.length > 255))
        throw schemaError(`${JSON.stringify(value)} is not a valid name`);
      img.name = value as string | null;
      return;
    case 'visibility':
      if (typeof value !== 'string' || !VISIBILITIES.includes(value))
        throw schemaError(`${JSON.stringify(value)} is not one of ${VISIBILITIES.join(', ')}`);
      img.visibility = value;
      return;
    case 'protected':
    case 'os_hidden':
      if (typeof value !== 'boolean') throw schemaError(`${JSON.stringify(value)} is not of type 'boolean'`);
      img[key] = value;
      return;
    case 'min_disk':
    case 'min_ram':
      if (typeof value !== 'number' || !Number.isInteger(value))
        throw schemaError(`${JSON.stringify(value)} is not of type 'integer'`);
      if (value < 0) throw new HttpError(400, `Cannot set ${key} to a negative value.`);
      img[key] = value;
      return;
    case 'disk_format':
    case 'container_format': {
      const allowed = key === 'disk_format' ? DISK_FORMATS : CONTAINER_FORMATS;
      if (value !== null && (typeof value !== 'string' || !allowed.includes(value)))
        throw schemaError(`${JSON.stringify(value)} is not one of ${allowed.join(', ')}`);
      if (img.status !== 'queued' && img[key] !== value)
        throw new HttpError(403, `Attribute ${key} can be only replaced for a queued image.`);
      img[key] = value as string | null;
      return;
    }
    case 'tags':
      if (!Array.isArray(value) || value.some((t) => typeof t !== 'string' || t.length > 255))
        throw schemaError('tags must be strings');
      img.tags = [...new Set(value as string[])];
      return;
    case 'owner':
      if (value !== owner)
        throw new HttpError(403, `You are not permitted to create images owned by '${String(value)}'.`);
      img.owner = value;
      return;
    default:
      if (typeof value !== 'string') throw schemaError(`${JSON.stringify(value)} is not of type 'string'`);
      img.properties[key] = value;
  }
}

export class ImagesApi {
  /** Uploads in flight, by image id: a delete aborts them. */
  readonly #uploads = new Map<string, AbortController>();

  constructor(private readonly o: ImagesApiOptions) {}

  get #multiStore(): boolean {
    return this.o.store.storeNames.length > 1;
  }

  #doc(i: ImageRecord): Record<string, unknown> {
    return imageDoc(i, this.#multiStore);
  }

  /** The store a request names (X-Image-Meta-Store), checked against the configuration. */
  #storeOf(req: IncomingMessage): string {
    const named = req.headers['x-image-meta-store'];
    if (named === undefined) return this.o.store.defaultStore;
    if (typeof named !== 'string' || !this.o.store.storeNames.includes(named) || !this.#multiStore)
      throw new HttpError(400, `Store for identifier ${String(named)} not found`);
    return named;
  }

  #find(id: string): ImageRecord {
    const img = this.o.store.get(id);
    if (img === undefined || img.status === 'deleted') throw new HttpError(404, `No image found with ID ${id}`);
    return img;
  }

  async create(req: IncomingMessage, res: ServerResponse, baseUrl: string): Promise<void> {
    const body = await readJson(req);
    if (body === null || typeof body !== 'object' || Array.isArray(body))
      throw new HttpError(400, 'Request body must be a JSON object.');
    const fields = body as Record<string, unknown>;
    if (this.o.maxImages > 0 && this.o.store.usage().count >= this.o.maxImages)
      throw new HttpError(413, `Maximum number of images (${this.o.maxImages}) exceeded.`);
    const id = fields.id ?? randomUUID();
    if (typeof id !== 'string' || !UUID_RE.test(id))
      throw schemaError(`${JSON.stringify(id)} does not match the id pattern`);
    if (this.o.store.get(id) !== undefined) throw new HttpError(409, `Image ID ${id} already exists!`);
    const now = glanceTime();
    const img: ImageRecord = {
      id: id.toLowerCase(),
      name: null,
      status: 'queued',
      visibility: 'shared',
      protected: false,
      os_hidden: false,
      owner: this.o.owner,
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
    };
    for (const [k, v] of Object.entries(fields)) {
      if (k === 'id') continue;
      checkKey(k, true);
      setAttr(img, k, v, this.o.owner);
    }
    if (Object.keys(img.properties).length > 128)
      throw new HttpError(413, 'Maximum number of image properties (128) exceeded.');
    this.o.store.insert(img);
    send(res, 201, this.#doc(img), {
      location: `${baseUrl}/v2/images/${img.id}`,
      'openstack-image-import-methods': importMethods({ ...this.o, stores: this.o.store.storeNames.length }).join(','),
    });
  }

  show(res: ServerResponse, id: string): void {
    send(res, 200, this.#doc(this.#find(id)));
  }

  list(res: ServerResponse, query: URLSearchParams): void {
    const limitText = query.get('limit');
    let limit = 25;
    if (limitText !== null) {
      limit = Number(limitText);
      if (!Number.isInteger(limit)) throw new HttpError(400, 'limit param must be an integer');
      if (limit < 0) throw new HttpError(400, 'limit param must be positive');
      limit = Math.min(limit, 1000);
    }
    const sort = parseSort(query);
    let images = this.o.store.all().filter((i) => i.status !== 'killed' && i.status !== 'deleted');
    images = images.filter(filterOf(query));
    images.sort((a, b) => {
      for (const [key, dir] of sort) {
        const x = a[key as keyof ImageRecord] as string | number | null;
        const y = b[key as keyof ImageRecord] as string | number | null;
        const c = x === y ? 0 : x === null ? -1 : y === null ? 1 : x < y ? -1 : 1;
        if (c !== 0) return dir === 'asc' ? c : -c;
      }
      return 0;
    });
    const marker = query.get('marker');
    if (marker !== null) {
      const at = images.findIndex((i) => i.id === marker.toLowerCase());
      if (at < 0) throw new HttpError(400, `No image found with ID ${marker}`);
      images = images.slice(at + 1);
    }
    const page = images.slice(0, limit);
    const first = new URLSearchParams(query);
    first.delete('marker');
    const firstQs = first.toString();
    const body: Record<string, unknown> = {
      images: page.map((i) => this.#doc(i)),
      first: `/v2/images${firstQs ? `?${firstQs}` : ''}`,
      schema: '/v2/schemas/images',
    };
    const last = page.at(-1);
    if (page.length === limit && last !== undefined) {
      const next = new URLSearchParams(first);
      next.set('marker', last.id);
      body.next = `/v2/images?${next.toString()}`;
    }
    send(res, 200, body);
  }

  async patch(req: IncomingMessage, res: ServerResponse, id: string): Promise<void> {
    const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim();
    if (type !== 'application/openstack-images-v2.1-json-patch')
      throw new HttpError(415, `Unsupported Content-Type: ${type ?? ''}`, {
        'accept-patch': 'application/openstack-images-v2.0-json-patch, application/openstack-images-v2.1-json-patch',
      });
    const ops = await readJson(req);
    const img = this.#find(id);
    if (!Array.isArray(ops)) throw new HttpError(400, 'Request body must be a JSON array of operation objects.');
    for (const op of ops as { op?: unknown; path?: unknown; value?: unknown }[]) {
      if (op === null || typeof op !== 'object' || !['add', 'remove', 'replace'].includes(String(op.op)))
        throw new HttpError(400, `Operation objects must contain exactly one of "add", "remove", "replace".`);
      const path = typeof op.path === 'string' ? op.path : '';
      const m = /^\/([^/]+)$/.exec(path);
      const key = m?.[1]?.replaceAll('~1', '/').replaceAll('~0', '~');
      // A harmless superset of Glance: /tags/- and /tags/N (openstacksdk sends them) add a tag.
      if (key === undefined && /^\/tags\/(-|\d+)$/.test(path) && op.op === 'add') {
        if (typeof op.value !== 'string') throw schemaError('tags must be strings');
        img.tags = [...new Set([...img.tags, op.value])];
        continue;
      }
      if (key === undefined) throw new HttpError(400, 'Invalid JSON pointer for this resource: ' + path);
      checkKey(key, false);
      if (op.op === 'remove') {
        if (BASE.has(key)) throw new HttpError(403, `Property ${key} may not be removed.`);
        if (!(key in img.properties)) throw new HttpError(409, `Property ${key} does not exist.`);
        delete img.properties[key];
        continue;
      }
      if (op.op === 'replace' && !BASE.has(key) && !(key in img.properties))
        throw new HttpError(409, `Property ${key} does not exist.`);
      setAttr(img, key, op.value, this.o.owner);
    }
    if (Object.keys(img.properties).length > 128)
      throw new HttpError(413, 'Maximum number of image properties (128) exceeded.');
    img.updated_at = glanceTime();
    this.o.store.save(img);
    send(res, 200, this.#doc(img));
  }

  async delete(res: ServerResponse, id: string): Promise<void> {
    const img = this.o.store.get(id);
    if (img === undefined || img.status === 'deleted') throw new HttpError(404, `Failed to find image ${id} to delete`);
    if (img.protected) throw new HttpError(403, `Image ${id} is protected and cannot be deleted.`);
    this.#uploads.get(img.id)?.abort(); // the upload answers 410 and removes its partial data
    await this.o.store.delete(img.id);
    send(res, 204);
  }

  tag(res: ServerResponse, id: string, tag: string, add: boolean): void {
    const img = this.#find(id);
    if (add) {
      if (tag.length > 255) throw new HttpError(400, 'Tag is longer than 255 characters.');
      if (!img.tags.includes(tag)) {
        if (img.tags.length >= 128) throw new HttpError(413, 'Maximum number of tags (128) exceeded.');
        img.tags.push(tag);
      }
    } else {
      if (!img.tags.includes(tag)) throw new HttpError(404, `Tag ${tag} not found`);
      img.tags = img.tags.filter((t) => t !== tag);
    }
    img.updated_at = glanceTime();
    this.o.store.save(img);
    send(res, 204);
  }

  action(res: ServerResponse, id: string, action: string): void {
    const img = this.#find(id);
    if (action === 'deactivate') {
      if (img.status !== 'active' && img.status !== 'deactivated')
        throw new HttpError(403, `Not allowed to deactivate image in status '${img.status}'`);
      img.status = 'deactivated';
    } else if (action === 'reactivate') {
      if (img.status !== 'active' && img.status !== 'deactivated')
        throw new HttpError(403, `Not allowed to reactivate image in status '${img.status}'`);
      img.status = 'active';
    } else throw new HttpError(404, `Unknown action ${action}`);
    img.updated_at = glanceTime();
    this.o.store.save(img);
    send(res, 204);
  }

  /**
   * PUT /stage (and /file from a client that sends no Content-Length): checked like Glance, then
   * the bytes go to a temp file (hashed on the way), fsync, rename. A client that goes away, a
   * size cap or quota hit, or a delete during the upload leaves no data and the image `queued`
   * again (or gone).
   */
  async upload(req: IncomingMessage, res: ServerResponse, id: string, stage: boolean): Promise<void> {
    if (!stage && req.headers['content-length'] !== undefined) return this.uploadResumable(req, res, id);
    const store = this.#storeOf(req);
    const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim();
    if (type !== 'application/octet-stream') throw new HttpError(415, `Unsupported Content-Type: ${type ?? ''}`);
    const img = this.#find(id);
    if (img.status !== 'queued')
      throw new HttpError(
        409,
        `Image status transition from ${img.status} to ${stage ? 'uploading' : 'saving'} is not allowed`,
      );
    if (!stage && (img.disk_format === null || img.container_format === null))
      throw new HttpError(400, 'Properties disk_format, container_format must be set prior to saving data.');
    const declared = req.headers['content-length'] !== undefined ? Number(req.headers['content-length']) : undefined;
    const tooLarge = (n: number): boolean => n > this.o.sizeCap;
    const overQuota = (n: number): boolean =>
      this.o.quotaBytes > 0 && this.o.store.usage().bytes + n > this.o.quotaBytes;
    if (declared !== undefined && tooLarge(declared))
      throw new HttpError(413, 'The incoming image is too large: The provided image is too large.');
    if (declared !== undefined && overQuota(declared))
      throw new HttpError(413, `Image exceeds the storage quota: ${this.o.quotaBytes} bytes.`);
    // The state and the announced size are recorded first: the bytes count against the quota while they arrive.
    img.status = stage ? 'uploading' : 'saving';
    img.size = declared ?? 0;
    img.updated_at = glanceTime();
    this.o.store.save(img);
    const abort = new AbortController();
    this.#uploads.set(img.id, abort);
    const dir = stage ? this.o.store.stagingDir : this.o.store.imagesDir;
    const temp = this.o.store.tempPath(dir, img.id);
    const md5 = createHash('md5');
    const sha512 = createHash('sha512');
    let bytes = 0;
    let refusal: HttpError | undefined;
    try {
      const out = createWriteStream(temp, { mode: 0o600 });
      await new Promise<void>((resolve, reject) => {
        const fail = (e: unknown): void => {
          req.unpipe(out);
          out.destroy();
          reject(e instanceof Error ? e : new Error(String(e)));
        };
        abort.signal.addEventListener('abort', () => fail(deletedDuringUpload(img.id)));
        req.on('data', (c: Buffer) => {
          bytes += c.length;
          if (tooLarge(bytes)) {
            refusal = new HttpError(413, 'The incoming image is too large: The provided image is too large.');
            fail(refusal);
            return;
          }
          if (declared === undefined && overQuota(bytes)) {
            refusal = new HttpError(413, `Image exceeds the storage quota: ${this.o.quotaBytes} bytes.`);
            fail(refusal);
            return;
          }
          md5.update(c);
          sha512.update(c);
        });
        req.on('aborted', () => fail(new Error('client went away')));
        req.on('error', fail);
        out.on('error', fail);
        out.on('finish', resolve);
        req.pipe(out);
      });
      if (declared !== undefined && bytes !== declared)
        throw new HttpError(400, `Expected ${declared} bytes, got ${bytes}.`);
      await fsyncFile(temp);
      const current = this.o.store.get(img.id);
      if (current === undefined || abort.signal.aborted) throw deletedDuringUpload(img.id);
      const final = stage ? this.o.store.stagePath(img.id) : this.o.store.storePath(store, img.id);
      await rename(temp, final);
      current.size = bytes;
      current.updated_at = glanceTime();
      if (stage) current.status = 'uploading';
      else {
        current.stores = [store];
        current.status = 'active';
        current.checksum = md5.digest('hex');
        current.os_hash_algo = 'sha512';
        current.os_hash_value = sha512.digest('hex');
        current.virtual_size = await virtualSizeOf(final, current);
      }
      this.o.store.save(current);
      send(res, 204);
    } catch (e) {
      await rm(temp, { force: true });
      const still = this.o.store.get(img.id);
      if (still !== undefined) {
        still.status = 'queued';
        still.size = null;
        still.updated_at = glanceTime();
        this.o.store.save(still);
      }
      throw refusal ?? e;
    } finally {
      this.#uploads.delete(img.id);
    }
  }

  /**
   * PUT /file with a known size: resumable. The bytes go to the image's `.part-` file at the
   * offset the request names (`Content-Range: bytes S-E/TOTAL`; no header: from 0, the whole
   * image, as any Glance client sends it). When the connection breaks, what arrived is kept
   * (fsynced): HEAD /file says where to continue (`Upload-Offset`). Once TOTAL bytes are there,
   * the file is fsynced and renamed into place, and the image is active with its hashes.
   */
  async uploadResumable(req: IncomingMessage, res: ServerResponse, id: string): Promise<void> {
    const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim();
    if (type !== 'application/octet-stream') throw new HttpError(415, `Unsupported Content-Type: ${type ?? ''}`);
    const img = this.#find(id);
    if (img.status !== 'queued')
      throw new HttpError(409, `Image status transition from ${img.status} to saving is not allowed`);
    if (img.disk_format === null || img.container_format === null)
      throw new HttpError(400, 'Properties disk_format, container_format must be set prior to saving data.');
    const length = Number(req.headers['content-length']);
    if (!Number.isInteger(length) || length < 0) throw new HttpError(400, 'Invalid Content-Length.');
    const store = this.#storeOf(req);
    const range = parseContentRange(req.headers['content-range'] as string | undefined);
    const start = range?.start ?? 0;
    const total = range?.total ?? length;
    if (range !== undefined) {
      if (range.end - range.start + 1 !== length)
        throw new HttpError(400, 'Content-Length does not match Content-Range.');
      const offset = img.upload_total === total ? (img.partial_size ?? 0) : 0;
      if (start !== offset)
        throw new HttpError(409, `This upload continues at byte ${offset}.`, { 'upload-offset': String(offset) });
    }
    if (total > this.o.sizeCap)
      throw new HttpError(413, 'The incoming image is too large: The provided image is too large.');
    const ownCounted = Math.max(img.size ?? 0, img.upload_total ?? 0);
    if (this.o.quotaBytes > 0 && this.o.store.usage().bytes - ownCounted + total > this.o.quotaBytes)
      throw new HttpError(413, `Image exceeds the storage quota: ${this.o.quotaBytes} bytes.`);
    const part = this.o.store.partPath(img.id);
    if (start === 0) await rm(part, { force: true }); // a whole-body PUT starts over
    img.status = 'saving';
    img.upload_total = total;
    img.partial_size = start;
    img.updated_at = glanceTime();
    this.o.store.save(img); // counted against the quota from the first byte
    const abort = new AbortController();
    this.#uploads.set(img.id, abort);
    let received = 0;
    if (start === 0) await writeFile(part, '', { mode: 0o600 });
    // The bytes are written by a stream and hashed by two workers (md5, sha512) that read them
    // back from the page cache: the event loop only moves data, and both cores hash.
    const out = createWriteStream(part, { flags: 'r+', start, highWaterMark: 4 * 1024 * 1024 });
    const behind = new WriteBehind();
    out.once('open', (fd: number) => behind.attach(fd));
    const hasher = new SplitHasher(part);
    let hashed: Promise<void> = start > 0 ? hasher.advance(start) : Promise.resolve();
    let written = 0;
    let told = 0;
    try {
      await new Promise<void>((resolve, reject) => {
        let failed = false;
        const fail = (e: Error): void => {
          if (failed) return;
          failed = true;
          req.removeAllListeners('data');
          req.resume();
          reject(e);
        };
        abort.signal.addEventListener('abort', () => fail(deletedDuringUpload(img.id)));
        req.on('data', (c: Buffer) => {
          if (received + c.length > length) return fail(new HttpError(400, `More than the announced ${length} bytes.`));
          received += c.length;
          const ok = out.write(c, (err) => {
            if (err) return fail(err);
            // The workers are told in steps of 1 MiB or more (a message per socket chunk costs more than it hashes).
            written += c.length;
            behind.wrote(c.length);
            if (written - told >= 1024 * 1024 || start + written === total) {
              const n = written - told;
              told = written;
              hashed = hashed.then(() => hasher.advance(n));
              hashed.catch((e: unknown) => fail(e as Error)); // a hashing failure fails the upload
            }
          });
          if (!ok || hasher.pending > 64 * 1024 * 1024) {
            req.pause();
            Promise.all([ok ? undefined : once(out, 'drain'), hashed]).then(
              () => req.resume(),
              (e: unknown) => fail(e as Error),
            );
          }
        });
        req.on('end', () => {
          if (received !== length) return fail(new Error('short body'));
          behind.settle().then(
            () => out.end(() => resolve()),
            (e: unknown) => fail(e as Error),
          );
        });
        req.on('aborted', () => fail(new Error('client went away')));
        req.on('error', (e) => fail(e));
        out.on('error', (e) => fail(e));
      });
      if (written > told) {
        const n = written - told;
        told = written;
        hashed = hashed.then(() => hasher.advance(n));
      }
      await hashed;
      await fsyncFile(part);
      const current = this.o.store.get(img.id);
      if (current === undefined || abort.signal.aborted) throw deletedDuringUpload(img.id);
      const stored = start + received;
      if (stored < total) {
        // One piece of a ranged upload: the image waits for the rest.
        current.status = 'queued';
        current.partial_size = stored;
        current.updated_at = glanceTime();
        this.o.store.save(current);
        return send(res, 204, undefined, { 'upload-offset': String(stored) });
      }
      const final = this.o.store.storePath(store, img.id);
      const digests = await hasher.digest(); // the workers read the part file: before the rename
      await rename(part, final);
      current.status = 'active';
      current.stores = [store];
      current.size = total;
      current.checksum = digests.md5;
      current.os_hash_algo = 'sha512';
      current.os_hash_value = digests.sha512;
      current.partial_size = null;
      current.upload_total = null;
      current.virtual_size = await virtualSizeOf(final, current);
      current.updated_at = glanceTime();
      this.o.store.save(current);
      send(res, 204);
    } catch (e) {
      await behind.settle().catch(() => undefined);
      await new Promise<void>((r) => (out.closed ? r() : out.end(() => r())));
      await fsyncFile(part).catch(() => undefined);
      const still = this.o.store.get(img.id);
      if (still === undefined || abort.signal.aborted) await rm(part, { force: true });
      else {
        // Kept for a resume: whatever reached the disk, as Glance's image goes back to queued.
        still.status = 'queued';
        still.partial_size = Math.min((await stat(part).catch(() => ({ size: 0 }))).size, total);
        still.updated_at = glanceTime();
        this.o.store.save(still);
      }
      throw e;
    } finally {
      this.#uploads.delete(img.id);
      await hasher.dispose();
    }
  }

  /** HEAD /file: where a resumable upload continues (Upload-Offset), or the size of the data. */
  head(res: ServerResponse, id: string): void {
    const img = this.#find(id);
    const offset = img.status === 'active' || img.status === 'deactivated' ? (img.size ?? 0) : (img.partial_size ?? 0);
    res.writeHead(200, {
      'upload-offset': String(offset),
      ...(img.upload_total !== null ? { 'upload-length': String(img.upload_total) } : {}),
      ...(img.status === 'active' ? { 'content-length': String(img.size ?? 0) } : { 'content-length': '0' }),
    });
    res.end();
  }

  /** GET /file: 204 without data, 200 or 206 (one range) with Content-MD5 as Glance sends it. */
  async download(req: IncomingMessage, res: ServerResponse, id: string): Promise<void> {
    const img = this.#find(id);
    if (img.status !== 'active' && img.status !== 'deactivated') return void send(res, 204);
    const path = this.o.store.readPath(img);
    const size = (await stat(path)).size;
    const headers: Record<string, string | number> = {
      'content-type': 'application/octet-stream',
      ...(img.checksum ? { 'content-md5': img.checksum } : {}),
    };
    const range = req.headers.range ?? (req.headers['content-range'] as string | undefined);
    if (range !== undefined) {
      if (range.includes(',')) throw new HttpError(400, 'Multiple ranges are not supported.');
      const m = /^bytes[= ](\d*)-(\d*)(?:\/\*)?$/.exec(range.trim());
      if (m === null || (m[1] === '' && m[2] === '')) throw new HttpError(416, 'Invalid Range header.');
      let start: number;
      let end: number;
      if (m[1] === '') {
        start = Math.max(0, size - Number(m[2]));
        end = size - 1;
      } else {
        start = Number(m[1]);
        end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
      }
      if (start >= size || start > end) throw new HttpError(416, 'Invalid start position in Range header.');
      res.writeHead(206, {
        ...headers,
        'content-length': end - start + 1,
        'content-range': `bytes ${start}-${end}/${size}`,
      });
      createReadStream(path, { start, end }).pipe(res);
      return;
    }
    res.writeHead(200, { ...headers, 'content-length': size });
    createReadStream(path).pipe(res);
  }

  /** POST /import with glance-direct: the staged data becomes the image, hashed, then active. */
  async import(req: IncomingMessage, res: ServerResponse, id: string): Promise<void> {
    const body = (await readJson(req)) as { method?: { name?: unknown; uri?: unknown } } | undefined;
    const img = this.#find(id);
    const name = body?.method?.name;
    const offered = importMethods({ ...this.o, stores: this.o.store.storeNames.length });
    if (typeof name !== 'string' || !offered.includes(name))
      throw new HttpError(
        400,
        `Import method ${String(name)} is not valid for this cloud. Valid values are: ${offered.join(', ')}`,
      );
    if (name === 'copy-image') return this.#startCopy(res, img, body as Record<string, unknown> | undefined);
    let uri: string | undefined;
    if (name === 'web-download') {
      if (img.status !== 'queued')
        throw new HttpError(409, "Image needs to be in 'queued' state to use 'web-download' method");
      uri = typeof body?.method?.uri === 'string' ? body.method.uri : '';
      checkUri(uri, this.o.webDownload ?? { enabled: false });
    } else if (img.status !== 'uploading')
      throw new HttpError(409, `Image needs to be staged before 'glance-direct' method can be used`);
    if (img.disk_format === null || img.container_format === null)
      throw new HttpError(400, 'Properties disk_format, container_format must be set prior to importing data.');
    img.status = 'importing';
    img.updated_at = glanceTime();
    this.o.store.save(img);
    const task = this.o.store.createTask(img.id, this.o.owner, {
      image_id: img.id,
      import_req: body,
      backend: ['local'],
    });
    send(res, 202);
    if (uri !== undefined) void this.#webDownload(img.id, task.id, uri);
    else void this.#finishImport(img.id, task.id);
  }

  /** copy-image (multi-store only): an active image's data into more stores; it stays active. */
  #startCopy(res: ServerResponse, img: ImageRecord, body: Record<string, unknown> | undefined): void {
    if (img.status !== 'active')
      throw new HttpError(409, "Image needs to be in 'active' state to use 'copy-image' method");
    if ((img.properties.os_glance_importing_to_stores ?? '') !== '') throw new HttpError(409, 'Image has active task');
    const all = body?.all_stores === true;
    const asked = all ? this.o.store.storeNames : Array.isArray(body?.stores) ? (body.stores as unknown[]) : [];
    if (asked.length === 0) throw new HttpError(400, 'Stores parameter is required for the copy-image method.');
    const targets: string[] = [];
    for (const s of asked) {
      if (typeof s !== 'string' || !this.o.store.storeNames.includes(s))
        throw new HttpError(400, `Store for identifier ${String(s)} not found`);
      if (img.stores.includes(s)) {
        if (!all) throw new HttpError(400, `Image is already present at store '${s}'`);
        continue;
      }
      targets.push(s);
    }
    const task = this.o.store.createTask(img.id, this.o.owner, {
      image_id: img.id,
      import_req: body,
      backend: targets,
    });
    send(res, 202);
    if (targets.length === 0) return this.o.store.finishTask(task.id, 'success', '', { image_id: img.id });
    img.properties.os_glance_importing_to_stores = targets.join(',');
    delete img.properties.os_glance_failed_import;
    img.updated_at = glanceTime();
    this.o.store.save(img);
    void this.#copy(img.id, task.id, targets);
  }

  async #copy(id: string, taskId: string, targets: string[]): Promise<void> {
    const failed: string[] = [];
    for (const store of targets) {
      const img = this.o.store.get(id);
      if (img === undefined) return this.o.store.finishTask(taskId, 'failure', 'the image was deleted during the copy');
      const temp = this.o.store.tempPath(this.o.store.storeDir(store), id);
      try {
        await copyFile(this.o.store.readPath(img), temp);
        await fsyncFile(temp);
        await rename(temp, this.o.store.storePath(store, id));
        const now = this.o.store.get(id);
        if (now === undefined) throw new Error('the image was deleted during the copy');
        now.stores = [...new Set([...now.stores, store])];
        now.properties.os_glance_importing_to_stores = (now.properties.os_glance_importing_to_stores ?? '')
          .split(',')
          .filter((x) => x !== '' && x !== store)
          .join(',');
        now.updated_at = glanceTime();
        this.o.store.save(now);
      } catch {
        await rm(temp, { force: true });
        failed.push(store);
      }
    }
    const img = this.o.store.get(id);
    if (img !== undefined) {
      img.properties.os_glance_importing_to_stores = '';
      if (failed.length > 0) img.properties.os_glance_failed_import = failed.join(',');
      this.o.store.save(img);
    }
    this.o.store.finishTask(
      taskId,
      failed.length ? 'failure' : 'success',
      failed.length ? `copy to ${failed.join(', ')} failed` : '',
      {
        image_id: id,
      },
    );
  }

  /** web-download: the URI's bytes to a temp file, hashed, size-capped, fsynced, renamed. */
  async #webDownload(id: string, taskId: string, uri: string): Promise<void> {
    const temp = this.o.store.tempPath(this.o.store.imagesDir, id);
    try {
      const body = await fetchImage(uri, this.o.webDownload ?? { enabled: false });
      const md5 = createHash('md5');
      const sha512 = createHash('sha512');
      let bytes = 0;
      body.on('data', (c: Buffer) => {
        bytes += c.length;
        if (bytes > this.o.sizeCap)
          body.destroy(new Error('The incoming image is too large: The provided image is too large.'));
        md5.update(c);
        sha512.update(c);
      });
      await pipeline(body, createWriteStream(temp, { mode: 0o600 }));
      await fsyncFile(temp);
      const img = this.o.store.get(id);
      if (img === undefined) throw new Error(`image ${id} was deleted during the import`);
      const final = this.o.store.dataPath(id);
      await rename(temp, final);
      img.status = 'active';
      img.stores = [this.o.store.defaultStore];
      img.size = bytes;
      img.checksum = md5.digest('hex');
      img.os_hash_algo = 'sha512';
      img.os_hash_value = sha512.digest('hex');
      img.virtual_size = await virtualSizeOf(final, img);
      img.updated_at = glanceTime();
      this.o.store.save(img);
      this.o.store.finishTask(taskId, 'success', '', { image_id: id });
    } catch (e) {
      await rm(temp, { force: true });
      this.#importFailed(id, taskId, e);
    }
  }

  /** A failed import, as Glance leaves it: the task failed, the image queued with the store noted. */
  #importFailed(id: string, taskId: string, e: unknown): void {
    this.o.store.finishTask(taskId, 'failure', (e as Error).message);
    const img = this.o.store.get(id);
    if (img === undefined) return;
    img.status = 'queued';
    img.properties.os_glance_failed_import = 'local';
    img.updated_at = glanceTime();
    this.o.store.save(img);
  }

  /** GET /v2/images/{id}/tasks: the image's import tasks, newest first, as Glance shows them. */
  tasks(res: ServerResponse, id: string): void {
    this.#find(id);
    send(res, 200, {
      tasks: this.o.store.tasksOf(id).map((t) => ({
        id: t.id,
        type: t.type,
        status: t.status,
        owner: t.owner,
        input: t.input,
        result: t.result,
        message: t.message,
        image_id: t.image_id,
        created_at: t.created_at,
        updated_at: t.updated_at,
        expires_at: null,
        self: `/v2/tasks/${t.id}`,
        schema: '/v2/schemas/task',
      })),
    });
  }

  async #finishImport(id: string, taskId: string): Promise<void> {
    const staged = this.o.store.stagePath(id);
    try {
      const md5 = createHash('md5');
      const sha512 = createHash('sha512');
      for await (const c of createReadStream(staged)) {
        md5.update(c as Buffer);
        sha512.update(c as Buffer);
      }
      const final = this.o.store.dataPath(id);
      await rename(staged, final);
      const img = this.o.store.get(id);
      if (img === undefined) return void (await rm(final, { force: true }));
      img.status = 'active';
      img.stores = [this.o.store.defaultStore];
      img.checksum = md5.digest('hex');
      img.os_hash_algo = 'sha512';
      img.os_hash_value = sha512.digest('hex');
      img.size = (await stat(final)).size;
      img.virtual_size = await virtualSizeOf(final, img);
      img.updated_at = glanceTime();
      this.o.store.save(img);
      this.o.store.finishTask(taskId, 'success', '', { image_id: id });
    } catch (e) {
      this.#importFailed(id, taskId, e);
    }
  }
}

/** Glance's answer to an upload whose image was deleted meanwhile. */
function deletedDuringUpload(id: string): HttpError {
  return new HttpError(
    410,
    `Image ${id} could not be found after upload. The image may have been deleted during the upload.`,
  );
}

/** Data on disk before it is renamed into place or counted as received. */
async function fsyncFile(path: string): Promise<void> {
  const fh = await open(path, 'r+');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** virtual_size as Glance sets it: from the content when it is the declared format (bare only). */
async function virtualSizeOf(path: string, img: ImageRecord): Promise<number | null> {
  if (img.container_format !== 'bare') return null;
  try {
    const ins = await inspectFile(path);
    return ins.diskFormat === img.disk_format ? ins.virtualSize : null;
  } catch {
    return null;
  }
}

/** `Content-Range: bytes START-END/TOTAL` of a ranged upload (undefined without the header). */
function parseContentRange(h: string | undefined): { start: number; end: number; total: number } | undefined {
  if (h === undefined) return undefined;
  const m = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(h.trim());
  const [start, end, total] = [Number(m?.[1]), Number(m?.[2]), Number(m?.[3])];
  if (m === null || start > end || end >= total) throw new HttpError(400, `Invalid Content-Range: ${h}`);
  return { start, end, total };
}

function parseSort(q: URLSearchParams): [string, 'asc' | 'desc'][] {
  const keys = q.getAll('sort_key');
  const dirs = q.getAll('sort_dir');
  const sort = q.get('sort');
  if (sort !== null && (keys.length > 0 || dirs.length > 0))
    throw new HttpError(400, 'The sort and sort_key/sort_dir parameters cannot be used together.');
  const out: [string, 'asc' | 'desc'][] = [];
  const check = (k: string, d: string): void => {
    if (!SORT_KEYS.includes(k))
      throw new HttpError(400, `Invalid sort key: ${k}. It must be one of: ${SORT_KEYS.join(', ')}.`);
    if (d !== 'asc' && d !== 'desc') throw new HttpError(400, `Invalid sort direction: ${d}`);
    out.push([k, d]);
  };
  if (sort !== null) {
    for (const part of sort.split(',')) {
      const [k = '', d = 'desc'] = part.split(':');
      check(k.trim(), d.trim());
    }
  } else if (keys.length > 0) {
    if (dirs.length > 1 && dirs.length !== keys.length)
      throw new HttpError(400, 'Number of sort dirs does not match the number of sort keys');
    keys.forEach((k, i) => check(k, dirs[dirs.length === 1 ? 0 : i] ?? 'desc'));
  } else {
    out.push(['created_at', 'desc']);
  }
  if (!out.some(([k]) => k === 'id')) out.push(['id', out[0]?.[1] ?? 'desc']);
  return out;
}

const EXACT = ['name', 'id', 'status', 'container_format', 'disk_format'];
const PLAIN = ['owner', 'checksum', 'os_hash_value'];
const NOT_FILTERS = new Set(['limit', 'marker', 'sort', 'sort_key', 'sort_dir', 'member_status']);

/** `in:a,b,"c,d"` and `eq:x` as Glance reads them. */
function valuesOf(v: string): string[] {
  if (v.startsWith('in:')) return [...v.slice(3).matchAll(/"([^"]*)"|([^,]+)/g)].map((m) => m[1] ?? m[2] ?? '');
  if (v.startsWith('eq:')) return [v.slice(3)];
  if (/^[a-z]+:/.test(v) && !v.includes(' ')) {
    const op = v.split(':')[0] ?? '';
    if (['gt', 'gte', 'lt', 'lte', 'neq'].includes(op))
      throw new HttpError(400, `Unable to filter by unknown operator '${op}'.`);
  }
  return [v];
}

function filterOf(q: URLSearchParams): (i: ImageRecord) => boolean {
  const tests: ((i: ImageRecord) => boolean)[] = [];
  for (const [key, value] of q) {
    if (NOT_FILTERS.has(key)) continue;
    if (key === 'changes-since') throw new HttpError(400, 'The changes-since filter is no longer available on v2.');
    if (EXACT.includes(key)) {
      const vs = valuesOf(value);
      tests.push((i) => vs.includes(String(i[key as keyof ImageRecord] ?? '')));
    } else if (PLAIN.includes(key)) tests.push((i) => i[key as keyof ImageRecord] === value);
    else if (key === 'visibility') {
      if (![...VISIBILITIES, 'all'].includes(value)) throw new HttpError(400, `Invalid visibility value: ${value}`);
      if (value !== 'all') tests.push((i) => i.visibility === value);
    } else if (key === 'protected') {
      if (value !== 'true' && value !== 'false') throw new HttpError(400, `Invalid value for protected: ${value}`);
      tests.push((i) => i.protected === (value === 'true'));
    } else if (key === 'os_hidden') {
      const v = value.toLowerCase();
      if (v !== 'true' && v !== 'false') throw new HttpError(400, `Invalid value for os_hidden: ${value}`);
      tests.push((i) => i.os_hidden === (v === 'true'));
    } else if (key === 'tag') tests.push((i) => i.tags.includes(value));
    else if (key === 'size_min' || key === 'size_max') {
      const n = Number(value);
      if (!Number.isFinite(n)) throw new HttpError(400, `${key} must be a number`);
      tests.push((i) => i.size !== null && (key === 'size_min' ? i.size >= n : i.size <= n));
    } else if (key === 'created_at' || key === 'updated_at') {
      const m = /^(gt|gte|lt|lte|eq|neq):(.+)$/.exec(value);
      const at = m ? Date.parse(m[2] ?? '') : NaN;
      if (m === null || Number.isNaN(at)) throw new HttpError(400, `Invalid ${key} filter: ${value}`);
      const op = m[1];
      tests.push((i) => {
        const t = Date.parse(i[key]);
        return op === 'gt'
          ? t > at
          : op === 'gte'
            ? t >= at
            : op === 'lt'
              ? t < at
              : op === 'lte'
                ? t <= at
                : op === 'eq'
                  ? t === at
                  : t !== at;
      });
    } else tests.push((i) => i.properties[key] === value);
  }
  if (!q.has('os_hidden')) tests.push((i) => !i.os_hidden);
  return (i) => tests.every((t) => t(i));
}
