/** The words of "the queue is done", for the native notification and the window's toast alike. */
import type { QueueDoneSummary } from './dto';

export function queueDoneText(s: QueueDoneSummary): { title: string; body: string } {
  const parts = [`${s.done} uploaded`];
  if (s.failed > 0) parts.push(`${s.failed} failed`);
  if (s.canceled > 0) parts.push(`${s.canceled} canceled`);
  const action =
    s.action.kind === 'notify'
      ? ''
      : s.action.error !== undefined
        ? ` The ${s.action.kind === 'sleep' ? 'sleep' : 'command'} did not run: ${s.action.error}.`
        : s.action.kind === 'sleep'
          ? ' Going to sleep.'
          : ` Your command ended with exit code ${s.action.exitCode ?? '(killed)'}.`;
  return {
    title: `The queue is done: ${parts.join(', ')}`,
    body: `${s.jobs} job${s.jobs === 1 ? '' : 's'} ended.${action}`,
  };
}
