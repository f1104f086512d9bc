/**
 * Launches the real app with Electron where an Electron binary exists (a developer's machine
 * after `npm start` downloaded it). Where none exists, as on CI here, it is reported as skipped
 * with the reason: it never passes without having run.
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

describe('Electron smoke', () => {
  (bin ? it : it.skip)(title, async () => {
    const cloud = inject('referenceCloud');
    const home = mkdtempSync(join(tmpdir(), 'gu-electron-')); // never the user's data folder
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
    } finally {
      await app.close();
      rmSync(home, { recursive: true, force: true });
    }
  });
});
