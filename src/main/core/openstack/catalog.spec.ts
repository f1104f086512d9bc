import { describe, expect, it } from 'vitest';
import type { EngineError } from '../io/errors';
import { imageEndpoint, parseCatalog, regionsOf } from './catalog';

const catalog = parseCatalog([
  { type: 'identity', endpoints: [{ region_id: 'R1', interface: 'public', url: 'http://k' }] },
  {
    type: 'image',
    name: 'glance',
    endpoints: [
      { region_id: 'R1', interface: 'public', url: 'http://g1' },
      { region_id: 'R1', interface: 'internal', url: 'http://g1-int' },
      { region: 'R2', interface: 'public', url: 'http://g2' },
      { interface: 'public' }, // no URL: ignored
    ],
  },
  'garbage',
]);

function thrown(fn: () => unknown): EngineError {
  try {
    fn();
  } catch (e) {
    return e as EngineError;
  }
  throw new Error('did not throw');
}

describe('catalog', () => {
  it('finds the endpoint per region and interface (region_id or legacy region)', () => {
    expect(imageEndpoint(catalog, 'R1', 'public')).toBe('http://g1');
    expect(imageEndpoint(catalog, 'R1', 'internal')).toBe('http://g1-int');
    expect(imageEndpoint(catalog, 'R2', 'public')).toBe('http://g2');
    expect(regionsOf(catalog, 'image', 'public').map((e) => e.region)).toEqual(['R1', 'R2']);
  });

  it('names the regions that exist when one is missing', () => {
    const e = thrown(() => imageEndpoint(catalog, 'R9', 'public'));
    expect(e.code).toBe('catalog.region_not_found');
    expect(e.info.hint).toBe('Regions with a public image endpoint: R1, R2.');
    expect(thrown(() => imageEndpoint(catalog, 'R2', 'admin')).info.hint).toMatch(
      /No region has a admin image endpoint/,
    );
  });

  it('names the services that exist when there is no image service', () => {
    const e = thrown(() => imageEndpoint(parseCatalog([{ type: 'identity', endpoints: [] }]), 'R1', 'public'));
    expect(e.code).toBe('catalog.no_image_service');
    expect(e.info.hint).toContain('identity');
  });
});
