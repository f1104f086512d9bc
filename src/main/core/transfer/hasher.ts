/**
 * md5 and sha512 of a stream, computed in a worker thread so that hashing gigabytes never
 * blocks the event loop. Chunks are copied to the worker; at most `maxInFlight` bytes wait
 * there, and `update` resolves only when there is room again (backpressure, bounded memory).
 */
import { Worker } from 'node:worker_threads';

// Plain CommonJS, evaluated: no file to bundle or find at run time.
const WORKER = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const md5 = createHash('md5');
const sha512 = createHash('sha512');
parentPort.on('message', (m) => {
  if (m.type === 'chunk') {
    md5.update(m.data);
    sha512.update(m.data);
    parentPort.postMessage({ type: 'ack', bytes: m.data.byteLength });
  } else if (m.type === 'digest') {
    parentPort.postMessage({ type: 'digest', md5: md5.digest('hex'), sha512: sha512.digest('hex') });
  }
});
`;

export interface Digests {
  md5: string;
  sha512: string;
}

export class Hasher {
  readonly #worker: Worker;
  #inFlight = 0;
  #waiters: (() => void)[] = [];
  #digest: ((d: Digests) => void) | undefined;
  #failed: Error | undefined;
  bytes = 0;

  /** Bytes handed to the worker and not hashed yet. */
  get pending(): number {
    return this.#inFlight;
  }

  constructor(private readonly maxInFlight = 16 * 1024 * 1024) {
    this.#worker = new Worker(WORKER, { eval: true });
    this.#worker.on('message', (m: { type: string; bytes?: number; md5?: string; sha512?: string }) => {
      if (m.type === 'ack') {
        this.#inFlight -= m.bytes ?? 0;
        this.#wake();
      } else if (m.type === 'digest') {
        this.#digest?.({ md5: m.md5 ?? '', sha512: m.sha512 ?? '' });
      }
    });
    this.#worker.on('error', (e) => {
      this.#failed = e;
      this.#wake();
    });
  }

  #wake(): void {
    while (this.#waiters.length > 0 && (this.#inFlight < this.maxInFlight || this.#failed)) this.#waiters.shift()?.();
  }

  async update(chunk: Buffer): Promise<void> {
    if (this.#failed) throw this.#failed;
    this.bytes += chunk.length;
    this.#inFlight += chunk.length;
    // A copy: the caller's buffer goes on to the network while the worker hashes its twin.
    this.#worker.postMessage({ type: 'chunk', data: new Uint8Array(chunk) });
    if (this.#inFlight >= this.maxInFlight) await new Promise<void>((r) => this.#waiters.push(r));
    if (this.#failed) throw this.#failed;
  }

  /** Final digests; the hasher cannot be used afterwards. */
  async digest(): Promise<Digests> {
    const d = await new Promise<Digests>((resolve) => {
      this.#digest = resolve;
      this.#worker.postMessage({ type: 'digest' });
    });
    await this.#worker.terminate();
    return d;
  }

  async dispose(): Promise<void> {
    await this.#worker.terminate();
  }
}
