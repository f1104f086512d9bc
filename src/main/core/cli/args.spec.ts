import { describe, expect, it } from 'vitest';
import {
  bandwidthOption,
  diskFormatFromName,
  imageName,
  parseProperties,
  parseRate,
  rateOption,
  stemOf,
  UsageError,
} from './args';

describe('CLI values', () => {
  it.each([
    ['20M', 20 * 1024 ** 2],
    ['512K', 512 * 1024],
    ['1.5G', 1.5 * 1024 ** 3],
    ['100', 100],
    ['2MiB', 2 * 1024 ** 2],
    ['0', 0],
    ['off', 0],
  ])('rate %s = %d bytes/s', (text, n) => expect(parseRate(text)).toBe(n));

  it('says a job’s own limit is one rate when given a timetable, and where a timetable goes', () => {
    expect(rateOption('20M')).toBe(20 * 1024 ** 2);
    expect(() => rateOption('Mon-Fri 08:00,10M 18:00,off')).toThrow(/a job's own limit is one rate/);
  });

  it('refuses a rate it cannot read, with a hint', () => {
    expect(() => parseRate('fast')).toThrow(UsageError);
    expect(() => parseRate('-5M')).toThrow(/not a rate/);
  });

  it('reads properties as strings, keeping "=" inside values', () => {
    expect(parseProperties(['os_distro=ubuntu', 'note=a=b', 'empty='])).toEqual({
      os_distro: 'ubuntu',
      note: 'a=b',
      empty: '',
    });
    expect(() => parseProperties(['novalue'])).toThrow(/KEY=VALUE/);
    expect(() => parseProperties(['=x'])).toThrow(/KEY=VALUE/);
  });

  it('names images after their files, or a template', () => {
    expect(stemOf('/x/ubuntu-24.04.qcow2')).toBe('ubuntu-24.04');
    expect(stemOf('/x/.hidden')).toBe('.hidden');
    expect(imageName(undefined, '/x/a.raw', 1, 1)).toBe('a');
    expect(imageName('prod-{stem}-{n}', '/x/a.raw', 2, 3)).toBe('prod-a-2');
    expect(imageName('fixed', '/x/a.raw', 1, 1)).toBe('fixed');
    expect(() => imageName('fixed', '/x/a.raw', 1, 2)).toThrow(/same name/);
  });

  it('guesses the disk format from the extension only where it is unambiguous', () => {
    expect(diskFormatFromName('a.QCOW2')).toBe('qcow2');
    expect(diskFormatFromName('a.img')).toBe('raw');
    expect(diskFormatFromName('a.bin')).toBeUndefined();
  });
});

describe('--bwlimit for the whole queue', () => {
  it('is a rate, or a timetable; a bad timetable is a usage error that shows the syntax', () => {
    expect(bandwidthOption('20M')).toEqual({ rate: 20 * 1024 * 1024 });
    expect(bandwidthOption('Mon-Fri 08:00,10M 18:00,off').schedule).toHaveLength(10);
    expect(bandwidthOption(undefined)).toEqual({});
    expect(() => bandwidthOption('Mon-Fri 08:00,fast')).toThrow(/not a rate/);
    try {
      bandwidthOption('08:00,1M 25:00,off');
    } catch (e) {
      expect(e).toBeInstanceOf(UsageError);
      expect((e as UsageError).hint).toContain('Mon-Fri 08:00,10M 18:00,off');
    }
  });
});
