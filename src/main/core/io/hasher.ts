/**
 * md5 and sha512 (Glance's `checksum` and `os_hash_value`): their digests, and the hashing of
 * bytes already in memory on this thread. Files are hashed off the event loop where they are
 * read: io/hashed-read.ts (uploads), io/ingest-ring.ts (the local server's ingest).
 */
import { createHash } from 'node:crypto';

export interface Digests {
  md5: string;
  sha512: string;
}

/** md5 and sha512 of bytes as they pass, on this thread, with their count (where bytes arrive already in memory). */
export function digestsOf(): {
  update: (c: Buffer) => void;
  bytes: () => number;
  digests: () => Digests;
} {
  const md5 = createHash('md5');
  const sha512 = createHash('sha512');
  let bytes = 0;
  return {
    update: (c) => {
      bytes += c.length;
      md5.update(c);
      sha512.update(c);
    },
    bytes: () => bytes,
    digests: () => ({ md5: md5.digest('hex'), sha512: sha512.digest('hex') }),
  };
}
