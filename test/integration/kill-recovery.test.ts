/**
 * Crash recovery with real processes: the engine runs as `glance-uploader queue run`, is
 * SIGKILLed at random moments (at least 10 times across the queue) and restarted each time.
 * In the end every target is done with its hashes verified, and each region holds exactly one
 * image per job: no orphan, no duplicate.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Engine } from '../../src/main/core/engine';
import { openDatabase } from '../../src/main/core/queue/database';
import { JobRepository } from '../../src/main/core/queue/job-repository';
import { runCli, seededRandom, startCli } from '../support/cli-process';
import { makeFile, type TestFile } from '../support/files';

const cloud = inject('referenceCloud');
const MiB = 1024 * 1024;
const seed = Number(process.env.KILL_TEST_SEED ?? Date.now() % 100_000);
let dir: string;
let env: Record<string, string>;
let engine: Engine;
const tag = `kill-${seed}-${Math.random().toString(36).slice(2, 8)}`;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'gu-kill-'));
  env = { GLANCE_UPLOADER_HOME: join(dir, 'home'), OS_CLIENT_CONFIG_FILE: cloud.cloudsYamlPath };
  engine = new Engine({ env: { OS_CLIENT_CONFIG_FILE: cloud.cloudsYamlPath }, cwd: dir, home: dir });
});

afterAll(async () => {
  for (const [c, r] of [
    ['ref-demo', 'RegionOne'],
    ['ref-demo-r2', 'RegionTwo'],
  ] as const) {
    const g = await engine.glance(c, r);
    for (const img of await g.listImages({ tags: [tag] })) await g.deleteImage(img.id).catch(() => undefined);
  }
  await engine.close();
  rmSync(dir, { recursive: true, force: true });
});

describe(`kill and restart the engine (seed ${seed})`, () => {
  it('finishes every job verified, without orphan or duplicate images, after 10+ SIGKILLs', async () => {
    const random = seededRandom(seed);
    const files: TestFile[] = [];
    for (const [i, size] of [3 * MiB, 7 * MiB, 12 * MiB, 17 * MiB, 24 * MiB].entries())
      files.push(await makeFile(join(dir, `k${i}.raw`), size + i));
    const queued = await runCli(
      [
        'upload',
        ...files.map((f) => f.path),
        '--cloud',
        'ref-demo',
        '--region',
        'RegionOne,RegionTwo',
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

    let kills = 0;
    for (let round = 0; round < 40 && kills < 10; round++) {
      const run = startCli(['queue', 'run'], env);
      const delay = 300 + Math.floor(random() * 2500);
      const exited = await Promise.race([run.done.then(() => true), sleep(delay).then(() => false)]);
      if (exited) {
        const r = await run.done;
        expect(r.code, r.stderr).toBe(0); // the queue finished between two kills
        break;
      }
      run.child.kill('SIGKILL');
      const r = await run.done;
      expect(r.signal).toBe('SIGKILL');
      kills++;
    }
    expect(kills).toBeGreaterThanOrEqual(10);
    const final = await runCli(['queue', 'run', '--json'], env);
    expect(final.code, final.stderr).toBe(0);

    const db = openDatabase(join(env.GLANCE_UPLOADER_HOME ?? '', 'queue.sqlite3'));
    try {
      const repo = new JobRepository(db, 'test');
      const jobs = repo.listJobs();
      expect(jobs).toHaveLength(files.length);
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
        expect(repo.events({ jobId: job.id }).filter((e) => e.kind === 'target.verified')).toHaveLength(2);
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
      // Recovery is in the audit log.
      expect(
        repo
          .events()
          .filter((e) => e.kind === 'target.error' && (e.detail as { recovered?: boolean } | null)?.recovered).length,
      ).toBeGreaterThan(0);
    } finally {
      db.close();
    }
    // Nothing but the database is left in the data folder.
    expect(readdirSync(env.GLANCE_UPLOADER_HOME ?? '').filter((f) => !f.startsWith('queue.sqlite3'))).toEqual([]);
  });
});
