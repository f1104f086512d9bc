/**
 * Room for a file the engine is about to write into its cache (a compressed copy, say): the
 * disk's free space less a reserve, and the limit the user set, checked before the work starts
 * so that a file that cannot fit is a coded error instead of a full disk half-way.
 */
import { mkdirSync, readdirSync, statSync } from 'node:fs';
import { statfs } from 'node:fs/promises';
import { join } from 'node:path';
import { EngineError } from './errors';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
/** Left free on the cache's disk beside a copy: the system and other programs need room too. */
export const CACHE_RESERVE_BYTES = 512 * MiB;

/** Where the compressed copies of shrinking jobs live, in the data folder's cache. */
export function shrinkDir(cacheDir: string): string {
  return join(cacheDir, 'shrink');
}

export function shrinkPath(cacheDir: string, jobId: string): string {
  return join(shrinkDir(cacheDir), `${jobId}.qcow2`);
}

function cacheUse(dir: string): number {
  let used = 0;
  for (const name of readdirSync(dir)) {
    try {
      used += statSync(join(dir, name)).blocks * 512;
    } catch {
      // removed meanwhile
    }
  }
  return used;
}

const gib = (n: number): string => `${(n / GiB).toFixed(2)} GiB`;

/**
 * Refuses (shrink.no_space) a copy of `need` bytes that would not fit: in the disk's free space
 * less the reserve, or within the cache limit the user set (the setting shrinkCacheGiB).
 */
export async function assertCacheFits(
  dir: string,
  need: number,
  label: string,
  /** The setting shrinkCacheGiB (0 or undefined: no limit but the disk's). */
  limitGiB: number | undefined,
): Promise<void> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const fs = await statfs(dir);
  const free = fs.bavail * fs.bsize;
  if (limitGiB === 0) limitGiB = undefined;
  const room = Math.min(
    free - CACHE_RESERVE_BYTES,
    limitGiB !== undefined ? limitGiB * GiB - cacheUse(dir) : Number.POSITIVE_INFINITY,
  );
  if (need <= room) return;
  const limited = limitGiB !== undefined && limitGiB * GiB - cacheUse(dir) < free - CACHE_RESERVE_BYTES;
  throw new EngineError(
    'shrink.no_space',
    `The compressed copy of ${label} may need ${gib(need)}, and the cache (${dir}) has ${gib(Math.max(0, room))} for it${
      limited
        ? ` (the limit shrinkCacheGiB is ${limitGiB} GiB)`
        : ` (${gib(free)} free, ${gib(CACHE_RESERVE_BYTES)} kept free)`
    }.`,
    {
      hint: limited
        ? 'Raise the limit (glance-uploader settings set shrinkCacheGiB N), or send the file as it is (--shrink off).'
        : 'Free some space on that disk, move the data folder (GLANCE_UPLOADER_HOME), or send the file as it is (--shrink off).',
    },
  );
}
