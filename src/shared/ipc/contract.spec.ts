import { describe, expect, expectTypeOf, it } from 'vitest';
import type { CloudSummary, ImageSummary, JobUpdate, RegionSummary } from '../dto';
import { apiArgSchemas } from './contract-schemas';
import { API_METHODS, channelOf, type Api, type ApiEvent, type ApiMethod } from './contract';

describe('IPC contract', () => {
  it('lists every method exactly once, the same as the schemas', () => {
    expectTypeOf<(typeof API_METHODS)[number]>().toEqualTypeOf<ApiMethod>();
    expect([...API_METHODS].sort()).toEqual(Object.keys(apiArgSchemas).sort());
    expect(new Set(API_METHODS).size).toBe(API_METHODS.length);
  });

  it('pins the signatures of window.api', () => {
    expectTypeOf<Api['listClouds']>().toEqualTypeOf<() => Promise<CloudSummary[]>>();
    expectTypeOf<Api['listRegions']>().toEqualTypeOf<(req: { cloud: string }) => Promise<RegionSummary[]>>();
    expectTypeOf<Api['listImages']>().toEqualTypeOf<
      (req: { cloud: string; region: string }) => Promise<ImageSummary[]>
    >();
  });

  it('pins the event subscription', () => {
    expectTypeOf<Api['onEvent']>().toEqualTypeOf<(listener: (event: ApiEvent) => void) => () => void>();
    expectTypeOf<Extract<ApiEvent, { kind: 'jobUpdated' }>['update']>().toEqualTypeOf<JobUpdate>();
  });

  it('gives each method its own namespaced channel', () => {
    const channels = API_METHODS.map(channelOf);
    expect(new Set(channels).size).toBe(API_METHODS.length);
    for (const c of channels) expect(c).toMatch(/^glance-uploader:[a-zA-Z]+$/);
  });
});
