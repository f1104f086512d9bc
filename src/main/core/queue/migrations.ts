/**
 * Numbered schema migrations. PRAGMA user_version holds the version reached. Each migration
 * runs in its own transaction: it applies whole or not at all. Never edit a migration that
 * has shipped: add the next one (and a fixture for it in migrations.spec.ts).
 */
import type Database from 'better-sqlite3';

export interface Migration {
  version: number;
  name: string;
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
];

export const LATEST_VERSION = MIGRATIONS.reduce((v, m) => Math.max(v, m.version), 0);
