import { describe, expect, it } from 'vitest';
import { limitAt, parseSchedule, type BandwidthSchedule } from '../../../shared/bandwidth-schedule';
import { gridOfText, offHour, paint, rateText, timetableOf } from './schedule-grid';
import { bandwidthText } from './transfer-text';

const M = 1024 * 1024;
const schedule = (text: string): BandwidthSchedule => {
  const r = parseSchedule(text);
  if ('error' in r) throw new Error(r.error);
  return r.schedule;
};

/** The limit at every hour of a week, to compare two timetables by what they do. */
function week(text: string): number[] {
  const s = schedule(text);
  const out: number[] = [];
  for (let h = 0; h < 7 * 24; h++) out.push(limitAt(s, new Date(2024, 0, 1, h)).rate);
  return out;
}

describe('schedule grid', () => {
  it('shows the issue’s example as 10 MiB/s on weekdays 08-18 and no limit otherwise', () => {
    const g = gridOfText('Mon-Fri 08:00,10M 18:00,off')!;
    expect(g[0]!.slice(7, 19)).toEqual([0, ...new Array(10).fill(10 * M), 0]);
    expect(g[4]![17]).toBe(10 * M);
    expect(g[5]!.every((r) => r === 0) && g[6]!.every((r) => r === 0)).toBe(true);
  });

  it('writes a painted grid back as a timetable that does the same, days grouped', () => {
    let g = gridOfText('')!;
    g = paint(g, { day: 0, hour: 8 }, { day: 4, hour: 17 }, 10 * M);
    g = paint(g, { day: 5, hour: 0 }, { day: 6, hour: 23 }, 512 * 1024);
    const text = timetableOf(g);
    expect(text).toBe('Mon-Fri 00:00,off 08:00,10M 18:00,off Sat,Sun 00:00,512K');
    expect(gridOfText(text)).toEqual(g);
  });

  it('round-trips rclone timetables through the grid when they change on the hour', () => {
    for (const text of [
      '08:00,512K 12:00,10M 23:00,off',
      'Mon-00:00,1M Sat-00:00,off',
      '5M',
      'Mon-Fri 08:00,10M 18:00,off',
    ]) {
      expect(week(timetableOf(gridOfText(text)!))).toEqual(week(text));
    }
    expect(timetableOf(gridOfText('')!)).toBe('');
    expect(gridOfText('Mon-25:00,1M')).toBeUndefined();
    expect(offHour('Mon-Fri 08:30,10M 18:00,off')).toBe('08:30');
    expect(offHour('Mon-Fri 08:00,10M 18:00,off')).toBeUndefined();
  });

  it('names rates the way the timetable reads them', () => {
    expect([rateText(0), rateText(10 * M), rateText(512 * 1024), rateText(1.5 * M), rateText(1024 ** 3)]).toEqual([
      'off',
      '10M',
      '512K',
      '1.5M',
      '1G',
    ]);
    // Not a round binary figure: the bytes, which read back the same.
    expect(rateText(1_000_000)).toBe('1000000');
    expect(gridOfText(`Mon-00:00,${rateText(1_000_000)}`)![0]![0]).toBe(1_000_000);
  });
});

describe('status bar', () => {
  const now = new Date(2026, 11, 4, 9, 30); // a Friday
  it('says what limits the queue, and until when', () => {
    expect(bandwidthText({ rate: 10 * M, scheduled: true, until: new Date(2026, 11, 4, 18).getTime() }, now)).toBe(
      'Limited by schedule to 10.5 MB/s until 18:00',
    );
    expect(bandwidthText({ rate: 0, scheduled: true, until: new Date(2026, 11, 7, 8).getTime() }, now)).toBe(
      'Not limited by schedule until Mon 08:00',
    );
    expect(bandwidthText({ rate: 5 * M, scheduled: false, until: null }, now)).toBe('Limited to 5.2 MB/s');
    expect(bandwidthText({ rate: 0, scheduled: false, until: null }, now)).toBe('');
    expect(bandwidthText({ rate: 0, scheduled: false, until: null, elsewhere: true }, now)).toMatch(/another process/);
  });
});
