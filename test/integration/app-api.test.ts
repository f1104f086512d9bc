/**
 * The calls the renderer's screens make beyond the queue basics, through dispatch (the same
 * validation as over IPC), against the reference OpenStack: importing clouds as drafts, testing
 * a connection (projects, regions, what each offers), the image schema for the form, inspecting
 * files before queuing, per-file overrides over the template, removing a job, its attempts log
 * and the activity export.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { ActivityEvent, CloudDraft, ConnectionReport, InspectedFile } from '../../src/shared/dto';
import { createApiHandlers, dispatch, type ApiHandlers } from '../../src/main/core/app/api/api-service';
import { AppRuntime } from '../../src/main/core/app/app-runtime';
import { PassphraseCodec } from '../../src/main/core/clouds/secret-codec';
import { makeQcow2 } from '../support/disk-fixtures';
import { makeFile } from '../support/files';
import { demoEntry, writeCloudsYaml } from '../support/clouds-yaml';
import { ReferenceImages } from '../support/reference-images';

const cloud = inject('referenceCloud');
const images = new ReferenceImages(cloud);
let dir: string;
let runtime: AppRuntime;
let handlers: ApiHandlers;

async function ok<T>(method: string, ...args: unknown[]): Promise<T> {
  const r = (await dispatch(handlers, method, args)) as { result?: T; error?: unknown };
  if (r.error !== undefined) throw new Error(`${method}: ${JSON.stringify(r.error)}`);
  return r.result as T;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gu-app-api-'));
  const clouds = join(dir, 'clouds.yaml');
  writeCloudsYaml(clouds, cloud, [demoEntry(cloud, 'wrong-password', { password: 'not-the-password' })]);
  runtime = AppRuntime.open({
    env: { GLANCE_UPLOADER_HOME: join(dir, 'home'), OS_CLIENT_CONFIG_FILE: clouds },
    codec: () => new PassphraseCodec('the keychain stand-in of this test'),
  });
  handlers = createApiHandlers(runtime.engine, runtime);
  await runtime.start();
});

afterAll(async () => {
  await runtime?.stop();
  await images.deleteAll();
  rmSync(dir, { recursive: true, force: true });
});

describe('the app calls behind the screens', () => {
  it('parses the reference clouds.yaml into drafts that save and sign in', async () => {
    const drafts = await ok<CloudDraft[]>('parseCloudConfig', {
      format: 'clouds.yaml',
      text: readFileSync(cloud.cloudsYamlPath, 'utf8'),
    });
    const demo = drafts.find((d) => d.name === 'ref-demo');
    expect(demo).toMatchObject({ authUrl: cloud.keystoneUrl, username: 'demo', projectName: 'demo' });
    // Saved under another name (clouds.yaml wins over a saved cloud of the same name), it signs in.
    const { name: _n, authType: _t, ...fields } = demo as CloudDraft;
    await ok('saveCloud', { ...fields, name: 'imported-demo' });
    const report = await ok<ConnectionReport>('testConnection', { cloud: 'imported-demo' });
    expect(report.regions.map((r) => r.id).sort()).toEqual(['RegionOne', 'RegionTwo']);
    expect(await dispatch(handlers, 'parseCloudConfig', [{ format: 'openrc', text: 'echo hi' }])).toMatchObject({
      error: { code: 'config.invalid' },
    });
  });

  it('tests a connection: projects, and per region the methods and stores it offers; a wrong password is auth.failed', async () => {
    const report = await ok<ConnectionReport>('testConnection', { cloud: 'ref-demo' });
    expect(report.projects).toContainEqual(expect.objectContaining({ name: 'demo', current: true }));
    const r1 = report.regions.find((r) => r.id === 'RegionOne');
    expect(r1?.methods[0]).toBe('direct');
    expect(r1?.methods).toContain('glance-direct');
    expect(r1?.stores.map((s) => s.id).sort()).toEqual(['cold', 'fast']);
    expect(await dispatch(handlers, 'testConnection', [{ cloud: 'wrong-password' }])).toMatchObject({
      error: { code: 'auth.failed' },
    });
  });

  it('gives the image schema of a region, for the metadata form', async () => {
    const schema = await ok<{ properties: Record<string, { enum?: unknown[] }> }>('imageSchema', {
      cloud: 'ref-demo',
      region: 'RegionOne',
    });
    expect(schema.properties.disk_format?.enum).toContain('qcow2');
    expect(schema.properties.visibility?.enum).toEqual(expect.arrayContaining(['private', 'public']));
  });

  it('inspects files and folders before queuing: format, virtual size, refusals', async () => {
    const folder = join(dir, 'drop');
    mkdirSync(folder);
    makeQcow2(join(folder, 'disk.qcow2'), '64M', 1);
    await makeFile(join(folder, 'plain.raw'), 1024 * 1024);
    writeFileSync(join(folder, 'README.md'), 'not an image');
    const gz = join(dir, 'packed.img');
    writeFileSync(gz, Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0]));
    const liar = join(dir, 'liar.qcow2'); // raw bytes under a qcow2 name
    await makeFile(liar, 1024 * 1024);
    const found = await ok<InspectedFile[]>('inspectFiles', { paths: [folder, gz, liar, join(dir, 'missing.raw')] });
    expect(found.map((f) => [f.name, f.format, f.refused?.code ?? null])).toEqual([
      ['disk', 'qcow2', null],
      ['plain', 'raw', null],
      ['packed', 'gzip', 'inspect.compressed'],
      ['liar', 'raw', 'inspect.format_mismatch'],
      ['missing', 'unknown', 'source.not_found'],
    ]);
    expect(found[0]).toMatchObject({ diskFormat: 'qcow2', virtualSize: 64 * 1024 * 1024, minDiskGiB: 1 });
  });

  it('changes the settings: saved, applied now, and the duplicate check links an identical image', async () => {
    await ok('updateSettings', {
      concurrency: 1,
      bwlimit: 50_000_000,
      tokenRenewMarginS: 300,
      retryBudgetHours: 6,
      duplicateCheck: 'reuse',
    });
    expect(await ok('getSettings')).toMatchObject({
      concurrency: 1,
      bwlimit: 50_000_000,
      tokenRenewMarginS: 300,
      retryBudgetHours: 6,
      duplicateCheck: 'reuse',
      dataFolder: join(dir, 'home'),
    });
    expect(runtime.scheduler.retryBudgetMs).toBe(6 * 3600_000); // applied to the running queue
    expect(await dispatch(handlers, 'updateSettings', [{ retryBudgetHours: 0 }])).toMatchObject({
      error: { code: 'ipc.invalid_argument' },
    });
    expect(await dispatch(handlers, 'updateSettings', [{ concurrency: 0 }])).toMatchObject({
      error: { code: 'ipc.invalid_argument' },
    });
    // The same bytes twice: the second job links the first image instead of sending it again.
    const f = await makeFile(join(dir, 'dup.raw'), 1024 * 1024 + 3);
    const name = ReferenceImages.uniqueName('dup');
    const first = await ok<{ jobIds: string[] }>('enqueueUploads', {
      images: [{ path: f.path, name }],
      cloud: 'ref-demo',
      regions: ['RegionOne'],
    });
    await runtime.scheduler.idle();
    const second = await ok<{ jobIds: string[] }>('enqueueUploads', {
      images: [{ path: f.path, name }],
      cloud: 'ref-demo',
      regions: ['RegionOne'],
    });
    await runtime.scheduler.idle();
    const [a] = runtime.scheduler.repo.targetsOf(first.jobIds[0] ?? '');
    const [b] = runtime.scheduler.repo.targetsOf(second.jobIds[0] ?? '');
    images.track('RegionOne', a?.remoteImageId ?? '');
    expect(b?.state).toBe('done');
    expect(b?.remoteImageId).toBe(a?.remoteImageId);
    expect(runtime.scheduler.repo.outcome(b?.id ?? '').linked).toBe(true);
    await ok('updateSettings', { concurrency: 2, bwlimit: 0, duplicateCheck: 'upload' });
    expect(await dispatch(handlers, 'updateSettings', [{ localServerPort: 80 }])).toMatchObject({
      error: { code: 'ipc.invalid_argument' },
    });
  });

  it('gives the local server port of the settings to the shell when the app starts the server', async () => {
    // Its own data folder: a second runtime on this test's folder would share its queue lease.
    const asked: [string, number][] = [];
    const home = join(dir, 'home-port');
    const next = AppRuntime.open({
      env: { GLANCE_UPLOADER_HOME: home, OS_CLIENT_CONFIG_FILE: join(dir, 'clouds.yaml') },
      startLocalServer: async (dataDir, port) => {
        asked.push([dataDir, port]);
        throw new Error('not started in this test');
      },
    });
    try {
      expect(
        await dispatch(createApiHandlers(next.engine, next), 'updateSettings', [{ localServerPort: 19876 }]),
      ).toEqual({
        result: null,
      });
      await next.start();
    } finally {
      await next.stop();
    }
    expect(asked).toEqual([[join(home, 'staging-server'), 19876]]);
  });

  it('queues with per-file overrides over the template, logs the attempts, removes a finished job, exports the activity', async () => {
    const a = await makeFile(join(dir, 'tpl-a.raw'), 1024 * 1024);
    const b = await makeFile(join(dir, 'tpl-b.raw'), 1024 * 1024 + 1);
    const prefix = ReferenceImages.uniqueName('tpl');
    const { jobIds } = await ok<{ jobIds: string[] }>('enqueueUploads', {
      images: [
        { path: a.path, name: `${prefix}-a` },
        { path: b.path, name: `${prefix}-b`, minRam: 2048, properties: { os_distro: 'debian' } },
      ],
      cloud: 'ref-demo',
      regions: ['RegionOne'],
      minRam: 512,
      properties: { os_distro: 'ubuntu', hw_disk_bus: 'virtio' },
      tags: ['tpl'],
    });
    await runtime.scheduler.idle();
    const glance = await runtime.engine.glance('ref-demo', 'RegionOne');
    const [ta, tb] = jobIds.map((id) => runtime.scheduler.repo.targetsOf(id)[0]);
    for (const t of [ta, tb]) images.track('RegionOne', t?.remoteImageId ?? '');
    expect(await glance.getImage(ta?.remoteImageId ?? '')).toMatchObject({
      min_ram: 512,
      os_distro: 'ubuntu',
      hw_disk_bus: 'virtio',
      tags: ['tpl'],
    });
    expect(await glance.getImage(tb?.remoteImageId ?? '')).toMatchObject({
      min_ram: 2048,
      os_distro: 'debian',
      hw_disk_bus: 'virtio',
    });
    const log = await ok<ActivityEvent[]>('jobEvents', { jobId: jobIds[0] });
    expect(log.map((e) => e.toState)).toEqual(expect.arrayContaining(['uploading', 'verifying', 'done']));
    await ok('removeJob', { jobId: jobIds[0] });
    expect(runtime.scheduler.repo.listJobs().map((j) => j.id)).not.toContain(jobIds[0]);
    const recent = await ok<ActivityEvent[]>('listActivity', { limit: 3 });
    expect(recent).toHaveLength(3);
    expect(recent[0]?.kind).toBe('job.removed');
    expect(recent[0]!.id).toBeGreaterThan(recent[1]!.id);
    const csv = await ok<{ fileName: string; text: string }>('exportActivity', { format: 'csv' });
    expect(csv.fileName).toMatch(/^glance-uploader-activity-\d{8}-\d{6}\.csv$/);
    expect(csv.text.split('\r\n')[0]).toBe(
      'id,time,actor,kind,job_id,target_id,from_state,to_state,cloud,region,image_id,detail',
    );
    expect(csv.text).toContain('job.removed');
  });
});
