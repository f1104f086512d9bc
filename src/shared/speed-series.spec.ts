import { describe, expect, it } from 'vitest';
import { speedSeries, speedView, steadyRate, type Sample, SPEED_BUCKET_MS } from './speed-series';

const MiB = 1024 * 1024;
const T0 = Date.UTC(2026, 11, 4, 12, 0, 0);

/** One sample a second for `seconds`, moving rateAt(second) bytes in each. */
function samples(seconds: number, rateAt: (s: number) => number, from = T0): Sample[] {
  const out: Sample[] = [{ at: from, bytes: 0 }];
  let bytes = 0;
  for (let s = 1; s <= seconds; s++) {
    bytes += rateAt(s);
    out.push({ at: from + s * 1000, bytes });
  }
  return out;
}

describe('speed series', () => {
  it('draws a constant rate as flat bars and divides the remaining bytes by it', () => {
    const s = samples(180, () => MiB);
    const now = T0 + 180_000;
    const v = speedView([s], 600 * MiB, now);
    expect(v.series).toHaveLength(120);
    // The last 36 bars (3 min) are 1 MiB/s, the ones before nothing.
    for (const b of v.series.slice(-36)) expect(b).toBeCloseTo(MiB, 0);
    expect(v.series.slice(0, 84).every((b) => b === 0)).toBe(true);
    expect(v.rate).toBeCloseTo(MiB, 0);
    expect(v.etaMs).toBe(600_000);
  });

  it('keeps the ETA steady while the bars swing (bursts of 2 MiB/s and pauses of 5 s)', () => {
    const s = samples(600, (sec) => (Math.floor((sec - 1) / 5) % 2 === 0 ? 2 * MiB : 0));
    const etas: number[] = [];
    for (let t = 300; t <= 600; t += 1) {
      const now = T0 + t * 1000;
      const upTo = s.filter((x) => x.at <= now);
      const v = speedView([upTo], 1000 * MiB, now);
      etas.push(v.etaMs ?? 0);
    }
    const bars = speedSeries([s], T0 + 600_000).slice(-20);
    // The bars swing between 0 and 2 MiB/s...
    expect(Math.max(...bars) / MiB).toBeCloseTo(2, 1);
    expect(Math.min(...bars)).toBe(0);
    // ...the ETA of the same remaining bytes stays within 5 % of 1000 s.
    for (const e of etas) expect(Math.abs(e - 1_000_000) / 1_000_000).toBeLessThan(0.05);
  });

  it('counts a resend from byte 0 as the bytes sent again, never as negative', () => {
    const s: Sample[] = [
      { at: T0, bytes: 0 },
      { at: T0 + 1000, bytes: 10 * MiB },
      { at: T0 + 2000, bytes: 2 * MiB }, // paused, resumed: Glance takes the file again from 0
      { at: T0 + 3000, bytes: 5 * MiB },
    ];
    const now = T0 + 3000;
    expect(steadyRate([s], now)).toBeCloseTo((15 * MiB) / 3, 0);
    expect(speedSeries([s], now, SPEED_BUCKET_MS).every((b) => b >= 0)).toBe(true);
  });

  it('sums the regions of a queue and divides by the time since the first of them started', () => {
    const a = samples(10, () => MiB);
    const b = samples(5, () => 3 * MiB, T0 + 5000);
    expect(steadyRate([a, b], T0 + 10_000)).toBeCloseTo((10 * MiB + 15 * MiB) / 10, 0);
  });

  it('ends at the last sample while bytes arrive, so a second not written yet does not dilute the rate', () => {
    const s = samples(6, () => MiB);
    expect(speedView([s], 10 * MiB, T0 + 6900).rate).toBeCloseTo(MiB, 0);
    // Stalled for 10 s: the rate falls.
    expect(speedView([s], 10 * MiB, T0 + 16_000).rate).toBeLessThan(0.5 * MiB);
  });

  it('gives no ETA when nothing moved, and 0 when nothing is left', () => {
    const still = [
      { at: T0, bytes: 5 },
      { at: T0 + 1000, bytes: 5 },
    ];
    expect(speedView([still], 100, T0 + 1000).etaMs).toBeNull();
    expect(speedView([], 0, T0).etaMs).toBe(0);
    // Two minutes after the last byte the rate is 0 again.
    expect(steadyRate([samples(10, () => MiB)], T0 + 10_000 + 121_000)).toBe(0);
  });
});
