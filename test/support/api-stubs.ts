/** Handlers for every API method, answering plausible empty results: tests override what they look at. */
import type { ApiHandlers } from '../../src/main/core/app/api/api-service';

export function stubHandlers(overrides: Partial<ApiHandlers> = {}): ApiHandlers {
  const base: ApiHandlers = {
    listClouds: async () => [],
    listRegions: async () => [],
    listImages: async () => [],
    listJobs: async () => [],
    controlTarget: async () => null,
    getSettings: async () => ({
      autoSync: null,
      allowPlaintextSecrets: false,
      concurrency: 2,
      bwlimit: 0,
      tokenRenewMarginS: 120,
      retryBudgetHours: 24,
      duplicateCheck: 'upload',
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
  return { ...base, ...overrides };
}
