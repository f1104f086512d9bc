import { describe, expect, it } from 'vitest';
import { HttpError } from './http-kit';
import { checkKey, newImage, setAttr } from './image-doc';

function status(fn: () => void): number | undefined {
  try {
    fn();
    return undefined;
  } catch (e) {
    if (e instanceof HttpError) return e.status;
    throw e;
  }
}

describe('the image document’s rules', () => {
  it('validates each writable attribute as Glance’s schema does', () => {
    const img = newImage('00000000-0000-4000-8000-000000000001', 'p');
    setAttr(img, 'min_disk', 3);
    setAttr(img, 'tags', ['a', 'a', 'b']);
    setAttr(img, 'disk_format', 'qcow2');
    expect([img.min_disk, img.tags, img.disk_format]).toEqual([3, ['a', 'b'], 'qcow2']);
    expect(status(() => setAttr(img, 'min_ram', -1))).toBe(400);
    expect(status(() => setAttr(img, 'visibility', 'everyone'))).toBe(400);
    expect(status(() => setAttr(img, 'owner', 5))).toBe(400);
    img.status = 'active';
    expect(status(() => setAttr(img, 'disk_format', 'raw'))).toBe(403);
  });

  // A plain object as the table of setters would find Object's own `constructor` here.
  it('treats any other name, `constructor` included, as a string property', () => {
    const img = newImage('00000000-0000-4000-8000-000000000002', 'p');
    setAttr(img, 'constructor', 'x');
    expect(img.properties).toEqual({ constructor: 'x' });
    expect(status(() => setAttr(img, 'hw_disk_bus', 3))).toBe(400);
  });

  it('refuses read-only and reserved attributes', () => {
    expect(status(() => checkKey('status', true))).toBe(403);
    expect(status(() => checkKey('id', false))).toBe(403);
    expect(status(() => checkKey('os_glance_import_task', true))).toBe(403);
    expect(status(() => checkKey('id', true))).toBeUndefined();
  });
});
