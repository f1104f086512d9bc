/**
 * The part of an image a download asks for, read as Glance 25 reads it (webob's Range and
 * ContentRange parsers, Glance's checks and words): `Range: bytes=S-E`, `bytes=S-`,
 * `bytes=-N` (N at least the size: the whole image), one range only; or the legacy
 * `Content-Range: bytes S-E/(N|*)`. Pure: headers and the size in, a slice or an error out.
 */
import { HttpError } from './http-kit';

export interface ByteSlice {
  offset: number;
  /** Bytes to send. */
  length: number;
  /** The last byte as Content-Range names it (Glance's arithmetic, kept even where it is odd). */
  last: number;
}

const unsatisfiable = (detail: string): HttpError => HttpError.detailed(416, detail);

/** webob's Range.parse: start, and an exclusive end (null: to the end); undefined when invalid. */
function parseRange(h: string): { start: number; end: number | null } | undefined {
  const m = /^bytes=\s*(\d*)-(\d*)\s*$/i.exec(h.trim());
  if (m === null) return undefined;
  const [, a = '', b = ''] = m;
  if (a === '' && b === '') return undefined;
  if (a === '') return { start: 0 - Number(b), end: null };
  if (b === '') return { start: Number(a), end: null };
  return Number(b) < Number(a) ? undefined : { start: Number(a), end: Number(b) + 1 };
}

/** webob's ContentRange.parse: start, exclusive stop, length (null for `*`); undefined when invalid. */
function parseContentRange(h: string): { start: number; stop: number; length: number | null } | undefined {
  const m = /^bytes\s+(\d+)-(\d+)\/(\d+|\*)$/i.exec(h.trim());
  if (m === null) return undefined;
  const [, a = '', b = '', n = ''] = m;
  const start = Number(a);
  const stop = Number(b) + 1;
  const length = n === '*' ? null : Number(n);
  if (stop <= start || (length !== null && stop > length)) return undefined;
  return { start, stop, length };
}

/** The slice asked for, undefined for the whole image; Glance's 400 and 416 otherwise. */
export function byteSlice(
  range: string | undefined,
  contentRange: string | undefined,
  size: number,
): ByteSlice | undefined {
  if (range !== undefined) {
    if (range.includes(','))
      throw new HttpError(
        400,
        'Requests with multiple ranges are not supported in Glance. You may make multiple single-range requests instead.',
      );
    const r = parseRange(range);
    if (r === undefined) throw unsatisfiable('Invalid Range header.');
    if (r.start >= size)
      throw unsatisfiable(
        `Invalid start position in Range header. Start position MUST be in the inclusive range [0, ${size - 1}].`,
      );
    const offset = r.start >= 0 ? r.start : -r.start < size ? size + r.start : 0;
    if (r.end !== null && r.end < size) return { offset, length: r.end - offset, last: r.end - 1 };
    return { offset, length: size - offset, last: size - 1 };
  }
  if (contentRange === undefined) return undefined;
  const c = parseContentRange(contentRange);
  if (c === undefined) throw unsatisfiable('Invalid Content-Range header.');
  if (c.length === null && c.stop > size)
    throw unsatisfiable(
      `Invalid stop position in Content-Range header. The stop position MUST be in the inclusive range [0, ${size - 1}].`,
    );
  if (c.start >= size)
    throw unsatisfiable(
      `Invalid start position in Content-Range header. Start position MUST be in the inclusive range [0, ${size - 1}].`,
    );
  return { offset: c.start, length: c.stop - c.start, last: c.stop - 1 };
}
