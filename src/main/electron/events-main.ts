/**
 * Events to the window: the engine's events go through an EventGate, opened when the window's
 * own page (main frame, our origin) says it is ready, closed again when the page reloads or
 * navigates. A ready message from anything else is ignored.
 */
import type { BrowserWindow, IpcMain, IpcMainEvent } from 'electron';
import { EVENT_CHANNEL, READY_CHANNEL } from '../../shared/ipc/contract';
import type { EventGate } from '../core/app/api/event-gate';

export function wireEvents(
  ipcMain: IpcMain,
  win: BrowserWindow,
  gate: EventGate,
  isOwnUrl: (url: string) => boolean,
): () => void {
  const contents = win.webContents;
  const onReady = (event: IpcMainEvent): void => {
    const frame = event.senderFrame;
    if (event.sender !== contents || frame === null || frame !== contents.mainFrame || !isOwnUrl(frame.url)) return;
    gate.open((e) => {
      if (!contents.isDestroyed()) contents.send(EVENT_CHANNEL, e);
    });
  };
  ipcMain.on(READY_CHANNEL, onReady);
  contents.on('did-start-navigation', (details) => {
    if (details.isMainFrame && !details.isSameDocument) gate.close();
  });
  contents.on('destroyed', () => gate.close());
  return () => ipcMain.removeListener(READY_CHANNEL, onReady);
}
