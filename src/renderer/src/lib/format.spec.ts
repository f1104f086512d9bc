import { describe, expect, it } from 'vitest';
import { formatBytes } from './format';

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
