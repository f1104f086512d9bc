/**
 * Speed and phases as `queue show` prints them: the steady rate and ETA, a sparkline of the last
 * ten minutes (one character per 10 s), and each target's phases with their durations.
 */
import type { Phase } from '../../../shared/phase-timeline';
import type { SpeedView } from '../../../shared/speed-series';
import { formatBytes, formatDuration } from './progress-line';

const BARS = '▁▂▃▄▅▆▇█';

/** One character per `per` buckets, scaled to the highest; a space where nothing moved. */
export function sparkline(series: readonly number[], per = 2): string {
  const cells: number[] = [];
  for (let i = 0; i < series.length; i += per) {
    const slice = series.slice(i, i + per);
    cells.push(slice.reduce((a, b) => a + b, 0) / slice.length);
  }
  const top = Math.max(...cells, 0);
  if (top <= 0) return ' '.repeat(cells.length);
  return cells.map((c) => (c <= 0 ? ' ' : BARS[Math.min(7, Math.floor((c / top) * 7.999))])).join('');
}

/** "12.0 MiB/s (2 min average), 1.2 GiB left, about 2 min", then the sparkline with its peak. */
export function speedLines(v: SpeedView): string[] {
  const eta =
    v.etaMs === null
      ? 'no ETA while nothing moves'
      : v.etaMs === 0
        ? 'nothing left'
        : `ETA ${formatDuration(v.etaMs / 1000)}`;
  const peak = Math.max(0, ...v.series);
  return [
    `speed  ${formatBytes(Math.round(v.rate))}/s (last 2 min), ${formatBytes(v.remaining)} left, ${eta}`,
    `       [${sparkline(v.series)}] last 10 min, peak ${formatBytes(Math.round(peak))}/s`,
  ];
}

/** "uploading 1 min, importing 12 s, done": each phase and how long it took (running: so far). */
export function phasesText(phases: readonly Phase[], now = Date.now()): string {
  return phases
    .map((p) =>
      p.to === p.from && p.to !== null ? p.label : `${p.label} ${formatDuration(((p.to ?? now) - p.from) / 1000)}`,
    )
    .join(', ');
}
