/**
 * What every command that touches the queue opens: the data folder's database and an engine
 * (with the clouds saved in the app, their secrets opened with the CLI's passphrase, and the
 * local cloud), closed whatever happens.
 */
import { Engine } from '../clouds/engine';
import { SavedClouds } from '../clouds/saved-clouds';
import { PassphraseCodec } from '../clouds/secret-codec';
import { withLocalCloud } from '../distribution/local-cloud';
import { dataHome, ensureDataHome } from '../io/data-home';
import { databasePath, openDatabase, type Db } from '../queue/database';
import type { CliIo } from './io';

export interface Ctx {
  io: CliIo;
  db: Db;
  engine: Engine;
  json: boolean;
  /** --retry-for: how long transient failures are retried (else the setting, else 24 h). */
  retryBudgetMs?: number;
  /** --import-stall: how long an import may show no change before it is made again. */
  importStallMs?: number;
}

/**
 * The clouds saved in the app, as the CLI may use them: a secret sealed with a passphrase opens
 * with GLANCE_UPLOADER_SECRET_KEY; one in the app's OS keychain does not (the error says so).
 */
export function cliSavedClouds(db: Db, env: Record<string, string | undefined>): SavedClouds {
  const key = env.GLANCE_UPLOADER_SECRET_KEY;
  return new SavedClouds(db, key !== undefined && key !== '' ? new PassphraseCodec(key) : undefined);
}

export function open(io: CliIo): { db: Db; engine: Engine } {
  const home = ensureDataHome(dataHome(io.env));
  const db = openDatabase(databasePath(home));
  return {
    db,
    engine: new Engine(withLocalCloud({ env: io.env, cwd: io.cwd, savedClouds: cliSavedClouds(db, io.env) })),
  };
}

/** Open the data folder's database and an engine, run `fn`, and close both whatever happens. */
export async function withContext<T>(io: CliIo, fn: (c: { db: Db; engine: Engine }) => Promise<T>): Promise<T> {
  const c = open(io);
  try {
    return await fn(c);
  } finally {
    await c.engine.close();
    c.db.close();
  }
}
