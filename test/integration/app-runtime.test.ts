/**
 * What the desktop app runs (AppRuntime), in Node: the queue of an isolated data folder, the
 * local server started through the shell's hook, the scheduler holding the queue, a staging job
 * run to the end, and a clean stop that leaves no process and frees the queue for the CLI.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { JobUpdate, StagedImage } from '../../src/shared/dto';
import { createApiHandlers, dispatch } from '../../src/main/core/app/api/api-service';
import { AppRuntime } from '../../src/main/core/app/app-runtime';
import { PassphraseCodec } from '../../src/main/core/clouds/secret-codec';
import { alive, findRunningServer, startServerProcess } from '../../src/main/core/local-glance/server-process';
import { CLI } from '../support/cli-process';
import { makeFile } from '../support/files';
import { fileJobSource } from '../support/queue-fixture';

const cloud = inject('referenceCloud');
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'gu-runtime-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('AppRuntime', () => {
  it('starts the local server and the queue, stages a file through them, and stops leaving nothing running', async () => {
    const env = { GLANCE_UPLOADER_HOME: join(dir, 'home') };
    const notices: string[] = [];
    const runtime = AppRuntime.open({
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
      // Staging as the app does it: window.api.enqueueUploads to the cloud "local", through dispatch.
      const file = await makeFile(join(dir, 'a.raw'), 3 * 1024 * 1024 + 5);
      const handlers = createApiHandlers(runtime.engine, runtime);
      const queued = (await dispatch(handlers, 'enqueueUploads', [
        { images: [{ path: file.path }], cloud: 'local', regions: ['local'], tags: ['from-the-app'] },
      ])) as { result: { jobIds: string[] } };
      expect(queued.result.jobIds).toHaveLength(1);
      await runtime.scheduler.idle();
      const [t] = runtime.scheduler.repo.targetsOf(queued.result.jobIds[0] ?? '');
      expect(t?.state).toBe('done');
      const img = await (await runtime.engine.glance('local', 'local')).getImage(t?.remoteImageId ?? '');
      expect(img).toMatchObject({
        name: 'a',
        status: 'active',
        os_hash_value: file.sha512,
        disk_format: 'raw',
        tags: ['from-the-app'],
      });
      // A dropped folder: the disk images in it and its subfolders, nothing else.
      const folder = join(dir, 'dropped');
      mkdirSync(join(folder, 'sub'), { recursive: true });
      await makeFile(join(folder, 'one.raw'), 1024 * 1024);
      await makeFile(join(folder, 'sub', 'two.img'), 1024 * 1024 + 3);
      writeFileSync(join(folder, 'README.txt'), 'not an image');
      writeFileSync(join(folder, '.hidden.raw'), 'not shown');
      const dropped = (await dispatch(handlers, 'enqueueUploads', [
        { images: [{ path: folder }], cloud: 'local', regions: ['local'] },
      ])) as { result: { jobIds: string[] } };
      expect(dropped.result.jobIds.map((id) => runtime.scheduler.repo.getJob(id).name)).toEqual(['one', 'two']);
      await runtime.scheduler.idle();
      for (const id of dropped.result.jobIds) expect(runtime.scheduler.repo.targetsOf(id)[0]?.state).toBe('done');
      mkdirSync(join(dir, 'empty'));
      expect(
        await dispatch(handlers, 'enqueueUploads', [
          { images: [{ path: join(dir, 'empty') }], cloud: 'local', regions: ['local'] },
        ]),
      ).toMatchObject({ error: { code: 'source.not_found' } });
      // A relative path, or a file that is not a safe disk image, queues nothing.
      expect(
        await dispatch(handlers, 'enqueueUploads', [
          { images: [{ path: 'a.raw' }], cloud: 'local', regions: ['local'] },
        ]),
      ).toMatchObject({ error: { code: 'ipc.invalid_argument' } });
      const gz = join(dir, 'a.raw.gz');
      writeFileSync(gz, Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0]));
      const before = runtime.scheduler.repo.listJobs().length;
      expect(
        await dispatch(handlers, 'enqueueUploads', [
          { images: [{ path: file.path }, { path: gz }], cloud: 'local', regions: ['local'] },
        ]),
      ).toMatchObject({ error: { code: 'inspect.compressed' } });
      expect(runtime.scheduler.repo.listJobs()).toHaveLength(before);
      expect(notices).toEqual([]); // auto-sync is off: nothing to say
    } finally {
      await runtime.stop();
    }
    expect(serverPid !== undefined && alive(serverPid)).toBe(false);
    expect(await findRunningServer(join(dir, 'home', 'staging-server'))).toBeUndefined();
    // The queue is free again: another engine (a `queue run`) can take it.
    const again = AppRuntime.open({ env });
    try {
      expect(await again.start()).toEqual({ acquired: true });
    } finally {
      await again.stop();
    }
  });

  it('answers the queue, settings and cloud calls through dispatch, arguments validated', async () => {
    const env = { GLANCE_UPLOADER_HOME: join(dir, 'home-api'), OS_CLIENT_CONFIG_FILE: join(dir, 'none.yaml') };
    writeFileSync(env.OS_CLIENT_CONFIG_FILE, 'clouds: {}\n');
    const runtime = AppRuntime.open({ env, codec: () => new PassphraseCodec('the test keychain stand-in') });
    const handlers = createApiHandlers(runtime.engine, runtime);
    try {
      expect(await runtime.start()).toEqual({ acquired: true });
      // A job to a cloud that does not exist: it fails at once, and shows in listJobs.
      const file = await makeFile(join(dir, 'b.raw'), 1024 * 1024);
      const { job, targets } = runtime.scheduler.repo.createJob({
        source: await fileJobSource(file.path),
        name: 'nowhere',
        metadata: { name: 'nowhere', disk_format: 'raw', container_format: 'bare' },
        targets: [{ cloud: 'nowhere', region: 'R1' }],
      });
      await runtime.scheduler.idle();
      const listed = (await dispatch(handlers, 'listJobs', [])) as { result: JobUpdate[] };
      expect(listed.result).toEqual([
        expect.objectContaining({
          jobId: job.id,
          name: 'nowhere',
          targets: [expect.objectContaining({ state: 'failed' })],
        }),
      ]);
      // Retry through the API: back in the queue (and failing again, the cloud still unknown).
      expect(await dispatch(handlers, 'controlTarget', [{ targetId: targets[0]?.id, action: 'retry' }])).toEqual({
        result: null,
      });
      expect(await dispatch(handlers, 'controlTarget', [{ targetId: 'x', action: 'retry' }])).toMatchObject({
        error: { code: 'ipc.invalid_argument' },
      });
      expect(await dispatch(handlers, 'controlTarget', [{ targetId: 'abcdef', action: 'explode' }])).toMatchObject({
        error: { code: 'ipc.invalid_argument' },
      });
      // Settings.
      expect(await dispatch(handlers, 'getSettings', [])).toEqual({
        result: {
          autoSync: null,
          allowPlaintextSecrets: false,
          concurrency: 2,
          bwlimit: 0,
          bwSchedule: '',
          whenDone: { action: 'notify' },
          tokenRenewMarginS: 120,
          retryBudgetHours: 24,
          duplicateCheck: 'upload',
          localServerPort: 0,
          relaySegmentMiB: 64,
          relayParallel: 1,
          relayAutoGiB: 2,
          relayAccountKey: false,
          shrink: 'auto',
          shrinkCacheGiB: 0,
          dataFolder: join(dir, 'home-api'),
          localServer: null,
        },
      });
      await dispatch(handlers, 'setAllowPlaintextSecrets', [{ allow: true }]);
      expect(await dispatch(handlers, 'getSettings', [])).toMatchObject({ result: { allowPlaintextSecrets: true } });
      // A cloud saved from the login form: listed, its password sealed; "local" and non-http URLs refused.
      expect(
        await dispatch(handlers, 'saveCloud', [
          {
            name: 'prod',
            authUrl: 'https://keystone.example/v3',
            username: 'ops',
            password: 's3cret-pass-771',
            projectName: 'p',
          },
        ]),
      ).toEqual({ result: null });
      expect(await dispatch(handlers, 'listClouds', [])).toMatchObject({
        result: [
          { name: 'prod', authUrl: 'https://keystone.example/v3', source: 'saved in the app' },
          { name: 'local', source: 'the local server (not running)' }, // always listed: where staging goes
        ],
      });
      expect(readFileSync(join(dir, 'home-api', 'queue.sqlite3')).toString('latin1')).not.toContain('s3cret-pass-771');
      for (const bad of [
        { name: 'local', authUrl: 'https://k/v3' },
        { name: 'x', authUrl: 'file:///etc/passwd' },
        { name: 'x', authUrl: 'https://k/v3', token: 'gAAAA' },
      ])
        expect(await dispatch(handlers, 'saveCloud', [bad])).toMatchObject({ error: { code: 'ipc.invalid_argument' } });
      await dispatch(handlers, 'forgetCloud', [{ name: 'prod' }]);
      expect(await dispatch(handlers, 'listClouds', [])).toMatchObject({
        result: [{ name: 'local', source: 'the local server (not running)' }],
      });
    } finally {
      await runtime.stop();
    }
  });

  it('stages, lists and syncs staged images through the app calls, and keeps the auto-sync setting', async () => {
    const env = { GLANCE_UPLOADER_HOME: join(dir, 'home-sync'), OS_CLIENT_CONFIG_FILE: cloud.cloudsYamlPath };
    const runtime = AppRuntime.open({
      env,
      startLocalServer: (dataDir) => startServerProcess({ entry: CLI, dataDir, env }),
    });
    const handlers = createApiHandlers(runtime.engine, runtime);
    const name = `app-sync-${Date.now()}`;
    let remoteId: string | null | undefined;
    let copyId: string | null | undefined;
    try {
      await runtime.start();
      const file = await makeFile(join(dir, `${name}.raw`), 2 * 1024 * 1024 + 1);
      await dispatch(handlers, 'enqueueUploads', [
        { images: [{ path: file.path }], cloud: 'local', regions: ['local'] },
      ]);
      await runtime.scheduler.idle();
      const staged = (await dispatch(handlers, 'listStaged', [])) as { result: StagedImage[] };
      expect(staged.result).toEqual([
        expect.objectContaining({ name, status: 'active', sha512: file.sha512, synced: [] }),
      ]);
      const sync = (await dispatch(handlers, 'syncStaged', [{ cloud: 'ref-demo', regions: ['RegionOne'] }])) as {
        result: { jobIds: string[]; skipped: number };
      };
      expect(sync.result).toMatchObject({ skipped: 0 });
      expect(sync.result.jobIds).toHaveLength(1);
      await runtime.scheduler.idle();
      const after = ((await dispatch(handlers, 'listStaged', [])) as { result: StagedImage[] }).result[0];
      expect(after?.synced).toEqual([
        expect.objectContaining({ cloud: 'ref-demo', region: 'RegionOne', state: 'done' }),
      ]);
      remoteId = after?.synced[0]?.imageId;
      const img = await (await runtime.engine.glance('ref-demo', 'RegionOne')).getImage(remoteId ?? '');
      expect(img).toMatchObject({ name, status: 'active', os_hash_value: file.sha512 });
      // Replicated into RegionTwo by push from one cached copy, which goes once the push is verified.
      const rep = (await dispatch(handlers, 'replicateImage', [
        { cloud: 'ref-demo', imageId: remoteId ?? '', from: 'RegionOne', to: ['RegionTwo'], method: 'push' },
      ])) as { result: { jobIds: string[] } };
      expect(rep.result.jobIds).toHaveLength(1);
      await runtime.scheduler.idle();
      const [pushed] = runtime.scheduler.repo.targetsOf(rep.result.jobIds[0] ?? '');
      expect(pushed).toMatchObject({ region: 'RegionTwo', method: 'direct', state: 'done' });
      copyId = pushed?.remoteImageId;
      expect(existsSync(join(runtime.engine.cacheDir, `${remoteId ?? ''}.img`))).toBe(false);
      // Again: nothing new is queued.
      expect(await dispatch(handlers, 'syncStaged', [{ cloud: 'ref-demo', regions: ['RegionOne'] }])).toEqual({
        result: { jobIds: [], skipped: 1 },
      });
      const setting = { cloud: 'ref-demo', regions: ['RegionOne'], stores: [], method: 'auto', removeLocal: false };
      expect(await dispatch(handlers, 'setAutoSync', [setting])).toEqual({ result: null });
      expect(await dispatch(handlers, 'getSettings', [])).toMatchObject({ result: { autoSync: setting } });
      expect(await dispatch(handlers, 'setAutoSync', [{ ...setting, cloud: 'local' }])).toMatchObject({
        error: { code: 'ipc.invalid_argument' },
      });
      await dispatch(handlers, 'setAutoSync', [null]);
      expect(await dispatch(handlers, 'getSettings', [])).toMatchObject({ result: { autoSync: null } });
    } finally {
      if (remoteId)
        await (await runtime.engine.glance('ref-demo', 'RegionOne')).deleteImage(remoteId).catch(() => undefined);
      if (copyId)
        await (await runtime.engine.glance('ref-demo', 'RegionTwo')).deleteImage(copyId).catch(() => undefined);
      await runtime.stop();
    }
  });
});
