/**
 * How long inspection takes, against `qemu-img info` on the same files in the same run (the
 * reference), on 100 GB images: a sparse raw file, a 100 GiB qcow2, vhdx and vmdk. Target:
 * under 100 ms per file, whatever its size. Prints a table and writes
 * bench-results/inspect.json. Nothing is asserted: speed is a benchmark, not a test.
 *   npx tsx bench/inspect-bench.ts [--runs N]
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspectFile } from '../src/main/core/inspect/inspect';

const runsArg = process.argv.indexOf('--runs');
const runs = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 30;
const dir = mkdtempSync(join(tmpdir(), 'gu-inspect-bench-'));

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
}

try {
  const raw = join(dir, 'huge.raw');
  writeFileSync(raw, '');
  truncateSync(raw, 100 * 1000 ** 3);
  const files: [string, string, string][] = [['raw 100 GB (sparse)', raw, 'raw']];
  for (const fmt of ['qcow2', 'vhdx', 'vmdk']) {
    execFileSync('qemu-img', ['create', '-f', fmt, `huge.${fmt}`, '100G'], { cwd: dir, stdio: 'ignore' });
    files.push([`${fmt} 100 GiB`, join(dir, `huge.${fmt}`), fmt]);
  }
  const rows: Record<string, unknown>[] = [];
  for (const [label, path, fmt] of files) {
    const ours: number[] = [];
    const qemu: number[] = [];
    let bytesRead = 0;
    for (let i = 0; i < runs; i++) {
      let t = performance.now();
      const r = await inspectFile(path);
      ours.push(performance.now() - t);
      bytesRead = r.bytesRead;
      t = performance.now();
      execFileSync('qemu-img', ['info', '-f', fmt, '--output=json', path], { stdio: 'ignore' });
      qemu.push(performance.now() - t);
    }
    rows.push({
      file: label,
      oursMs: Math.round(median(ours) * 100) / 100,
      qemuImgInfoMs: Math.round(median(qemu) * 100) / 100,
      ratio: Math.round((median(ours) / median(qemu)) * 1000) / 1000,
      bytesRead,
    });
  }
  console.log(`inspection, median of ${runs} runs (target: < 100 ms per file)`);
  console.table(rows);
  mkdirSync('bench-results', { recursive: true });
  writeFileSync('bench-results/inspect.json', JSON.stringify({ runs, rows }, null, 2));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
