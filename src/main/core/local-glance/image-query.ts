/**
 * `GET /v2/images` as Glance 25 reads its query: filters (`in:`/`eq:` values, size and time
 * ranges, visibility, tags, custom properties), sorting (`sort=` or `sort_key`/`sort_dir`, `id`
 * always last), limit and marker, and the `first`/`next` links. Pure: images in, a page out.
 */
import { HttpError } from './http-kit';
import type { ImageRecord } from './image-store';
import { VISIBILITIES } from './image-doc';

const SORT_KEYS = ['name', 'status', 'container_format', 'disk_format', 'size', 'id', 'created_at', 'updated_at'];
const EXACT = ['name', 'id', 'status', 'container_format', 'disk_format'];
const PLAIN = ['owner', 'checksum', 'os_hash_value'];
const NOT_FILTERS = new Set(['limit', 'marker', 'sort', 'sort_key', 'sort_dir', 'member_status']);

type Sort = [string, 'asc' | 'desc'][];
type Test = (i: ImageRecord) => boolean;

export interface ImagePage {
  images: ImageRecord[];
  /** The query of the first page (the marker removed; each key once). */
  first: URLSearchParams;
  /** The query of the next page, when this one is full. */
  next?: URLSearchParams;
}

/**
 * One page of the images matching the query, in its order, from those the caller may list
 * (`project`: the caller's; without a visibility asked, community images are only its own).
 */
export function queryImages(all: readonly ImageRecord[], query: URLSearchParams, project: string): ImagePage {
  const limit = parseLimit(query.get('limit'));
  const sort = parseSort(query);
  const matches = filterOf(query, project);
  let images = all.filter((i) => i.status !== 'killed' && i.status !== 'deleted' && matches(i));
  images.sort((a, b) => compare(a, b, sort));
  const marker = query.get('marker');
  if (marker !== null) {
    const at = images.findIndex((i) => i.id === marker.toLowerCase());
    if (at < 0) throw new HttpError(400, `No image found with ID ${marker}`);
    images = images.slice(at + 1);
  }
  const page = images.slice(0, limit);
  // Glance builds its links from dict(params): each key once, with its last value.
  const first = new URLSearchParams(
    [...new Set(query.keys())].map((k): [string, string] => [k, query.getAll(k).at(-1) ?? '']),
  );
  first.delete('marker');
  const last = page.at(-1);
  if (page.length < limit || last === undefined) return { images: page, first };
  const next = new URLSearchParams(first);
  next.set('marker', last.id);
  return { images: page, first, next };
}

function parseLimit(text: string | null): number {
  if (text === null) return 25;
  const limit = Number(text);
  if (!Number.isInteger(limit)) throw new HttpError(400, 'limit param must be an integer');
  if (limit < 0) throw new HttpError(400, 'limit param must be positive');
  return Math.min(limit, 1000);
}

function compare(a: ImageRecord, b: ImageRecord, sort: Sort): number {
  for (const [key, dir] of sort) {
    const x = a[key as keyof ImageRecord] as string | number | null;
    const y = b[key as keyof ImageRecord] as string | number | null;
    const c = x === y ? 0 : x === null ? -1 : y === null ? 1 : x < y ? -1 : 1;
    if (c !== 0) return dir === 'asc' ? c : -c;
  }
  return 0;
}

export function parseSort(q: URLSearchParams): Sort {
  const keys = q.getAll('sort_key');
  const dirs = q.getAll('sort_dir');
  const sort = q.get('sort');
  if (sort !== null && (keys.length > 0 || dirs.length > 0))
    throw new HttpError(400, 'The sort and sort_key/sort_dir parameters cannot be used together.');
  const out: Sort = [];
  const check = (k: string, d: string): void => {
    if (!SORT_KEYS.includes(k))
      throw new HttpError(400, `Invalid sort key: ${k}. It must be one of: ${SORT_KEYS.join(', ')}.`);
    if (d !== 'asc' && d !== 'desc') throw new HttpError(400, `Invalid sort direction: ${d}`);
    out.push([k, d]);
  };
  if (sort !== null) {
    for (const part of sort.split(',')) {
      const [k = '', d = 'desc'] = part.split(':');
      check(k.trim(), d.trim());
    }
  } else if (keys.length > 0) {
    if (dirs.length > 1 && dirs.length !== keys.length)
      throw new HttpError(400, 'Number of sort dirs does not match the number of sort keys');
    keys.forEach((k, i) => check(k, dirs[dirs.length === 1 ? 0 : i] ?? 'desc'));
  } else {
    out.push(['created_at', 'desc']);
  }
  // Glance appends created_at and id (a single direction given carries over, else desc).
  const fallback = out.length === 1 ? (out[0]?.[1] ?? 'desc') : 'desc';
  for (const key of ['created_at', 'id']) if (!out.some(([k]) => k === key)) out.push([key, fallback]);
  return out;
}

/** `in:a,b,"c,d"` and `eq:x` as Glance reads them. */
function valuesOf(v: string): string[] {
  if (v.startsWith('in:')) return [...v.slice(3).matchAll(/"([^"]*)"|([^,]+)/g)].map((m) => m[1] ?? m[2] ?? '');
  if (v.startsWith('eq:')) return [v.slice(3)];
  if (/^[a-z]+:/.test(v) && !v.includes(' ')) {
    const op = v.split(':')[0] ?? '';
    if (['gt', 'gte', 'lt', 'lte', 'neq'].includes(op))
      throw new HttpError(400, `Unable to filter by unknown operator '${op}'.`);
  }
  return [v];
}

const TIME_OPS = new Map<string, (t: number, at: number) => boolean>([
  ['gt', (t, at) => t > at],
  ['gte', (t, at) => t >= at],
  ['lt', (t, at) => t < at],
  ['lte', (t, at) => t <= at],
  ['eq', (t, at) => t === at],
  ['neq', (t, at) => t !== at],
]);

function booleanFilter(key: 'protected' | 'os_hidden', value: string): Test {
  // Glance reads os_hidden case-insensitively and protected exactly.
  const v = key === 'os_hidden' ? value.toLowerCase() : value;
  if (v !== 'true' && v !== 'false') throw new HttpError(400, `Invalid value for ${key}: ${value}`);
  return (i) => i[key] === (v === 'true');
}

function sizeFilter(key: string, value: string): Test {
  const n = Number(value);
  if (!Number.isFinite(n)) throw new HttpError(400, `${key} must be a number`);
  return (i) => i.size !== null && (key === 'size_min' ? i.size >= n : i.size <= n);
}

function timeFilter(key: 'created_at' | 'updated_at', value: string): Test {
  const m = /^(gt|gte|lt|lte|eq|neq):(.+)$/.exec(value);
  const at = m ? Date.parse(m[2] ?? '') : NaN;
  const op = TIME_OPS.get(m?.[1] ?? '');
  if (op === undefined || Number.isNaN(at)) throw new HttpError(400, `Invalid ${key} filter: ${value}`);
  return (i) => op(Date.parse(i[key]), at);
}

function visibilityFilter(value: string): Test | undefined {
  if (![...VISIBILITIES, 'all'].includes(value)) throw new HttpError(400, `Invalid visibility value: ${value}`);
  return value === 'all' ? undefined : (i) => i.visibility === value;
}

/** The test one query parameter adds (undefined: it filters nothing). */
function testOf(key: string, value: string): Test | undefined {
  if (key === 'member_status' && !['pending', 'accepted', 'rejected', 'all'].includes(value))
    throw new HttpError(400, `Invalid status: ${value}`);
  if (NOT_FILTERS.has(key)) return undefined;
  if (key === 'changes-since') throw new HttpError(400, 'The changes-since filter is no longer available on v2.');
  if (EXACT.includes(key)) {
    const vs = valuesOf(value);
    return (i) => vs.includes(String(i[key as keyof ImageRecord] ?? ''));
  }
  if (PLAIN.includes(key)) return (i) => i[key as keyof ImageRecord] === value;
  if (key === 'visibility') return visibilityFilter(value);
  if (key === 'protected' || key === 'os_hidden') return booleanFilter(key, value);
  if (key === 'tag') return (i) => i.tags.includes(value);
  if (key === 'size_min' || key === 'size_max') return sizeFilter(key, value);
  if (key === 'created_at' || key === 'updated_at') return timeFilter(key, value);
  return (i) => i.properties[key] === value;
}

function filterOf(q: URLSearchParams, project: string): Test {
  const tests: Test[] = [];
  for (const [key, value] of q) {
    const test = testOf(key, value);
    if (test !== undefined) tests.push(test);
  }
  if (!q.has('os_hidden')) tests.push((i) => !i.os_hidden);
  if (!q.has('visibility')) tests.push((i) => i.visibility !== 'community' || i.owner === project);
  return (i) => tests.every((t) => t(i));
}
