/**
 * Writes that leave a disk's empty parts as holes: the runs of a buffer that hold data are
 * written at their offsets, the zeros between them are not (zero-runs.ts), and the file is given
 * its length at the end. What was not written reads as zeros, so the file's content is the same;
 * it takes the room of its data. The embedded server stores images this way.
 */
import { close, ftruncate, open, write } from 'node:fs';
import { Writable } from 'node:stream';
import { dataRuns } from './zero-runs';

/** All of `data` at `position`, however many writes it takes. */
export async function writeAll(fd: number, data: Uint8Array, position: number): Promise<void> {
  for (let done = 0; done < data.length;) {
    const n = await new Promise<number>((resolve, reject) =>
      write(fd, data, done, data.length - done, position + done, (err, written) =>
        err ? reject(err) : resolve(written),
      ),
    );
    done += n;
  }
}

/** The runs of `data` that hold data, each at its place from `position`. */
export async function writeDataRuns(fd: number, data: Uint8Array, position: number): Promise<void> {
  for (const [s, e] of dataRuns(data, position)) await writeAll(fd, data.subarray(s, e), position + s);
}

/** A write stream to a new file (created or emptied) that leaves zeros as holes. */
export class SparseFileStream extends Writable {
  #fd: number | undefined;
  #at = 0;

  constructor(
    private readonly path: string,
    private readonly mode = 0o600,
  ) {
    super();
  }

  override _construct(callback: (error?: Error | null) => void): void {
    open(this.path, 'w', this.mode, (err, fd) => {
      this.#fd = fd;
      callback(err);
    });
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    const at = this.#at;
    this.#at += chunk.length;
    writeDataRuns(this.#fd ?? -1, chunk, at).then(() => callback(), callback);
  }

  /** The file's length is what was written to it, zeros at the end included. */
  override _final(callback: (error?: Error | null) => void): void {
    ftruncate(this.#fd ?? -1, this.#at, (err) => callback(err));
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (this.#fd === undefined) return callback(error);
    close(this.#fd, () => callback(error));
    this.#fd = undefined;
  }
}
