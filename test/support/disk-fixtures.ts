/**
 * Disk-image fixtures made at test time with the real tools (qemu-img and qemu-io from Debian's
 * qemu-utils, genisoimage, tar, gzip, xz, zstd, bzip2), plus a few crafted by hand where no tool
 * makes them (a partition table, an extent pointing outside, truncations, media headers).
 * Each says what our inspector must find.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { seededRandom } from './cli-process';

export interface Fixture {
  name: string;
  path: string;
  /** Our expected detection. */
  format: string;
  /** Error codes that must be reported (an empty list: the image is safe). */
  errors: string[];
  /** Warning or info codes that must be reported too. */
  notes?: string[];
  /** `qemu-img info -f <this>` gives the virtual size ours must equal (absent: not comparable). */
  qemuFormat?: string;
  /** What we expect of the installed Glance inspector when it differs from our own verdict. */
  glanceSees?: string;
}

function run(cmd: string, args: string[], cwd: string): void {
  execFileSync(cmd, args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

/**
 * qemu-img, retried when it fails only because it could not time itself: LUKS creation measures
 * PBKDF2 iterations with the thread's CPU clock, and on a VM whose clock is coarse the first
 * measurement reads 0 ms about one time in eight ("Unable to get accurate CPU usage").
 */
function qemuImg(dir: string, ...args: string[]): void {
  for (let attempt = 1; ; attempt++) {
    try {
      run('qemu-img', args, dir);
      return;
    } catch (e) {
      const stderr = String((e as { stderr?: unknown }).stderr ?? '');
      if (attempt >= 8 || !stderr.includes('Unable to get accurate CPU usage')) throw e;
    }
  }
}

function bytes(n: number, seed: number): Buffer {
  const rnd = seededRandom(seed);
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(rnd() * 256);
  return b;
}

function patch(path: string, offset: number, data: Buffer): void {
  const fd = openSync(path, 'r+');
  try {
    writeSync(fd, data, 0, data.length, offset);
  } finally {
    closeSync(fd);
  }
}

/** An MBR partition entry (boot flag, type, first LBA, sectors) in sector 0. */
function mbrEntry(boot: number, type: number, lba: number, sectors: number): Buffer {
  const e = Buffer.alloc(16);
  e[0] = boot;
  e[4] = type;
  e.writeUInt32LE(lba, 8);
  e.writeUInt32LE(sectors, 12);
  return e;
}

const MiB = 1024 * 1024;

export function makeFixtures(dir: string): Fixture[] {
  mkdirSync(dir, { recursive: true });
  const p = (n: string): string => join(dir, n);
  const fx: Fixture[] = [];
  const add = (f: Omit<Fixture, 'path'> & { file: string }): void => {
    const { file, ...rest } = f;
    fx.push({ ...rest, path: p(file) });
  };

  // qcow2 and its variants
  qemuImg(dir, 'create', '-f', 'qcow2', '-o', 'compat=1.1', 'v3.qcow2', '1G');
  add({ name: 'qcow2 v3', file: 'v3.qcow2', format: 'qcow2', errors: [], qemuFormat: 'qcow2' });
  qemuImg(dir, 'create', '-f', 'qcow2', '-o', 'compat=0.10', 'v2.qcow2', '3G');
  add({ name: 'qcow2 v2', file: 'v2.qcow2', format: 'qcow2', errors: [], qemuFormat: 'qcow2' });
  qemuImg(dir, 'create', '-f', 'qcow2', 'data.qcow2', '64M');
  run('qemu-io', ['-f', 'qcow2', '-c', 'write -P 0xab 0 4M', 'data.qcow2'], dir);
  add({ name: 'qcow2 with data', file: 'data.qcow2', format: 'qcow2', errors: [], qemuFormat: 'qcow2' });
  qemuImg(dir, 'create', '-f', 'qcow2', '-b', 'data.qcow2', '-F', 'qcow2', 'overlay.qcow2');
  add({
    name: 'qcow2 with a backing file',
    file: 'overlay.qcow2',
    format: 'qcow2',
    errors: ['inspect.backing_file'],
    qemuFormat: 'qcow2',
  });
  qemuImg(dir, 'create', '-f', 'qcow2', '-o', 'data_file=external.raw', 'datafile.qcow2', '64M');
  add({
    name: 'qcow2 with a data file',
    file: 'datafile.qcow2',
    format: 'qcow2',
    errors: ['inspect.data_file'],
    qemuFormat: 'qcow2',
  });
  qemuImg(
    dir,
    'create',
    '--object',
    'secret,id=sec0,data=123456',
    '-f',
    'qcow2',
    '-o',
    'encrypt.format=luks,encrypt.key-secret=sec0,encrypt.iter-time=10',
    'luks.qcow2',
    '64M',
  );
  add({
    name: 'qcow2 encrypted (LUKS)',
    file: 'luks.qcow2',
    format: 'qcow2',
    errors: [],
    notes: ['inspect.encrypted'],
    qemuFormat: 'qcow2',
  });
  qemuImg(dir, 'create', '-f', 'qcow2', '-o', 'compression_type=zstd', 'zstd.qcow2', '64M');
  add({
    name: 'qcow2 zstd compression',
    file: 'zstd.qcow2',
    format: 'qcow2',
    errors: [],
    notes: ['inspect.zstd_compression'],
    qemuFormat: 'qcow2',
  });
  qemuImg(dir, 'create', '-f', 'qcow2', '-o', 'extended_l2=on', 'extl2.qcow2', '64M');
  add({
    name: 'qcow2 extended L2',
    file: 'extl2.qcow2',
    format: 'qcow2',
    errors: ['inspect.unknown_features'],
    qemuFormat: 'qcow2',
  });
  writeFileSync(p('short.qcow2'), readFileSync(p('v3.qcow2')).subarray(0, 50));
  add({
    name: 'qcow2 truncated header',
    file: 'short.qcow2',
    format: 'qcow2',
    errors: ['inspect.truncated'],
    glanceSees: 'raw',
  });
  writeFileSync(p('cut.qcow2'), readFileSync(p('data.qcow2')).subarray(0, 128 * 1024));
  add({ name: 'qcow2 truncated tables', file: 'cut.qcow2', format: 'qcow2', errors: ['inspect.truncated'] });

  // vmdk
  qemuImg(dir, 'create', '-f', 'vmdk', 'sparse.vmdk', '2G');
  add({ name: 'vmdk monolithicSparse', file: 'sparse.vmdk', format: 'vmdk', errors: [], qemuFormat: 'vmdk' });
  qemuImg(dir, 'create', '-f', 'vmdk', '-o', 'subformat=streamOptimized', 'stream.vmdk', '2G');
  add({ name: 'vmdk streamOptimized', file: 'stream.vmdk', format: 'vmdk', errors: [], qemuFormat: 'vmdk' });
  qemuImg(dir, 'create', '-f', 'vmdk', '-o', 'subformat=monolithicFlat', 'flat.vmdk', '64M');
  add({
    name: 'vmdk descriptor (monolithicFlat)',
    file: 'flat.vmdk',
    format: 'vmdk',
    errors: ['inspect.unsupported_subformat', 'inspect.external_extent'],
    qemuFormat: 'vmdk',
    glanceSees: 'raw',
  });
  qemuImg(dir, 'create', '-f', 'vmdk', '-o', 'subformat=twoGbMaxExtentSparse', 'split.vmdk', '3G');
  add({
    name: 'vmdk descriptor (twoGbMaxExtentSparse)',
    file: 'split.vmdk',
    format: 'vmdk',
    errors: ['inspect.unsupported_subformat', 'inspect.external_extent'],
    qemuFormat: 'vmdk',
    glanceSees: 'raw',
  });
  {
    // A monolithicSparse whose embedded descriptor names a file elsewhere on the host.
    writeFileSync(p('escape.vmdk'), readFileSync(p('sparse.vmdk')));
    const desc = readFileSync(p('escape.vmdk')).subarray(512, 512 * 21);
    const text = desc.toString('latin1').replace(/"sparse\.vmdk"/, '"/etc/hosts"');
    patch(p('escape.vmdk'), 512, Buffer.from(text, 'latin1'));
    add({
      name: 'vmdk extent outside the file',
      file: 'escape.vmdk',
      format: 'vmdk',
      errors: ['inspect.external_extent'],
    });
  }

  // vhd, vhdx, vdi, qed
  qemuImg(dir, 'create', '-f', 'vpc', 'dynamic.vhd', '1G');
  add({ name: 'vhd dynamic', file: 'dynamic.vhd', format: 'vhd', errors: [], qemuFormat: 'vpc' });
  qemuImg(dir, 'create', '-f', 'vpc', '-o', 'subformat=fixed', 'fixed.vhd', '64M');
  add({
    name: 'vhd fixed',
    file: 'fixed.vhd',
    format: 'vhd',
    errors: [],
    notes: ['inspect.vhd_fixed'],
    qemuFormat: 'vpc',
    glanceSees: 'raw',
  });
  qemuImg(dir, 'create', '-f', 'vhdx', 'disk.vhdx', '1G');
  add({ name: 'vhdx', file: 'disk.vhdx', format: 'vhdx', errors: [], qemuFormat: 'vhdx' });
  writeFileSync(p('cut.vhdx'), readFileSync(p('disk.vhdx')).subarray(0, 200 * 1024));
  add({ name: 'vhdx truncated', file: 'cut.vhdx', format: 'vhdx', errors: ['inspect.truncated'], glanceSees: 'raw' });
  qemuImg(dir, 'create', '-f', 'vdi', 'disk.vdi', '1G');
  add({ name: 'vdi', file: 'disk.vdi', format: 'vdi', errors: [], qemuFormat: 'vdi' });
  qemuImg(dir, 'create', '-f', 'qed', 'disk.qed', '1G');
  add({
    name: 'qed',
    file: 'disk.qed',
    format: 'qed',
    errors: ['inspect.unsafe_format'],
    qemuFormat: 'qed',
    glanceSees: 'raw (its QED inspector has no name), unsafe',
  });

  // ISO 9660, plain and hybrid
  mkdirSync(p('iso-root'), { recursive: true });
  writeFileSync(p('iso-root/README.TXT'), 'Glance Uploader test ISO\n');
  writeFileSync(p('iso-root/data.bin'), bytes(300 * 1024, 7));
  run('genisoimage', ['-quiet', '-V', 'GUTEST', '-o', 'cd.iso', 'iso-root'], dir);
  add({ name: 'iso 9660', file: 'cd.iso', format: 'iso', errors: [], qemuFormat: 'raw', glanceSees: 'raw' });
  writeFileSync(p('hybrid.iso'), readFileSync(p('cd.iso')));
  patch(
    p('hybrid.iso'),
    446,
    Buffer.concat([mbrEntry(0x80, 0x17, 0, 600), Buffer.alloc(48), Buffer.from([0x55, 0xaa])]),
  );
  add({
    name: 'iso hybrid (MBR)',
    file: 'hybrid.iso',
    format: 'iso',
    errors: [],
    notes: ['inspect.hybrid_iso'],
    qemuFormat: 'raw',
    glanceSees: 'raw',
  });

  // raw disks
  qemuImg(dir, 'create', '-f', 'raw', 'blank.raw', '1G');
  add({ name: 'raw (sparse, blank)', file: 'blank.raw', format: 'raw', errors: [], qemuFormat: 'raw' });
  qemuImg(dir, 'create', '-f', 'raw', 'mbr.raw', '64M');
  patch(
    p('mbr.raw'),
    446,
    Buffer.concat([mbrEntry(0x80, 0x83, 2048, 129024), Buffer.alloc(48), Buffer.from([0x55, 0xaa])]),
  );
  add({
    name: 'raw with MBR',
    file: 'mbr.raw',
    format: 'raw',
    errors: [],
    notes: ['inspect.partition_table'],
    qemuFormat: 'raw',
  });
  qemuImg(dir, 'create', '-f', 'raw', 'gpt.raw', '64M');
  patch(p('gpt.raw'), 446, Buffer.concat([mbrEntry(0, 0xee, 1, 131071), Buffer.alloc(48), Buffer.from([0x55, 0xaa])]));
  patch(p('gpt.raw'), 512, Buffer.from('EFI PART', 'latin1'));
  add({
    name: 'raw with GPT',
    file: 'gpt.raw',
    format: 'raw',
    errors: [],
    notes: ['inspect.partition_table'],
    qemuFormat: 'raw',
  });
  qemuImg(dir, 'create', '-f', 'raw', 'badmbr.raw', '64M');
  patch(
    p('badmbr.raw'),
    446,
    Buffer.concat([mbrEntry(0x42, 0x83, 2048, 1000), Buffer.alloc(48), Buffer.from([0x55, 0xaa])]),
  );
  add({
    name: 'raw with a bad boot flag',
    file: 'badmbr.raw',
    format: 'raw',
    errors: [],
    notes: ['inspect.partition_table_suspect'],
    qemuFormat: 'raw',
  });
  writeFileSync(p('random.bin'), bytes(MiB, 11));
  add({ name: 'random bytes', file: 'random.bin', format: 'raw', errors: [], qemuFormat: 'raw' });
  writeFileSync(p('empty.img'), Buffer.alloc(0));
  add({
    name: 'empty file',
    file: 'empty.img',
    format: 'raw',
    errors: [],
    notes: ['inspect.empty'],
    qemuFormat: 'raw',
  });

  // OVA and plain tar
  writeFileSync(
    p('appliance.ovf'),
    '<?xml version="1.0" encoding="UTF-8"?>\n<Envelope xmlns="http://schemas.dmtf.org/ovf/envelope/1">\n  <References><File ovf:href="stream.vmdk" ovf:id="file1"/></References>\n</Envelope>\n',
  );
  run('tar', ['--format=ustar', '-cf', 'appliance.ova', 'appliance.ovf', 'stream.vmdk'], dir);
  add({
    name: 'ova (ovf + streamOptimized vmdk)',
    file: 'appliance.ova',
    format: 'ova',
    errors: [],
    notes: ['inspect.ova'],
    glanceSees: 'raw',
  });
  run('tar', ['--format=ustar', '-cf', 'plain.tar', 'iso-root'], dir);
  add({
    name: 'tar archive',
    file: 'plain.tar',
    format: 'not-a-disk-image',
    errors: ['inspect.not_a_disk_image'],
    glanceSees: 'raw',
  });

  // compressed
  writeFileSync(p('inner.qcow2'), readFileSync(p('data.qcow2')));
  run('gzip', ['-k', 'inner.qcow2'], dir);
  add({
    name: 'qcow2 inside gzip',
    file: 'inner.qcow2.gz',
    format: 'gzip',
    errors: ['inspect.compressed'],
    glanceSees: 'raw',
  });
  writeFileSync(p('disk.raw'), readFileSync(p('random.bin')));
  for (const [tool, args, ext] of [
    ['xz', ['-k', '-T1'], 'xz'],
    ['zstd', ['-q', '-k'], 'zstd'],
    ['bzip2', ['-k'], 'bzip2'],
  ] as const) {
    run(tool, [...args, 'disk.raw'], dir);
    const file = `disk.raw.${{ xz: 'xz', zstd: 'zst', bzip2: 'bz2' }[ext]}`;
    add({ name: ext, file, format: ext, errors: ['inspect.compressed'], glanceSees: 'raw' });
  }

  // media and documents (their real headers, then noise)
  const media: [string, string, Buffer][] = [
    ['PDF document', 'doc.pdf', Buffer.from('%PDF-1.7\n', 'latin1')],
    ['PNG picture', 'pic.png', Buffer.from('\x89PNG\r\n\x1a\n\0\0\0\rIHDR', 'latin1')],
    ['JPEG picture', 'pic.jpg', Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0x10, 0x4a, 0x46, 0x49, 0x46])],
    ['MP4 video', 'clip.mp4', Buffer.from('\0\0\0\x20ftypisom\0\0\x02\0', 'latin1')],
    ['Matroska video', 'clip.mkv', Buffer.from([0x1a, 0x45, 0xdf, 0xa3, 0x9f, 0x42, 0x86, 0x81])],
    ['ZIP archive', 'bundle.zip', Buffer.from('PK\x03\x04\x14\0\0\0', 'latin1')],
  ];
  for (const [name, file, head] of media) {
    writeFileSync(p(file), Buffer.concat([head, bytes(64 * 1024, file.length)]));
    add({ name, file, format: 'not-a-disk-image', errors: ['inspect.not_a_disk_image'], glanceSees: 'raw' });
  }
  add({
    name: 'OVF descriptor alone',
    file: 'appliance.ovf',
    format: 'not-a-disk-image',
    errors: ['inspect.not_a_disk_image'],
    glanceSees: 'raw',
  });
  writeFileSync(p('notes.txt'), 'Install notes\n'.repeat(400));
  add({
    name: 'text file',
    file: 'notes.txt',
    format: 'not-a-disk-image',
    errors: ['inspect.not_a_disk_image'],
    glanceSees: 'raw',
  });
  return fx;
}

/** A real qcow2 (`virtual` as qemu-img takes it) with `dataMiB` MiB of a pattern written in. */
export function makeQcow2(path: string, virtual: string, dataMiB: number): void {
  const dir = dirname(path);
  qemuImg(dir, 'create', '-f', 'qcow2', path, virtual);
  if (dataMiB > 0) run('qemu-io', ['-f', 'qcow2', '-c', `write -P 0x5a 0 ${dataMiB}M`, path], dir);
}

/** A 100 GB sparse raw file and a 100 GiB qcow2: inspection must read the same few KiB. */
export function makeHugeFixtures(dir: string): { raw: string; qcow2: string } {
  const raw = join(dir, 'huge.raw');
  writeFileSync(raw, '');
  truncateSync(raw, 100 * 1000 ** 3);
  qemuImg(dir, 'create', '-f', 'qcow2', 'huge.qcow2', '100G');
  return { raw, qcow2: join(dir, 'huge.qcow2') };
}

/** A GPT type GUID's on-disk bytes (its first three fields little-endian). */
export function guidBytes(text: string): Buffer {
  const h = text.replace(/-/g, '');
  const le = (s: string): Buffer => Buffer.from(s, 'hex').reverse();
  return Buffer.concat([le(h.slice(0, 8)), le(h.slice(8, 12)), le(h.slice(12, 16)), Buffer.from(h.slice(16), 'hex')]);
}

/**
 * A protective MBR and a GPT header written into `disk` (sectors of `sector` bytes: 4096 for a
 * 4Kn disk), its entries from LBA 2 holding these partitions (type, first and last LBA).
 */
export function writeGpt(disk: Buffer, parts: { type: string; first?: number; last?: number }[], sector = 512): void {
  disk[446 + 4] = 0xee;
  disk.writeUInt32LE(1, 446 + 8);
  disk.writeUInt32LE(0xffffffff, 446 + 12);
  disk[510] = 0x55;
  disk[511] = 0xaa;
  disk.write('EFI PART', sector, 'latin1');
  disk.writeBigUInt64LE(2n, sector + 72);
  disk.writeUInt32LE(128, sector + 80);
  disk.writeUInt32LE(128, sector + 84);
  parts.forEach((p, i) => {
    const o = 2 * sector + i * 128;
    guidBytes(p.type).copy(disk, o);
    disk.writeBigUInt64LE(BigInt(p.first ?? 0), o + 32);
    disk.writeBigUInt64LE(BigInt(p.last ?? 0), o + 40);
  });
}

/** A raw disk of `size` bytes: a protective MBR and a GPT (512-byte sectors) holding these partition types. */
export function gptDisk(path: string, types: string[], size = 64 * 1024): void {
  const disk = Buffer.alloc(size);
  writeGpt(
    disk,
    types.map((type) => ({ type })),
  );
  writeFileSync(path, disk);
}
