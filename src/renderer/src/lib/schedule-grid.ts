/**
 * The Settings screen's weekly grid (7 days x 24 hours) over the schedule's text: the grid shows
 * the limit in force at each hour's start, and painting cells writes the timetable back in
 * rclone's syntax, days with the same hours grouped ("Mon-Fri 00:00,off 08:00,10M 18:00,off").
 * The text stays the one truth (typed by hand, minutes allowed); the grid is a view and an editor.
 */
import { DAYS, limitAt, parseRate, parseSchedule, type BandwidthSchedule } from '../../../shared/bandwidth-schedule';

/** rates[day][hour], bytes per second (0: no limit). */
export type Grid = number[][];

/** A Monday at 00:00 local time: the week the grid's hours are read in. */
const MONDAY = new Date(2024, 0, 1); // 1 January 2024 was a Monday

export function gridOf(schedule: BandwidthSchedule): Grid {
  return DAYS.map((_, day) =>
    Array.from({ length: 24 }, (_, hour) => {
      const at = new Date(MONDAY);
      at.setDate(MONDAY.getDate() + day);
      at.setHours(hour);
      return limitAt(schedule, at).rate;
    }),
  );
}

/** The grid of a timetable text; an empty text is no limit at any hour, a bad one undefined. */
export function gridOfText(text: string): Grid | undefined {
  if (text.trim() === '') return DAYS.map(() => new Array<number>(24).fill(0));
  const r = parseSchedule(text);
  return 'error' in r ? undefined : gridOf(r.schedule);
}

/** A rate as the timetable writes it: off, or the largest binary unit that says it exactly (1.5M). */
export function rateText(rate: number): string {
  if (rate <= 0) return 'off';
  const units = [
    ['G', 1024 ** 3],
    ['M', 1024 ** 2],
    ['K', 1024],
  ] as const;
  for (const [unit, size] of units) {
    const tenths = Math.round((rate / size) * 10) / 10;
    if (tenths >= 1 && Math.round(tenths * size) === rate) return `${tenths}${unit}`;
  }
  return String(rate); // bytes per second: exact, where a rounded unit would not read back the same
}

/** A day's entries: the hour where its limit changes (and 00:00), with the rate from then. */
function dayEntries(row: readonly number[]): string[] {
  const out: string[] = [];
  row.forEach((rate, hour) => {
    if (hour === 0 || rate !== row[hour - 1]) out.push(`${String(hour).padStart(2, '0')}:00,${rateText(rate)}`);
  });
  return out;
}

/** "Mon-Fri", "Sat,Sun", "Tue": the days of a group (consecutive ones as a range). */
function daysText(days: readonly number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < days.length;) {
    let j = i;
    while (j + 1 < days.length && days[j + 1] === days[j]! + 1) j++;
    parts.push(
      j - i >= 2
        ? `${DAYS[days[i]!]}-${DAYS[days[j]!]}`
        : days
            .slice(i, j + 1)
            .map((d) => DAYS[d])
            .join(','),
    );
    i = j + 1;
  }
  return parts.join(',');
}

/** The timetable of a grid: '' when there is no limit at all, one rate when it never changes. */
export function timetableOf(grid: Grid): string {
  const flat = grid.flat();
  if (flat.every((r) => r === 0)) return '';
  if (flat.every((r) => r === flat[0])) return rateText(flat[0]!);
  // Days with the same hours share their entries.
  const groups = new Map<string, number[]>();
  grid.forEach((row, day) => {
    const key = dayEntries(row).join(' ');
    groups.set(key, [...(groups.get(key) ?? []), day]);
  });
  if (groups.size === 1) return [...groups.keys()][0]!;
  return [...groups.entries()].map(([entries, days]) => `${daysText(days)} ${entries}`).join(' ');
}

/** The grid with the cells from (day, a) to (day, b) of one row, or a whole rectangle, set to `rate`. */
export function paint(
  grid: Grid,
  from: { day: number; hour: number },
  to: { day: number; hour: number },
  rate: number,
): Grid {
  const [d0, d1] = [Math.min(from.day, to.day), Math.max(from.day, to.day)];
  const [h0, h1] = [Math.min(from.hour, to.hour), Math.max(from.hour, to.hour)];
  return grid.map((row, day) => row.map((r, hour) => (day >= d0 && day <= d1 && hour >= h0 && hour <= h1 ? rate : r)));
}

/** A time of the timetable that is not on the hour ("08:30"), which the grid cannot show; undefined: none. */
export function offHour(text: string): string | undefined {
  const r = text.trim() === '' ? undefined : parseSchedule(text);
  const slot = r === undefined || 'error' in r ? undefined : r.schedule.find((s) => s.minute % 60 !== 0);
  return slot === undefined
    ? undefined
    : `${String(Math.floor(slot.minute / 60)).padStart(2, '0')}:${String(slot.minute % 60).padStart(2, '0')}`;
}

/** The rate the user paints with ("10M", "512K", "off"); undefined when it is not a rate. */
export function paintRate(text: string): number | undefined {
  return parseRate(text);
}
