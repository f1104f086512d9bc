/**
 * The embedded server as its own process (as the CLI and the app start it): it announces
 * itself in the data folder, is found again while it runs, stops cleanly on SIGTERM, and a
 * start that cannot listen says why.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findRunningServer, startServerProcess } from '../../src/main/core/local-glance/server-process';
import { CLI } from '../support/cli-process';
import { engineError } from '../support/engine-error';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'gu-server-process-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the local server as a process', () => {
  it('starts, announces itself, is found again, and stops cleanly', async () => {
    const data = join(dir, 'a');
    const p = await startServerProcess({ entry: CLI, dataDir: data });
    try {
      expect((await fetch(`${p.url}/versions`)).status).toBe(200);
      expect(JSON.parse(readFileSync(join(data, 'server.json'), 'utf8'))).toEqual({
        pid: p.pid,
        url: p.url,
        authUrl: p.authUrl,
      });
      expect(await findRunningServer(data)).toEqual({ pid: p.pid, url: p.url, authUrl: p.authUrl });
    } finally {
      await p.stop();
    }
    expect(existsSync(join(data, 'server.json'))).toBe(false);
    expect(await findRunningServer(data)).toBeUndefined();
  });

  it('ignores the announcement of a server that died', async () => {
    const data = join(dir, 'stale');
    const p = await startServerProcess({ entry: CLI, dataDir: data });
    let announced: string;
    try {
      announced = readFileSync(join(data, 'server.json'), 'utf8');
    } finally {
      await p.stop(); // never leave a server behind, even when the test fails
    }
    writeFileSync(join(data, 'server.json'), announced); // as a SIGKILL would leave it
    expect(await findRunningServer(data)).toBeUndefined();
  });

  it('says why when it cannot listen', async () => {
    const busy = createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
    try {
      const port = (busy.address() as AddressInfo).port;
      const e = await engineError(startServerProcess({ entry: CLI, dataDir: join(dir, 'busy'), port }));
      expect(e.code).toBe('config.invalid');
      expect(e.message).toMatch(new RegExp(`Cannot listen on 127.0.0.1:${port}`));
      expect(e.info.hint).toMatch(/Another server uses that port/);
    } finally {
      await new Promise((r) => busy.close(r));
    }
  });
});
