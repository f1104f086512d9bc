/**
 * Staging then sync, as a user does it in the app (Chromium, an AppRuntime with its local
 * server as its own process, the reference OpenStack): stage a file by uploading it to the
 * cloud "local", see it on the Staging screen, sync it to a region, and find it there with the
 * same bytes; the Staging screen then says where it went.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startServerProcess } from '../../src/main/core/local-glance/server-process';
import { CLI } from '../support/cli-process';
import { makeFile, type TestFile } from '../support/files';
import { ReferenceImages } from '../support/reference-images';
import { openRuntimeApp, type RuntimeHarness } from './support/app-harness';
import { AppModel, QueueModelPage, UploadModelPage } from './support/app-pages';
import { launchChromium } from './support/chromium';

const cloud = inject('referenceCloud');
const images = new ReferenceImages(cloud);
const artifacts = join(import.meta.dirname, '..', '..', 'test-results', 'e2e');
let browser: Browser;
let scratch: string;
let app: RuntimeHarness;
let file: TestFile;

beforeAll(async () => {
  mkdirSync(artifacts, { recursive: true });
  scratch = mkdtempSync(join(tmpdir(), 'gu-e2e-stage-'));
  file = await makeFile(join(scratch, `${ReferenceImages.uniqueName('staged')}.raw`), 2 * 1024 * 1024 + 11);
  browser = await launchChromium();
  const env = { GLANCE_UPLOADER_HOME: join(scratch, 'home'), OS_CLIENT_CONFIG_FILE: cloud.cloudsYamlPath };
  app = await openRuntimeApp(browser, {
    env,
    startLocalServer: (dataDir) => startServerProcess({ entry: CLI, dataDir, env }),
  });
});

afterAll(async () => {
  await app?.close();
  await browser?.close();
  await images.deleteAll();
  rmSync(scratch, { recursive: true, force: true });
});

describe('staging and sync in Chromium', () => {
  it('stages a file to the local server, then syncs it to a region', async () => {
    const shell = new AppModel(app.page);
    const upload = new UploadModelPage(app.page);
    const queue = new QueueModelPage(app.page);
    const name =
      file.path
        .split('/')
        .at(-1)
        ?.replace(/\.raw$/, '') ?? '';
    await app.registerFiles([file.path]);
    await shell.go('New upload');
    await upload.addFiles([file.path]);
    await upload.fileName(file.path).waitFor();
    await upload.cloud.selectOption('local');
    await upload.region('local').waitFor();
    expect(await upload.region('local').isChecked()).toBe(true); // the only region: chosen for the user
    await upload.submit.click();
    await queue.state(name).filter({ hasText: 'Done' }).waitFor({ timeout: 60_000 });

    await shell.go('Staging and sync');
    const staged = app.page.getByRole('table', { name: 'Staged images' });
    await staged.getByRole('row').filter({ hasText: name }).waitFor();
    expect(await app.page.getByRole('status').filter({ hasText: 'Local server running' }).count()).toBe(1);
    await app.page.getByRole('checkbox', { name: `Sync ${name}` }).check();
    await app.page.getByRole('combobox', { name: 'Cloud' }).selectOption('ref-demo');
    await app.page.getByRole('group', { name: 'Regions to sync to' }).getByLabel('RegionOne').check();
    await app.page.getByRole('button', { name: 'Sync 1 image(s)' }).click();

    // The sync job runs in the queue; its row is named after the staged image.
    await expect
      .poll(() => queue.table.getByRole('row').filter({ hasText: name }).filter({ hasText: 'Done' }).count(), {
        timeout: 60_000,
      })
      .toBe(2); // the staging job and the sync job
    const sync = app.runtime.scheduler.repo.listJobs().find((j) => j.sourceKind === 'staged');
    const [target] = app.runtime.scheduler.repo.targetsOf(sync?.id ?? '');
    expect(target).toMatchObject({ cloud: 'ref-demo', region: 'RegionOne', state: 'done' });
    images.track('RegionOne', target?.remoteImageId ?? '');
    const img = await (await app.runtime.engine.glance('ref-demo', 'RegionOne')).getImage(target?.remoteImageId ?? '');
    expect(img).toMatchObject({ name, status: 'active', os_hash_value: file.sha512, size: file.size });

    await shell.go('Staging and sync');
    const row = staged.getByRole('row').filter({ hasText: name });
    await row.getByText('ref-demo/RegionOne: done').waitFor();
    await app.page.screenshot({ path: join(artifacts, 'staging-synced.png'), fullPage: true });
  });
});
