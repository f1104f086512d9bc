/**
 * Numbered schema migrations. PRAGMA user_version holds the version reached. Each migration
 * runs in its own transaction: it applies whole or not at all. Never edit a migration that
 * has shipped: add the next one (and a fixture for it in migrations.spec.ts).
 */
import type Database from 'better-sqlite3';

export interface Migration {
  version: number;
  name: string;
  /**
   * Rebuilds a table that others reference (SQLite's "12 steps"): foreign keys are switched off
   * around the transaction (a DROP would otherwise cascade), and checked before it commits.
   */
  rebuildsTables?: boolean;
  up: (db: Database.Database) => void;
}

export const MIGRATIONS: Migration[] = [
  {
    version: 1,
    name: 'jobs, targets, events, lease, settings',
    up: (db) => {
      db.exec(`
        CREATE TABLE jobs (
          id              TEXT PRIMARY KEY,
          created_at      INTEGER NOT NULL,
          updated_at      INTEGER NOT NULL,
          source_kind     TEXT NOT NULL CHECK (source_kind IN ('file', 'staged')),
          source_path     TEXT,
          source_size     INTEGER,
          source_mtime_ms INTEGER,
          source_ino      INTEGER,
          source_dev      INTEGER,
          staged_image_id TEXT,
          name            TEXT NOT NULL,
          metadata        TEXT NOT NULL DEFAULT '{}',
          priority        INTEGER NOT NULL DEFAULT 0,
          position        INTEGER NOT NULL,
          md5             TEXT,
          sha512          TEXT,
          bwlimit         INTEGER,
          CHECK (source_kind <> 'file' OR source_path IS NOT NULL),
          CHECK (source_kind <> 'staged' OR staged_image_id IS NOT NULL)
        );
        CREATE INDEX jobs_order ON jobs (priority DESC, position ASC);

        CREATE TABLE targets (
          id              TEXT PRIMARY KEY,
          job_id          TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
          cloud           TEXT NOT NULL,
          region          TEXT NOT NULL,
          store           TEXT NOT NULL DEFAULT '',
          method          TEXT NOT NULL DEFAULT 'direct',
          state           TEXT NOT NULL,
          paused_from     TEXT,
          remote_image_id TEXT,
          attempt         INTEGER NOT NULL DEFAULT 0,
          next_attempt_at INTEGER,
          bytes_accepted  INTEGER NOT NULL DEFAULT 0,
          error_code      TEXT,
          error_message   TEXT,
          error_hint      TEXT,
          created_at      INTEGER NOT NULL,
          updated_at      INTEGER NOT NULL,
          UNIQUE (job_id, cloud, region, store)
        );
        CREATE INDEX targets_state ON targets (state);

        CREATE TABLE events (
          id        INTEGER PRIMARY KEY AUTOINCREMENT,
          at        INTEGER NOT NULL,
          actor     TEXT NOT NULL,
          kind      TEXT NOT NULL,
          job_id    TEXT,
          target_id TEXT,
          from_state TEXT,
          to_state  TEXT,
          cloud     TEXT,
          region    TEXT,
          image_id  TEXT,
          detail    TEXT
        );
        CREATE INDEX events_job ON events (job_id, id);

        CREATE TABLE lease (
          id           INTEGER PRIMARY KEY CHECK (id = 1),
          holder       TEXT NOT NULL,
          pid          INTEGER NOT NULL,
          host         TEXT NOT NULL,
          acquired_at  INTEGER NOT NULL,
          heartbeat_at INTEGER NOT NULL
        );

        CREATE TABLE settings (
          key   TEXT PRIMARY KEY,
          value TEXT NOT NULL
        );
      `);
    },
  },
  {
    version: 2,
    name: 'duplicate check: jobs.on_duplicate, targets.image_owned',
    up: (db) => {
      // on_duplicate: 'upload' (always send) or 'reuse' (adopt an active image with the same
      // sha512 in the target). image_owned: 0 for an adopted image, which we must never delete.
      db.exec(`
        ALTER TABLE jobs ADD COLUMN on_duplicate TEXT NOT NULL DEFAULT 'upload';
        ALTER TABLE targets ADD COLUMN image_owned INTEGER NOT NULL DEFAULT 1;
      `);
    },
  },
  {
    version: 3,
    name: 'controls: requests to the engine that holds the lease',
    up: (db) => {
      // Pause/resume/cancel/retry asked by another process (the CLI while the app runs the
      // queue): the holder applies them at its next tick and writes the result.
      db.exec(`
        CREATE TABLE controls (
          id        INTEGER PRIMARY KEY AUTOINCREMENT,
          at        INTEGER NOT NULL,
          actor     TEXT NOT NULL,
          target_id TEXT NOT NULL,
          action    TEXT NOT NULL,
          done_at   INTEGER,
          result    TEXT
        );
        CREATE INDEX controls_open ON controls (done_at, id);
      `);
    },
  },
  {
    version: 4,
    name: 'jobs from a URL (web-download): jobs.source_url, source_kind url',
    rebuildsTables: true,
    up: (db) => {
      // A CHECK constraint cannot be altered in SQLite: the table is rebuilt with the new one.
      db.exec(`
        CREATE TABLE jobs_v4 (
          id              TEXT PRIMARY KEY,
          created_at      INTEGER NOT NULL,
          updated_at      INTEGER NOT NULL,
          source_kind     TEXT NOT NULL CHECK (source_kind IN ('file', 'staged', 'url')),
          source_path     TEXT,
          source_size     INTEGER,
          source_mtime_ms INTEGER,
          source_ino      INTEGER,
          source_dev      INTEGER,
          staged_image_id TEXT,
          source_url      TEXT,
          name            TEXT NOT NULL,
          metadata        TEXT NOT NULL DEFAULT '{}',
          priority        INTEGER NOT NULL DEFAULT 0,
          position        INTEGER NOT NULL,
          md5             TEXT,
          sha512          TEXT,
          bwlimit         INTEGER,
          on_duplicate    TEXT NOT NULL DEFAULT 'upload',
          CHECK (source_kind <> 'file' OR source_path IS NOT NULL),
          CHECK (source_kind <> 'staged' OR staged_image_id IS NOT NULL),
          CHECK (source_kind <> 'url' OR source_url IS NOT NULL)
        );
        INSERT INTO jobs_v4 (id, created_at, updated_at, source_kind, source_path, source_size, source_mtime_ms,
                             source_ino, source_dev, staged_image_id, name, metadata, priority, position, md5, sha512,
                             bwlimit, on_duplicate)
          SELECT id, created_at, updated_at, source_kind, source_path, source_size, source_mtime_ms,
                 source_ino, source_dev, staged_image_id, name, metadata, priority, position, md5, sha512,
                 bwlimit, on_duplicate
          FROM jobs;
        DROP TABLE jobs;
        ALTER TABLE jobs_v4 RENAME TO jobs;
        CREATE INDEX jobs_order ON jobs (priority DESC, position ASC);
      `);
    },
  },
  {
    version: 5,
    name: 'inspection: jobs.inspection, jobs.allow_format_mismatch',
    up: (db) => {
      // inspection: what the file was found to be when queued (JSON, for display and audit).
      // allow_format_mismatch: the user chose to send it under another declared disk_format.
      db.exec(`
        ALTER TABLE jobs ADD COLUMN inspection TEXT;
        ALTER TABLE jobs ADD COLUMN allow_format_mismatch INTEGER NOT NULL DEFAULT 0;
      `);
    },
  },
  {
    version: 6,
    name: 'sync: jobs.remove_staged_after',
    up: (db) => {
      // A sync job (source_kind 'staged') may delete the staged image once every target is verified.
      db.exec(`ALTER TABLE jobs ADD COLUMN remove_staged_after INTEGER NOT NULL DEFAULT 0;`);
    },
  },
  {
    version: 7,
    name: 'distribution: jobs from an image in a cloud (source_kind image), one image id everywhere, why each method',
    rebuildsTables: true,
    up: (db) => {
      // source_image: {"cloud", "region", "id"} of an image a replicate job copies from.
      // image_id: the id every target's image is created with (null: Glance picks one per region).
      // targets.plan_reason: why the planner chose the target's method (shown to the user).
      db.exec(`
        CREATE TABLE jobs_v7 (
          id                    TEXT PRIMARY KEY,
          created_at            INTEGER NOT NULL,
          updated_at            INTEGER NOT NULL,
          source_kind           TEXT NOT NULL CHECK (source_kind IN ('file', 'staged', 'url', 'image')),
          source_path           TEXT,
          source_size           INTEGER,
          source_mtime_ms       INTEGER,
          source_ino            INTEGER,
          source_dev            INTEGER,
          staged_image_id       TEXT,
          source_url            TEXT,
          source_image          TEXT,
          name                  TEXT NOT NULL,
          metadata              TEXT NOT NULL DEFAULT '{}',
          priority              INTEGER NOT NULL DEFAULT 0,
          position              INTEGER NOT NULL,
          md5                   TEXT,
          sha512                TEXT,
          bwlimit               INTEGER,
          on_duplicate          TEXT NOT NULL DEFAULT 'upload',
          inspection            TEXT,
          allow_format_mismatch INTEGER NOT NULL DEFAULT 0,
          remove_staged_after   INTEGER NOT NULL DEFAULT 0,
          image_id              TEXT,
          CHECK (source_kind <> 'file' OR source_path IS NOT NULL),
          CHECK (source_kind <> 'staged' OR staged_image_id IS NOT NULL),
          CHECK (source_kind <> 'url' OR source_url IS NOT NULL),
          CHECK (source_kind <> 'image' OR source_image IS NOT NULL)
        );
        INSERT INTO jobs_v7 (id, created_at, updated_at, source_kind, source_path, source_size, source_mtime_ms,
                             source_ino, source_dev, staged_image_id, source_url, name, metadata, priority, position,
                             md5, sha512, bwlimit, on_duplicate, inspection, allow_format_mismatch, remove_staged_after)
          SELECT id, created_at, updated_at, source_kind, source_path, source_size, source_mtime_ms,
                 source_ino, source_dev, staged_image_id, source_url, name, metadata, priority, position,
                 md5, sha512, bwlimit, on_duplicate, inspection, allow_format_mismatch, remove_staged_after
          FROM jobs;
        DROP TABLE jobs;
        ALTER TABLE jobs_v7 RENAME TO jobs;
        CREATE INDEX jobs_order ON jobs (priority DESC, position ASC);
        ALTER TABLE targets ADD COLUMN plan_reason TEXT;
      `);
    },
  },
  {
    version: 8,
    name: 'saved clouds: a cloud entered in the app, its secret sealed (never in clear)',
    up: (db) => {
      // config: the clouds.yaml block without its secret (JSON). secret: sealed by the codec
      // named in secret_kind (os-keychain, plaintext-opt-in, passphrase).
      db.exec(`
        CREATE TABLE saved_clouds (
          name        TEXT PRIMARY KEY,
          config      TEXT NOT NULL,
          secret      BLOB,
          secret_kind TEXT,
          created_at  INTEGER NOT NULL,
          updated_at  INTEGER NOT NULL,
          CHECK ((secret IS NULL) = (secret_kind IS NULL))
        );
      `);
    },
  },
  {
    version: 9,
    name: 'retries: an interrupted try is not a failed one; transient failures within a time budget',
    up: (db) => {
      // interrupted: the last try was stopped without failing (a crash, a SIGKILL, a pause, a
      // lost lease): the next start continues that attempt instead of counting a new one.
      // failing_since: when the current run of transient failures began (ms; null: none), the
      // start of the retry budget; shifted forward by the time no engine ran.
      db.exec(`
        ALTER TABLE targets ADD COLUMN interrupted INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE targets ADD COLUMN failing_since INTEGER;
        CREATE INDEX events_target ON events (target_id, id);
      `);
    },
  },
  {
    version: 10,
    name: 'relay: an upload through the object store, resumed at the first segment not confirmed',
    up: (db) => {
      // relays: one per target using the relay method, written before its first segment.
      // relay_id names its objects (<install id>/<relay id>/...), segment_size is kept for its
      // life (a changed setting must not move the boundaries of segments already sent),
      // manifest_at: when the SLO manifest was written.
      // relay_segments: a segment Swift stored with the md5 we computed of what we sent.
      db.exec(`
        CREATE TABLE relays (
          target_id    TEXT PRIMARY KEY REFERENCES targets (id) ON DELETE CASCADE,
          relay_id     TEXT NOT NULL UNIQUE,
          container    TEXT NOT NULL,
          prefix       TEXT NOT NULL,
          segment_size INTEGER NOT NULL CHECK (segment_size > 0),
          manifest_at  INTEGER,
          created_at   INTEGER NOT NULL
        );
        CREATE TABLE relay_segments (
          target_id    TEXT NOT NULL REFERENCES relays (target_id) ON DELETE CASCADE,
          idx          INTEGER NOT NULL,
          size         INTEGER NOT NULL,
          md5          TEXT NOT NULL,
          confirmed_at INTEGER NOT NULL,
          PRIMARY KEY (target_id, idx)
        );
      `);
    },
  },
  {
    version: 11,
    name: 'shrink: what each region does with an import, and compressed copies sent in place of a raw file',
    up: (db) => {
      // region_facts: what a probe found about a region (name 'conversion': does an import
      // convert, and to which format), with when; kept per cloud entry and region.
      // targets.send_format: the target is sent a compressed copy in this format (qcow2)
      // instead of the file, decided when it was queued (--shrink, or a region that converts).
      // shrunk_files: the one copy a job's shrinking targets share, in the data folder's cache,
      // recorded once complete; deleted with the file when the job ends.
      db.exec(`
        CREATE TABLE region_facts (
          cloud      TEXT NOT NULL,
          region     TEXT NOT NULL,
          name       TEXT NOT NULL,
          value      TEXT NOT NULL,
          checked_at INTEGER NOT NULL,
          PRIMARY KEY (cloud, region, name)
        );
        ALTER TABLE targets ADD COLUMN send_format TEXT;
        CREATE TABLE shrunk_files (
          job_id     TEXT PRIMARY KEY REFERENCES jobs (id) ON DELETE CASCADE,
          path       TEXT NOT NULL,
          format     TEXT NOT NULL,
          size       INTEGER NOT NULL,
          md5        TEXT NOT NULL,
          sha512     TEXT NOT NULL,
          created_at INTEGER NOT NULL
        );
      `);
    },
  },
  {
    version: 12,
    name: 'catalog: the id a target must create its image with',
    up: (db) => {
      // targets.fixed_image_id: the image id decided when the target was queued (the catalog's
      // id per version and region, the same on every machine); Glance's 409 on a second create
      // with it is the lock between two machines applying one catalog.
      db.exec(`ALTER TABLE targets ADD COLUMN fixed_image_id TEXT;
        CREATE INDEX targets_fixed_image ON targets (fixed_image_id) WHERE fixed_image_id IS NOT NULL;`);
    },
  },
  {
    version: 13,
    name: 'speed: progress samples of the last minutes',
    up: (db) => {
      // One row per progress write (at most one a second per running target), kept half an
      // hour: the speed graphs and the steady ETA of the app and `queue show`, whichever process
      // runs the queue.
      db.exec(`CREATE TABLE progress_samples (
          target_id TEXT NOT NULL REFERENCES targets (id) ON DELETE CASCADE,
          at        INTEGER NOT NULL,
          bytes     INTEGER NOT NULL
        );
        CREATE INDEX progress_samples_at ON progress_samples (at);
        CREATE INDEX progress_samples_target ON progress_samples (target_id, at);`);
    },
  },
];

export const LATEST_VERSION = MIGRATIONS.reduce((v, m) => Math.max(v, m.version), 0);
