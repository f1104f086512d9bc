/**
 * Launches the real app with Electron where an Electron binary exists (a developer's machine
 * after `npm start` downloaded it). Where none exists, as on CI here, it is reported as skipped
 * with the reason: it never passes without having run.
 */
import { existsSync, readFileSync } from 'node:fs';
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
  ? 'starts the app, shows the window with the clouds, quits'
  : 'not run: no Electron binary (node_modules/electron/dist is missing; it is downloaded on the first `npm start`)';

describe('Electron smoke', () => {
  (bin ? it : it.skip)(title, async () => {
    const cloud = inject('referenceCloud');
    const app = await _electron.launch({
      executablePath: bin,
      args: [...(process.getuid?.() === 0 ? ['--no-sandbox'] : []), join(root, 'out', 'main', 'index.js')],
      env: { ...process.env, OS_CLIENT_CONFIG_FILE: cloud.cloudsYamlPath } as Record<string, string>,
    });
    try {
      const win = await app.firstWindow();
      expect(await win.title()).toBe('Glance Uploader');
      await win.getByLabel('Cloud').locator('option', { hasText: 'ref-demo' }).first().waitFor({ state: 'attached' });
    } finally {
      await app.close();
    }
  });
});
