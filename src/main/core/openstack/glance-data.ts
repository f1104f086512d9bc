/**
 * Image data: upload (PUT /file), stage (PUT /stage), import (POST /import), download (GET /file,
 * resumable with a Range, verified against checksum and os_hash_value). Bodies stream from a
 * factory that opens the source afresh, so memory stays flat whatever the size and a retry
 * always starts from byte 0 (a half-read stream must never be resent: Glance accepts whatever
 * body arrives).
 */
import { createHash, getHashes, type Hash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { stat, unlink } from 'node:fs/promises';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { EngineError } from '../io/errors';
import type { GlanceClient } from './glance-client';
import { glanceError } from './glance-errors';
import type { GlanceImage, ImportRequest } from './glance-types';

const enc = encodeURIComponent;

export interface DataSource {
  /** Opens the data from its first byte. Called again for a retry. */
  open: () => AsyncIterable<Uint8Array>;
  /** Exact size in bytes: sent as Content-Length, so Glance can refuse an over-quota upload up front. */
  size: number;
}

export function fileSource(path: string, size: number): DataSource {
  return { open: () => createReadStream(path, { highWaterMark: 1024 * 1024 }), size };
}

export interface TransferOptions {
  signal?: AbortSignal;
  /** Multi-store: the store to write to (X-Image-Meta-Store). */
  store?: string;
  /**
   * A resumable server only: the source holds the bytes from `start` of an image of `total`
   * bytes (Content-Range: bytes start-(total-1)/total).
   */
  continueAt?: { start: number; total: number };
}

function dataHeaders(source: DataSource, options: TransferOptions): Record<string, string> {
  const c = options.continueAt;
  return {
    'content-type': 'application/octet-stream',
    'content-length': String(source.size),
    'x-openstack-image-size': String(c?.total ?? source.size),
    ...(c !== undefined ? { 'content-range': `bytes ${c.start}-${c.total - 1}/${c.total}` } : {}),
    ...(options.store !== undefined ? { 'x-image-meta-store': options.store } : {}),
  };
}

/** PUT /v2/images/{id}/file: 204 means Glance stored it (the image is then active). */
export async function uploadImageData(
  glance: GlanceClient,
  id: string,
  source: DataSource,
  options: TransferOptions = {},
): Promise<void> {
  const res = await glance.request({
    method: 'PUT',
    path: `/v2/images/${enc(id)}/file`,
    headers: dataHeaders(source, options),
    body: source.open,
    signal: options.signal,
  });
  if (res.status !== 204) throw glanceError(res, `Uploading the data of image ${id} failed`);
}

/** PUT /v2/images/{id}/stage: the image becomes `uploading`; an import must follow. */
export async function stageImageData(
  glance: GlanceClient,
  id: string,
  source: DataSource,
  options: Omit<TransferOptions, 'store'> = {},
): Promise<void> {
  const res = await glance.request({
    method: 'PUT',
    path: `/v2/images/${enc(id)}/stage`,
    headers: dataHeaders(source, {}),
    body: source.open,
    signal: options.signal,
  });
  if (res.status !== 204) throw glanceError(res, `Staging the data of image ${id} failed`);
}

/** POST /v2/images/{id}/import with any method the region offers (202: the import runs in Glance). */
export async function importImage(glance: GlanceClient, id: string, req: ImportRequest): Promise<void> {
  const offered = await glance.importMethods();
  if (!offered.includes(req.method.name)) {
    throw new EngineError(
      'glance.method_not_offered',
      `This region does not offer the import method "${req.method.name}".`,
      {
        hint:
          offered.length > 0
            ? `Methods it offers: ${offered.join(', ')}.`
            : 'It offers no import method: upload the data directly (PUT).',
      },
    );
  }
  const m = req.method;
  const method: Record<string, unknown> = { name: m.name };
  if (m.name === 'web-download') method.uri = m.uri;
  if (m.name === 'glance-download') {
    method.glance_image_id = m.glanceImageId;
    method.glance_region = m.glanceRegion;
    method.glance_service_interface = m.glanceServiceInterface ?? 'public';
  }
  const body: Record<string, unknown> = { method };
  if (req.stores !== undefined) body.stores = req.stores;
  if (req.allStores !== undefined) body.all_stores = req.allStores;
  if (req.allStoresMustSucceed !== undefined) body.all_stores_must_succeed = req.allStoresMustSucceed;
  const res = await glance.request({
    method: 'POST',
    path: `/v2/images/${enc(id)}/import`,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (res.status !== 202) throw glanceError(res, `Import (${m.name}) of image ${id} failed`);
}

export interface DownloadResult {
  bytes: number;
  md5: string;
  /** Hash of os_hash_algo (sha512 on current Glance), when the image has one. */
  osHashValue?: string;
  /** Bytes that were already on disk and kept (a resumed download). */
  resumedFrom: number;
}

/** Hashes what flows through it, and counts it. */
class HashingCounter extends Transform {
  bytes = 0;
  constructor(private readonly hashes: ReturnType<typeof createHash>[]) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null, data?: Buffer) => void): void {
    this.bytes += chunk.length;
    for (const h of this.hashes) h.update(chunk);
    cb(null, chunk);
  }
}

async function existingSize(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}

/**
 * Downloads an active image to `path`, verifying md5 (checksum) and os_hash_value at the end.
 * With resume, bytes already in `path` are kept (and hashed), and only the rest is asked for
 * with a Range. A download that does not verify is deleted: a corrupt copy is never left
 * looking like a good one.
 */
export async function downloadImage(
  glance: GlanceClient,
  id: string,
  path: string,
  options: { resume?: boolean; signal?: AbortSignal } = {},
): Promise<DownloadResult> {
  const image: GlanceImage = await glance.getImage(id);
  if (image.status !== 'active' || image.size === null) {
    throw new EngineError('glance.conflict', `Image ${id} has no data to download (status ${image.status}).`, {
      hint: 'Wait until the image is active.',
    });
  }
  const md5 = createHash('md5');
  const algo = image.os_hash_algo ?? undefined;
  const osHash = algo !== undefined && getHashes().includes(algo) ? createHash(algo) : undefined;
  const hashes = osHash ? [md5, osHash] : [md5];
  let start = options.resume === true ? await existingSize(path) : 0;
  if (start > image.size) start = 0; // not a prefix of this image: start over
  if (start > 0) {
    // The kept prefix is hashed too, so the verification covers the whole file.
    for await (const chunk of createReadStream(path, { end: start - 1 }))
      for (const h of hashes) h.update(chunk as Buffer);
  }
  if (start < image.size) await fetchRest(glance, id, path, start, hashes, options.signal);
  const result: DownloadResult = {
    bytes: await existingSize(path),
    md5: md5.digest('hex'),
    osHashValue: osHash?.digest('hex'),
    resumedFrom: start,
  };
  if (!matches(result, image)) {
    await unlink(path).catch(() => undefined);
    throw new EngineError(
      'glance.checksum_mismatch',
      `The download of image ${id} does not match Glance's size or hashes; the file was removed.`,
      {
        hint: 'Download it again; if it keeps failing the stored image may be corrupt.',
      },
    );
  }
  return result;
}

/** The bytes after `start` (a Range when resuming), appended to the file through the hashes. */
async function fetchRest(
  glance: GlanceClient,
  id: string,
  path: string,
  start: number,
  hashes: Hash[],
  signal: AbortSignal | undefined,
): Promise<void> {
  const headers: Record<string, string> = { accept: 'application/octet-stream' };
  if (start > 0) headers.range = `bytes=${start}-`;
  const res = await glance.requestStream({ method: 'GET', path: `/v2/images/${enc(id)}/file`, headers, signal });
  if (res.status !== (start > 0 ? 206 : 200)) {
    const chunks: Buffer[] = [];
    for await (const c of res.body) chunks.push(c as Buffer);
    throw glanceError(
      { status: res.status, headers: res.headers, body: Buffer.concat(chunks) },
      `Downloading image ${id} failed`,
    );
  }
  await pipeline(res.body, new HashingCounter(hashes), createWriteStream(path, { flags: start > 0 ? 'a' : 'w' }), {
    signal,
  });
}

/** Glance's size, md5 and (when both have one) its os_hash_value. */
function matches(result: DownloadResult, image: GlanceImage): boolean {
  return (
    result.bytes === image.size &&
    (image.checksum === null || result.md5 === image.checksum) &&
    (image.os_hash_value === null || result.osHashValue === undefined || result.osHashValue === image.os_hash_value)
  );
}
