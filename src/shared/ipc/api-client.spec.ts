import { describe, expect, it } from 'vitest';
import { ApiError } from '../errors';
import { createApi, createBridge } from './api-client';
import { API_METHODS, type ApiEvent, type Envelope } from './contract';

describe('createBridge', () => {
  it('exposes exactly the contract methods, frozen, answering envelopes as data', async () => {
    const calls: unknown[] = [];
    const bridge = createBridge(async (method, args) => {
      calls.push([method, args]);
      return { error: { code: 'auth.failed', message: 'no' } };
    });
    expect(Object.keys(bridge).sort()).toEqual([...API_METHODS, 'onEvent', 'pathForFile'].sort());
    expect(Object.isFrozen(bridge)).toBe(true);
    // The envelope comes back resolved: nothing is thrown across the (context) bridge.
    await expect(bridge.listRegions({ cloud: 'c' })).resolves.toEqual({
      error: { code: 'auth.failed', message: 'no' },
    });
    expect(calls).toEqual([['listRegions', [{ cloud: 'c' }]]]);
  });
});

describe('createApi', () => {
  const bridgeAnswering = (envelope: Envelope<unknown>): ReturnType<typeof createBridge> =>
    createBridge(async () => envelope);

  it('returns the result of a result envelope', async () => {
    const api = createApi(bridgeAnswering({ result: [{ id: 'r1', imageEndpoint: 'http://g' }] }));
    expect(Object.keys(api).sort()).toEqual([...API_METHODS, 'onEvent', 'pathForFile'].sort());
    await expect(api.listRegions({ cloud: 'c' })).resolves.toEqual([{ id: 'r1', imageEndpoint: 'http://g' }]);
  });

  it('throws an ApiError with code, hint, status and request id', async () => {
    const api = createApi(
      bridgeAnswering({
        error: { code: 'auth.failed', message: 'refused', hint: 'check', status: 401, requestId: 'req-1' },
      }),
    );
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
    const api = createApi(bridgeAnswering({ error: { code: 'made.up' as never, message: 'x' } }));
    await expect(api.listClouds()).rejects.toMatchObject({ code: 'internal' });
  });
});

describe('events', () => {
  it('listens once, says ready at the first subscriber, and gives every event to every listener until it unsubscribes', () => {
    let deliver: ((e: ApiEvent) => void) | undefined;
    let readies = 0;
    const api = createApi(
      createBridge(async () => ({ result: null }), {
        listen: (d) => (deliver = d),
        ready: () => readies++,
      }),
    );
    expect(readies).toBe(0); // nothing said before someone listens
    const a: ApiEvent[] = [];
    const b: ApiEvent[] = [];
    const stopA = api.onEvent((e) => a.push(e));
    api.onEvent((e) => b.push(e));
    expect(readies).toBe(1);
    deliver?.({ kind: 'notice', message: 'one' });
    stopA();
    deliver?.({ kind: 'notice', message: 'two' });
    expect(a.map((e) => (e.kind === 'notice' ? e.message : ''))).toEqual(['one']);
    expect(b.map((e) => (e.kind === 'notice' ? e.message : ''))).toEqual(['one', 'two']);
  });
});
