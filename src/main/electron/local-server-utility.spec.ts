import { EventEmitter } from 'node:events';
import { PassThrough } from 'node:stream';
import { describe, expect, it, vi } from 'vitest';

/** A stand-in for Electron's UtilityProcess: stdout/stderr streams, exit, kill. */
class FakeUtility extends EventEmitter {
  readonly stdout = new PassThrough();
  readonly stderr = new PassThrough();
  pid: number | undefined = 4242;
  killed = 0;
  kill(): boolean {
    this.killed++;
    setImmediate(() => this.emit('exit', 0));
    return true;
  }
}

const { forks } = vi.hoisted(() => ({
  forks: [] as { module: string; args: string[]; options: unknown; child: unknown }[],
}));
vi.mock('electron', () => ({
  utilityProcess: {
    fork: (module: string, args: string[], options: unknown) => {
      const child = new FakeUtility();
      forks.push({ module, args, options, child });
      return child;
    },
  },
}));

import type { EngineError } from '../core/io/errors';
import { startUtilityServer } from './local-server-utility';

describe('the local server in a utility process', () => {
  it('forks serve on a free port and the data folder, is ready on its address line, and stops with the app', async () => {
    const started = startUtilityServer('/app/out/cli/index.js', '/data/staging-server');
    const f = forks.at(-1);
    expect(f).toMatchObject({
      module: '/app/out/cli/index.js',
      args: ['serve', '--port', '0', '--data', '/data/staging-server', '--json'],
      options: { stdio: 'pipe' },
    });
    const child = f?.child as FakeUtility;
    child.stdout.write('{"url":"http://127.0.0.1:40001","authUrl":"http://127.0.0.1:40001/identity/v3"}\n');
    const server = await started;
    expect(server).toMatchObject({
      pid: 4242,
      url: 'http://127.0.0.1:40001',
      authUrl: 'http://127.0.0.1:40001/identity/v3',
    });
    await server.stop();
    expect(child.killed).toBe(1);
    await server.stop(); // once is enough
    expect(child.killed).toBe(1);
  });

  it('forks serve on the port the settings chose', () => {
    void startUtilityServer('/app/out/cli/index.js', '/data/staging-server', 19292).catch(() => undefined);
    expect(forks.at(-1)?.args).toEqual(['serve', '--port', '19292', '--data', '/data/staging-server', '--json']);
  });

  it('says why when the server cannot start', async () => {
    const started = startUtilityServer('/app/out/cli/index.js', '/data/staging-server');
    const child = forks.at(-1)?.child as FakeUtility;
    child.stderr.write('error: Cannot listen on 127.0.0.1:0: EACCES\n');
    child.emit('exit', 1);
    const e = (await started.catch((x: unknown) => x)) as EngineError;
    expect(e.code).toBe('config.invalid');
    expect(e.info.hint).toContain('EACCES');
  });
});
