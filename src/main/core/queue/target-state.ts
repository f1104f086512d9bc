/**
 * A target's life: pending -> inspecting -> hashing -> creating -> uploading -> importing ->
 * verifying -> done, with paused, retrying, failed and canceled beside it. The working phases
 * may move back as well as forward (crash recovery reconciles with what the cloud says:
 * an `uploading` target whose image went back to `queued` is uploaded again); done is final.
 */
import { isWorking, type TargetState } from '../../../shared/target-states';

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
