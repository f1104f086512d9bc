import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Hasher } from './hasher';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'gu-hash-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, data: Buffer): string {
  const p = join(dir, name);
  writeFileSync(p, data);
  return p;
}

const md5 = (b: Buffer): string => createHash('md5').update(b).digest('hex');
const sha512 = (b: Buffer): string => createHash('sha512').update(b).digest('hex');

describe('Hasher (worker thread reading the file)', () => {
  it('hashes exactly the bytes announced, in uneven steps', async () => {
    const data = randomBytes(3 * 1024 * 1024 + 7);
    const h = Hasher.start(file('a.raw', data));
    for (const n of [1, 100_000, 0, 2 * 1024 * 1024, data.length - 1 - 100_000 - 2 * 1024 * 1024]) await h.advance(n);
    expect(h.bytes).toBe(data.length);
    expect(await h.digest()).toEqual({ md5: md5(data), sha512: sha512(data) });
  });

  it('hashes a prefix when fewer bytes went out', async () => {
    const data = randomBytes(1024 * 1024);
    const h = Hasher.start(file('p.raw', data));
    await h.advance(1000);
    expect(await h.digest()).toEqual({ md5: md5(data.subarray(0, 1000)), sha512: sha512(data.subarray(0, 1000)) });
  });

  it('keeps the caller within its lag bound of the worker', async () => {
    const data = randomBytes(16 * 1024 * 1024);
    const bound = 1024 * 1024;
    const h = Hasher.start(file('b.raw', data), bound);
    let maxPending = 0;
    for (let i = 0; i < 64; i++) {
      await h.advance(256 * 1024);
      maxPending = Math.max(maxPending, h.pending);
    }
    expect(maxPending).toBeLessThan(bound);
    expect((await h.digest()).sha512).toBe(sha512(data));
  });

  it('fails, rather than hash less, when the file is shorter than what was sent', async () => {
    const h = Hasher.start(file('s.raw', randomBytes(1000)));
    await h.advance(5000).catch(() => undefined);
    await expect(h.digest()).rejects.toThrow(/shorter than what was sent/);
  });
});
