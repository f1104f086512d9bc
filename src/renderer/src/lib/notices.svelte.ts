/**
 * The window's notices (toasts): a job that ended (a failed one with "Retry", which retries its
 * failed targets through the same control as the queue's buttons) and the queue being done. The
 * rule of what is said is the shell's (shared QueueStatusBoard and queueDoneText): the window and
 * the native notification say the same. Successes fade after a while; failures stay until dismissed.
 */
import type { Api } from '../../../shared/ipc/contract';
import { QueueStatusBoard } from '../../../shared/queue-status';
import { queueDoneText } from '../../../shared/queue-done-text';

export interface Notice {
  id: number;
  title: string;
  body: string;
  tone: 'ok' | 'failed';
  /** Target ids "Retry" retries (empty: no Retry). */
  retry: string[];
}

/** How long a success stays on screen. */
const FADE_MS = 10_000;
/** The most notices shown at once (the oldest go first). */
const MAX = 5;

export class NoticesModel {
  notices = $state.raw<Notice[]>([]);
  readonly #board = new QueueStatusBoard();
  #next = 1;
  #stop: (() => void) | undefined;

  constructor(private readonly api: Api) {}

  start(): void {
    this.#stop = this.api.onEvent((e) => {
      if (e.kind === 'jobUpdated') {
        const n = this.#board.update(e.update);
        if (n !== undefined) this.#push(n.title, n.body, n.failed ? 'failed' : 'ok', n.retry);
      } else if (e.kind === 'queueDone') {
        const t = queueDoneText(e.summary);
        this.#push(t.title, t.body, e.summary.failed > 0 || e.summary.action.error !== undefined ? 'failed' : 'ok', []);
      }
    });
  }

  stop(): void {
    this.#stop?.();
  }

  #push(title: string, body: string, tone: Notice['tone'], retry: string[]): void {
    const n: Notice = { id: this.#next++, title, body, tone, retry };
    this.notices = [...this.notices, n].slice(-MAX);
    if (tone === 'ok') setTimeout(() => this.dismiss(n.id), FADE_MS);
  }

  dismiss(id: number): void {
    this.notices = this.notices.filter((n) => n.id !== id);
  }

  async retry(n: Notice): Promise<void> {
    this.dismiss(n.id);
    for (const targetId of n.retry) {
      try {
        await this.api.controlTarget({ targetId, action: 'retry' });
      } catch (e) {
        this.#push('Retry refused', e instanceof Error ? e.message : String(e), 'failed', []);
      }
    }
  }
}
