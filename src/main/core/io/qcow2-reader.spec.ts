import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EngineError } from './errors';
import { Qcow2Reader } from './qcow2-reader';

const MiB = 1024 * 1024;
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'gu-qcow2-read-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** A 24 MiB disk: random data, a compressible run, zeros, data across cluster edges, a short tail. */
function disk(): Buffer {
  const b = Buffer.alloc(24 * MiB + 512);
  randomBytes(3 * MiB).copy(b, MiB + 4096);
  b.fill('glance uploader ', 10 * MiB, 14 * MiB);
  randomBytes(100).copy(b, 20 * MiB - 50);
  randomBytes(512).copy(b, 24 * MiB);
  return b;
}

function qcow2Of(raw: Buffer, opts: string[]): string {
  const r = join(dir, 'disk.raw');
  writeFileSync(r, raw);
  const q = join(dir, `disk-${opts.join('')}.qcow2`);
  execFileSync('qemu-img', ['convert', '-f', 'raw', '-O', 'qcow2', ...opts, r, q]);
  return q;
}

describe('Qcow2Reader (the raw bytes of a qcow2 made by qemu-img)', () => {
  // Fails when compressed clusters are read as plain ones, or zero clusters as data.
  it.each([[['-c']], [['-c', '-W', '-m', '8']], [[]], [['-c', '-o', 'cluster_size=4096']]])(
    'reads back every byte of the disk (qemu-img convert %j), whole and in odd slices',
    async (opts) => {
      const raw = disk();
      const r = await Qcow2Reader.open(qcow2Of(raw, opts));
      try {
        expect(r.virtualSize).toBe(raw.length);
        expect((await buffer(r.stream())).equals(raw)).toBe(true);
        for (const [at, n] of [
          [0, 1],
          [MiB + 4000, 70_000],
          [20 * MiB - 60, 200],
          [24 * MiB + 500, 100],
        ] as const)
          expect((await r.read(at, n)).equals(raw.subarray(at, at + n))).toBe(true);
        expect(
          (await buffer(r.stream(10 * MiB - 3, 14 * MiB + 3))).equals(raw.subarray(10 * MiB - 3, 14 * MiB + 3)),
        ).toBe(true);
      } finally {
        await r.close();
      }
    },
  );

  it('refuses what it does not read: a backing file, another format', async () => {
    const base = qcow2Of(disk(), ['-c']);
    const child = join(dir, 'child.qcow2');
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', base, '-F', 'qcow2', child]);
    await expect(Qcow2Reader.open(child)).rejects.toBeInstanceOf(EngineError);
    writeFileSync(join(dir, 'plain.raw'), readFileSync(base).subarray(4));
    await expect(Qcow2Reader.open(join(dir, 'plain.raw'))).rejects.toThrow(/not a qcow2/);
  });
});
