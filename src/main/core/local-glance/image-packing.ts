/**
 * Packing: the embedded server keeps a raw image it holds as a compressed qcow2 of itself, so an
 * image staged on a laptop takes the room of its compressed data (its zeros were already holes).
 * Once an image is active, in the background and one image at a time:
 *
 * 1. `qemu-img convert -c` of the raw data into a temp file (`packing/`, on the same file system);
 * 2. `qemu-img compare`: the packed disk must be the raw file, byte for byte, else it is dropped;
 * 3. kept only where it saves a tenth or more of what the raw file holds;
 * 4. fsynced, renamed to `<id>.qcow2`, the row marked `packed`, the raw file removed.
 *
 * The row says which form holds the data; a crash between two steps leaves both files, and the
 * start-up sweep removes the one the row does not name (image-store.ts). Reads of a packed image
 * serve its raw bytes through io/qcow2-reader.ts: the digests, sizes and ranges are the raw
 * image's, as before. Only raw images in one store whose size is whole 512-byte sectors are
 * packed (qemu-img pads anything else). Without qemu-img, nothing is packed (until it is installed).
 */
import { rename, rm, stat } from 'node:fs/promises';
import { EngineError } from '../io/errors';
import { compressToQcow2, sameAsRaw } from '../io/qemu-img';
import { fsyncFile } from './image-ingest';
import type { ImageStore } from './image-store';

/** Kept packed only when it saves at least this share of what the raw file holds. */
const WORTH = 0.1;

export type PackOutcome = 'packed' | 'not-worth-it' | 'skipped' | 'different' | 'failed';

export class ImagePacker {
  readonly #queue: string[] = [];
  #running: Promise<void> | undefined;
  #stop = new AbortController();

  constructor(
    private readonly store: ImageStore,
    private readonly onDone: (id: string, outcome: PackOutcome, detail?: string) => void = () => undefined,
  ) {}

  /** Packs this image soon (after the ones asked before). */
  request(id: string): void {
    if (this.#stop.signal.aborted || this.#queue.includes(id)) return;
    this.#queue.push(id);
    this.#running ??= this.#drain().finally(() => (this.#running = undefined));
  }

  /** Stops the packing under way (its temp file goes) and the ones waiting. */
  async stop(): Promise<void> {
    this.#queue.length = 0;
    this.#stop.abort();
    await this.#running;
  }

  /** Resolves once nothing is packing or waiting (tests, a clean stop). */
  async idle(): Promise<void> {
    while (this.#running !== undefined) await this.#running;
  }

  /** Every active raw image not packed nor tried yet (a stop or a crash interrupted it). */
  requestPending(): void {
    for (const img of this.store.all())
      if (img.status === 'active' && img.disk_format === 'raw' && !img.packed && !img.packKept) this.request(img.id);
  }

  async #drain(): Promise<void> {
    for (let id = this.#queue.shift(); id !== undefined; id = this.#queue.shift()) {
      try {
        const r = await this.#pack(id);
        if (r === 'not-worth-it' || r === 'different') this.#keep(id);
        this.onDone(id, r);
      } catch (e) {
        // qemu-img failed on this image: not again at every start. Without qemu-img at all it is
        // tried again once qemu-img is there.
        const noTool = e instanceof EngineError && e.code === 'shrink.tool_missing';
        if (!this.#stop.signal.aborted && !noTool) this.#keep(id);
        this.onDone(id, 'failed', (e as Error).message);
      }
    }
  }

  #keep(id: string): void {
    const img = this.store.get(id);
    if (img === undefined || img.packed) return;
    img.packKept = true;
    this.store.save(img);
  }

  async #pack(id: string): Promise<PackOutcome> {
    const img = this.store.get(id);
    const [where] = img?.stores ?? [];
    if (img === undefined || img.packed || img.status !== 'active' || img.disk_format !== 'raw') return 'skipped';
    if (where === undefined || img.stores.length !== 1 || (img.size ?? 0) % 512 !== 0) return 'not-worth-it';
    const raw = this.store.storePath(where, id);
    const temp = this.store.tempPath(this.store.packingDir, id); // beside the stores, never in them
    const signal = this.#stop.signal;
    try {
      await compressToQcow2(raw, 'raw', temp, { signal });
      const held = await stat(raw);
      const packedSize = (await stat(temp)).size;
      if (packedSize > Math.min(held.size, held.blocks * 512) * (1 - WORTH)) return 'not-worth-it';
      if (!(await sameAsRaw(raw, temp, signal))) return 'different';
      await fsyncFile(temp);
      const packed = this.store.packedPath(where, id);
      await rename(temp, packed);
      const now = this.store.get(id);
      if (now === undefined || now.status !== 'active' || now.stores.join() !== where) {
        await rm(packed, { force: true }); // deleted or changed meanwhile: the raw form stays the truth
        return 'skipped';
      }
      now.packed = true;
      this.store.save(now);
      await rm(raw, { force: true });
      return 'packed';
    } finally {
      await rm(temp, { force: true });
    }
  }
}
