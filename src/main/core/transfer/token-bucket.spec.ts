import { describe, expect, it } from 'vitest';
import { BandwidthLimits, TokenBucket } from './token-bucket';
import { parseSchedule } from '../../../shared/bandwidth-schedule';

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

describe('BandwidthLimits with a schedule', () => {
  // Fails if follow() kept the rate it started with (the limit would never lift at 18:00).
  it('follows the schedule live: the global bucket takes the rate in force, and says until when', () => {
    const r = parseSchedule('Mon-Fri 08:00,10M 18:00,off');
    if ('error' in r) throw new Error(r.error);
    const limits = new BandwidthLimits(undefined);
    const monday = (hh: number, mm = 0): Date => new Date(2026, 11, 7, hh, mm);
    limits.setSchedule(r.schedule, monday(9));
    expect([limits.global.rate, limits.now]).toEqual([
      10 * 1024 * 1024,
      { rate: 10 * 1024 * 1024, schedule: { until: monday(18) } },
    ]);
    expect(limits.follow(monday(17, 59))).toBe(false);
    expect(limits.follow(monday(18, 0))).toBe(true);
    expect(limits.global.rate).toBe(0);
    expect(limits.now.schedule?.until).toEqual(new Date(2026, 11, 8, 8, 0));
    // A constant rate drops the schedule.
    limits.setRate(1024);
    expect([limits.follow(monday(9)), limits.now]).toEqual([false, { rate: 1024 }]);
  });
});
