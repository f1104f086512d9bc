import { describe, expect, it, vi } from 'vitest';

const h = vi.hoisted(() => ({
  exposed: new Map<string, unknown>(),
  invoked: [] as unknown[][],
  listeners: new Map<string, (e: unknown, payload: unknown) => void>(),
  sent: [] as string[],
}));
vi.mock('electron', () => ({
  contextBridge: { exposeInMainWorld: (key: string, value: unknown) => h.exposed.set(key, value) },
  ipcRenderer: {
    invoke: async (...a: unknown[]) => {
      h.invoked.push(a);
      return { result: [] };
    },
    on: (channel: string, fn: (e: unknown, payload: unknown) => void) => h.listeners.set(channel, fn),
    send: (channel: string) => h.sent.push(channel),
  },
  webUtils: { getPathForFile: (f: { name: string }) => `/home/u/${f.name}` },
}));

import { API_METHODS, type ApiEvent, type Bridge } from '../shared/ipc/contract';

describe('preload', () => {
  it('exposes exactly one object, window.api, with the contract and nothing else', async () => {
    await import('./index');
    expect([...h.exposed.keys()]).toEqual(['api']);
    const api = h.exposed.get('api') as Bridge;
    expect(Object.isFrozen(api)).toBe(true);
    expect(Object.keys(api).sort()).toEqual([...API_METHODS, 'onEvent', 'pathForFile'].sort());
    await expect(api.listRegions({ cloud: 'c' })).resolves.toEqual({ result: [] });
    expect(h.invoked).toEqual([['glance-uploader:listRegions', { cloud: 'c' }]]);
  });

  it('listens on the event channel and says ready when the page subscribes; file paths come from webUtils', async () => {
    await import('./index');
    const api = h.exposed.get('api') as Bridge;
    expect(h.sent).toEqual([]);
    const got: ApiEvent[] = [];
    api.onEvent((e) => got.push(e));
    expect(h.sent).toEqual(['glance-uploader:ready']);
    h.listeners.get('glance-uploader:event')?.({}, { kind: 'notice', message: 'hello' });
    expect(got).toEqual([{ kind: 'notice', message: 'hello' }]);
    expect(api.pathForFile({ name: 'disk.qcow2' } as File)).toBe('/home/u/disk.qcow2');
  });
});
