import { describe, expect, it } from 'vitest';
import { virtualWindow } from './virtual-window';

describe('virtualWindow', () => {
  it('draws the rows in view plus the overscan, and keeps the full height', () => {
    expect(virtualWindow(0, 400, 40, 10_000, 5)).toEqual({ start: 0, end: 16, offset: 0, total: 400_000 });
    expect(virtualWindow(40_000, 400, 40, 10_000, 5)).toEqual({
      start: 995,
      end: 1016,
      offset: 39_800,
      total: 400_000,
    });
  });

  it('stays inside the list at its end, when short, and when empty', () => {
    expect(virtualWindow(399_600, 400, 40, 10_000, 5)).toMatchObject({ start: 9985, end: 10_000 });
    expect(virtualWindow(0, 400, 40, 3, 5)).toEqual({ start: 0, end: 3, offset: 0, total: 120 });
    expect(virtualWindow(500, 400, 40, 0, 5)).toEqual({ start: 0, end: 0, offset: 0, total: 0 });
  });
});
