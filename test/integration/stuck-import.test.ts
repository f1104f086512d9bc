/**
 * Imports that clouds leave stuck, against the reference Glance: the engine calls an import
 * stuck when it shows no change for the stall limit (4 s here), says what the task and the image
 * show, deletes the image (Glance keeps a stuck import until then), and makes the target again:
 * - web-download whose URL hangs after its first bytes: the task stays `processing`; the retry
 *   fetches it again and ends verified;
 * - glance-direct whose import request never reached Glance (a proxy answers 202 for it): the
 *   image stays `uploading` with no task; planned by `--method auto`, the retry is a direct
 *   upload, and the target says why.
 * Fails when: the stall limit is not applied (waitForImage's stallMs: the import is followed
 * until the 24 h timeout and the test times out), the stuck image is not deleted (two images,
 * or the second create is refused), or the fallback does not switch the method.
 */
import { createReadStream, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Engine } from '../../src/main/core/clouds/engine';
import { openDatabase, type Db } from '../../src/main/core/queue/database';
import { Scheduler } from '../../src/main/core/transfer/scheduler';
import { proxiedEntry, writeCloudsYaml } from '../support/clouds-yaml';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy';
import { makeFile, type TestFile } from '../support/files';
import { fileJobSource, settled } from '../support/queue-fixture';

const cloud = inject('referenceCloud');
const MiB = 1024 * 1024;
const tag = `stuck-${Math.random().toString(36).slice(2, 8)}`;
let dir: string;
let db: Db;
let engine: Engine;
let scheduler: Scheduler;
let server: Server;
let baseUrl: string;
let proxy: FaultProxy;
let webFile: TestFile;
const hanging: ServerResponse[] = [];
let slowRequests = 0;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gu-stuck-'));
  webFile = await makeFile(join(dir, 'slow.raw'), 3 * MiB + 5);
  // The first fetch of /slow.raw sends its headers and 64 KiB, then nothing: Glance's download
  // waits for ever. Later fetches get the whole file.
  server = createServer((req, res) => {
    if (req.url !== '/slow.raw') return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': webFile.size });
    if (slowRequests++ === 0) {
      res.write(Buffer.alloc(64 * 1024, 1));
      hanging.push(res);
      return;
    }
    createReadStream(webFile.path).pipe(res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  // RegionOne through a proxy that swallows the first glance-direct import request.
  proxy = await startFaultProxy(cloud.glance.RegionOne.url, [
    {
      method: 'POST',
      path: /^\/v2\/images\/[0-9a-f-]{36}\/import$/,
      fault: { kind: 'status', status: 202 },
      times: 1,
    },
  ]);
  const clouds = join(dir, 'clouds.yaml');
  writeCloudsYaml(clouds, cloud, [proxiedEntry(cloud, 'lossy', proxy.url)]);
  engine = new Engine({ env: { OS_CLIENT_CONFIG_FILE: clouds }, cwd: dir, home: dir });
  db = openDatabase(join(dir, 'queue.sqlite3'));
  scheduler = new Scheduler({
    db,
    engine,
    actor: 'stuck-test',
    importStallMs: 4000,
    retryPolicy: { budgetMs: 120_000, baseDelayMs: 300, maxDelayMs: 1000 },
  });
  expect(scheduler.start()).toEqual({ acquired: true });
});

afterAll(async () => {
  await scheduler.stop();
  for (const res of hanging) res.destroy();
  const g = await engine.glance('ref-demo', 'RegionOne');
  for (const img of await g.listImages({ tags: [tag] })) await g.deleteImage(img.id).catch(() => undefined);
  await new Promise((r) => server.close(r));
  await proxy.close();
  await engine.close();
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('stuck imports', () => {
  it('a web-download whose URL hangs: diagnosed from its task, the image deleted, fetched again, verified', async () => {
    const { job, targets } = scheduler.repo.createJob({
      source: { kind: 'url', url: `${baseUrl}/slow.raw`, sha512: webFile.sha512 },
      name: `${tag}-web`,
      metadata: { name: `${tag}-web`, disk_format: 'raw', container_format: 'bare', tags: [tag] },
      targets: [{ cloud: 'ref-demo', region: 'RegionOne', method: 'web-download' }],
    });
    await settled(scheduler, job.id);
    const t = scheduler.repo.getTarget(targets[0]?.id ?? '');
    expect(t).toMatchObject({ state: 'done', attempt: 2 });
    const events = scheduler.repo.events({ jobId: job.id });
    const stalled = events.find((e) => e.kind === 'target.error');
    expect(stalled?.detail).toMatchObject({ error: { code: 'glance.import_stalled' } });
    expect((stalled?.detail as { error: { message: string } }).error.message).toMatch(
      /made no progress for \d+ s \(image importing; .*task [0-9a-f-]{36} processing/,
    );
    const deleted = events.filter((e) => e.kind === 'target.image_deleted');
    expect(deleted).toHaveLength(1);
    const g = await engine.glance('ref-demo', 'RegionOne');
    expect(await g.findImage((deleted[0]?.detail as { imageId: string }).imageId)).toBeUndefined();
    expect(await g.getImage(t.remoteImageId ?? '')).toMatchObject({ status: 'active', os_hash_value: webFile.sha512 });
    expect(slowRequests).toBe(2);
  }, 120_000);

  it('a glance-direct import that never started, planned by --method auto: the retry is a direct upload, and says why', async () => {
    const file = await makeFile(join(dir, 'direct.raw'), 2 * MiB + 9);
    const { job, targets } = scheduler.repo.createJob({
      source: await fileJobSource(file.path),
      name: `${tag}-gd`,
      metadata: { name: `${tag}-gd`, disk_format: 'raw', container_format: 'bare', tags: [tag] },
      targets: [
        {
          cloud: 'lossy',
          region: 'RegionOne',
          method: 'glance-direct',
          planReason: 'auto: RegionOne offers glance-direct',
        },
      ],
    });
    await settled(scheduler, job.id);
    const t = scheduler.repo.getTarget(targets[0]?.id ?? '');
    expect(t).toMatchObject({ state: 'done', method: 'direct', attempt: 2 });
    expect(t.planReason).toMatch(
      /glance-direct made no progress in RegionOne .*a direct upload \(PUT\) is offered there/,
    );
    const events = scheduler.repo.events({ jobId: job.id });
    expect(events.find((e) => e.kind === 'target.error')?.detail).toMatchObject({
      error: { code: 'glance.import_stalled' },
    });
    expect(
      (events.find((e) => e.kind === 'target.error')?.detail as { error: { message: string } }).error.message,
    ).toMatch(/image uploading; no import task recorded/);
    expect(events.find((e) => e.kind === 'target.method_changed')?.detail).toMatchObject({
      from: 'glance-direct',
      to: 'direct',
    });
    expect(proxy.log.filter((e) => e.method === 'POST' && e.path.endsWith('/import'))).toHaveLength(1);
    const images = (await (await engine.glance('ref-demo', 'RegionOne')).listImages({ tags: [tag] })).filter(
      (i) => i.name === `${tag}-gd`,
    );
    expect(images).toEqual([
      expect.objectContaining({ id: t.remoteImageId, status: 'active', os_hash_value: file.sha512 }),
    ]);
  }, 120_000);
});
