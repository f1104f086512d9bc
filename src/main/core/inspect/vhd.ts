/**
 * VHD (fixed, dynamic; a differencing one is refused) and VHDX (its region table, metadata
 * region, virtual size and parent locator).
 */
import { basename } from 'node:path';
import type { FileWindow } from '../io/file-window';
import { convertHint, finding, num, truncated } from './findings';
import type { Finding, Probe } from './types';

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
