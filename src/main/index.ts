/** Electron entry: the composition root of the main process. Thin on purpose; logic lives in core. */
import { join } from 'node:path';
import { app, BrowserWindow, clipboard, dialog, ipcMain, Notification, safeStorage, session } from 'electron';
import { EventGate } from './core/app/api/event-gate';
import { toErrorInfo } from './core/io/errors';
import { RuntimeClient } from './core/app/host/runtime-client';
import { startupFailureDialog } from './core/app/host/startup-failure';
import { wireEvents } from './electron/events-main';
import { createDesktop, type Desktop } from './electron/desktop';
import { registerAppScheme, serveApp } from './electron/app-protocol';
import { ownMainFrame, registerApi } from './electron/ipc-main';
import { keychainCodec } from './electron/keychain-codec';
import { startUtilityServer } from './electron/local-server-utility';
import { createMainWindow, rendererLocation } from './electron/main-window';
import { lockDownSession } from './electron/security';

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  const location = rendererLocation(process.env.ELECTRON_RENDERER_URL);
  registerAppScheme(); // before ready
  const out = join(import.meta.dirname, '..');
  const preload = join(out, 'preload', 'index.cjs');
  let runtime: RuntimeClient | undefined;
  const gate = new EventGate(); // events wait here until the page says it is ready
  let desktop: Desktop | undefined;
  let stopping = false;
  let quitConfirmed = false;

  app.on('second-instance', () => {
    const win = BrowserWindow.getAllWindows()[0];
    if (win) {
      if (win.isMinimized()) win.restore();
      win.focus();
    }
  });

  void app.whenReady().then(async () => {
    lockDownSession(session.defaultSession);
    serveApp(join(out, 'renderer'));
    // The engine (queue database, transfers, API) runs in a worker thread: this thread only
    // draws the desktop and passes messages, so it never waits on a commit or the engine's GC.
    const client = RuntimeClient.spawn({
      workerFile: join(import.meta.dirname, 'runtime-worker.js'),
      env: process.env,
      codec: (allowPlaintext) => keychainCodec(safeStorage, allowPlaintext),
      startLocalServer: (dataDir, port) => startUtilityServer(join(out, 'cli', 'index.js'), dataDir, port),
      onEvent: (e) => {
        gate.push(e);
        if (e.kind === 'jobUpdated') desktop?.jobUpdated(e.update);
        if (e.kind === 'queueDone') desktop?.queueDone(e.summary);
      },
    });
    runtime = client;
    registerApi(ipcMain, (method, args) => client.call(method, args), ownMainFrame(location.isOwnUrl));
    const open = (): void => {
      const win = createMainWindow(preload, location);
      win.on('closed', wireEvents(ipcMain, win, gate, location.isOwnUrl));
    };
    open();
    desktop = createDesktop(
      join(out, '..', 'resources', 'icon.png'),
      () => {
        const win = BrowserWindow.getAllWindows()[0];
        if (win === undefined) open();
        else win.show();
      },
      // "Retry" on a failed job's notification: the same control the window's button sends.
      (targetIds) => {
        for (const targetId of targetIds)
          void client.call('controlTarget', [{ targetId, action: 'retry' }]).then((answer) => {
            // Refused (already retried from the window, say): tell rather than drop it.
            if ('error' in answer && Notification.isSupported())
              new Notification({ title: 'Retry refused', body: answer.error.message }).show();
          });
      },
    );
    app.on('activate', () => {
      if (BrowserWindow.getAllWindows().length === 0) open();
    });
    try {
      await runtime.start();
    } catch (e) {
      // The self-check: an engine that cannot start (SQLite's native module for this ABI, say)
      // is said in a dialog with its code and the command that fixes it, then the app quits.
      const d = startupFailureDialog(toErrorInfo(e));
      const { response } = await dialog.showMessageBox({
        type: 'error',
        title: d.title,
        message: d.message,
        detail: d.detail,
        buttons: d.buttons,
        defaultId: 0,
        noLink: true,
      });
      if (d.command !== undefined && response === 0) await clipboard.writeText(d.command).catch(() => undefined);
      stopping = true;
      await runtime.stop().catch(() => undefined);
      app.exit(1);
    }
  });

  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });
  app.on('before-quit', (event) => {
    // Unfinished uploads: ask (they resume at the next start either way). The count comes from
    // the engine's thread, so the quit waits for it and then starts again if the user agrees.
    if (quitConfirmed || stopping || desktop === undefined || runtime === undefined) return;
    event.preventDefault();
    const ask = desktop;
    void runtime.openTargets().then(
      (open) => {
        if (!ask.confirmQuit(open)) return;
        quitConfirmed = true;
        app.quit();
      },
      () => {
        quitConfirmed = true; // no engine to ask: nothing to lose by quitting
        app.quit();
      },
    );
  });
  app.on('will-quit', (event) => {
    desktop?.dispose();
    if (runtime === undefined || stopping) return;
    // Transfers stop where they are (the next start resumes them), the local server stops.
    event.preventDefault();
    stopping = true;
    void runtime.stop().finally(() => app.quit());
  });
}
