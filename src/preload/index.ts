/** The preload exposes ONE object, `window.api`, built from the shared contract. Never ipcRenderer. */
import { contextBridge, ipcRenderer } from 'electron';
import { createApi } from '../shared/ipc/api-client';
import { channelOf, type Envelope } from '../shared/ipc/contract';

contextBridge.exposeInMainWorld(
  'api',
  createApi((method, args) => ipcRenderer.invoke(channelOf(method), ...args) as Promise<Envelope<unknown>>),
);
