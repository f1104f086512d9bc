import { describe, expect, it, vi } from 'vitest';

// Electron is not importable in Node (it would try to download its binary): an explicit factory.
vi.mock('electron', () => ({ ipcMain: {} }));

import type { IpcMain, IpcMainInvokeEvent } from 'electron';
import { API_METHODS, channelOf } from '../../shared/ipc/contract';
import { stubHandlers } from '../../../test/support/api-stubs';
import { dispatch, type ApiHandlers } from '../core/app/api/api-service';
import { ownMainFrame, registerApi } from './ipc-main';

type Handler = (event: IpcMainInvokeEvent, ...args: unknown[]) => Promise<unknown>;

function fakeIpcMain(): { ipc: IpcMain; handlers: Map<string, Handler> } {
  const handlers = new Map<string, Handler>();
  const ipc = {
    handle: (channel: string, fn: Handler) => {
      if (handlers.has(channel)) throw new Error(`second handler for ${channel}`);
      handlers.set(channel, fn);
    },
    removeHandler: (channel: string) => handlers.delete(channel),
  } as unknown as IpcMain;
  return { ipc, handlers };
}

const ownUrl = 'file:///app/out/renderer/index.html';
const isOwnUrl = (u: string): boolean => u === ownUrl;

function eventFrom(url: string, opts: { subFrame?: boolean; noFrame?: boolean } = {}): IpcMainInvokeEvent {
  const mainFrame = { url };
  const senderFrame = opts.noFrame ? null : opts.subFrame ? { url } : mainFrame;
  return { sender: { mainFrame }, senderFrame } as unknown as IpcMainInvokeEvent;
}

// Every handler a spy, so a refused call can be shown never to reach one.
const handlers = Object.fromEntries(
  Object.entries(stubHandlers({ listRegions: async () => [{ id: 'RegionOne', imageEndpoint: 'http://g' }] })).map(
    ([k, f]) => [k, vi.fn(f)],
  ),
) as unknown as ApiHandlers;

const call = (method: string, args: unknown[]): ReturnType<typeof dispatch> => dispatch(handlers, method, args);

describe('registerApi', () => {
  it('registers one handler per contract method and removes them all', () => {
    const { ipc, handlers: registered } = fakeIpcMain();
    const unregister = registerApi(ipc, call, ownMainFrame(isOwnUrl));
    expect([...registered.keys()].sort()).toEqual(API_METHODS.map(channelOf).sort());
    unregister();
    expect(registered.size).toBe(0);
  });

  it('answers our own main frame with the handler result', async () => {
    const { ipc, handlers: registered } = fakeIpcMain();
    registerApi(ipc, call, ownMainFrame(isOwnUrl));
    const answer = await registered.get(channelOf('listRegions'))?.(eventFrom(ownUrl), { cloud: 'c' });
    expect(answer).toEqual({ result: [{ id: 'RegionOne', imageEndpoint: 'http://g' }] });
  });

  it.each([
    ['a foreign page', eventFrom('https://evil.example/'), undefined],
    ['a sub-frame of our page', eventFrom(ownUrl, { subFrame: true }), undefined],
    ['a destroyed frame', eventFrom(ownUrl, { noFrame: true }), undefined],
  ])('refuses %s before any handler runs', async (_label, event) => {
    const { ipc, handlers: registered } = fakeIpcMain();
    vi.mocked(handlers.listClouds).mockClear();
    registerApi(ipc, call, ownMainFrame(isOwnUrl));
    const answer = await registered.get(channelOf('listClouds'))?.(event);
    expect(answer).toMatchObject({ error: { code: 'ipc.forbidden_sender' } });
    expect(handlers.listClouds).not.toHaveBeenCalled();
  });

  it('refuses bad arguments from our own page with ipc.invalid_argument', async () => {
    const { ipc, handlers: registered } = fakeIpcMain();
    vi.mocked(handlers.listImages).mockClear();
    registerApi(ipc, call, ownMainFrame(isOwnUrl));
    const answer = await registered.get(channelOf('listImages'))?.(eventFrom(ownUrl), { cloud: 'c' });
    expect(answer).toMatchObject({ error: { code: 'ipc.invalid_argument' } });
    expect(handlers.listImages).not.toHaveBeenCalled();
  });
});
