import { describe, expect, it, vi } from 'vitest';

const h = vi.hoisted(() => ({
  progress: [] as number[],
  tooltips: [] as string[],
  notes: [] as unknown[],
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
    constructor(private readonly o: unknown) {}
    show(): void {
      h.notes.push(this.o);
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
