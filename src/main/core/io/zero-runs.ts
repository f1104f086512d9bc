/**
 * Zero runs: the parts of a disk that hold nothing. A raw disk copied without care (scp, a
 * download, `cp` on some systems) has its empty parts written as zeros: the file system holds
 * them, st_blocks counts them, yet they are as empty as a hole. qemu-img skips them when it makes
 * a qcow2, and the embedded server leaves them as holes when it stores an image, both at the
 * granularity of a 64 KiB cluster (qcow2's default): a cluster is data when one byte in it is not
 * zero. One definition here for all three (the data scan, the sparse store, the shrink plan).
 */
import { open } from 'node:fs/promises';

/** The unit of a zero run: qcow2's default cluster, aligned on file offsets. */
export const ZERO_CLUSTER = 64 * 1024;

const ZEROS = new Uint8Array(ZERO_CLUSTER);

/** `view[start, end)` holds only zeros (end - start at most ZERO_CLUSTER). */
function zeroSpan(view: Uint8Array, start: number, end: number): boolean {
  return Buffer.compare(view.subarray(start, end), ZEROS.subarray(0, end - start)) === 0;
}

/**
 * The runs of `view` (whose first byte is at file offset `at`) that hold data, as [start, end)
 * offsets in `view`: each cut at cluster boundaries of the file, a cluster dropped when it is
 * all zeros, neighbours merged. The runs keep the view's alignment (they start and end at
 * cluster boundaries or at the view's own ends), so a direct write of a run stays aligned.
 */
export function dataRuns(view: Uint8Array, at: number): [number, number][] {
  const runs: [number, number][] = [];
  let start = 0;
  while (start < view.length) {
    const end = Math.min(view.length, start + ZERO_CLUSTER - ((at + start) % ZERO_CLUSTER));
    if (!zeroSpan(view, start, end)) {
      const last = runs.at(-1);
      if (last !== undefined && last[1] === start) last[1] = end;
      else runs.push([start, end]);
    }
    start = end;
  }
  return runs;
}

/** Bytes of `view` (at file offset `at`) in clusters that hold data. */
export function dataBytesIn(view: Uint8Array, at: number): number {
  return dataRuns(view, at).reduce((n, [s, e]) => n + e - s, 0);
}

export interface DataScanOptions {
  signal?: AbortSignal;
  /** Bytes read so far, after each read. */
  onProgress?: (read: number) => void;
}

const SCAN_READ = 4 * 1024 * 1024;

/**
 * The data of a file: its bytes in clusters that hold a non-zero byte. Reads it through once
 * (holes read as zeros at memory speed; the rest at the disk's); nothing is kept.
 */
export async function scanData(path: string, o: DataScanOptions = {}): Promise<number> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(SCAN_READ);
    let at = 0;
    let data = 0;
    for (;;) {
      o.signal?.throwIfAborted();
      const { bytesRead } = await fh.read(buf, 0, SCAN_READ, at);
      if (bytesRead === 0) return data;
      data += dataBytesIn(buf.subarray(0, bytesRead), at);
      at += bytesRead;
      o.onProgress?.(at);
    }
  } finally {
    await fh.close();
  }
}
