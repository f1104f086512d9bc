/**
 * A Linux guest disk made at test time as distributions make them, without root: a root file
 * system built by Debian's mke2fs from a directory (`-d`), with os-release where the
 * distribution keeps it, /bin a link to usr/bin and sh a link to an ELF program; laid on a GPT
 * (beside an ESP and a BIOS boot partition), an MBR (primary or logical partition), or alone.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeGpt } from './disk-fixtures';

export const LINUX_FS = '0fc63daf-8483-4772-8e79-3d69d8477de4';
const ESP = 'c12a7328-f81f-11d2-ba4b-00a0c93ec93b';
const BIOS_BOOT = '21686148-6449-6e6f-744e-656564454649';
const MiB = 1024 * 1024;

export interface LinuxDisk {
  osRelease: string;
  /** os-release in /usr/lib, /etc/os-release a relative link to it (Ubuntu, Debian). */
  linked?: boolean;
  /** ELF e_machine of the program /bin/sh leads to (0x3e x86_64, 0xb7 aarch64). */
  machine?: number;
  /** ext2 with 1 KiB blocks reads through the block map; ext4 (4 KiB) through extents. */
  fs?: 'ext4' | 'ext2';
  table?: 'gpt' | 'mbr' | 'mbr-logical' | 'none';
  /** Empty files put in /etc and /usr/lib, so those directories span many blocks (an htree on ext4). */
  manyFiles?: number;
  /** Directories hashed into htrees by e2fsck -D (mke2fs -d writes them linear), /etc checked. */
  htree?: boolean;
  /** debugfs requests run on the file system once made (`sif /etc block[IND] 0xfffff000`: damage). */
  debugfs?: string[];
  /** Other files of the root, by path: their bytes, or a file of this machine copied with its holes. */
  extra?: Record<string, Buffer | string>;
}

/** The ext file system alone, built from a directory tree (its bytes). */
export function extImage(o: LinuxDisk): Buffer {
  const work = mkdtempSync(join(tmpdir(), 'gu-linux-'));
  try {
    const root = join(work, 'root');
    for (const d of ['etc', 'usr/lib', 'usr/bin']) mkdirSync(join(root, d), { recursive: true });
    writeFileSync(join(root, o.linked ? 'usr/lib/os-release' : 'etc/os-release'), o.osRelease);
    if (o.linked) symlinkSync('../usr/lib/os-release', join(root, 'etc/os-release'));
    symlinkSync('usr/bin', join(root, 'bin'));
    const elf = Buffer.alloc(64);
    elf.write('\x7fELF', 0, 'latin1');
    elf[4] = 2; // 64-bit
    elf[5] = 1; // little-endian
    elf.writeUInt16LE(o.machine ?? 0x3e, 18);
    writeFileSync(join(root, 'usr/bin/dash'), elf);
    symlinkSync('dash', join(root, 'usr/bin/sh'));
    for (let i = 0; i < (o.manyFiles ?? 0); i++) {
      writeFileSync(join(root, 'etc', `conf-${String(i).padStart(5, '0')}-with-a-longer-name`), '');
      writeFileSync(join(root, 'usr/lib', `lib-${String(i).padStart(5, '0')}.so.1`), '');
    }
    for (const [path, data] of Object.entries(o.extra ?? {})) {
      mkdirSync(join(root, path, '..'), { recursive: true });
      if (typeof data === 'string') execFileSync('cp', ['--sparse=always', data, join(root, path)]);
      else writeFileSync(join(root, path), data);
    }
    const img = join(work, 'fs.img');
    const fs = o.fs ?? 'ext4';
    execFileSync('mke2fs', ['-q', '-F', '-t', fs, '-b', fs === 'ext2' ? '1024' : '4096', '-d', root, img, '24M'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    if (o.htree === true) {
      const fsck = spawnSync('e2fsck', ['-fyD', img], { encoding: 'utf8' });
      if (fsck.status !== 0 && fsck.status !== 1) throw new Error(`e2fsck -D failed: ${fsck.stderr}`);
      const stat = execFileSync('debugfs', ['-R', 'stat /etc', img], { encoding: 'utf8', stdio: 'pipe' });
      const flags = Number(/Flags: (0x[0-9a-f]+)/.exec(stat)?.[1] ?? 0);
      if ((flags & 0x1000) === 0) throw new Error(`/etc is no htree after e2fsck -D: ${stat}`);
    }
    for (const request of o.debugfs ?? []) execFileSync('debugfs', ['-w', '-R', request, img], { stdio: 'pipe' });
    return readFileSync(img);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

function mbrEntry(sector: Buffer, i: number, type: number, lba: number, sectors: number): void {
  const o = 446 + i * 16;
  sector[o + 4] = type;
  sector.writeUInt32LE(lba, o + 8);
  sector.writeUInt32LE(sectors, o + 12);
  sector[510] = 0x55;
  sector[511] = 0xaa;
}

/** A raw disk holding the guest, written to `path`. */
export function linuxDisk(path: string, o: LinuxDisk): void {
  const fs = extImage(o);
  const table = o.table ?? 'gpt';
  if (table === 'none') return writeFileSync(path, fs);
  const start = 2 * MiB; // LBA 4096: room for a small ESP or an EBR before it
  const disk = Buffer.alloc(start + fs.length + MiB);
  fs.copy(disk, start);
  const sectors = fs.length / 512;
  if (table === 'gpt')
    writeGpt(disk, [
      { type: BIOS_BOOT, first: 34, last: 2047 },
      { type: ESP, first: 2048, last: 4095 },
      { type: LINUX_FS, first: 4096, last: 4096 + sectors - 1 },
    ]);
  else if (table === 'mbr') mbrEntry(disk, 0, 0x83, 4096, sectors);
  else {
    // An extended partition from LBA 2048 with three logical partitions: two small swap ones (5,
    // 6), then the root (7). Each EBR's own entry is relative to itself, its link to the next EBR
    // relative to the extended partition's start (the third EBR is at 2048 + 1000, not 2648 + 1000).
    mbrEntry(disk, 0, 0x05, 2048, 2048 + sectors);
    const ebr = (lba: number): Buffer => disk.subarray(lba * 512, lba * 512 + 512);
    mbrEntry(ebr(2048), 0, 0x82, 1, 500);
    mbrEntry(ebr(2048), 1, 0x05, 600, 400);
    mbrEntry(ebr(2648), 0, 0x82, 1, 300);
    mbrEntry(ebr(2648), 1, 0x05, 1000, 1048 + sectors);
    mbrEntry(ebr(3048), 0, 0x83, 4096 - 3048, sectors);
  }
  writeFileSync(path, disk);
}
