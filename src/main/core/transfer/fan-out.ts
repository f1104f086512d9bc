/**
 * One read of a file for several uploads at once (one job, N regions): each branch is an async
 * iterable for one target's request body. The next chunk is read only when every attached branch
 * asked for it, so the slowest upload sets the pace, every branch is done with a chunk before its
 * memory is read into again (io/hashed-read.ts), and memory stays at a few chunks whatever the
 * size. A branch whose upload fails, pauses or is canceled is detached and the others go on. The
 * data is hashed once, for all; `bytesRead` counts what was handed over from disk.
 */
import type { Digests } from '../io/hasher';
import { HashedRead } from '../io/hashed-read';
import type { TokenBucket } from './token-bucket';
import type { SharedBranch } from './upload-stream';

interface Branch {
  /** The number of the last chunk this branch took (0: none yet). */
  took: number;
  wanting: boolean;
  attached: boolean;
  sent: number;
  onBytes?: (sent: number) => void;
}

export class FanOut {
  readonly #branches: Branch[] = [];
  /** Started with the read (a worker thread): not before anything is read. */
  #read: HashedRead | undefined;
  #chunks: AsyncIterator<Buffer> | undefined;
  /** The chunk every attached branch may take now, its number, and whether the file ended. */
  #current: { n: number; chunk: Buffer | undefined; error?: Error } = { n: 0, chunk: undefined };
  #pumping = false;
  #waiters: (() => void)[] = [];
  bytesRead = 0;

  constructor(
    private readonly path: string,
    private readonly size: number,
    private readonly buckets: TokenBucket[] = [],
    private readonly chunkSize?: number,
  ) {}

  /** A body for one more upload. All branches must be taken before the first one is read. */
  branch(onBytes?: (sent: number) => void): SharedBranch {
    if (this.#read !== undefined) throw new Error('FanOut: all branches must be made before reading starts');
    const b: Branch = { took: 0, wanting: false, attached: true, sent: 0, onBytes };
    this.#branches.push(b);
    const chunks = this.#chunksFor(b);
    return {
      [Symbol.asyncIterator]: () => chunks,
      detach: () => this.#detach(b),
    };
  }

  async *#chunksFor(b: Branch): AsyncGenerator<Buffer> {
    try {
      for (;;) {
        b.wanting = true; // done with the chunk it took last
        void this.#pump();
        while (this.#current.n === b.took && b.attached)
          await new Promise<void>((resolve) => this.#waiters.push(resolve));
        if (!b.attached) return;
        b.wanting = false;
        b.took = this.#current.n;
        const { chunk, error } = this.#current;
        if (error !== undefined) throw error;
        if (chunk === undefined) return;
        b.sent += chunk.length;
        b.onBytes?.(b.sent);
        yield chunk;
      }
    } finally {
      this.#detach(b);
    }
  }

  #detach(b: Branch): void {
    if (!b.attached) return;
    b.attached = false;
    this.#wakeAll();
    void this.#pump();
  }

  #wakeAll(): void {
    for (const w of this.#waiters.splice(0)) w();
  }

  /** Reads the next chunk once every attached branch asked for it; stops when none is left. */
  async #pump(): Promise<void> {
    const live = this.#branches.filter((b) => b.attached);
    if (this.#pumping || this.#ended) return;
    if (live.length === 0) {
      await this.#read?.dispose(); // every upload went away: stop reading (a read at its end finishes its digests)
      return;
    }
    // Every branch took the current chunk and asked for the next: reading on frees its memory.
    if (!live.every((b) => b.wanting && b.took === this.#current.n)) return;
    this.#pumping = true;
    try {
      this.#read ??= HashedRead.start(this.path, this.size, this.chunkSize ? { chunkSize: this.chunkSize } : {});
      this.#chunks ??= this.#read[Symbol.asyncIterator]();
      const r = await this.#chunks.next(); // frees the chunk every branch is done with
      const chunk = r.done === true ? undefined : r.value;
      if (chunk !== undefined) {
        this.bytesRead += chunk.length;
        const taking = this.#branches.filter((b) => b.attached).length;
        for (const bucket of this.buckets) await bucket.take(chunk.length * Math.max(1, taking));
      }
      this.#current = { n: this.#current.n + 1, chunk };
    } catch (e) {
      this.#current = { n: this.#current.n + 1, chunk: undefined, error: e as Error };
    } finally {
      this.#pumping = false;
    }
    this.#wakeAll();
    // The last branch left while this chunk was read: nobody pumps again, so stop here.
    if (!this.#branches.some((b) => b.attached)) await this.#read?.dispose();
  }

  get #ended(): boolean {
    return this.#current.n > 0 && (this.#current.chunk === undefined || this.#current.error !== undefined);
  }

  /** True when the whole file went through: the digests describe it. */
  get complete(): boolean {
    return this.#read?.complete === true && this.#current.error === undefined;
  }

  /**
   * md5 and sha512 of the whole file, once it was read to the end: a server that knows the size
   * answers (and its target asks) as soon as the last byte arrives, which the read allows.
   */
  async digests(): Promise<Digests> {
    if (this.#read === undefined) throw new Error('FanOut: nothing was read');
    return this.#read.digests();
  }

  async dispose(): Promise<void> {
    for (const b of this.#branches) this.#detach(b);
    await this.#read?.dispose();
  }
}
