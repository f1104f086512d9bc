/**
 * `POST /v2/images/{id}/import` on the embedded server and the tasks it leaves, as Glance 25
 * runs them: glance-direct (the staged data becomes the image), web-download (the server fetches
 * a URL, within its allow-list) and copy-image (an active image into more stores). The answer
 * is 202 at once; the work continues in the background and ends in the image's task, and a
 * failure leaves the image as Glance does (queued, `os_glance_failed_import` set).
 */
import { createReadStream } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import { SparseFileStream } from '../io/sparse-writes';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { HttpError, readBody, send, sendEmpty } from './http-kit';
import type { Caller } from './identity';
import { mustBeAdmin, mustOwn, visibleImage } from './image-access';
import { importMethods } from './image-doc';
import { digestsOf } from '../io/hasher';
import { fsyncFile, markActive, TOO_LARGE } from './image-ingest';
import { glanceTime, type ImageRecord, type ImageStore } from './image-store';
import { checkUri, fetchImage, type WebDownloadOptions } from './web-download';

export interface ImportOptions {
  store: ImageStore;
  /** Largest image accepted, bytes (Glance's image_size_cap). */
  sizeCap: number;
  webDownload?: WebDownloadOptions;
  /** An image became active with its data (the packer's cue). */
  onActive?: (id: string) => void;
}

export class ImageImports {
  constructor(private readonly o: ImportOptions) {}

  /**
   * POST /import, checked in Glance's order: the body, the method offered, the image's state,
   * who may (the owner; copy-image: an admin), the stores; then the task, the bookkeeping
   * properties Glance keeps on the image, 202, and the work.
   */
  async start(req: IncomingMessage, res: ServerResponse, id: string, caller: Caller): Promise<void> {
    const body = importBody(await readBody(req), importMethods({ ...this.o, stores: this.o.store.storeNames.length }));
    const name = body.method.name;
    const img = visibleImage(this.o.store, id, caller);
    checkImportable(img, name);
    if (name === 'copy-image') mustBeAdmin(caller, 'copy_image');
    // Only the owner (or an admin) imports into an image.
    else mustOwn(img, caller);
    // The lock after the policy, as Glance: a refused caller hears 403, not of the import running.
    if (img.properties.os_glance_import_task !== undefined) throw new HttpError(409, 'Image has active task');
    const stores = this.#storesOf(req, body);
    const targets = name === 'copy-image' ? this.#copyTargets(img, body, stores) : stores;
    if (targets.length === 0) return void sendEmpty(res, 202); // copy-image, all_stores: already everywhere
    let uri: string | undefined;
    if (name === 'web-download') {
      // Glance names a missing uri as Python prints it: None.
      uri = typeof body.method.uri === 'string' ? body.method.uri : 'None';
      checkUri(uri, this.o.webDownload ?? { enabled: false });
    }
    const requestId = String(res.getHeader('x-openstack-request-id') ?? '');
    const task = this.o.store.tasks.create(
      img.id,
      { ...caller, requestId },
      {
        image_id: img.id,
        import_req: body,
        backend: targets,
      },
    );
    if (name !== 'copy-image') img.status = 'importing';
    startBookkeeping(img, this.o.store.storeNames.length > 1 ? targets : [], task.id);
    this.o.store.save(img);
    sendEmpty(res, 202);
    if (name === 'copy-image') void this.#copy(img.id, task.id, targets);
    else if (uri !== undefined) void this.#webDownload(img.id, task.id, uri, targets);
    else void this.#finishImport(img.id, task.id, targets);
  }

  /**
   * The stores an import goes to (Glance's get_stores_from_request): `all_stores`, the body's
   * `stores`, the X-Image-Meta-Store header, or the default one; each must exist (409 here).
   */
  #storesOf(req: IncomingMessage, body: ImportBody): string[] {
    const header = req.headers['x-image-meta-store'];
    const all = body.all_stores === true;
    if (all && ('stores' in body || header !== undefined))
      throw new HttpError(400, "All_stores parameter can't be used with x-image-meta-store header or stores parameter");
    if ('stores' in body && header !== undefined)
      throw new HttpError(400, "Stores parameter and x-image-meta-store header can't be both specified");
    const names = this.o.store.storeNames;
    const asked = all
      ? names
      : Array.isArray(body.stores)
        ? (body.stores as unknown[])
        : [typeof header === 'string' ? header : this.o.store.defaultStore];
    for (const s of asked)
      if (typeof s !== 'string' || !names.includes(s) || (names.length < 2 && s !== this.o.store.defaultStore))
        throw new HttpError(409, `Store for identifier ${String(s)} not found`);
    return asked as string[];
  }

  /** GET /v2/images/{id}/tasks: the image's import tasks, newest first, as Glance shows them. */
  tasks(res: ServerResponse, id: string, caller: Caller): void {
    visibleImage(this.o.store, id, caller, 'The resource could not be found.');
    // Glance shows a project only its own tasks (an admin's copy-image on its image is not one).
    const tasks = this.o.store.tasks.of(id).filter((t) => caller.isAdmin || t.owner === caller.projectId);
    send(res, 200, { tasks });
  }

  /** The stores a copy-image asks for that the image is not in yet (`all_stores` skips those it is in). */
  #copyTargets(img: ImageRecord, body: ImportBody, asked: string[]): string[] {
    if (body.all_stores === true) return asked.filter((s) => !img.stores.includes(s));
    const present = img.stores.find((s) => asked.includes(s));
    if (present !== undefined) throw new HttpError(400, `Image is already present at store '${present}'`);
    return asked;
  }

  async #copy(id: string, taskId: string, targets: string[]): Promise<void> {
    const img = this.o.store.get(id);
    if (img === undefined) return this.o.store.tasks.finish(taskId, 'failure', 'the image was deleted during the copy');
    const failed = await this.#copyAll(img, targets);
    this.#finish(id, taskId, failed.length ? `copy to ${failed.join(', ')} failed` : undefined);
  }

  /** Copies an image's data into each store in turn; the stores that failed. */
  async #copyAll(img: ImageRecord, targets: string[]): Promise<string[]> {
    const failed: string[] = [];
    for (const store of targets) if (!(await this.#copyInto(img, store))) failed.push(store);
    return failed;
  }

  /** One store's copy: a temp file, fsynced, renamed; the image lists the store. False when it failed. */
  async #copyInto(img: ImageRecord, store: string): Promise<boolean> {
    const temp = this.o.store.tempPath(this.o.store.storeDir(store), img.id);
    let ok = true;
    try {
      await pipeline(createReadStream(this.o.store.readPath(img)), new SparseFileStream(temp)); // holes stay holes
      await fsyncFile(temp);
      // A packed image's copy is packed too (the row's `packed` speaks for every store).
      await rename(temp, img.packed ? this.o.store.packedPath(store, img.id) : this.o.store.storePath(store, img.id));
    } catch {
      await rm(temp, { force: true });
      ok = false;
    }
    const now = this.o.store.get(img.id);
    if (now === undefined) return false;
    if (ok) now.stores = [...new Set([...now.stores, store])];
    storeDone(now, store, !ok);
    this.o.store.save(now);
    return ok;
  }

  /** web-download: the URI's bytes to a temp file, hashed, size-capped, fsynced, renamed. */
  async #webDownload(id: string, taskId: string, uri: string, targets: string[]): Promise<void> {
    const [first = this.o.store.defaultStore] = targets;
    const temp = this.o.store.tempPath(this.o.store.storeDir(first), id);
    try {
      const body = await fetchImage(uri, this.o.webDownload ?? { enabled: false });
      const seen = digestsOf();
      body.on('data', (c: Buffer) => {
        seen.update(c);
        if (seen.bytes() > this.o.sizeCap) body.destroy(new Error(TOO_LARGE));
      });
      await pipeline(body, new SparseFileStream(temp));
      await fsyncFile(temp);
      await this.#landed(id, taskId, temp, targets, seen);
    } catch (e) {
      await rm(temp, { force: true });
      this.#importFailed(id, taskId, e, targets);
    }
  }

  /** glance-direct: the staged data, hashed, renamed into the first store, copied into the others. */
  async #finishImport(id: string, taskId: string, targets: string[]): Promise<void> {
    try {
      const seen = digestsOf();
      for await (const c of createReadStream(this.o.store.stagePath(id))) seen.update(c as Buffer);
      await this.#landed(id, taskId, this.o.store.stagePath(id), targets, seen);
    } catch (e) {
      this.#importFailed(id, taskId, e, targets);
    }
  }

  /** The data, complete and hashed at `from`: into the first store (the image active), then the others. */
  async #landed(
    id: string,
    taskId: string,
    from: string,
    targets: string[],
    seen: ReturnType<typeof digestsOf>,
  ): Promise<void> {
    const [first = this.o.store.defaultStore, ...rest] = targets;
    const final = this.o.store.storePath(first, id);
    await rename(from, final);
    const size = (await stat(final)).size;
    const landed = this.o.store.get(id);
    if (landed === undefined) {
      await rm(final, { force: true });
      return this.o.store.tasks.finish(taskId, 'failure', 'Task failed due to Internal Error');
    }
    await markActive(landed, { path: final, store: first, size, digests: seen.digests() });
    // Read again after the awaits: a change made meanwhile (a PATCH, a tag) is kept, the data fields added.
    const img = this.o.store.get(id);
    if (img === undefined) return this.o.store.tasks.finish(taskId, 'failure', 'Task failed due to Internal Error');
    for (const k of ['status', 'stores', 'size', 'checksum', 'os_hash_algo', 'os_hash_value', 'virtual_size'] as const)
      (img as unknown as Record<string, unknown>)[k] = landed[k];
    storeDone(img, first, false);
    this.o.store.save(img);
    const failed = await this.#copyAll(img, rest);
    this.#finish(id, taskId, failed.length ? `import to ${failed.join(', ')} failed` : undefined);
    this.o.onActive?.(id);
  }

  /** The task's end (a failure message, or success) and the import lock dropped, as Glance's _CompleteTask. */
  #finish(id: string, taskId: string, failure: string | undefined): void {
    const img = this.o.store.get(id);
    if (img !== undefined) {
      delete img.properties.os_glance_import_task;
      img.updated_at = glanceTime();
      this.o.store.save(img);
    }
    // Glance's import flow leaves its last progress line as the message: whole MiB copied.
    const copied = `Copied ${Math.floor((img?.size ?? 0) / 2 ** 20)} MiB`;
    if (failure !== undefined) this.o.store.tasks.finish(taskId, 'failure', failure);
    else this.o.store.tasks.finish(taskId, 'success', copied, { image_id: id });
  }

  /** A failed import, as Glance leaves it: the task failed, the image queued, its stores noted as failed. */
  #importFailed(id: string, taskId: string, e: unknown, targets: string[]): void {
    const img = this.o.store.get(id);
    if (img !== undefined) {
      img.status = 'queued';
      for (const store of this.o.store.storeNames.length > 1 ? targets : []) storeDone(img, store, true);
      this.o.store.save(img);
    }
    this.#finish(id, taskId, (e as Error).message);
  }
}

type ImportBody = { method: { name: string; uri?: unknown } } & Record<string, unknown>;

/** The import request as Glance's deserializer checks it: a body, a method with a name it offers, booleans. */
function importBody(body: unknown, offered: string[]): ImportBody {
  const b = (body ?? {}) as Record<string, unknown>;
  const method = b.method as Record<string, unknown> | undefined;
  if (method === undefined) throw new HttpError(400, "Import request requires a 'method' field.");
  if (typeof method !== 'object' || method === null || !('name' in method))
    throw new HttpError(400, "Import request requires a 'name' field.");
  if (typeof method.name !== 'string' || !offered.includes(method.name))
    throw new HttpError(400, `Unknown import method name '${String(method.name)}'.`);
  for (const key of ['all_stores_must_succeed', 'all_stores'])
    if (key in b && typeof b[key] !== 'boolean') throw new HttpError(400, `'${key}' must be boolean value only`);
  return b as ImportBody;
}

/** The image's state against the method, Glance's checks and words, in its order (all 409). */
function checkImportable(img: ImageRecord, method: string): void {
  const refuse = (msg: string): never => {
    throw new HttpError(409, msg);
  };
  if (img.status === 'active' && method !== 'copy-image')
    refuse('Image with status active cannot be target for import');
  if (img.status !== 'active' && method === 'copy-image')
    refuse('Only images with status active can be targeted for copying');
  if (img.status !== 'queued' && method === 'web-download')
    refuse("Image needs to be in 'queued' state to use 'web-download' method");
  if (img.status !== 'uploading' && method === 'glance-direct')
    refuse("Image needs to be staged before 'glance-direct' method can be used");
  if (!img.container_format) refuse("'container_format' needs to be set before import");
  if (!img.disk_format) refuse("'disk_format' needs to be set before import");
}

/** A comma list property as Glance's merge_store_list keeps it: sorted, no empty names, no repeats. */
function setStores(img: ImageRecord, key: string, stores: string[]): void {
  img.properties[key] = [...new Set(stores.filter((s) => s !== ''))].sort().join(',');
}

const storesIn = (img: ImageRecord, key: string): string[] => (img.properties[key] ?? '').split(',');

/**
 * What Glance writes when an import starts: the stores it goes to (none on a single-store
 * server: both lists are "" then), those stores no longer failed, and the task as the lock.
 */
function startBookkeeping(img: ImageRecord, targets: string[], taskId: string): void {
  setStores(img, 'os_glance_importing_to_stores', [...storesIn(img, 'os_glance_importing_to_stores'), ...targets]);
  setStores(
    img,
    'os_glance_failed_import',
    storesIn(img, 'os_glance_failed_import').filter((s) => !targets.includes(s)),
  );
  img.properties.os_glance_import_task = taskId;
  img.updated_at = glanceTime();
}

/** One store done: off the importing list, onto the failed one when it failed. */
function storeDone(img: ImageRecord, store: string, failed: boolean): void {
  setStores(
    img,
    'os_glance_importing_to_stores',
    storesIn(img, 'os_glance_importing_to_stores').filter((s) => s !== store),
  );
  if (failed) setStores(img, 'os_glance_failed_import', [...storesIn(img, 'os_glance_failed_import'), store]);
  img.updated_at = glanceTime();
}
