/**
 * The Settings screen's form as data: filled from the saved settings, checked as typed (the
 * ranges the API accepts), and turned into `updateSettings`'s arguments. Pure.
 */
import type { ActivityEvent, SettingsDto, ShrinkMode, WhenQueueDone } from '../../../shared/dto';
import type { ApiArgs } from '../../../shared/ipc/contract';
import { parseSchedule } from '../../../shared/bandwidth-schedule';

export interface SettingsForm {
  concurrency: string;
  /** MB/s, empty: no limit. */
  bwlimit: string;
  /** The weekly timetable (rclone syntax), empty: none; over bwlimit when set. */
  bwSchedule: string;
  /** When the queue is done: notify only, or also sleep or run `whenDoneCommand`. */
  whenDone: WhenQueueDone['action'];
  whenDoneCommand: string;
  margin: string;
  retryHours: string;
  duplicateCheck: 'upload' | 'reuse';
  port: string;
  relaySegmentMiB: string;
  relayParallel: string;
  relayAutoGiB: string;
  relayAccountKey: boolean;
  shrink: ShrinkMode;
  /** GiB, '0' or empty: as much as the disk allows. */
  shrinkCacheGiB: string;
}

export function blankSettingsForm(): SettingsForm {
  return {
    concurrency: '',
    bwlimit: '',
    bwSchedule: '',
    whenDone: 'notify',
    whenDoneCommand: '',
    margin: '',
    retryHours: '24',
    duplicateCheck: 'upload',
    port: '0',
    relaySegmentMiB: '64',
    relayParallel: '1',
    relayAutoGiB: '2',
    relayAccountKey: false,
    shrink: 'auto',
    shrinkCacheGiB: '0',
  };
}

export function formFromSettings(s: SettingsDto): SettingsForm {
  return {
    concurrency: String(s.concurrency),
    bwlimit: s.bwlimit > 0 ? String(s.bwlimit / 1e6) : '',
    bwSchedule: s.bwSchedule,
    whenDone: s.whenDone.action,
    whenDoneCommand: s.whenDone.action === 'command' ? s.whenDone.command : '',
    margin: String(s.tokenRenewMarginS),
    retryHours: String(s.retryBudgetHours),
    duplicateCheck: s.duplicateCheck,
    port: String(s.localServerPort),
    relaySegmentMiB: String(s.relaySegmentMiB),
    relayParallel: String(s.relayParallel),
    relayAutoGiB: String(s.relayAutoGiB),
    relayAccountKey: s.relayAccountKey,
    shrink: s.shrink,
    shrinkCacheGiB: String(s.shrinkCacheGiB),
  };
}

/** What is wrong with each field, by field (empty: the form may be saved). */
export function settingsFormErrors(form: SettingsForm): Record<string, string> {
  const e: Record<string, string> = {};
  const c = Number(form.concurrency);
  if (!/^\d+$/.test(form.concurrency.trim()) || c < 1 || c > 16) e.concurrency = 'From 1 to 16 at once.';
  if (form.bwlimit.trim() !== '' && !(Number(form.bwlimit) > 0)) e.bwlimit = 'A number of MB/s above 0, or empty.';
  const schedule = form.bwSchedule.trim() === '' ? undefined : parseSchedule(form.bwSchedule);
  if (schedule !== undefined && 'error' in schedule)
    e.bwSchedule = `${schedule.error}. Entries are HH:MM,RATE after optional days: Mon-Fri 08:00,10M 18:00,off`;
  if (form.whenDone === 'command' && form.whenDoneCommand.trim() === '')
    e.whenDoneCommand = 'The command to run (through the shell), or choose another action.';
  const m = Number(form.margin);
  if (!/^\d+$/.test(form.margin.trim()) || m < 30 || m > 3600) e.margin = 'From 30 to 3600 seconds.';
  const h = Number(form.retryHours);
  if (!(h >= 0.25 && h <= 720)) e.retryHours = 'From 0.25 to 720 hours.';
  const port = Number(form.port);
  if (!/^\d+$/.test(form.port.trim()) || (port !== 0 && (port < 1024 || port > 65535)))
    e.port = 'A port from 1024 to 65535, or 0 for any free port.';
  return { ...e, ...relayErrors(form) };
}

/** A whole number from lo to hi: the relay's segment size and segments at once. */
const within = (text: string, lo: number, hi: number): boolean =>
  /^\d+$/.test(text.trim()) && Number(text) >= lo && Number(text) <= hi;

function relayErrors(form: SettingsForm): Record<string, string> {
  const e: Record<string, string> = {};
  if (!within(form.relaySegmentMiB, 1, 5120)) e.relaySegmentMiB = 'From 1 to 5120 MiB.';
  if (!within(form.relayParallel, 1, 8)) e.relayParallel = 'From 1 to 8 at once.';
  if (form.relayAutoGiB.trim() === '' || !(Number(form.relayAutoGiB) >= 0))
    e.relayAutoGiB = 'A size in GiB, 0 or more.';
  if (form.shrinkCacheGiB.trim() !== '' && !(Number(form.shrinkCacheGiB) >= 0))
    e.shrinkCacheGiB = 'A size in GiB, 0 (or empty) for no limit.';
  return e;
}

export function updateOf(form: SettingsForm): ApiArgs['updateSettings'][0] {
  return {
    concurrency: Number(form.concurrency),
    bwlimit: form.bwlimit.trim() === '' ? 0 : Math.round(Number(form.bwlimit) * 1e6),
    bwSchedule: form.bwSchedule.trim(),
    whenDone:
      form.whenDone === 'command'
        ? { action: 'command', command: form.whenDoneCommand.trim() }
        : { action: form.whenDone },
    tokenRenewMarginS: Number(form.margin),
    retryBudgetHours: Number(form.retryHours),
    duplicateCheck: form.duplicateCheck,
    localServerPort: Number(form.port),
    relaySegmentMiB: Number(form.relaySegmentMiB),
    relayParallel: Number(form.relayParallel),
    relayAutoGiB: Number(form.relayAutoGiB),
    relayAccountKey: form.relayAccountKey,
    shrink: form.shrink,
    shrinkCacheGiB: form.shrinkCacheGiB.trim() === '' ? 0 : Number(form.shrinkCacheGiB),
  };
}

/** One line of the activity log: a transition's states, or the event's kind with its error code. */
export function activityText(e: ActivityEvent): string {
  if (e.kind === 'target.transition') return `${e.fromState ?? '—'} → ${e.toState ?? '—'}`;
  const err = (e.detail?.error ?? undefined) as { code?: string } | undefined;
  return err?.code !== undefined ? `${e.kind} (${err.code})` : e.kind;
}
