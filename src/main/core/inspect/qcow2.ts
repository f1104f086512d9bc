/**
 * QEMU's formats: qcow2 (versions 2 and 3: header, feature bits, header extensions, the tables
 * it points at) and qed. The safety rules are Glance's format inspector's
 * (glance/common/format_inspector.py, oslo.utils' in Glance 2025.1+): a qcow2 with a backing
 * file, an external data file or unknown incompatible features is refused, and any qed.
 */
import { basename } from 'node:path';
import type { FileWindow } from '../io/file-window';
import { convertHint, finding, num, truncated } from './findings';
import type { Finding, Probe } from './types';

export async function probeQcow2(w: FileWindow, path: string): Promise<Probe | undefined> {
  const h = await w.read(0, 512);
  if (h.length < 4 || h.readUInt32BE(0) !== 0x514649fb) return undefined; // "QFI\xfb"
  if (h.length < 72)
    return {
      format: 'qcow2',
      diskFormat: 'qcow2',
      virtualSize: null,
      findings: [truncated('qcow2 header', 72, w.size, path)],
    };
  const hdr = readQcow2Header(h);
  const details: Record<string, unknown> = {
    version: hdr.version,
    clusterSize: hdr.clusterBits < 64 ? 2 ** hdr.clusterBits : null,
    encrypted: hdr.cryptMethod !== 0,
    encryption: ['none', 'aes', 'luks'][hdr.cryptMethod] ?? `method ${hdr.cryptMethod}`,
    compressionType:
      hdr.compressionType === 1 ? 'zstd' : hdr.compressionType === 0 ? 'zlib' : `type ${hdr.compressionType}`,
    backingFile: null,
    dataFile: null,
  };
  const findings = [
    ...(await refusedFeatures(w, path, hdr, details)),
    ...qcow2Warnings(path, hdr, details),
    ...tablesInFile(w, path, hdr),
  ];
  return { format: 'qcow2', diskFormat: 'qcow2', virtualSize: hdr.virtualSize, details, findings };
}

interface Qcow2Header {
  version: number;
  backingOffset: bigint;
  backingSize: number;
  clusterBits: number;
  virtualSize: number;
  cryptMethod: number;
  l1Size: number;
  l1Offset: number;
  refcountOffset: number;
  refcountClusters: number;
  v3: boolean;
  incompatible: bigint;
  headerLength: number;
  compressionType: number;
}

/** The fields of a qcow2 header (version 2's 72 bytes; version 3's extension when present). */
function readQcow2Header(h: Buffer): Qcow2Header {
  const version = h.readUInt32BE(4);
  const v3 = version >= 3 && h.length >= 104;
  const headerLength = v3 ? h.readUInt32BE(100) : 72;
  return {
    version,
    backingOffset: h.readBigUInt64BE(8),
    backingSize: h.readUInt32BE(16),
    clusterBits: h.readUInt32BE(20),
    virtualSize: num(h.readBigUInt64BE(24)),
    cryptMethod: h.readUInt32BE(32),
    l1Size: h.readUInt32BE(36),
    l1Offset: num(h.readBigUInt64BE(40)),
    refcountOffset: num(h.readBigUInt64BE(48)),
    refcountClusters: h.readUInt32BE(56),
    v3,
    incompatible: v3 ? h.readBigUInt64BE(72) : 0n,
    headerLength,
    compressionType: v3 && headerLength > 104 && h.length > 104 ? (h[104] ?? 0) : 0,
  };
}

/** What Glance refuses: another version, a backing file, an external data file, unknown incompatible features. */
async function refusedFeatures(
  w: FileWindow,
  path: string,
  hdr: Qcow2Header,
  details: Record<string, unknown>,
): Promise<Finding[]> {
  const findings: Finding[] = [];
  if (hdr.version !== 2 && hdr.version !== 3)
    findings.push(
      finding(
        'error',
        'inspect.invalid',
        `qcow2 version ${hdr.version} is not 2 or 3.`,
        convertHint(path, 'qcow2', ' -o compat=1.1'),
      ),
    );
  if (hdr.backingOffset !== 0n) {
    const name = (await w.read(num(hdr.backingOffset), Math.min(hdr.backingSize, 1023))).toString('utf8');
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
  if (hdr.incompatible & 0x4n) {
    details.dataFile = await qcow2DataFileName(w, hdr.v3 ? hdr.headerLength : 72, hdr.clusterBits);
    findings.push(
      finding(
        'error',
        'inspect.data_file',
        `This qcow2 keeps its data in an external file${details.dataFile ? ` ("${String(details.dataFile)}")` : ''}: Glance refuses it.`,
        convertHint(path, 'qcow2'),
      ),
    );
  }
  if (hdr.incompatible & ~0xfn)
    findings.push(
      finding(
        'error',
        'inspect.unknown_features',
        `This qcow2 uses incompatible features Glance does not accept (bits 0x${(hdr.incompatible & ~0xfn).toString(16)}, e.g. extended L2 entries).`,
        convertHint(path, 'qcow2', ' -o compat=1.1'),
      ),
    );
  return findings;
}

/** Marked corrupt (refused), or what a user should know: dirty, encrypted, zstd-compressed. */
function qcow2Warnings(path: string, hdr: Qcow2Header, details: Record<string, unknown>): Finding[] {
  const findings: Finding[] = [];
  if (hdr.incompatible & 0x2n)
    findings.push(
      finding(
        'error',
        'inspect.invalid',
        'This qcow2 is marked corrupt by QEMU.',
        `Repair it first: qemu-img check -r all ${basename(path)}`,
      ),
    );
  else if (hdr.incompatible & 0x1n)
    findings.push(
      finding(
        'warning',
        'inspect.dirty',
        'This qcow2 was not closed cleanly (dirty flag): its reference counts may be stale.',
        `Check it, with the VM stopped: qemu-img check -r leaks ${basename(path)}`,
      ),
    );
  if (hdr.cryptMethod !== 0)
    findings.push(
      finding(
        'warning',
        'inspect.encrypted',
        `This qcow2 is encrypted (${String(details.encryption)}): Nova boots it only with the key in its key manager.`,
        'Upload it decrypted unless your cloud is set up for encrypted images.',
      ),
    );
  if (hdr.compressionType === 1)
    findings.push(
      finding(
        'warning',
        'inspect.zstd_compression',
        'This qcow2 compresses clusters with zstd: hypervisors with QEMU older than 5.1 cannot read it.',
        convertHint(path, 'qcow2', ' -o compression_type=zlib'),
      ),
    );
  return findings;
}

/** Tables the header points at must lie in the file (else it was cut short). */
function tablesInFile(w: FileWindow, path: string, hdr: Qcow2Header): Finding[] {
  const cluster = hdr.clusterBits >= 9 && hdr.clusterBits <= 21 ? 2 ** hdr.clusterBits : 65536;
  const l1End = hdr.l1Offset + hdr.l1Size * 8;
  const refEnd = hdr.refcountOffset + hdr.refcountClusters * cluster;
  if (hdr.l1Size > 0 && l1End > w.size) return [truncated('qcow2 L1 table', l1End, w.size, path)];
  if (hdr.refcountClusters > 0 && refEnd > w.size) return [truncated('qcow2 refcount table', refEnd, w.size, path)];
  return [];
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
