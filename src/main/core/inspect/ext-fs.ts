/**
 * Just enough of ext2, ext3 and ext4 to read a small file by its path, without mounting and
 * without root: the superblock, the group descriptors, inodes, extent trees and the block maps
 * of ext2/3, directories (an htree's index blocks read as empty entries, so a linear walk finds
 * every name; inline ones too) and symbolic links (Ubuntu's /etc/os-release points into
 * /usr/lib). What it does not know (meta_bg, inline data past the inode, encryption) reads as
 * "not found", never as a wrong answer. Every read is bounded: each directory is read once, a
 * path has a bounded number of steps, and one file system reads at most `budgetBytes` in all,
 * so a damaged one cannot make it loop or read much (past the budget: ext.budget is thrown).
 */
import type { Read } from './partitions';

const MAGIC = 0xef53;
const INCOMPAT_FILETYPE = 0x2;
const INCOMPAT_META_BG = 0x10;
const INCOMPAT_64BIT = 0x80;
const INCOMPAT_ENCRYPT = 0x10000;
const EXTENTS_FL = 0x80000;
const INLINE_DATA_FL = 0x10000000;
const ROOT_INODE = 2;
const S_IFMT = 0xf000;
const S_IFDIR = 0x4000;
const S_IFLNK = 0xa000;
/** The longest directory read (a /usr/lib of thousands of names is far less). */
const MAX_DIR_BYTES = 16 * 1024 * 1024;
const MAX_LINKS = 16;
/** Path components walked for one file, links' targets included. */
const MAX_STEPS = 1024;
const MAX_DEPTH = 5;
/** Extent tree nodes read for one file at most (a damaged tree could point everywhere). */
const MAX_EXTENT_NODES = 256;
export const DEFAULT_BUDGET_BYTES = 64 * 1024 * 1024;

interface Inode {
  mode: number;
  size: number;
  flags: number;
  /** 512-byte sectors the inode holds, its extended-attribute block taken out. */
  dataSectors: number;
  block: Buffer;
}

interface Layout {
  base: number;
  blockSize: number;
  inodesCount: number;
  inodesPerGroup: number;
  inodeSize: number;
  descSize: number;
  gdtBlock: number;
  filetype: boolean;
}

/** Thrown when a file system asks for more than its budget: the caller treats it as unreadable. */
export class ExtBudgetError extends Error {
  readonly code = 'ext.budget';
}

export class ExtFs {
  #spent = 0;
  readonly #dirs = new Map<number, Buffer>();

  private constructor(
    private readonly disk: Read,
    private readonly l: Layout,
    private readonly budgetBytes: number,
  ) {}

  /** The file system at byte `base` of the disk, or undefined when it is no ext2/3/4 we can read. */
  static async open(read: Read, base = 0, budgetBytes = DEFAULT_BUDGET_BYTES): Promise<ExtFs | undefined> {
    const sb = await read(base + 1024, 1024);
    if (sb.length < 256 || sb.readUInt16LE(56) !== MAGIC) return undefined;
    const log = sb.readUInt32LE(24);
    const incompat = sb.readUInt32LE(96);
    if (log > 6 || (incompat & (INCOMPAT_META_BG | INCOMPAT_ENCRYPT)) !== 0) return undefined;
    const blockSize = 1024 << log;
    // Two magic bytes match one random sector in 65536: the layout must hold together too.
    const inodesPerGroup = sb.readUInt32LE(40);
    const firstData = sb.readUInt32LE(20);
    if (inodesPerGroup === 0 || inodesPerGroup > 8 * blockSize || sb.readUInt32LE(76) > 1) return undefined;
    if (firstData !== (blockSize === 1024 ? 1 : 0)) return undefined;
    const inodeSize = sb.readUInt32LE(76) >= 1 ? sb.readUInt16LE(88) : 128;
    if (inodeSize < 128 || inodeSize > blockSize) return undefined;
    const layout: Layout = {
      base,
      blockSize,
      inodesCount: sb.readUInt32LE(0),
      inodesPerGroup,
      inodeSize,
      descSize: (incompat & INCOMPAT_64BIT) !== 0 ? Math.max(32, sb.readUInt16LE(254)) : 32,
      gdtBlock: firstData + 1,
      filetype: (incompat & INCOMPAT_FILETYPE) !== 0,
    };
    return new ExtFs(read, layout, budgetBytes);
  }

  /** The file at `path` (symbolic links followed), at most `maxBytes` of it; undefined if absent. */
  async readFile(path: string, maxBytes = 64 * 1024): Promise<Buffer | undefined> {
    const ino = await this.resolve(path);
    if (ino === undefined) return undefined;
    const inode = await this.inode(ino);
    if (inode === undefined || (inode.mode & S_IFMT) === S_IFDIR) return undefined;
    return this.content(inode, maxBytes);
  }

  private async read(offset: number, length: number): Promise<Buffer> {
    this.#spent += length;
    if (this.#spent > this.budgetBytes)
      throw new ExtBudgetError(`Reading the file system took more than ${this.budgetBytes} bytes.`);
    return this.disk(offset, length);
  }

  private async resolve(path: string): Promise<number | undefined> {
    let pending = path.split('/').filter((c) => c !== '');
    let dir = ROOT_INODE;
    for (let links = 0, steps = 0; pending.length > 0; steps++) {
      if (steps > MAX_STEPS) return undefined;
      const [name = '', ...rest] = pending;
      const ino = await this.lookup(dir, name);
      const inode = ino === undefined ? undefined : await this.inode(ino);
      if (ino === undefined || inode === undefined) return undefined;
      if ((inode.mode & S_IFMT) !== S_IFLNK) {
        if (rest.length === 0) return ino;
        [dir, pending] = [ino, rest];
        continue;
      }
      if (++links > MAX_LINKS) return undefined;
      const target = (await this.linkTarget(inode)).toString('utf8');
      if (target === '') return undefined; // as the kernel: an empty link leads nowhere
      // Relative: from the directory holding the link (its '..' entries walk up as the kernel's do).
      if (target.startsWith('/')) dir = ROOT_INODE;
      pending = [...target.split('/').filter((c) => c !== '' && c !== '.'), ...rest];
    }
    return dir;
  }

  private async linkTarget(inode: Inode): Promise<Buffer> {
    // A fast link keeps its target in the inode itself: it holds no block (as the kernel decides).
    if (inode.dataSectors === 0 && (inode.flags & INLINE_DATA_FL) === 0)
      return inode.block.subarray(0, Math.min(inode.size, 60));
    return this.content(inode, 4096);
  }

  /** A directory's entries, read once per file system. */
  private async entries(dir: Inode, ino: number): Promise<{ data: Buffer; from: number; parent?: number }> {
    // An inline directory: its parent's number, then entries, in the inode's 60 bytes.
    if ((dir.flags & INLINE_DATA_FL) !== 0)
      return { data: dir.block.subarray(0, Math.min(dir.size, 60)), from: 4, parent: dir.block.readUInt32LE(0) };
    let data = this.#dirs.get(ino);
    if (data === undefined) this.#dirs.set(ino, (data = await this.content(dir, MAX_DIR_BYTES)));
    return { data, from: 0 };
  }

  private async lookup(dir: number, name: string): Promise<number | undefined> {
    const inode = await this.inode(dir);
    if (inode === undefined || (inode.mode & S_IFMT) !== S_IFDIR) return undefined;
    const { data, from, parent } = await this.entries(inode, dir);
    if (name === '..' && parent !== undefined) return parent;
    const wanted = Buffer.from(name, 'utf8');
    const bs = this.l.blockSize;
    for (let o = from; o + 8 <= data.length;) {
      const ino = data.readUInt32LE(o);
      const raw = data.readUInt16LE(o + 4);
      // 65536-byte blocks store a whole-block entry's length as 0xffff or 0 (ext4_rec_len_from_disk).
      const recLen = raw === 0xffff || (raw === 0 && bs === 65536) ? bs : (raw & 0xfffc) | ((raw & 3) << 16);
      const nameLen = this.l.filetype ? (data[o + 6] ?? 0) : data.readUInt16LE(o + 6);
      if (recLen < 8) {
        o = (Math.floor(o / bs) + 1) * bs; // damaged, or a hole: the next block
        continue;
      }
      if (ino !== 0 && nameLen === wanted.length && data.subarray(o + 8, o + 8 + nameLen).equals(wanted)) return ino;
      o += recLen;
    }
    return undefined;
  }

  /** Inode `n`, or undefined when it cannot be one (a damaged entry or table). */
  private async inode(n: number): Promise<Inode | undefined> {
    const l = this.l;
    if (n < 1 || n > l.inodesCount) return undefined;
    const group = Math.floor((n - 1) / l.inodesPerGroup);
    const index = (n - 1) % l.inodesPerGroup;
    const desc = await this.read(this.at(l.gdtBlock) + group * l.descSize, l.descSize);
    if (desc.length < l.descSize) return undefined;
    let table = desc.readUInt32LE(8);
    if (l.descSize >= 64) table += desc.readUInt32LE(0x28) * 2 ** 32;
    const raw = await this.read(this.at(table) + index * l.inodeSize, 128);
    if (raw.length < 128) return undefined;
    const xattrSectors = raw.readUInt32LE(0x68) !== 0 ? l.blockSize / 512 : 0;
    return {
      mode: raw.readUInt16LE(0),
      size: raw.readUInt32LE(4) + raw.readUInt32LE(0x6c) * 2 ** 32,
      flags: raw.readUInt32LE(0x20),
      dataSectors: raw.readUInt32LE(0x1c) - xattrSectors,
      block: raw.subarray(0x28, 0x28 + 60),
    };
  }

  private at(block: number): number {
    return this.l.base + block * this.l.blockSize;
  }

  /** The first `maxBytes` of an inode's data, holes as zeros. */
  private async content(inode: Inode, maxBytes: number): Promise<Buffer> {
    const bs = this.l.blockSize;
    const size = Math.min(inode.size, maxBytes, this.budgetBytes);
    if ((inode.flags & INLINE_DATA_FL) !== 0) return size <= 60 ? inode.block.subarray(0, size) : Buffer.alloc(0);
    const count = Math.ceil(size / bs);
    const blocks =
      (inode.flags & EXTENTS_FL) !== 0
        ? await this.extentBlocks(inode.block, count, 0, { nodes: MAX_EXTENT_NODES })
        : await this.mappedBlocks(inode.block, count);
    const out = Buffer.alloc(count * bs);
    for (let i = 0; i < count; i++) {
      const b = blocks.get(i);
      if (b !== undefined && b !== 0) (await this.read(this.at(b), bs)).copy(out, i * bs);
    }
    return out.subarray(0, size);
  }

  /** Logical block -> physical block for the first `count` blocks of an extent tree. */
  private async extentBlocks(
    node: Buffer,
    count: number,
    depth: number,
    budget: { nodes: number },
  ): Promise<Map<number, number>> {
    const map = new Map<number, number>();
    if (node.length < 12 || node.readUInt16LE(0) !== 0xf30a || depth > MAX_DEPTH || budget.nodes-- <= 0) return map;
    const entries = node.readUInt16LE(2);
    const leaf = node.readUInt16LE(6) === 0;
    for (let i = 0; i < entries && 24 + i * 12 <= node.length; i++) {
      const e = node.subarray(12 + i * 12, 24 + i * 12);
      const first = e.readUInt32LE(0);
      if (first >= count) break;
      if (leaf) {
        const len = e.readUInt16LE(4);
        if (len > 32768) continue; // not yet written: reads as zeros
        const start = e.readUInt16LE(6) * 2 ** 32 + e.readUInt32LE(8);
        for (let j = 0; j < len && first + j < count; j++) map.set(first + j, start + j);
      } else {
        const child = await this.read(this.at(e.readUInt32LE(4) + e.readUInt16LE(8) * 2 ** 32), this.l.blockSize);
        for (const [k, v] of await this.extentBlocks(child, count, depth + 1, budget)) map.set(k, v);
      }
    }
    return map;
  }

  /** The same through ext2/3's block map: 12 direct blocks, then one, two and three levels of pointers. */
  private async mappedBlocks(iBlock: Buffer, count: number): Promise<Map<number, number>> {
    const map = new Map<number, number>();
    const perBlock = this.l.blockSize / 4;
    for (let i = 0; i < 12 && i < count; i++) map.set(i, iBlock.readUInt32LE(i * 4));
    let first = 12;
    for (let level = 1; level <= 3 && first < count; level++) {
      await this.walkPointers(iBlock.readUInt32LE((11 + level) * 4), level, first, count, map);
      first += perBlock ** level;
    }
    return map;
  }

  private async walkPointers(
    block: number,
    level: number,
    first: number,
    count: number,
    map: Map<number, number>,
  ): Promise<void> {
    if (block === 0 || first >= count) return;
    const ptrs = await this.read(this.at(block), this.l.blockSize);
    if (ptrs.length < this.l.blockSize) return; // past the disk's end: a damaged map
    const perBlock = this.l.blockSize / 4;
    const span = perBlock ** (level - 1);
    for (let i = 0; i < perBlock && first + i * span < count; i++) {
      const p = ptrs.readUInt32LE(i * 4);
      if (level === 1) map.set(first + i, p);
      else await this.walkPointers(p, level - 1, first + i * span, count, map);
    }
  }
}
