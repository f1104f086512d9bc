/**
 * The queue's SQLite database: one file in the data folder, WAL (readers never block the
 * writer; the CLI and the app can share it), synchronous=FULL (a state change that returned is
 * on disk, power loss included), foreign keys on, a busy timeout so two processes wait for each
 * other instead of failing. Opening migrates it to the latest schema.
 */
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import { EngineError } from '../io/errors';
import { openSqlite } from '../sqlite/open-sqlite';
import { LATEST_VERSION, MIGRATIONS, type Migration } from './migrations';

export type Db = Database.Database;

export const DATABASE_FILE = 'queue.sqlite3';

export function databasePath(home: string): string {
  return join(home, DATABASE_FILE);
}

export function schemaVersion(db: Db): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/** Apply the migrations above the database's version, up to `target`, one transaction each. */
function refuseTooNew(db: Db): void {
  const current = schemaVersion(db);
  if (current > LATEST_VERSION) {
    throw new EngineError(
      'db.too_new',
      `The queue database has schema version ${current}; this Glance Uploader knows up to ${LATEST_VERSION}.`,
      {
        hint: 'A newer version of Glance Uploader wrote it: update this one. The database was not changed.',
      },
    );
  }
}

export function migrate(db: Db, target: number = LATEST_VERSION, migrations: Migration[] = MIGRATIONS): void {
  refuseTooNew(db);
  const current = schemaVersion(db);
  for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
    if (m.version <= current || m.version > target) continue;
    // PRAGMA foreign_keys is a no-op inside a transaction: switch it around the transaction.
    const foreignKeys = db.pragma('foreign_keys', { simple: true }) as number;
    if (m.rebuildsTables) db.pragma('foreign_keys = OFF');
    try {
      db.transaction(() => {
        m.up(db);
        const broken = db.pragma('foreign_key_check') as unknown[];
        if (broken.length > 0) throw new Error(`${broken.length} row(s) would break a foreign key`);
        db.pragma(`user_version = ${m.version}`);
      }).immediate();
    } catch (e) {
      throw new EngineError(
        'db.migration_failed',
        `Migration ${m.version} (${m.name}) failed: ${(e as Error).message}`,
        {
          hint: 'The database was left at the previous version. Keep a copy of it and report the problem.',
        },
      );
    } finally {
      if (m.rebuildsTables) db.pragma(`foreign_keys = ${foreignKeys ? 'ON' : 'OFF'}`);
    }
  }
}

export function openDatabase(path: string, options: { migrate?: boolean } = {}): Db {
  let db: Db;
  try {
    db = openSqlite(path);
  } catch (e) {
    if (e instanceof EngineError) throw e; // the native module's own code and fix
    throw new EngineError('db.unavailable', `Cannot open the queue database ${path}: ${(e as Error).message}`, {
      hint: 'Check that the data folder exists and is writable (GLANCE_UPLOADER_HOME overrides it).',
    });
  }
  // Before anything that writes (WAL mode rewrites the header): a newer app's file stays as it is.
  try {
    refuseTooNew(db);
  } catch (e) {
    db.close();
    throw e;
  }
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 10000');
  if (options.migrate ?? true) {
    try {
      migrate(db);
    } catch (e) {
      db.close();
      throw e;
    }
  }
  return db;
}
