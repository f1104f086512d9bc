/**
 * Bounded, positioned reads of a file (or of a slice of it: a disk inside an OVA), counting the
 * bytes read: inspection reads headers and tables only, never the data, whatever the file size.
 */
import { open, type FileHandle } from 'node:fs/promises';

export class FileWindow {
  #read = { bytes: 0 };

  private constructor(
    private readonly fh: FileHandle,
    /** Where this window starts in the file. */
    readonly base: number,
    /** Bytes in this window. */
    readonly size: number,
    counter?: { bytes: number },
  ) {
    if (counter) this.#read = counter;
  }

  static async open(path: string): Promise<FileWindow> {
    const fh = await open(path, 'r');
    const st = await fh.stat();
    const w = new FileWindow(fh, 0, st.size);
    // Blocks the file system allocated (POSIX: st_blocks in 512-byte units; absent on Windows).
    w.allocated = typeof st.blocks === 'number' && st.blocks >= 0 ? Math.min(st.size, st.blocks * 512) : null;
    return w;
  }

  /** Bytes the file system holds for the file (a sparse file's holes are not counted); null: unknown. */
  allocated: number | null = null;

  /** Bytes read through this window and every slice of it. */
  get bytesRead(): number {
    return this.#read.bytes;
  }

  /** Up to `length` bytes at `offset` (fewer at the end of the window; none past it). */
  async read(offset: number, length: number): Promise<Buffer> {
    if (offset < 0 || offset >= this.size || length <= 0) return Buffer.alloc(0);
    const n = Math.min(length, this.size - offset);
    const buf = Buffer.alloc(n);
    const { bytesRead } = await this.fh.read(buf, 0, n, this.base + offset);
    this.#read.bytes += bytesRead;
    return bytesRead === n ? buf : buf.subarray(0, bytesRead);
  }

  /** The same file seen from `offset` for `size` bytes. */
  slice(offset: number, size: number): FileWindow {
    return new FileWindow(this.fh, this.base + offset, Math.max(0, Math.min(size, this.size - offset)), this.#read);
  }

  async close(): Promise<void> {
    await this.fh.close();
  }
}
