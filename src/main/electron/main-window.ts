import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { BrowserWindow } from 'electron';
import { lockDownContents, secureWebPreferences } from './security';

export interface RendererLocation {
  /** What the window loads. */
  url: string;
  /** True for URLs that belong to our renderer (navigation and IPC sender checks). */
  isOwnUrl: (url: string) => boolean;
}

/** The dev server of electron-vite while developing, the built page otherwise. */
export function rendererLocation(devServerUrl: string | undefined, outDir: string): RendererLocation {
  if (devServerUrl !== undefined && devServerUrl !== '') {
    const origin = new URL(devServerUrl).origin;
    return { url: devServerUrl, isOwnUrl: (u) => u.startsWith(`${origin}/`) || u === origin };
  }
  const index = pathToFileURL(join(outDir, 'renderer', 'index.html')).href;
  return { url: index, isOwnUrl: (u) => u.split('#')[0] === index };
}

export function createMainWindow(preloadPath: string, location: RendererLocation): BrowserWindow {
  const win = new BrowserWindow({
    width: 1200,
    height: 800,
    minWidth: 800,
    minHeight: 500,
    show: false,
    title: 'Glance Uploader',
    webPreferences: secureWebPreferences(preloadPath),
  });
  lockDownContents(win.webContents, location.isOwnUrl);
  win.once('ready-to-show', () => win.show());
  void win.loadURL(location.url);
  return win;
}
