import { describe, expect, it, vi } from 'vitest';

const { openExternal, windows } = vi.hoisted(() => ({
  openExternal: vi.fn(async () => undefined),
  windows: [] as unknown[],
}));
vi.mock('electron', () => ({
  shell: { openExternal },
  // Records what each window was made with.
  BrowserWindow: class {
    constructor(readonly options: unknown) {
      windows.push(options);
    }
  },
}));

import type { Session, WebContents } from 'electron';
import {
  CONTENT_SECURITY_POLICY,
  isExternalLinkAllowed,
  lockDownContents,
  lockDownSession,
  createSecureWindow,
} from './security';

describe('secure defaults', () => {
  it('sandboxes and isolates every window, whatever the caller asks', () => {
    createSecureWindow('/p.cjs', { width: 10, title: 't' });
    expect(windows.at(-1)).toMatchObject({
      width: 10,
      title: 't',
      webPreferences: {
        preload: '/p.cjs',
        sandbox: true,
        contextIsolation: true,
        nodeIntegration: false,
        nodeIntegrationInWorker: false,
        nodeIntegrationInSubFrames: false,
        webSecurity: true,
        allowRunningInsecureContent: false,
        webviewTag: false,
        navigateOnDragDrop: false,
        disableBlinkFeatures: 'Auxclick',
      },
    });
  });

  it('has a CSP that allows only our own scripts', () => {
    expect(CONTENT_SECURITY_POLICY).toContain("script-src 'self'");
    expect(CONTENT_SECURITY_POLICY).toContain("object-src 'none'");
    expect(CONTENT_SECURITY_POLICY).not.toMatch(/unsafe-eval/);
  });
});

describe('lockDownContents', () => {
  function fakeContents(): {
    contents: WebContents;
    on: Map<string, (...a: unknown[]) => void>;
    openHandler: () => (d: { url: string }) => unknown;
  } {
    const on = new Map<string, (...a: unknown[]) => void>();
    let handler: ((d: { url: string }) => unknown) | undefined;
    const contents = {
      on: (ev: string, fn: (...a: unknown[]) => void) => on.set(ev, fn),
      setWindowOpenHandler: (fn: (d: { url: string }) => unknown) => (handler = fn),
    } as unknown as WebContents;
    return { contents, on, openHandler: () => handler as (d: { url: string }) => unknown };
  }

  it('blocks navigation away from our page, allows our own', () => {
    const { contents, on } = fakeContents();
    lockDownContents(contents, (u) => u.startsWith('file:///app/'));
    const away = { preventDefault: vi.fn() };
    on.get('will-navigate')?.(away, 'https://evil.example/');
    expect(away.preventDefault).toHaveBeenCalled();
    const home = { preventDefault: vi.fn() };
    on.get('will-navigate')?.(home, 'file:///app/index.html');
    expect(home.preventDefault).not.toHaveBeenCalled();
    const webview = { preventDefault: vi.fn() };
    on.get('will-attach-webview')?.(webview);
    expect(webview.preventDefault).toHaveBeenCalled();
  });

  it('never opens a window; https links go to the browser, others nowhere', () => {
    const { contents, openHandler } = fakeContents();
    lockDownContents(contents, () => false);
    openExternal.mockClear();
    expect(openHandler()({ url: 'https://docs.openstack.org/' })).toEqual({ action: 'deny' });
    expect(openExternal).toHaveBeenCalledWith('https://docs.openstack.org/');
    expect(openHandler()({ url: 'file:///etc/passwd' })).toEqual({ action: 'deny' });
    expect(openHandler()({ url: 'javascript:alert(1)' })).toEqual({ action: 'deny' });
    expect(openExternal).toHaveBeenCalledTimes(1);
    expect(isExternalLinkAllowed('not a url')).toBe(false);
  });
});

describe('lockDownSession', () => {
  it('denies every permission request and check, and sets the CSP header', () => {
    let request: ((c: unknown, p: string, cb: (ok: boolean) => void) => void) | undefined;
    let check: (() => boolean) | undefined;
    let headers: ((d: { responseHeaders?: Record<string, string[]> }, cb: (r: unknown) => void) => void) | undefined;
    const session = {
      setPermissionRequestHandler: (fn: typeof request) => (request = fn),
      setPermissionCheckHandler: (fn: typeof check) => (check = fn),
      webRequest: { onHeadersReceived: (fn: typeof headers) => (headers = fn) },
    } as unknown as Session;
    lockDownSession(session);
    for (const p of ['media', 'geolocation', 'notifications', 'clipboard-read']) {
      const cb = vi.fn();
      request?.({}, p, cb);
      expect(cb).toHaveBeenCalledWith(false);
    }
    expect(check?.()).toBe(false);
    const cb = vi.fn();
    headers?.({ responseHeaders: { 'X-A': ['1'] } }, cb);
    expect(cb).toHaveBeenCalledWith({
      responseHeaders: { 'X-A': ['1'], 'Content-Security-Policy': [CONTENT_SECURITY_POLICY] },
    });
  });
});
