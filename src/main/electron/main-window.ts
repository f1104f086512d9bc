import type { BrowserWindow } from 'electron';
import { APP_ORIGIN } from './app-protocol';
import { createSecureWindow, lockDownContents } from './security';

export interface RendererLocation {
  /** What the window loads. */
  url: string;
  /** True for URLs that belong to our renderer (navigation and IPC sender checks). */
  isOwnUrl: (url: string) => boolean;
}

/** The dev server of electron-vite while developing, the built page otherwise. */
export function rendererLocation(devServerUrl: string | undefined): RendererLocation {
  if (devServerUrl !== undefined && devServerUrl !== '') {
    const origin = new URL(devServerUrl).origin;
    return { url: devServerUrl, isOwnUrl: (u) => u.startsWith(`${origin}/`) || u === origin };
  }
  // The built page, from app:// (app-protocol.ts serves `outDir/renderer` there).
  return { url: `${APP_ORIGIN}/index.html`, isOwnUrl: (u) => u.startsWith(`${APP_ORIGIN}/`) };
}

export function createMainWindow(preloadPath: string, location: RendererLocation): BrowserWindow {
  const win = createSecureWindow(preloadPath, {
    width: 1200,
    height: 800,
    minWidth: 800,
    minHeight: 500,
    show: false,
    title: 'Glance Uploader',
  });
  lockDownContents(win.webContents, location.isOwnUrl);
  win.once('ready-to-show', () => win.show());
  void win.loadURL(location.url);
  return win;
}
