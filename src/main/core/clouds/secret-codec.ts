/**
 * How a secret (a password, an application credential's secret) is sealed before it reaches the
 * database. The engine never chooses: the app gives it the OS keychain (Electron safeStorage,
 * src/main/electron/keychain-codec.ts), the CLI a passphrase from GLANCE_UPLOADER_SECRET_KEY. A
 * secret sealed by one kind cannot be opened by another, and says so.
 */
import { createCipheriv, createDecipheriv, randomBytes, scryptSync } from 'node:crypto';
import { EngineError } from '../io/errors';

export type SecretKind = 'os-keychain' | 'plaintext-opt-in' | 'passphrase';

export interface SecretCodec {
  readonly kind: SecretKind;
  seal(plain: string): Buffer;
  open(sealed: Buffer): string;
}

const MAGIC = Buffer.from('GUP1');

/**
 * AES-256-GCM under a key derived from a passphrase (scrypt, a fresh salt per secret): what the
 * CLI uses, with the passphrase in GLANCE_UPLOADER_SECRET_KEY. Tampering or another passphrase
 * fails the tag check.
 */
export class PassphraseCodec implements SecretCodec {
  readonly kind = 'passphrase';

  constructor(private readonly passphrase: string) {
    if (passphrase.length < 12)
      throw new EngineError('secrets.unavailable', 'GLANCE_UPLOADER_SECRET_KEY is shorter than 12 characters.', {
        hint: 'Use a long random passphrase (openssl rand -base64 24), kept out of shell history.',
      });
  }

  seal(plain: string): Buffer {
    const salt = randomBytes(16);
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.#key(salt), iv);
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return Buffer.concat([MAGIC, salt, iv, cipher.getAuthTag(), body]);
  }

  open(sealed: Buffer): string {
    if (sealed.length < 48 || !sealed.subarray(0, 4).equals(MAGIC))
      throw new EngineError('secrets.undecryptable', 'A saved secret is not in the passphrase format.', {
        hint: 'It was saved by the app (OS keychain): enter the password again here, or use the app.',
      });
    const salt = sealed.subarray(4, 20);
    const iv = sealed.subarray(20, 32);
    const tag = sealed.subarray(32, 48);
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.#key(salt), iv);
      decipher.setAuthTag(tag);
      return Buffer.concat([decipher.update(sealed.subarray(48)), decipher.final()]).toString('utf8');
    } catch {
      throw new EngineError('secrets.undecryptable', 'A saved secret cannot be opened with this passphrase.', {
        hint: 'Set GLANCE_UPLOADER_SECRET_KEY to the passphrase it was saved with, or save the cloud again.',
      });
    }
  }

  #key(salt: Buffer): Buffer {
    return scryptSync(this.passphrase, salt, 32, { N: 1 << 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 });
  }
}
