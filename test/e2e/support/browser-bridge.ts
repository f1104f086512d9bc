/**
 * Runs in the page (bundled to an IIFE and injected before the app's scripts): builds
 * `window.api` with the SAME createBridge the preload uses, over a transport that calls the
 * function the test exposed with page.exposeFunction. Only the transport differs from Electron.
 */
import { createBridge } from '../../../src/shared/ipc/api-client';
import type { ApiMethod, Envelope } from '../../../src/shared/ipc/contract';

type BridgeFn = (method: ApiMethod, args: unknown[]) => Promise<Envelope<unknown>>;

const api = createBridge((method, args) =>
  (window as unknown as { __glanceUploaderBridge: BridgeFn }).__glanceUploaderBridge(method, args),
);
Object.defineProperty(window, 'api', { value: api, writable: false, configurable: false });
