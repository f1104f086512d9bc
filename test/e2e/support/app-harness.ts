/**
 * Opens the built renderer in Chromium with `window.api` bridged to a real engine in the test
 * process: page -> createApi -> createBridge (same code as the preload) -> exposeFunction -> dispatch (same code
 * as the Electron IPC handlers, argument validation included) -> Engine.
 *
 * `openApp` gives the page an engine and a queue database that does not run (the images page);
 * `openRuntimeApp` gives it what the desktop app runs, an AppRuntime (queue running, local
 * server if asked), with job events pushed to the page through the same EventGate main uses.
 * Files: a browser File has no path, so the bridge's pathForFile looks the file's name up in
 * the paths the test registered (`registerFiles`), as Electron's webUtils would answer.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import type { ApiEvent } from '../../../src/shared/ipc/contract';
import { createApiHandlers, dispatch, type ApiHandlers } from '../../../src/main/core/app/api/api-service';
import { EventGate } from '../../../src/main/core/app/api/event-gate';
import { AppRuntime, type AppRuntimeOptions } from '../../../src/main/core/app/app-runtime';
import type { Engine } from '../../../src/main/core/clouds/engine';
import { openDatabase } from '../../../src/main/core/queue/database';
import { PassphraseCodec } from '../../../src/main/core/clouds/secret-codec';
import { SavedClouds } from '../../../src/main/core/clouds/saved-clouds';
import { Scheduler } from '../../../src/main/core/transfer/scheduler';
import { buildBridgeScript } from './bridge-bundle';
import { serveStatic } from './static-server';

export const RENDERER_DIR = join(import.meta.dirname, '..', '..', '..', 'out', 'renderer');

export interface AppHarness {
  page: Page;
  calls: string[];
  /** Make these files known to pathForFile (by their base name), as on a desktop. */
  registerFiles: (paths: string[]) => Promise<void>;
  close: () => Promise<void>;
}

let bridgeScript: Promise<string> | undefined;

async function openPage(
  browser: Browser,
  handlers: ApiHandlers,
  gate?: EventGate,
): Promise<Omit<AppHarness, 'close'> & { close: () => Promise<void> }> {
  bridgeScript ??= buildBridgeScript();
  const server = await serveStatic(RENDERER_DIR);
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  const calls: string[] = [];
  await page.exposeFunction('__glanceUploaderBridge', (method: unknown, args: unknown) => {
    calls.push(String(method));
    return dispatch(handlers, method, args);
  });
  if (gate !== undefined) {
    await page.exposeFunction('__glanceUploaderReady', () => {
      gate.open((e: ApiEvent) => {
        void page
          .evaluate(
            (ev) =>
              (window as unknown as { __glanceUploaderDeliver?: (x: unknown) => void }).__glanceUploaderDeliver?.(ev),
            e,
          )
          .catch(() => undefined); // the page is closing
      });
    });
    page.on('framenavigated', (f) => {
      if (f === page.mainFrame()) gate.close();
    });
  }
  await page.addInitScript({ content: await bridgeScript });
  await page.goto(server.url);
  return {
    page,
    calls,
    registerFiles: async (paths) => {
      await page.evaluate(
        (entries) => {
          const w = window as unknown as { __glanceUploaderFilePaths?: Record<string, string> };
          w.__glanceUploaderFilePaths = { ...(w.__glanceUploaderFilePaths ?? {}), ...Object.fromEntries(entries) };
        },
        paths.map((p) => [basename(p), p] as [string, string]),
      );
    },
    close: async () => {
      await context.close();
      await server.close();
      if (pageErrors.length > 0) throw new Error(`errors in the page: ${pageErrors.join('; ')}`);
    },
  };
}

/** The page over handlers the test gives (stubs): screens drawn with chosen data, no engine. */
export async function openStubApp(browser: Browser, handlers: ApiHandlers): Promise<AppHarness> {
  return openPage(browser, handlers);
}

export async function openApp(browser: Browser, engine: Engine): Promise<AppHarness> {
  // The queue calls run on a queue database of their own, next to the engine the test gives.
  const dir = mkdtempSync(join(tmpdir(), 'gu-harness-'));
  const db = openDatabase(join(dir, 'queue.sqlite3'));
  const scheduler = new Scheduler({ db, engine, actor: 'harness' });
  const savedClouds = new SavedClouds(db, new PassphraseCodec('the keychain stand-in of the harness'));
  const opened = await openPage(browser, createApiHandlers(engine, { db, scheduler, savedClouds }));
  return {
    ...opened,
    close: async () => {
      try {
        await opened.close();
      } finally {
        db.close();
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

export interface RuntimeHarness extends AppHarness {
  runtime: AppRuntime;
}

/** A raw file queued to `cloud`'s RegionOne as the app queues it (push, no shrink): its job ids. */
export async function enqueueRawFile(
  app: RuntimeHarness,
  path: string,
  name: string,
  cloud: string,
): Promise<string[]> {
  const { jobIds } = await createApiHandlers(app.runtime.engine, app.runtime).enqueueUploads({
    images: [{ path, name }],
    cloud,
    regions: ['RegionOne'],
    method: 'push',
    shrink: 'off',
    diskFormat: 'raw',
    containerFormat: 'bare',
  });
  return jobIds;
}

/** What the desktop app runs, behind the page: the queue runs and its events reach the page. */
export async function openRuntimeApp(browser: Browser, options: AppRuntimeOptions): Promise<RuntimeHarness> {
  const gate = new EventGate();
  const runtime = AppRuntime.open({
    codec: () => new PassphraseCodec('the keychain stand-in of the harness'),
    ...options,
    onJobUpdated: (update) => gate.push({ kind: 'jobUpdated', update }),
    onNotice: (message) => gate.push({ kind: 'notice', message }),
    onQueueDone: (summary) => {
      gate.push({ kind: 'queueDone', summary });
      options.onQueueDone?.(summary);
    },
  });
  await runtime.start();
  const opened = await openPage(browser, createApiHandlers(runtime.engine, runtime), gate);
  return {
    ...opened,
    runtime,
    close: async () => {
      try {
        await opened.close();
      } finally {
        await runtime.stop();
      }
    },
  };
}
