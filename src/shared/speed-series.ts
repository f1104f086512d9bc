/**
 * Speed as the app's graphs and `queue show` draw it, from progress samples (bytes a target had
 * sent at a time): bytes per second in fixed buckets over the last minutes, a steady rate (the
 * bytes of the last two minutes over the time they took, so one slow or fast second does not
 * swing it) and the ETA from it. Pure and shared: the engine computes, the renderer draws, the
 * CLI prints, all from this one definition.
 */

export interface Sample {
  /** Milliseconds since the epoch. */
  at: number;
  /** Bytes the target had sent at `at`. */
  bytes: number;
}

/** The graph's bars: 5 s each, over 10 minutes. */
export const SPEED_BUCKET_MS = 5_000;
export const SPEED_SPAN_MS = 10 * 60_000;
/** The rate the ETA divides by is the average over this long (less when the transfer is younger). */
export const STEADY_WINDOW_MS = 2 * 60_000;

export interface SpeedView {
  bucketMs: number;
  /** Bytes per second in each bucket, oldest first, the last one ending now. */
  series: number[];
  /** The steady rate, bytes per second (0: nothing moved in the window). */
  rate: number;
  /** Bytes still to send. */
  remaining: number;
  /** remaining / rate; null when nothing moves (no ETA is better than a wrong one). */
  etaMs: number | null;
}

/** Each step between two samples: bytes moved over [from, to]. A drop is a resend from byte 0. */
function* steps(samples: readonly Sample[]): Generator<{ from: number; to: number; bytes: number }> {
  for (let i = 1; i < samples.length; i++) {
    const a = samples[i - 1]!;
    const b = samples[i]!;
    if (b.at <= a.at) continue;
    yield { from: a.at, to: b.at, bytes: b.bytes >= a.bytes ? b.bytes - a.bytes : b.bytes };
  }
}

/** The part of a step's bytes that fell within [lo, hi] (spread evenly over the step). */
function within(s: { from: number; to: number; bytes: number }, lo: number, hi: number): number {
  const overlap = Math.min(hi, s.to) - Math.max(lo, s.from);
  return overlap <= 0 ? 0 : (s.bytes * overlap) / (s.to - s.from);
}

/** Bytes per second per bucket, summed over the targets, for the `spanMs` before `now`. */
export function speedSeries(
  targets: Iterable<readonly Sample[]>,
  now: number,
  bucketMs = SPEED_BUCKET_MS,
  spanMs = SPEED_SPAN_MS,
): number[] {
  const n = Math.ceil(spanMs / bucketMs);
  const start = now - n * bucketMs;
  const out = new Array<number>(n).fill(0);
  for (const samples of targets)
    for (const s of steps(samples)) {
      if (s.to <= start || s.from >= now) continue;
      const first = Math.max(0, Math.floor((s.from - start) / bucketMs));
      const last = Math.min(n - 1, Math.floor((Math.min(s.to, now) - start - 1) / bucketMs));
      for (let i = first; i <= last; i++) out[i]! += within(s, start + i * bucketMs, start + (i + 1) * bucketMs);
    }
  return out.map((b) => b / (bucketMs / 1000));
}

/**
 * Bytes per second over the last `windowMs` (from the first sample in it when the transfer is
 * younger): the bytes every target moved, over the time since the earliest of them started.
 */
export function steadyRate(targets: Iterable<readonly Sample[]>, now: number, windowMs = STEADY_WINDOW_MS): number {
  const lo = now - windowMs;
  let moved = 0;
  let earliest = Infinity;
  for (const samples of targets)
    for (const s of steps(samples)) {
      const part = within(s, lo, now);
      if (part <= 0 && s.to < lo) continue;
      moved += part;
      earliest = Math.min(earliest, Math.max(lo, s.from));
    }
  // Below a second the division says nothing steady.
  const elapsed = Math.max(1000, now - earliest);
  return moved > 0 ? (moved * 1000) / elapsed : 0;
}

/**
 * Where the figures end: the last sample while bytes still arrive (samples come once a second,
 * so `now` would count up to a second of silence that is only not written yet), `now` once the
 * samples stopped (a stall: the rate falls as it should).
 */
export function seriesEnd(targets: readonly (readonly Sample[])[], now: number): number {
  const last = Math.max(-Infinity, ...targets.map((s) => s.at(-1)?.at ?? -Infinity));
  return now - last <= 2500 ? Math.min(now, last) : now;
}

export function speedView(targets: readonly (readonly Sample[])[], remaining: number, now: number): SpeedView {
  const end = seriesEnd(targets, now);
  const rate = steadyRate(targets, end);
  return {
    bucketMs: SPEED_BUCKET_MS,
    series: speedSeries(targets, end),
    rate,
    remaining,
    etaMs: remaining <= 0 ? 0 : rate > 0 ? Math.round((remaining / rate) * 1000) : null,
  };
}
