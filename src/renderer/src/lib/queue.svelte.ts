/**
 * The live queue: the jobs listed once, then kept current by the job updates main pushes
 * (coalesced there to about 10 a second per job). Updates land in a plain Map and are drawn at
 * most once per animation frame, so 10,000 jobs with a few busy stay smooth. Filter, search and
 * selection live here too; actions go to window.api and their errors to `error`.
 */
import type { JobUpdate } from '../../../shared/dto';
import type { ErrorInfo } from '../../../shared/errors';
import type { Api } from '../../../shared/ipc/contract';
import { setOf, toggled } from './collections';
import { asErrorInfo } from './errors';
import { isFinished, RowBuilder, targetActions, type QueueRow } from './queue-rows';

export type QueueFilter = 'all' | 'active' | 'paused' | 'failed' | 'done';

const schedule =
  typeof requestAnimationFrame === 'function'
    ? (f: () => void) => requestAnimationFrame(() => f())
    : (f: () => void) => setTimeout(f, 16);

export class QueueModel {
  /** The rows after filter and search, in queue order. */
  rows = $state.raw<QueueRow[]>([]);
  total = $state(0);
  filter = $state<QueueFilter>('all');
  search = $state('');
  selected = $state.raw<ReadonlySet<string>>(setOf());
  /** The job whose details are open. */
  detailsOf = $state<string | undefined>(undefined);
  loaded = $state(false);
  error = $state<ErrorInfo | undefined>(undefined);
  // Not reactive on purpose: updates land here and are drawn once per frame (#redraw).
  // eslint-disable-next-line svelte/prefer-svelte-reactivity
  readonly #all = new Map<string, QueueRow>();
  readonly #builder = new RowBuilder();
  #pending = false;
  #stop: (() => void) | undefined;

  constructor(private readonly api: Api) {}

  async start(): Promise<void> {
    // Subscribe first: nothing is missed between the list and the first event.
    this.#stop = this.api.onEvent((e) => {
      if (e.kind === 'jobUpdated') this.apply(e.update);
    });
    await this.refresh();
  }

  /** Jobs the events have not shown yet (just queued, still waiting their turn) join the list. */
  async refresh(): Promise<void> {
    try {
      const jobs = await this.api.listJobs();
      for (const u of jobs) if (!this.#all.has(u.jobId)) this.#all.set(u.jobId, this.#builder.build(u, Date.now()));
      this.loaded = true;
      this.#redraw();
    } catch (e) {
      this.error = asErrorInfo(e);
    }
  }

  stop(): void {
    this.#stop?.();
  }

  apply(u: JobUpdate): void {
    const before = this.#all.get(u.jobId);
    if (before !== undefined && before.seq > u.seq && u.seq !== 0) return; // an older snapshot
    this.#all.set(u.jobId, this.#builder.build(u, Date.now()));
    if (!this.#pending) {
      this.#pending = true;
      schedule(() => {
        this.#pending = false;
        this.#redraw();
      });
    }
  }

  row(jobId: string): QueueRow | undefined {
    // Read `rows` so that whoever shows a row (the details pane) is redrawn with the list: the
    // map itself is not reactive.
    void this.rows;
    return this.#all.get(jobId);
  }

  setFilter(f: QueueFilter): void {
    this.filter = f;
    this.#redraw();
  }

  setSearch(s: string): void {
    this.search = s;
    this.#redraw();
  }

  #matches(r: QueueRow, words: string[]): boolean {
    const f = this.filter;
    if (f === 'active' && (isFinished(r.state) || r.state === 'paused')) return false;
    if (f !== 'all' && f !== 'active' && r.state !== f) return false;
    if (words.length === 0) return true;
    const hay =
      `${r.name} ${r.where} ${r.targets.map((t) => t.remoteImageId ?? '').join(' ')} ${r.state}`.toLowerCase();
    return words.every((w) => hay.includes(w));
  }

  #redraw(): void {
    const words = this.search.toLowerCase().split(/\s+/).filter(Boolean);
    const rows: QueueRow[] = [];
    for (const r of this.#all.values()) if (this.#matches(r, words)) rows.push(r);
    this.rows = rows;
    this.total = this.#all.size;
    if (this.selected.size > 0) {
      const still = setOf([...this.selected].filter((id) => this.#all.has(id)));
      if (still.size !== this.selected.size) this.selected = still;
    }
  }

  toggle(jobId: string, on: boolean): void {
    this.selected = toggled(this.selected, jobId, on);
  }

  selectAllShown(on: boolean): void {
    this.selected = setOf(on ? this.rows.map((r) => r.jobId) : []);
  }

  /** Pause, resume, cancel or retry every target of these jobs for which it makes sense. */
  async act(action: 'pause' | 'resume' | 'cancel' | 'retry', jobIds: Iterable<string>): Promise<void> {
    this.error = undefined;
    const calls: Promise<unknown>[] = [];
    for (const id of jobIds)
      for (const t of this.#all.get(id)?.targets ?? [])
        if (targetActions(t).includes(action)) calls.push(this.api.controlTarget({ targetId: t.id, action }));
    const failed = (await Promise.allSettled(calls)).find((r) => r.status === 'rejected');
    if (failed !== undefined) this.error = asErrorInfo(failed.reason);
  }

  async actOnTarget(targetId: string, action: 'pause' | 'resume' | 'cancel' | 'retry'): Promise<void> {
    this.error = undefined;
    try {
      await this.api.controlTarget({ targetId, action });
    } catch (e) {
      this.error = asErrorInfo(e);
    }
  }

  /** Remove finished jobs from the list (their images stay in Glance). */
  async remove(jobIds: Iterable<string>): Promise<void> {
    this.error = undefined;
    for (const id of [...jobIds]) {
      const r = this.#all.get(id);
      if (r === undefined || !isFinished(r.state)) continue;
      try {
        await this.api.removeJob({ jobId: id });
        this.#all.delete(id);
        this.#builder.forget(id, r.targets);
        if (this.detailsOf === id) this.detailsOf = undefined;
      } catch (e) {
        this.error = asErrorInfo(e);
      }
    }
    this.#redraw();
  }
}
