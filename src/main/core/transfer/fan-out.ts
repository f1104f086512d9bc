/**
 * One read of a file for several uploads at once (one job, N regions): each branch is a Readable
 * for one target's request body. The next chunk is read only when every attached branch wants
 * more, so the slowest upload sets the pace and memory stays at a few chunks whatever the size.
 * A branch whose upload fails, pauses or is canceled is detached and the others go on. The data
 * is hashed once, for all; `bytesRead` counts what was read from disk.
 */
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { Hasher, type Digests } from '../io/hasher';
import type { TokenBucket } from './token-bucket';

interface Branch {
  stream: Readable;
  wanting: boolean;
  attached: boolean;
  sent: number;
  onBytes?: (sent: number) => void;
  wake?: () => void;
}

export class FanOut {
  readonly #branches: Branch[] = [];
  /** Started with the read (a worker thread): not before anything is read. */
  #hasher: Hasher | undefined;
  #started = false;
  /** The read, once started: it ends right after the last chunk went out. */
  #run_: Promise<void> | undefined;
  #digests: Promise<Digests> | undefined;
  #complete = false;
  bytesRead = 0;

  constructor(
    private readonly path: string,
    private readonly buckets: TokenBucket[] = [],
    private readonly chunkSize = 1024 * 1024,
  ) {}

  /** A body for one more upload. All branches must be taken before the first one is read. */
  branch(onBytes?: (sent: number) => void): Readable {
    if (this.#started) throw new Error('FanOut: all branches must be made before reading starts');
    const b: Branch = { wanting: false, attached: true, sent: 0, onBytes, stream: undefined as unknown as Readable };
    b.stream = new Readable({
      read: () => {
        b.wanting = true;
        b.wake?.();
        if (!this.#started) this.#run_ = this.#run();
      },
      destroy: (err, cb) => {
        this.#detach(b);
        cb(err);
      },
    });
    this.#branches.push(b);
    return b.stream;
  }

  #detach(b: Branch): void {
    if (!b.attached) return;
    b.attached = false;
    for (const other of this.#branches) other.wake?.();
  }

  /** True when the whole file went through: the digests describe it. */
  get complete(): boolean {
    return this.#complete;
  }

  /**
   * md5 and sha512 of the whole file, once it was read to the end. A server that knows the size
   * answers as soon as the last byte arrives, which can be before the read noticed the end of
   * the file: the read is awaited first (it ends at once, the last chunk being out).
   */
  async digests(): Promise<Digests> {
    await this.#run_;
    if (!this.#complete) throw new Error('FanOut: the file was not read to the end');
    if (this.#hasher === undefined) throw new Error('FanOut: nothing was read');
    this.#digests ??= this.#hasher.digest();
    return this.#digests;
  }

  async #allWanting(): Promise<void> {
    for (;;) {
      const live = this.#branches.filter((b) => b.attached);
      if (live.every((b) => b.wanting)) return;
      await new Promise<void>((resolve) => {
        for (const b of live) b.wake = resolve;
      });
    }
  }

  async #run(): Promise<void> {
    this.#started = true;
    const hasher = Hasher.start(this.path);
    this.#hasher = hasher;
    try {
      for await (const chunk of createReadStream(this.path, { highWaterMark: this.chunkSize })) {
        const buf = chunk as Buffer;
        this.bytesRead += buf.length;
        await this.#allWanting();
        const live = this.#branches.filter((b) => b.attached);
        if (live.length === 0) break; // every upload went away: stop reading
        for (const bucket of this.buckets) await bucket.take(buf.length * live.length);
        await hasher.advance(buf.length);
        for (const b of live) {
          b.sent += buf.length;
          b.wanting = b.stream.push(buf);
          b.onBytes?.(b.sent);
        }
      }
      if (this.#branches.some((b) => b.attached)) this.#complete = true;
      for (const b of this.#branches) if (b.attached) b.stream.push(null);
    } catch (e) {
      for (const b of this.#branches) if (b.attached) b.stream.destroy(e as Error);
    } finally {
      if (!this.#complete) await hasher.dispose();
    }
  }

  async dispose(): Promise<void> {
    for (const b of this.#branches) if (b.attached) b.stream.destroy();
    if (!this.#complete) await this.#hasher?.dispose();
  }
}
