import { describe, expect, it } from 'vitest';
import { ApiError } from '../errors';
import { createApi } from './api-client';
import { API_METHODS } from './contract';

describe('createApi', () => {
  it('exposes exactly the contract methods, frozen', () => {
    const api = createApi(async () => ({ result: null }));
    expect(Object.keys(api).sort()).toEqual([...API_METHODS].sort());
    expect(Object.isFrozen(api)).toBe(true);
  });

  it('sends the method and arguments and returns the result', async () => {
    const calls: unknown[] = [];
    const api = createApi(async (method, args) => {
      calls.push([method, args]);
      return { result: [{ id: 'r1', imageEndpoint: 'http://g' }] };
    });
    await expect(api.listRegions({ cloud: 'c' })).resolves.toEqual([{ id: 'r1', imageEndpoint: 'http://g' }]);
    expect(calls).toEqual([['listRegions', [{ cloud: 'c' }]]]);
  });

  it('turns an error envelope into an ApiError with its code, hint and request id', async () => {
    const api = createApi(async () => ({
      error: { code: 'auth.failed', message: 'refused', hint: 'check', status: 401, requestId: 'req-1' },
    }));
    const err = await api.listClouds().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({
      code: 'auth.failed',
      message: 'refused',
      hint: 'check',
      status: 401,
      requestId: 'req-1',
    });
  });

  it('maps an unknown code to internal rather than trusting it', async () => {
    const api = createApi(async () => ({ error: { code: 'made.up' as never, message: 'x' } }));
    await expect(api.listClouds()).rejects.toMatchObject({ code: 'internal' });
  });
});
