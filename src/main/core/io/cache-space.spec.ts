import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { assertCacheFits } from './cache-space';
import { EngineError } from './errors';
import { qcow2Bound } from './qemu-img';

const MiB = 1024 * 1024;
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'gu-cache-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('room in the cache for a compressed copy', () => {
  it('bounds a copy by the data, not the size, plus the qcow2 tables', () => {
    expect(qcow2Bound(4 * 1024 * MiB, 300 * MiB)).toBe(300 * MiB + 65536 * 10 + 2 * MiB);
    expect(qcow2Bound(10 * MiB, 20 * MiB)).toBe(10 * MiB + 160 * 10 + 2 * MiB); // never more than the size
  });

  // Fails if the limit were ignored (the copy would fill the user's disk past what they allowed).
  it('refuses what would pass the limit, counting what the cache already holds, with a coded hint', async () => {
    await assertCacheFits(dir, 10 * MiB, 'a', 1);
    writeFileSync(join(dir, 'old.qcow2'), Buffer.alloc(40 * MiB, 1)); // 40 MiB already there
    await assertCacheFits(dir, 10 * MiB, 'a', 0.06); // 40 + 10 in 61 MiB
    const err = await assertCacheFits(dir, 20 * MiB, 'disk.raw', 0.05) /* 40 + 20 > 51 MiB */
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EngineError);
    expect((err as EngineError).info).toMatchObject({
      code: 'shrink.no_space',
      message: expect.stringMatching(/^The compressed copy of disk\.raw may need 0\.02 GiB/),
      hint: expect.stringContaining('shrinkCacheGiB'),
    });
  });

  it('refuses what the disk cannot hold, whatever the limit', async () => {
    const err = await assertCacheFits(dir, 1024 ** 5, 'huge.raw', 0).catch((e: unknown) => e);
    expect((err as EngineError).info).toMatchObject({
      code: 'shrink.no_space',
      hint: expect.stringContaining('Free some space'),
    });
  });
});
