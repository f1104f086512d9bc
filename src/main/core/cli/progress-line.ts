/** The live line on a terminal: done/total targets, bytes, smoothed speed, time left. */
import type { JobUpdate } from '../queue/job-events';

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${v} B` : `${v.toFixed(v >= 100 ? 0 : 1)} ${units[i]}`;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  if (seconds < 60) return `${Math.ceil(seconds)} s`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min`;
  return `${Math.floor(seconds / 3600)} h ${Math.round((seconds % 3600) / 60)} min`;
}

export class ProgressLine {
  readonly #jobs = new Map<string, JobUpdate>();
  #lastBytes = 0;
  #lastAt = Date.now();
  #speed = 0;
  #waiters: (() => void)[] = [];

  update(u: JobUpdate): void {
    this.#jobs.set(u.jobId, u);
    for (const w of [...this.#waiters]) w();
  }

  /** Resolves at the next update, or after `ms` (the line is redrawn that often). */
  nextUpdate(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.#waiters = this.#waiters.filter((w) => w !== done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#waiters.push(done);
    });
  }

  render(now = Date.now()): string {
    let total = 0;
    let sent = 0;
    let done = 0;
    let failed = 0;
    let targets = 0;
    for (const j of this.#jobs.values()) {
      for (const t of j.targets) {
        targets++;
        total += j.size ?? 0;
        sent += t.state === 'done' ? (j.size ?? 0) : t.bytesAccepted;
        if (t.state === 'done') done++;
        if (t.state === 'failed') failed++;
      }
    }
    const dt = (now - this.#lastAt) / 1000;
    if (dt >= 0.5) {
      const inst = Math.max(0, sent - this.#lastBytes) / dt;
      this.#speed = this.#speed === 0 ? inst : 0.7 * this.#speed + 0.3 * inst; // smoothed
      this.#lastBytes = sent;
      this.#lastAt = now;
    }
    const eta = this.#speed > 0 ? formatDuration((total - sent) / this.#speed) : '?';
    return `${done}/${targets} done${failed ? `, ${failed} failed` : ''} · ${formatBytes(sent)} of ${formatBytes(total)} · ${formatBytes(Math.round(this.#speed))}/s · about ${eta} left`;
  }
}
