/**
 * The body of an upload: the file read from byte 0, throttled by the bandwidth buckets, hashed
 * (md5 + sha512, in a worker) and counted as it is handed to the HTTP client. Each call of
 * `open()` starts a fresh read and a fresh hash, so a resent request is whole and its hashes
 * describe exactly the bytes that went out.
 */
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import type { DataSource } from '../openstack/glance-data';
import { Hasher, type Digests } from '../io/hasher';
import type { TokenBucket } from './token-bucket';

export interface UploadStream {
  source: DataSource;
  /** Digests of the last body opened, once it was read to the end. */
  digests: () => Promise<Digests>;
  dispose: () => Promise<void>;
}

/** A body shared with other uploads of the same file (fan-out): read, throttled and hashed once for all. */
export interface SharedBody {
  stream: Readable;
  digests: () => Promise<Digests>;
}

export function uploadStream(
  path: string,
  size: number,
  opts: {
    buckets: TokenBucket[];
    signal?: AbortSignal;
    onBytes?: (sent: number) => void;
    chunkSize?: number;
    shared?: SharedBody;
    /** Send from this byte on (a resumed upload); the digests still cover the whole file. */
    start?: number;
  },
): UploadStream {
  const start = opts.start ?? 0;
  let hasher: Hasher | undefined;
  let finished = false;
  let usingShared = false;
  let reading: Readable | undefined;
  const open = (): Readable => {
    // The shared branch serves the first request only; a resend (after a 401) reads on its own.
    if (opts.shared !== undefined && !usingShared && hasher === undefined) {
      usingShared = true;
      return opts.shared.stream;
    }
    if (usingShared) {
      opts.shared?.stream.destroy();
      usingShared = false;
    }
    void hasher?.dispose();
    const h = Hasher.start(path);
    hasher = h;
    finished = false;
    reading?.destroy(); // a body opened again: the earlier read is over
    const chunks = createReadStream(path, { highWaterMark: opts.chunkSize ?? 1024 * 1024, signal: opts.signal, start });
    reading = chunks;
    // Errors reach the reader through the iterator below. A body never read (its request failed
    // first) must not crash the process when the abort signal fires: its AbortError has no reader.
    chunks.on('error', () => undefined);
    async function* body(): AsyncGenerator<Buffer> {
      // The bytes the server already has are hashed (read by the worker), not sent.
      if (start > 0) await h.advance(start);
      let sent = start;
      for await (const chunk of chunks) {
        const buf = chunk as Buffer;
        for (const b of opts.buckets) await b.take(buf.length, opts.signal);
        await h.advance(buf.length);
        sent += buf.length;
        opts.onBytes?.(sent);
        yield buf;
      }
      finished = true;
    }
    return Readable.from(body(), { objectMode: false });
  };
  return {
    source: { open, size: size - start },
    digests: async () => {
      if (usingShared && opts.shared !== undefined) return opts.shared.digests();
      if (hasher === undefined || !finished) throw new Error('the upload body was not read to the end');
      return hasher.digest();
    },
    dispose: async () => {
      reading?.destroy();
      await hasher?.dispose();
    },
  };
}
