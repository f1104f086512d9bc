/**
 * Writes past the page cache (O_DIRECT, Linux): the disk takes the bytes from the caller's
 * memory, no copy into the page cache is made. Buffers, offsets and lengths must be aligned;
 * where the platform or the file system cannot (no O_DIRECT, tmpfs), callers write as usual.
 */
import { randomUUID } from 'node:crypto';
import { closeSync, constants, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/** Direct I/O wants buffers, offsets and lengths in multiples of the logical block: 4096 covers all. */
export const DIRECT_ALIGN = 4096;

const O_DIRECT = (constants as { O_DIRECT?: number }).O_DIRECT;

/** `path` opened for direct writes, or undefined where that is not possible (no O_DIRECT, tmpfs...). */
export function openDirect(path: string): number | undefined {
  if (O_DIRECT === undefined) return undefined;
  try {
    return openSync(path, constants.O_WRONLY | O_DIRECT);
  } catch {
    return undefined;
  }
}

/**
 * Whether files in `dir` take direct writes, and where in `ring` an aligned block starts:
 * JavaScript cannot see a buffer's address, and the allocator aligns large ones to 16 bytes
 * only. One block is written to a probe file from each 16-byte offset until the kernel takes
 * it (EINVAL otherwise); the probe is removed.
 */
export function directWrites(dir: string, ring: SharedArrayBuffer): { base: number } | undefined {
  if (O_DIRECT === undefined) return undefined;
  const probe = join(dir, `.direct-probe-${process.pid}-${randomUUID()}`);
  let fd: number;
  try {
    fd = openSync(probe, constants.O_CREAT | constants.O_WRONLY | O_DIRECT, 0o600);
  } catch {
    return undefined;
  }
  try {
    for (let base = 0; base < DIRECT_ALIGN; base += 16) {
      try {
        writeSync(fd, new Uint8Array(ring, base, DIRECT_ALIGN), 0, DIRECT_ALIGN, 0);
        return { base };
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EINVAL') return undefined;
      }
    }
    return undefined;
  } finally {
    closeSync(fd);
    rmSync(probe, { force: true });
  }
}
