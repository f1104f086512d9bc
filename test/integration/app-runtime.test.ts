/**
 * What the desktop app runs (AppRuntime), in Node: the queue of an isolated data folder, the
 * local server started through the shell's hook, the scheduler holding the queue, a staging job
 * run to the end, and a clean stop that leaves no process and frees the queue for the CLI.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppRuntime } from '../../src/main/core/app-runtime';
import { findRunningServer, startServerProcess } from '../../src/main/core/staging/server-process';
import { identify } from '../../src/main/core/transfer/source-file';
import { CLI } from '../support/cli-process';
import { makeFile } from '../support/files';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'gu-runtime-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('AppRuntime', () => {
  it('starts the local server and the queue, stages a file through them, and stops leaving nothing running', async () => {
    const env = { GLANCE_UPLOADER_HOME: join(dir, 'home') };
    const notices: string[] = [];
    const runtime = new AppRuntime({
      env,
      startLocalServer: (dataDir) => startServerProcess({ entry: CLI, dataDir, env }),
      onNotice: (m) => notices.push(m),
    });
    let serverPid: number | undefined;
    try {
      expect(await runtime.start()).toEqual({ acquired: true });
      const server = await findRunningServer(runtime.engine.localServerDir);
      expect(server).toBeDefined();
      serverPid = server?.pid;
      const file = await makeFile(join(dir, 'a.raw'), 3 * 1024 * 1024 + 5);
      const id = await identify(file.path);
      const { job } = runtime.scheduler.repo.createJob({
        source: { kind: 'file', path: file.path, size: id.size, mtimeMs: id.mtimeMs, ino: id.ino, dev: id.dev },
        name: 'staged-by-the-app',
        metadata: { name: 'staged-by-the-app', disk_format: 'raw', container_format: 'bare' },
        targets: [{ cloud: 'local', region: 'local' }],
      });
      await runtime.scheduler.idle();
      const [t] = runtime.scheduler.repo.targetsOf(job.id);
      expect(t?.state).toBe('done');
      const img = await (await runtime.engine.glance('local', 'local')).getImage(t?.remoteImageId ?? '');
      expect(img).toMatchObject({ status: 'active', os_hash_value: file.sha512 });
      expect(notices).toEqual([]); // auto-sync is off: nothing to say
    } finally {
      await runtime.stop();
    }
    expect(serverPid !== undefined && alive(serverPid)).toBe(false);
    expect(await findRunningServer(join(dir, 'home', 'staging-server'))).toBeUndefined();
    // The queue is free again: another engine (a `queue run`) can take it.
    const again = new AppRuntime({ env });
    try {
      expect(await again.start()).toEqual({ acquired: true });
    } finally {
      await again.stop();
    }
  });
});
