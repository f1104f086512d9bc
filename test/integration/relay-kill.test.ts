/**
 * The relay survives kills: `glance-uploader queue run` is SIGKILLed at least 10 times while a
 * file is relayed through RegionOne's object store, each kill at a random moment after a segment
 * PUT is under way (seen at a loopback proxy in front of Swift, which counts the bytes that
 * crossed it). In the end the image is active and verified, there is exactly one, and nothing of
 * the relay is left in the object store or the queue.
 *
 * Fails when: a restart sends the confirmed segments again (tried by hand with `confirmed: []`
 * in uploadSegments, with a 20 MiB file: 37.8 MB crossed the proxy against a bound of 31.5 MB), the image id is not
 * reused (two images), or the cleanup is skipped (objects remain).
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Engine } from '../../src/main/core/clouds/engine';
import { openDatabase } from '../../src/main/core/queue/database';
import { JobRepository } from '../../src/main/core/queue/job-repository';
import { Settings } from '../../src/main/core/queue/settings';
import { runCli, seededRandom, startCli } from '../support/cli-process';
import { demoEntry, writeCloudsYaml } from '../support/clouds-yaml';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy';
import { makeFile } from '../support/files';
import { demoObjects } from '../support/object-store';

const cloud = inject('referenceCloud');
const MiB = 1024 * 1024;
const SEGMENT = MiB;
const seed = Number(process.env.KILL_TEST_SEED ?? Date.now() % 100_000);
const tag = `relay-kill-${seed}-${Math.random().toString(36).slice(2, 8)}`;
const SEGMENT_PUT = /\/seg\/\d+$/;
let dir: string;
let env: Record<string, string>;
let proxy: FaultProxy;
let engine: Engine;
let installId: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gu-relay-kill-'));
  proxy = await startFaultProxy(cloud.objectStore.url, []);
  const clouds = writeCloudsYaml(join(dir, 'clouds.yaml'), cloud, [
    demoEntry(cloud, 'relay-kill', { extra: [`object_store_endpoint_override: ${proxy.url}/v1/AUTH_%(project_id)s`] }),
  ]);
  env = { GLANCE_UPLOADER_HOME: join(dir, 'home'), OS_CLIENT_CONFIG_FILE: clouds };
  mkdirSync(env.GLANCE_UPLOADER_HOME ?? '');
  const db = openDatabase(join(env.GLANCE_UPLOADER_HOME ?? '', 'queue.sqlite3'));
  new Settings(db).set('relaySegmentMiB', SEGMENT / MiB);
  installId = new JobRepository(db, 'test').relays.installId();
  db.close();
  engine = new Engine({ env: { OS_CLIENT_CONFIG_FILE: cloud.cloudsYamlPath }, cwd: dir, home: dir });
});

afterAll(async () => {
  const g = await engine.glance('ref-demo', 'RegionOne');
  for (const img of await g.listImages({ tags: [tag] })) await g.deleteImage(img.id).catch(() => undefined);
  await engine.close();
  await proxy.close();
  rmSync(dir, { recursive: true, force: true });
});

const segmentPuts = (): number => proxy.log.filter((e) => e.method === 'PUT' && SEGMENT_PUT.test(e.path)).length;
const segmentBytes = (): number =>
  proxy.log.filter((e) => e.method === 'PUT' && SEGMENT_PUT.test(e.path)).reduce((n, e) => n + e.bytesIn, 0);

describe(`relay under SIGKILL (seed ${seed})`, () => {
  it(
    'sends at most one segment more per kill, and ends verified with nothing left behind',
    { timeout: 300_000 },
    async () => {
      const random = seededRandom(seed);
      const file = await makeFile(join(dir, 'big.raw'), 24 * MiB + 12345);
      const queued = await runCli(
        ['upload', file.path, '--cloud', 'relay-kill', '--region', 'RegionOne', '--method', 'relay'].concat([
          '--name',
          tag,
          '--tag',
          tag,
          '--bwlimit',
          '2M',
          '--detach',
          '--json',
        ]),
        env,
      );
      expect(queued.code, queued.stderr).toBe(0);

      let kills = 0;
      for (let round = 0; round < 40 && kills < 10; round++) {
        const before = segmentPuts();
        const run = startCli(['queue', 'run'], env);
        let finished = false;
        void run.done.then(() => (finished = true));
        const t0 = Date.now();
        // From the moment a segment is on its way, never during the process's start-up.
        while (!finished && segmentPuts() === before && Date.now() - t0 < 30_000) await sleep(20);
        if (finished) break;
        await sleep(Math.floor(random() * 700)); // at 2 MB/s: 10 kills send at most 14 MB of the 24 MiB
        if (finished) break;
        run.child.kill('SIGKILL');
        expect((await run.done).signal).toBe('SIGKILL');
        kills++;
      }
      expect(kills).toBeGreaterThanOrEqual(10);
      const final = await runCli(['queue', 'run', '--json'], env);
      expect(final.code, final.stderr + final.stdout).toBe(0);

      // What crossed the wire to the object store: the file, plus at most one segment per kill.
      expect(segmentBytes()).toBeGreaterThanOrEqual(file.size);
      expect(segmentBytes()).toBeLessThanOrEqual(file.size + kills * SEGMENT);

      const db = openDatabase(join(env.GLANCE_UPLOADER_HOME ?? '', 'queue.sqlite3'));
      try {
        const repo = new JobRepository(db, 'test');
        const [job] = repo.listJobs();
        const [t] = repo.targetsOf(job?.id ?? '');
        expect(t?.state).toBe('done');
        expect(job?.sha512).toBe(file.sha512);
        expect(repo.events({ jobId: job?.id }).some((e) => e.kind === 'target.resumed_at_byte')).toBe(true);
        expect(db.prepare('SELECT COUNT(*) AS n FROM relays').get()).toEqual({ n: 0 });
        const images = await (await engine.glance('ref-demo', 'RegionOne')).listImages({ tags: [tag] });
        expect(images.map((i) => i.id)).toEqual([t?.remoteImageId]);
        expect(images[0]).toMatchObject({ status: 'active', size: file.size, os_hash_value: file.sha512 });
      } finally {
        db.close();
      }
      expect((await demoObjects(cloud)).filter((o) => o.includes(`/${installId}/`))).toEqual([]);
    },
  );
});
