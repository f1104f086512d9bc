import { describe, expect, it, vi } from 'vitest';

const h = vi.hoisted(() => ({
  progress: [] as number[],
  tooltips: [] as string[],
  notes: [] as unknown[],
  shown: [] as { handlers: Record<string, () => void> }[],
  answer: 1,
  asked: [] as unknown[],
}));
vi.mock('electron', () => ({
  app: { quit: vi.fn() },
  BrowserWindow: { getAllWindows: () => [{ setProgressBar: (p: number) => h.progress.push(p) }] },
  dialog: {
    showMessageBoxSync: (o: unknown) => {
      h.asked.push(o);
      return h.answer;
    },
  },
  Menu: { buildFromTemplate: (t: unknown) => t },
  nativeImage: { createFromPath: (p: string) => p },
  Notification: class {
    static isSupported = (): boolean => true;
    readonly handlers: Record<string, () => void> = {};
    constructor(private readonly o: unknown) {}
    on(event: string, f: () => void): void {
      this.handlers[event] = f;
    }
    show(): void {
      h.notes.push(this.o);
      h.shown.push(this);
    }
  },
  Tray: class {
    setToolTip(t: string): void {
      h.tooltips.push(t);
    }
    setContextMenu(): void {}
    on(): void {}
    destroy(): void {}
  },
}));

import type { TargetSnapshot } from '../../shared/dto';
import { createDesktop } from './desktop';

const target = (state: TargetSnapshot['state'], bytes: number): TargetSnapshot => ({
  id: 't',
  cloud: 'c',
  region: 'R1',
  store: '',
  state,
  attempt: 1,
  bytesAccepted: bytes,
  remoteImageId: null,
  error: null,
  nextAttemptAt: null,
  method: 'direct',
  verified: false,
});

describe('desktop integration', () => {
  it('draws progress and the tray line from job updates, and notifies when a job ends', () => {
    const d = createDesktop('/icon.png', () => undefined);
    d.jobUpdated({ jobId: 'j', seq: 1, name: 'ubuntu', size: 200, sha512: null, targets: [target('uploading', 50)] });
    expect(h.progress.at(-1)).toBe(0.25);
    expect(h.tooltips.at(-1)).toBe('Glance Uploader: 1 upload running, 25 %');
    d.jobUpdated({ jobId: 'j', seq: 2, name: 'ubuntu', size: 200, sha512: null, targets: [target('done', 200)] });
    expect(h.progress.at(-1)).toBe(-1); // no bar when nothing runs
    expect(h.notes).toEqual([{ title: 'ubuntu is in R1', body: 'Active, with its sha512 verified.' }]);
  });

  it('offers Retry on a failed job and retries its failed targets; says when the queue is done', () => {
    const retried: string[][] = [];
    let shown = 0;
    const d = createDesktop(
      '/icon.png',
      () => shown++,
      (ids) => retried.push(ids),
    );
    const failed = { ...target('failed', 0), id: 't9', error: { code: 'glance.over_limit', message: 'over quota' } };
    d.jobUpdated({ jobId: 'k', seq: 1, name: 'debian', size: 200, sha512: null, targets: [failed] });
    expect(h.notes.at(-1)).toEqual({
      title: 'debian: 1 of 1 failed',
      body: 'R1: over quota',
      actions: [{ type: 'button', text: 'Retry' }],
    });
    h.shown.at(-1)?.handlers.action?.();
    h.shown.at(-1)?.handlers.click?.();
    expect(retried).toEqual([['t9']]);
    expect(shown).toBe(1);
    d.queueDone({ jobs: 2, done: 1, failed: 1, canceled: 0, action: { kind: 'command', exitCode: 0 } });
    expect(h.notes.at(-1)).toEqual({
      title: 'The queue is done: 1 uploaded, 1 failed',
      body: '2 jobs ended. Your command ended with exit code 0.',
    });
  });

  it('asks before quitting with unfinished uploads, and only then', () => {
    const d = createDesktop('/icon.png', () => undefined);
    expect(d.confirmQuit(0)).toBe(true);
    expect(h.asked).toHaveLength(0);
    h.answer = 1; // Keep running
    expect(d.confirmQuit(3)).toBe(false);
    h.answer = 0; // Quit
    expect(d.confirmQuit(3)).toBe(true);
    expect(h.asked[0]).toMatchObject({ message: expect.stringMatching(/^3 uploads are not finished/) });
  });
});
