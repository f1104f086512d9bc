/**
 * Everything that is not a virtual-disk format: ISO 9660 / UDF (hybrid ISOs included), the
 * partition table of a raw disk, OVA (a tar with an .ovf), compressed files (Glance would store
 * them as they are and nothing could boot them) and common files that are no disk image.
 */
import { basename } from 'node:path';
import { createGunzip } from 'node:zlib';
import type { FileWindow } from '../io/file-window';
import { finding } from './findings';
import { mbrEntries, signed } from './partitions';
import type { Finding, Probe } from './types';

// ---- ISO 9660 / UDF ----------------------------------------------------------------------------

export async function probeIso(w: FileWindow, path: string): Promise<Probe | undefined> {
  // Volume descriptors start after the 32 KiB system area, one per 2 KiB sector.
  const vds = await w.read(0x8000, 2048 * 8);
  if (vds.length < 6) return undefined;
  const id = vds.toString('latin1', 1, 6);
  if (id !== 'CD001' && id !== 'BEA01') return undefined;
  const mbr = await w.read(510, 2);
  const hybrid = mbr.length === 2 && mbr[0] === 0x55 && mbr[1] === 0xaa;
  const findings: Finding[] = [];
  let virtualSize: number | null = w.size;
  let kind = 'udf';
  for (let o = 0; o + 2048 <= vds.length; o += 2048) {
    if (vds[o] === 1 && vds.toString('latin1', o + 1, o + 6) === 'CD001') {
      kind = 'iso9660';
      virtualSize = vds.readUInt32LE(o + 80) * vds.readUInt16LE(o + 128);
      break;
    }
    if (vds[o] === 255) break; // terminator
  }
  if (virtualSize !== null && virtualSize > w.size)
    findings.push(
      finding(
        'error',
        'inspect.truncated',
        `The ISO declares ${virtualSize} bytes but the file has ${w.size}: it is truncated.`,
        `Download ${basename(path)} again and check it against the publisher's checksum.`,
      ),
    );
  if (hybrid)
    findings.push(
      finding(
        'info',
        'inspect.hybrid_iso',
        'A hybrid ISO: it boots as a CD (disk_format iso) or as a disk (raw).',
        'Declare iso to attach it as a CD-ROM; raw to boot it as a disk.',
      ),
    );
  return { format: 'iso', diskFormat: 'iso', virtualSize, details: { filesystem: kind, hybrid }, findings };
}

// ---- partition tables (a hint on raw disks) ----------------------------------------------------

export async function partitionTable(
  w: FileWindow,
): Promise<{ details: Record<string, unknown>; findings: Finding[] }> {
  const sector0 = await w.read(0, 512);
  if (!signed(sector0)) return { details: { partitionTable: null }, findings: [] };
  // A FAT boot sector also ends in 55 AA: two FATs and media F8 tell it apart (as Glance does).
  if (sector0[0x10] === 2 && sector0[0x15] === 0xf8)
    return { details: { partitionTable: null, filesystem: 'fat' }, findings: [] };
  const entries = mbrEntries(sector0);
  const used = entries.filter((e) => e.type !== 0);
  const gptHeader = await w.read(512, 8);
  const gpt = used.some((e) => e.type === 0xee) || gptHeader.toString('latin1') === 'EFI PART';
  const findings: Finding[] = [];
  const suspect: string[] = [];
  if (entries.some((e) => e.boot !== 0 && e.boot !== 0x80)) suspect.push('a boot flag other than 00 or 80');
  const protective = used.filter((e) => e.type === 0xee);
  if (protective.length > 0 && (used.length !== 1 || protective[0]?.lba !== 1))
    suspect.push('a protective GPT entry that is not alone or does not start at sector 1');
  if (suspect.length > 0)
    findings.push(
      finding(
        'warning',
        'inspect.partition_table_suspect',
        `The partition table has ${suspect.join(' and ')}: Glance 2025.1 and later refuse such a disk.`,
        'Check the image with `fdisk -l` (or `gdisk -l`) and repair its partition table; a disk with no partition table whose first sector ends in 55 AA by chance is refused the same way.',
      ),
    );
  findings.push(
    finding(
      'info',
      'inspect.partition_table',
      gpt
        ? 'A raw disk with a GPT partition table.'
        : `A raw disk with an MBR partition table (${used.length} partition(s)).`,
      'Nothing to do: a partitioned raw disk boots as it is.',
    ),
  );
  return { details: { partitionTable: gpt ? 'gpt' : 'mbr', partitions: gpt ? undefined : used.length }, findings };
}

// ---- tar / OVA ---------------------------------------------------------------------------------

interface TarEntry {
  name: string;
  offset: number;
  size: number;
}

async function tarEntries(w: FileWindow, max = 64): Promise<TarEntry[] | undefined> {
  const first = await w.read(0, 512);
  if (first.length < 512 || first.toString('latin1', 257, 262) !== 'ustar') return undefined;
  const out: TarEntry[] = [];
  let o = 0;
  while (out.length < max && o + 512 <= w.size) {
    const h = await w.read(o, 512);
    if (h.length < 512 || h.every((b) => b === 0)) break;
    const field = (a: number, n: number): string => h.toString('latin1', a, a + n).replace(/\0.*$/s, '');
    const prefix = field(345, 155);
    const name = (prefix ? `${prefix}/` : '') + field(0, 100);
    const size = parseInt(field(124, 12).trim() || '0', 8);
    if (!Number.isFinite(size)) break;
    out.push({ name, offset: o + 512, size });
    o += 512 + Math.ceil(size / 512) * 512;
  }
  return out;
}

export async function probeTar(
  w: FileWindow,
  path: string,
  inspectInner: (w: FileWindow) => Promise<Probe>,
): Promise<Probe | undefined> {
  const entries = await tarEntries(w);
  if (entries === undefined) return undefined;
  const ovf = entries.find((e) => e.name.toLowerCase().endsWith('.ovf'));
  if (ovf === undefined)
    return {
      format: 'not-a-disk-image',
      diskFormat: null,
      virtualSize: null,
      details: { kind: 'tar archive', entries: entries.map((e) => e.name) },
      findings: [
        finding(
          'error',
          'inspect.not_a_disk_image',
          `This is a tar archive (${entries.length} file(s)), not a disk image.`,
          `Extract the disk image from it (tar -tf ${basename(path)} lists them) and upload that.`,
        ),
      ],
    };
  const disk = entries.find((e) => /\.(vmdk|qcow2|img|raw|vhdx?)$/i.test(e.name));
  const inner = disk ? await inspectInner(w.slice(disk.offset, disk.size)) : undefined;
  return {
    format: 'ova',
    diskFormat: inner?.diskFormat ?? 'vmdk',
    containerFormat: 'ova',
    virtualSize: inner?.virtualSize ?? null,
    details: { entries: entries.map((e) => e.name), disk: disk?.name ?? null, inner: inner?.format ?? null },
    findings: [
      finding(
        'warning',
        'inspect.ova',
        `An OVA appliance${disk ? ` with the disk ${disk.name}${inner ? ` (${inner.format})` : ''}` : ''}: Glance stores it as is, and Nova cannot boot it.`,
        disk
          ? `Upload the disk alone: tar -xf ${basename(path)} ${disk.name}`
          : `Extract its disk: tar -tf ${basename(path)} lists the files.`,
      ),
      ...(inner?.findings ?? []).filter((f) => f.severity === 'error'),
    ],
  };
}

// ---- compressed files --------------------------------------------------------------------------

const COMPRESSED: { format: 'gzip' | 'xz' | 'zstd' | 'bzip2'; magic: (b: Buffer) => boolean; undo: string }[] = [
  // ID1 ID2, then CM 8 (deflate, the only method RFC 1952 defines), no reserved FLG bit and a
  // known OS byte: two bytes alone start one raw disk in 65536 (random data does), and that
  // refusal is final. Every magic below that refuses has 32 bits or more for the same reason.
  {
    format: 'gzip',
    magic: (b) =>
      b[0] === 0x1f &&
      b[1] === 0x8b &&
      b[2] === 8 &&
      ((b[3] ?? 0xff) & 0xe0) === 0 &&
      ((b[9] ?? 0) <= 13 || b[9] === 255),
    undo: 'gunzip -k',
  },
  { format: 'xz', magic: (b) => b.toString('latin1', 0, 6) === '\xfd7zXZ\0', undo: 'xz -dk' },
  { format: 'zstd', magic: (b) => b.length >= 4 && b.readUInt32LE(0) === 0xfd2fb528, undo: 'zstd -d' },
  {
    format: 'bzip2',
    magic: (b) => b.toString('latin1', 0, 3) === 'BZh' && /[1-9]/.test(b.toString('latin1', 3, 4)),
    undo: 'bunzip2 -k',
  },
];

export async function probeCompressed(
  w: FileWindow,
  path: string,
  sniff: (head: Buffer) => Promise<string | undefined>,
): Promise<Probe | undefined> {
  const head = await w.read(0, 16);
  const c = COMPRESSED.find((x) => x.magic(head));
  if (c === undefined) return undefined;
  let inner: string | undefined;
  if (c.format === 'gzip') {
    // Inflate the start only (64 KiB of output at most) to say what is inside.
    inner = await sniff(await gunzipStart(await w.read(0, 256 * 1024), 64 * 1024));
  }
  return {
    format: c.format,
    diskFormat: null,
    virtualSize: null,
    details: { inner: inner ?? null },
    findings: [
      finding(
        'error',
        'inspect.compressed',
        `This file is ${c.format}-compressed${inner ? ` (a ${inner} image inside)` : ''}: Glance would store the compressed bytes and no instance could boot them.`,
        `Decompress it first (${c.undo} ${basename(path)}) and upload the result.`,
      ),
    ],
  };
}

/** The first `want` bytes (or fewer) that a gzip stream starting with `input` inflates to. */
function gunzipStart(input: Buffer, want: number): Promise<Buffer> {
  return new Promise((resolve) => {
    const z = createGunzip();
    const parts: Buffer[] = [];
    let n = 0;
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      z.destroy();
      resolve(Buffer.concat(parts).subarray(0, want));
    };
    z.on('data', (c: Buffer) => {
      parts.push(c);
      n += c.length;
      if (n >= want) finish();
    });
    z.on('error', finish); // the input is cut short on purpose: keep what came out
    z.on('end', finish);
    z.end(input);
  });
}

// ---- files that are no disk image ---------------------------------------------------------------

const isJpegMarker = (m: number): boolean => m === 0xdb || m === 0xc4 || m === 0xfe || (m >= 0xe0 && m <= 0xef);

/** An ID3v2 tag: version 2-4, no undefined flag, a size of four 7-bit bytes. */
function isId3(b: Buffer): boolean {
  if (b.length < 10 || b.toString('latin1', 0, 3) !== 'ID3') return false;
  const [v = 0, rev = 0, flags = 0xff] = [b[3], b[4], b[5]];
  return v >= 2 && v <= 4 && rev !== 0xff && (flags & 0x0f) === 0 && [6, 7, 8, 9].every((i) => (b[i] ?? 0x80) < 0x80);
}

const NOT_IMAGES: { kind: string; test: (b: Buffer) => boolean }[] = [
  { kind: 'a PDF document', test: (b) => b.toString('latin1', 0, 5) === '%PDF-' },
  { kind: 'a PNG picture', test: (b) => b.toString('latin1', 0, 8) === '\x89PNG\r\n\x1a\n' },
  {
    kind: 'a JPEG picture',
    // SOI, then a real marker: a table (DB, C4), a comment (FE) or an APPn (E0-EF)
    test: (b) => b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff && isJpegMarker(b[3] ?? 0),
  },
  { kind: 'a GIF picture', test: (b) => /^GIF8[79]a/.test(b.toString('latin1', 0, 6)) },
  { kind: 'an MP4/QuickTime video', test: (b) => b.toString('latin1', 4, 8) === 'ftyp' },
  { kind: 'a Matroska/WebM video', test: (b) => b.length >= 4 && b.readUInt32BE(0) === 0x1a45dfa3 },
  {
    kind: 'an AVI video',
    test: (b) => b.toString('latin1', 0, 4) === 'RIFF' && b.toString('latin1', 8, 12) === 'AVI ',
  },
  {
    kind: 'a WAV recording',
    test: (b) => b.toString('latin1', 0, 4) === 'RIFF' && b.toString('latin1', 8, 12) === 'WAVE',
  },
  { kind: 'an MP3 recording', test: isId3 },
  { kind: 'an Ogg file', test: (b) => b.toString('latin1', 0, 4) === 'OggS' },
  { kind: 'a FLAC recording', test: (b) => b.toString('latin1', 0, 4) === 'fLaC' },
  { kind: 'a ZIP archive', test: (b) => b.toString('latin1', 0, 4) === 'PK\x03\x04' },
  { kind: 'a 7-Zip archive', test: (b) => b.toString('latin1', 0, 6) === "7z\xbc\xaf'\x1c" },
  { kind: 'a RAR archive', test: (b) => b.toString('latin1', 0, 4) === 'Rar!' },
  { kind: 'an ELF program', test: (b) => b.toString('latin1', 0, 4) === '\x7fELF' },
];

/**
 * A sector or more of printable text with no NUL in it: a document, a script, a descriptor;
 * never the first sector of a disk. (Less than a sector says nothing: a tiny file may be anything.)
 */
function looksLikeText(b: Buffer, min = 512): boolean {
  if (b.length < min || b.length === 0) return false;
  let printable = 0;
  for (const c of b) {
    if (c === 0) return false;
    if (c === 9 || c === 10 || c === 13 || (c >= 32 && c < 127) || c >= 128) printable++;
  }
  return printable === b.length && b.toString('utf8').indexOf('\ufffd') < 0;
}

export async function probeNotImage(w: FileWindow, path: string): Promise<Probe | undefined> {
  const head = await w.read(0, 4096);
  let hit = NOT_IMAGES.find((x) => x.test(head));
  if (
    hit === undefined &&
    looksLikeText(head, 1) &&
    /^\s*<\?xml[^>]*>\s*<(\w+:)?Envelope[\s>]/.test(head.toString('utf8'))
  )
    hit = { kind: 'an OVF descriptor (it names the disk files of an appliance)', test: () => true };
  if (hit === undefined && looksLikeText(head)) hit = { kind: 'a text file', test: () => true };
  if (hit === undefined) return undefined;
  return {
    format: 'not-a-disk-image',
    diskFormat: null,
    virtualSize: null,
    details: { kind: hit.kind },
    findings: [
      finding(
        'error',
        'inspect.not_a_disk_image',
        `${basename(path)} is ${hit.kind}, not a disk image.`,
        hit.kind.startsWith('an OVF')
          ? 'Upload the disk file it references (the .vmdk beside it), or the .ova that bundles both.'
          : 'Pick the disk image file (qcow2, raw, vmdk, vhd, vhdx, vdi or iso).',
      ),
    ],
  };
}
