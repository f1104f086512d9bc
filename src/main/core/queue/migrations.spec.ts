import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EngineError } from '../io/errors';
import { Controls } from './controls';
import { migrate, openDatabase, schemaVersion, type Db } from './database';
import { SavedClouds } from '../clouds/saved-clouds';
import { JobRepository } from './job-repository';
import { LATEST_VERSION, MIGRATIONS } from './migrations';

/**
 * Data written at each schema version, as that version's code wrote it, and what must still be
 * true after upgrading to the latest. Add one entry with every migration.
 */
const FIXTURES: Record<number, { write: (db: Db) => void; check: (db: Db) => void }> = {
  1: {
    write: (db) => {
      db.prepare(
        `INSERT INTO jobs (id, created_at, updated_at, source_kind, source_path, source_size, name, metadata, position) VALUES ('j1', 1, 1, 'file', '/img/a.qcow2', 42, 'a', '{"disk_format":"qcow2"}', 1)`,
      ).run();
      db.prepare(
        `INSERT INTO targets (id, job_id, cloud, region, state, remote_image_id, created_at, updated_at) VALUES ('t1', 'j1', 'prod', 'RegionOne', 'uploading', 'img-1', 1, 1)`,
      ).run();
      db.prepare(
        `INSERT INTO events (at, actor, kind, job_id, target_id) VALUES (1, 'test', 'job.created', 'j1', 't1')`,
      ).run();
    },
    check: (db) => {
      const repo = new JobRepository(db, 'test');
      expect(repo.getJob('j1')).toMatchObject({
        name: 'a',
        sourcePath: '/img/a.qcow2',
        metadata: { disk_format: 'qcow2' },
      });
      expect(repo.getTarget('t1')).toMatchObject({ state: 'uploading', remoteImageId: 'img-1', region: 'RegionOne' });
      expect(repo.events({ jobId: 'j1' })).toHaveLength(1);
      // Columns added later get their defaults: always upload; the recorded image is ours.
      expect(repo.getJob('j1').onDuplicate).toBe('upload');
      expect(repo.getTarget('t1').imageOwned).toBe(true);
      // Jobs from before inspection existed: nothing recorded, no override.
      expect(repo.getJob('j1')).toMatchObject({ inspection: null, allowFormatMismatch: false });
    },
  },
  2: {
    write: (db) => {
      db.prepare(
        `INSERT INTO jobs (id, created_at, updated_at, source_kind, source_path, source_size, name, position, on_duplicate) VALUES ('j2', 1, 1, 'file', '/img/b.raw', 7, 'b', 1, 'reuse')`,
      ).run();
      db.prepare(
        `INSERT INTO targets (id, job_id, cloud, region, state, remote_image_id, image_owned, created_at, updated_at) VALUES ('t2', 'j2', 'c', 'R', 'done', 'theirs', 0, 1, 1)`,
      ).run();
    },
    check: (db) => {
      const repo = new JobRepository(db, 'test');
      expect(repo.getJob('j2').onDuplicate).toBe('reuse');
      expect(repo.getTarget('t2')).toMatchObject({ remoteImageId: 'theirs', imageOwned: false, state: 'done' });
    },
  },
  3: {
    write: (db) => {
      db.prepare(`INSERT INTO controls (at, actor, target_id, action) VALUES (1, 'cli:1', 't9', 'pause')`).run();
    },
    check: (db) => {
      expect(new Controls(db).open()).toEqual([{ id: 1, targetId: 't9', action: 'pause', actor: 'cli:1' }]);
    },
  },
  4: {
    write: (db) => {
      db.prepare(
        `INSERT INTO jobs (id, created_at, updated_at, source_kind, source_url, name, position, sha512) VALUES ('j4', 1, 1, 'url', 'https://example.org/a.qcow2', 'a', 1, 'ff')`,
      ).run();
      db.prepare(
        `INSERT INTO targets (id, job_id, cloud, region, method, state, created_at, updated_at) VALUES ('t4', 'j4', 'c', 'R', 'web-download', 'pending', 1, 1)`,
      ).run();
    },
    check: (db) => {
      const repo = new JobRepository(db, 'test');
      expect(repo.getJob('j4')).toMatchObject({
        sourceKind: 'url',
        sourceUrl: 'https://example.org/a.qcow2',
        sha512: 'ff',
      });
      expect(repo.targetsOf('j4')).toMatchObject([{ id: 't4', method: 'web-download' }]);
      // The rebuilt jobs table still refuses a URL job without its URL, and cascades deletes.
      expect(() =>
        db
          .prepare(
            `INSERT INTO jobs (id, created_at, updated_at, source_kind, name, position) VALUES ('x', 1, 1, 'url', 'x', 2)`,
          )
          .run(),
      ).toThrow(/CHECK constraint/);
      db.prepare(`DELETE FROM jobs WHERE id = 'j4'`).run();
      expect(db.prepare(`SELECT COUNT(*) AS n FROM targets WHERE id = 't4'`).get()).toEqual({ n: 0 });
    },
  },
  5: {
    write: (db) => {
      db.prepare(
        `INSERT INTO jobs (id, created_at, updated_at, source_kind, source_path, name, position, inspection, allow_format_mismatch) VALUES ('j5', 1, 1, 'file', '/img/c.vmdk', 'c', 1, '{"format":"vmdk"}', 1)`,
      ).run();
    },
    check: (db) => {
      const repo = new JobRepository(db, 'test');
      expect(repo.getJob('j5')).toMatchObject({ inspection: { format: 'vmdk' }, allowFormatMismatch: true });
    },
  },
  6: {
    write: (db) => {
      db.prepare(
        `INSERT INTO jobs (id, created_at, updated_at, source_kind, source_path, staged_image_id, name, position, sha512, remove_staged_after)
         VALUES ('j6', 1, 1, 'staged', '/data/images/x', 'a5b0c3c4-0d1e-4f60-8a7b-9c0d1e2f3a4b', 'd', 1, 'ab', 1)`,
      ).run();
    },
    check: (db) => {
      const repo = new JobRepository(db, 'test');
      expect(repo.getJob('j6')).toMatchObject({
        sourceKind: 'staged',
        stagedImageId: 'a5b0c3c4-0d1e-4f60-8a7b-9c0d1e2f3a4b',
        removeStagedAfter: true,
      });
    },
  },
  7: {
    write: (db) => {
      db.prepare(
        `INSERT INTO jobs (id, created_at, updated_at, source_kind, source_image, source_size, name, position, sha512, image_id)
         VALUES ('j7', 1, 1, 'image', '{"cloud":"c","region":"R1","id":"i1"}', 9, 'e', 1, 'ab', 'fixed-id')`,
      ).run();
      db.prepare(
        `INSERT INTO targets (id, job_id, cloud, region, store, method, state, plan_reason, created_at, updated_at)
         VALUES ('t7', 'j7', 'c', 'R2', '', 'glance-download', 'pending', 'R2 pulls', 1, 1)`,
      ).run();
    },
    check: (db) => {
      const repo = new JobRepository(db, 'test');
      expect(repo.getJob('j7')).toMatchObject({
        sourceKind: 'image',
        sourceImage: { cloud: 'c', region: 'R1', id: 'i1' },
        sameImageId: 'fixed-id',
      });
      expect(repo.getTarget('t7')).toMatchObject({ planReason: 'R2 pulls', method: 'glance-download' });
    },
  },
  8: {
    write: (db) => {
      db.prepare(
        `INSERT INTO saved_clouds (name, config, secret, secret_kind, created_at, updated_at)
         VALUES ('open', '{"auth":{"auth_url":"https://k/v3"}}', NULL, NULL, 1, 1)`,
      ).run();
    },
    check: (db) => {
      expect(new SavedClouds(db).load('open')).toEqual({ auth: { auth_url: 'https://k/v3' } });
    },
  },
  9: {
    write: (db) => {
      db.prepare(
        `INSERT INTO jobs (id, created_at, updated_at, source_kind, source_path, source_size, name, position) VALUES ('j9', 1, 1, 'file', '/img/r.raw', 9, 'r', 1)`,
      ).run();
      db.prepare(
        `INSERT INTO targets (id, job_id, cloud, region, state, attempt, interrupted, failing_since, created_at, updated_at)
         VALUES ('t9', 'j9', 'c', 'R', 'retrying', 3, 1, 1000, 1, 1)`,
      ).run();
    },
    check: (db) => {
      expect(new JobRepository(db, 'test').getTarget('t9')).toMatchObject({
        attempt: 3,
        interrupted: true,
        failingSince: 1000,
      });
    },
  },
  10: {
    write: (db) => {
      db.prepare(
        `INSERT INTO jobs (id, created_at, updated_at, source_kind, source_path, source_size, name, position) VALUES ('j10', 1, 1, 'file', '/img/big.raw', 9, 'b', 1)`,
      ).run();
      db.prepare(
        `INSERT INTO targets (id, job_id, cloud, region, method, state, created_at, updated_at) VALUES ('t10', 'j10', 'c', 'R', 'relay', 'paused', 1, 1)`,
      ).run();
      db.prepare(
        `INSERT INTO relays (target_id, relay_id, container, prefix, segment_size, created_at) VALUES ('t10', 'r10', 'box', 'inst/r10', 4, 1)`,
      ).run();
      db.prepare(
        `INSERT INTO relay_segments (target_id, idx, size, md5, confirmed_at) VALUES ('t10', 0, 4, 'aa', 1), ('t10', 1, 4, 'bb', 2)`,
      ).run();
    },
    check: (db) => {
      const repo = new JobRepository(db, 'test');
      expect(repo.relays.get('t10')).toMatchObject({
        relayId: 'r10',
        prefix: 'inst/r10',
        segmentSize: 4,
        manifestAt: null,
      });
      expect(repo.relays.confirmed('t10').map((s) => s.md5)).toEqual(['aa', 'bb']);
    },
  },
  11: {
    write: (db) => {
      db.prepare(
        `INSERT INTO jobs (id, created_at, updated_at, source_kind, source_path, source_size, name, position) VALUES ('j11', 1, 1, 'file', '/img/sparse.raw', 9, 's', 1)`,
      ).run();
      db.prepare(
        `INSERT INTO targets (id, job_id, cloud, region, method, state, send_format, created_at, updated_at) VALUES ('t11', 'j11', 'c', 'R', 'glance-direct', 'paused', 'qcow2', 1, 1)`,
      ).run();
      db.prepare(
        `INSERT INTO shrunk_files (job_id, path, format, size, md5, sha512, created_at) VALUES ('j11', '/cache/shrink/j11.qcow2', 'qcow2', 5, 'm', 's', 2)`,
      ).run();
      db.prepare(
        `INSERT INTO region_facts (cloud, region, name, value, checked_at) VALUES ('c', 'R', 'conversion', '{"converts":true,"storedFormat":"raw","via":"glance-direct"}', 3)`,
      ).run();
    },
    check: (db) => {
      const repo = new JobRepository(db, 'test');
      expect(repo.getTarget('t11').sendFormat).toBe('qcow2');
      expect(repo.shrunk.all()).toEqual([expect.objectContaining({ jobId: 'j11', size: 5, live: true })]);
      expect(repo.regionFacts.conversion('c', 'R')).toEqual({
        value: { converts: true, storedFormat: 'raw', via: 'glance-direct' },
        checkedAt: 3,
      });
    },
  },
  12: {
    write: (db) => {
      db.prepare(
        `INSERT INTO jobs (id, created_at, updated_at, source_kind, source_path, source_size, name, position) VALUES ('j12', 1, 1, 'file', '/img/u.qcow2', 9, 'u', 1)`,
      ).run();
      db.prepare(
        `INSERT INTO targets (id, job_id, cloud, region, method, state, fixed_image_id, created_at, updated_at) VALUES ('t12', 'j12', 'c', 'R', 'direct', 'pending', 'a9c1e0f2-1b2c-5d3e-8f40-123456789abc', 1, 1)`,
      ).run();
    },
    check: (db) => {
      const repo = new JobRepository(db, 'test');
      expect(repo.getTarget('t12').fixedImageId).toBe('a9c1e0f2-1b2c-5d3e-8f40-123456789abc');
      expect(repo.targetsWithFixedImage('a9c1e0f2-1b2c-5d3e-8f40-123456789abc').map((t) => t.id)).toEqual(['t12']);
    },
  },
  13: {
    write: (db) => {
      db.prepare(
        `INSERT INTO jobs (id, created_at, updated_at, source_kind, source_path, source_size, name, position) VALUES ('j13', 1, 1, 'file', '/img/v.qcow2', 9, 'v', 1)`,
      ).run();
      db.prepare(
        `INSERT INTO targets (id, job_id, cloud, region, method, state, created_at, updated_at) VALUES ('t13', 'j13', 'c', 'R', 'direct', 'uploading', 1, 1)`,
      ).run();
      db.prepare(`INSERT INTO progress_samples (target_id, at, bytes) VALUES ('t13', 5, 3), ('t13', 6, 7)`).run();
    },
    check: (db) => {
      const repo = new JobRepository(db, 'test');
      expect(repo.samples.since(0).get('t13')).toEqual({
        jobId: 'j13',
        samples: [
          { at: 5, bytes: 3 },
          { at: 6, bytes: 7 },
        ],
      });
      db.prepare(`DELETE FROM targets WHERE id = 't13'`).run(); // the samples go with their target
      expect(repo.samples.since(0).size).toBe(0);
    },
  },
};

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'gu-db-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('database', () => {
  it('opens a fresh file at the latest version, in WAL with synchronous FULL and foreign keys', () => {
    const db = openDatabase(join(dir, 'q.sqlite3'));
    expect(schemaVersion(db)).toBe(LATEST_VERSION);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('synchronous', { simple: true })).toBe(2);
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    const tables = (
      db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as { name: string }[]
    ).map((t) => t.name);
    expect(tables).toEqual(expect.arrayContaining(['events', 'jobs', 'lease', 'settings', 'targets']));
    db.close();
  });

  it('has a fixture for every migration', () => {
    expect(Object.keys(FIXTURES).map(Number).sort()).toEqual(MIGRATIONS.map((m) => m.version).sort());
  });

  it.each(MIGRATIONS.map((m) => m.version))(
    'upgrades a database written at version %i to the latest, keeping its data',
    (from) => {
      const path = join(dir, `v${from}.sqlite3`);
      const raw = new Database(path);
      migrate(raw, from);
      expect(schemaVersion(raw)).toBe(from);
      FIXTURES[from]?.write(raw);
      raw.close();
      const db = openDatabase(path);
      expect(schemaVersion(db)).toBe(LATEST_VERSION);
      FIXTURES[from]?.check(db);
      db.close();
    },
  );

  it('refuses a database from a newer version and leaves it untouched', () => {
    const path = join(dir, 'new.sqlite3');
    const raw = new Database(path);
    raw.pragma(`user_version = ${LATEST_VERSION + 5}`);
    raw.close();
    const before = readFileSync(path);
    try {
      openDatabase(path);
      expect.unreachable();
    } catch (e) {
      expect((e as EngineError).code).toBe('db.too_new');
    }
    expect(readFileSync(path).equals(before)).toBe(true);
  });

  it('rolls a failing migration back whole, leaving the previous version', () => {
    const path = join(dir, 'fail.sqlite3');
    const db = openDatabase(path);
    copyFileSync(path, join(dir, 'backup.sqlite3'));
    const broken = {
      version: LATEST_VERSION + 1,
      name: 'broken',
      up: (d: Db) => void d.exec('CREATE TABLE half_done (x); INSERT INTO nope VALUES (1);'),
    };
    try {
      migrate(db, LATEST_VERSION + 1, [...MIGRATIONS, broken]);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(EngineError);
      expect((e as EngineError).code).toBe('db.migration_failed');
    }
    expect(schemaVersion(db)).toBe(LATEST_VERSION);
    expect(db.prepare("SELECT COUNT(*) AS n FROM sqlite_master WHERE name = 'half_done'").get()).toEqual({ n: 0 });
    db.close();
  });
});
