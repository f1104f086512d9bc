import { describe, expect, it } from 'vitest';
import { formatBytes, formatEta, formatRate } from './format';

describe('formatBytes', () => {
  it.each([
    [null, '—'],
    [0, '0 B'],
    [1023, '1023 B'],
    [1024, '1.00 KiB'],
    [1536, '1.50 KiB'],
    [10 * 1024 * 1024, '10.0 MiB'],
    [4 * 1024 ** 3, '4.00 GiB'],
    [300 * 1024 ** 3, '300 GiB'],
    [2 * 1024 ** 5, '2.00 PiB'],
  ])('%s -> %s', (n, text) => {
    expect(formatBytes(n)).toBe(text);
  });
});

describe('formatRate and formatEta', () => {
  it.each([
    [null, '—'],
    [512, '512 B/s'],
    [45_000, '45 kB/s'],
    [12_345_678, '12.3 MB/s'],
    [250e6, '250 MB/s'],
  ])('rate %s -> %s', (n, text) => expect(formatRate(n)).toBe(text));

  it.each([
    [Infinity, '—'],
    [10, 'less than a minute left'],
    [170, 'about 3 min left'],
    [3600, 'about 1 h left'],
    [7800, 'about 2 h 10 min left'],
  ])('eta %s s -> %s', (s, text) => expect(formatEta(s)).toBe(text));
});
