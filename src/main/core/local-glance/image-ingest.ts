/**
 * How image data arrives on the embedded server: `PUT /stage` and a `PUT /file` without a
 * length (whole bodies, hashed as they stream), and `PUT /file` with a length (resumable, at
 * the offset of `Content-Range`, the part kept across broken connections). Every path ends the
 * same way: data fsynced, renamed into place, the image active with its digests
 * (`markActive`). A client that goes away, a size cap or quota hit, or a delete during the
 * upload leaves no data and the image `queued` again (or gone).
 */
import { open, rename, rm, stat, writeFile, type FileHandle } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { inspectFile } from '../inspect/inspect';
import { digestsOf, type Digests } from '../io/hasher';
import { IngestRing } from '../io/ingest-ring';
import { SparseFileStream } from '../io/sparse-writes';
import { WriteBehind } from './write-behind';
import { HttpError, sendEmpty } from './http-kit';
import { liveImage } from './image-doc';
import { glanceTime, type ImageRecord, type ImageStore } from './image-store';

export interface IngestLimits {
  store: ImageStore;
  /** Largest image accepted, bytes (Glance's image_size_cap). */
  sizeCap: number;
  /** Total bytes all images may hold, those still receiving data included (0: no limit). */
  quotaBytes: number;
  /** An image became active with its data (the packer's cue). */
  onActive?: (id: string) => void;
}

export const TOO_LARGE = 'The incoming image is too large: The provided image is too large.';

/** Glance's answer to an upload whose image was deleted meanwhile. */
export function deletedDuringUpload(id: string): HttpError {
  return new HttpError(
    410,
    `Image ${id} could not be found after upload. The image may have been deleted during the upload.`,
  );
}

/** Data on disk before it is renamed into place or counted as received. */
export async function fsyncFile(path: string): Promise<void> {
  const fh = await open(path, 'r+');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** The file is `length` bytes long (what is added is a hole: zeros taking no room). */
async function extendTo(fh: FileHandle, length: number): Promise<void> {
  if ((await fh.stat()).size < length) await fh.truncate(length);
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

/** An image whose data is in place at `path` (in `store`): active, with its size and digests. */
export async function markActive(
  img: ImageRecord,
  data: { path: string; store: string; size: number; digests: Digests },
): Promise<void> {
  img.status = 'active';
  img.stores = [data.store];
  img.size = data.size;
  img.checksum = data.digests.md5;
  img.os_hash_algo = 'sha512';
  img.os_hash_value = data.digests.sha512;
  img.virtual_size = await virtualSizeOf(data.path, img);
  img.updated_at = glanceTime();
}

/** `Content-Range: bytes START-END/TOTAL` of a ranged upload (undefined without the header). */
function parseContentRange(h: string | undefined): { start: number; end: number; total: number } | undefined {
  if (h === undefined) return undefined;
  const m = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(h.trim());
  const [start, end, total] = [Number(m?.[1]), Number(m?.[2]), Number(m?.[3])];
  if (m === null || start > end || end >= total) throw new HttpError(400, `Invalid Content-Range: ${h}`);
  return { start, end, total };
}

function checkOctetStream(req: IncomingMessage): void {
  const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim();
  if (type !== 'application/octet-stream') throw new HttpError(415, `Unsupported Content-Type: ${type ?? ''}`);
}

function checkFormatsSet(img: ImageRecord): void {
  if (img.disk_format === null || img.container_format === null)
    throw new HttpError(400, 'Properties disk_format, container_format must be set prior to saving data.');
}

/** Where a resumable upload stands while its body streams in. */
interface Resumable {
  img: ImageRecord;
  part: string;
  store: string;
  start: number;
  length: number;
  total: number;
}

export class ImageIngest {
  /** Uploads in flight, by image id: a delete aborts them. */
  readonly #uploads = new Map<string, AbortController>();

  constructor(private readonly o: IngestLimits) {}

  /** A delete of an image whose data is arriving: the upload answers 410 and removes its partial data. */
  abort(id: string): void {
    this.#uploads.get(id)?.abort();
  }

  #tooLarge(n: number): boolean {
    return n > this.o.sizeCap;
  }

  #overQuota(n: number): boolean {
    return this.o.quotaBytes > 0 && this.o.store.usage().bytes + n > this.o.quotaBytes;
  }

  #quotaError(): HttpError {
    return new HttpError(413, `Image exceeds the storage quota: ${this.o.quotaBytes} bytes.`);
  }

  /**
   * PUT /stage (and /file from a client that sends no Content-Length): checked like Glance, then
   * the bytes go to a temp file (hashed on the way), fsync, rename.
   */
  async whole(req: IncomingMessage, res: ServerResponse, id: string, stage: boolean, store: string): Promise<void> {
    checkOctetStream(req);
    const img = liveImage(this.o.store, id);
    if (img.status !== 'queued')
      throw new HttpError(
        409,
        `Image status transition from ${img.status} to ${stage ? 'uploading' : 'saving'} is not allowed`,
      );
    if (!stage) checkFormatsSet(img);
    const declared = req.headers['content-length'] !== undefined ? Number(req.headers['content-length']) : undefined;
    if (declared !== undefined && this.#tooLarge(declared)) throw new HttpError(413, TOO_LARGE);
    if (declared !== undefined && this.#overQuota(declared)) throw this.#quotaError();
    // The state and the announced size are recorded first: the bytes count against the quota while they arrive.
    img.status = stage ? 'uploading' : 'saving';
    img.size = declared ?? 0;
    img.updated_at = glanceTime();
    this.o.store.save(img);
    const abort = new AbortController();
    this.#uploads.set(img.id, abort);
    const temp = this.o.store.tempPath(stage ? this.o.store.stagingDir : this.o.store.imagesDir, img.id);
    try {
      const { bytes, digests } = await this.#receiveWhole(req, temp, img.id, declared, abort.signal);
      if (declared !== undefined && bytes !== declared)
        throw new HttpError(400, `Expected ${declared} bytes, got ${bytes}.`);
      await fsyncFile(temp);
      const current = this.o.store.get(img.id);
      if (current === undefined || abort.signal.aborted) throw deletedDuringUpload(img.id);
      await this.#landWhole(current, temp, stage ? undefined : store, { bytes, digests });
      sendEmpty(res, 204);
    } catch (e) {
      await rm(temp, { force: true });
      const still = this.o.store.get(img.id);
      if (still !== undefined) {
        still.status = 'queued';
        still.size = null;
        still.updated_at = glanceTime();
        this.o.store.save(still);
      }
      throw e;
    } finally {
      this.#uploads.delete(img.id);
    }
  }

  /** A whole body in place: staged (`store` undefined: the image waits for its import), or active in `store`. */
  async #landWhole(
    img: ImageRecord,
    temp: string,
    store: string | undefined,
    got: { bytes: number; digests: Digests },
  ): Promise<void> {
    const final = store === undefined ? this.o.store.stagePath(img.id) : this.o.store.storePath(store, img.id);
    await rename(temp, final);
    if (store === undefined) {
      img.size = got.bytes;
      img.updated_at = glanceTime();
      img.status = 'uploading';
      this.o.store.save(img);
      return;
    }
    await markActive(img, { path: final, store, size: got.bytes, digests: got.digests });
    this.o.store.save(img);
    this.o.onActive?.(img.id); // packing starts in the background
  }

  /** The body into `temp`, hashed on the way; refused past the size cap or (no length announced) the quota. */
  #receiveWhole(
    req: IncomingMessage,
    temp: string,
    id: string,
    declared: number | undefined,
    aborted: AbortSignal,
  ): Promise<{ bytes: number; digests: Digests }> {
    const seen = digestsOf();
    const out = new SparseFileStream(temp); // a disk's empty parts stay holes
    return new Promise((resolve, reject) => {
      let refusal: HttpError | undefined;
      const fail = (e: unknown): void => {
        req.unpipe(out);
        out.destroy();
        // A refusal wins over what it caused (the stream's error after the destroy).
        reject(refusal ?? (e instanceof Error ? e : new Error(String(e))));
      };
      aborted.addEventListener('abort', () => fail(deletedDuringUpload(id)));
      req.on('data', (c: Buffer) => {
        seen.update(c);
        if (this.#tooLarge(seen.bytes())) refusal = new HttpError(413, TOO_LARGE);
        else if (declared === undefined && this.#overQuota(seen.bytes())) refusal = this.#quotaError();
        if (refusal !== undefined) fail(refusal);
      });
      req.on('aborted', () => fail(new Error('client went away')));
      req.on('error', fail);
      out.on('error', fail);
      out.on('finish', () => resolve({ bytes: seen.bytes(), digests: seen.digests() }));
      req.pipe(out);
    });
  }

  /**
   * PUT /file with a known size: resumable. The bytes go to the image's `.part-` file at the
   * offset the request names (`Content-Range: bytes S-E/TOTAL`; no header: from 0, the whole
   * image, as any Glance client sends it). When the connection breaks, what arrived is kept
   * (fsynced): HEAD /file says where to continue (`Upload-Offset`). Once TOTAL bytes are there,
   * the file is fsynced and renamed into place, and the image is active with its hashes.
   */
  async resumable(req: IncomingMessage, res: ServerResponse, id: string, storeOf: () => string): Promise<void> {
    const up = this.#admitResumable(req, id, storeOf);
    const { img, part, start, total } = up;
    if (start === 0) await rm(part, { force: true }); // a whole-body PUT starts over
    img.status = 'saving';
    img.upload_total = total;
    img.partial_size = start;
    img.updated_at = glanceTime();
    this.o.store.save(img); // counted against the quota from the first byte
    const abort = new AbortController();
    this.#uploads.set(img.id, abort);
    if (start === 0) await writeFile(part, '', { mode: 0o600 });
    // The bytes go through a ring of slots: each full slot is one write at its offset, hashed in
    // place by two workers (md5, sha512): the event loop only copies, and both cores hash.
    const fh = await open(part, 'r+');
    const behind = new WriteBehind();
    behind.attach(fh.fd);
    // Sparse: a disk's empty parts stay holes, so a staged image takes the room of its data.
    const ring = IngestRing.start({
      fd: fh.fd,
      path: part,
      offset: start,
      sparse: true,
      onWritten: (n) => behind.wrote(n),
    });
    try {
      const received = await this.#receiveResumable(req, up, ring, abort.signal);
      await extendTo(fh, start + received); // zeros at the end were not written
      await behind.settle();
      await fh.sync();
      const current = this.o.store.get(img.id);
      if (current === undefined || abort.signal.aborted) throw deletedDuringUpload(img.id);
      await this.#finishResumable(res, current, up, start + received, ring);
    } catch (e) {
      await ring.flush().catch(() => undefined); // what arrived is kept for a resume
      await behind.settle().catch(() => undefined);
      await fh.sync().catch(() => undefined);
      await this.#keepPart(img.id, part, total, abort.signal.aborted);
      throw e;
    } finally {
      this.#uploads.delete(img.id);
      await ring.dispose();
      await fh.close();
    }
  }

  /** The checks before the first byte, in Glance's order, and where this piece starts. */
  #admitResumable(req: IncomingMessage, id: string, storeOf: () => string): Resumable {
    checkOctetStream(req);
    const img = liveImage(this.o.store, id);
    if (img.status !== 'queued')
      throw new HttpError(409, `Image status transition from ${img.status} to saving is not allowed`);
    checkFormatsSet(img);
    const length = Number(req.headers['content-length']);
    if (!Number.isInteger(length) || length < 0) throw new HttpError(400, 'Invalid Content-Length.');
    const store = storeOf();
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
    if (this.#tooLarge(total)) throw new HttpError(413, TOO_LARGE);
    const ownCounted = Math.max(img.size ?? 0, img.upload_total ?? 0);
    if (this.o.quotaBytes > 0 && this.o.store.usage().bytes - ownCounted + total > this.o.quotaBytes)
      throw this.#quotaError();
    return { img, part: this.o.store.partPath(img.id), store, start, length, total };
  }

  /** The body into the part file at its offset, through the ring. Resolves with the bytes received, all written. */
  async #receiveResumable(
    req: IncomingMessage,
    up: Resumable,
    ring: IngestRing,
    aborted: AbortSignal,
  ): Promise<number> {
    const { length } = up;
    let received = 0;
    await new Promise<void>((resolve, reject) => {
      let failed = false;
      const fail = (e: Error): void => {
        if (failed) return;
        failed = true;
        req.removeAllListeners('data');
        req.resume();
        reject(e);
      };
      aborted.addEventListener('abort', () => fail(deletedDuringUpload(up.img.id)));
      req.on('data', (c: Buffer) => {
        if (received + c.length > length) return fail(new HttpError(400, `More than the announced ${length} bytes.`));
        received += c.length;
        try {
          if (!ring.push(c)) {
            req.pause();
            ring.room().then(
              () => req.resume(),
              (e: unknown) => fail(e as Error),
            );
          }
        } catch (e) {
          fail(e as Error); // a write or hashing failure fails the upload
        }
      });
      req.on('end', () => (received === length ? resolve() : fail(new Error('short body'))));
      req.on('aborted', () => fail(new Error('client went away')));
      req.on('error', (e) => fail(e));
    });
    await ring.flush();
    return received;
  }

  /** One piece of a ranged upload waits for the rest; the last one makes the image active. */
  async #finishResumable(
    res: ServerResponse,
    current: ImageRecord,
    up: Resumable,
    stored: number,
    ring: IngestRing,
  ): Promise<void> {
    if (stored < up.total) {
      current.status = 'queued';
      current.partial_size = stored;
      current.updated_at = glanceTime();
      this.o.store.save(current);
      return sendEmpty(res, 204, { 'upload-offset': String(stored) });
    }
    const final = this.o.store.storePath(up.store, current.id);
    const digests = await ring.digests(); // the workers may read the part file (a resume): before the rename
    await rename(up.part, final);
    current.partial_size = null;
    current.upload_total = null;
    await markActive(current, { path: final, store: up.store, size: up.total, digests });
    this.o.store.save(current);
    sendEmpty(res, 204);
    this.o.onActive?.(current.id);
  }

  /** After a broken upload: what reached the disk is kept for a resume, as Glance's image goes back to queued. */
  async #keepPart(id: string, part: string, total: number, deleted: boolean): Promise<void> {
    const still = this.o.store.get(id);
    if (still === undefined || deleted) return void (await rm(part, { force: true }));
    still.status = 'queued';
    still.partial_size = Math.min((await stat(part).catch(() => ({ size: 0 }))).size, total);
    still.updated_at = glanceTime();
    this.o.store.save(still);
  }
}
