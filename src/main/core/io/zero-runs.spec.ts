import { mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ZERO_CLUSTER, dataBytesIn, dataRuns, scanData } from './zero-runs';

const C = ZERO_CLUSTER;
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'gu-zero-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('zero runs', () => {
  it('cuts at cluster boundaries of the file, drops all-zero clusters and merges neighbours', () => {
    const view = new Uint8Array(4 * C);
    view[C + 5] = 1; // cluster 1
    view[2 * C] = 1; // cluster 2
    expect(dataRuns(view, 0)).toEqual([[C, 3 * C]]);
    // The same bytes at file offset C/2: the clusters are the file's, not the view's.
    expect(dataRuns(view, C / 2)).toEqual([[C / 2, 2 * C + C / 2]]);
    expect(dataRuns(new Uint8Array(3 * C), 0)).toEqual([]);
    const last = new Uint8Array(C + 10);
    last[C + 9] = 7; // a short cluster at the end counts its own length
    expect(dataRuns(last, 0)).toEqual([[C, C + 10]]);
    expect(dataBytesIn(last, 0)).toBe(10);
  });

  // Fails if the scan counted what the file system holds (zeros written as data) instead of the content.
  it('counts the data of a file whose empty parts were written as zeros, and of one with holes', async () => {
    const dense = join(dir, 'dense.raw');
    const b = Buffer.alloc(64 * C);
    b.fill(9, 3 * C, 3 * C + 1);
    b.fill(9, 40 * C, 42 * C);
    writeFileSync(dense, b);
    expect(await scanData(dense)).toBe(3 * C);
    const sparse = join(dir, 'sparse.raw');
    writeFileSync(sparse, Buffer.alloc(C, 1));
    truncateSync(sparse, 1000 * C);
    expect(await scanData(sparse)).toBe(C);
    const stop = new AbortController();
    stop.abort();
    await expect(scanData(sparse, { signal: stop.signal })).rejects.toThrow();
  });
});
