import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Qcow2Reader } from '../io/qcow2-reader';
import { newImage } from './image-doc';
import { ImagePacker, type PackOutcome } from './image-packing';
import { ImageStore } from './image-store';

const MiB = 1024 * 1024;
let dir: string;
let store: ImageStore;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'gu-packing-'));
  store = new ImageStore(dir).open();
});
afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

const sha512 = (b: Buffer): string => createHash('sha512').update(b).digest('hex');

/** An active raw image: 32 MiB, 4 MiB of compressible text and 1 MiB of random data, the rest zeros written out. */
function activeRaw(id: string, data?: Buffer): Buffer {
  const raw = data ?? Buffer.alloc(32 * MiB);
  if (data === undefined) {
    raw.fill('staged on a laptop ', 2 * MiB, 6 * MiB);
    randomBytes(MiB).copy(raw, 20 * MiB);
  }
  const img = newImage(id, 'p');
  Object.assign(img, { status: 'active', disk_format: 'raw', container_format: 'bare', size: raw.length });
  img.stores = ['local'];
  img.os_hash_value = sha512(raw);
  store.insert(img);
  writeFileSync(store.storePath('local', id), raw);
  return raw;
}

async function pack(ids: string[]): Promise<PackOutcome[]> {
  const outcomes: PackOutcome[] = [];
  const packer = new ImagePacker(store, (_id, o) => outcomes.push(o));
  for (const id of ids) packer.request(id);
  await packer.idle();
  return outcomes;
}

describe('ImagePacker (a raw image kept as a compressed qcow2 of itself)', () => {
  // Fails when the packed form is not made (the raw file stays), or does not hold the raw
  // bytes (the reader's sha512 differs).
  it('packs an active raw image: the row says packed, the raw file goes, the packed one reads as the raw bytes', async () => {
    const id = '00000000-0000-4000-8000-000000000001';
    const raw = activeRaw(id);
    expect(await pack([id])).toEqual(['packed']);
    expect(store.get(id)?.packed).toBe(true);
    expect(existsSync(store.storePath('local', id))).toBe(false);
    const packed = store.readPath(store.get(id) ?? newImage(id, 'p'));
    expect(packed).toBe(store.packedPath('local', id));
    expect(statSync(packed).blocks * 512).toBeLessThan(2 * MiB); // 1 MiB random, the text compressed
    const r = await Qcow2Reader.open(packed);
    try {
      expect(sha512(await buffer(r.stream()))).toBe(sha512(raw));
    } finally {
      await r.close();
    }
  });

  it('leaves what would not shrink, another format, and a size qemu-img would pad', async () => {
    const dense = '00000000-0000-4000-8000-000000000002';
    activeRaw(dense, randomBytes(4 * MiB));
    const odd = '00000000-0000-4000-8000-000000000003';
    activeRaw(odd, Buffer.alloc(MiB + 100));
    const qcow = '00000000-0000-4000-8000-000000000004';
    activeRaw(qcow);
    const q = store.get(qcow);
    if (q !== undefined) store.save({ ...q, disk_format: 'qcow2' });
    expect(await pack([dense, odd, qcow])).toEqual(['not-worth-it', 'not-worth-it', 'skipped']);
    // Not tried again at the next start.
    expect([dense, odd].map((id) => store.get(id)?.packKept)).toEqual([true, true]);
    for (const id of [dense, odd, qcow]) {
      expect(store.get(id)?.packed).toBe(false);
      expect(existsSync(store.storePath('local', id))).toBe(true);
      expect(existsSync(store.packedPath('local', id))).toBe(false);
    }
  });

  // A crash between the rename and the row, or between the row and the removal, leaves both
  // files. Fails when the sweep removes the form the row names (the image's only data).
  it('after a crash mid-way, the sweep keeps the form the row names and removes the other', async () => {
    const before = '00000000-0000-4000-8000-000000000005';
    const after = '00000000-0000-4000-8000-000000000006';
    for (const id of [before, after]) {
      activeRaw(id);
      writeFileSync(store.packedPath('local', id), 'half of a packing');
    }
    const a = store.get(after);
    if (a !== undefined) store.save({ ...a, packed: true });
    store.sweep();
    expect([existsSync(store.storePath('local', before)), existsSync(store.packedPath('local', before))]).toEqual([
      true,
      false,
    ]);
    expect([existsSync(store.storePath('local', after)), existsSync(store.packedPath('local', after))]).toEqual([
      false,
      true,
    ]);
  });
});
