/** Electron entry: the composition root of the main process. Thin on purpose; logic lives in core. */
import { join } from 'node:path';
import { app, BrowserWindow, ipcMain, safeStorage, session } from 'electron';
import { createApiHandlers } from './core/api/api-service';
import { EventGate } from './core/api/event-gate';
import { AppRuntime } from './core/app-runtime';
import { wireEvents } from './electron/events-main';
import { createDesktop, type Desktop } from './electron/desktop';
import { OPEN_STATES } from './core/queue/target-state';
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
  let runtime: AppRuntime | undefined;
  const gate = new EventGate(); // events wait here until the page says it is ready
  let desktop: Desktop | undefined;
  let stopping = false;

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
    runtime = new AppRuntime({
      codec: (allowPlaintext) => keychainCodec(safeStorage, allowPlaintext),
      startLocalServer: (dataDir) => startUtilityServer(join(out, 'cli', 'index.js'), dataDir),
      onJobUpdated: (update) => {
        gate.push({ kind: 'jobUpdated', update });
        desktop?.jobUpdated(update);
      },
      onNotice: (message) => gate.push({ kind: 'notice', message }),
    });
    registerApi(ipcMain, createApiHandlers(runtime.engine, runtime), ownMainFrame(location.isOwnUrl));
    const open = (): void => {
      const win = createMainWindow(preload, location);
      win.on('closed', wireEvents(ipcMain, win, gate, location.isOwnUrl));
    };
    open();
    desktop = createDesktop(join(out, '..', 'resources', 'icon.png'), () => {
      const win = BrowserWindow.getAllWindows()[0];
      if (win === undefined) open();
      else win.show();
    });
    app.on('activate', () => {
      if (BrowserWindow.getAllWindows().length === 0) open();
    });
    await runtime.start();
  });

  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });
  app.on('before-quit', (event) => {
    // Unfinished uploads: ask (they resume at the next start either way).
    const open = runtime?.scheduler.repo.targetsIn([...OPEN_STATES]).length ?? 0;
    if (!stopping && desktop !== undefined && !desktop.confirmQuit(open)) event.preventDefault();
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
