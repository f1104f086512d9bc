/**
 * `POST /v2/images/{id}/import` on the embedded server and the tasks it leaves, as Glance 25
 * runs them: glance-direct (the staged data becomes the image), web-download (the server fetches
 * a URL, within its allow-list) and copy-image (an active image into more stores). The answer
 * is 202 at once; the work continues in the background and ends in the image's task, and a
 * failure leaves the image as Glance does (queued, `os_glance_failed_import` set).
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { copyFile, rename, rm, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { HttpError, readJson, send } from './http-kit';
import { importMethods, liveImage } from './image-doc';
import { digestsOf } from '../io/hasher';
import { fsyncFile, markActive, TOO_LARGE } from './image-ingest';
import { glanceTime, type ImageRecord, type ImageStore } from './image-store';
import { checkUri, fetchImage, type WebDownloadOptions } from './web-download';

export interface ImportOptions {
  store: ImageStore;
  /** The project that owns the tasks. */
  owner: string;
  /** Largest image accepted, bytes (Glance's image_size_cap). */
  sizeCap: number;
  webDownload?: WebDownloadOptions;
}

type ImportBody = { method?: { name?: unknown; uri?: unknown } } & Record<string, unknown>;

export class ImageImports {
  constructor(private readonly o: ImportOptions) {}

  /** POST /import: the method checked against the image's state, the task made, 202, then the work. */
  async start(req: IncomingMessage, res: ServerResponse, id: string): Promise<void> {
    const body = (await readJson(req)) as ImportBody | undefined;
    const img = liveImage(this.o.store, id);
    const name = body?.method?.name;
    const offered = importMethods({ ...this.o, stores: this.o.store.storeNames.length });
    if (typeof name !== 'string' || !offered.includes(name))
      throw new HttpError(
        400,
        `Import method ${String(name)} is not valid for this cloud. Valid values are: ${offered.join(', ')}`,
      );
    if (name === 'copy-image') return this.#startCopy(res, img, body);
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

  /** GET /v2/images/{id}/tasks: the image's import tasks, newest first, as Glance shows them. */
  tasks(res: ServerResponse, id: string): void {
    liveImage(this.o.store, id);
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

  /** copy-image (multi-store only): an active image's data into more stores; it stays active. */
  #startCopy(res: ServerResponse, img: ImageRecord, body: ImportBody | undefined): void {
    if (img.status !== 'active')
      throw new HttpError(409, "Image needs to be in 'active' state to use 'copy-image' method");
    if ((img.properties.os_glance_importing_to_stores ?? '') !== '') throw new HttpError(409, 'Image has active task');
    const targets = this.#copyTargets(img, body);
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

  /** The stores a copy-image asks for that the image is not in yet (`all_stores` skips those it is in). */
  #copyTargets(img: ImageRecord, body: ImportBody | undefined): string[] {
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
    return targets;
  }

  async #copy(id: string, taskId: string, targets: string[]): Promise<void> {
    const failed: string[] = [];
    for (const store of targets) {
      const img = this.o.store.get(id);
      if (img === undefined) return this.o.store.finishTask(taskId, 'failure', 'the image was deleted during the copy');
      if (!(await this.#copyInto(img, store))) failed.push(store);
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
      { image_id: id },
    );
  }

  /** One store's copy: a temp file, fsynced, renamed; the image lists the store. False when it failed. */
  async #copyInto(img: ImageRecord, store: string): Promise<boolean> {
    const temp = this.o.store.tempPath(this.o.store.storeDir(store), img.id);
    try {
      await copyFile(this.o.store.readPath(img), temp);
      await fsyncFile(temp);
      await rename(temp, this.o.store.storePath(store, img.id));
      const now = this.o.store.get(img.id);
      if (now === undefined) throw new Error('the image was deleted during the copy');
      now.stores = [...new Set([...now.stores, store])];
      now.properties.os_glance_importing_to_stores = (now.properties.os_glance_importing_to_stores ?? '')
        .split(',')
        .filter((x) => x !== '' && x !== store)
        .join(',');
      now.updated_at = glanceTime();
      this.o.store.save(now);
      return true;
    } catch {
      await rm(temp, { force: true });
      return false;
    }
  }

  /** web-download: the URI's bytes to a temp file, hashed, size-capped, fsynced, renamed. */
  async #webDownload(id: string, taskId: string, uri: string): Promise<void> {
    const temp = this.o.store.tempPath(this.o.store.imagesDir, id);
    try {
      const body = await fetchImage(uri, this.o.webDownload ?? { enabled: false });
      const seen = digestsOf();
      body.on('data', (c: Buffer) => {
        seen.update(c);
        if (seen.bytes() > this.o.sizeCap) body.destroy(new Error(TOO_LARGE));
      });
      await pipeline(body, createWriteStream(temp, { mode: 0o600 }));
      await fsyncFile(temp);
      const img = this.o.store.get(id);
      if (img === undefined) throw new Error(`image ${id} was deleted during the import`);
      const final = this.o.store.dataPath(id);
      await rename(temp, final);
      await markActive(img, {
        path: final,
        store: this.o.store.defaultStore,
        size: seen.bytes(),
        digests: seen.digests(),
      });
      this.o.store.save(img);
      this.o.store.finishTask(taskId, 'success', '', { image_id: id });
    } catch (e) {
      await rm(temp, { force: true });
      this.#importFailed(id, taskId, e);
    }
  }

  /** glance-direct: the staged data, hashed, renamed into the default store. */
  async #finishImport(id: string, taskId: string): Promise<void> {
    const staged = this.o.store.stagePath(id);
    try {
      const seen = digestsOf();
      for await (const c of createReadStream(staged)) seen.update(c as Buffer);
      const final = this.o.store.dataPath(id);
      await rename(staged, final);
      const img = this.o.store.get(id);
      if (img === undefined) return void (await rm(final, { force: true }));
      const size = (await stat(final)).size;
      await markActive(img, { path: final, store: this.o.store.defaultStore, size, digests: seen.digests() });
      this.o.store.save(img);
      this.o.store.finishTask(taskId, 'success', '', { image_id: id });
    } catch (e) {
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
}
