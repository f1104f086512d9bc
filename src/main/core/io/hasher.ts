/**
 * md5 and sha512 of a file's bytes as they are uploaded, computed in a worker thread so that
 * hashing gigabytes never blocks the event loop. No data crosses threads: the worker reads the
 * same byte range from the file itself (hot in the page cache: the upload just read it) into
 * one reused buffer, so memory stays constant whatever the size. The uploader says how far it
 * got (`advance`); when the worker is more than `maxLag` bytes behind, `advance` waits
 * (backpressure). A file that changes meanwhile is caught by the identity check before and
 * after the upload, and by the comparison with Glance's own hashes.
 */
import { createHash } from 'node:crypto';
import { Worker } from 'node:worker_threads';

// Plain CommonJS, evaluated: no file to bundle or find at run time.
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const { openSync, readSync, closeSync } = require('node:fs');
const algorithms = workerData.algorithms || ['md5', 'sha512'];
const hashes = algorithms.map((a) => createHash(a));
const buf = Buffer.allocUnsafe(1024 * 1024);
let fd = -1;
let pos = 0;
parentPort.on('message', (m) => {
  try {
    if (m.type === 'advance') {
      if (fd < 0) fd = openSync(workerData.path, 'r');
      while (pos < m.to) {
        const n = readSync(fd, buf, 0, Math.min(buf.length, m.to - pos), pos);
        if (n === 0) throw new Error('the file is shorter than what was sent (' + pos + ' < ' + m.to + ')');
        for (const h of hashes) h.update(buf.subarray(0, n));
        pos += n;
      }
      parentPort.postMessage({ type: 'ack', pos });
    } else if (m.type === 'digest') {
      if (fd >= 0) closeSync(fd);
      const out = { type: 'digest', pos };
      algorithms.forEach((a, i) => (out[a] = hashes[i].digest('hex')));
      parentPort.postMessage(out);
    }
  } catch (e) {
    parentPort.postMessage({ type: 'error', message: e.message });
  }
});
`;

export interface Digests {
  md5: string;
  sha512: string;
}

export class Hasher {
  readonly #worker: Worker;
  #requested = 0;
  #hashed = 0;
  #waiters: (() => void)[] = [];
  #digest: ((d: Digests) => void) | undefined;
  #failed: Error | undefined;

  private constructor(
    readonly path: string,
    private readonly maxLag: number,
    worker: Worker,
  ) {
    this.#worker = worker;
    this.#worker.on('message', (m: { type: string; pos?: number; md5?: string; sha512?: string; message?: string }) => {
      if (m.type === 'ack') this.#hashed = m.pos ?? this.#hashed;
      else if (m.type === 'digest') this.#digest?.({ md5: m.md5 ?? '', sha512: m.sha512 ?? '' });
      else if (m.type === 'error') this.#failed = new Error(`hashing ${path}: ${m.message ?? 'failed'}`);
      this.#wake();
    });
    this.#worker.on('error', (e) => {
      this.#failed = e;
      this.#wake();
    });
  }

  /**
   * A hasher of `path` with its worker thread started. `maxLag`: how far the caller may run
   * ahead of the worker; `algorithms`: both digests by default, one each in a SplitHasher.
   */
  static start(path: string, maxLag = 8 * 1024 * 1024, algorithms: ('md5' | 'sha512')[] = ['md5', 'sha512']): Hasher {
    return new Hasher(path, maxLag, new Worker(WORKER, { eval: true, workerData: { path, algorithms } }));
  }

  #wake(): void {
    while (this.#waiters.length > 0 && (this.pending < this.maxLag || this.#failed)) this.#waiters.shift()?.();
  }

  /** Bytes sent but not hashed yet. */
  get pending(): number {
    return this.#requested - this.#hashed;
  }

  /** Bytes asked to be hashed so far. */
  get bytes(): number {
    return this.#requested;
  }

  /** `n` more bytes of the file went out: hash them too. Waits while the worker lags too far behind. */
  async advance(n: number): Promise<void> {
    if (this.#failed) throw this.#failed;
    this.#requested += n;
    this.#worker.postMessage({ type: 'advance', to: this.#requested });
    if (this.pending >= this.maxLag) await new Promise<void>((r) => this.#waiters.push(r));
    if (this.#failed) throw this.#failed;
  }

  /** Final digests of bytes [0, bytes); the hasher cannot be used afterwards. */
  async digest(): Promise<Digests> {
    if (this.#failed) throw this.#failed;
    const d = await new Promise<Digests>((resolve, reject) => {
      this.#digest = resolve;
      this.#worker.once('error', reject);
      this.#worker.postMessage({ type: 'digest' });
    });
    await this.#worker.terminate();
    if (this.#failed) throw this.#failed;
    return d;
  }

  async dispose(): Promise<void> {
    await this.#worker.terminate();
  }
}

/**
 * md5 and sha512 in two workers, one each: on two cores or more, twice the hashing speed of
 * one worker (md5 + sha512 is about 3 s of CPU per GiB), for the embedded server's ingest.
 */
export class SplitHasher {
  private constructor(
    private readonly md5: Hasher,
    private readonly sha512: Hasher,
  ) {}

  /** Two hashers of `path`, their workers started. */
  static start(path: string, maxLag = 32 * 1024 * 1024): SplitHasher {
    return new SplitHasher(Hasher.start(path, maxLag, ['md5']), Hasher.start(path, maxLag, ['sha512']));
  }

  get pending(): number {
    return Math.max(this.md5.pending, this.sha512.pending);
  }

  async advance(n: number): Promise<void> {
    await Promise.all([this.md5.advance(n), this.sha512.advance(n)]);
  }

  async digest(): Promise<Digests> {
    const [a, b] = await Promise.all([this.md5.digest(), this.sha512.digest()]);
    return { md5: a.md5, sha512: b.sha512 };
  }

  async dispose(): Promise<void> {
    await Promise.all([this.md5.dispose(), this.sha512.dispose()]);
  }
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
