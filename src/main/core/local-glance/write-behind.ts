/**
 * Write-behind for a file being uploaded: every `step` bytes written, the data written so far is
 * flushed to the disk (fdatasync, one at a time, off the event loop), so that the disk writes
 * while the next bytes arrive. Without it a machine with plenty of memory keeps a whole upload
 * dirty in the page cache and the final fsync writes it all at once: on the reference machine
 * that fsync was a third of a 1 GiB upload. Failures are remembered and reported by `settle`
 * (the final fsync would see them anyway).
 */
import { fdatasync } from 'node:fs';

export class WriteBehind {
  #fd: number | undefined;
  #pending = 0;
  #inFlight: Promise<void> | undefined;
  #error: Error | undefined;

  constructor(private readonly step = 32 * 1024 * 1024) {}

  /** The file's descriptor, once the write stream opened it. */
  attach(fd: number): void {
    this.#fd = fd;
  }

  /** `n` more bytes reached the file (its write completed). */
  wrote(n: number): void {
    this.#pending += n;
    if (this.#pending < this.step || this.#inFlight !== undefined || this.#fd === undefined) return;
    this.#pending = 0;
    const fd = this.#fd;
    this.#inFlight = new Promise<void>((resolve) =>
      fdatasync(fd, (err) => {
        if (err) this.#error ??= err;
        this.#inFlight = undefined;
        resolve();
      }),
    );
  }

  /** Waits for the flush in flight (before the file is closed); throws what a flush met. */
  async settle(): Promise<void> {
    await this.#inFlight;
    if (this.#error) throw this.#error;
  }
}
