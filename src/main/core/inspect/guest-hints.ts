/**
 * Metadata suggested from what an image shows of its guest, each with where it was read, for the
 * upload form to offer (never set without the user): the firmware from the partition table (a
 * GPT with an EFI system partition boots with UEFI; an MBR alone with BIOS), the architecture
 * from /bin/sh's ELF header or a GPT root or /usr partition's type (the Discoverable Partitions
 * Specification), the distribution and its version from the root file system's os-release
 * (ext2/3/4: os-release.ts), the disk bus from a VMDK's adapter type, and, where the disk says
 * nothing, from the name cloud images are published under (ubuntu-24.04-server-cloudimg-
 * amd64.img, debian-12-genericcloud-arm64.qcow2, Fedora-Cloud-Base-41-1.4.x86_64.qcow2...).
 * Raw and qcow2 disks are read; other formats get the name's hints only.
 */
import { statSync } from 'node:fs';
import { basename } from 'node:path';
import type { Suggestion } from '../../../shared/dto';
import { FileWindow } from '../io/file-window';
import { Qcow2Reader } from '../io/qcow2-reader';
import { guestOs, type GuestOs } from './os-release';
import { readPartitions, type PartitionTable, type Read } from './partitions';

export type Suggestions = Record<string, Suggestion>;

const ESP = 'c12a7328-f81f-11d2-ba4b-00a0c93ec93b';
/** GRUB's BIOS boot partition: with an ESP beside it, the disk boots either way. */
const BIOS_BOOT = '21686148-6449-6e6f-744e-656564454649';
/** Root and /usr partition types of the Discoverable Partitions Specification. */
const ARCH_OF_TYPE: Record<string, string> = {
  '4f68bce3-e8cd-4db1-96e7-fbcaf984b709': 'x86_64',
  '8484680c-9521-48c6-9c11-b0720656f69e': 'x86_64',
  'b921b045-1df0-41c3-af44-4c6f280d3fae': 'aarch64',
  'b0e01050-ee5f-4390-949a-9101b17104e9': 'aarch64',
};

/** The firmware and architecture a disk's partition table shows. */
export function hintsFromTable(table: PartitionTable): Suggestions {
  if (table.scheme === 'none') return {};
  if (table.scheme === 'mbr') {
    const efi = table.parts.some((p) => p.type === 'ef');
    return {
      hw_firmware_type: {
        value: efi ? 'uefi' : 'bios',
        from: `an MBR partition table${efi ? ' with an EFI partition' : ''}`,
      },
    };
  }
  const gptTypes = new Set(table.parts.map((p) => p.type));
  const out: Suggestions = {};
  // Both an ESP and a BIOS boot partition: a hybrid disk (Ubuntu's and Debian's cloud images)
  // boots either way, nothing to suggest.
  if (gptTypes.has(ESP) && !gptTypes.has(BIOS_BOOT))
    out.hw_firmware_type = { value: 'uefi', from: 'a GPT with an EFI system partition' };
  else if (!gptTypes.has(ESP)) out.hw_firmware_type = { value: 'bios', from: 'a GPT without an EFI system partition' };
  const arch = [...gptTypes].map((t) => ARCH_OF_TYPE[t]).find((a) => a !== undefined);
  if (arch !== undefined) out.architecture = { value: arch, from: 'the root partition’s type (GPT)' };
  return out;
}

interface Distro {
  test: RegExp;
  distro: string;
  user: string;
  /** The version from the match, or from an Ubuntu code name. */
  version: (m: RegExpExecArray) => string | undefined;
}

const UBUNTU_CODENAMES: Record<string, string> = {
  focal: '20.04',
  jammy: '22.04',
  noble: '24.04',
  oracular: '24.10',
  plucky: '25.04',
  questing: '25.10',
};

const DISTROS: Distro[] = [
  { test: /ubuntu[-_]?(\d{2}\.\d{2})/i, distro: 'ubuntu', user: 'ubuntu', version: (m) => m[1] },
  {
    test: new RegExp(`\\b(${Object.keys(UBUNTU_CODENAMES).join('|')})\\b`, 'i'),
    distro: 'ubuntu',
    user: 'ubuntu',
    version: (m) => UBUNTU_CODENAMES[(m[1] ?? '').toLowerCase()],
  },
  { test: /debian[-_](\d+)/i, distro: 'debian', user: 'debian', version: (m) => m[1] },
  { test: /fedora[-_a-z]*?[-_](\d{2})\b/i, distro: 'fedora', user: 'fedora', version: (m) => m[1] },
  { test: /centos[-_]stream[-_a-z]*?[-_](\d+)/i, distro: 'centos', user: 'cloud-user', version: (m) => m[1] },
  { test: /rocky[-_](\d+(?:\.\d+)?)/i, distro: 'rocky', user: 'rocky', version: (m) => m[1] },
  { test: /almalinux[-_](\d+(?:\.\d+)?)/i, distro: 'almalinux', user: 'almalinux', version: (m) => m[1] },
  { test: /opensuse[-_a-z]*?[-_](\d+\.\d+)/i, distro: 'opensuse', user: 'opensuse', version: (m) => m[1] },
];

/** What a cloud image's published file name says of its guest. */
export function hintsFromName(path: string): Suggestions {
  const name = basename(path);
  const from = 'the file name';
  const out: Suggestions = {};
  if (/(x86[-_]64|amd64|x64)/i.test(name)) out.architecture = { value: 'x86_64', from };
  else if (/(aarch64|arm64)/i.test(name)) out.architecture = { value: 'aarch64', from };
  for (const d of DISTROS) {
    const m = d.test.exec(name);
    if (m === null) continue;
    out.os_distro = { value: d.distro, from };
    const version = d.version(m);
    if (version !== undefined) out.os_version = { value: version, from };
    out.image_original_user = { value: d.user, from: `the ${d.distro} cloud images’ default user` };
    break;
  }
  return out;
}

/**
 * A VMDK whose guest booted from a SCSI controller (VMware's lsilogic, lsisas1068, buslogic,
 * pvscsi) has its drivers for SCSI disks: hw_disk_bus scsi. The controller model is not carried
 * over (KVM offers none of VMware's); ide is what qemu-img writes into every VMDK it makes, so it
 * says nothing of the guest.
 */
const SCSI_ADAPTERS = new Set(['lsilogic', 'lsisas1068', 'buslogic', 'pvscsi']);

export function hintsFromAdapter(adapterType: unknown): Suggestions {
  if (typeof adapterType !== 'string' || !SCSI_ADAPTERS.has(adapterType.toLowerCase())) return {};
  return { hw_disk_bus: { value: 'scsi', from: `the VMDK's adapter type (${adapterType})` } };
}

/** os-release IDs whose os_distro Glance's documentation names otherwise. */
const DISTRO_OF_ID: Record<string, string> = {
  'opensuse-leap': 'opensuse',
  'opensuse-tumbleweed': 'opensuse',
  'opensuse-microos': 'opensuse',
};

/** What the guest's root file system says: its distribution, version, default user and architecture. */
export function hintsFromGuestOs(os: GuestOs): Suggestions {
  const out: Suggestions = {};
  const id = os.release.ID?.toLowerCase();
  const from = `${os.path} on ${os.on}`;
  if (id !== undefined && id !== '') {
    const distro = DISTRO_OF_ID[id] ?? id;
    out.os_distro = { value: distro, from };
    const version = os.release.VERSION_ID;
    if (version !== undefined && version !== '') out.os_version = { value: version, from };
    const user = DISTROS.find((d) => d.distro === distro)?.user;
    if (user !== undefined) out.image_original_user = { value: user, from: `the ${distro} cloud images’ default user` };
  }
  if (os.architecture !== undefined) out.architecture = { value: os.architecture, from: `/bin/sh on ${os.on}` };
  return out;
}

/** The partition table's hints, then the root file system's over them (more exact). */
async function hintsFromGuest(read: Read): Promise<Suggestions> {
  const table = await readPartitions(read);
  const out = hintsFromTable(table);
  // A file system too damaged to read leaves the table's hints.
  const os = await guestOs(read, table).catch(() => undefined);
  return os === undefined ? out : { ...out, ...hintsFromGuestOs(os) };
}

/** Every suggestion for a file: the disk's (more exact) over the name's, and its build date. */
export async function guestHints(
  path: string,
  format: string,
  details: Record<string, unknown> = {},
): Promise<Suggestions> {
  const out: Suggestions = { ...hintsFromName(path), ...hintsFromAdapter(details.adapterType) };
  try {
    out.image_build_date = { value: statSync(path).mtime.toISOString().slice(0, 10), from: 'the file’s date' };
  } catch {
    /* the inspection already said the file cannot be read */
  }
  try {
    if (format === 'qcow2') {
      const q = await Qcow2Reader.open(path);
      try {
        Object.assign(out, await hintsFromGuest((o, n) => q.read(o, n)));
      } finally {
        await q.close();
      }
    } else if (format === 'raw' || format === 'raw (partitioned)') {
      const w = await FileWindow.open(path);
      try {
        Object.assign(out, await hintsFromGuest((o, n) => w.read(o, n)));
      } finally {
        await w.close();
      }
    }
  } catch {
    /* a disk we cannot read further (encrypted, a backing file): the name's hints stand */
  }
  return out;
}
