import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Hasher } from './hasher';

describe('Hasher (worker thread)', () => {
  it('gives the md5 and sha512 of everything it was fed, in order', async () => {
    const parts = [randomBytes(1), randomBytes(100_000), Buffer.alloc(0), randomBytes(3 * 1024 * 1024 + 7)];
    const h = new Hasher();
    for (const p of parts) await h.update(p);
    const all = Buffer.concat(parts);
    expect(await h.digest()).toEqual({
      md5: createHash('md5').update(all).digest('hex'),
      sha512: createHash('sha512').update(all).digest('hex'),
    });
    expect(h.bytes).toBe(all.length);
  });

  it('hashes an empty stream', async () => {
    const h = new Hasher();
    expect(await h.digest()).toEqual({
      md5: createHash('md5').digest('hex'),
      sha512: createHash('sha512').digest('hex'),
    });
  });

  it('does not let the caller run ahead of the worker by more than its bound', async () => {
    const bound = 1024 * 1024;
    const h = new Hasher(bound);
    const chunk = randomBytes(256 * 1024);
    let maxPending = 0;
    for (let i = 0; i < 64; i++) {
      await h.update(chunk);
      maxPending = Math.max(maxPending, h.pending);
    }
    // update() resolved each time with less than the bound still waiting in the worker.
    expect(maxPending).toBeLessThan(bound);
    const expected = createHash('sha512');
    for (let i = 0; i < 64; i++) expected.update(chunk);
    expect((await h.digest()).sha512).toBe(expected.digest('hex'));
  });

  it('can be fed the buffer the caller then reuses (it hashes a copy)', async () => {
    const buf = Buffer.from('aaaa');
    const h = new Hasher();
    await h.update(buf);
    buf.fill('b');
    expect((await h.digest()).md5).toBe(createHash('md5').update('aaaa').digest('hex'));
  });
});
