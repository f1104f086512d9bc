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
import { byteSlice } from './byte-range';
import { HttpError, readBody, readJson, send, sendEmpty } from './http-kit';
import type { Caller } from './identity';
import { canSee, listable, mayChangeVisibility, mustOwn, visibleImage } from './image-access';
import { checkKey, checkPropertyCount, imageDoc, importMethods, MAX_TAGS, newImage, setAttr } from './image-doc';
import { checkAttribute, schemaOrder } from './schema-check';
import { ImageImports } from './image-imports';
import { applyPatch, parsePatch } from './image-patch';
import { ImageIngest } from './image-ingest';
import { Qcow2Reader } from '../io/qcow2-reader';
import { queryImages } from './image-query';
import { pyUrlencode } from './py-format';
import { glanceTime, type ImageRecord, type ImageStore } from './image-store';
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
  /** An image became active with its data (the packer's cue). */
  onActive?: (id: string) => void;
}

/** The raw bytes [start, end) of a packed image (a compressed qcow2 of them), decoded as they go. */
async function sendPacked(res: ServerResponse, path: string, start: number, end: number): Promise<void> {
  const reader = await Qcow2Reader.open(path);
  const body = reader.stream(start, end);
  body.once('close', () => void reader.close().catch(() => undefined));
  res.once('close', () => body.destroy());
  body.pipe(res);
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

  #doc(i: ImageRecord, caller: Caller): Record<string, unknown> {
    return imageDoc(i, this.#multiStore, caller.isAdmin);
  }

  /** The store a request names (X-Image-Meta-Store), checked against the configuration. */
  #storeOf(req: IncomingMessage): string {
    const named = req.headers['x-image-meta-store'];
    if (named === undefined) return this.o.store.defaultStore;
    if (typeof named !== 'string' || !this.o.store.storeNames.includes(named) || !this.#multiStore)
      throw new HttpError(400, `Store for identifier ${String(named)} not found`);
    return named;
  }

  /**
   * POST /v2/images, in Glance's order: the body (read-only keys refused, the whole of it
   * against the image schema), then who may (publicize, another owner), then the image made.
   */
  async create(req: IncomingMessage, res: ServerResponse, baseUrl: string, caller: Caller): Promise<void> {
    const body = await readBody(req);
    if (body === null || typeof body !== 'object' || Array.isArray(body))
      throw new HttpError(400, 'Request body must be a JSON object.');
    const fields = body as Record<string, unknown>;
    for (const k of Object.keys(fields)) checkKey(k, true);
    for (const [k, v] of schemaOrder(fields)) checkAttribute(k, v);
    mayChangeVisibility(caller, fields.visibility);
    const owner = 'owner' in fields ? fields.owner : caller.projectId;
    if (!caller.isAdmin && owner !== caller.projectId)
      throw new HttpError(
        403,
        `You are not permitted to create images owned by '${owner === null ? 'None' : String(owner)}'.`,
      );
    if (this.o.maxImages > 0 && this.o.store.usage().count >= this.o.maxImages)
      throw new HttpError(413, `Maximum number of images (${this.o.maxImages}) exceeded.`);
    const id = typeof fields.id === 'string' ? fields.id : randomUUID();
    if (this.o.store.get(id) !== undefined) throw new HttpError(409, `Image ID ${id} already exists!`);
    const img = newImage(id, caller.projectId);
    for (const [k, v] of Object.entries(fields)) if (k !== 'id') setAttr(img, k, v);
    checkPropertyCount(img);
    this.o.store.insert(img);
    const multi = this.o.store.storeNames.length > 1;
    send(res, 201, this.#doc(img, caller), {
      location: `${baseUrl}/v2/images/${img.id}`,
      'openstack-image-import-methods': importMethods({ ...this.o, stores: this.o.store.storeNames.length }).join(','),
      ...(multi ? { 'openstack-image-store-ids': this.o.store.storeNames.join(',') } : {}),
    });
  }

  show(res: ServerResponse, id: string, caller: Caller): void {
    send(res, 200, this.#doc(visibleImage(this.o.store, id, caller), caller));
  }

  list(res: ServerResponse, query: URLSearchParams, caller: Caller): void {
    const page = queryImages(
      listable(this.o.store, this.o.store.all(), caller, query.get('member_status') ?? 'accepted'),
      query,
      caller.projectId,
    );
    const firstQs = pyUrlencode(page.first);
    send(res, 200, {
      images: page.images.map((i) => this.#doc(i, caller)),
      first: `/v2/images${firstQs ? `?${firstQs}` : ''}`,
      schema: '/v2/schemas/images',
      ...(page.next !== undefined ? { next: `/v2/images?${pyUrlencode(page.next)}` } : {}),
    });
  }

  async patch(req: IncomingMessage, res: ServerResponse, id: string, caller: Caller): Promise<void> {
    const changes = parsePatch(req.headers['content-type'], await readJson(req));
    const img = visibleImage(this.o.store, id, caller);
    applyPatch(this.o.store, img, changes, caller);
    if (changes.length > 0) {
      img.updated_at = glanceTime();
      this.o.store.save(img);
    }
    send(res, 200, this.#doc(img, caller));
  }

  async delete(res: ServerResponse, id: string, caller: Caller): Promise<void> {
    const img = this.o.store.get(id);
    if (img === undefined || img.status === 'deleted' || !canSee(this.o.store, img, caller))
      throw new HttpError(404, `Failed to find image ${id} to delete`);
    mustOwn(img, caller);
    if (img.protected) throw new HttpError(403, `Image ${id} is protected and cannot be deleted.`);
    this.#ingest.abort(img.id); // the upload answers 410 and removes its partial data
    await this.o.store.delete(img.id);
    sendEmpty(res, 204);
  }

  /** PUT and DELETE /tags/{tag}: the tag against the schema first (as `{"tags": [tag]}`), then the image. */
  tag(res: ServerResponse, id: string, tag: string, add: boolean, caller: Caller): void {
    if (add) checkAttribute('tags', [tag]);
    const img = visibleImage(this.o.store, id, caller, `Image ${id} not found.`);
    mustOwn(img, caller, `Not allowed to ${add ? 'update' : 'delete'} tags for image ${id}.`);
    if (add && !img.tags.includes(tag)) {
      if (img.tags.length >= MAX_TAGS)
        throw new HttpError(
          413,
          `Image tag limit exceeded for image ${id}: The limit has been exceeded on the number of allowed image ` +
            `tags. Attempted: ${img.tags.length + 1}, Maximum: ${MAX_TAGS}:`,
        );
      img.tags.push(tag);
    }
    if (!add) {
      if (!img.tags.includes(tag)) throw new HttpError(404, 'The resource could not be found.');
      img.tags = img.tags.filter((t) => t !== tag);
    }
    img.updated_at = glanceTime();
    this.o.store.save(img);
    sendEmpty(res, 204);
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
    sendEmpty(res, 204);
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
    const size = img.packed ? (img.size ?? 0) : (await stat(path)).size;
    const slice = byteSlice(req.headers.range, req.headers['content-range'] as string | undefined, size);
    // Glance's header order; Content-MD5 is the whole image's, on a 206 too.
    const headers: Record<string, string | number> = {
      'content-type': 'application/octet-stream',
      ...(slice ? { 'content-range': `bytes ${slice.offset}-${slice.last}/${size}` } : {}),
      ...(img.checksum ? { 'content-md5': img.checksum } : {}),
      'content-length': slice ? slice.length : size,
    };
    res.writeHead(slice ? 206 : 200, headers);
    if (slice?.length === 0) return void res.end();
    if (img.packed) return sendPacked(res, path, slice?.offset ?? 0, slice ? slice.offset + slice.length : size);
    createReadStream(path, slice ? { start: slice.offset, end: slice.offset + slice.length - 1 } : {}).pipe(res);
  }

  /** POST /import (image-imports.ts). */
  async import(req: IncomingMessage, res: ServerResponse, id: string, caller: Caller): Promise<void> {
    await this.#imports.start(req, res, id, caller);
  }

  tasks(res: ServerResponse, id: string, caller: Caller): void {
    this.#imports.tasks(res, id, caller);
  }
}
