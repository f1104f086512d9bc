import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';

const { handlers, privileged, fetched } = vi.hoisted(() => ({
  handlers: new Map<string, (r: Request) => Promise<Response>>(),
  privileged: [] as unknown[],
  fetched: [] as string[],
}));
vi.mock('electron', () => ({
  protocol: {
    registerSchemesAsPrivileged: (s: unknown[]) => privileged.push(...s),
    handle: (scheme: string, fn: (r: Request) => Promise<Response>) => handlers.set(scheme, fn),
  },
  net: {
    fetch: async (url: string) => {
      fetched.push(url);
      return new Response('<html></html>', { status: 200, headers: { 'content-type': 'text/html' } });
    },
  },
}));

import { APP_ORIGIN, registerAppScheme, resolveAppPath, serveApp } from './app-protocol';
import { CONTENT_SECURITY_POLICY } from './security';

const root = '/opt/app/out/renderer';

describe('app:// protocol', () => {
  it('maps our URLs into the renderer folder, / to index.html', () => {
    expect(resolveAppPath(root, `${APP_ORIGIN}/`)).toBe(join(root, 'index.html'));
    expect(resolveAppPath(root, `${APP_ORIGIN}/assets/index-abc.js`)).toBe(join(root, 'assets', 'index-abc.js'));
    expect(resolveAppPath(root, `${APP_ORIGIN}/a%20b.css`)).toBe(join(root, 'a b.css'));
  });

  it('never leaves the folder: dot segments stay inside it, encoded slashes that climb out are refused', () => {
    // The URL parser folds ../ and %2e%2e/ at the root: they name files inside the folder.
    expect(resolveAppPath(root, `${APP_ORIGIN}/../../etc/passwd`)).toBe(join(root, 'etc', 'passwd'));
    expect(resolveAppPath(root, `${APP_ORIGIN}/%2e%2e/%2e%2e/etc/passwd`)).toBe(join(root, 'etc', 'passwd'));
  });

  it('refuses escapes, other hosts and schemes, NUL bytes and garbage', () => {
    for (const url of [
      `${APP_ORIGIN}/assets/..%2f..%2f..%2fsecret`,
      `${APP_ORIGIN}/..%2f..%2fetc%2fpasswd`,
      `${APP_ORIGIN}/%00.html`,
      `${APP_ORIGIN}/%E0%A4%A`,
      'app://other-host/index.html',
      'file:///opt/app/out/renderer/index.html',
      'not a url',
    ])
      expect(resolveAppPath(root, url), url).toBeUndefined();
  });

  it('is registered as a secure standard scheme, and answers with the CSP, or 404 outside the folder', async () => {
    registerAppScheme();
    expect(privileged).toEqual([
      { scheme: 'app', privileges: { standard: true, secure: true, supportFetchAPI: true } },
    ]);
    serveApp(root);
    const handle = handlers.get('app');
    const ok = await handle?.(new Request(`${APP_ORIGIN}/index.html`));
    expect(ok?.status).toBe(200);
    expect(ok?.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
    expect(fetched).toEqual([`file://${join(root, 'index.html')}`]);
    const bad = await handle?.(new Request(`${APP_ORIGIN}/..%2f..%2fetc%2fpasswd`));
    expect(bad?.status).toBe(404);
    expect(fetched).toHaveLength(1);
  });
});
