import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../queue/database';
import { SavedClouds } from './saved-clouds';
import { PassphraseCodec } from './secret-codec';
import { codeOf } from '../../../../test/support/engine-error';

const PASSWORD = 'correct-horse-battery-staple-4417';
let dir: string;
let db: Db;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'gu-secrets-'));
  db = openDatabase(join(dir, 'q.sqlite3'));
});
afterEach(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Every byte SQLite wrote: the database file and its write-ahead log. */
function onDisk(): string {
  return ['q.sqlite3', 'q.sqlite3-wal']
    .map((f) => join(dir, f))
    .filter((f) => existsSync(f))
    .map((f) => readFileSync(f).toString('latin1'))
    .join('');
}

const block = {
  auth: { auth_url: 'https://keystone.example:5000/v3', username: 'ops', password: PASSWORD, project_name: 'p' },
  region_name: 'RegionOne',
};

describe('saved clouds', () => {
  it('keeps the password sealed on disk, and opens it only in memory', () => {
    const saved = new SavedClouds(db, new PassphraseCodec('a long enough passphrase'));
    saved.save('prod', block);
    expect(onDisk()).not.toContain(PASSWORD);
    expect(onDisk()).toContain('keystone.example'); // the rest is there, readable
    expect(saved.list()).toEqual([
      {
        name: 'prod',
        authUrl: 'https://keystone.example:5000/v3',
        secretKind: 'passphrase',
        updatedAt: expect.any(Number),
      },
    ]);
    expect(saved.config('prod')?.auth).not.toHaveProperty('password');
    expect(saved.load('prod')).toEqual(block);
    // Another process, the same passphrase: opens; another passphrase: a clear refusal.
    expect(new SavedClouds(db, new PassphraseCodec('a long enough passphrase')).load('prod')).toEqual(block);
    expect(codeOf(() => new SavedClouds(db, new PassphraseCodec('another passphrase!')).load('prod'))).toBe(
      'secrets.undecryptable',
    );
  });

  it('refuses what it cannot keep safely: no codec, a token, two secrets; a secret of another kind says where it is', () => {
    expect(codeOf(() => new SavedClouds(db).save('x', block))).toBe('secrets.unavailable');
    const saved = new SavedClouds(db, new PassphraseCodec('a long enough passphrase'));
    expect(codeOf(() => saved.save('t', { auth: { auth_url: 'https://k/v3', token: 'gAAAA' } }))).toBe(
      'config.invalid',
    );
    expect(
      codeOf(() =>
        saved.save('two', { auth: { auth_url: 'https://k/v3', password: 'a', application_credential_secret: 'b' } }),
      ),
    ).toBe('config.invalid');
    saved.save('prod', block);
    const keychain = { kind: 'os-keychain' as const, seal: () => Buffer.alloc(0), open: () => '' };
    expect(codeOf(() => new SavedClouds(db, keychain).load('prod'))).toBe('secrets.unavailable');
    expect(codeOf(() => new SavedClouds(db).load('prod'))).toBe('secrets.unavailable');
    expect(codeOf(() => new PassphraseCodec('short'))).toBe('secrets.unavailable');
    // A cloud without a secret (an SSO-less token-free entry) needs no codec at all.
    new SavedClouds(db).save('open', { auth: { auth_url: 'https://k/v3' } });
    expect(new SavedClouds(db).load('open')).toEqual({ auth: { auth_url: 'https://k/v3' } });
    saved.remove('prod');
    expect(codeOf(() => saved.load('prod'))).toBe('config.cloud_not_found');
  });
});
