/**
 * One hash (md5 or sha512) of the slots of a shared ring as a producer fills them, in a worker
 * thread that does nothing else: it waits on a shared counter (Atomics.wait), hashes each slot
 * where it lies, counts it, and wakes the producer only when the producer said it waits for a
 * slot. Bytes of the file before the ring's first byte (a resumed upload) are read and hashed
 * first. Used by the ingest ring (io/ingest-ring.ts).
 */
import { Worker } from 'node:worker_threads';

// Each worker hashes with one algorithm, in a blocking loop over the ring's slots as they fill.
// Its control block (Int32Array): [0] slots filled, [1] slots it hashed, [2] slots in all once
// the body ended (-1 before), [3] the producer waits for a slot, [4] stop.
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const { openSync, readSync, closeSync } = require('node:fs');
const { algorithm, path, prefix, ring, base, slotSize, slots, lengths, control } = workerData;
const c = new Int32Array(control);
const len = new Int32Array(lengths);
const hash = createHash(algorithm);
try {
  if (prefix > 0) {
    const fd = openSync(path, 'r');
    const buf = Buffer.allocUnsafe(1024 * 1024);
    try {
      for (let pos = 0; pos < prefix; ) {
        const n = readSync(fd, buf, 0, Math.min(buf.length, prefix - pos), pos);
        if (n === 0) throw new Error('the file is shorter than the bytes it should hold (' + pos + ' < ' + prefix + ')');
        hash.update(buf.subarray(0, n));
        pos += n;
      }
    } finally {
      closeSync(fd);
    }
  }
  let hashed = 0;
  for (;;) {
    if (Atomics.load(c, 4) !== 0) process.exit(0);
    const filled = Atomics.load(c, 0);
    if (hashed < filled) {
      const slot = hashed % slots;
      hash.update(Buffer.from(ring, base + slot * slotSize, len[slot]));
      hashed++;
      Atomics.store(c, 1, hashed);
      if (Atomics.exchange(c, 3, 0) === 1) parentPort.postMessage(0);
      continue;
    }
    const end = Atomics.load(c, 2);
    if (end >= 0 && hashed >= end) break;
    Atomics.wait(c, 0, filled, 1000);
  }
  parentPort.postMessage({ digest: hash.digest('hex') });
} catch (e) {
  parentPort.postMessage({ error: e.message });
}
`;

const FILLED = 0;
const HASHED = 1;
const END = 2;
const WAITING = 3;
const STOP = 4;

type Message = 0 | { digest: string } | { error: string };

/** Where the slots are: the file (for its prefix), the ring, the first slot's offset in it, and each slot's length. */
export interface RingLayout {
  path: string;
  prefix: number;
  ring: SharedArrayBuffer;
  base: number;
  slotSize: number;
  slots: number;
  lengths: SharedArrayBuffer;
}

export class SlotHasher {
  digest: string | undefined;
  failed: Error | undefined;
  /** Called when the worker finished a slot the producer waits for, its digest, or failed. */
  onWake: () => void = () => undefined;

  private constructor(
    readonly worker: Worker,
    readonly control: Int32Array,
    path: string,
  ) {
    this.worker.on('message', (m: Message) => {
      if (typeof m === 'object' && 'error' in m) this.failed = new Error(`hashing ${path}: ${m.error}`);
      else if (typeof m === 'object') this.digest = m.digest;
      this.onWake();
    });
    this.worker.on('error', (e) => {
      this.failed = e;
      this.onWake();
    });
    this.worker.on('exit', () => {
      if (this.digest === undefined) this.failed ??= new Error(`hashing ${path}: stopped`);
      this.onWake();
    });
  }

  /** A hasher of the ring's slots, its worker started (it hashes the file's `prefix` bytes first). */
  static start(algorithm: 'md5' | 'sha512', data: RingLayout): SlotHasher {
    const control = new Int32Array(new SharedArrayBuffer(5 * 4));
    Atomics.store(control, END, -1); // the end is not known yet
    const worker = new Worker(WORKER, { eval: true, workerData: { algorithm, ...data, control: control.buffer } });
    return new SlotHasher(worker, control, data.path);
  }

  get hashed(): number {
    return Atomics.load(this.control, HASHED);
  }

  filled(n: number, end?: number): void {
    Atomics.store(this.control, FILLED, n);
    if (end !== undefined) Atomics.store(this.control, END, end);
    Atomics.notify(this.control, FILLED);
  }

  /** The producer is about to wait for this worker: it posts a wake-up at its next slot. */
  expectWake(): void {
    Atomics.store(this.control, WAITING, 1);
  }

  async stop(): Promise<void> {
    Atomics.store(this.control, STOP, 1);
    Atomics.notify(this.control, FILLED);
    await this.worker.terminate();
  }
}
