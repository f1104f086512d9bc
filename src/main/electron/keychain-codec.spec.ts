import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';

vi.mock('electron', () => ({})); // the codec takes safeStorage as an argument: nothing of electron runs here

import type { SafeStorage } from 'electron';
import { openDatabase } from '../core/queue/database';
import { SavedClouds } from '../core/clouds/saved-clouds';
import { keychainCodec } from './keychain-codec';
import { codeOf } from '../../../test/support/engine-error';

/** A stand-in for safeStorage: AES under a key "in the keychain", with the backend it reports. */
function fakeSafeStorage(o: { available?: boolean; backend?: string } = {}): SafeStorage {
  const key = randomBytes(32);
  return {
    isEncryptionAvailable: () => o.available ?? true,
    getSelectedStorageBackend: () => o.backend ?? 'gnome_libsecret',
    encryptString: (plain: string) => {
      const iv = randomBytes(16);
      const c = createCipheriv('aes-256-cbc', key, iv);
      return Buffer.concat([iv, c.update(plain, 'utf8'), c.final()]);
    },
    decryptString: (sealed: Buffer) => {
      const d = createDecipheriv('aes-256-cbc', key, sealed.subarray(0, 16));
      return Buffer.concat([d.update(sealed.subarray(16)), d.final()]).toString('utf8');
    },
  } as unknown as SafeStorage;
}

describe('keychain codec (safeStorage)', () => {
  it('round-trips a saved password through the keychain; the SQLite file never holds it in clear', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gu-keychain-'));
    const db = openDatabase(join(dir, 'q.sqlite3'));
    try {
      const secret = 'app-credential-secret-9c41f7e2';
      const saved = new SavedClouds(db, keychainCodec(fakeSafeStorage(), false, 'linux'));
      const block = {
        auth_type: 'v3applicationcredential',
        auth: { auth_url: 'https://k/v3', application_credential_id: 'ac1', application_credential_secret: secret },
      };
      saved.save('prod', block);
      expect(saved.list()[0]?.secretKind).toBe('os-keychain');
      expect(saved.load('prod')).toEqual(block);
      const bytes = ['q.sqlite3', 'q.sqlite3-wal']
        .map((f) => join(dir, f))
        .filter((f) => existsSync(f))
        .map((f) => readFileSync(f).toString('latin1'))
        .join('');
      expect(bytes).toContain('ac1');
      expect(bytes).not.toContain(secret);
    } finally {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses without a keychain, and refuses the plain-text fallback unless the user opted in', () => {
    expect(codeOf(() => keychainCodec(fakeSafeStorage({ available: false }), true, 'linux'))).toBe(
      'secrets.unavailable',
    );
    expect(codeOf(() => keychainCodec(fakeSafeStorage({ backend: 'basic_text' }), false, 'linux'))).toBe(
      'secrets.plaintext_refused',
    );
    expect(keychainCodec(fakeSafeStorage({ backend: 'basic_text' }), true, 'linux').kind).toBe('plaintext-opt-in');
    expect(keychainCodec(fakeSafeStorage({ backend: 'basic_text' }), false, 'darwin').kind).toBe('os-keychain');
  });
});
