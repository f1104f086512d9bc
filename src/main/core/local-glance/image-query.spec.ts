import { describe, expect, it } from 'vitest';
import { HttpError } from './http-kit';
import { newImage } from './image-doc';
import { parseSort, queryImages } from './image-query';
import type { ImageRecord } from './image-store';

function image(n: number, extra: Partial<ImageRecord> = {}): ImageRecord {
  const id = `0000000${n}-0000-4000-8000-000000000000`;
  return {
    ...newImage(id, 'p'),
    name: `img-${n}`,
    status: 'active',
    size: n * 10,
    created_at: `2026-01-0${n}T00:00:00Z`,
    ...extra,
  };
}

const ids = (q: string, all: ImageRecord[]): string[] =>
  queryImages(all, new URLSearchParams(q), 'p1').images.map((i) => i.name ?? '');

function refusal(fn: () => unknown): [number, string] {
  try {
    fn();
  } catch (e) {
    if (e instanceof HttpError) return [e.status, e.message];
    throw e;
  }
  throw new Error('no refusal');
}

describe('the image list query (as Glance 25 reads it)', () => {
  const all = [image(1), image(2, { tags: ['gold'] }), image(3, { os_hidden: true }), image(4, { status: 'killed' })];

  it('lists newest first, hides hidden and killed images unless asked', () => {
    expect(ids('', all)).toEqual(['img-2', 'img-1']);
    expect(ids('os_hidden=TRUE', all)).toEqual(['img-3']);
  });

  it('filters by in:, tag, size range and time comparison', () => {
    expect(ids('name=in:img-1,"img-2"', all)).toEqual(['img-2', 'img-1']);
    expect(ids('tag=gold', all)).toEqual(['img-2']);
    expect(ids('size_min=15&sort=name:asc', all)).toEqual(['img-2']);
    expect(ids('created_at=lt:2026-01-02T00:00:00Z', all)).toEqual(['img-1']);
  });

  it('pages with limit and marker, linking the next page only when this one is full', () => {
    const first = queryImages(all, new URLSearchParams('limit=1'), 'p1');
    expect(first.images.map((i) => i.name)).toEqual(['img-2']);
    expect(first.next?.get('marker')).toBe(first.images[0]?.id);
    const second = queryImages(all, first.next ?? new URLSearchParams(), 'p1');
    expect(second.images.map((i) => i.name)).toEqual(['img-1']);
    expect(queryImages(all, new URLSearchParams('limit=5'), 'p1').next).toBeUndefined();
  });

  it('refuses what Glance refuses, with its status and words', () => {
    expect(refusal(() => ids('limit=x', all))).toEqual([400, 'limit param must be an integer']);
    expect(refusal(() => ids('size_min=a', all))).toEqual([400, 'size_min must be a number']);
    expect(refusal(() => ids('name=gt:a', all))).toEqual([400, "Unable to filter by unknown operator 'gt'."]);
    expect(refusal(() => ids('changes-since=x', all))[0]).toBe(400);
    expect(refusal(() => ids('marker=nope', all))).toEqual([400, 'No image found with ID nope']);
    expect(refusal(() => parseSort(new URLSearchParams('sort=name&sort_key=id')))[0]).toBe(400);
  });

  // As Glance's image_get_all: created_at then id appended, one key's direction carried over, else desc.
  it('always sorts by created_at then id last', () => {
    expect(parseSort(new URLSearchParams('sort_key=name&sort_dir=asc'))).toEqual([
      ['name', 'asc'],
      ['created_at', 'asc'],
      ['id', 'asc'],
    ]);
    expect(parseSort(new URLSearchParams('sort=name:asc,size:asc'))).toEqual([
      ['name', 'asc'],
      ['size', 'asc'],
      ['created_at', 'desc'],
      ['id', 'desc'],
    ]);
  });
});
