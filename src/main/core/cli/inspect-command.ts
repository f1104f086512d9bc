/** `glance-uploader inspect FILE... [--json]`: what each file really is, before any upload. */
import { resolve } from 'node:path';
import { guestHints, type Suggestions } from '../inspect/guest-hints';
import { inspectFile } from '../inspect/inspect';
import type { Finding, Inspection } from '../inspect/types';
import { UsageError } from './args';
import { EXIT, exitCodeFor } from './exit-codes';
import { out, parse, type CliIo } from './io';
import { formatBytes } from './progress-line';

export const INSPECT_HELP = `Usage: glance-uploader inspect FILE... [--data] [--json]

Reads the headers of each file (a few KiB, whatever its size) and tells its real format, the
size of the disk it holds (virtual size), the min_disk it needs, and what Glance or a
hypervisor would refuse: backing files, external data files or extents, compressed files,
files that are no disk image, truncation. It also suggests metadata read from the guest
(firmware from the partition table; distribution, version and architecture from the root
file system's os-release and /bin/sh on ext2/3/4; else from the file name), each with where
it was read. Exit status 0 when every file can be uploaded as it is, 7 otherwise.

  --data   also read each raw file through and count its data: the 64 KiB clusters that hold
           a non-zero byte (zeros written as data count as empty, as they do when the file is
           shrunk). Without it, the data shown is what the file system holds (holes only).`;

function findingLines(f: Finding): string[] {
  return [`  ${f.severity.padEnd(8)} ${f.code}: ${f.message}`, `           hint: ${f.hint}`];
}

function suggestionLines(s: Suggestions): string[] {
  return Object.entries(s)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([key, v]) => `  suggest  ${key}=${v.value} (from ${v.from})`);
}

export function describeInspection(r: Inspection, suggested: Suggestions = {}): string[] {
  const lines = [r.path];
  const sub = r.details.subformat ?? (r.details.version !== undefined ? `v${String(r.details.version)}` : undefined);
  lines.push(`  format   ${r.format}${sub !== undefined && sub !== null ? ` (${String(sub)})` : ''}`);
  if (r.virtualSize !== null)
    lines.push(
      `  disk     ${formatBytes(r.virtualSize)} (${r.virtualSize} bytes) in a ${formatBytes(r.size)} file; min_disk ${r.minDiskGiB ?? 0} GiB`,
    );
  if (typeof r.dataSize === 'number')
    lines.push(
      `  data     ${formatBytes(r.dataSize)} of ${formatBytes(r.size)} (the rest is zeros or was never written)`,
    );
  else if (r.allocatedSize !== null && r.allocatedSize < r.size)
    lines.push(
      `  data     ${formatBytes(r.allocatedSize)} of ${formatBytes(r.size)} allocated (sparse: the rest was never written)`,
    );
  if (r.diskFormat !== null)
    lines.push(`  declare  --disk-format ${r.diskFormat} --container-format ${r.containerFormat ?? 'bare'}`);
  for (const f of r.findings) lines.push(...findingLines(f));
  lines.push(...suggestionLines(suggested));
  lines.push(`  verdict  ${r.safe ? 'can be uploaded' : 'refused: fix it first (see the hints)'}`);
  return lines;
}

export async function inspectCommand(args: string[], io: CliIo): Promise<number> {
  const p = parse(args, { data: { type: 'boolean' } });
  if (p.values.help === true) return (out(io, INSPECT_HELP), EXIT.ok);
  if (p.positionals.length === 0)
    throw new UsageError('inspect needs at least one FILE.', 'glance-uploader inspect --help');
  const results: (Inspection & { suggested: Suggestions })[] = [];
  for (const f of p.positionals) {
    const r = await inspectFile(resolve(io.cwd, f), { scanData: p.values.data === true });
    results.push({ ...r, suggested: await guestHints(r.path, r.format, r.details) });
  }
  if (p.values.json === true) out(io, JSON.stringify({ files: results }));
  else out(io, results.map((r) => describeInspection(r, r.suggested).join('\n')).join('\n\n'));
  const refused = results.flatMap((r) => r.findings).find((f) => f.severity === 'error');
  return refused === undefined ? EXIT.ok : exitCodeFor(refused.code);
}
