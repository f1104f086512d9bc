/**
 * The status bar's words: the queue's limit (a constant, or the schedule's until its next change)
 * and its speed. Pure: tested at given times.
 */
import type { BandwidthState } from '../../../shared/dto';
import { DAYS } from '../../../shared/bandwidth-schedule';
import { formatRate } from './format';

const hhmm = (d: Date): string => `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;

/** "18:00" today, "Mon 08:00" another day of the coming week. */
export function whenText(at: Date, now: Date): string {
  const sameDay = at.toDateString() === now.toDateString();
  return sameDay ? hhmm(at) : `${DAYS[(at.getDay() + 6) % 7]} ${hhmm(at)}`;
}

/** What limits the queue now, in a line; '' when nothing does and no schedule is set. */
export function bandwidthText(b: BandwidthState, now: Date): string {
  if (b.elsewhere === true) return 'The queue runs in another process, with its own limit';
  const rate = formatRate(b.rate); // as the speed beside it is said
  if (!b.scheduled) return b.rate > 0 ? `Limited to ${rate}` : '';
  const until = b.until === null ? '' : ` until ${whenText(new Date(b.until), now)}`;
  return b.rate > 0 ? `Limited by schedule to ${rate}${until}` : `Not limited by schedule${until}`;
}
