/**
 * Crash recovery with real processes: the engine runs as `glance-uploader queue run` and is
 * SIGKILLed at least 20 times, each kill at a random moment AFTER an upload is under way (a PUT
 * of image data seen at a proxy), while proxies in front of both regions inject faults (lost
 * create answers, resets in mid-upload, 5xx, 401s). In the end every target is done with its
 * hashes verified, each region holds exactly one image per job (no orphan, no duplicate), and
 * the kills are in the log as interruptions, not errors.
 *
 * Fails when: recoveries count as attempts or errors (the log check), the recorded image id is
 * not reused after a kill (duplicates), or a transient fault ends a job.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Engine } from '../../src/main/core/clouds/engine';
import { openDatabase } from '../../src/main/core/queue/database';
import { JobRepository } from '../../src/main/core/queue/job-repository';
import { runCli, seededRandom, startCli } from '../support/cli-process';
import { proxiedEntry, writeCloudsYaml } from '../support/clouds-yaml';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy';
import { makeFile, type TestFile } from '../support/files';

const cloud = inject('referenceCloud');
const MiB = 1024 * 1024;
const seed = Number(process.env.KILL_TEST_SEED ?? Date.now() % 100_000);
let dir: string;
let env: Record<string, string>;
let engine: Engine;
const proxies: FaultProxy[] = [];
const tag = `kill-${seed}-${Math.random().toString(36).slice(2, 8)}`;
const IMAGE = /^\/v2\/images\/[0-9a-f-]{36}$/;
const FILE = /^\/v2\/images\/[0-9a-f-]{36}\/file$/;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gu-kill-'));
  // One proxy per region, each with its own faults, bounded in number.
  proxies.push(
    await startFaultProxy(cloud.glance.RegionOne.url, [
      {
        method: 'POST',
        path: /^\/v2\/images$/,
        fault: { kind: 'status', status: 503, after: 'after-forward' },
        times: 2,
      },
      { method: 'PUT', path: FILE, fault: { kind: 'reset', afterBytes: 512 * 1024 }, times: 3, skip: 2 },
      { method: 'GET', path: IMAGE, fault: { kind: 'status', status: 503 }, times: 3 },
      { method: 'GET', path: IMAGE, fault: { kind: 'status', status: 401 }, times: 2, skip: 5 },
    ]),
    await startFaultProxy(cloud.glance.RegionTwo.url, [
      { method: 'PUT', path: FILE, fault: { kind: 'status', status: 500 }, times: 2, skip: 3 },
      {
        method: 'POST',
        path: /^\/v2\/images$/,
        fault: { kind: 'status', status: 503, after: 'after-forward' },
        times: 1,
        skip: 2,
      },
      { method: 'GET', path: IMAGE, fault: { kind: 'status', status: 502 }, times: 2, skip: 1 },
    ]),
  );
  const clouds = writeCloudsYaml(join(dir, 'clouds.yaml'), cloud, [
    proxiedEntry(cloud, 'kill-r1', proxies[0]?.url ?? '', 'RegionOne'),
    proxiedEntry(cloud, 'kill-r2', proxies[1]?.url ?? '', 'RegionTwo'),
  ]);
  env = { GLANCE_UPLOADER_HOME: join(dir, 'home'), OS_CLIENT_CONFIG_FILE: clouds };
  engine = new Engine({ env: { OS_CLIENT_CONFIG_FILE: cloud.cloudsYamlPath }, cwd: dir, home: dir });
});

/** Image-data PUTs the proxies have seen (an upload under way). */
const uploadsSeen = (): number =>
  proxies.reduce((n, p) => n + p.log.filter((e) => e.method === 'PUT' && FILE.test(e.path)).length, 0);

afterAll(async () => {
  for (const [c, r] of [
    ['ref-demo', 'RegionOne'],
    ['ref-demo-r2', 'RegionTwo'],
  ] as const) {
    const g = await engine.glance(c, r);
    for (const img of await g.listImages({ tags: [tag] })) await g.deleteImage(img.id).catch(() => undefined);
  }
  await engine.close();
  for (const p of proxies) await p.close();
  rmSync(dir, { recursive: true, force: true });
});

describe(`kill and restart the engine (seed ${seed})`, () => {
  it(
    'finishes every job verified, without orphan or duplicate images, after 20+ SIGKILLs during uploads, with faults',
    { timeout: 600_000 },
    async () => {
      const random = seededRandom(seed);
      const files: TestFile[] = [];
      for (const [i, size] of [3 * MiB, 7 * MiB, 12 * MiB, 17 * MiB, 24 * MiB].entries())
        files.push(await makeFile(join(dir, `k${i}.raw`), size + i));
      for (const [cloudName, region] of [
        ['kill-r1', 'RegionOne'],
        ['kill-r2', 'RegionTwo'],
      ]) {
        const queued = await runCli(
          [
            'upload',
            ...files.map((f) => f.path),
            '--cloud',
            cloudName ?? '',
            '--region',
            region ?? '',
            '--name',
            `${tag}-{n}`,
            '--tag',
            tag,
            '--bwlimit',
            '6M',
            '--detach',
            '--json',
          ],
          env,
        );
        expect(queued.code, queued.stderr).toBe(0);
        expect((JSON.parse(queued.stdout) as { queued: unknown[] }).queued).toHaveLength(files.length);
      }

      let kills = 0;
      for (let round = 0; round < 80 && kills < 20; round++) {
        const before = uploadsSeen();
        const run = startCli(['queue', 'run'], env);
        // Counted from the moment an upload is under way (the proxies saw its PUT), never during
        // the process's start-up.
        let finished = false;
        void run.done.then(() => (finished = true));
        const t0 = Date.now();
        while (!finished && uploadsSeen() === before && Date.now() - t0 < 30_000) await sleep(20);
        if (!finished) await sleep(Math.floor(random() * 1200));
        if (finished) {
          const r = await run.done;
          expect(r.code, r.stderr).toBe(0); // the queue finished between two kills
          break;
        }
        if (process.env.KILL_TEST_DEBUG) console.log(`kill ${kills + 1} after ${Date.now() - t0} ms`);
        run.child.kill('SIGKILL');
        const r = await run.done;
        expect(r.signal).toBe('SIGKILL');
        kills++;
      }
      expect(kills).toBeGreaterThanOrEqual(20);
      const final = await runCli(['queue', 'run', '--json'], env);
      expect(final.code, final.stderr).toBe(0);

      const db = openDatabase(join(env.GLANCE_UPLOADER_HOME ?? '', 'queue.sqlite3'));
      try {
        const repo = new JobRepository(db, 'test');
        const jobs = repo.listJobs();
        expect(jobs).toHaveLength(files.length * 2); // one job per file and region (a proxy per region)
        const expectedIds = new Map<string, Set<string>>();
        for (const job of jobs) {
          const file = files.find((f) => f.path === job.sourcePath);
          expect(job.sha512).toBe(file?.sha512);
          for (const t of repo.targetsOf(job.id)) {
            expect(t.state).toBe('done');
            expect(t.remoteImageId).not.toBeNull();
            const ids = expectedIds.get(t.region) ?? new Set<string>();
            ids.add(t.remoteImageId ?? '');
            expectedIds.set(t.region, ids);
          }
          expect(repo.events({ jobId: job.id }).filter((e) => e.kind === 'target.verified')).toHaveLength(1);
        }
        // What each region really holds for this run: exactly the images the queue recorded.
        for (const [c, region] of [
          ['ref-demo', 'RegionOne'],
          ['ref-demo-r2', 'RegionTwo'],
        ] as const) {
          const images = await (await engine.glance(c, region)).listImages({ tags: [tag] });
          expect(new Set(images.map((i) => i.id))).toEqual(expectedIds.get(region));
          for (const img of images) {
            const file = files.find((f) => `${tag}-${files.indexOf(f) + 1}` === img.name);
            expect(img).toMatchObject({ status: 'active', os_hash_value: file?.sha512, size: file?.size });
          }
        }
        // The kills are interruptions in the log, apart from the errors; none cost an attempt
        // beyond the faults' (at most one failed try per injected fault and target).
        const events = repo.events();
        expect(events.filter((e) => e.kind === 'target.interrupted').length).toBeGreaterThan(0);
        expect(
          events.filter((e) => e.kind === 'target.error' && (e.detail as { recovered?: boolean } | null)?.recovered),
        ).toEqual([]);
        const injected = proxies.reduce((n, p) => n + p.log.filter((e) => e.fault !== undefined).length, 0);
        for (const job of jobs)
          for (const t of repo.targetsOf(job.id)) expect(t.attempt).toBeLessThanOrEqual(1 + injected);
        expect(injected).toBeGreaterThan(0);
      } finally {
        db.close();
      }
      // Nothing but the database is left in the data folder.
      expect(readdirSync(env.GLANCE_UPLOADER_HOME ?? '').filter((f) => !f.startsWith('queue.sqlite3'))).toEqual([]);
    },
  );
});
