/**
 * The body of an upload: the file read from byte 0, throttled by the bandwidth buckets, hashed
 * (md5 + sha512, in the reading worker: see io/hashed-read.ts) and counted as it is handed to the
 * HTTP client. Each call of `open()` starts a fresh read and a fresh hash, so a resent request is
 * whole and its hashes describe exactly the bytes that went out.
 */
import type { DataSource } from '../openstack/glance-data';
import type { Digests } from '../io/hasher';
import { HashedRead } from '../io/hashed-read';
import type { TokenBucket } from './token-bucket';

export interface UploadStream {
  source: DataSource;
  /** Digests of the last body opened, once it was read to the end. */
  digests: () => Promise<Digests>;
  dispose: () => Promise<void>;
}

/** A body shared with other uploads of the same file (fan-out): read, throttled and hashed once for all. */
export interface SharedBody {
  body: SharedBranch;
  digests: () => Promise<Digests>;
}

/** One upload's view of a shared read; `detach` lets the others go on without it. */
export interface SharedBranch extends AsyncIterable<Buffer> {
  detach: () => void;
}

export function uploadStream(
  path: string,
  size: number,
  opts: {
    buckets: TokenBucket[];
    signal?: AbortSignal;
    onBytes?: (sent: number) => void;
    shared?: SharedBody;
    /** Send from this byte on (a resumed upload); the digests still cover the whole file. */
    start?: number;
  },
): UploadStream {
  const start = opts.start ?? 0;
  let read: HashedRead | undefined;
  let usingShared = false;
  const open = (): AsyncIterable<Buffer> => {
    // The shared branch serves the first request only; a resend (after a 401) reads on its own.
    if (opts.shared !== undefined && !usingShared && read === undefined) {
      usingShared = true;
      return opts.shared.body;
    }
    if (usingShared) {
      opts.shared?.body.detach();
      usingShared = false;
    }
    void read?.dispose(); // a body opened again: the earlier read is over
    const r = HashedRead.start(path, size, { from: start });
    read = r;
    async function* body(): AsyncGenerator<Buffer> {
      let sent = start;
      for await (const buf of r) {
        opts.signal?.throwIfAborted();
        for (const b of opts.buckets) await b.take(buf.length, opts.signal);
        sent += buf.length;
        opts.onBytes?.(sent);
        yield buf;
      }
    }
    return body();
  };
  return {
    source: { open, size: size - start },
    digests: async () => {
      if (usingShared && opts.shared !== undefined) return opts.shared.digests();
      if (read === undefined) throw new Error('the upload body was not read to the end');
      return read.digests();
    },
    dispose: async () => {
      await read?.dispose();
    },
  };
}
