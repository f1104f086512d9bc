/**
 * The partitions of a guest disk, read through any byte reader (a raw file, a qcow2's guest
 * view): a GPT (512-byte or 4Kn sectors) behind its protective MBR, an MBR with its logical
 * partitions, or none (the disk is one file system, or nothing we can read). Only what the
 * guest hints need: each partition's type, where it starts and how long it is.
 */

export type Read = (offset: number, length: number) => Promise<Buffer>;

export interface Partition {
  /** Its number as Linux names it: the GPT entry's, MBR 1-4, logical partitions from 5. */
  number: number;
  /** A GPT type GUID (lower case), or an MBR type byte as two hex digits. */
  type: string;
  start: number;
  size: number;
}

export type PartitionTable =
  | { scheme: 'gpt'; parts: Partition[] }
  | { scheme: 'mbr'; parts: Partition[] }
  /** No table, or a protective MBR whose GPT cannot be read. */
  | { scheme: 'none'; parts: [] };

const NONE: PartitionTable = { scheme: 'none', parts: [] };
const EXTENDED = new Set([0x05, 0x0f, 0x85]);
/** Logical partitions followed through the EBR chain at most (a loop would never end). */
const MAX_LOGICAL = 64;

/** A GPT type GUID as text (its first three fields are little-endian). */
export function guidText(b: Buffer): string {
  const h = (x: Buffer): string => x.toString('hex');
  const le = (s: number, n: number): string => h(Buffer.from(b.subarray(s, s + n)).reverse());
  return `${le(0, 4)}-${le(4, 2)}-${le(6, 2)}-${h(b.subarray(8, 10))}-${h(b.subarray(10, 16))}`;
}

export interface MbrEntry {
  boot: number;
  type: number;
  lba: number;
  sectors: number;
}

/** The four primary entries of an MBR sector. */
export function mbrEntries(sector: Buffer): MbrEntry[] {
  return [0, 1, 2, 3].map((i) => {
    const o = 446 + i * 16;
    return {
      boot: sector[o] ?? 0,
      type: sector[o + 4] ?? 0,
      lba: sector.readUInt32LE(o + 8),
      sectors: sector.readUInt32LE(o + 12),
    };
  });
}

/** A sector ending in 55 AA: an MBR, an EBR, or a boot sector. */
export const signed = (s: Buffer): boolean => s.length >= 512 && s[510] === 0x55 && s[511] === 0xaa;

export async function readPartitions(read: Read): Promise<PartitionTable> {
  const mbr = await read(0, 512);
  if (!signed(mbr)) return NONE;
  const entries = mbrEntries(mbr);
  const protective = entries.some((e) => e.type === 0xee);
  // The GPT header is in the second sector: 512 bytes in, or 4096 on a 4Kn disk.
  for (const sector of protective ? [512, 4096] : [512]) {
    const header = await read(sector, 92);
    if (header.toString('latin1', 0, 8) === 'EFI PART') return gpt(read, header, sector);
  }
  if (protective) return NONE;
  // 55 AA ends one sector in 65536 by chance: a table has boot flags 00 or 80 and an entry.
  if (!entries.every((e) => e.boot === 0 || e.boot === 0x80) || entries.every((e) => e.type === 0)) return NONE;
  const parts: Partition[] = [];
  for (const [i, e] of entries.entries()) {
    if (e.type === 0) continue;
    if (EXTENDED.has(e.type)) parts.push(...(await logical(read, e.lba)));
    else parts.push({ number: i + 1, type: hex2(e.type), start: e.lba * 512, size: e.sectors * 512 });
  }
  return { scheme: 'mbr', parts };
}

const hex2 = (n: number): string => n.toString(16).padStart(2, '0');

async function gpt(read: Read, header: Buffer, sector: number): Promise<PartitionTable> {
  const entriesAt = Number(header.readBigUInt64LE(72)) * sector;
  const count = Math.min(256, header.readUInt32LE(80));
  const size = header.readUInt32LE(84);
  if (size < 128 || size > 4096) return NONE;
  const table = await read(entriesAt, count * size);
  const parts: Partition[] = [];
  for (let i = 0; i + size <= table.length; i += size) {
    const t = table.subarray(i, i + 16);
    if (t.every((x) => x === 0)) continue;
    const first = Number(table.readBigUInt64LE(i + 32));
    const last = Number(table.readBigUInt64LE(i + 40));
    parts.push({
      number: i / size + 1,
      type: guidText(t),
      start: first * sector,
      size: Math.max(0, last - first + 1) * sector,
    });
  }
  return { scheme: 'gpt', parts };
}

/** The logical partitions of an extended one: each EBR holds one and points to the next. */
async function logical(read: Read, extendedLba: number): Promise<Partition[]> {
  const parts: Partition[] = [];
  let ebr = extendedLba;
  for (let n = 0; n < MAX_LOGICAL; n++) {
    const sector = await read(ebr * 512, 512);
    if (!signed(sector)) break;
    const [own, next] = mbrEntries(sector);
    // Numbered as Linux does: only the EBRs that hold a partition count.
    if (own !== undefined && own.type !== 0 && own.sectors !== 0)
      parts.push({
        number: 5 + parts.length,
        type: hex2(own.type),
        start: (ebr + own.lba) * 512,
        size: own.sectors * 512,
      });
    if (next === undefined || next.type === 0 || next.lba === 0) break;
    ebr = extendedLba + next.lba;
  }
  return parts;
}
