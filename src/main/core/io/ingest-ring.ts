/**
 * Bytes that arrive in small pieces (an upload's body, 64 KiB socket reads) collected into a
 * ring of shared slots: each full slot is written to the file at its offset in one call, and
 * hashed where it lies by two workers (md5 and sha512: on two cores or more, both hash at once).
 * A slot is reused once it is written and both workers are done with it. Every byte is copied
 * once from the socket's buffer into the ring; nothing reads the file back, nothing crosses
 * threads but counters, and the event loop only copies and counts.
 *
 * When the file already holds bytes before `offset` (a resumed upload), the workers hash those
 * from the file first, so the digests cover the whole file.
 *
 * Where the file system allows it (Linux, O_DIRECT), whole aligned slots are written past the page
 * cache: the disk takes them from the ring, no copy into the page cache is made (that copy cost
 * 1 to 3 CPU-seconds per GiB on the reference machine, more than anything but the hashes), and a
 * multi-GB upload does not push everything else out of the cache. Other writes (the last, short
 * slot; an unaligned resume; a file system without O_DIRECT) go through the caller's descriptor.
 */
import { close } from 'node:fs';
import { dirname } from 'node:path';
import { DIRECT_ALIGN, directWrites, openDirect } from './direct-io';
import type { Digests } from './hasher';
import { SlotHasher, type RingLayout } from './slot-hasher';
import { dataRuns } from './zero-runs';
import { writeAll } from './sparse-writes';

const DEFAULT_SLOT = 4 * 1024 * 1024;
const DEFAULT_SLOTS = 4;

export interface IngestRingOptions {
  /** The file, open for writing, and its path (the workers read the bytes before `offset`). */
  fd: number;
  path: string;
  /** Where the arriving bytes go in the file; the bytes before it are hashed from the file. */
  offset: number;
  /** Bytes per slot (one write each). Default 4 MiB. */
  slotSize?: number;
  /** Slots in the ring. Default 4. */
  slots?: number;
  /** Called after each write with the bytes it wrote. */
  onWritten?: (n: number) => void;
  /**
   * Leave clusters of zeros unwritten (holes: zero-runs.ts). The caller extends the file to its
   * length at the end (`ftruncate`), as the last bytes may be zeros.
   */
  sparse?: boolean;
}

export class IngestRing {
  readonly #o: Required<Omit<IngestRingOptions, 'onWritten' | 'sparse'>> &
    Pick<IngestRingOptions, 'onWritten' | 'sparse'>;
  readonly #ring: SharedArrayBuffer;
  readonly #lengths: Int32Array;
  readonly #hashers: SlotHasher[];
  /** Slots handed to the writer and the hashers; the one filling is number #dispatched. */
  #dispatched = 0;
  /** Bytes in the slot filling. */
  #fill = 0;
  /** Slots written to the file, in order (one write at a time). */
  #writtenSlots = 0;
  #writing: Promise<void> = Promise.resolve();
  /** Bytes written to the file at `offset` and after. */
  #written = 0;
  /** What did not fit yet: copied once a slot is free. */
  #pending: Buffer[] = [];
  #waiters: (() => void)[] = [];
  #failed: Error | undefined;
  #ended = false;
  /** The file opened for direct writes, when the file system allows it. */
  #direct: number | undefined;

  private constructor(
    o: IngestRingOptions & { slotSize: number; slots: number },
    ring: SharedArrayBuffer,
    /** Where slot 0 starts in the ring: aligned for direct writes when they are possible. */
    private readonly base: number,
    lengths: Int32Array,
    hashers: SlotHasher[],
    direct: number | undefined,
  ) {
    this.#o = o;
    this.#ring = ring;
    this.#lengths = lengths;
    this.#hashers = hashers;
    this.#direct = direct;
  }

  /** A ring writing to `fd` from `offset`, its two hashing workers started. */
  static start(o: IngestRingOptions): IngestRing {
    const slotSize = o.slotSize ?? DEFAULT_SLOT;
    const slots = o.slots ?? DEFAULT_SLOTS;
    const ring = new SharedArrayBuffer(slotSize * slots + DIRECT_ALIGN);
    const aligned = directWrites(dirname(o.path), ring);
    const base = aligned?.base ?? 0;
    const lengths = new Int32Array(new SharedArrayBuffer(slots * 4));
    const data: RingLayout = {
      path: o.path,
      prefix: o.offset,
      ring,
      base,
      slotSize,
      slots,
      lengths: lengths.buffer as SharedArrayBuffer,
    };
    const hashers = [SlotHasher.start('md5', data), SlotHasher.start('sha512', data)];
    const direct = aligned !== undefined ? openDirect(o.path) : undefined;
    const started = new IngestRing({ ...o, slotSize, slots }, ring, base, lengths, hashers, direct);
    for (const h of hashers) h.onWake = () => started.wake();
    return started;
  }

  /** Something finished (a write, a worker's slot): waiting pieces may go on. */
  wake(): void {
    for (const w of this.#waiters.splice(0)) w();
    this.#drainPending();
  }

  #error(): Error | undefined {
    return this.#failed ?? this.#hashers.find((h) => h.failed !== undefined)?.failed;
  }

  /** The slot filling may be used: its last use is written and hashed. */
  #slotFree(): boolean {
    const done = Math.min(this.#writtenSlots, ...this.#hashers.map((h) => h.hashed));
    return this.#dispatched < done + this.#o.slots;
  }

  /**
   * Copies `chunk` into the ring; full slots go to the file and the hashers. False when part of
   * it waits for a free slot: read no more until `room()` resolves.
   */
  push(chunk: Buffer): boolean {
    const e = this.#error();
    if (e) throw e;
    if (this.#pending.length > 0) {
      this.#pending.push(chunk); // kept as it came: joining pieces would copy them again and again
      return false;
    }
    const left = this.#copy(chunk);
    if (left.length === 0) return true;
    this.#pending.push(left);
    this.#drainPending(); // a worker may have freed the slot just before it saw the flag
    return this.#pending.length === 0;
  }

  /** Copies what fits; dispatches each slot it fills. Returns what did not fit. */
  #copy(chunk: Buffer): Buffer {
    const { slotSize, slots } = this.#o;
    let from = 0;
    while (from < chunk.length) {
      if (this.#fill === 0 && !this.#slotFree()) break;
      const slot = this.#dispatched % slots;
      const n = Math.min(slotSize - this.#fill, chunk.length - from);
      chunk.copy(new Uint8Array(this.#ring, this.base + slot * slotSize + this.#fill, n), 0, from, from + n);
      this.#fill += n;
      from += n;
      if (this.#fill === slotSize) this.#dispatch();
    }
    return chunk.subarray(from);
  }

  /** Copies what waits, if a slot is free now. The workers are asked for a wake-up first, then it looks. */
  #drainPending(): void {
    if (this.#pending.length === 0 || this.#error()) return;
    for (const h of this.#hashers) h.expectWake();
    for (let next = this.#pending[0]; next !== undefined; next = this.#pending[0]) {
      const left = this.#copy(next);
      if (left.length > 0) return void (this.#pending[0] = left);
      this.#pending.shift();
    }
    for (const w of this.#waiters.splice(0)) w();
  }

  /** The slot filling goes to the file and the hashers. */
  #dispatch(): void {
    const { slotSize, slots, offset } = this.#o;
    const slot = this.#dispatched % slots;
    const n = this.#fill;
    const at = offset + this.#dispatched * slotSize;
    this.#lengths[slot] = n;
    this.#dispatched++;
    this.#fill = 0;
    const count = this.#dispatched;
    for (const h of this.#hashers) h.filled(count, this.#ended ? count : undefined);
    const view = new Uint8Array(this.#ring, this.base + slot * slotSize, n);
    this.#writing = this.#writing.then(async () => {
      if (this.#failed) return;
      try {
        await this.#write(view, at);
        this.#written += n;
        this.#writtenSlots++;
        this.#o.onWritten?.(n);
      } catch (e) {
        this.#failed = e as Error;
      }
      this.wake();
    });
  }

  /** The slot at `at`: whole, or (sparse) its runs of data only. */
  async #write(view: Uint8Array, at: number): Promise<void> {
    if (this.#o.sparse !== true) return this.#writeRun(view, at);
    // Runs start and end on cluster boundaries of the file: a direct write of one stays aligned.
    for (const [s, e] of dataRuns(view, at)) await this.#writeRun(view.subarray(s, e), at + s);
  }

  /** Direct when run and offset are aligned (and the file system took direct writes so far). */
  async #writeRun(view: Uint8Array, at: number): Promise<void> {
    const direct = this.#direct;
    if (direct !== undefined && at % DIRECT_ALIGN === 0 && view.length % DIRECT_ALIGN === 0) {
      try {
        return await writeAll(direct, view, at);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EINVAL') throw e;
        this.#closeDirect(); // refused (alignment, file system): the page cache from now on
      }
    }
    await writeAll(this.#o.fd, view, at);
  }

  #closeDirect(): void {
    if (this.#direct !== undefined) close(this.#direct, () => undefined);
    this.#direct = undefined;
  }

  /** Resolves once what did not fit is in the ring (rejects on a failure meanwhile). */
  async room(): Promise<void> {
    for (;;) {
      const e = this.#error();
      if (e) throw e;
      if (this.#pending.length === 0) return;
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
  }

  /**
   * The body ended (or broke): what arrived is written too, and the writes awaited. Resolves
   * with the bytes written from `offset`; rejects on a write failure.
   */
  async flush(): Promise<number> {
    await this.room().catch(() => undefined);
    if (!this.#ended) {
      this.#ended = true;
      if (this.#fill > 0) this.#dispatch();
      else for (const h of this.#hashers) h.filled(this.#dispatched, this.#dispatched);
    }
    await this.#writing;
    if (this.#failed) throw this.#failed;
    return this.#written;
  }

  /** md5 and sha512 of the file's bytes before `offset` and of all that was flushed. */
  async digests(): Promise<Digests> {
    await this.flush();
    const [md5, sha512] = this.#hashers;
    for (;;) {
      const e = this.#error();
      if (e) throw e;
      if (md5?.digest !== undefined && sha512?.digest !== undefined) return { md5: md5.digest, sha512: sha512.digest };
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
  }

  /** Stops the workers (the writes in flight are awaited by `flush`). */
  async dispose(): Promise<void> {
    await this.#writing;
    this.#closeDirect();
    await Promise.all(this.#hashers.map((h) => (h.digest === undefined ? h.stop() : h.worker.terminate())));
  }
}
