/**
 * One read of a file for an upload: a worker thread reads it into a small ring of shared
 * buffers, hashes each chunk (md5 + sha512) where it lies, and hands it over; the consumer sends
 * it from the same memory. Every byte crosses from the page cache once, nothing is allocated per
 * chunk, and the digests describe exactly the bytes handed over (not a second read of a file
 * that may have changed meanwhile).
 *
 * The contract that makes the ring safe: a chunk is the consumer's until it asks for the next
 * one. An HTTP client writing an async iterable body asks for the next chunk once the socket took
 * the last one (undici's writeIterable waits for 'drain' whenever a write returns false, which a
 * chunk larger than the socket's high-water mark always does); a consumer that keeps chunks past
 * that (collecting them, say) must copy them. Were the contract broken, the bytes sent would no
 * longer be the bytes hashed, and the comparison with Glance's checksums would fail the upload:
 * never a silent bad image.
 */
import { Worker } from 'node:worker_threads';
import type { Digests } from './hasher';

// Plain CommonJS, evaluated: no file to bundle or find at run time. A blocking loop: the worker
// does nothing else, and waits for a free slot on a shared counter (Atomics.wait), not messages.
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const { openSync, readSync, closeSync } = require('node:fs');
const { path, size, from, chunk, slots, piece, ring, control } = workerData;
// [0] chunks the consumer is done with, [1] stop, [2] chunks ready, [3] the consumer waits for one
const ctl = new Int32Array(control);
const md5 = createHash('md5');
const sha512 = createHash('sha512');
let fd = -1;
try {
  fd = openSync(path, 'r');
  let pos = 0;
  let made = 0;
  while (pos < size) {
    const handing = pos >= from;
    if (handing) {
      for (;;) {
        if (Atomics.load(ctl, 1) !== 0) process.exit(0);
        const freed = Atomics.load(ctl, 0);
        if (made - freed < slots) break;
        Atomics.wait(ctl, 0, freed, 1000);
      }
    }
    const slot = handing ? made % slots : 0;
    // The bytes before 'from' (the server has them) are hashed, never handed over.
    const n = Math.min(chunk, (handing ? size : from) - pos);
    const buf = Buffer.from(ring, slot * chunk, n);
    // Read and hash in pieces that stay in the core's cache between the read and both hashes.
    for (let off = 0; off < n; ) {
      const r = readSync(fd, buf, off, Math.min(piece, n - off), pos + off);
      if (r === 0) throw new Error('the file is shorter than expected (' + (pos + off) + ' < ' + size + ' bytes)');
      const bytes = buf.subarray(off, off + r);
      md5.update(bytes);
      sha512.update(bytes);
      off += r;
    }
    pos += n;
    if (handing) {
      made++;
      Atomics.store(ctl, 2, made);
      // A message (a wake-up of the consumer's thread) only when it waits: mostly it does not.
      if (Atomics.exchange(ctl, 3, 0) === 1) parentPort.postMessage(0);
    }
  }
  parentPort.postMessage({ md5: md5.digest('hex'), sha512: sha512.digest('hex') });
} catch (e) {
  parentPort.postMessage({ error: e.message });
} finally {
  if (fd >= 0) closeSync(fd);
}
`;

export interface HashedReadOptions {
  /** Hand over the bytes from here on; those before are hashed only (a resumed upload). Default 0. */
  from?: number;
  /** Bytes per chunk: above any socket's high-water mark (see the contract above). Default 2 MiB. */
  chunkSize?: number;
  /** Chunks the worker may have read ahead of the consumer, the one it holds included. Default 4. */
  slots?: number;
}

type Message = 0 | { md5: string; sha512: string } | { error: string };

// The shared counters (Int32Array indices).
const FREED = 0;
const STOP = 1;
const READY = 2;
const WAITING = 3;

export class HashedRead implements AsyncIterable<Buffer> {
  readonly #worker: Worker;
  readonly #ring: SharedArrayBuffer;
  readonly #control: Int32Array;
  readonly #chunk: number;
  readonly #toHand: number;
  readonly #slots: number;
  /** Chunks handed over so far. */
  #taken = 0;
  #waiters: (() => void)[] = [];
  #digests: Digests | undefined;
  #failed: Error | undefined;
  #handed = 0;
  #iterated = false;
  #stopped = false;

  private constructor(
    readonly path: string,
    readonly size: number,
    readonly from: number,
    layout: { chunk: number; slots: number; ring: SharedArrayBuffer; control: Int32Array },
    worker: Worker,
  ) {
    this.#chunk = layout.chunk;
    this.#slots = layout.slots;
    this.#ring = layout.ring;
    this.#control = layout.control;
    this.#toHand = size - from;
    this.#worker = worker;
    this.#worker.on('message', (m: Message) => {
      if (typeof m === 'object' && 'error' in m) this.#failed = new Error(`reading ${path}: ${m.error}`);
      else if (typeof m === 'object') this.#digests = m;
      this.#notify(); // 0: the chunk the consumer waits for is ready
    });
    this.#worker.on('error', (e) => {
      this.#failed = e;
      this.#notify();
    });
    this.#worker.on('exit', () => {
      this.#failed ??= this.#digests === undefined ? new Error(`reading ${path}: stopped`) : undefined;
      this.#notify();
    });
  }

  /** A read of the first `size` bytes of `path`, its worker started. */
  static start(path: string, size: number, opts: HashedReadOptions = {}): HashedRead {
    const from = Math.min(Math.max(0, opts.from ?? 0), size);
    const chunk = Math.max(64 * 1024, opts.chunkSize ?? 2 * 1024 * 1024);
    const slots = Math.max(2, opts.slots ?? 4);
    const ring = new SharedArrayBuffer(chunk * slots);
    const control = new Int32Array(new SharedArrayBuffer(4 * 4));
    const piece = Math.min(chunk, 256 * 1024);
    const worker = new Worker(WORKER, {
      eval: true,
      workerData: { path, size, from, chunk, slots, piece, ring, control: control.buffer },
    });
    return new HashedRead(path, size, from, { chunk, slots, ring, control }, worker);
  }

  #notify(): void {
    for (const w of this.#waiters.splice(0)) w();
  }

  async #until(done: () => boolean): Promise<void> {
    while (!done()) {
      if (this.#failed) throw this.#failed;
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
  }

  /**
   * Until the worker has the next chunk ready. The consumer says it waits (WAITING) and looks
   * again: a chunk made meanwhile is seen then, or the worker saw the flag and wakes it.
   */
  async #nextReady(): Promise<void> {
    const c = this.#control;
    while (Atomics.load(c, READY) <= this.#taken) {
      if (this.#failed) throw this.#failed;
      Atomics.store(c, WAITING, 1);
      if (Atomics.load(c, READY) > this.#taken) break; // a wake-up may still come: harmless
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
    Atomics.store(c, WAITING, 0);
  }

  /** Bytes handed over so far (from `from` on). */
  get handedOver(): number {
    return this.#handed;
  }

  /** True once every byte from `from` to the end was handed over. */
  get complete(): boolean {
    return this.#handed === this.#toHand;
  }

  /** The chunks, in order; each is the consumer's until it asks for the next. Iterable once. */
  async *[Symbol.asyncIterator](): AsyncGenerator<Buffer> {
    if (this.#iterated) throw new Error('HashedRead: a read is iterated once');
    this.#iterated = true;
    try {
      while (this.#handed < this.#toHand) {
        await this.#nextReady();
        const n = Math.min(this.#chunk, this.#toHand - this.#handed);
        const slot = this.#taken % this.#slots;
        this.#taken++;
        this.#handed += n;
        yield Buffer.from(this.#ring, slot * this.#chunk, n);
        // The consumer asked for the next chunk: it is done with this one.
        Atomics.add(this.#control, FREED, 1);
        Atomics.notify(this.#control, FREED);
      }
    } finally {
      if (!this.complete) await this.dispose();
    }
  }

  /** md5 and sha512 of the first `size` bytes, once all of them were handed over (or hashed, from = size). */
  async digests(): Promise<Digests> {
    if (!this.complete) throw new Error('the file was not read to the end');
    await this.#until(() => this.#digests !== undefined);
    return this.#digests as Digests;
  }

  /** Stops the worker now, whatever it was doing (a hash no longer wanted: the upload failed). */
  async abort(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    Atomics.store(this.#control, STOP, 1);
    Atomics.notify(this.#control, FREED);
    await this.#worker.terminate();
  }

  async dispose(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    // Read to the end: the worker posts the digests and ends by itself; stopping it could lose them.
    if (this.complete) return void (await this.#until(() => this.#digests !== undefined).catch(() => undefined));
    Atomics.store(this.#control, STOP, 1);
    Atomics.notify(this.#control, FREED);
    await this.#worker.terminate();
  }
}

/** Hash a file without sending it (a target whose upload finished before a crash). */
export async function hashFile(path: string, size: number): Promise<Digests> {
  const read = HashedRead.start(path, size, { from: size });
  try {
    return await read.digests();
  } finally {
    await read.dispose();
  }
}
