/**
 * What the desktop shows of the queue outside the window: the taskbar/dock progress, the tray's
 * line, the question asked when quitting with uploads running, and the notifications when a job
 * ends. Pure: the shell feeds it job updates and draws what it says.
 */
import type { JobUpdate } from '../../../../shared/dto';
import { OPEN_STATES } from '../../queue/target-state';

const OPEN = new Set<string>(OPEN_STATES);
const ENDED = new Set(['done', 'failed', 'canceled']);

export interface QueueStatus {
  /** Targets still to finish (running, waiting or retrying). */
  open: number;
  failed: number;
  /** 0..1 over the open targets' bytes; -1 when nothing runs (no progress bar). */
  progress: number;
  /** One line for the tray's tooltip. */
  line: string;
}

export class QueueStatusBoard {
  readonly #jobs = new Map<string, JobUpdate>();

  /** Record a job's latest state; returns the notification its change calls for, if any. */
  update(u: JobUpdate): { title: string; body: string } | undefined {
    const before = this.#jobs.get(u.jobId);
    if (before !== undefined && before.seq >= u.seq) return undefined; // an older snapshot
    this.#jobs.set(u.jobId, u);
    const ended = u.targets.length > 0 && u.targets.every((t) => ENDED.has(t.state) || t.state === 'paused');
    const wasEnded = before !== undefined && before.targets.every((t) => ENDED.has(t.state) || t.state === 'paused');
    if (!ended || wasEnded || u.targets.every((t) => t.state === 'paused')) return undefined;
    const failed = u.targets.filter((t) => t.state === 'failed');
    const done = u.targets.filter((t) => t.state === 'done');
    if (failed.length > 0)
      return {
        title: `${u.name}: ${failed.length} of ${u.targets.length} failed`,
        body: failed.map((t) => `${t.region}: ${t.error?.message ?? 'failed'}`).join('\n'),
      };
    if (done.length > 0)
      return {
        title: `${u.name} is in ${done.length === 1 ? done[0]?.region : `${done.length} regions`}`,
        body: 'Active, with its sha512 verified.',
      };
    return undefined;
  }

  forget(jobId: string): void {
    this.#jobs.delete(jobId);
  }

  status(): QueueStatus {
    let open = 0;
    let failed = 0;
    let sent = 0;
    let total = 0;
    for (const j of this.#jobs.values())
      for (const t of j.targets) {
        if (t.state === 'failed') failed++;
        if (!OPEN.has(t.state)) continue;
        open++;
        sent += t.bytesAccepted;
        total += j.size ?? 0;
      }
    const progress = open === 0 || total === 0 ? -1 : Math.min(1, sent / total);
    const line =
      open === 0
        ? failed > 0
          ? `Glance Uploader: ${failed} failed`
          : 'Glance Uploader: idle'
        : `Glance Uploader: ${open} upload${open === 1 ? '' : 's'} running${progress >= 0 ? `, ${Math.floor(progress * 100)} %` : ''}${failed > 0 ? `, ${failed} failed` : ''}`;
    return { open, failed, progress, line };
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
