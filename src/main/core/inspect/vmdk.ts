/**
 * VMDK: a sparse extent (monolithicSparse, streamOptimized) or a descriptor file. Glance accepts
 * only those two subformats, and no extent that names another file.
 */
import { basename } from 'node:path';
import type { FileWindow } from '../io/file-window';
import { convertHint, finding, num, truncated } from './findings';
import type { Finding, Probe } from './types';

const VMDK_ALLOWED = ['monolithicSparse', 'streamOptimized'];
const GD_AT_END = 0xffffffffffffffffn;

interface Descriptor {
  createType: string | null;
  extents: { access: string; sectors: number; kind: string; file: string | null; line: string }[];
  invalidLine: string | null;
  /** ddb.adapterType: the disk controller VMware gave the guest (ide, lsilogic, pvscsi...). */
  adapterType: string | null;
}

function parseDescriptor(text: string): Descriptor {
  const d: Descriptor = { createType: null, extents: [], invalidLine: null, adapterType: null };
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
    if (line.toLowerCase().startsWith('ddb')) {
      const a = /^ddb\.adapterType\s*=\s*"?([^"]*)"?/i.exec(line);
      if (a !== null) d.adapterType = (a[1] ?? '').trim() || null;
      continue;
    }
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
  if (d.adapterType !== null) details.adapterType = d.adapterType;
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
