/** The Staging and Settings screens' flows, without the screens: each model against a stubbed API. */
import { describe, expect, it, vi } from 'vitest';
import type { Api } from '../../../shared/ipc/contract';
import { stubHandlers } from '../../../../test/support/api-stubs';
import { SettingsModel } from './settings.svelte';
import { StagingModel } from './staging.svelte';

function apiWith(overrides: Parameters<typeof stubHandlers>[0]): Api {
  return { ...stubHandlers(overrides), onEvent: () => () => undefined } as unknown as Api;
}

const cloud = (name: string, authUrl = 'https://k/v3') => ({
  name,
  authUrl,
  authType: 'password',
  regions: [],
  source: 'clouds.yaml',
  insecure: false,
});

describe('StagingModel', () => {
  it('tells the local server from the clouds to sync to, and chooses a lone region at once', async () => {
    const m = new StagingModel(
      apiWith({
        listClouds: async () => [cloud('local', ''), cloud('prod')],
        testConnection: async ({ cloud: c }) => ({
          cloud: c,
          projects: [],
          regions: [{ id: 'R1', imageEndpoint: 'https://g', methods: ['direct'], stores: [], conversion: null }],
        }),
      }),
    );
    await m.load();
    expect([m.server?.authUrl, m.clouds.map((c) => c.name), m.loaded]).toEqual(['', ['prod'], true]);
    await m.chooseCloud('prod');
    expect(m.regions).toEqual(['R1']);
  });

  // Fails if the chosen images were not sent (every staged image would be synced instead).
  it('syncs the chosen images only, and says whether anything was queued', async () => {
    const syncStaged = vi.fn(async () => ({ jobIds: ['j1'], skipped: 1 }));
    const m = new StagingModel(apiWith({ syncStaged }));
    m.cloud = 'prod';
    m.regions = ['R1'];
    m.toggle('img-1', true);
    expect(await m.sync()).toBe(true);
    expect(syncStaged).toHaveBeenCalledWith({
      imageIds: ['img-1'],
      cloud: 'prod',
      regions: ['R1'],
      method: 'auto',
      removeLocal: false,
    });
    expect(m.result).toBe('1 sync job(s) queued, 1 already there or under way.');
  });

  it('turns auto-sync on with the chosen destination, and off', async () => {
    const setAutoSync = vi.fn(async () => null);
    const m = new StagingModel(apiWith({ setAutoSync }));
    m.cloud = 'prod';
    m.regions = ['R1', 'R2'];
    m.removeLocal = true;
    await m.setAuto(true);
    await m.setAuto(false);
    expect(setAutoSync.mock.calls).toEqual([
      [{ cloud: 'prod', regions: ['R1', 'R2'], stores: [], method: 'auto', removeLocal: true }],
      [null],
    ]);
  });
});

describe('SettingsModel', () => {
  // Fails if an invalid form were sent to the engine (the check before updateSettings removed).
  it('saves only a valid form, and shows the saved values', async () => {
    const updateSettings = vi.fn(async () => null);
    const m = new SettingsModel(apiWith({ updateSettings }));
    await m.load();
    expect(m.form.concurrency).toBe('2');
    m.form.concurrency = '99';
    expect(Object.keys(m.errors)).toEqual(['concurrency']);
    expect(await m.save()).toBe(false);
    expect(updateSettings).not.toHaveBeenCalled();
    m.form.concurrency = '4';
    expect(await m.save()).toBe(true);
    expect(updateSettings).toHaveBeenCalledWith(expect.objectContaining({ concurrency: 4 }));
    expect(m.saved).toMatch(/^Saved\./);
  });

  it('keeps the engine’s refusal as the screen’s error', async () => {
    const m = new SettingsModel(
      apiWith({
        setAllowPlaintextSecrets: async () => {
          throw Object.assign(new Error('no keyring'), { code: 'secrets.unavailable' });
        },
      }),
    );
    await m.setPlaintext(true);
    expect(m.error?.message).toBe('no keyring');
  });
});
