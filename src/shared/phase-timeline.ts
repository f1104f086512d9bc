/**
 * A target's phases on one timeline (uploading, importing, copying to a store...), from its
 * transitions in the audit log: each state from the moment it was entered until the next one.
 * Pure and shared: the app draws the bars, `queue show` prints the same spans.
 */

/** The audit log's fields this reads (ActivityEvent and the engine's EventRecord both have them). */
export interface TransitionEvent {
  at: number;
  kind: string;
  targetId: string | null;
  toState: string | null;
}

export interface Phase {
  state: string;
  /** What the user reads: "copying to the store" for a copy-image target's import. */
  label: string;
  from: number;
  /** Null while it is the state the target is in. */
  to: number | null;
}

const LABELS: Record<string, string> = {
  pending: 'waiting',
  inspecting: 'inspecting',
  shrinking: 'compressing',
  hashing: 'reading checksums',
  creating: 'creating the image',
  uploading: 'uploading',
  importing: 'importing',
  verifying: 'verifying',
  retrying: 'waiting to retry',
  paused: 'paused',
  done: 'done',
  failed: 'failed',
  canceled: 'canceled',
};

/** The label of a state; a copy (copy-image, glance-download) imports by copying within the cloud. */
export function phaseLabel(state: string, method?: string): string {
  if (state === 'importing' && method === 'copy-image') return 'copying to the store';
  if (state === 'importing' && method === 'glance-download') return 'copying from the other region';
  if (state === 'importing' && method === 'web-download') return 'the cloud downloading it';
  return LABELS[state] ?? state;
}

/** The phases of one target, oldest first; a final state (done, failed, canceled) closes the last. */
export function phasesOf(events: readonly TransitionEvent[], targetId: string, method?: string): Phase[] {
  const out: Phase[] = [];
  for (const e of events) {
    if (e.targetId !== targetId || e.toState === null || !e.kind.startsWith('target.')) continue;
    const last = out[out.length - 1];
    if (last !== undefined && last.state === e.toState) continue;
    if (last !== undefined) last.to = e.at;
    out.push({ state: e.toState, label: phaseLabel(e.toState, method), from: e.at, to: null });
  }
  const last = out[out.length - 1];
  if (last !== undefined && ['done', 'failed', 'canceled'].includes(last.state)) last.to = last.from;
  return out;
}
