/**
 * Events for the renderer wait here until the page says it is ready (it may still be loading,
 * or reloading): then what waited is delivered in order, and later events go straight through.
 * While waiting, a job's newer snapshot replaces its older one (only the latest state matters)
 * and notices are capped, so a page that never comes back costs bounded memory.
 */
import type { ApiEvent } from '../../../../shared/ipc/contract';

export class EventGate {
  #deliver: ((event: ApiEvent) => void) | undefined;
  #waiting: ApiEvent[] = [];

  constructor(private readonly maxNotices = 50) {}

  push(event: ApiEvent): void {
    if (this.#deliver !== undefined) return this.#deliver(event);
    if (event.kind === 'jobUpdated') {
      const i = this.#waiting.findIndex((e) => e.kind === 'jobUpdated' && e.update.jobId === event.update.jobId);
      if (i >= 0) this.#waiting[i] = event;
      else this.#waiting.push(event);
      return;
    }
    this.#waiting.push(event);
    const notices = this.#waiting.filter((e) => e.kind === 'notice');
    if (notices.length > this.maxNotices) this.#waiting.splice(this.#waiting.indexOf(notices[0] as ApiEvent), 1);
  }

  /** The page is ready: deliver what waited, then everything as it comes. */
  open(deliver: (event: ApiEvent) => void): void {
    this.#deliver = deliver;
    const waiting = this.#waiting;
    this.#waiting = [];
    for (const e of waiting) deliver(e);
  }

  /** The page went away (reload, navigation): wait again until it says it is ready. */
  close(): void {
    this.#deliver = undefined;
  }

  get isOpen(): boolean {
    return this.#deliver !== undefined;
  }
}
