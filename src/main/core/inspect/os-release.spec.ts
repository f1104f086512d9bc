import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { extImage, linuxDisk } from '../../../../test/support/linux-disk';
import { ExtBudgetError, ExtFs } from './ext-fs';
import { guestHints } from './guest-hints';
import { elfArchitecture, guestOs, parseOsRelease } from './os-release';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'gu-osrel-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const UBUNTU = 'PRETTY_NAME="Ubuntu 24.04.1 LTS"\nNAME="Ubuntu"\nVERSION_ID="24.04"\nID=ubuntu\nID_LIKE=debian\n';
const bufferRead = (b: Buffer) => async (o: number, n: number) => b.subarray(o, o + n);
const values = (s: Record<string, { value: string }>): Record<string, string> =>
  Object.fromEntries(Object.entries(s).map(([k, v]) => [k, v.value]));

describe('the guest’s own root file system', () => {
  // Fails when symbolic links are not followed (Ubuntu's /etc/os-release and /bin are links),
  // or when a directory is read from its first block only (the htree of 600 names).
  it('reads an Ubuntu cloud disk: os-release through its link, /bin/sh through two, on a GPT beside an ESP', async () => {
    const raw = join(dir, 'disk.raw');
    linuxDisk(raw, { osRelease: UBUNTU, linked: true, manyFiles: 600, htree: true });
    const hints = await guestHints(raw, 'raw');
    expect(values(hints)).toMatchObject({
      os_distro: 'ubuntu',
      os_version: '24.04',
      image_original_user: 'ubuntu',
      architecture: 'x86_64',
    });
    expect(hints.os_distro?.from).toBe('/etc/os-release on partition 3');
    expect(hints.architecture?.from).toBe('/bin/sh on partition 3');
    expect(hints.hw_firmware_type).toBeUndefined(); // hybrid: an ESP and a BIOS boot partition
    // The same disk as a compressed qcow2: read through its guest view.
    const qcow2 = join(dir, 'disk.qcow2');
    execFileSync('qemu-img', ['convert', '-c', '-f', 'raw', '-O', 'qcow2', raw, qcow2]);
    expect(values(await guestHints(qcow2, 'qcow2'))).toMatchObject({ os_distro: 'ubuntu', architecture: 'x86_64' });
  });

  // Fails when the next EBR is taken relative to the current one (the root is in the third
  // logical partition), or when ext2's 1 KiB blocks are read as 4 KiB.
  it('reads ext2 with 1 KiB blocks on the third logical MBR partition, and an aarch64 shell', async () => {
    const raw = join(dir, 'debian.raw');
    const osRelease = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nVERSION_ID="12"\nID=debian\n';
    linuxDisk(raw, { osRelease, fs: 'ext2', table: 'mbr-logical', machine: 0xb7, manyFiles: 400 });
    const hints = await guestHints(raw, 'raw');
    expect(values(hints)).toMatchObject({
      os_distro: 'debian',
      os_version: '12',
      image_original_user: 'debian',
      architecture: 'aarch64',
      hw_firmware_type: 'bios',
    });
    expect(hints.os_distro?.from).toBe('/etc/os-release on partition 7');
  });

  it('reads a disk that is one file system, and names openSUSE as Glance does', async () => {
    const raw = join(dir, 'suse.raw');
    linuxDisk(raw, { osRelease: 'NAME="openSUSE Leap"\nVERSION_ID="15.6"\nID="opensuse-leap"\n', table: 'none' });
    expect(values(await guestHints(raw, 'raw'))).toMatchObject({ os_distro: 'opensuse', os_version: '15.6' });
    const mbr = join(dir, 'mbr.raw');
    linuxDisk(mbr, { osRelease: UBUNTU, table: 'mbr' });
    expect(await guestOs(bufferRead(readFileSync(mbr)))).toMatchObject({ path: '/etc/os-release', on: 'partition 1' });
  });

  // Fails when a file's blocks past the first twelve (ext2) or past the inode's four extents
  // (ext4: a sparse file has one per run, the tree then has an index level) are read wrong.
  it('reads whole files through indirect blocks and an extent tree with an index level, holes as zeros', async () => {
    const big = randomBytes(300 * 1024); // 300 blocks of 1 KiB: direct, single and double indirect
    const ext2 = extImage({ osRelease: 'ID=x\n', fs: 'ext2', extra: { 'data/big': big } });
    const fs2 = await ExtFs.open(bufferRead(ext2));
    expect((await fs2?.readFile('/data/big', big.length))?.equals(big)).toBe(true);

    const sparse = join(dir, 'sparse');
    const expected = Buffer.alloc(9 * 64 * 1024 + 4096); // ten 4 KiB runs of data, 60 KiB holes between
    const fd = openSync(sparse, 'w');
    for (let i = 0; i < 10; i++) {
      const run = randomBytes(4096);
      run.copy(expected, i * 64 * 1024);
      writeSync(fd, run, 0, run.length, i * 64 * 1024);
    }
    closeSync(fd);
    const ext4 = extImage({ osRelease: 'ID=x\n', extra: { 'data/sparse': sparse } });
    const fs4 = await ExtFs.open(bufferRead(ext4));
    expect((await fs4?.readFile('/data/sparse', expected.length))?.equals(expected)).toBe(true);
  });

  // One random disk in 65536 has EF 53 where the magic goes. Fails when two bytes make a file
  // system (open must refuse the first), or when a table pointing outside the disk throws out
  // of the reader instead of reading as absent (the second: a layout that holds, random tables).
  it('finds nothing, and does not throw, on random data that carries the magic', async () => {
    const junk = randomBytes(4 * 1024 * 1024);
    const sb = junk.subarray(1024, 2048);
    sb.writeUInt16LE(0xef53, 56);
    sb.writeUInt32LE(0, 24); // 1 KiB blocks
    sb.writeUInt32LE(1, 76); // revision 1: the inode size is read
    sb.writeUInt16LE(256, 88);
    sb.writeUInt32LE(0, 96); // no incompatible feature
    sb.writeUInt32LE(1, 20);
    sb.writeUInt32LE(0xffffffff, 40); // more inodes per group than a group can hold
    expect(await ExtFs.open(bufferRead(junk))).toBeUndefined();
    sb.writeUInt32LE(2048, 40);
    sb.writeUInt32LE(7, 20); // the first data block of 1 KiB blocks is 1
    expect(await ExtFs.open(bufferRead(junk))).toBeUndefined();
    sb.writeUInt32LE(1, 20);
    junk.writeUInt32LE(0xfffffff0, 2048 + 8); // group 0's inode table far past the end
    expect(await ExtFs.open(bufferRead(junk))).toBeDefined();
    expect(await guestOs(bufferRead(junk))).toBeUndefined();
  });
});

describe('bounds on a damaged or hostile file system', () => {
  // Fails when a pointer block past the disk's end throws out of the reader (walkPointers reads
  // a short buffer), or when an empty link target is taken for "." (/bin/sh would read /sh).
  it('reads damage as absent: a block map pointing past the end, an empty link', async () => {
    const fsImage = extImage({
      osRelease: UBUNTU,
      fs: 'ext2',
      manyFiles: 400, // /etc spans more than 12 blocks: it has an indirect block
      extra: { sh: Buffer.from('not the shell') },
      debugfs: ['sif /etc block[IND] 0xfffff000', 'sif /bin size 0'],
    });
    const fs = await ExtFs.open(bufferRead(fsImage));
    await expect(fs?.readFile('/etc/os-release')).resolves.not.toThrow();
    expect(await fs?.readFile('/bin/sh')).toBeUndefined();
    expect((await fs?.readFile('/sh'))?.toString()).toBe('not the shell');
  });

  // Fails without the directory cache: a link through 1000 ".." reads the root 1000 times
  // (4 MB here; a 16 MiB damaged directory would make it 16 GB); and without the budget.
  it('reads each directory once, and stops at its byte budget', async () => {
    const image = extImage({ osRelease: UBUNTU, manyFiles: 600, htree: true });
    const counted = { bytes: 0 };
    const counting = async (o: number, n: number): Promise<Buffer> => {
      counted.bytes += n;
      return image.subarray(o, o + n);
    };
    const loop = extImage({
      osRelease: UBUNTU,
      debugfs: [`symlink /deep ${'../'.repeat(1000)}etc/os-release`],
    });
    const deep = await ExtFs.open(async (o, n) => {
      counted.bytes += n;
      return loop.subarray(o, o + n);
    });
    counted.bytes = 0;
    expect((await deep?.readFile('/deep'))?.toString()).toBe(UBUNTU);
    expect(counted.bytes).toBeLessThan(1024 * 1024);
    const small = await ExtFs.open(counting, 0, 16 * 1024);
    await expect(small?.readFile('/etc/os-release')).rejects.toThrow(ExtBudgetError);
    expect((await (await ExtFs.open(counting))?.readFile('/etc/os-release'))?.toString()).toBe(UBUNTU);
  });
});

describe('os-release and ELF', () => {
  it('undoes quotes and escapes as os-release(5) says', () => {
    expect(parseOsRelease('ID=fedora\nNAME="Fedora \\"Linux\\""\nVARIANT=\'Cloud Edition\'\n# c\nbad line\n')).toEqual({
      ID: 'fedora',
      NAME: 'Fedora "Linux"',
      VARIANT: 'Cloud Edition',
    });
  });

  it('names the machine of an ELF header', () => {
    const h = Buffer.alloc(20);
    h.write('\x7fELF', 0, 'latin1');
    h[4] = 2;
    h[5] = 1;
    h.writeUInt16LE(0xf3, 18);
    expect(elfArchitecture(h)).toBe('riscv64');
    h[4] = 1; // a 32-bit program of the same machine: riscv32, not named
    expect(elfArchitecture(h)).toBeUndefined();
    h[4] = 2;
    expect(elfArchitecture(Buffer.alloc(20))).toBeUndefined();
  });
});
