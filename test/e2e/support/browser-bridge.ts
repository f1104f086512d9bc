/**
 * Runs in the page (bundled to an IIFE and injected before the app's scripts): builds
 * `window.api` with the SAME createBridge the preload uses, over a transport that calls the
 * function the test exposed with page.exposeFunction. Only the transport differs from Electron.
 */
import { createBridge } from '../../../src/shared/ipc/api-client';
import type { ApiEvent, ApiMethod, Envelope } from '../../../src/shared/ipc/contract';

type BridgeFn = (method: ApiMethod, args: unknown[]) => Promise<Envelope<unknown>>;

type Hooks = {
  __glanceUploaderBridge: BridgeFn;
  /** Set here: the test pushes events with page.evaluate(() => window.__glanceUploaderDeliver(e)). */
  __glanceUploaderDeliver?: (e: ApiEvent) => void;
  /** Optional, exposed by the test: told when the page subscribes (as main is, in Electron). */
  __glanceUploaderReady?: () => void;
  /** Set by the test: file name -> path on disk (what Electron's webUtils.getPathForFile knows). */
  __glanceUploaderFilePaths?: Record<string, string>;
};
const hooks = window as unknown as Hooks;

const api = createBridge(
  (method, args) => hooks.__glanceUploaderBridge(method, args),
  {
    listen: (deliver) => (hooks.__glanceUploaderDeliver = deliver),
    ready: () => void hooks.__glanceUploaderReady?.(),
  },
  (file) => hooks.__glanceUploaderFilePaths?.[file.name] ?? '',
);
Object.defineProperty(window, 'api', { value: api, writable: false, configurable: false });
