import { EventEmitter } from 'node:events';
import { describe, expect, it, vi } from 'vitest';

vi.mock('electron', () => ({}));

import type { BrowserWindow, IpcMain } from 'electron';
import { EventGate } from '../core/app/api/event-gate';
import type { ApiEvent } from '../../shared/ipc/contract';
import { wireEvents } from './events-main';

function fakeWindow(url: string): {
  win: BrowserWindow;
  sent: unknown[][];
  contents: EventEmitter & { mainFrame: { url: string } };
} {
  const contents = Object.assign(new EventEmitter(), {
    mainFrame: { url },
    sent: [] as unknown[][],
    send(...a: unknown[]) {
      sent.push(a);
    },
    isDestroyed: () => false,
  });
  const sent = contents.sent;
  return { win: { webContents: contents } as unknown as BrowserWindow, sent, contents };
}

const notice = (message: string): ApiEvent => ({ kind: 'notice', message });

describe('events to the window', () => {
  it('opens the gate when its own page says ready, delivers on the event channel, and waits again after a reload', () => {
    const ipcMain = new EventEmitter();
    const { win, sent, contents } = fakeWindow('app://glance-uploader/index.html');
    const gate = new EventGate();
    wireEvents(ipcMain as unknown as IpcMain, win, gate, (u) => u.startsWith('app://glance-uploader/'));
    gate.push(notice('before ready'));
    // A subframe, another page's frame, another window: ignored.
    const sub = { url: 'app://glance-uploader/index.html' };
    ipcMain.emit('glance-uploader:ready', { sender: contents, senderFrame: sub });
    ipcMain.emit('glance-uploader:ready', { sender: new EventEmitter(), senderFrame: contents.mainFrame });
    expect(gate.isOpen).toBe(false);
    ipcMain.emit('glance-uploader:ready', { sender: contents, senderFrame: contents.mainFrame });
    expect(sent).toEqual([['glance-uploader:event', notice('before ready')]]);
    gate.push(notice('live'));
    expect(sent.at(-1)).toEqual(['glance-uploader:event', notice('live')]);
    contents.emit('did-start-navigation', { isMainFrame: true, isSameDocument: false });
    expect(gate.isOpen).toBe(false);
    gate.push(notice('during reload'));
    expect(sent).toHaveLength(2);
  });

  it('ignores ready from a page that is not ours', () => {
    const ipcMain = new EventEmitter();
    const { win, contents } = fakeWindow('https://evil.example/');
    const gate = new EventGate();
    wireEvents(ipcMain as unknown as IpcMain, win, gate, (u) => u.startsWith('app://glance-uploader/'));
    ipcMain.emit('glance-uploader:ready', { sender: contents, senderFrame: contents.mainFrame });
    expect(gate.isOpen).toBe(false);
  });
});
