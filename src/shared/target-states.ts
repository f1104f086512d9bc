/**
 * A target's states and the controls each allows: one definition, used by the engine's
 * scheduler, the CLI, the application API and the renderer (a control refused by one of them is
 * refused by all, and the UI offers exactly what the engine accepts).
 *
 * pending -> inspecting -> (shrinking) -> hashing -> creating -> uploading -> importing -> verifying -> done,
 * with paused, retrying, failed and canceled beside it.
 */
export const WORKING_STATES = [
  'pending',
  'inspecting',
  'shrinking',
  'hashing',
  'creating',
  'uploading',
  'importing',
  'verifying',
] as const;
export const TARGET_STATES = [...WORKING_STATES, 'done', 'paused', 'retrying', 'failed', 'canceled'] as const;

export type WorkingState = (typeof WORKING_STATES)[number];
export type TargetState = (typeof TARGET_STATES)[number];

/** A phase an engine runs (pending excluded): what a dead engine leaves for recovery. */
export const RUNNING_STATES = WORKING_STATES.filter((s) => s !== 'pending');

/** Not finished and not paused: still to be run, now or after a retry delay. */
export const OPEN_STATES = [...WORKING_STATES, 'retrying'] as const;

export function isWorking(s: string): s is WorkingState {
  return (WORKING_STATES as readonly string[]).includes(s);
}

/** Finished for good, unless the user asks for a retry. */
export function isTerminal(s: string): boolean {
  return s === 'done' || s === 'failed' || s === 'canceled';
}

export const CONTROL_ACTIONS = ['pause', 'resume', 'cancel', 'retry'] as const;
export type ControlAction = (typeof CONTROL_ACTIONS)[number];

/**
 * What the user may do to a target in `state`: pause what runs or waits, resume what is paused,
 * cancel anything not done or canceled (a failed one too: it gives up for good, its image
 * deleted), retry what failed or was canceled.
 */
export function allowedActions(state: string): ControlAction[] {
  if (state === 'done') return [];
  if (state === 'canceled') return ['retry'];
  if (state === 'failed') return ['retry', 'cancel'];
  if (state === 'paused') return ['resume', 'cancel'];
  return ['pause', 'cancel'];
}
