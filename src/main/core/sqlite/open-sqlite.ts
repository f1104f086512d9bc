/**
 * Every SQLite database of ours (the queue, the embedded server's images) opens here, with the
 * native module built for this runtime (see native-binding.ts).
 */
import Database from 'better-sqlite3';
import { loadNativeBinding } from './native-binding';

export type SqliteDb = Database.Database;

export function openSqlite(path: string, options: Database.Options = {}): SqliteDb {
  return new Database(path, { ...options, nativeBinding: loadNativeBinding() as unknown as string });
}
