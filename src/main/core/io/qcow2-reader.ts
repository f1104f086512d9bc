/**
 * The disk a qcow2 holds, read as raw bytes: what a staged image kept compressed serves to
 * whoever asks for its data (GET /file, a Range, a sync to a region that keeps what it is sent).
 * Only what qemu-img's `convert -c` writes is read: version 2 or 3, 64 KiB-or-other clusters,
 * standard L2 entries, zlib compression; no backing file, no external data file, no encryption,
 * no extended L2 (anything else is `source.unreadable`: such a file was never made here).
 *
 * An L1 entry points at an L2 table; an L2 entry says where the cluster is: nowhere (zeros),
 * the "all zeros" flag, a host cluster, or a compressed run (raw deflate, 12-bit window) of
 * whole and partial 512-byte sectors.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { constants, inflateRawSync } from 'node:zlib';
import { EngineError } from './errors';

const MAGIC = 0x514649fb;
const OFFSET_MASK = 0x00fffffffffffe00n; // bits 9-55
const COMPRESSED = 1n << 62n;
const ZERO_FLAG = 1n;
/** L2 tables kept in memory (each a cluster: 64 KiB covers 512 MiB of the disk). */
const L2_CACHE = 32;

function unsupported(path: string, why: string): EngineError {
  return new EngineError('source.unreadable', `${path} is a qcow2 this reader does not serve: ${why}.`, {
    hint: 'Only qcow2 files made by qemu-img convert (no backing file, no data file, zlib) are read here.',
  });
}

export class Qcow2Reader {
  readonly #l2 = new Map<number, BigUint64Array>();

  private constructor(
    private readonly fh: FileHandle,
    readonly virtualSize: number,
    private readonly clusterBits: number,
    private readonly l1: BigUint64Array,
  ) {}

  get clusterSize(): number {
    return 2 ** this.clusterBits;
  }

  static async open(path: string): Promise<Qcow2Reader> {
    const fh = await open(path, 'r');
    try {
      const h = Buffer.alloc(112);
      await fh.read(h, 0, h.length, 0);
      if (h.readUInt32BE(0) !== MAGIC) throw unsupported(path, 'not a qcow2');
      const version = h.readUInt32BE(4);
      if (version !== 2 && version !== 3) throw unsupported(path, `version ${version}`);
      if (h.readBigUInt64BE(8) !== 0n) throw unsupported(path, 'it has a backing file');
      const clusterBits = h.readUInt32BE(20);
      if (clusterBits < 9 || clusterBits > 21) throw unsupported(path, `cluster bits ${clusterBits}`);
      if (h.readUInt32BE(32) !== 0) throw unsupported(path, 'it is encrypted');
      // Incompatible features: dirty (0) and corrupt (1) are read as they are; data file (2),
      // compression type (3: only zlib, type 0, is read) and extended L2 (4) are not.
      const incompatible = version === 3 ? h.readBigUInt64BE(72) : 0n;
      if (incompatible & 0x2n) throw unsupported(path, 'its data is in another file');
      if (incompatible & ~0xbn) throw unsupported(path, `incompatible features 0x${incompatible.toString(16)}`);
      if (incompatible & 0x8n && h.readUInt32BE(100) > 104 && h[104] !== 0)
        throw unsupported(path, 'it is compressed with zstd');
      const l1Size = h.readUInt32BE(36);
      const l1Offset = Number(h.readBigUInt64BE(40));
      const raw = Buffer.alloc(l1Size * 8);
      await fh.read(raw, 0, raw.length, l1Offset);
      const l1 = new BigUint64Array(l1Size);
      for (let i = 0; i < l1Size; i++) l1[i] = raw.readBigUInt64BE(i * 8);
      return new Qcow2Reader(fh, Number(h.readBigUInt64BE(24)), clusterBits, l1);
    } catch (e) {
      await fh.close();
      throw e;
    }
  }

  async #l2Table(index: number): Promise<BigUint64Array | undefined> {
    const at = Number((this.l1[index] ?? 0n) & OFFSET_MASK);
    if (at === 0) return undefined;
    const cached = this.#l2.get(at);
    if (cached !== undefined) return cached;
    const raw = Buffer.alloc(this.clusterSize);
    await this.fh.read(raw, 0, raw.length, at);
    const table = new BigUint64Array(this.clusterSize / 8);
    for (let i = 0; i < table.length; i++) table[i] = raw.readBigUInt64BE(i * 8);
    if (this.#l2.size >= L2_CACHE) this.#l2.delete(this.#l2.keys().next().value as number);
    this.#l2.set(at, table);
    return table;
  }

  /** The whole cluster `n` of the disk, as the guest sees it. */
  async #cluster(n: number): Promise<Buffer> {
    const size = this.clusterSize;
    const perL2 = size / 8;
    const table = await this.#l2Table(Math.floor(n / perL2));
    const entry = table?.[n % perL2] ?? 0n;
    if (entry & COMPRESSED) {
      const shift = 62n - BigInt(this.clusterBits - 8);
      const offset = entry & ((1n << shift) - 1n);
      const sectors = ((entry >> shift) & ((1n << BigInt(this.clusterBits - 8)) - 1n)) + 1n;
      const length = Number(sectors) * 512 - Number(offset & 511n);
      const packed = Buffer.alloc(length);
      const { bytesRead } = await this.fh.read(packed, 0, length, Number(offset));
      // The run ends in the last sector it touches: what follows the deflate stream is ignored.
      const out = inflateRawSync(packed.subarray(0, bytesRead), { finishFlush: constants.Z_SYNC_FLUSH });
      return out.length === size ? out : Buffer.concat([out, Buffer.alloc(size - out.length)], size);
    }
    const at = Number(entry & OFFSET_MASK);
    if (at === 0 || entry & ZERO_FLAG) return Buffer.alloc(size);
    const data = Buffer.alloc(size);
    await this.fh.read(data, 0, size, at);
    return data;
  }

  /** `length` bytes of the disk from `offset` (fewer past its end). */
  async read(offset: number, length: number): Promise<Buffer> {
    const end = Math.min(this.virtualSize, offset + length);
    if (offset >= end) return Buffer.alloc(0);
    const parts: Buffer[] = [];
    for (let at = offset; at < end;) {
      const n = Math.floor(at / this.clusterSize);
      const within = at - n * this.clusterSize;
      const take = Math.min(this.clusterSize - within, end - at);
      const c = await this.#cluster(n);
      parts.push(c.subarray(within, within + take));
      at += take;
    }
    return parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts, end - offset);
  }

  /** The disk's bytes [start, end) as a stream, a few clusters per piece. */
  stream(start = 0, end = this.virtualSize): Readable {
    let at = start;
    const step = 16 * this.clusterSize;
    const out: Readable = new Readable({
      read: () => {
        if (at >= end) return void out.push(null);
        const n = Math.min(step, end - at);
        const from = at;
        at += n;
        this.read(from, n).then(
          (b) => out.push(b),
          (e: unknown) => out.destroy(e as Error),
        );
      },
    });
    return out;
  }

  async close(): Promise<void> {
    await this.fh.close();
  }
}
