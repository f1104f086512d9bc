/**
 * The queue screen with 10,000 jobs, in Debian's Chromium (the built renderer, window.api
 * bridged as in the e2e tests): the time to the first row drawn, and the frame times while the
 * table scrolls from top to bottom with 50 jobs sending progress 10 times a second. The same run
 * with 100 jobs is the reference: the ratios say what 100x more jobs cost. A frame is 16.7 ms.
 * Asserts nothing. BENCH_QUEUE_JOBS changes the big size. Needs `npm run build`.
 */
import type { Browser } from 'playwright-core';
import type { JobUpdate } from '../src/shared/dto';
import { buildBridgeScript } from '../test/e2e/support/bridge-bundle';
import { launchChromium } from '../test/e2e/support/chromium';
import { RENDERER_DIR } from '../test/e2e/support/app-harness';
import { serveStatic } from '../test/e2e/support/static-server';

const BIG = Number(process.env.BENCH_QUEUE_JOBS ?? 10_000);
const SMALL = 100;
const FRAME_MS = 1000 / 60;
const STATES = ['pending', 'uploading', 'done', 'failed', 'paused', 'retrying'] as const;

function jobs(n: number): JobUpdate[] {
  return Array.from({ length: n }, (_, i) => ({
    jobId: `job-${i}`,
    seq: 1,
    name: `image-${String(i).padStart(5, '0')}-ubuntu-24.04-server-cloudimg`,
    size: (1 + (i % 40)) * 256 * 1024 * 1024,
    sha512: null,
    targets: ['RegionOne', 'RegionTwo'].map((region, k) => ({
      id: `t-${i}-${k}`,
      cloud: 'prod',
      region,
      store: '',
      state: STATES[(i + k) % STATES.length] ?? 'pending',
      attempt: 1,
      bytesAccepted: (i * 7919) % (256 * 1024 * 1024),
      remoteImageId: null,
      error: (i + k) % STATES.length === 3 ? { code: 'glance.over_limit', message: 'Over quota.' } : null,
      nextAttemptAt: null,
      method: 'direct',
      verified: false,
    })),
  }));
}

interface Result {
  firstRowMs: number;
  /** From the list's arrival in the page to its first row drawn: the renderer's own cost. */
  drawMs: number;
  frames: number;
  p50: number;
  p95: number;
  max: number;
  overBudget: number;
}

async function measure(browser: Browser, n: number, bridge: string): Promise<Result> {
  const server = await serveStatic(RENDERER_DIR);
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  const list = jobs(n);
  try {
    await page.exposeFunction('__benchBridge', (method: string) =>
      method === 'listJobs' ? { result: list } : { result: [] },
    );
    // The bench's transport (the test bridge over CDP) is not the app's (Electron IPC): the time
    // the list takes to arrive is measured apart from the time the page takes to draw it.
    await page.addInitScript({
      content: `window.__glanceUploaderBridge = async (m, a) => {
        const r = await window.__benchBridge(m, a);
        if (m === 'listJobs') window.__listArrivedAt = performance.now();
        return r;
      };`,
    });
    // tsx (esbuild, keepNames) wraps the functions evaluated below in __name(): define it in the page.
    await page.addInitScript({ content: 'window.__name = (f) => f;' });
    await page.addInitScript({ content: bridge });
    await page.goto(server.url);
    const firstRow = await page.evaluate(
      () =>
        new Promise<[number, number]>((resolve) => {
          const look = (): void => {
            if (document.querySelector('[data-row-index="0"]') !== null)
              resolve([performance.now(), (window as unknown as { __listArrivedAt: number }).__listArrivedAt]);
            else requestAnimationFrame(look);
          };
          look();
        }),
    );
    // Scroll to the bottom in ~3 s while 50 jobs report progress 10 times a second.
    return {
      firstRowMs: firstRow[0],
      drawMs: firstRow[0] - firstRow[1],
      ...(await page.evaluate(async (count) => {
        const deliver = (window as unknown as { __glanceUploaderDeliver?: (e: unknown) => void })
          .__glanceUploaderDeliver;
        const scroller = document.querySelector<HTMLElement>('[data-testid="queue-scroller"]');
        if (scroller === null) throw new Error('no queue scroller');
        let seq = 2;
        const feed = setInterval(() => {
          for (let i = 0; i < Math.min(50, count); i++)
            deliver?.({
              kind: 'jobUpdated',
              update: {
                jobId: `job-${i}`,
                seq: seq,
                name: `image-${i}`,
                size: 1024 * 1024 * 1024,
                sha512: null,
                targets: [
                  {
                    id: `t-${i}-0`,
                    cloud: 'prod',
                    region: 'RegionOne',
                    store: '',
                    state: 'uploading',
                    attempt: 1,
                    bytesAccepted: seq * 10 * 1024 * 1024,
                    remoteImageId: null,
                    error: null,
                    nextAttemptAt: null,
                    method: 'direct',
                    verified: false,
                  },
                ],
              },
            });
          seq++;
        }, 100);
        const deltas: number[] = [];
        const steps = 180;
        const stride = Math.max(1, (scroller.scrollHeight - scroller.clientHeight) / steps);
        await new Promise<void>((resolve) => {
          let last = performance.now();
          let step = 0;
          const frame = (now: number): void => {
            deltas.push(now - last);
            last = now;
            scroller.scrollTop = Math.min(scroller.scrollHeight, scroller.scrollTop + stride);
            if (++step < steps) requestAnimationFrame(frame);
            else resolve();
          };
          requestAnimationFrame(frame);
        });
        clearInterval(feed);
        const drawn = document.querySelectorAll('[data-row-index]').length;
        if (drawn > 60) throw new Error(`${drawn} rows in the DOM: not virtualized`);
        const sorted = deltas.slice(1).sort((a, b) => a - b);
        const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
        return {
          frames: sorted.length,
          p50: at(0.5),
          p95: at(0.95),
          max: sorted.at(-1) ?? 0,
          overBudget: sorted.filter((d) => d > 1000 / 60 + 1).length,
        };
      }, n)),
    };
  } finally {
    await context.close();
    await server.close();
  }
}

async function main(): Promise<void> {
  const browser = await launchChromium();
  try {
    const bridge = await buildBridgeScript();
    await measure(browser, SMALL, bridge); // warm-up: the browser's caches, the JIT
    const small = await measure(browser, SMALL, bridge);
    const big = await measure(browser, BIG, bridge);
    const line = (label: string, r: Result): string =>
      `${label.padEnd(12)} first row ${r.firstRowMs.toFixed(0).padStart(5)} ms (drawing it ${r.drawMs.toFixed(0)} ms)   frames ${r.frames}: p50 ${r.p50.toFixed(1)} ms, p95 ${r.p95.toFixed(1)} ms, max ${r.max.toFixed(1)} ms, ${r.overBudget} over a frame`;
    console.log(
      `\nqueue screen in Chromium, scrolling top to bottom with 50 jobs updating at 10 Hz (a frame: ${FRAME_MS.toFixed(1)} ms):`,
    );
    console.log(line(`${SMALL} jobs`, small));
    console.log(line(`${BIG} jobs`, big));
    console.log(
      `${BIG} vs ${SMALL} jobs: first row ${(big.firstRowMs / small.firstRowMs).toFixed(2)}x (drawing ${(big.drawMs / small.drawMs).toFixed(2)}x), frame p95 ${(big.p95 / small.p95).toFixed(2)}x; ${BIG} jobs p95 ${big.p95 <= FRAME_MS + 1 ? 'within' : 'ABOVE'} a frame`,
    );
  } finally {
    await browser.close();
  }
}

await main();
