/** The Clouds screen's flows, without the screen: the model against a stubbed API. */
import { describe, expect, it, vi } from 'vitest';
import type { Api } from '../../../shared/ipc/contract';
import { stubHandlers } from '../../../../test/support/api-stubs';
import { CloudsModel } from './clouds.svelte';

function apiWith(overrides: Parameters<typeof stubHandlers>[0]): Api {
  return { ...stubHandlers(overrides), onEvent: () => () => undefined } as unknown as Api;
}

const refused = (code: string): Error & { code: string } => Object.assign(new Error('no'), { code });

describe('CloudsModel', () => {
  // Fails if save-and-test kept a cloud that cannot sign in (the forget call removed).
  it('forgets a new cloud that cannot sign in, and keeps the form as typed', async () => {
    const forgetCloud = vi.fn(async () => null);
    const m = new CloudsModel(
      apiWith({
        forgetCloud,
        testConnection: async () => {
          throw refused('auth.failed');
        },
      }),
    );
    m.form = { ...m.form, name: 'new', authUrl: 'https://k/v3', username: 'u', password: 'bad' };
    await m.saveAndTest();
    expect(forgetCloud).toHaveBeenCalledWith({ name: 'new' });
    expect(m.form.password).toBe('bad');
    expect(m.saved).toBeUndefined();
    expect(m.formError).toBeDefined();
  });

  it('keeps a cloud that existed before even when the new secret fails', async () => {
    const forgetCloud = vi.fn(async () => null);
    const m = new CloudsModel(
      apiWith({
        listClouds: async () => [
          { name: 'old', authUrl: 'u', authType: 'password', regions: [], source: 'saved in the app', insecure: false },
        ],
        forgetCloud,
        testConnection: async () => {
          throw refused('auth.failed');
        },
      }),
    );
    await m.load();
    m.form = { ...m.form, name: 'old', authUrl: 'https://k/v3' };
    await m.saveAndTest();
    expect(forgetCloud).not.toHaveBeenCalled();
  });

  it('on success selects the cloud, clears the form and keeps the file’s other drafts offered', async () => {
    const m = new CloudsModel(
      apiWith({
        parseCloudConfig: async () => [
          { name: 'a', authUrl: 'https://a/v3', authType: 'password' },
          { name: 'b', authUrl: 'https://b/v3', authType: 'password' },
        ],
      }),
    );
    await m.importText('clouds:\n  a: {}\n  b: {}\n', 'clouds.yaml');
    expect(m.form.name).toBe(''); // two clouds: the user picks one
    const [first] = m.drafts;
    if (first !== undefined) m.useDraft(first);
    await m.saveAndTest();
    expect([m.saved, m.selected, m.form.name, m.drafts.length]).toEqual(['a', 'a', '', 2]);
  });
});
