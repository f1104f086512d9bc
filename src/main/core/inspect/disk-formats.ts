/**
 * Virtual-disk formats, read from their headers and tables only: qcow2, vmdk (sparse and
 * descriptor files), vhd (fixed and dynamic), vhdx, vdi, qed. The safety rules are Glance's
 * format inspector's (glance/common/format_inspector.py, oslo.utils' in Glance 2025.1+): a
 * qcow2 with a backing file, an external data file or unknown incompatible features, a vmdk
 * of another subformat or whose extents name other files, and any qed are refused.
 */
import { basename } from 'node:path';
import type { FileWindow } from '../io/file-window';
import type { Finding, Probe } from './types';

const MAX_U53 = BigInt(Number.MAX_SAFE_INTEGER);
function num(v: bigint): number {
  return v > MAX_U53 ? Number.MAX_SAFE_INTEGER : Number(v);
}

export function finding(severity: Finding['severity'], code: Finding['code'], message: string, hint: string): Finding {
  return { severity, code, message, hint };
}

function truncated(what: string, needed: number, size: number, path: string): Finding {
  return finding(
    'error',
    'inspect.truncated',
    `The ${what} ends at byte ${needed}, past the end of the file (${size} bytes): the file is truncated.`,
    `Copy or download ${basename(path)} again; \`qemu-img check ${basename(path)}\` confirms the damage.`,
  );
}

const convertHint = (path: string, fmt: string, extra = ''): string =>
  `Make a self-contained copy: qemu-img convert -O ${fmt}${extra} ${basename(path)} ${basename(path).replace(/(\.[^.]+)?$/, `-flat.${fmt === 'vpc' ? 'vhd' : fmt}`)}`;

// ---- qcow2 -------------------------------------------------------------------------------------

export async function probeQcow2(w: FileWindow, path: string): Promise<Probe | undefined> {
  const h = await w.read(0, 512);
  if (h.length < 4 || h.readUInt32BE(0) !== 0x514649fb) return undefined; // "QFI\xfb"
  const findings: Finding[] = [];
  if (h.length < 72) {
    return {
      format: 'qcow2',
      diskFormat: 'qcow2',
      virtualSize: null,
      findings: [truncated('qcow2 header', 72, w.size, path)],
    };
  }
  const version = h.readUInt32BE(4);
  const backingOffset = h.readBigUInt64BE(8);
  const backingSize = h.readUInt32BE(16);
  const clusterBits = h.readUInt32BE(20);
  const virtualSize = num(h.readBigUInt64BE(24));
  const cryptMethod = h.readUInt32BE(32);
  const l1Size = h.readUInt32BE(36);
  const l1Offset = num(h.readBigUInt64BE(40));
  const refcountOffset = num(h.readBigUInt64BE(48));
  const refcountClusters = h.readUInt32BE(56);
  const v3 = version >= 3 && h.length >= 104;
  const incompatible = v3 ? h.readBigUInt64BE(72) : 0n;
  const headerLength = v3 ? h.readUInt32BE(100) : 72;
  const compressionType = v3 && headerLength > 104 && h.length > 104 ? (h[104] ?? 0) : 0;
  const details: Record<string, unknown> = {
    version,
    clusterSize: clusterBits < 64 ? 2 ** clusterBits : null,
    encrypted: cryptMethod !== 0,
    encryption: ['none', 'aes', 'luks'][cryptMethod] ?? `method ${cryptMethod}`,
    compressionType: compressionType === 1 ? 'zstd' : compressionType === 0 ? 'zlib' : `type ${compressionType}`,
    backingFile: null,
    dataFile: null,
  };
  if (version !== 2 && version !== 3) {
    findings.push(
      finding(
        'error',
        'inspect.invalid',
        `qcow2 version ${version} is not 2 or 3.`,
        convertHint(path, 'qcow2', ' -o compat=1.1'),
      ),
    );
  }
  if (backingOffset !== 0n) {
    const name = (await w.read(num(backingOffset), Math.min(backingSize, 1023))).toString('utf8');
    details.backingFile = name;
    findings.push(
      finding(
        'error',
        'inspect.backing_file',
        `This qcow2 is an overlay on a backing file ("${name}"): alone it is not the whole disk, and Glance refuses it.`,
        `Merge it with its backing chain: qemu-img convert -O qcow2 ${basename(path)} ${basename(path).replace(/(\.[^.]+)?$/, '-flat.qcow2')}`,
      ),
    );
  }
  if (incompatible & 0x4n) {
    details.dataFile = await qcow2DataFileName(w, v3 ? headerLength : 72, clusterBits);
    findings.push(
      finding(
        'error',
        'inspect.data_file',
        `This qcow2 keeps its data in an external file${details.dataFile ? ` ("${String(details.dataFile)}")` : ''}: Glance refuses it.`,
        convertHint(path, 'qcow2'),
      ),
    );
  }
  if (incompatible & ~0xfn) {
    findings.push(
      finding(
        'error',
        'inspect.unknown_features',
        `This qcow2 uses incompatible features Glance does not accept (bits 0x${(incompatible & ~0xfn).toString(16)}, e.g. extended L2 entries).`,
        convertHint(path, 'qcow2', ' -o compat=1.1'),
      ),
    );
  }
  if (incompatible & 0x2n)
    findings.push(
      finding(
        'error',
        'inspect.invalid',
        'This qcow2 is marked corrupt by QEMU.',
        `Repair it first: qemu-img check -r all ${basename(path)}`,
      ),
    );
  else if (incompatible & 0x1n)
    findings.push(
      finding(
        'warning',
        'inspect.dirty',
        'This qcow2 was not closed cleanly (dirty flag): its reference counts may be stale.',
        `Check it, with the VM stopped: qemu-img check -r leaks ${basename(path)}`,
      ),
    );
  if (cryptMethod !== 0)
    findings.push(
      finding(
        'warning',
        'inspect.encrypted',
        `This qcow2 is encrypted (${String(details.encryption)}): Nova boots it only with the key in its key manager.`,
        'Upload it decrypted unless your cloud is set up for encrypted images.',
      ),
    );
  if (compressionType === 1)
    findings.push(
      finding(
        'warning',
        'inspect.zstd_compression',
        'This qcow2 compresses clusters with zstd: hypervisors with QEMU older than 5.1 cannot read it.',
        convertHint(path, 'qcow2', ' -o compression_type=zlib'),
      ),
    );
  // Tables the header points at must lie in the file.
  const cluster = clusterBits >= 9 && clusterBits <= 21 ? 2 ** clusterBits : 65536;
  const l1End = l1Offset + l1Size * 8;
  const refEnd = refcountOffset + refcountClusters * cluster;
  if (l1Size > 0 && l1End > w.size) findings.push(truncated('qcow2 L1 table', l1End, w.size, path));
  else if (refcountClusters > 0 && refEnd > w.size)
    findings.push(truncated('qcow2 refcount table', refEnd, w.size, path));
  return { format: 'qcow2', diskFormat: 'qcow2', virtualSize, details, findings };
}

/** The name in the "external data file" header extension (0x44415441), when present. */
async function qcow2DataFileName(w: FileWindow, start: number, clusterBits: number): Promise<string | null> {
  const end = Math.min(clusterBits >= 9 && clusterBits <= 21 ? 2 ** clusterBits : 65536, 65536);
  const buf = await w.read(start, end - start);
  let o = 0;
  while (o + 8 <= buf.length) {
    const type = buf.readUInt32BE(o);
    const len = buf.readUInt32BE(o + 4);
    if (type === 0) break;
    if (type === 0x44415441) return buf.subarray(o + 8, Math.min(buf.length, o + 8 + len)).toString('utf8');
    o += 8 + Math.ceil(len / 8) * 8;
  }
  return null;
}

// ---- qed ---------------------------------------------------------------------------------------

export async function probeQed(w: FileWindow, path: string): Promise<Probe | undefined> {
  const h = await w.read(0, 64);
  if (h.length < 4 || h.toString('latin1', 0, 4) !== 'QED\0') return undefined;
  const virtualSize = h.length >= 56 ? num(h.readBigUInt64LE(48)) : null; // image_size
  return {
    format: 'qed',
    diskFormat: null,
    virtualSize,
    findings: [
      finding(
        'error',
        'inspect.unsafe_format',
        'QED is an obsolete format that Glance always refuses.',
        `Convert it to qcow2: qemu-img convert -f qed -O qcow2 ${basename(path)} ${basename(path).replace(/(\.[^.]+)?$/, '.qcow2')}`,
      ),
    ],
  };
}

// ---- vmdk --------------------------------------------------------------------------------------

const VMDK_ALLOWED = ['monolithicSparse', 'streamOptimized'];
const GD_AT_END = 0xffffffffffffffffn;

interface Descriptor {
  createType: string | null;
  extents: { access: string; sectors: number; kind: string; file: string | null; line: string }[];
  invalidLine: string | null;
}

function parseDescriptor(text: string): Descriptor {
  const d: Descriptor = { createType: null, extents: [], invalidLine: null };
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\0+$/, '').trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = /^(RW|RDONLY|NOACCESS)\s+(\d+)\s+(\S+)(?:\s+"([^"]*)")?/i.exec(line);
    if (m) {
      d.extents.push({
        access: m[1] ?? '',
        sectors: Number(m[2]),
        kind: m[3] ?? '',
        file: m[4] ?? null,
        line,
      });
      continue;
    }
    if (line.toLowerCase().startsWith('ddb')) continue;
    const eq = line.indexOf('=');
    if (eq > 0 && !line.slice(0, eq).trim().includes(' ')) {
      const key = line.slice(0, eq).trim();
      if (key === 'createType')
        d.createType = line
          .slice(eq + 1)
          .trim()
          .replace(/^"|"$/g, '');
      continue;
    }
    d.invalidLine ??= line;
  }
  return d;
}

function vmdkFindings(d: Descriptor, path: string, embedded: boolean): Finding[] {
  const out: Finding[] = [];
  const fix = `Convert it to one self-contained file: qemu-img convert -O vmdk -o subformat=streamOptimized ${basename(path)} ${basename(path).replace(/(\.[^.]+)?$/, '-stream.vmdk')}`;
  if (d.invalidLine !== null)
    out.push(
      finding(
        'error',
        'inspect.invalid',
        `The vmdk descriptor has a line Glance rejects: "${d.invalidLine.slice(0, 80)}".`,
        fix,
      ),
    );
  if (d.createType === null || !VMDK_ALLOWED.includes(d.createType))
    out.push(
      finding(
        'error',
        'inspect.unsupported_subformat',
        `vmdk subformat "${d.createType ?? 'none'}": Glance accepts only monolithicSparse and streamOptimized.`,
        fix,
      ),
    );
  const outside = d.extents.filter((e) => (e.file ?? '').includes('/') || (!embedded && e.file !== null));
  if (outside.length > 0)
    out.push(
      finding(
        'error',
        'inspect.external_extent',
        `The vmdk descriptor points at data in other files (${outside.map((e) => `"${e.file ?? ''}"`).join(', ')}): only this file would be uploaded, and Glance refuses it.`,
        fix,
      ),
    );
  if (d.extents.length === 0)
    out.push(finding('error', 'inspect.invalid', 'The vmdk descriptor lists no extent: there is no disk data.', fix));
  return out;
}

export async function probeVmdk(w: FileWindow, path: string): Promise<Probe | undefined> {
  const h = await w.read(0, 512);
  if (h.length >= 4 && h.toString('latin1', 0, 4) === 'KDMV') return vmdkSparse(w, h, path);
  if (h.toString('latin1', 0, 21) === '# Disk DescriptorFile') {
    // A text descriptor: the disk data lives in the files its extents name.
    const d = parseDescriptor((await w.read(0, Math.min(w.size, 1 << 20))).toString('latin1'));
    const virtualSize = d.extents.reduce((s, e) => s + e.sectors * 512, 0);
    return {
      format: 'vmdk',
      diskFormat: 'vmdk',
      virtualSize,
      details: { subformat: d.createType, descriptorFile: true, extents: d.extents.map((e) => e.file) },
      findings: vmdkFindings(d, path, false),
    };
  }
  return undefined;
}

async function vmdkSparse(w: FileWindow, h: Buffer, path: string): Promise<Probe> {
  if (h.length < 77)
    return {
      format: 'vmdk',
      diskFormat: 'vmdk',
      virtualSize: null,
      findings: [truncated('vmdk header', 512, w.size, path)],
    };
  const version = h.readUInt32LE(4);
  const capacity = num(h.readBigUInt64LE(12)) * 512;
  const descOffset = num(h.readBigUInt64LE(28)) * 512;
  const descSize = Math.min(num(h.readBigUInt64LE(36)) * 512, (1 << 20) - 1);
  const gdOffset = h.readBigUInt64LE(56);
  const findings: Finding[] = [];
  const details: Record<string, unknown> = { version, gdAtEnd: gdOffset === GD_AT_END };
  if (version < 1 || version > 3)
    findings.push(
      finding('error', 'inspect.invalid', `vmdk version ${version} is not 1, 2 or 3.`, convertHint(path, 'vmdk')),
    );
  if (descOffset === 0 || descSize === 0) {
    findings.push(
      finding(
        'error',
        'inspect.invalid',
        'This vmdk has no embedded descriptor.',
        convertHint(path, 'vmdk', ' -o subformat=streamOptimized'),
      ),
    );
    return { format: 'vmdk', diskFormat: 'vmdk', virtualSize: capacity, details, findings };
  }
  if (descOffset + descSize > w.size) {
    findings.push(truncated('vmdk descriptor', descOffset + descSize, w.size, path));
    return { format: 'vmdk', diskFormat: 'vmdk', virtualSize: capacity, details, findings };
  }
  const d = parseDescriptor((await w.read(descOffset, descSize)).toString('latin1'));
  details.subformat = d.createType;
  details.extents = d.extents.map((e) => e.file);
  findings.push(...vmdkFindings(d, path, true));
  if (descOffset !== 512)
    findings.push(
      finding(
        'error',
        'inspect.invalid',
        `The vmdk descriptor is at byte ${descOffset}, not 512 where Glance reads it.`,
        convertHint(path, 'vmdk', ' -o subformat=streamOptimized'),
      ),
    );
  if (gdOffset !== GD_AT_END && num(gdOffset) * 512 > w.size)
    findings.push(truncated('vmdk grain directory', num(gdOffset) * 512, w.size, path));
  return { format: 'vmdk', diskFormat: 'vmdk', virtualSize: capacity, details, findings };
}

// ---- vhd ---------------------------------------------------------------------------------------

const VHD_TYPES: Record<number, string> = { 2: 'fixed', 3: 'dynamic', 4: 'differencing' };

export async function probeVhd(w: FileWindow, path: string): Promise<Probe | undefined> {
  const head = await w.read(0, 512);
  const atStart = head.toString('latin1', 0, 8) === 'conectix';
  const tail = atStart || w.size < 512 ? head : await w.read(w.size - 512, 512);
  if (!atStart && tail.toString('latin1', 0, 8) !== 'conectix') return undefined;
  const footer = atStart ? head : tail;
  if (footer.length < 64)
    return {
      format: 'vhd',
      diskFormat: 'vhd',
      virtualSize: null,
      findings: [truncated('vhd footer', 512, w.size, path)],
    };
  const virtualSize = num(footer.readBigUInt64BE(48)); // current size, as QEMU reads it
  const type = VHD_TYPES[footer.readUInt32BE(60)] ?? `type ${footer.readUInt32BE(60)}`;
  const findings: Finding[] = [];
  const details: Record<string, unknown> = {
    subformat: type,
    originalSize: num(footer.readBigUInt64BE(40)),
    creator: footer.toString('latin1', 28, 32),
  };
  if (type === 'fixed') {
    findings.push(
      finding(
        'warning',
        'inspect.vhd_fixed',
        'A fixed VHD is raw data with a footer at the end: Glance 2025.1 and later read it as raw, and may refuse it declared as vhd.',
        `Upload a dynamic VHD instead: qemu-img convert -f vpc -O vpc -o subformat=dynamic ${basename(path)} ${basename(path).replace(/(\.[^.]+)?$/, '-dynamic.vhd')}`,
      ),
    );
  } else if (atStart) {
    const dataOffset = num(footer.readBigUInt64BE(16));
    const dyn = await w.read(dataOffset, 1024);
    if (dyn.length < 1024 || dyn.toString('latin1', 0, 8) !== 'cxsparse') {
      findings.push(truncated('vhd dynamic header', dataOffset + 1024, w.size, path));
    } else {
      const batOffset = num(dyn.readBigUInt64BE(16));
      const batEntries = dyn.readUInt32BE(28);
      if (batOffset + batEntries * 4 > w.size)
        findings.push(truncated('vhd block table', batOffset + batEntries * 4, w.size, path));
      if (type === 'differencing') {
        details.backingFile = dyn.subarray(64, 576).toString('utf16le').replace(/\0.*$/s, '');
        findings.push(
          finding(
            'error',
            'inspect.backing_file',
            `This is a differencing VHD on a parent disk ("${String(details.backingFile)}"): alone it is not the whole disk.`,
            convertHint(path, 'vpc', ' -o subformat=dynamic'),
          ),
        );
      }
    }
  }
  return { format: 'vhd', diskFormat: 'vhd', virtualSize, details, findings };
}

// ---- vhdx --------------------------------------------------------------------------------------

const METADATA_REGION = '8B7CA206-4790-4B9A-B8FE-575F050F886E';
const VIRTUAL_DISK_SIZE = '2FA54224-CD1B-4876-B211-5DBED83BF4B8';
const PARENT_LOCATOR = 'A8D35F2D-B30B-454D-ABF7-D3D84834AB0C';

function guid(b: Buffer, o: number): string {
  const hex = (x: number, n: number): string => x.toString(16).toUpperCase().padStart(n, '0');
  const tail = [...b.subarray(o + 8, o + 16)].map((x) => hex(x, 2)).join('');
  return `${hex(b.readUInt32LE(o), 8)}-${hex(b.readUInt16LE(o + 4), 4)}-${hex(b.readUInt16LE(o + 6), 4)}-${tail.slice(0, 4)}-${tail.slice(4)}`;
}

export async function probeVhdx(w: FileWindow, path: string): Promise<Probe | undefined> {
  const ident = await w.read(0, 8);
  if (ident.toString('latin1') !== 'vhdxfile') return undefined;
  const out = (
    findings: Finding[],
    virtualSize: number | null = null,
    details: Record<string, unknown> = {},
  ): Probe => ({
    format: 'vhdx',
    diskFormat: 'vhdx',
    virtualSize,
    details,
    findings,
  });
  const regions = await w.read(192 * 1024, 64 * 1024);
  if (regions.length < 16) return out([truncated('vhdx region table', 256 * 1024, w.size, path)]);
  if (regions.toString('latin1', 0, 4) !== 'regi')
    return out([
      finding('error', 'inspect.invalid', 'The vhdx region table has no signature.', convertHint(path, 'vhdx')),
    ]);
  const count = regions.readUInt32LE(8);
  if (count >= 2048)
    return out([
      finding(
        'error',
        'inspect.invalid',
        `The vhdx region table claims ${count} entries (at most 2047).`,
        convertHint(path, 'vhdx'),
      ),
    ]);
  let metaOffset = -1;
  for (let i = 0; i < count && 16 + i * 32 + 32 <= regions.length; i++) {
    const e = 16 + i * 32;
    if (guid(regions, e) === METADATA_REGION) metaOffset = num(regions.readBigUInt64LE(e + 16));
  }
  if (metaOffset < 0)
    return out([finding('error', 'inspect.invalid', 'The vhdx has no metadata region.', convertHint(path, 'vhdx'))]);
  const meta = await w.read(metaOffset, 32 * 2048);
  if (meta.length < 32) return out([truncated('vhdx metadata region', metaOffset + 32, w.size, path)]);
  if (meta.toString('latin1', 0, 8) !== 'metadata')
    return out([
      finding('error', 'inspect.invalid', 'The vhdx metadata region has no signature.', convertHint(path, 'vhdx')),
    ]);
  const items = meta.readUInt16LE(10);
  let virtualSize: number | null = null;
  const findings: Finding[] = [];
  const details: Record<string, unknown> = {};
  for (let i = 0; i < items && 32 + i * 32 + 32 <= meta.length; i++) {
    const e = 32 + i * 32;
    const id = guid(meta, e);
    const itemOffset = meta.readUInt32LE(e + 16);
    if (id === VIRTUAL_DISK_SIZE) {
      const v = await w.read(metaOffset + itemOffset, 8);
      if (v.length < 8) findings.push(truncated('vhdx virtual size item', metaOffset + itemOffset + 8, w.size, path));
      else virtualSize = num(v.readBigUInt64LE(0));
    }
    if (id === PARENT_LOCATOR) {
      details.differencing = true;
      findings.push(
        finding(
          'error',
          'inspect.backing_file',
          'This is a differencing VHDX on a parent disk: alone it is not the whole disk.',
          convertHint(path, 'vhdx'),
        ),
      );
    }
  }
  return out(findings, virtualSize, details);
}

// ---- vdi ---------------------------------------------------------------------------------------

export async function probeVdi(w: FileWindow, path: string): Promise<Probe | undefined> {
  const h = await w.read(0, 512);
  if (h.length < 0x44 || h.readUInt32LE(0x40) !== 0xbeda107f) return undefined;
  if (h.length < 0x178)
    return {
      format: 'vdi',
      diskFormat: 'vdi',
      virtualSize: null,
      findings: [truncated('vdi header', 0x178, w.size, path)],
    };
  const type = h.readUInt32LE(0x4c);
  const findings: Finding[] = [];
  if (type === 4)
    findings.push(
      finding(
        'error',
        'inspect.backing_file',
        'This is a differencing VDI on a parent disk: alone it is not the whole disk.',
        convertHint(path, 'vdi'),
      ),
    );
  return {
    format: 'vdi',
    diskFormat: 'vdi',
    virtualSize: num(h.readBigUInt64LE(0x170)),
    details: { subformat: { 1: 'dynamic', 2: 'fixed', 3: 'undo', 4: 'differencing' }[type] ?? `type ${type}` },
    findings,
  };
}
