/**
 * A target's life: pending -> inspecting -> hashing -> creating -> uploading -> importing ->
 * verifying -> done, with paused, retrying, failed and canceled beside it. The working phases
 * may move back as well as forward (crash recovery reconciles with what the cloud says:
 * an `uploading` target whose image went back to `queued` is uploaded again); done is final.
 */
export const WORKING_STATES = [
  'pending',
  'inspecting',
  'hashing',
  'creating',
  'uploading',
  'importing',
  'verifying',
] as const;
export const TARGET_STATES = [...WORKING_STATES, 'done', 'paused', 'retrying', 'failed', 'canceled'] as const;

export type WorkingState = (typeof WORKING_STATES)[number];

/** A phase an engine runs (pending excluded): what a dead engine leaves for recovery. */
export const RUNNING_STATES = WORKING_STATES.filter((s) => s !== 'pending');

/** Not finished and not paused: still to be run, now or after a retry delay. */
export const OPEN_STATES = [...WORKING_STATES, 'retrying'] as const;
export type TargetState = (typeof TARGET_STATES)[number];

export function isWorking(s: TargetState): s is WorkingState {
  return (WORKING_STATES as readonly string[]).includes(s);
}

/** Finished for good, unless the user asks for a retry. */
export function isTerminal(s: TargetState): boolean {
  return s === 'done' || s === 'failed' || s === 'canceled';
}

export function canTransition(from: TargetState, to: TargetState): boolean {
  if (from === to) return false;
  if (from === 'done') return false;
  if (to === 'done') return from === 'verifying';
  if (isWorking(from)) return true; // any other phase, paused, retrying, failed, canceled
  switch (from) {
    case 'retrying':
      return true; // back to work, paused, failed or canceled (done was handled above)
    case 'paused':
      // resume to the phase it was paused in (or any working phase), or give up
      return isWorking(to) || to === 'canceled' || to === 'failed';
    case 'failed':
    case 'canceled':
      // a user's retry starts over; a failed target can still be canceled (its image deleted)
      return to === 'pending' || (from === 'failed' && to === 'canceled');
  }
  return false;
}
