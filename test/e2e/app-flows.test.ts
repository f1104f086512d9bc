/**
 * The app as a user drives it, in Debian's Chromium, against what the desktop app runs (an
 * AppRuntime: the queue running, events pushed to the page) and the reference OpenStack:
 * import a clouds.yaml and sign in; a wrong password keeps the form; upload three files to two
 * regions with one template (and one override), pause one and resume it, watch every job to
 * done and check the images in Glance; a file whose name says qcow2 but holds raw bytes shows
 * the inspector's refusal; a file relayed through the object store (1 MiB segments set on the
 * Settings screen, the relay chosen in New upload), paused and resumed at its segment; the
 * conversion probe on the Clouds screen, and a sparse raw shrunk where the region converts it
 * back (and, with New upload's checkbox, where it does not).
 * Screenshots of each screen go to test-results/e2e.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Settings } from '../../src/main/core/queue/settings';
import { ReferenceImages } from '../support/reference-images';
import { hashFile, makeFile, type TestFile } from '../support/files';
import { openRuntimeApp, type RuntimeHarness } from './support/app-harness';
import { AppModel, CloudsModel, QueueModelPage, UploadModelPage } from './support/app-pages';
import { launchChromium } from './support/chromium';

const cloud = inject('referenceCloud');
const images = new ReferenceImages(cloud);
const artifacts = join(import.meta.dirname, '..', '..', 'test-results', 'e2e');
const MiB = 1024 * 1024;
let browser: Browser;
let scratch: string;
let app: RuntimeHarness;
let files: TestFile[];

beforeAll(async () => {
  mkdirSync(artifacts, { recursive: true });
  scratch = mkdtempSync(join(tmpdir(), 'gu-e2e-app-'));
  // No clouds.yaml of the user's: every cloud comes from the import.
  const none = join(scratch, 'clouds.yaml');
  writeFileSync(none, 'clouds: {}\n');
  const tag = ReferenceImages.uniqueName('e2e');
  files = [
    await makeFile(join(scratch, `${tag}-big.raw`), 40 * MiB),
    await makeFile(join(scratch, `${tag}-small.raw`), 3 * MiB + 1),
    await makeFile(join(scratch, `${tag}-tiny.raw`), MiB + 7),
  ];
  browser = await launchChromium();
  app = await openRuntimeApp(browser, {
    env: { GLANCE_UPLOADER_HOME: join(scratch, 'home'), OS_CLIENT_CONFIG_FILE: none, HOME: scratch },
  });
});

afterAll(async () => {
  await app?.close();
  await browser?.close();
  await images.deleteAll();
  rmSync(scratch, { recursive: true, force: true });
});

describe('the app in Chromium', () => {
  it('imports a clouds.yaml, signs in, and shows what each region offers', async () => {
    const shell = new AppModel(app.page);
    const clouds = new CloudsModel(app.page);
    await shell.go('Clouds');
    await clouds.importFile(cloud.cloudsYamlPath);
    await clouds.useDraft('ref-demo').click();
    expect(await clouds.field('Name').inputValue()).toBe('ref-demo');
    expect(await clouds.field('Password').inputValue()).toBe('demo'); // from the file
    await clouds.save.click();
    await app.page.getByRole('status').filter({ hasText: 'Saved ref-demo: signed in' }).waitFor();
    const report = clouds.report('ref-demo');
    await report.getByRole('cell', { name: 'RegionTwo', exact: true }).waitFor();
    expect(await report.getByRole('row').filter({ hasText: 'RegionOne' }).textContent()).toContain('glance-direct');
    expect(await clouds.cloudRow('ref-demo').textContent()).toContain('saved in the app');
    await app.page.screenshot({ path: join(artifacts, 'clouds.png'), fullPage: true });
    // The doctor, from the same screen, for Horizon's direct upload from the allowed origin.
    const doctor = app.page.getByRole('region', { name: 'Doctor: is ref-demo ready?' });
    await doctor.getByLabel('Horizon origin (optional)').fill('http://localhost:5173');
    await doctor.getByRole('button', { name: 'Run the doctor' }).click();
    await doctor
      .getByRole('status')
      .filter({ hasText: /^Ready/ })
      .waitFor({ timeout: 60_000 });
    const checks = doctor.getByRole('list', { name: 'Doctor checks' });
    expect(await checks.getByText('Glance allows the origin http://localhost:5173').count()).toBe(2); // both regions
    await app.page.screenshot({ path: join(artifacts, 'doctor.png'), fullPage: true });
  });

  it('keeps the form as typed when the password is wrong, with a coded error', async () => {
    const clouds = new CloudsModel(app.page);
    await clouds.useDraft('ref-demo-r2').click();
    await clouds.field('Name').fill('typo-cloud');
    await clouds.field('Password').fill('not-the-password');
    await clouds.save.click();
    await clouds.formAlert.waitFor();
    expect(await clouds.formAlert.getByTestId('error-code').textContent()).toBe('auth.failed');
    expect(await clouds.field('Name').inputValue()).toBe('typo-cloud');
    expect(await clouds.field('Password').inputValue()).toBe('not-the-password');
    expect(await clouds.cloudRow('typo-cloud').count()).toBe(0); // not kept
    await app.page.screenshot({ path: join(artifacts, 'clouds-wrong-password.png'), fullPage: true });
  });

  it('shows the inspector refusing a file whose name says qcow2 but which holds raw bytes', async () => {
    const shell = new AppModel(app.page);
    const upload = new UploadModelPage(app.page);
    const liar = await makeFile(join(scratch, 'liar.qcow2'), MiB);
    await app.registerFiles([liar.path]);
    await shell.go('New upload');
    await upload.addFiles([liar.path]);
    const refusal = upload.refusal('liar');
    await refusal.waitFor();
    expect(await refusal.textContent()).toContain('inspect.format_mismatch');
    expect(await refusal.textContent()).toContain('declared qcow2 but its content is raw');
    expect(await app.page.getByRole('checkbox', { name: 'Upload liar' }).isDisabled()).toBe(true);
    await app.page.getByRole('button', { name: 'Remove liar' }).click();
  });

  it('uploads three files to two regions with a template, pauses and resumes one, and ends verified', async () => {
    const shell = new AppModel(app.page);
    const upload = new UploadModelPage(app.page);
    const queue = new QueueModelPage(app.page);
    await app.registerFiles(files.map((f) => f.path));
    await upload.addFiles(files.map((f) => f.path));
    for (const f of files) await upload.fileName(f.path).waitFor();
    const names = files.map(
      (f) =>
        f.path
          .split('/')
          .at(-1)
          ?.replace(/\.raw$/, '') ?? '',
    );
    // One override: the tiny one gets its own name.
    const renamed = `${names[2]}-renamed`;
    await upload.fileName(files[2]?.path ?? '').fill(renamed);
    names[2] = renamed;
    // The template, validated as typed against the region's schema.
    await upload.cloud.selectOption('ref-demo');
    await upload.region('RegionOne').check();
    await upload.region('RegionTwo').check();
    await upload.template('Minimum RAM (MiB)').fill('12x');
    await app.page.getByText('Minimum RAM must be a whole number').waitFor();
    expect(await upload.submit.isDisabled()).toBe(true);
    await upload.template('Minimum RAM (MiB)').fill('512');
    await upload.template('Tags (comma separated)').fill('e2e, template');
    await app.page.getByRole('button', { name: 'Add a property', exact: true }).click();
    await app.page.getByLabel('Property 1 name').fill('os_distro');
    await app.page.getByLabel('Property 1 value').fill('cirros');
    // Slow enough to pause: 40 MiB at 8 MB/s per image.
    await app.page.getByLabel('Bandwidth limit per image (MB/s)').fill('8');
    await app.page.screenshot({ path: join(artifacts, 'new-upload.png'), fullPage: true });
    await upload.submit.click();

    // The queue, live: pause the big one while it uploads, then resume it.
    await queue.table.waitFor();
    const big = names[0] ?? '';
    await queue.state(big).filter({ hasText: 'Uploading' }).waitFor({ timeout: 60_000 });
    await queue.action('Pause', big).click();
    await queue.state(big).filter({ hasText: 'Paused' }).waitFor({ timeout: 30_000 });
    await app.page.screenshot({ path: join(artifacts, 'queue-paused.png'), fullPage: true });
    await queue.action('Resume', big).click();
    for (const n of names) await queue.state(n).filter({ hasText: 'Done' }).waitFor({ timeout: 120_000 });
    expect(await queue.progress(big).getAttribute('aria-valuenow')).toBe('100');
    // The details of the paused one: both regions done, the attempts log shows the pause.
    await queue.row(big).getByRole('button', { name: big, exact: true }).click();
    const details = app.page.getByRole('complementary');
    await details.getByRole('list', { name: 'Attempts log' }).getByText('→ paused').first().waitFor();
    await app.page.screenshot({ path: join(artifacts, 'queue-done.png'), fullPage: true });
    // The image x region grid: every image done and verified in both regions, with its ids.
    await shell.go('Regions');
    const grid = app.page.getByRole('table', { name: 'Images by region' });
    for (const [i, n] of names.entries()) {
      const row = grid.getByRole('row').filter({ has: app.page.getByRole('rowheader', { name: new RegExp(`^${n}`) }) });
      expect(await row.getByRole('rowheader').textContent()).toContain(`sha512 ${files[i]?.sha512.slice(0, 12)}`);
      // RegionOne is sent the bytes; RegionTwo, which offers glance-download, pulls them from it.
      expect(await row.getByRole('cell').allTextContents()).toEqual([
        expect.stringMatching(/^done · verified\s*direct/),
        expect.stringMatching(/^done · verified\s*glance-download/),
      ]);
    }
    await app.page.screenshot({ path: join(artifacts, 'regions.png'), fullPage: true });

    // In Glance: each image in both regions, active, with the template, the override and the file's sha512.
    const jobs = app.runtime.scheduler.repo.listJobs();
    for (const [i, f] of files.entries()) {
      const job = jobs.find((j) => j.name === names[i]);
      expect(job, names[i]).toBeDefined();
      const targets = app.runtime.scheduler.repo.targetsOf(job?.id ?? '');
      expect(targets.map((t) => t.region).sort()).toEqual(['RegionOne', 'RegionTwo']);
      for (const t of targets) {
        images.track(t.region as 'RegionOne' | 'RegionTwo', t.remoteImageId ?? '');
        const img = await (await app.runtime.engine.glance('ref-demo', t.region)).getImage(t.remoteImageId ?? '');
        expect(img).toMatchObject({
          name: names[i],
          status: 'active',
          os_hash_value: f.sha512,
          min_ram: 512,
          os_distro: 'cirros',
        });
        expect([...(img.tags ?? [])].sort()).toEqual(['e2e', 'template']);
      }
    }
  });

  // Fails when the relay is not offered for a region that has an object store (methodChoices),
  // or when a resumed relay starts again at byte 0 (no "resumed at" in the details).
  it('relays a file through the object store, chosen in New upload, and resumes it at its segment after a pause', async () => {
    const shell = new AppModel(app.page);
    const upload = new UploadModelPage(app.page);
    const queue = new QueueModelPage(app.page);
    // 1 MiB segments, from the Settings screen.
    await shell.go('Settings and activity');
    await app.page.getByLabel(/^Segment size/).fill('1');
    await app.page.getByRole('button', { name: 'Save' }).click();
    await app.page
      .getByRole('status')
      .filter({ hasText: /^Saved/ })
      .waitFor();
    await app.page.screenshot({ path: join(artifacts, 'settings-relay.png'), fullPage: true });
    const f = await makeFile(join(scratch, `${ReferenceImages.uniqueName('e2e-relay')}.raw`), 12 * MiB);
    const name =
      f.path
        .split('/')
        .at(-1)
        ?.replace(/\.raw$/, '') ?? '';
    await app.registerFiles([f.path]);
    await shell.go('New upload');
    await upload.addFiles([f.path]);
    await upload.fileName(f.path).waitFor();
    await upload.cloud.selectOption('ref-demo');
    if (await upload.region('RegionTwo').isChecked()) await upload.region('RegionTwo').uncheck();
    await upload.region('RegionOne').check();
    const method = app.page.getByLabel('Method', { exact: true });
    await method.selectOption('relay');
    await app.page.getByLabel('Bandwidth limit per image (MB/s)').fill('2');
    await app.page.screenshot({ path: join(artifacts, 'new-upload-relay.png'), fullPage: true });
    await upload.submit.click();
    await queue.table.waitFor();
    await queue.state(name).filter({ hasText: 'Uploading' }).waitFor({ timeout: 60_000 });
    // Pause once a few segments are in the store, then resume.
    for (let i = 0; i < 200 && Number((await queue.progress(name).getAttribute('aria-valuenow')) ?? 0) < 25; i++)
      await app.page.waitForTimeout(100);
    await queue.action('Pause', name).click();
    await queue.state(name).filter({ hasText: 'Paused' }).waitFor({ timeout: 30_000 });
    await queue.action('Resume', name).click();
    await queue.state(name).filter({ hasText: 'Done' }).waitFor({ timeout: 120_000 });
    await queue.row(name).getByRole('button', { name, exact: true }).click();
    const details = app.page.getByRole('complementary');
    await details.getByText(/resumed at \d/).waitFor();
    await app.page.screenshot({ path: join(artifacts, 'queue-relay-resumed.png'), fullPage: true });
    const job = app.runtime.scheduler.repo.listJobs().find((j) => j.name === name);
    const [t] = app.runtime.scheduler.repo.targetsOf(job?.id ?? '');
    expect(t).toMatchObject({ method: 'relay', state: 'done' });
    images.track('RegionOne', t?.remoteImageId ?? '');
    const img = await (await app.runtime.engine.glance('ref-demo', 'RegionOne')).getImage(t?.remoteImageId ?? '');
    expect(img).toMatchObject({ status: 'active', os_hash_value: f.sha512 });
  });

  // Fails when the probe's answer is not kept on the report (the cell stays "not probed yet"), when
  // New upload does not count the data of a raw file written out in full (no "1.00 MiB of data"), when
  // auto does not shrink where the region converts (the wire would carry the whole file: the
  // details would not say "sent as qcow2"), or when the checkbox is not sent (RegionOne's image raw).
  it('probes what RegionTwo does with an import on the Clouds screen, then shrinks a sparse raw there; the checkbox sends qcow2 to RegionOne', async () => {
    const shell = new AppModel(app.page);
    const clouds = new CloudsModel(app.page);
    const upload = new UploadModelPage(app.page);
    const queue = new QueueModelPage(app.page);
    await shell.go('Clouds');
    await app.page.getByRole('button', { name: 'Test connection to ref-demo' }).click();
    const report = clouds.report('ref-demo');
    const r2 = report.getByRole('row').filter({ hasText: 'RegionTwo' });
    // The doctor of the first test probed both regions, and what it found was kept.
    const imports = (row: typeof r2) => row.getByRole('cell').nth(3);
    await imports(r2)
      .getByText(/converted to raw \(probed /)
      .waitFor();
    const r1 = report.getByRole('row').filter({ hasText: 'RegionOne' });
    await imports(r1)
      .getByText(/kept as sent \(probed /)
      .waitFor();
    // Probed again on demand: the date moves on.
    const probedAt = async (): Promise<string | undefined> =>
      /converted to raw \(probed ([^)]*)\)/.exec((await imports(r2).textContent()) ?? '')?.[1];
    const before = await probedAt();
    await app.page.waitForTimeout(1100); // the time shown has seconds
    await report.getByRole('button', { name: 'Probe what an import does in RegionTwo' }).click();
    for (let i = 0; i < 600 && (await probedAt()) === before; i++) await app.page.waitForTimeout(100);
    expect(await probedAt()).toBeDefined();
    expect(await probedAt()).not.toBe(before);
    await app.page.screenshot({ path: join(artifacts, 'clouds-conversion.png'), fullPage: true });

    const tag = ReferenceImages.uniqueName('e2e-shrink');
    const sparse = join(scratch, `${tag}.raw`);
    // 1 MiB of data in a 64 MiB disk written out in full (zeros as data, as a copy made with scp):
    // the file system says 64 MiB, the data count finds 1 MiB.
    writeFileSync(sparse, Buffer.concat([Buffer.alloc(MiB, 7), Buffer.alloc(63 * MiB)]));
    const sums = await hashFile(sparse);
    const send = async (region: 'RegionOne' | 'RegionTwo', qcow2: boolean) => {
      await app.registerFiles([sparse]);
      await shell.go('New upload');
      await upload.addFiles([sparse]);
      await upload.fileName(sparse).waitFor();
      await app.page.getByText('1.00 MiB of data').waitFor(); // counted after the list is shown
      await upload.cloud.selectOption('ref-demo');
      const other = region === 'RegionOne' ? 'RegionTwo' : 'RegionOne';
      if (await upload.region(other).isChecked()) await upload.region(other).uncheck();
      await upload.region(region).check();
      await app.page.getByLabel('Method', { exact: true }).selectOption('auto');
      const box = app.page.getByLabel(/Send raw files as a compressed qcow2/);
      if ((await box.isChecked()) !== qcow2) await box.click();
      await app.page.getByLabel('Bandwidth limit per image (MB/s)').fill('');
      if (qcow2) await app.page.screenshot({ path: join(artifacts, 'new-upload-shrink.png'), fullPage: true });
      await upload.submit.click();
      await queue.table.waitFor();
      const job = () =>
        app.runtime.scheduler.repo
          .listJobs()
          .filter((j) => j.name === tag)
          .at(-1);
      for (let i = 0; i < 600 && app.runtime.scheduler.repo.targetsOf(job()?.id ?? '')[0]?.state !== 'done'; i++)
        await app.page.waitForTimeout(100);
      const [t] = app.runtime.scheduler.repo.targetsOf(job()?.id ?? '');
      expect(t).toMatchObject({ state: 'done', sendFormat: 'qcow2' });
      images.track(region, t?.remoteImageId ?? '');
      await queue.row(tag).last().getByRole('button', { name: tag, exact: true }).click();
      return (await app.runtime.engine.glance('ref-demo', region)).getImage(t?.remoteImageId ?? '');
    };
    const converted = await send('RegionTwo', false);
    expect(converted).toMatchObject({ disk_format: 'raw', size: 64 * MiB, os_hash_value: sums.sha512 });
    const details = app.page.getByRole('complementary');
    await details.getByText(/sent as qcow2 \(.*\), stored as raw: .* not sent/).waitFor();
    await app.page.screenshot({ path: join(artifacts, 'queue-shrunk.png'), fullPage: true });
    const kept = await send('RegionOne', true);
    expect(kept).toMatchObject({ disk_format: 'qcow2', virtual_size: 64 * MiB });
    await details.getByText(/sent as qcow2 \(.*\), stored as qcow2: .* not sent/).waitFor();
    await app.page.screenshot({ path: join(artifacts, 'queue-shrunk-qcow2.png'), fullPage: true });
  });

  it('works from the keyboard and follows the OS dark setting', async () => {
    const shell = new AppModel(app.page);
    const queue = new QueueModelPage(app.page);
    await shell.go('Queue');
    await queue.table.waitFor();
    // Rows are focusable; arrows move between them, Enter opens the details.
    await app.page.locator('[data-row-index="0"]').focus();
    await app.page.keyboard.press('ArrowDown');
    const focused = await app.page.evaluate(() => document.activeElement?.getAttribute('data-row-index'));
    expect(focused).toBe('1');
    await app.page.keyboard.press('Enter');
    await app.page.getByRole('complementary').getByRole('heading', { level: 3 }).waitFor();
    await app.page.getByRole('button', { name: 'Close details' }).press('Enter');
    expect(await app.page.getByRole('complementary').count()).toBe(0);
    // The navigation is reachable with Tab and Enter.
    await app.page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: 'Queue' }).focus();
    await app.page.keyboard.press('Tab');
    await app.page.keyboard.press('Enter');
    await app.page.getByRole('heading', { name: 'Regions', level: 2 }).waitFor();
    // Light and dark follow the OS.
    const background = (): Promise<string> =>
      app.page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor);
    await app.page.emulateMedia({ colorScheme: 'light' });
    const light = await background();
    await app.page.emulateMedia({ colorScheme: 'dark' });
    const dark = await background();
    expect(light).toBe('rgb(247, 248, 250)');
    expect(dark).toBe('rgb(21, 24, 30)');
    await app.page.screenshot({ path: join(artifacts, 'regions-dark.png'), fullPage: true });
    await app.page.emulateMedia({ colorScheme: 'light' });
  });

  it('draws the other screens (screenshots for review)', async () => {
    const shell = new AppModel(app.page);
    await shell.go('Staging and sync');
    await app.page.getByRole('table', { name: 'Staged images' }).waitFor();
    await app.page.screenshot({ path: join(artifacts, 'staging.png'), fullPage: true });
    await shell.go('Settings and activity');
    await app.page.getByRole('table', { name: 'Activity' }).getByRole('row').nth(1).waitFor();
    // Settings: validated as typed, saved, applied.
    const prefs = app.page.getByRole('form', { name: 'Transfers' });
    await prefs.getByLabel('Uploads at once').fill('0');
    await prefs.getByText('From 1 to 16 at once.').waitFor();
    expect(await prefs.getByRole('button', { name: 'Save' }).isDisabled()).toBe(true);
    await prefs.getByLabel('Uploads at once').fill('3');
    await prefs.getByLabel('Bandwidth limit for the whole queue (MB/s)').fill('40');
    await prefs.getByRole('button', { name: 'Save' }).click();
    await prefs.getByRole('status').filter({ hasText: 'Saved. The queue uses them now' }).waitFor();
    const db = new Settings(app.runtime.db);
    expect([db.get('concurrency'), db.get('bwlimit')]).toEqual([3, 40_000_000]);
    await app.page.screenshot({ path: join(artifacts, 'settings-activity.png'), fullPage: true });
  });
});
