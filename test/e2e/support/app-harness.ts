/**
 * Opens the built renderer in Chromium with `window.api` bridged to a real engine in the test
 * process: page -> createApi -> createBridge (same code as the preload) -> exposeFunction -> dispatch (same code
 * as the Electron IPC handlers, argument validation included) -> Engine.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { createApiHandlers, dispatch } from '../../../src/main/core/api/api-service';
import type { Engine } from '../../../src/main/core/engine';
import { openDatabase } from '../../../src/main/core/queue/database';
import { SavedClouds } from '../../../src/main/core/secrets/saved-clouds';
import { Scheduler } from '../../../src/main/core/transfer/scheduler';
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
  // The queue calls run on a queue database of their own, next to the engine the test gives.
  const dir = mkdtempSync(join(tmpdir(), 'gu-harness-'));
  const db = openDatabase(join(dir, 'queue.sqlite3'));
  const scheduler = new Scheduler({ db, engine, actor: 'harness' });
  const handlers = createApiHandlers(engine, { db, scheduler, savedClouds: new SavedClouds(db) });
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
      db.close();
      rmSync(dir, { recursive: true, force: true });
      if (pageErrors.length > 0) throw new Error(`errors in the page: ${pageErrors.join('; ')}`);
    },
  };
}
