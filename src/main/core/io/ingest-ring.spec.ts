import { createHash, randomBytes } from 'node:crypto';
import {
  closeSync,
  fstatSync,
  ftruncateSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { IngestRing } from './ingest-ring';

let dir: string;
beforeEach(() => {
  // On a disk (this machine's /tmp) slots go out as direct writes; on a tmpfs through the page cache.
  dir = mkdtempSync(join(tmpdir(), 'gu-ingest-ring-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const md5 = (b: Buffer): string => createHash('md5').update(b).digest('hex');
const sha512 = (b: Buffer): string => createHash('sha512').update(b).digest('hex');

/** Feeds `data` in pieces of the given sizes, as a request body would, pausing when the ring is full. */
async function feed(ring: IngestRing, data: Buffer, pieces: number[]): Promise<void> {
  let at = 0;
  for (let i = 0; at < data.length; i++) {
    const n = Math.min(pieces[i % pieces.length] ?? 1, data.length - at);
    if (!ring.push(data.subarray(at, at + n))) await ring.room();
    at += n;
  }
}

async function ingest(
  data: Buffer,
  opts: { prefix?: Buffer; slotSize?: number; slots?: number; pieces?: number[]; sparse?: boolean },
): Promise<{ file: Buffer; digests: { md5: string; sha512: string }; written: number; blocks: number }> {
  const path = join(dir, 'part');
  writeFileSync(path, opts.prefix ?? Buffer.alloc(0));
  const fd = openSync(path, 'r+');
  const offset = opts.prefix?.length ?? 0;
  const ring = IngestRing.start({ fd, path, offset, slotSize: opts.slotSize, slots: opts.slots, sparse: opts.sparse });
  try {
    await feed(ring, data, opts.pieces ?? [65536]);
    const written = await ring.flush();
    if (opts.sparse === true) ftruncateSync(fd, offset + data.length); // as the server does
    return { digests: await ring.digests(), written, file: readFileSync(path), blocks: fstatSync(fd).blocks };
  } finally {
    await ring.dispose();
    closeSync(fd);
  }
}

describe('IngestRing (socket pieces into slots: one write per slot, hashed in place by two workers)', () => {
  it('writes every byte at its place and hashes exactly those, whatever the pieces and a short last slot', async () => {
    const data = randomBytes(3 * 1024 * 1024 + 4097);
    const r = await ingest(data, { slotSize: 256 * 1024, slots: 3, pieces: [65536, 1, 100_000, 4096, 7] });
    expect(r.written).toBe(data.length);
    expect(r.file.equals(data)).toBe(true);
    expect(r.digests).toEqual({ md5: md5(data), sha512: sha512(data) });
  });

  // Fails when a sparse ring writes the zeros (the file takes its whole length) or drops data
  // next to them (content or digests differ).
  it('leaves clusters of zeros as holes when sparse: same content and digests, the room of the data', async () => {
    const data = Buffer.alloc(8 * 1024 * 1024);
    randomBytes(100_000).copy(data, 3 * 1024 * 1024 + 5); // across cluster boundaries, unaligned
    data[data.length - 70_000] = 1; // data near the end, zeros after it
    const r = await ingest(data, { slotSize: 1024 * 1024, pieces: [65536, 3, 70_001], sparse: true });
    expect(r.file.equals(data)).toBe(true);
    expect(r.digests).toEqual({ md5: md5(data), sha512: sha512(data) });
    expect(r.blocks * 512).toBeLessThan(1024 * 1024);
  });

  it('continues a file at an unaligned offset: the bytes before it are hashed from the file', async () => {
    const prefix = randomBytes(1_000_003);
    const data = randomBytes(2 * 1024 * 1024 + 5);
    const r = await ingest(data, { prefix, slotSize: 128 * 1024 });
    const whole = Buffer.concat([prefix, data]);
    expect(r.file.equals(whole)).toBe(true);
    expect(r.digests).toEqual({ md5: md5(whole), sha512: sha512(whole) });
  });

  it('hashes an empty body (the digests of the prefix alone, or of nothing)', async () => {
    const r = await ingest(Buffer.alloc(0), {});
    expect(r.digests).toEqual({ md5: md5(Buffer.alloc(0)), sha512: sha512(Buffer.alloc(0)) });
  });

  // A slot is filled again only once it is written and both workers hashed it. A producer much
  // faster than the workers (4 MiB pushed at once into two 8 KiB slots) would overwrite slots
  // still being hashed or written. Fails when #slotFree ignores the hashers (or the writes):
  // the digests, or the file, then differ from the data.
  it('never refills a slot before it is written and hashed (a producer far ahead of the workers)', async () => {
    const data = randomBytes(4 * 1024 * 1024);
    const r = await ingest(data, { slotSize: 8192, slots: 2, pieces: [4 * 1024 * 1024] });
    expect(r.file.equals(data)).toBe(true);
    expect(r.digests).toEqual({ md5: md5(data), sha512: sha512(data) });
  });

  // A paused request still hands over what its parser had buffered: pieces pushed while earlier
  // ones wait for a slot are kept in order. Fails when a piece pushed while others wait is
  // dropped (the `#pending.push(chunk)` in push) or joined out of order.
  it('keeps pieces pushed while the ring is full, in order (a paused body still delivering)', async () => {
    const path = join(dir, 'part');
    writeFileSync(path, Buffer.alloc(0));
    const fd = openSync(path, 'r+');
    const ring = IngestRing.start({ fd, path, offset: 0, slotSize: 8192, slots: 2 });
    const data = randomBytes(1024 * 1024 + 3);
    try {
      let refused = 0;
      for (let at = 0; at < data.length; at += 10_000)
        if (!ring.push(data.subarray(at, Math.min(at + 10_000, data.length)))) refused++;
      expect(refused).toBeGreaterThan(0); // the ring was full: pieces waited
      await ring.room();
      expect(await ring.flush()).toBe(data.length);
      expect(readFileSync(path).equals(data)).toBe(true);
      expect((await ring.digests()).sha512).toBe(sha512(data));
    } finally {
      await ring.dispose();
      closeSync(fd);
    }
  });
});
