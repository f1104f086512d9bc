/**
 * Launches the real app with Electron where an Electron binary exists (a developer's machine
 * after `npm start` downloaded it). Where none exists, as on CI here, it is reported as skipped
 * with the reason: it never passes without having run. What can be proven of the launch without
 * a binary is in test/integration/native-runtimes.test.ts (npm start up to the launch, the
 * native module per runtime).
 *
 * Besides the window and the queue, it checks the window's security at run time (what the
 * renderer can reach, the sandbox, the CSP header on app:// answers) and that the engine worker
 * answered (the settings come from the worker's database, in this test's data folder).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { _electron } from 'playwright-core';
import { describe, expect, inject, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');

/** The binary node_modules/electron would run, without requiring it (that would try to download). */
function electronBinary(): string | undefined {
  const pathFile = join(root, 'node_modules', 'electron', 'path.txt');
  if (!existsSync(pathFile)) return undefined;
  const bin = join(root, 'node_modules', 'electron', 'dist', readFileSync(pathFile, 'utf8').trim());
  return existsSync(bin) ? bin : undefined;
}

const bin = electronBinary();
const title = bin
  ? 'starts the app, shows the window from app:// with the clouds, lists the queue, quits'
  : 'not run: no Electron binary (node_modules/electron/dist is missing; it is downloaded on the first `npm start`)';
const NEEDS = 'npm run native -- --runtime electron'; // the app's native module for Electron's ABI

describe('Electron smoke', () => {
  (bin ? it : it.skip)(title, async () => {
    const cloud = inject('referenceCloud');
    const home = mkdtempSync(join(tmpdir(), 'gu-electron-')); // never the user's data folder
    // The Electron-ABI build of better-sqlite3 (npm start makes it; by hand: NEEDS).
    expect(existsSync(join(root, 'native')), `run ${NEEDS} first`).toBe(true);
    const app = await _electron.launch({
      executablePath: bin,
      args: [...(process.getuid?.() === 0 ? ['--no-sandbox'] : []), join(root, 'out', 'main', 'index.js')],
      env: { ...process.env, OS_CLIENT_CONFIG_FILE: cloud.cloudsYamlPath, GLANCE_UPLOADER_HOME: home } as Record<
        string,
        string
      >,
    });
    try {
      const win = await app.firstWindow();
      expect(await win.title()).toBe('Glance Uploader');
      expect(win.url()).toMatch(/^app:\/\/glance-uploader\//);
      await win.getByLabel('Cloud').locator('option', { hasText: 'ref-demo' }).first().waitFor({ state: 'attached' });
      // The queue, through the preload's window.api and main's handlers: empty in a new data folder.
      const jobs = await win.evaluate(() =>
        (window as unknown as { api: { listJobs: () => Promise<unknown> } }).api.listJobs(),
      );
      expect(jobs).toEqual({ result: [] });

      // The engine worker answered from this test's data folder.
      const settings = await win.evaluate(() =>
        (window as unknown as { api: { getSettings: () => Promise<unknown> } }).api.getSettings(),
      );
      expect(settings).toMatchObject({ result: { dataFolder: home } });

      // Security at run time: no Node in the page, the sandbox and isolation on, CSP on app:// answers.
      expect(
        await win.evaluate(() => [
          typeof (globalThis as Record<string, unknown>).process,
          typeof (globalThis as Record<string, unknown>).require,
        ]),
      ).toEqual(['undefined', 'undefined']);
      // The sandbox, asked where it shows: the preload's isolated world, where a sandboxed
      // renderer's polyfilled `process` says `sandboxed: true` (an unsandboxed one has real Node).
      const cdp = await win.context().newCDPSession(win);
      const worlds: { id: number; name: string }[] = [];
      cdp.on('Runtime.executionContextCreated', (e) => worlds.push({ id: e.context.id, name: e.context.name }));
      await cdp.send('Runtime.enable');
      const isolated = worlds.find((w) => /isolated/i.test(w.name));
      expect(isolated, JSON.stringify(worlds)).toBeDefined();
      const probe = await cdp.send('Runtime.evaluate', {
        contextId: isolated?.id,
        expression:
          'JSON.stringify({ sandboxed: process.sandboxed, fs: typeof require === "function" ? (() => { try { require("fs"); return "loaded"; } catch { return "refused"; } })() : "none" })',
        returnByValue: true,
      });
      expect(JSON.parse(String(probe.result.value))).toEqual({ sandboxed: true, fs: 'refused' });
      const csp = await app.evaluate(
        async ({ net }, url) => (await net.fetch(url)).headers.get('content-security-policy'),
        win.url(),
      );
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("object-src 'none'");
    } finally {
      await app.close();
      rmSync(home, { recursive: true, force: true });
    }
  });
});
