/**
 * The transfer window's new screens for every user (Chromium, the page over stubbed answers):
 * the Leftovers screen, the bandwidth grid in Settings, the metadata profile of New upload, the
 * status bar and the notices, each in light and dark at 1280x800 and at 200 % zoom (the same
 * page in a 640x400 CSS-pixel viewport) without a horizontal scrollbar, and driven with the
 * keyboard alone. Screenshots of each are kept in test-results/e2e.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SCS_0102 } from '../../src/shared/profiles/scs-0102';
import type { Leftover } from '../../src/shared/dto';
import { stubHandlers } from '../support/api-stubs';
import { openStubApp, type AppHarness } from './support/app-harness';
import { AppModel } from './support/app-pages';
import { launchChromium } from './support/chromium';

const artifacts = join(import.meta.dirname, '..', '..', 'test-results', 'e2e');
const MiB = 1024 * 1024;
let browser: Browser;
let app: AppHarness;
const deleted: string[][] = [];

const leftovers: Leftover[] = [
  {
    cloud: 'prod',
    region: 'RegionOne',
    id: '0b7e6c1e-1111-4b4b-9a9a-000000000001',
    name: 'half-made by a script',
    status: 'queued',
    ageMs: 26 * 3600_000,
    size: null,
    ours: null,
  },
  {
    cloud: 'prod',
    region: 'RegionTwo',
    id: '0b7e6c1e-2222-4b4b-9a9a-000000000002',
    name: 'ubuntu-24.04',
    status: 'killed',
    ageMs: 3 * 3600_000,
    size: 2 * 1024 * MiB,
    ours: { jobId: 'j1', targetId: 't1', source: '/images/ubuntu-24.04.qcow2', live: false, retryable: true },
  },
];

beforeAll(async () => {
  mkdirSync(artifacts, { recursive: true });
  browser = await launchChromium();
  const now = Date.now();
  app = await openStubApp(
    browser,
    stubHandlers({
      listClouds: async () => [
        {
          name: 'prod',
          authUrl: 'https://keystone.example/v3',
          authType: 'password',
          regions: [],
          source: 'x',
          insecure: false,
        },
      ],
      listLeftovers: async () => ({ leftovers, ignored: [] }),
      deleteLeftovers: async ({ images }) => {
        deleted.push(images.map((i) => `${i.region}/${i.id}`));
        return { deleted: images };
      },
      listProfiles: async () => ({ profiles: [SCS_0102], problems: [], folder: '/data/profiles' }),
      transferStatus: async () => ({
        bandwidth: { rate: 10 * MiB, scheduled: true, until: now + 3 * 3600_000 },
        queue: {
          bucketMs: 5000,
          series: Array.from({ length: 120 }, (_, i) => (i > 60 ? 8 * MiB + (i % 7) * MiB : 0)),
          rate: 9.5 * MiB,
          remaining: 3 * 1024 * MiB,
          etaMs: 330_000,
        },
        jobs: [],
      }),
    }),
  );
});

afterAll(async () => {
  await app?.close();
  await browser?.close();
});

/** No horizontal scrollbar on the page: everything reflows into the width. */
async function fitsWidth(page: Page): Promise<boolean> {
  return page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1);
}

/** The screen in light and dark at 1280x800 and at 200 % (640x400 CSS pixels), checked and kept. */
async function inEveryView(page: Page, name: string, shown?: Locator): Promise<void> {
  for (const scheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme: scheme });
    for (const [label, size] of [
      ['1280x800', { width: 1280, height: 800 }],
      ['zoom200', { width: 640, height: 400 }],
    ] as const) {
      await page.setViewportSize(size);
      await shown?.scrollIntoViewIfNeeded(); // the part under test, in view at each size
      expect(await fitsWidth(page), `${name} ${scheme} ${label} scrolls sideways`).toBe(true);
      await page.screenshot({ path: join(artifacts, `${name}-${scheme}-${label}.png`) });
    }
  }
  await page.emulateMedia({ colorScheme: 'light' });
  await page.setViewportSize({ width: 1280, height: 800 });
}

describe('the transfer window for every user', () => {
  it('Leftovers: chosen, asked and answered with the keyboard alone', async () => {
    const page = app.page;
    await new AppModel(page).go('Leftovers');
    await page.getByLabel('Cloud').selectOption('prod');
    await page.getByLabel('Unchanged for (hours)').focus();
    await page.keyboard.press('Enter'); // submits the form: Look
    const table = page.getByRole('table', { name: 'Half-made images' });
    await table.waitFor();
    await page.getByRole('checkbox', { name: 'Choose half-made by a script in RegionOne' }).focus();
    await page.keyboard.press('Space');
    await page.getByRole('button', { name: 'Delete chosen (1)…' }).focus();
    await page.keyboard.press('Enter');
    const question = page.getByRole('alertdialog');
    await question.waitFor();
    // The question takes the keyboard: its first button has the focus.
    expect(await page.evaluate(() => document.activeElement?.textContent?.trim())).toBe('Delete 1 image');
    await inEveryView(page, 'leftovers', question);
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter'); // Keep them
    await question.waitFor({ state: 'detached' });
    expect(deleted).toEqual([]);
    await page.getByRole('button', { name: 'Delete chosen (1)…' }).focus();
    await page.keyboard.press('Enter');
    await page.keyboard.press('Enter'); // Delete 1 image
    await page.getByRole('status').filter({ hasText: 'Deleted 1 image.' }).waitFor();
    expect(deleted).toEqual([['RegionOne/0b7e6c1e-1111-4b4b-9a9a-000000000001']]);
  });

  it('Settings: the bandwidth grid painted with arrows and Space; the status bar says the limit', async () => {
    const page = app.page;
    await new AppModel(page).go('Settings and activity');
    await page.getByLabel('Paint with').fill('5M');
    await page.getByRole('button', { name: 'Mon 08:00: no limit' }).focus();
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Space'); // Tue 09:00
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('Shift+Space'); // through Tue 10:00
    expect(await page.getByLabel(/^Timetable/).inputValue()).toContain('Tue 00:00,off 09:00,5M 11:00,off');
    await page
      .getByRole('contentinfo', { name: 'Transfer status' })
      .getByText(/Limited by schedule to 10\.5 MB\/s until/)
      .waitFor();
    await inEveryView(page, 'settings-grid', page.getByRole('group', { name: /^Bandwidth schedule/ }));
  });

  it('New upload: the SCS profile’s fields reachable and named; notices dismissed with the keyboard', async () => {
    const page = app.page;
    await new AppModel(page).go('New upload');
    await page.getByLabel('Profile the images must meet').selectOption({ label: SCS_0102.title });
    const group = page.getByRole('group', { name: 'Metadata profile' });
    await group.getByLabel(/^architecture/).focus();
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('profile-os_distro');
    await inEveryView(page, 'upload-profile', group);
  });
});
