/**
 * The file a sync job sends for a staged image is its own, in the data folder's cache
 * (`cache/unpacked/<image id>-<n>.raw`): the job removes it when it is done, and each start
 * removes those no live job names (transfer/shrink-cache.ts).
 * - A packed staged image (the local server keeps it as a compressed qcow2 of itself:
 *   local-glance/image-packing.ts): its raw bytes, unpacked with `qemu-img convert` into a
 *   `.part` renamed when whole (sparse: it takes the room of the data).
 * - An unpacked one: a hard link to its raw data, so that the server packing it meanwhile (which
 *   removes the raw file once the packed one is in place) cannot pull it away.
 */
import { randomUUID } from 'node:crypto';
import { link, mkdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { EngineError } from './errors';
import { qemuImg } from './qemu-img';

export function unpackedDir(cacheDir: string): string {
  return join(cacheDir, 'unpacked');
}

/** A new name for one job's file: jobs never share one (each removes its own when done). */
async function jobPath(cacheDir: string, imageId: string): Promise<string> {
  const dir = unpackedDir(cacheDir);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  return join(dir, `${imageId.toLowerCase()}-${randomUUID().slice(0, 8)}.raw`);
}

/** The raw file of this packed image (`size` bytes), for one sync job. */
export async function unpackStaged(cacheDir: string, packed: string, imageId: string, size: number): Promise<string> {
  const path = await jobPath(cacheDir, imageId);
  const part = `${path}.part`;
  try {
    await qemuImg(['convert', '-f', 'qcow2', '-O', 'raw', packed, part]);
    if ((await stat(part)).size !== size)
      throw new EngineError('staged.not_ready', `The packed data of staged image ${imageId} is not ${size} bytes.`, {
        hint: 'Stage the file again.',
      });
    await rename(part, path);
  } finally {
    await rm(part, { force: true });
  }
  return path;
}

/**
 * A sync's own name for the raw data of a staged image, so that the server packing it meanwhile
 * (which removes the raw file once the packed one is in place) cannot pull it away: a hard link
 * in the cache, free on the same file system; where a link cannot be made (another file system),
 * the server's file itself.
 */
export async function linkStaged(cacheDir: string, raw: string, imageId: string): Promise<string> {
  const path = await jobPath(cacheDir, imageId);
  try {
    await link(raw, path);
    return path;
  } catch {
    return raw;
  }
}
