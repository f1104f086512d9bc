import { describe, expect, it } from 'vitest';
import { HttpError } from './http-kit';
import { byteSlice } from './byte-range';

const refusal = (f: () => unknown): [number, string] | undefined => {
  try {
    f();
    return undefined;
  } catch (e) {
    if (e instanceof HttpError) return [e.status, e.detail || e.message];
    throw e;
  }
};

// The answers the reference Glance 25 gave for a 20-byte image (probed with curl).
describe('download ranges read as Glance 25 reads them', () => {
  it('slices as Glance does', () => {
    const at = (r?: string, c?: string): [number, number, number] | undefined => {
      const s = byteSlice(r, c, 20);
      return s && [s.offset, s.length, s.last];
    };
    expect(at()).toBeUndefined();
    expect(at('bytes=0-9')).toEqual([0, 10, 9]);
    expect(at('bytes=5-')).toEqual([5, 15, 19]);
    expect(at('bytes=-5')).toEqual([15, 5, 19]);
    expect(at('bytes=-19')).toEqual([1, 19, 19]);
    expect(at('bytes=-20')).toEqual([0, 20, 19]);
    expect(at('bytes=-0')).toEqual([0, 20, 19]);
    expect(at('bytes=0-100')).toEqual([0, 20, 19]);
    expect(at('bytes=19-')).toEqual([19, 1, 19]);
    expect(at(undefined, 'bytes 0-9/*')).toEqual([0, 10, 9]);
    expect(at(undefined, 'bytes 0-9/20')).toEqual([0, 10, 9]);
    expect(at('bytes=0-1', 'bytes 5-9/*')).toEqual([0, 2, 1]);
  });

  it('refuses with Glance’s statuses and words', () => {
    expect(refusal(() => byteSlice('bytes=20-', undefined, 20))).toEqual([
      416,
      'Invalid start position in Range header. Start position MUST be in the inclusive range [0, 19].',
    ]);
    expect(refusal(() => byteSlice('bytes=9-5', undefined, 20))).toEqual([416, 'Invalid Range header.']);
    expect(refusal(() => byteSlice('items=0-1', undefined, 20))).toEqual([416, 'Invalid Range header.']);
    expect(refusal(() => byteSlice('bytes=0-1,5-6', undefined, 20))?.[0]).toBe(400);
    expect(refusal(() => byteSlice(undefined, 'bytes 15-25/*', 20))?.[1]).toMatch(/^Invalid stop position/);
    expect(refusal(() => byteSlice(undefined, 'bytes 0-9', 20))).toEqual([416, 'Invalid Content-Range header.']);
    expect(refusal(() => byteSlice(undefined, 'bytes 0-9/5', 20))).toEqual([416, 'Invalid Content-Range header.']);
  });
});
