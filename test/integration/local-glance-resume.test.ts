/**
 * The embedded server and our engine: uploads through an ordinary clouds.yaml entry, and the
 * resumable protocol: a pause, a killed engine and a killed server all continue at the byte.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Engine } from '../../src/main/core/clouds/engine';
import { openDatabase } from '../../src/main/core/queue/database';
import type { StagingServer } from '../../src/main/core/local-glance/server';
import { Scheduler } from '../../src/main/core/transfer/scheduler';
import { JobRepository } from '../../src/main/core/queue/job-repository';
import { runCli, startCli } from '../support/cli-process';
import { makeFile } from '../support/files';
import { fileJobSource } from '../support/queue-fixture';
import { LOCAL_ENTRY, serverCalls, startLocalGlance, stopLocalGlance } from '../support/local-glance';

const ref = inject('referenceCloud');
let dir: string;
let server: StagingServer;
let clouds: string;

const { raw, rawHead, createRawImage, token } = serverCalls(() => server);

beforeAll(async () => {
  ({ dir, server, clouds } = await startLocalGlance(ref));
}, 60_000);

afterAll(() => stopLocalGlance({ dir, server }));

describe('embedded server: uploads from our engine, resumed at the byte', () => {
  it('takes uploads from our engine through an ordinary clouds.yaml entry, verified', async () => {
    const home = join(dir, 'engine');
    mkdirSync(home);
    const db = openDatabase(join(home, 'queue.sqlite3'));
    const engine = new Engine({ env: { OS_CLIENT_CONFIG_FILE: clouds }, cwd: home, home });
    const scheduler = new Scheduler({ db, engine, actor: 'test-staging' });
    try {
      const f = await makeFile(join(dir, 'engine.raw'), 5 * 1024 * 1024 + 7);
      const { job } = scheduler.repo.createJob({
        source: await fileJobSource(f.path),
        name: 'engine-to-local',
        metadata: { name: 'engine-to-local', disk_format: 'raw', container_format: 'bare' },
        targets: [{ cloud: LOCAL_ENTRY, region: 'local' }],
      });
      expect(scheduler.start()).toEqual({ acquired: true });
      await scheduler.idle();
      const t = scheduler.repo.targetsOf(job.id)[0];
      expect(t).toMatchObject({ state: 'done', error: null });
      const img = await (await engine.glance(LOCAL_ENTRY, 'local')).getImage(t?.remoteImageId ?? '');
      expect(img).toMatchObject({
        status: 'active',
        size: f.size,
        checksum: f.md5,
        os_hash_value: f.sha512,
        virtual_size: f.size,
      });
    } finally {
      await scheduler.stop();
      await engine.close();
      db.close();
    }
  });

  it('continues a paused upload at the byte it reached, and finishes verified', async () => {
    const home = join(dir, 'engine-pause');
    mkdirSync(home);
    const db = openDatabase(join(home, 'queue.sqlite3'));
    const engine = new Engine({ env: { OS_CLIENT_CONFIG_FILE: clouds }, cwd: home, home });
    const scheduler = new Scheduler({ db, engine, actor: 'test-staging-pause' });
    try {
      const f = await makeFile(join(dir, 'pause.raw'), 12 * 1024 * 1024);
      const { targets } = scheduler.repo.createJob({
        source: await fileJobSource(f.path),
        name: 'pause-local',
        metadata: { name: 'pause-local', disk_format: 'raw', container_format: 'bare' },
        targets: [{ cloud: LOCAL_ENTRY, region: 'local' }],
        bwlimit: 3 * 1024 * 1024,
      });
      const tid = targets[0]?.id ?? '';
      expect(scheduler.start()).toEqual({ acquired: true });
      const t0 = Date.now();
      // Paused once the engine handed 5 MiB over (written at most once a second), not after a set
      // time: a loaded machine may take longer to start sending.
      while (scheduler.repo.getTarget(tid).bytesAccepted < 5 * 1024 * 1024 && Date.now() - t0 < 30_000) await sleep(50);
      scheduler.pause(tid);
      while (scheduler.repo.getTarget(tid).state !== 'paused' && Date.now() - t0 < 30_000) await sleep(50);
      const imageId = scheduler.repo.getTarget(tid).remoteImageId ?? '';
      // The server records what it got once it has handled the cut connection: on a loaded machine
      // that can come after the engine already calls the target paused, so ask until it says.
      const local = await engine.glance(LOCAL_ENTRY, 'local');
      let held = await local.uploadOffset(imageId);
      for (const end = Date.now() + 10_000; held <= 2 * 1024 * 1024 && Date.now() < end; await sleep(100))
        held = await local.uploadOffset(imageId);
      expect(held).toBeGreaterThan(2 * 1024 * 1024);
      expect(held).toBeLessThan(f.size);
      scheduler.resume(tid);
      await scheduler.idle();
      const done = scheduler.repo.getTarget(tid);
      expect(done).toMatchObject({ state: 'done', remoteImageId: imageId });
      const resumed = scheduler.repo
        .events({ jobId: scheduler.repo.getTarget(tid).jobId })
        .find((e) => e.kind === 'target.resumed_at_byte');
      expect(resumed?.detail).toMatchObject({ offset: held, size: f.size });
      const img = await (await engine.glance(LOCAL_ENTRY, 'local')).getImage(imageId);
      expect(img).toMatchObject({ status: 'active', size: f.size, checksum: f.md5, os_hash_value: f.sha512 });
    } finally {
      await scheduler.stop();
      await engine.close();
      db.close();
    }
  });

  it('an engine killed mid-upload continues at the byte after its restart (real CLI processes)', async () => {
    const env = { GLANCE_UPLOADER_HOME: join(dir, 'cli-kill'), OS_CLIENT_CONFIG_FILE: clouds };
    const f = await makeFile(join(dir, 'kill.raw'), 10 * 1024 * 1024);
    const q = await runCli(
      ['upload', f.path, '--cloud', LOCAL_ENTRY, '--region', 'local', '--bwlimit', '2M', '--detach', '--json'],
      env,
    );
    expect(q.code, q.stderr).toBe(0);
    const first = startCli(['queue', 'run'], env);
    await sleep(3000);
    first.child.kill('SIGKILL');
    expect((await first.done).signal).toBe('SIGKILL');
    const second = await runCli(['queue', 'run', '--json'], env);
    expect(second.code, second.stderr).toBe(0);
    const db = openDatabase(join(env.GLANCE_UPLOADER_HOME, 'queue.sqlite3'));
    try {
      const repo = new JobRepository(db, 'test');
      const job = repo.listJobs()[0];
      const t = repo.targetsOf(job?.id ?? '')[0];
      expect(t).toMatchObject({ state: 'done' });
      const resumed = repo.events({ jobId: job?.id ?? '' }).find((e) => e.kind === 'target.resumed_at_byte');
      expect((resumed?.detail as { offset: number }).offset).toBeGreaterThan(1024 * 1024);
      const img = server.store.get(t?.remoteImageId ?? '');
      expect(img).toMatchObject({ status: 'active', size: f.size, os_hash_value: f.sha512 });
    } finally {
      db.close();
    }
  });

  it('a server killed mid-upload restarts clean, and the engine continues at the byte it kept', async () => {
    // A free port, so that the restarted server is where clouds.yaml says.
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((r) => probe.close(r));
    const data = join(dir, 'killed-server');
    const yaml = join(dir, 'killed-clouds.yaml');
    const serve = (): ReturnType<typeof startCli> =>
      startCli(
        [
          'serve',
          '--port',
          String(port),
          '--data',
          data,
          '--write-clouds-yaml',
          yaml,
          '--cloud-name',
          'killable',
          '--json',
        ],
        {},
      );
    // serve prints its JSON line once it listens.
    const waitUp = (p: ReturnType<typeof startCli>): Promise<void> =>
      new Promise<void>((r) => p.child.stdout?.once('data', () => r()));
    let srv = serve();
    await waitUp(srv);
    const home = join(dir, 'killed-engine');
    mkdirSync(home);
    const db = openDatabase(join(home, 'queue.sqlite3'));
    const engine = new Engine({ env: { OS_CLIENT_CONFIG_FILE: yaml }, cwd: home, home });
    const scheduler = new Scheduler({
      db,
      engine,
      actor: 'test-killed-server',
      retryPolicy: { budgetMs: 60_000, baseDelayMs: 500, maxDelayMs: 2000 },
    });
    try {
      const f = await makeFile(join(dir, 'killed.raw'), 10 * 1024 * 1024);
      const { targets } = scheduler.repo.createJob({
        source: await fileJobSource(f.path),
        name: 'killed-server',
        metadata: { name: 'killed-server', disk_format: 'raw', container_format: 'bare' },
        targets: [{ cloud: 'killable', region: 'local' }],
        bwlimit: 2 * 1024 * 1024,
      });
      const tid = targets[0]?.id ?? '';
      expect(scheduler.start()).toEqual({ acquired: true });
      const t0 = Date.now();
      while (scheduler.repo.getTarget(tid).state !== 'uploading' && Date.now() - t0 < 20_000) await sleep(50);
      await sleep(2500);
      srv.child.kill('SIGKILL');
      expect((await srv.done).signal).toBe('SIGKILL');
      srv = serve();
      await waitUp(srv);
      await scheduler.idle();
      const done = scheduler.repo.getTarget(tid);
      expect(done.state).toBe('done');
      const events = scheduler.repo.events({ jobId: done.jobId });
      const resumed = events.find((e) => e.kind === 'target.resumed_at_byte');
      expect((resumed?.detail as { offset: number }).offset).toBeGreaterThan(1024 * 1024);
      const img = await (await engine.glance('killable', 'local')).getImage(done.remoteImageId ?? '');
      expect(img).toMatchObject({ status: 'active', size: f.size, checksum: f.md5, os_hash_value: f.sha512 });
      expect(readdirSync(join(data, 'images')).filter((x) => x.startsWith('.'))).toEqual([]);
    } finally {
      await scheduler.stop();
      await engine.close();
      db.close();
      srv.child.kill('SIGTERM');
      await srv.done;
    }
  });

  it('speaks the resumable protocol: HEAD gives the offset, a ranged PUT at another offset is 409', async () => {
    const t = await token();
    const id = await createRawImage(t, 'pieces');
    const data = Buffer.alloc(3000, 7);
    const put = (start: number, end: number): Promise<{ status: number; body: string }> =>
      raw(
        'PUT',
        `/v2/images/${id}/file`,
        {
          'x-auth-token': t,
          'content-type': 'application/octet-stream',
          'content-range': `bytes ${start}-${end}/${data.length}`,
          'content-length': String(end - start + 1),
        },
        data.subarray(start, end + 1),
      );
    expect((await put(0, 999)).status).toBe(204);
    const head = await rawHead(`/v2/images/${id}/file`, t);
    expect(head['upload-offset']).toBe('1000');
    const wrong = await put(500, 2999);
    expect(wrong.status).toBe(409);
    expect(wrong.body).toMatch(/continues at byte 1000/);
    expect((await put(1000, 2999)).status).toBe(204);
    const img = JSON.parse((await raw('GET', `/v2/images/${id}`, { 'x-auth-token': t })).body) as Record<
      string,
      unknown
    >;
    expect(img).toMatchObject({ status: 'active', size: 3000, checksum: createHash('md5').update(data).digest('hex') });
  });
});
