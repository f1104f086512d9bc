/**
 * Bandwidth schedules: a weekly timetable of limits, written as rclone's `--bwlimit` timetable
 * (`08:00,512K 12:00,10M 23:00,off`, `Mon-00:00,512K Fri-23:59,10M`, spaces or semicolons
 * between entries), plus day tokens that set the days of the entries after them
 * (`Mon-Fri 08:00,10M 18:00,off`, `Sat,Sun 00:00,off`). A lone rate is a constant limit. Rates
 * are bytes per second with binary suffixes (512K, 10M, 1G; `off` or 0: no limit), as our
 * `--bwlimit` has always read them (rclone reads a bare number as KiB/s); an `up:down` pair
 * keeps its first half (we only send). Each entry holds from its time until the next one, across
 * the week's end; times are the machine's local time. Shared: the renderer draws the grid.
 */

export interface BandwidthSlot {
  /** 0 = Monday ... 6 = Sunday. */
  day: number;
  /** Minutes after midnight. */
  minute: number;
  /** Bytes per second; 0: no limit. */
  rate: number;
}

/** Slots in week order; one slot at Monday 00:00 for a constant limit. */
export type BandwidthSchedule = BandwidthSlot[];

export const DAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'] as const;
const WEEK = 7 * 1440;

const dayIndex = (name: string): number =>
  DAYS.findIndex((d) => d.toLowerCase() === name.slice(0, 3).toLowerCase() && name.length <= 9);

/** "512K", "10M", "1.5G", "off", "0" -> bytes per second; undefined when it is not a rate. */
export function parseRate(text: string): number | undefined {
  const t = text.trim();
  if (t.toLowerCase() === 'off') return 0;
  const m = /^(\d+(?:\.\d+)?)\s*([KMGT]?)(i?B?)?$/i.exec(t);
  if (m === null) return undefined;
  const mult = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 }[
    (m[2] ?? '').toUpperCase() as '' | 'K' | 'M' | 'G' | 'T'
  ];
  return Math.round(Number(m[1]) * mult);
}

/** "Mon-Fri", "Sat,Sun", "Tue" -> day indexes; undefined when it is not a day token. */
function parseDays(token: string): number[] | undefined {
  if (/\d/.test(token)) return undefined;
  const out: number[] = [];
  for (const part of token.split(',')) {
    const [a, b] = part.split('-');
    const from = dayIndex(a ?? '');
    const to = b === undefined ? from : dayIndex(b);
    if (from < 0 || to < 0) return undefined;
    for (let d = from; ; d = (d + 1) % 7) {
      out.push(d);
      if (d === to) break;
    }
  }
  return out;
}

const TIME_ENTRY = /^(?:([A-Za-z]{3,9})-)?(\d{1,2}):?(\d{2}),([^,]+)$/;

function rateOf(text: string): number | undefined {
  return parseRate(text.split(':')[0] ?? ''); // an rclone "up:down" pair: we only send
}

/** The schedule `text` means, or the first thing wrong with it. */
export function parseSchedule(text: string): { schedule: BandwidthSchedule } | { error: string } {
  const tokens = text.split(/[\s;]+/).filter(Boolean);
  if (tokens.length === 0) return { error: 'the schedule is empty' };
  if (tokens.length === 1 && !tokens[0]!.includes(',') && parseDays(tokens[0]!) === undefined) {
    const rate = rateOf(tokens[0]!);
    return rate === undefined ? { error: `"${tokens[0]}" is not a rate` } : { schedule: [{ day: 0, minute: 0, rate }] };
  }
  let days = [0, 1, 2, 3, 4, 5, 6];
  const slots = new Map<number, BandwidthSlot>();
  for (const token of tokens) {
    const asDays = parseDays(token);
    if (asDays !== undefined) {
      days = asDays;
      continue;
    }
    const m = TIME_ENTRY.exec(token);
    if (m === null) return { error: `"${token}" is neither HH:MM,RATE, DAY-HH:MM,RATE nor days (Mon-Fri)` };
    const [hh, mm] = [Number(m[2]), Number(m[3])];
    if (hh > 23 || mm > 59) return { error: `"${token}": ${m[2]}:${m[3]} is not a time of day` };
    const rate = rateOf(m[4] ?? '');
    if (rate === undefined) return { error: `"${token}": "${m[4]}" is not a rate (512K, 10M, off)` };
    const own = m[1] !== undefined ? dayIndex(m[1]) : undefined;
    if (own !== undefined && own < 0) return { error: `"${token}": "${m[1]}" is not a day (Mon ... Sun)` };
    for (const day of own !== undefined ? [own] : days) {
      const minute = hh * 60 + mm;
      slots.set(day * 1440 + minute, { day, minute, rate });
    }
  }
  return { schedule: [...slots.entries()].sort((a, b) => a[0] - b[0]).map(([, s]) => s) };
}

/** Minutes since Monday 00:00, local time. */
function weekMinute(at: Date): number {
  return ((at.getDay() + 6) % 7) * 1440 + at.getHours() * 60 + at.getMinutes();
}

/**
 * The limit in force at `at` (bytes per second, 0: none) and when it next changes (undefined
 * when it never does): the last entry at or before `at`, the week's last one before the first.
 */
export function limitAt(s: BandwidthSchedule, at: Date): { rate: number; until: Date | undefined } {
  if (s.length === 0) return { rate: 0, until: undefined };
  const now = weekMinute(at);
  const pos = (x: BandwidthSlot): number => x.day * 1440 + x.minute;
  let current = s[s.length - 1]!;
  for (const x of s) if (pos(x) <= now) current = x;
  const rates = new Set(s.map((x) => x.rate));
  if (rates.size === 1) return { rate: current.rate, until: undefined };
  // The next entry that changes the rate, up to a week ahead.
  const start = s.indexOf(current);
  for (let i = 1; i <= s.length; i++) {
    const next = s[(start + i) % s.length]!;
    if (next.rate === current.rate) continue;
    const ahead = (pos(next) - now + WEEK) % WEEK || WEEK;
    const until = new Date(at.getTime() + ahead * 60_000);
    until.setSeconds(0, 0);
    return { rate: current.rate, until };
  }
  return { rate: current.rate, until: undefined };
}

/** Whether `text` is a timetable rather than one rate (it has entries or days). */
export function isTimetable(text: string): boolean {
  return /[,;\s]/.test(text.trim()) || /^[A-Za-z]{3}-\d/.test(text.trim());
}
