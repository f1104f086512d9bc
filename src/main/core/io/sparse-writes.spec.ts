import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SparseFileStream } from './sparse-writes';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'gu-sparse-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('SparseFileStream', () => {
  // Fails when zeros are written (the room is the length) or the trailing zeros are lost (the
  // file is shorter: _final without ftruncate).
  it('writes the data, leaves the zeros as holes and gives the file its whole length', async () => {
    const data = Buffer.alloc(6 * 1024 * 1024);
    randomBytes(200_000).copy(data, 1_000_001);
    const pieces = [data.subarray(0, 77_777), data.subarray(77_777, 3_000_000), data.subarray(3_000_000)];
    const path = join(dir, 'out');
    await pipeline(Readable.from(pieces), new SparseFileStream(path));
    expect(readFileSync(path).equals(data)).toBe(true);
    expect(statSync(path).blocks * 512).toBeLessThan(1024 * 1024);
  });
});
