/**
 * What the guest's own root file system says of itself: /etc/os-release (or /usr/lib/os-release,
 * as systemd reads them) for the distribution and its version, and the ELF header of /bin/sh for
 * the architecture it was built for. Read from the disk's ext2/3/4 partitions (or a disk that is
 * one file system), the likely root first; XFS and Btrfs roots (RHEL and its rebuilds, Fedora,
 * openSUSE) are not read and leave the name's hints in place.
 */
import { ExtFs } from './ext-fs';
import { readPartitions, type Partition, type PartitionTable, type Read } from './partitions';

export interface GuestOs {
  /** os-release's fields (ID, VERSION_ID, PRETTY_NAME...). */
  release: Record<string, string>;
  /** The file it was read from: /etc/os-release or /usr/lib/os-release. */
  path: string;
  /** The file system it was read on: "partition 2", "the disk". */
  on: string;
  /** The architecture /bin/sh was built for, if it could be read. */
  architecture?: string;
}

/** Partition types no root lives on (GPT and MBR): the ESP, GRUB's BIOS boot, Linux swap. */
const NOT_ROOT = new Set([
  'c12a7328-f81f-11d2-ba4b-00a0c93ec93b',
  '21686148-6449-6e6f-744e-656564454649',
  '0657fd6d-a4ab-43c4-84e5-0933c84b4f4f',
  'ef',
  '82',
]);
/** Partitions looked into at most (each costs a superblock read). */
const MAX_TRIED = 8;

/** ELF e_machine values, as Glance's `architecture` names them. */
const ELF_MACHINES: Record<number, string> = {
  0x03: 'i686',
  0x28: 'armv7l',
  0x3e: 'x86_64',
  0xb7: 'aarch64',
  0xf3: 'riscv64',
  0x15: 'ppc64le',
  0x16: 's390x',
};

/** os-release's KEY=value lines, quotes and backslash escapes undone (os-release(5)). */
export function parseOsRelease(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^\s*([A-Z0-9_]+)=(.*)$/.exec(line);
    if (m === null) continue;
    let v = (m[2] ?? '').trim();
    const q = v[0];
    if ((q === '"' || q === "'") && v.endsWith(q) && v.length >= 2) v = v.slice(1, -1);
    if (q === '"') v = v.replace(/\\(["\\`$])/g, '$1');
    out[m[1] ?? ''] = v;
  }
  return out;
}

/** The architecture in an ELF header (the first 20 bytes of a program). */
export function elfArchitecture(head: Buffer): string | undefined {
  if (head.length < 20 || head.toString('latin1', 0, 4) !== '\x7fELF') return undefined;
  const [bits64, data] = [head[4] === 2, head[5]];
  if (data !== 1 && data !== 2) return undefined;
  const machine = data === 2 ? head.readUInt16BE(18) : head.readUInt16LE(18);
  if (machine === 0x15 && data === 2) return 'ppc64'; // big-endian POWER
  // The same machine numbers name 32-bit RISC-V and 31-bit s390 too.
  if ((machine === 0xf3 || machine === 0x16 || machine === 0x15 || machine === 0x3e || machine === 0xb7) && !bits64)
    return undefined;
  return ELF_MACHINES[machine];
}

async function readOs(fs: ExtFs, on: string): Promise<GuestOs | undefined> {
  for (const path of ['/etc/os-release', '/usr/lib/os-release']) {
    const text = await fs.readFile(path, 16 * 1024);
    if (text === undefined || text.length === 0) continue;
    const release = parseOsRelease(text.toString('utf8'));
    if (release.ID === undefined && release.NAME === undefined) continue;
    const sh = await fs.readFile('/bin/sh', 64);
    const architecture = sh === undefined ? undefined : elfArchitecture(sh);
    return { release, path, on, ...(architecture ? { architecture } : {}) };
  }
  return undefined;
}

/** The guest's os-release from its root file system, if one of ext2/3/4 holds it (`table`: the disk's, if read already). */
export async function guestOs(read: Read, table?: PartitionTable): Promise<GuestOs | undefined> {
  table ??= await readPartitions(read);
  const tries: { part?: Partition; on: string }[] =
    table.scheme === 'none'
      ? [{ on: 'the disk' }]
      : table.parts
          .map((part) => ({ part, on: `partition ${part.number}` }))
          .filter((t) => !NOT_ROOT.has(t.part.type))
          // the biggest first: the root, not /boot
          .sort((a, b) => b.part.size - a.part.size)
          .slice(0, MAX_TRIED);
  for (const t of tries) {
    // One damaged partition (or one past its budget) must not hide the root on another.
    const os = await ExtFs.open(read, t.part?.start ?? 0)
      .then((fs) => (fs === undefined ? undefined : readOs(fs, t.on)))
      .catch(() => undefined);
    if (os !== undefined) return os;
  }
  return undefined;
}
