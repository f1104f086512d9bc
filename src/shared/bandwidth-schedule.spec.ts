import { describe, expect, it } from 'vitest';
import { isTimetable, limitAt, parseRate, parseSchedule, type BandwidthSchedule } from './bandwidth-schedule';

const M = 1024 * 1024;

function schedule(text: string): BandwidthSchedule {
  const r = parseSchedule(text);
  if ('error' in r) throw new Error(r.error);
  return r.schedule;
}

/** 2026-12-07 is a Monday; local time. */
const at = (day: number, hh: number, mm = 0): Date => new Date(2026, 11, 7 + day, hh, mm, 30);

describe('bandwidth schedules', () => {
  it('reads rates as --bwlimit always did: binary suffixes, off and 0 for none', () => {
    expect([parseRate('512K'), parseRate('10M'), parseRate('1.5G'), parseRate('off'), parseRate('0')]).toEqual([
      512 * 1024,
      10 * M,
      1.5 * 1024 * M,
      0,
      0,
    ]);
    expect(parseRate('fast')).toBeUndefined();
  });

  it('the issue’s example: 10 MB/s on weekdays 08-18, unlimited otherwise, and when it changes', () => {
    const s = schedule('Mon-Fri 08:00,10M 18:00,off');
    expect(limitAt(s, at(0, 9))).toEqual({
      rate: 10 * M,
      until: new Date(2026, 11, 7, 18, 0),
    });
    expect(limitAt(s, at(0, 7, 59)).rate).toBe(0);
    expect(limitAt(s, at(4, 17, 59)).rate).toBe(10 * M);
    // Friday 18:00 lifts it until Monday 08:00, across the weekend.
    expect(limitAt(s, at(5, 12))).toEqual({ rate: 0, until: new Date(2026, 11, 14, 8, 0) });
    expect(limitAt(s, at(6, 23, 59)).rate).toBe(0);
  });

  it('reads rclone timetables: daily entries, DAY-HH:MM entries, semicolons, HHMM, up:down pairs', () => {
    const daily = schedule('08:00,512K 12:00,10M 13:00,512K 18:00,30M 23:00,off');
    expect(limitAt(daily, at(2, 12, 30)).rate).toBe(10 * M);
    expect(limitAt(daily, at(2, 3)).rate).toBe(0); // after 23:00 the day before
    const weekly = schedule('Mon-00:00,512K;Fri-23:59,10M;Sat-10:00,1M;Sun-20:00,off');
    expect(limitAt(weekly, at(3, 12)).rate).toBe(512 * 1024);
    expect(limitAt(weekly, at(5, 9)).rate).toBe(10 * M);
    expect(limitAt(weekly, at(6, 21)).rate).toBe(0);
    expect(limitAt(schedule('1020,10M:100K 2000,off'), at(1, 11)).rate).toBe(10 * M);
  });

  it('a lone rate is a constant limit that never changes', () => {
    expect(limitAt(schedule('20M'), at(3, 3))).toEqual({ rate: 20 * M, until: undefined });
    expect(isTimetable('20M')).toBe(false);
    expect(isTimetable('Mon-Fri 08:00,10M')).toBe(true);
    expect(isTimetable('Mon-08:00,10M')).toBe(true);
  });

  it('says what is wrong', () => {
    expect(parseSchedule('')).toEqual({ error: 'the schedule is empty' });
    expect(parseSchedule('25:00,1M')).toMatchObject({ error: expect.stringContaining('not a time of day') });
    expect(parseSchedule('08:00,fast')).toMatchObject({ error: expect.stringContaining('not a rate') });
    expect(parseSchedule('Mon-Fry 08:00,1M')).toMatchObject({ error: expect.stringContaining('neither') });
    expect(parseSchedule('Xyz-08:00,1M')).toMatchObject({ error: expect.stringContaining('not a day') });
  });
});
