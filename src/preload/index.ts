/**
 * The preload exposes ONE object, `window.api`, built from the shared contract: one method per
 * call, answering envelopes (plain data; see Bridge in contract.ts). Never ipcRenderer itself.
 */
import { contextBridge, ipcRenderer, webUtils } from 'electron';
import { createBridge } from '../shared/ipc/api-client';
import { channelOf, EVENT_CHANNEL, READY_CHANNEL, type ApiEvent, type Envelope } from '../shared/ipc/contract';

contextBridge.exposeInMainWorld(
  'api',
  createBridge(
    (method, args) => ipcRenderer.invoke(channelOf(method), ...args) as Promise<Envelope<unknown>>,
    {
      listen: (deliver) => ipcRenderer.on(EVENT_CHANNEL, (_event, payload: ApiEvent) => deliver(payload)),
      ready: () => ipcRenderer.send(READY_CHANNEL),
    },
    (file) => webUtils.getPathForFile(file),
  ),
);
