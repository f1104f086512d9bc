import { describe, expect, it } from 'vitest';
import { EngineError } from '../../io/errors';
import { stubHandlers } from '../../../../../test/support/api-stubs';
import { dispatch, type ApiHandlers } from './api-service';

const handlers: ApiHandlers = stubHandlers({
  listClouds: async () => [
    { name: 'c', authUrl: 'http://k/v3', authType: 'password', regions: [], source: 'x', insecure: false },
  ],
  listRegions: async ({ cloud }) => {
    throw new EngineError('config.cloud_not_found', `No cloud named "${cloud}".`, { hint: 'Known clouds: c.' });
  },
  listImages: async () => {
    throw new TypeError('boom');
  },
});

describe('API dispatch', () => {
  it('answers a result envelope', async () => {
    expect(await dispatch(handlers, 'listClouds', [])).toEqual({ result: [expect.objectContaining({ name: 'c' })] });
  });

  it('refuses unknown methods with a stable code', async () => {
    expect(await dispatch(handlers, 'deleteEverything', [])).toMatchObject({ error: { code: 'ipc.unknown_method' } });
    expect(await dispatch(handlers, { toString: 1 }, [])).toMatchObject({ error: { code: 'ipc.unknown_method' } });
  });

  it.each([
    ['not an array', 'listRegions', { cloud: 'c' }],
    ['missing argument', 'listRegions', []],
    ['extra argument', 'listClouds', [1]],
    ['wrong type', 'listRegions', [{ cloud: 42 }]],
    ['empty string', 'listImages', [{ cloud: 'c', region: '' }]],
    ['unknown key', 'listImages', [{ cloud: 'c', region: 'r', evil: true }]],
    ['oversized', 'listRegions', [{ cloud: 'x'.repeat(256) }]],
    ['a timetable that does not parse', 'updateSettings', [{ bwSchedule: 'Mon-Fri 25:00,10M' }]],
  ])('refuses invalid arguments (%s) before any handler runs', async (_label, method, args) => {
    const env = await dispatch(handlers, method, args);
    expect(env).toMatchObject({ error: { code: 'ipc.invalid_argument' } });
  });

  it('passes coded engine errors through with their hint', async () => {
    expect(await dispatch(handlers, 'listRegions', [{ cloud: 'zz' }])).toEqual({
      error: { code: 'config.cloud_not_found', message: 'No cloud named "zz".', hint: 'Known clouds: c.' },
    });
  });

  it('turns unexpected throws into `internal`, never a rejection', async () => {
    const env = await dispatch(handlers, 'listImages', [{ cloud: 'c', region: 'r' }]);
    expect(env).toMatchObject({ error: { code: 'internal', message: expect.stringContaining('boom') } });
  });
});
