/**
 * Clouds entered in the app (a login form), kept in the queue database: the clouds.yaml-like
 * block without its secret, and the secret (password, application credential secret) sealed by
 * a SecretCodec. The secret is taken out of the block before anything is written, so it never
 * reaches the database, the events or the logs in clear. Tokens are never saved.
 */
import { EngineError } from '../io/errors';
import type { Db } from '../queue/database';
import type { SecretCodec, SecretKind } from './secret-codec';

/** The keys of a cloud block (auth) that hold a secret. */
const SECRET_KEYS = ['password', 'application_credential_secret'] as const;

export interface SavedCloudSummary {
  name: string;
  authUrl: string;
  secretKind: SecretKind | null;
  updatedAt: number;
}

type Block = Record<string, unknown> & { auth?: Record<string, unknown> };

export class SavedClouds {
  /** Opened blocks, by name, while the row is unchanged (opening a passphrase secret costs ~0.1 s). */
  readonly #opened = new Map<string, { updatedAt: number; block: Block }>();

  constructor(
    private readonly db: Db,
    /**
     * How secrets are sealed here; a function is called when a secret is first needed (the app's
     * keychain is known only once Electron is ready, and its refusal is the error to show).
     * Undefined: secrets cannot be sealed or opened here (clouds without one still work).
     */
    private readonly codecSource?: SecretCodec | (() => SecretCodec),
  ) {}

  #codecValue: SecretCodec | undefined;

  get codec(): SecretCodec | undefined {
    if (this.#codecValue === undefined && this.codecSource !== undefined)
      this.#codecValue = typeof this.codecSource === 'function' ? this.codecSource() : this.codecSource;
    return this.#codecValue;
  }

  /** Save (or replace) a cloud. Its secret goes through the codec; a block with a token is refused. */
  save(name: string, block: Block): void {
    const auth = { ...(block.auth ?? {}) };
    if (auth.token !== undefined)
      throw new EngineError('config.invalid', 'A token is never saved: it expires.', {
        hint: 'Save the password or an application credential instead.',
      });
    const found = SECRET_KEYS.filter((k) => typeof auth[k] === 'string' && auth[k] !== '');
    if (found.length > 1)
      throw new EngineError(
        'config.invalid',
        `Cloud "${name}" has both a password and an application credential secret.`,
        {
          hint: 'Keep one way to log in.',
        },
      );
    const key = found[0];
    let secret: Buffer | null = null;
    if (key !== undefined) {
      if (this.codec === undefined)
        throw new EngineError('secrets.unavailable', `There is no safe place to keep the secret of "${name}" here.`, {
          hint: 'In the CLI, set GLANCE_UPLOADER_SECRET_KEY (a passphrase), or keep the cloud in clouds.yaml.',
        });
      secret = this.codec.seal(String(auth[key]));
      auth[`${key}_sealed`] = true; // where the secret goes back when opened
      delete auth[key];
    }
    this.#opened.delete(name);
    const now = Date.now();
    this.db
      .prepare(
        `INSERT INTO saved_clouds (name, config, secret, secret_kind, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (name) DO UPDATE SET config = excluded.config, secret = excluded.secret,
           secret_kind = excluded.secret_kind, updated_at = excluded.updated_at`,
      )
      .run(
        name,
        JSON.stringify({ ...block, auth }),
        secret,
        secret === null ? null : (this.codec?.kind ?? null),
        now,
        now,
      );
  }

  list(): SavedCloudSummary[] {
    return (
      this.db.prepare('SELECT name, config, secret_kind, updated_at FROM saved_clouds ORDER BY name').all() as {
        name: string;
        config: string;
        secret_kind: SecretKind | null;
        updated_at: number;
      }[]
    ).map((r) => ({
      name: r.name,
      authUrl: String((JSON.parse(r.config) as Block).auth?.auth_url ?? ''),
      secretKind: r.secret_kind,
      updatedAt: r.updated_at,
    }));
  }

  /** The block without its secret (for listing: nothing is opened). */
  config(name: string): Block | undefined {
    const row = this.db.prepare('SELECT config FROM saved_clouds WHERE name = ?').get(name) as
      { config: string } | undefined;
    if (row === undefined) return undefined;
    const block = JSON.parse(row.config) as Block;
    const auth = { ...(block.auth ?? {}) };
    for (const k of SECRET_KEYS) delete auth[`${k}_sealed`];
    return { ...block, auth };
  }

  has(name: string): boolean {
    return this.db.prepare('SELECT 1 FROM saved_clouds WHERE name = ?').get(name) !== undefined;
  }

  /** The whole block, its secret opened: only in memory, for the session that logs in. */
  load(name: string): Block {
    const row = this.db
      .prepare('SELECT config, secret, secret_kind, updated_at FROM saved_clouds WHERE name = ?')
      .get(name) as
      { config: string; secret: Buffer | null; secret_kind: SecretKind | null; updated_at: number } | undefined;
    if (row === undefined)
      throw new EngineError('config.cloud_not_found', `No saved cloud named "${name}".`, {
        hint: 'The app lists the saved clouds; clouds.yaml ones are found as the openstack CLI finds them.',
      });
    const cached = this.#opened.get(name);
    if (cached !== undefined && cached.updatedAt === row.updated_at) return cached.block;
    const block = JSON.parse(row.config) as Block;
    if (row.secret === null) return block;
    if (this.codec === undefined || this.codec.kind !== row.secret_kind)
      throw new EngineError(
        'secrets.unavailable',
        `The secret of "${name}" is kept by ${row.secret_kind === 'passphrase' ? 'a passphrase (GLANCE_UPLOADER_SECRET_KEY)' : "the app's OS keychain"}, which is not available here.`,
        {
          hint:
            row.secret_kind === 'passphrase'
              ? 'Set GLANCE_UPLOADER_SECRET_KEY to that passphrase.'
              : 'Use the app for this cloud, or add it to clouds.yaml for the CLI.',
        },
      );
    const auth = { ...(block.auth ?? {}) };
    const plain = this.codec.open(row.secret);
    for (const k of SECRET_KEYS)
      if (auth[`${k}_sealed`] === true) {
        delete auth[`${k}_sealed`];
        auth[k] = plain;
      }
    const opened = { ...block, auth };
    this.#opened.set(name, { updatedAt: row.updated_at, block: opened });
    return opened;
  }

  remove(name: string): void {
    this.#opened.delete(name);
    this.db.prepare('DELETE FROM saved_clouds WHERE name = ?').run(name);
  }
}
