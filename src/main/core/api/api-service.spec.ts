import { describe, expect, it } from 'vitest';
import { EngineError } from '../errors';
import { dispatch, type ApiHandlers } from './api-service';

const handlers: ApiHandlers = {
  listClouds: async () => [
    { name: 'c', authUrl: 'http://k/v3', authType: 'password', regions: [], source: 'x', insecure: false },
  ],
  listRegions: async ({ cloud }) => {
    throw new EngineError('config.cloud_not_found', `No cloud named "${cloud}".`, { hint: 'Known clouds: c.' });
  },
  listImages: async () => {
    throw new TypeError('boom');
  },
  listJobs: async () => [],
  controlTarget: async () => null,
  getSettings: async () => ({
    autoSync: null,
    allowPlaintextSecrets: false,
    concurrency: 2,
    bwlimit: 0,
    tokenRenewMarginS: 120,
    duplicateCheck: 'upload' as const,
    localServerPort: 0,
    dataFolder: '/data',
    localServer: null,
  }),
  setAllowPlaintextSecrets: async () => null,
  saveCloud: async () => null,
  forgetCloud: async () => null,
  enqueueUploads: async () => ({ jobIds: [] }),
  listStaged: async () => [],
  syncStaged: async () => ({ jobIds: [], skipped: 0 }),
  setAutoSync: async () => null,
  replicateImage: async () => ({ jobIds: [] }),
  parseCloudConfig: async () => [],
  testConnection: async ({ cloud }) => ({ cloud, projects: [], regions: [] }),
  imageSchema: async () => ({}),
  inspectFiles: async () => [],
  removeJob: async () => null,
  jobEvents: async () => [],
  listActivity: async () => [],
  exportActivity: async () => ({ fileName: 'a.csv', text: '' }),
  switchProject: async () => null,
  runDoctor: async ({ cloud }) => ({
    cloud,
    regions: [],
    horizonOrigin: null,
    checks: [],
    failed: 0,
    warned: 0,
    throughput: {},
  }),
  updateSettings: async () => null,
};

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
