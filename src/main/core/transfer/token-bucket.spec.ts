import { describe, expect, it } from 'vitest';
import { TokenBucket } from './token-bucket';

/** A clock that only moves when the bucket sleeps: the timing is exact, never flaky. */
function fakeClock(): { now: () => number; wait: (ms: number) => Promise<void>; slept: () => number } {
  let t = 0;
  let slept = 0;
  return {
    now: () => t,
    wait: async (ms) => {
      t += ms;
      slept += ms;
    },
    slept: () => slept,
  };
}

const MiB = 1024 * 1024;

describe('TokenBucket', () => {
  it('lets 10 MiB through at 1 MiB/s in 10 s, minus the quarter-second burst it starts with', async () => {
    const c = fakeClock();
    const b = new TokenBucket(MiB, c.now, c.wait);
    for (let i = 0; i < 160; i++) await b.take(64 * 1024);
    expect(c.slept() / 1000).toBeGreaterThan(9.7);
    expect(c.slept() / 1000).toBeLessThan(9.8);
  });

  it('changes rate while running', async () => {
    const c = fakeClock();
    const b = new TokenBucket(MiB, c.now, c.wait);
    await b.take(MiB); // ~0.75 s at 1 MiB/s
    const first = c.slept();
    b.setRate(4 * MiB);
    await b.take(4 * MiB); // ~1 s at 4 MiB/s
    expect(first).toBeGreaterThan(700);
    expect(c.slept() - first).toBeGreaterThan(700);
    expect(c.slept() - first).toBeLessThan(1100);
  });

  it('is unlimited at rate 0 or undefined, and when switched off mid-way', async () => {
    const c = fakeClock();
    const b = new TokenBucket(undefined, c.now, c.wait);
    await b.take(1024 * MiB);
    expect(c.slept()).toBe(0);
    b.setRate(MiB);
    await b.take(512 * 1024);
    b.setRate(0);
    const before = c.slept();
    await b.take(1024 * MiB);
    expect(c.slept()).toBe(before);
  });
});
