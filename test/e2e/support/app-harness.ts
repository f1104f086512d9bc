/**
 * Opens the built renderer in Chromium with `window.api` bridged to a real engine in the test
 * process: page -> createApi -> createBridge (same code as the preload) -> exposeFunction -> dispatch (same code
 * as the Electron IPC handlers, argument validation included) -> Engine.
 */
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { createApiHandlers, dispatch } from '../../../src/main/core/api/api-service';
import type { Engine } from '../../../src/main/core/engine';
import { buildBridgeScript } from './bridge-bundle';
import { serveStatic } from './static-server';

export const RENDERER_DIR = join(import.meta.dirname, '..', '..', '..', 'out', 'renderer');

export interface AppHarness {
  page: Page;
  calls: string[];
  close: () => Promise<void>;
}

let bridgeScript: Promise<string> | undefined;

export async function openApp(browser: Browser, engine: Engine): Promise<AppHarness> {
  bridgeScript ??= buildBridgeScript();
  const server = await serveStatic(RENDERER_DIR);
  const context = await browser.newContext({ viewport: { width: 1200, height: 760 } });
  const page = await context.newPage();
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  const handlers = createApiHandlers(engine);
  const calls: string[] = [];
  await page.exposeFunction('__glanceUploaderBridge', (method: unknown, args: unknown) => {
    calls.push(String(method));
    return dispatch(handlers, method, args);
  });
  await page.addInitScript({ content: await bridgeScript });
  await page.goto(server.url);
  return {
    page,
    calls,
    close: async () => {
      await context.close();
      await server.close();
      if (pageErrors.length > 0) throw new Error(`errors in the page: ${pageErrors.join('; ')}`);
    },
  };
}
