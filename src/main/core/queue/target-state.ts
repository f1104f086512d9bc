/**
 * A target's life: pending -> inspecting -> hashing -> creating -> uploading -> importing ->
 * verifying -> done, with paused, retrying, failed and canceled beside it. The working phases
 * may move back as well as forward (crash recovery reconciles with what the cloud says:
 * an `uploading` target whose image went back to `queued` is uploaded again); done is final.
 */
import type { ErrorInfo } from '../../../shared/errors';
import { isTerminal, isWorking, type TargetState } from '../../../shared/target-states';
import type { TargetRecord, TransitionOptions } from './job-types';

/** Whether these targets went as far as they will without someone acting: ended, or paused. */
export function allSettled(targets: TargetRecord[]): boolean {
  return targets.every((t) => isTerminal(t.state) || t.state === 'paused');
}

// The states and the user's controls are shared with the renderer: one definition.
export {
  isTerminal,
  isWorking,
  OPEN_STATES,
  RUNNING_STATES,
  TARGET_STATES,
  WORKING_STATES,
  type TargetState,
  type WorkingState,
} from '../../../shared/target-states';

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

/**
 * The retry budget's clock: it starts at the first transient failure (a move to `retrying` with
 * an error), keeps running through later ones, moves forward by the time no engine ran (an
 * interruption's downtime), and stops when the target is done or the user starts it over.
 */
function failingSinceAfter(t: TargetRecord, to: TargetState, o: TransitionOptions, now: number): number | null {
  if (to === 'done' || (to === 'pending' && isTerminal(t.state))) return null;
  if (o.interrupted !== undefined)
    return t.failingSince === null ? null : t.failingSince + (o.interrupted.downtimeMs ?? 0);
  if (to === 'retrying' && o.error !== undefined) return t.failingSince ?? now;
  return t.failingSince;
}

/** The columns a move to `to` writes besides the state (pure: the rules of attempts, pauses and the retry clock). */
export function nextFields(
  t: TargetRecord,
  to: TargetState,
  options: TransitionOptions,
  now: number,
): {
  pausedFrom: TargetState | null;
  attempt: number;
  continues: boolean;
  interrupted: boolean;
  failingSince: number | null;
  err: ErrorInfo | null;
} {
  const pausedFrom = to === 'paused' ? (t.state === 'retrying' ? (t.pausedFrom ?? 'pending') : t.state) : null;
  const userRestart = to === 'pending' && isTerminal(t.state);
  const continues = options.newAttempt === true && t.interrupted && t.attempt > 0;
  const attempt = options.newAttempt === true && !continues ? t.attempt + 1 : userRestart ? 0 : t.attempt;
  const interrupted =
    options.interrupted !== undefined ? true : options.newAttempt === true || userRestart ? false : t.interrupted;
  const keepError = to === 'failed' || to === 'retrying' || to === 'canceled';
  const err = options.error ?? (keepError ? t.error : null);
  return { pausedFrom, attempt, continues, interrupted, failingSince: failingSinceAfter(t, to, options, now), err };
}

export function transitionKind(to: TargetState, options: TransitionOptions): string {
  if (options.interrupted !== undefined) return 'target.interrupted';
  return to === 'retrying' || to === 'failed' ? 'target.error' : 'target.transition';
}
