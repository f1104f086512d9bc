/**
 * The first slice, end to end in a real browser: the built Svelte renderer in Debian's Chromium,
 * window.api bridged to a real engine, the engine talking to the reference Keystone and Glance.
 * The page must show the images this test created, per region, and a coded error for a wrong
 * password without losing the user's choices.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Engine } from '../../src/main/core/clouds/engine';
import { demoEntry, writeCloudsYaml } from '../support/clouds-yaml';
import { ReferenceImages } from '../support/reference-images';
import { openApp, type AppHarness } from './support/app-harness';
import { launchChromium } from './support/chromium';
import { ImagesPageModel } from './support/images-page';

const cloud = inject('referenceCloud');
const images = new ReferenceImages(cloud);
const artifacts = join(import.meta.dirname, '..', '..', 'test-results', 'e2e');
const names = {
  r1a: ReferenceImages.uniqueName('e2e-ubuntu'),
  r1b: ReferenceImages.uniqueName('e2e-cirros'),
  r2: ReferenceImages.uniqueName('e2e-region-two'),
};
let browser: Browser;
let engine: Engine;
let scratch: string;
let app: AppHarness | undefined;

beforeAll(async () => {
  mkdirSync(artifacts, { recursive: true });
  scratch = mkdtempSync(join(tmpdir(), 'gu-e2e-'));
  // The suite's clouds plus one with a wrong password, as a user's clouds.yaml might have.
  const clouds = join(scratch, 'clouds.yaml');
  writeCloudsYaml(clouds, cloud, [demoEntry(cloud, 'wrong-password', { password: 'not-the-password' })]);
  engine = new Engine({ env: { OS_CLIENT_CONFIG_FILE: clouds }, cwd: scratch, home: scratch });
  await images.create('RegionOne', names.r1a, { disk_format: 'qcow2' }, Buffer.alloc(3 * 1024 * 1024, 1));
  await images.create('RegionOne', names.r1b);
  await images.create('RegionTwo', names.r2, {}, Buffer.alloc(64 * 1024, 2));
  browser = await launchChromium();
});

afterAll(async () => {
  await app?.close();
  await browser?.close();
  await engine?.close();
  await images.deleteAll();
  rmSync(scratch, { recursive: true, force: true });
});

describe('images page in Chromium', () => {
  it('lists the clouds, signs in, and shows the images of each region', async () => {
    app = await openApp(browser, engine);
    const page = new ImagesPageModel(app.page);
    await page.open();
    await page.cloud.locator('option', { hasText: 'ref-demo-r2' }).waitFor({ state: 'attached' });
    const options = await page.cloud.locator('option').allTextContents();
    expect(options).toEqual([
      'Choose a cloud…',
      'ref-demo',
      'ref-demo-r2',
      'ref-admin',
      'ref-admin-r2',
      'wrong-password',
      'local',
    ]);

    await page.chooseCloud('ref-demo');
    // The entry's region_name (RegionOne) is picked for the user, and its images load.
    await page.row(names.r1a).waitFor();
    expect(await page.region.inputValue()).toBe('RegionOne');
    const cells = await page.row(names.r1a).getByRole('cell').allTextContents();
    expect(cells.slice(0, 4)).toEqual([names.r1a, 'active', 'qcow2', '3.00 MiB']);
    expect(await page.row(names.r1b).getByRole('cell').nth(1).textContent()).toBe('queued');
    expect(await page.row(names.r2).count()).toBe(0);
    await app.page.screenshot({ path: join(artifacts, 'images-region-one.png'), fullPage: true });

    await page.chooseRegion('RegionTwo');
    await page.row(names.r2).waitFor();
    expect(await page.row(names.r1a).count()).toBe(0);
    expect(await page.row(names.r2).getByRole('cell').nth(3).textContent()).toBe('64.0 KiB');
    expect(app.calls.filter((c) => c !== 'listJobs' && c !== 'transferStatus')).toEqual([
      'listClouds',
      'listRegions',
      'listImages',
      'listImages',
    ]);
  });

  it('refresh shows an image created after the page loaded', async () => {
    if (app === undefined) throw new Error('the first test opens the app');
    const page = new ImagesPageModel(app.page);
    const late = ReferenceImages.uniqueName('e2e-late');
    await images.create('RegionTwo', late);
    expect(await page.row(late).count()).toBe(0);
    await page.refresh.click();
    await page.row(late).waitFor();
  });

  it('shows a wrong password as a clear, coded error and keeps the choice', async () => {
    if (app === undefined) throw new Error('the first test opens the app');
    const page = new ImagesPageModel(app.page);
    await page.chooseCloud('wrong-password');
    await page.alert.waitFor();
    expect(await page.alert.getByTestId('error-code').textContent()).toBe('auth.failed');
    expect(await page.alert.textContent()).toContain('Check the user name, password, domain and project');
    expect(await page.cloud.inputValue()).toBe('wrong-password');
    expect(await page.table.count()).toBe(0);
    await app.page.screenshot({ path: join(artifacts, 'images-auth-error.png'), fullPage: true });
  });
});
