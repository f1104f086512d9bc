/**
 * The Image API v2 of the embedded server, following real Glance 25 (the reference Glance the
 * integration tests start): create, list, show, JSON-patch update, delete, tags,
 * deactivate/reactivate, data upload (image-ingest.ts) and download (single ranges), imports
 * and tasks (image-imports.ts). The document's rules are in image-doc.ts, the list query in
 * image-query.ts: this class answers the routes.
 */
import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpError, readJson, send } from './http-kit';
import type { Caller } from './identity';
import { canSee, mayChangeVisibility, mustOwn, visibleImage } from './image-access';
import {
  BASE,
  checkKey,
  checkPropertyCount,
  imageDoc,
  importMethods,
  newImage,
  schemaError,
  setAttr,
} from './image-doc';
import { ImageImports } from './image-imports';
import { ImageIngest } from './image-ingest';
import { queryImages } from './image-query';
import { glanceTime, UUID_RE, type ImageRecord, type ImageStore } from './image-store';
import type { WebDownloadOptions } from './web-download';

export interface ImagesApiOptions {
  store: ImageStore;
  /** Largest image accepted, bytes (Glance's image_size_cap). */
  sizeCap: number;
  /** Total bytes all images may hold, those still receiving data included (0: no limit). */
  quotaBytes: number;
  /** How many images may exist (0: no limit). */
  maxImages: number;
  /** web-download: off unless enabled; local addresses only when allowed. */
  webDownload?: WebDownloadOptions;
}

export class ImagesApi {
  readonly #ingest: ImageIngest;
  readonly #imports: ImageImports;

  constructor(private readonly o: ImagesApiOptions) {
    this.#ingest = new ImageIngest(o);
    this.#imports = new ImageImports(o);
  }

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

  async create(req: IncomingMessage, res: ServerResponse, baseUrl: string, caller: Caller): Promise<void> {
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
    const img = newImage(id, caller.projectId);
    for (const [k, v] of Object.entries(fields)) {
      if (k === 'id') continue;
      checkKey(k, true);
      setAttr(img, k, v);
    }
    mayChangeVisibility(caller, fields.visibility);
    if (!caller.isAdmin && img.owner !== caller.projectId)
      throw new HttpError(403, `You are not permitted to create images owned by '${String(img.owner)}'.`);
    checkPropertyCount(img);
    this.o.store.insert(img);
    send(res, 201, this.#doc(img), {
      location: `${baseUrl}/v2/images/${img.id}`,
      'openstack-image-import-methods': importMethods({ ...this.o, stores: this.o.store.storeNames.length }).join(','),
    });
  }

  show(res: ServerResponse, id: string, caller: Caller): void {
    send(res, 200, this.#doc(visibleImage(this.o.store, id, caller)));
  }

  list(res: ServerResponse, query: URLSearchParams, caller: Caller): void {
    const page = queryImages(this.#listable(query, caller), query, caller.projectId);
    const firstQs = page.first.toString();
    send(res, 200, {
      images: page.images.map((i) => this.#doc(i)),
      first: `/v2/images${firstQs ? `?${firstQs}` : ''}`,
      schema: '/v2/schemas/images',
      ...(page.next !== undefined ? { next: `/v2/images?${page.next.toString()}` } : {}),
    });
  }

  /**
   * What GET /v2/images starts from, as Glance's database query: an admin, every image; others,
   * their project's, public and community ones, and shared ones they are a member of, in the
   * member status asked (default accepted; `all`: any).
   */
  #listable(query: URLSearchParams, caller: Caller): ImageRecord[] {
    const all = this.o.store.all();
    if (caller.isAdmin) return all;
    const wanted = query.get('member_status') ?? 'accepted';
    const shared = this.o.store.members.sharedWith(caller.projectId);
    return all.filter((i) => {
      if (i.owner === caller.projectId || i.visibility === 'public' || i.visibility === 'community') return true;
      const status = i.visibility === 'shared' ? shared.get(i.id) : undefined;
      return status !== undefined && (wanted === 'all' || wanted === status);
    });
  }

  async patch(req: IncomingMessage, res: ServerResponse, id: string, caller: Caller): Promise<void> {
    const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim();
    if (type !== 'application/openstack-images-v2.1-json-patch')
      throw new HttpError(415, `Unsupported Content-Type: ${type ?? ''}`, {
        'accept-patch': 'application/openstack-images-v2.0-json-patch, application/openstack-images-v2.1-json-patch',
      });
    const ops = await readJson(req);
    if (!Array.isArray(ops)) throw new HttpError(400, 'Request body must be a JSON array of operation objects.');
    const img = visibleImage(this.o.store, id, caller);
    for (const op of ops as PatchOp[]) applyPatchOp(img, op, caller);
    checkPropertyCount(img);
    img.updated_at = glanceTime();
    this.o.store.save(img);
    send(res, 200, this.#doc(img));
  }

  async delete(res: ServerResponse, id: string, caller: Caller): Promise<void> {
    const img = this.o.store.get(id);
    if (img === undefined || img.status === 'deleted' || !canSee(this.o.store, img, caller))
      throw new HttpError(404, `Failed to find image ${id} to delete`);
    mustOwn(img, caller);
    if (img.protected) throw new HttpError(403, `Image ${id} is protected and cannot be deleted.`);
    this.#ingest.abort(img.id); // the upload answers 410 and removes its partial data
    await this.o.store.delete(img.id);
    send(res, 204);
  }

  tag(res: ServerResponse, id: string, tag: string, add: boolean, caller: Caller): void {
    const img = visibleImage(this.o.store, id, caller, `Image ${id} not found.`);
    mustOwn(img, caller, `Not allowed to ${add ? 'update' : 'delete'} tags for image ${id}.`);
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

  action(res: ServerResponse, id: string, action: string, caller: Caller): void {
    const img = visibleImage(this.o.store, id, caller);
    if (action === 'deactivate' || action === 'reactivate') mustOwn(img, caller);
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
   * PUT /stage, and PUT /file: resumable when the client announces a length (Content-Length),
   * whole otherwise (image-ingest.ts).
   */
  async upload(req: IncomingMessage, res: ServerResponse, id: string, stage: boolean, caller: Caller): Promise<void> {
    const img = visibleImage(this.o.store, id, caller);
    mustOwn(img, caller, stage ? undefined : `Not allowed to upload image data for image ${id}`);
    if (!stage && req.headers['content-length'] !== undefined)
      return this.#ingest.resumable(req, res, id, () => this.#storeOf(req));
    const store = this.#storeOf(req);
    await this.#ingest.whole(req, res, id, stage, store);
  }

  /** HEAD /file: where a resumable upload continues (Upload-Offset), or the size of the data. */
  head(res: ServerResponse, id: string, caller: Caller): void {
    const img = visibleImage(this.o.store, id, caller);
    const offset = img.status === 'active' || img.status === 'deactivated' ? (img.size ?? 0) : (img.partial_size ?? 0);
    res.writeHead(200, {
      'upload-offset': String(offset),
      ...(img.upload_total !== null ? { 'upload-length': String(img.upload_total) } : {}),
      ...(img.status === 'active' ? { 'content-length': String(img.size ?? 0) } : { 'content-length': '0' }),
    });
    res.end();
  }

  /** GET /file: 204 without data, 200 or 206 (one range) with Content-MD5 as Glance sends it. */
  async download(req: IncomingMessage, res: ServerResponse, id: string, caller: Caller): Promise<void> {
    const img = visibleImage(this.o.store, id, caller);
    if (img.status === 'deactivated' && !caller.isAdmin)
      throw new HttpError(403, 'The requested image has been deactivated. Image data download is forbidden.');
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

  /** POST /import (image-imports.ts). */
  async import(req: IncomingMessage, res: ServerResponse, id: string, caller: Caller): Promise<void> {
    await this.#imports.start(req, res, id, caller);
  }

  tasks(res: ServerResponse, id: string, caller: Caller): void {
    this.#imports.tasks(res, id, caller);
  }
}

type PatchOp = { op?: unknown; path?: unknown; value?: unknown };

/** Glance's checks of one change, in its order: owner (admins only), visibility (publicize), then ownership. */
function mayPatch(img: ImageRecord, key: string, op: PatchOp, caller: Caller): void {
  if (key === 'owner' && op.op === 'replace' && !caller.isAdmin)
    throw new HttpError(403, "Owner can't be updated by non admin.");
  if (key === 'visibility' && op.op !== 'remove') mayChangeVisibility(caller, op.value);
  mustOwn(img, caller);
}

/** One operation of a JSON patch (`add`, `remove`, `replace` on `/attribute`), with Glance's checks. */
function applyPatchOp(img: ImageRecord, op: PatchOp, caller: Caller): void {
  if (op === null || typeof op !== 'object' || !['add', 'remove', 'replace'].includes(String(op.op)))
    throw new HttpError(400, `Operation objects must contain exactly one of "add", "remove", "replace".`);
  const path = typeof op.path === 'string' ? op.path : '';
  const m = /^\/([^/]+)$/.exec(path);
  const key = m?.[1]?.replaceAll('~1', '/').replaceAll('~0', '~');
  // A harmless superset of Glance: /tags/- and /tags/N (openstacksdk sends them) add a tag.
  if (key === undefined && /^\/tags\/(-|\d+)$/.test(path) && op.op === 'add') {
    if (typeof op.value !== 'string') throw schemaError('tags must be strings');
    img.tags = [...new Set([...img.tags, op.value])];
    return;
  }
  if (key === undefined) throw new HttpError(400, 'Invalid JSON pointer for this resource: ' + path);
  checkKey(key, false);
  mayPatch(img, key, op, caller);
  if (op.op === 'remove') {
    if (BASE.has(key)) throw new HttpError(403, `Property ${key} may not be removed.`);
    if (!(key in img.properties)) throw new HttpError(409, `Property ${key} does not exist.`);
    delete img.properties[key];
    return;
  }
  if (op.op === 'replace' && !BASE.has(key) && !(key in img.properties))
    throw new HttpError(409, `Property ${key} does not exist.`);
  setAttr(img, key, op.value);
}
