/** Electron entry: the composition root of the main process. Thin on purpose; logic lives in core. */
import { join } from 'node:path';
import { app, BrowserWindow, ipcMain, session } from 'electron';
import { createApiHandlers } from './core/api/api-service';
import { Engine } from './core/engine';
import { ownMainFrame, registerApi } from './electron/ipc-main';
import { registerAppScheme, serveApp } from './electron/app-protocol';
import { createMainWindow, rendererLocation } from './electron/main-window';
import { lockDownSession } from './electron/security';

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  const engine = new Engine();
  const location = rendererLocation(process.env.ELECTRON_RENDERER_URL);
  registerAppScheme(); // before ready
  const preload = join(import.meta.dirname, '..', 'preload', 'index.cjs');

  app.on('second-instance', () => {
    const win = BrowserWindow.getAllWindows()[0];
    if (win) {
      if (win.isMinimized()) win.restore();
      win.focus();
    }
  });

  void app.whenReady().then(() => {
    lockDownSession(session.defaultSession);
    serveApp(join(import.meta.dirname, '..', 'renderer'));
    registerApi(ipcMain, createApiHandlers(engine), ownMainFrame(location.isOwnUrl));
    createMainWindow(preload, location);
    app.on('activate', () => {
      if (BrowserWindow.getAllWindows().length === 0) createMainWindow(preload, location);
    });
  });

  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });
  app.on('will-quit', () => {
    void engine.close();
  });
}
