/**
 * VDI (VirtualBox): the header, its virtual size and image type.
 */
import type { FileWindow } from '../io/file-window';
import { convertHint, finding, num, truncated } from './findings';
import type { Finding, Probe } from './types';

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
