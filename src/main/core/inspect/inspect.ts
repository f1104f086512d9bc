/**
 * Inspection of a disk image before any byte is sent: its real format, its virtual size, and
 * whether Glance (2025.1 and later check content) would refuse it or no instance could boot
 * it. Reads headers and tables only (a few KiB, however large the file).
 */
import { basename } from 'node:path';
import { EngineError } from '../io/errors';
import { partitionTable, probeCompressed, probeIso, probeNotImage, probeTar } from './containers';
import { finding } from './findings';
import { probeQcow2, probeQed } from './qcow2';
import { probeVdi } from './vdi';
import { probeVhd, probeVhdx } from './vhd';
import { probeVmdk } from './vmdk';
import { FileWindow } from '../io/file-window';
import { scanData } from '../io/zero-runs';
import type { Finding, Inspection, Probe } from './types';

const GiB = 1024 ** 3;

type ProbeFn = (w: FileWindow, path: string) => Promise<Probe | undefined>;

/** The disk formats, then the rest; the first that recognises the content wins, else raw. */
function probes(): ProbeFn[] {
  const disk: ProbeFn[] = [probeQcow2, probeQed, probeVmdk, probeVhdx, probeVdi, probeVhd, probeIso];
  return [
    ...disk,
    (w, p) => probeCompressed(w, p, sniffBuffer),
    (w, p) => probeTar(w, p, async (inner) => (await firstMatch(disk, inner, p)) ?? (await rawProbe(inner))),
    probeNotImage,
  ];
}

async function firstMatch(list: ProbeFn[], w: FileWindow, path: string): Promise<Probe | undefined> {
  for (const probe of list) {
    const r = await probe(w, path);
    if (r !== undefined) return r;
  }
  return undefined;
}

async function rawProbe(w: FileWindow): Promise<Probe> {
  const pt = await partitionTable(w);
  const findings = [...pt.findings];
  if (w.size === 0)
    findings.push(
      finding(
        'warning',
        'inspect.empty',
        'The file is empty: the image would have no data.',
        'Check that this is the file you meant.',
      ),
    );
  return { format: 'raw', diskFormat: 'raw', virtualSize: w.size, details: pt.details, findings };
}

/** What a decompressed start of a file looks like (the format inside a .gz). */
async function sniffBuffer(b: Buffer): Promise<string | undefined> {
  const s = (a: number, n: number): string => b.toString('latin1', a, a + n);
  if (b.length >= 4 && b.readUInt32BE(0) === 0x514649fb) return 'qcow2';
  if (s(0, 4) === 'KDMV') return 'vmdk';
  if (s(0, 8) === 'vhdxfile') return 'vhdx';
  if (s(0, 8) === 'conectix') return 'vhd';
  if (s(0, 4) === 'QED\0') return 'qed';
  if (b.length >= 0x44 && b.readUInt32LE(0x40) === 0xbeda107f) return 'vdi';
  if (s(0x8001, 5) === 'CD001') return 'iso';
  if (s(257, 5) === 'ustar') return 'tar';
  if (b.length >= 512 && b[510] === 0x55 && b[511] === 0xaa) return 'raw (partitioned)';
  return undefined;
}

export interface InspectOptions {
  /** Also read a raw file through to count its data (zero runs): `dataSize`. */
  scanData?: boolean;
  signal?: AbortSignal;
}

export async function inspectFile(path: string, o: InspectOptions = {}): Promise<Inspection> {
  const t0 = performance.now();
  let w: FileWindow;
  try {
    w = await FileWindow.open(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new EngineError(
      code === 'ENOENT' ? 'source.not_found' : 'source.unreadable',
      `Cannot read ${path}: ${(e as Error).message}`,
      { hint: code === 'ENOENT' ? 'Check the path.' : 'Check the file permissions.' },
    );
  }
  try {
    const p = (await firstMatch(probes(), w, path)) ?? (await rawProbe(w));
    const findings = p.findings ?? [];
    const scanned = o.scanData === true && p.format === 'raw';
    return {
      path,
      size: w.size,
      allocatedSize: w.allocated,
      ...(scanned ? { dataSize: await scanData(path, { signal: o.signal }) } : {}),
      format: p.format,
      diskFormat: p.diskFormat,
      containerFormat: p.diskFormat === null ? null : (p.containerFormat ?? 'bare'),
      virtualSize: p.virtualSize,
      minDiskGiB: p.virtualSize === null ? null : Math.ceil(p.virtualSize / GiB),
      details: p.details ?? {},
      findings,
      safe: !findings.some((f) => f.severity === 'error'),
      bytesRead: w.bytesRead,
      elapsedMs: Math.round((performance.now() - t0) * 100) / 100,
    };
  } finally {
    await w.close();
  }
}

/** Glance disk formats no inspector can tell from raw content (kernel and ramdisk images...). */
const OPAQUE = new Set(['ami', 'ari', 'aki', 'ploop']);

/**
 * The declared `disk_format` against the content. Raw declared for a hybrid ISO is fine (it
 * boots as a disk); opaque formats are taken as declared when the content looks raw.
 */
export function formatMismatch(ins: Inspection, declared: string | undefined): Finding | undefined {
  if (declared === undefined || ins.diskFormat === null || declared === ins.diskFormat) return undefined;
  if (ins.format === 'iso' && declared === 'raw') return undefined;
  if (ins.format === 'raw' && OPAQUE.has(declared)) return undefined;
  return finding(
    'error',
    'inspect.format_mismatch',
    `${basename(ins.path)} is declared ${declared} but its content is ${ins.diskFormat}: an instance would not boot from it, and Glance 2025.1 and later refuse it.`,
    ins.diskFormat === 'raw'
      ? `Declare --disk-format raw, or convert it: qemu-img convert -f raw -O ${declared === 'vhd' ? 'vpc' : declared} ${basename(ins.path)} OUT; to send it as declared anyway, add --allow-format-mismatch.`
      : `Declare --disk-format ${ins.diskFormat} (or leave it out: it is detected); to send it as declared anyway, add --allow-format-mismatch.`,
  );
}

/**
 * What stops a job before a byte is sent: the first error finding, or a format mismatch unless
 * the user overrode it. Undefined when the image may go.
 */
export function refusal(
  ins: Inspection,
  declared: string | undefined,
  allowMismatch: boolean,
): EngineError | undefined {
  const error = ins.findings.find((f) => f.severity === 'error');
  const mismatch = allowMismatch ? undefined : formatMismatch(ins, declared);
  const f = error ?? mismatch;
  return f === undefined ? undefined : new EngineError(f.code, f.message, { hint: f.hint });
}

/** Metadata the user left empty, filled from the content: disk and container format, min_disk. */
export function fillFromInspection(metadata: Record<string, unknown>, ins: Inspection): Record<string, unknown> {
  const out = { ...metadata };
  if (out.disk_format === undefined && ins.diskFormat !== null) out.disk_format = ins.diskFormat;
  if (out.container_format === undefined && ins.containerFormat !== null) out.container_format = ins.containerFormat;
  if (out.min_disk === undefined && ins.minDiskGiB !== null && ins.minDiskGiB > 0) out.min_disk = ins.minDiskGiB;
  return out;
}

/**
 * What a file holds, as best known: the data scan's figure, else what the file system holds
 * (a sparse file's holes are not counted, zeros written as data are), else null.
 */
export function dataOf(ins: object | null | undefined): number | null {
  const r = (ins ?? {}) as { allocatedSize?: unknown; dataSize?: unknown };
  if (typeof r.dataSize === 'number') return r.dataSize;
  return typeof r.allocatedSize === 'number' ? r.allocatedSize : null;
}
