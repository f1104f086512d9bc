/**
 * What a queue row shows, from a job's latest snapshot: one state for the job (the most
 * telling of its targets'), the bytes accepted against the bytes to send, a speed measured over
 * the last seconds, the time left, and an honest note when a target's bytes went back (a plain
 * Glance upload cannot resume: it starts over). Pure: the queue model feeds it updates.
 */
import type { JobUpdate, TargetSnapshot } from '../../../shared/dto';
import { allowedActions, type ControlAction, type TargetState } from '../../../shared/target-states';

/** A job's state is one of its targets' (the most telling one). */
export type JobState = TargetState;

const PHASES = ['pending', 'inspecting', 'hashing', 'creating', 'uploading', 'importing', 'verifying'];

/** The job's state: failed or retrying first (they need eyes), then the furthest working phase. */
export function jobState(targets: TargetSnapshot[]): JobState {
  const states = targets.map((t) => t.state);
  if (states.length === 0) return 'pending';
  if (states.includes('failed')) return 'failed';
  if (states.every((s) => s === 'done')) return 'done';
  if (states.every((s) => s === 'canceled')) return 'canceled';
  if (states.every((s) => s === 'done' || s === 'canceled')) return 'done';
  const working = states.filter((s) => PHASES.includes(s));
  if (working.length > 0) {
    // The phase the job is in: the least advanced working target holds the job back.
    const active = working.filter((s) => s !== 'pending');
    const pool = active.length > 0 ? active : working;
    return pool.reduce((a, b) => (PHASES.indexOf(a) <= PHASES.indexOf(b) ? a : b)) as JobState;
  }
  if (states.includes('retrying')) return 'retrying';
  if (states.includes('paused')) return 'paused';
  return 'pending';
}

/** Which controls a target offers now: the engine's own rule (allowedActions). */
export function targetActions(t: TargetSnapshot): ControlAction[] {
  return allowedActions(t.state);
}

/** The controls a whole job offers in its row, from its state (the same rule). */
export function jobActions(state: JobState): ControlAction[] {
  return allowedActions(state);
}

export function isFinished(state: JobState): boolean {
  return state === 'done' || state === 'failed' || state === 'canceled';
}

export interface QueueRow {
  jobId: string;
  name: string;
  size: number | null;
  /** The source's sha512 (what each region's image was checked against). */
  sha512: string | null;
  targets: TargetSnapshot[];
  /** "RegionOne, RegionTwo" on cloud "prod". */
  where: string;
  state: JobState;
  bytesDone: number;
  bytesTotal: number;
  /** 0..1, or null when the size is unknown. */
  progress: number | null;
  /** Bytes per second over the last seconds, null when not sending. */
  rate: number | null;
  etaSeconds: number | null;
  /** The first error among the targets (what the row shows). */
  error: TargetSnapshot['error'];
  /** Set when a target's accepted bytes went back: the upload started over. */
  restartNote: string | null;
  seq: number;
}

interface Sample {
  at: number;
  bytes: number;
}

/** Speed over a sliding window of samples (5 s), so a burst or a stall does not swing it. */
export class RateMeter {
  #samples: Sample[] = [];

  constructor(private readonly windowMs = 5000) {}

  add(at: number, bytes: number): void {
    const last = this.#samples.at(-1);
    if (last !== undefined && bytes < last.bytes) this.#samples = []; // started over
    this.#samples.push({ at, bytes });
    while (this.#samples.length > 2 && at - (this.#samples[0]?.at ?? at) > this.windowMs) this.#samples.shift();
  }

  /** Bytes per second, or null with fewer than 2 samples a second apart. */
  rate(): number | null {
    const first = this.#samples[0];
    const last = this.#samples.at(-1);
    if (first === undefined || last === undefined || last.at - first.at < 1000) return null;
    return ((last.bytes - first.bytes) * 1000) / (last.at - first.at);
  }
}

/** Builds and updates rows from job updates. */
export class RowBuilder {
  readonly #meters = new Map<string, RateMeter>();
  readonly #lastBytes = new Map<string, number>();
  readonly #notes = new Map<string, string>();

  build(u: JobUpdate, now: number): QueueRow {
    const state = jobState(u.targets);
    const perTarget = u.size ?? 0;
    const bytesTotal = perTarget * u.targets.length;
    const bytesDone = u.targets.reduce(
      (n, t) => n + (t.state === 'done' ? perTarget : Math.min(t.bytesAccepted, perTarget)),
      0,
    );
    for (const t of u.targets) {
      const before = this.#lastBytes.get(t.id);
      if (before !== undefined && t.bytesAccepted < before && before > 0 && t.state !== 'done')
        this.#notes.set(
          u.jobId,
          `${t.region}: started over from byte 0 after ${before.toLocaleString()} bytes (a plain Glance upload cannot resume).`,
        );
      this.#lastBytes.set(t.id, t.bytesAccepted);
    }
    let meter = this.#meters.get(u.jobId);
    const sending = u.targets.some((t) => t.state === 'uploading');
    if (sending) {
      if (meter === undefined) this.#meters.set(u.jobId, (meter = new RateMeter()));
      meter.add(now, bytesDone);
    } else this.#meters.delete(u.jobId);
    const rate = sending ? (meter?.rate() ?? null) : null;
    const left = bytesTotal - bytesDone;
    const clouds = [...new Set(u.targets.map((t) => t.cloud))];
    return {
      jobId: u.jobId,
      name: u.name,
      size: u.size,
      sha512: u.sha512,
      targets: u.targets,
      where: `${u.targets.map((t) => t.region + (t.store !== '' ? ` (${t.store})` : '')).join(', ')} · ${clouds.join(', ')}`,
      state,
      bytesDone,
      bytesTotal,
      progress: state === 'done' ? 1 : bytesTotal > 0 ? bytesDone / bytesTotal : null,
      rate,
      etaSeconds: rate !== null && rate > 0 && left > 0 ? left / rate : null,
      error: u.targets.find((t) => t.error !== null)?.error ?? null,
      restartNote: this.#notes.get(u.jobId) ?? null,
      seq: u.seq,
    };
  }

  forget(jobId: string, targets: TargetSnapshot[]): void {
    this.#meters.delete(jobId);
    this.#notes.delete(jobId);
    for (const t of targets) this.#lastBytes.delete(t.id);
  }
}

/** Each state as the queue shows it (a new state fails to compile until it has its label). */
export const STATE_LABEL: Record<TargetState, string> = {
  pending: 'Waiting',
  inspecting: 'Inspecting',
  shrinking: 'Shrinking',
  hashing: 'Hashing',
  creating: 'Creating image',
  uploading: 'Uploading',
  importing: 'Importing',
  verifying: 'Verifying',
  retrying: 'Retrying',
  paused: 'Paused',
  done: 'Done',
  failed: 'Failed',
  canceled: 'Canceled',
};
