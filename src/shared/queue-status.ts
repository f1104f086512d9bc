/**
 * What the desktop shows of the queue outside the window (the taskbar/dock progress, the tray's
 * line, the question asked when quitting with uploads running) and the notices when a job ends
 * (a native notification in the shell, a toast in the window, both with "Retry" for what failed).
 * Pure and shared: the shell and the renderer feed it job updates and draw what it says.
 */
import type { JobUpdate } from './dto';
import { OPEN_STATES } from './target-states';

const OPEN = new Set<string>(OPEN_STATES);
const ENDED = new Set(['done', 'failed', 'canceled']);

export interface QueueStatus {
  /** Targets still to finish (running, waiting or retrying). */
  open: number;
  failed: number;
  /**
   * 0..1 over the work since the queue was last idle (finished targets count whole, so the bar
   * never runs backwards when a job ends); -1 when nothing runs (no progress bar).
   */
  progress: number;
  /** One line for the tray's tooltip. */
  line: string;
}

/** A job ended: what to tell the user, and what "Retry" retries (its failed targets). */
export interface JobNotice {
  jobId: string;
  title: string;
  body: string;
  failed: boolean;
  /** The failed targets' ids (empty when the job succeeded). */
  retry: string[];
}

const endedOrPaused = (u: JobUpdate): boolean => u.targets.every((t) => ENDED.has(t.state) || t.state === 'paused');

export class QueueStatusBoard {
  readonly #jobs = new Map<string, JobUpdate>();
  /** Jobs with work since the queue was last idle: the taskbar's progress is over these. */
  readonly #batch = new Set<string>();

  /** Record a job's latest state; returns the notice its change calls for, if any. */
  update(u: JobUpdate): JobNotice | undefined {
    const before = this.#jobs.get(u.jobId);
    if (before !== undefined && before.seq >= u.seq) return undefined; // an older snapshot
    this.#jobs.set(u.jobId, u);
    if (u.targets.some((t) => OPEN.has(t.state))) this.#batch.add(u.jobId);
    const ended = u.targets.length > 0 && endedOrPaused(u);
    if (!ended || (before !== undefined && endedOrPaused(before)) || u.targets.every((t) => t.state === 'paused'))
      return undefined;
    const failed = u.targets.filter((t) => t.state === 'failed');
    const done = u.targets.filter((t) => t.state === 'done');
    if (failed.length > 0)
      return {
        jobId: u.jobId,
        title: `${u.name}: ${failed.length} of ${u.targets.length} failed`,
        body: failed.map((t) => `${t.region}: ${t.error?.message ?? 'failed'}`).join('\n'),
        failed: true,
        retry: failed.map((t) => t.id),
      };
    if (done.length > 0)
      return {
        jobId: u.jobId,
        title: `${u.name} is in ${done.length === 1 ? done[0]?.region : `${done.length} regions`}`,
        body: 'Active, with its sha512 verified.',
        failed: false,
        retry: [],
      };
    return undefined;
  }

  forget(jobId: string): void {
    this.#jobs.delete(jobId);
    this.#batch.delete(jobId);
  }

  status(): QueueStatus {
    let open = 0;
    let failed = 0;
    for (const j of this.#jobs.values())
      for (const t of j.targets) {
        if (t.state === 'failed') failed++;
        if (OPEN.has(t.state)) open++;
      }
    if (open === 0) this.#batch.clear();
    const progress = open === 0 ? -1 : this.#batchProgress();
    const line =
      open === 0
        ? failed > 0
          ? `Glance Uploader: ${failed} failed`
          : 'Glance Uploader: idle'
        : `Glance Uploader: ${open} upload${open === 1 ? '' : 's'} running${progress >= 0 ? `, ${Math.floor(progress * 100)} %` : ''}${failed > 0 ? `, ${failed} failed` : ''}`;
    return { open, failed, progress, line };
  }

  /** 0..1 over the batch's targets (failed and canceled ones left out); -1 when it has no size. */
  #batchProgress(): number {
    let sent = 0;
    let total = 0;
    for (const id of this.#batch) {
      const j = this.#jobs.get(id);
      const size = j?.size ?? 0;
      for (const t of j?.targets ?? []) {
        if (t.state === 'failed' || t.state === 'canceled') continue;
        total += size;
        sent += t.state === 'done' ? size : Math.min(size, t.bytesAccepted);
      }
    }
    return total === 0 ? -1 : Math.min(1, sent / total);
  }

  /** The question to ask before quitting, or undefined when nothing runs. */
  quitQuestion(): string | undefined {
    return quitQuestion(this.status().open);
  }
}

/** The question to ask before quitting with `open` targets unfinished (undefined: none). */
export function quitQuestion(open: number): string | undefined {
  if (open === 0) return undefined;
  return `${open} upload${open === 1 ? ' is' : 's are'} not finished. Quit anyway? They continue from where they are at the next start.`;
}
