/**
 * The app's engine off the main thread: the built worker (out/main/runtime-worker.js, what the
 * app starts) driven through RuntimeClient as the Electron main process drives it. Calls and
 * their errors cross with their codes, job events stream back, the keychain is asked on the main
 * thread (synchronously, from the worker), the local server is started by the main thread's
 * hook, and a worker that is gone fails calls with a code instead of hanging.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isMainThread } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobUpdate } from '../../src/shared/dto';
import type { ApiEvent } from '../../src/shared/ipc/contract';
import { EngineError } from '../../src/main/core/io/errors';
import { RuntimeClient } from '../../src/main/core/app/host/runtime-client';
import { PassphraseCodec, type SecretCodec } from '../../src/main/core/clouds/secret-codec';
import { alive, findRunningServer, startServerProcess } from '../../src/main/core/local-glance/server-process';
import { CLI } from '../support/cli-process';
import { makeFile } from '../support/files';

const WORKER = join(import.meta.dirname, '..', '..', 'out', 'main', 'runtime-worker.js');
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'gu-worker-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Resolves with the first job update that `done` accepts. */
function waitFor(events: ApiEvent[], done: (u: JobUpdate) => boolean, ms = 60_000): Promise<JobUpdate> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const check = (): void => {
      const hit = events.find(
        (e): e is Extract<ApiEvent, { kind: 'jobUpdated' }> => e.kind === 'jobUpdated' && done(e.update),
      );
      if (hit !== undefined) resolve(hit.update);
      else if (Date.now() - t0 > ms)
        reject(new Error(`no such job update in ${ms} ms: ${JSON.stringify(events.at(-1))}`));
      else setTimeout(check, 50);
    };
    check();
  });
}

describe('the engine worker (RuntimeClient + out/main/runtime-worker.js)', () => {
  it('runs the runtime off the main thread: calls, events, keychain on the main thread, local server, clean stop', async () => {
    expect(existsSync(WORKER)).toBe(true); // npm run build made it
    const home = join(dir, 'home');
    const env = {
      GLANCE_UPLOADER_HOME: home,
      OS_CLIENT_CONFIG_FILE: join(dir, 'none.yaml'),
      PATH: process.env.PATH,
    };
    writeFileSync(env.OS_CLIENT_CONFIG_FILE, 'clouds: {}\n');
    const events: ApiEvent[] = [];
    const keychainThreads: boolean[] = [];
    const stand_in = new PassphraseCodec('the keychain stand-in');
    const codec = (): SecretCodec => {
      keychainThreads.push(isMainThread);
      return stand_in;
    };
    const client = RuntimeClient.spawn({
      workerFile: WORKER,
      env,
      codec,
      startLocalServer: (dataDir) => startServerProcess({ entry: CLI, dataDir, env }),
      onEvent: (e) => events.push(e),
    });
    let serverPid: number | undefined;
    try {
      expect(client.threadId).toBeGreaterThan(0);
      expect(await client.start()).toEqual({ acquired: true });
      const server = await findRunningServer(join(home, 'staging-server'));
      expect(server).toBeDefined();
      serverPid = server?.pid;

      // A call, its validation and its error code all cross the thread boundary.
      expect(await client.call('getSettings', [])).toMatchObject({
        result: { autoSync: null, allowPlaintextSecrets: false, concurrency: 2, dataFolder: home },
      });
      expect(await client.call('controlTarget', [{ targetId: 'x', action: 'retry' }])).toMatchObject({
        error: { code: 'ipc.invalid_argument' },
      });
      expect(await client.call('nope', [])).toMatchObject({ error: { code: 'ipc.unknown_method' } });

      // Saving a cloud seals its password with the main thread's keychain, asked from the worker.
      expect(
        await client.call('saveCloud', [
          { name: 'prod', authUrl: 'https://keystone.example/v3', username: 'ops', password: 'w0rker-s3cret-93' },
        ]),
      ).toEqual({ result: null });
      expect(keychainThreads.length).toBeGreaterThan(0);
      expect(keychainThreads.every((main) => main)).toBe(true);
      expect(await client.call('listClouds', [])).toMatchObject({
        result: [
          { name: 'prod', source: 'saved in the app' },
          { name: 'local', source: 'the local server' },
        ],
      });
      expect(readFileSync(join(home, 'queue.sqlite3')).toString('latin1')).not.toContain('w0rker-s3cret-93');

      // Staging a file: queued by a call, its progress and end streamed back as events.
      const file = await makeFile(join(dir, 'w.raw'), 3 * 1024 * 1024 + 7);
      const queued = (await client.call('enqueueUploads', [
        { images: [{ path: file.path }], cloud: 'local', regions: ['local'] },
      ])) as { result: { jobIds: string[] } };
      const [jobId] = queued.result.jobIds;
      const done = await waitFor(events, (u) => u.jobId === jobId && u.targets.every((t) => t.state === 'done'));
      expect(done.targets[0]?.remoteImageId).toMatch(/^[0-9a-f-]{36}$/);
      const images = (await client.call('listImages', [{ cloud: 'local', region: 'local' }])) as {
        result: { id: string; status: string }[];
      };
      expect(images.result).toContainEqual(
        expect.objectContaining({ id: done.targets[0]?.remoteImageId, status: 'active' }),
      );
      expect(await client.openTargets()).toBe(0);
    } finally {
      await client.stop();
    }
    // The local server the engine asked for went with it; calls now fail with a code, at once.
    expect(serverPid !== undefined && alive(serverPid)).toBe(false);
    expect(await client.call('listJobs', [])).toMatchObject({ error: { code: 'ipc.engine_stopped' } });
    await expect(client.openTargets()).rejects.toBeInstanceOf(EngineError);
  });

  it('passes a keychain refusal through with its code, and saves nothing', async () => {
    const env = { GLANCE_UPLOADER_HOME: join(dir, 'home-2'), OS_CLIENT_CONFIG_FILE: join(dir, 'none.yaml') };
    const events: ApiEvent[] = [];
    const client = RuntimeClient.spawn({
      workerFile: WORKER,
      env,
      codec: () => {
        throw new EngineError('secrets.plaintext_refused', 'No keyring was found.');
      },
      onEvent: (e) => events.push(e),
    });
    try {
      await client.start();
      expect(
        await client.call('saveCloud', [{ name: 'c', authUrl: 'https://k.example/v3', username: 'u', password: 'p' }]),
      ).toMatchObject({ error: { code: 'secrets.plaintext_refused', message: 'No keyring was found.' } });
      const listed = (await client.call('listClouds', [])) as { result: { name: string }[] };
      expect(listed.result.map((c) => c.name)).toEqual(['local']); // nothing saved half-way
    } finally {
      await client.stop();
    }
  });
});
