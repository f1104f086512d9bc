/**
 * The Catalog screen as a user works it (Chromium, an AppRuntime, the reference OpenStack): a
 * catalog file's plan shown per cloud and region, applied on a second click (the upload goes
 * through the app's queue), nothing left to do after it, drift shown after a change by hand,
 * and a bad file's problems listed at their line and column.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { catalogImageId } from '../../src/main/core/catalog/catalog-ids';
import { makeFile, type TestFile } from '../support/files';
import { ReferenceImages } from '../support/reference-images';
import { openRuntimeApp, type RuntimeHarness } from './support/app-harness';
import { AppModel } from './support/app-pages';
import { launchChromium } from './support/chromium';

const cloud = inject('referenceCloud');
const images = new ReferenceImages(cloud);
const artifacts = join(import.meta.dirname, '..', '..', 'test-results', 'e2e');
const CATALOG = ReferenceImages.uniqueName('e2e-cat');
let browser: Browser;
let scratch: string;
let app: RuntimeHarness;
const files: TestFile[] = [];

beforeAll(async () => {
  mkdirSync(artifacts, { recursive: true });
  scratch = mkdtempSync(join(tmpdir(), 'gu-e2e-catalog-'));
  for (const v of ['1', '2']) files.push(await makeFile(join(scratch, `os-${v}.raw`), 1024 * 1024));
  writeFileSync(
    join(scratch, 'catalog.yaml'),
    `catalog: ${CATALOG}
targets: [{cloud: ref-demo, regions: [RegionOne]}]
families:
  os:
    name: OS ${CATALOG}
    versions:
      - {version: "1", file: os-1.raw}
      - {version: "2", file: os-2.raw}
`,
  );
  writeFileSync(
    join(scratch, 'bad.yaml'),
    `catalog: ${CATALOG}\ntargets: [{cloud: nowhere, regions: [R]}]\nfamilies: {}\n`,
  );
  browser = await launchChromium();
  app = await openRuntimeApp(browser, {
    env: { GLANCE_UPLOADER_HOME: join(scratch, 'home'), OS_CLIENT_CONFIG_FILE: cloud.cloudsYamlPath },
  });
});

afterAll(async () => {
  await app?.close();
  await browser?.close();
  await images.deleteAll();
  rmSync(scratch, { recursive: true, force: true });
});

describe('the Catalog screen in Chromium', () => {
  it('shows the plan, applies it on a second click, then shows drift made by hand', async () => {
    const page = app.page;
    await new AppModel(page).go('Catalog');
    await page.getByLabel('Catalog file').fill(join(scratch, 'catalog.yaml'));
    await page.getByRole('button', { name: 'Show plan' }).click();
    const region = page.getByRole('table', { name: 'ref-demo / RegionOne' });
    await region.waitFor();
    expect(await region.locator('tr[data-kind="upload"]').count()).toBe(2);
    await page.getByRole('button', { name: 'Apply…' }).click();
    await page.getByRole('button', { name: 'Yes, apply' }).click();
    await page.getByRole('status').filter({ hasText: 'Applied:' }).waitFor({ timeout: 120_000 });
    await page.getByRole('status').filter({ hasText: 'nothing to change' }).waitFor();
    const ids = ['1', '2'].map((version) =>
      catalogImageId({ catalog: CATALOG, family: 'os', version, cloud: 'ref-demo', region: 'RegionOne' }),
    );
    for (const id of ids) images.track('RegionOne', id);
    const glance = await app.runtime.engine.glance('ref-demo', 'RegionOne');
    expect(await glance.getImage(ids[1]!)).toMatchObject({ name: `OS ${CATALOG}`, os_hash_value: files[1]!.sha512 });
    expect(await glance.getImage(ids[0]!)).toMatchObject({ name: `OS ${CATALOG} (1)`, os_hidden: true });

    // Shown again by hand: the refreshed plan marks it as drift.
    await glance.updateImage(ids[0]!, [{ op: 'replace', path: '/os_hidden', value: false }]);
    await page.getByRole('button', { name: 'Refresh plan' }).click();
    await region.locator('tr[data-kind="hide"]').filter({ hasText: 'drift' }).waitFor();
    await page.getByRole('status').filter({ hasText: 'made by hand' }).waitFor();
    await page.screenshot({ path: join(artifacts, 'catalog-drift.png'), fullPage: true });
  });

  it('lists a bad file’s problems at their line and column', async () => {
    const page = app.page;
    await page.getByLabel('Catalog file').fill(join(scratch, 'bad.yaml'));
    await page.getByRole('button', { name: 'Refresh plan' }).click();
    const problems = page.getByRole('list', { name: 'Problems in the catalog' });
    await problems.waitFor();
    expect(await problems.innerText()).toContain('line 2, column 19: no cloud "nowhere"');
    expect(await page.getByTestId('error-code').innerText()).toBe('catalogfile.invalid');
  });
});
