import { describe, expect, it } from 'vitest';
import type { Digests } from '../io/hasher';
import type { JobRecord } from '../queue/job-repository';
import { knownOrHashed } from './job-digests';

const source = { path: '/img/disk.raw', size: 10, mtimeMs: 1, ino: 1, dev: 1 };
const job = (id: string, o: Partial<JobRecord> = {}): JobRecord => ({ id, sha512: null, md5: null, ...o }) as JobRecord;

/** A hash the test ends when it wants, counting how often the file was read. */
function slowHash(): {
  hash: (p: string, n: number) => Promise<Digests>;
  reads: () => number;
  end: (e?: Error) => void;
} {
  let reads = 0;
  const ends: ((e?: Error) => void)[] = [];
  return {
    hash: () => {
      reads++;
      return new Promise<Digests>((resolve, reject) =>
        ends.push((e) => (e ? reject(e) : resolve({ md5: 'm', sha512: 's' }))),
      );
    },
    reads: () => reads,
    end: (e) => ends.splice(0).forEach((f) => f(e)),
  };
}

describe('a job’s file digests', () => {
  // Fails when each target reads the file itself: three regions of a fan-out checking for a
  // duplicate read a multi-GB file three times at once.
  it('reads the file once for the targets that ask at the same time, again for a later ask', async () => {
    const h = slowHash();
    const asks = [1, 2, 3].map(() => knownOrHashed(job('j1'), source, h.hash));
    expect(h.reads()).toBe(1);
    h.end();
    expect(await Promise.all(asks)).toEqual([1, 2, 3].map(() => ({ md5: 'm', sha512: 's' })));
    const later = knownOrHashed(job('j1'), source, h.hash);
    expect(h.reads()).toBe(2);
    h.end();
    await later;
  });

  it('keeps jobs apart, takes recorded digests, and does not keep a failed read', async () => {
    const h = slowHash();
    const a = knownOrHashed(job('a'), source, h.hash);
    const b = knownOrHashed(job('b'), source, h.hash);
    expect(h.reads()).toBe(2);
    h.end(new Error('EIO'));
    await expect(a).rejects.toThrow('EIO');
    await expect(b).rejects.toThrow('EIO');
    const again = knownOrHashed(job('a'), source, h.hash);
    expect(h.reads()).toBe(3);
    h.end();
    await again;
    expect(await knownOrHashed(job('c', { md5: 'x', sha512: 'y' }), source, h.hash)).toEqual({ md5: 'x', sha512: 'y' });
    expect(h.reads()).toBe(3);
  });
});
