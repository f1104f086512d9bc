/**
 * qemu-img, the one tool that writes qcow2 as every cloud reads it: a compressed copy of a disk
 * (shrink) and the tiny image of the conversion probe. It runs as a child process; its PID is
 * written beside the output (`<output>.pid`) while it runs, so a sweep after a crash of ours can
 * stop the conversion it left behind (and only that one: the PID's command line must name the
 * output).
 */
import { spawn } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { EngineError } from './errors';

const QEMU_IMG = process.env.GLANCE_UPLOADER_QEMU_IMG ?? 'qemu-img';

export function missingQemuImg(e?: unknown): EngineError {
  const why = e instanceof Error ? ` (${e.message})` : '';
  return new EngineError('shrink.tool_missing', `qemu-img could not be started${why}.`, {
    hint: 'Install qemu-img (Debian and Ubuntu: apt install qemu-utils; macOS: brew install qemu; Windows: the QEMU installer), or send the file as it is (--shrink off).',
  });
}

interface RunOptions {
  signal?: AbortSignal;
  /** Each piece of stdout (qemu-img -p writes its progress there). */
  onOutput?: (text: string) => void;
  /** Written while the child runs: its PID, for a sweep after a crash. */
  pidFile?: string;
}

/** Runs qemu-img; resolves with stdout, rejects with a coded error carrying its stderr. */
export function qemuImg(args: string[], o: RunOptions = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(QEMU_IMG, args, { stdio: ['ignore', 'pipe', 'pipe'], signal: o.signal });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => {
      out += s;
      o.onOutput?.(s);
    });
    child.stderr.setEncoding('utf8').on('data', (s: string) => (err += s));
    child.once('spawn', () => {
      if (o.pidFile !== undefined && child.pid !== undefined) writeFileSync(o.pidFile, String(child.pid));
    });
    child.once('error', (e) => {
      if (o.pidFile !== undefined) rmSync(o.pidFile, { force: true });
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') reject(missingQemuImg(e));
      else if (e.name === 'AbortError')
        reject(new EngineError('transfer.aborted', 'The conversion was stopped.', { hint: 'It starts again.' }));
      else reject(e);
    });
    child.once('close', (code) => {
      if (o.pidFile !== undefined) rmSync(o.pidFile, { force: true });
      if (code === 0) resolve(out);
      else if (/No space left on device/i.test(err))
        reject(
          new EngineError('shrink.no_space', `qemu-img ran out of disk space: ${err.trim()}`, {
            hint: 'Free some space where the data folder is, or send the file as it is (--shrink off).',
          }),
        );
      else if (!o.signal?.aborted)
        reject(
          new EngineError(
            'shrink.failed',
            `qemu-img ${args[0] ?? ''} failed (exit ${code ?? 'signal'}): ${err.trim()}`,
            {
              hint: 'The file is sent as it is when you queue it again with --shrink off.',
            },
          ),
        );
    });
  });
}

/**
 * A compressed qcow2 of `src` (read as `srcFormat`, never guessed) at `dst`. Zero and unallocated
 * areas take no room in it, the rest is compressed with qcow2's default, zlib (every qemu-img
 * and Glance reads it; zstd is refused by some). `onProgress` gets the fraction done.
 */
export async function compressToQcow2(
  src: string,
  srcFormat: string,
  dst: string,
  o: { signal?: AbortSignal; onProgress?: (fraction: number) => void; pidFile?: string } = {},
): Promise<void> {
  // -W -m 8: eight requests in flight, written as they finish: qcow2 compresses them on its
  // thread pool, so every core works (4 GiB with 300 MiB of data: 5.2 s -> 3.6 s on 2 cores). The
  // copy's clusters are in another order; its content is the same (qemu-img compare).
  await qemuImg(['convert', '-p', '-W', '-m', '8', '-f', srcFormat, '-O', 'qcow2', '-c', src, dst], {
    signal: o.signal,
    pidFile: o.pidFile,
    onOutput: (s) => {
      // "    (42.00/100%)\r": the last complete figure in this piece.
      const m = /\((\d+(?:\.\d+)?)\/100%\)[^(]*$/.exec(s);
      if (m !== null) o.onProgress?.(Number(m[1]) / 100);
    },
  });
}

/**
 * The most a compressed qcow2 of this file can take: its data (compression never makes a
 * cluster bigger than qemu-img writes it uncompressed), L2 and refcount tables (8 + 2 bytes per
 * 64 KiB cluster of the virtual size), and a header's worth.
 */
export function qcow2Bound(size: number, allocated: number): number {
  const clusters = Math.ceil(size / (64 * 1024));
  return Math.min(size, allocated) + clusters * 10 + 2 * 1024 * 1024;
}

/** qemu-img's version ("8.2.2"), or undefined when it cannot be started. */
export async function qemuImgVersion(): Promise<string | undefined> {
  try {
    return /version (\d+\.\d+(\.\d+)?)/.exec(await qemuImg(['--version']))?.[1] ?? 'unknown';
  } catch {
    return undefined;
  }
}

/**
 * The disk in `qcow2` is the raw file `raw`, byte for byte (`qemu-img compare`: exit 0 the
 * same, 1 different; anything else is an error).
 */
export async function sameAsRaw(raw: string, qcow2: string, signal?: AbortSignal): Promise<boolean> {
  try {
    await qemuImg(['compare', '-q', '-f', 'raw', '-F', 'qcow2', raw, qcow2], { signal });
    return true;
  } catch (e) {
    if (e instanceof EngineError && /\(exit 1\)/.test(e.message)) return false;
    throw e;
  }
}

/** An empty qcow2 of this virtual size (the conversion probe's image). */
export async function createQcow2(path: string, virtualSize: number): Promise<void> {
  await qemuImg(['create', '-q', '-f', 'qcow2', path, String(virtualSize)]);
}

/**
 * Stops the qemu-img a crashed run of ours left writing `output` (its PID in `output.pid`), only
 * when that PID's command line still names `output`. Linux only (/proc); elsewhere the file is
 * removed and the orphan ends by itself. True when it stopped one.
 */
export function stopOrphan(output: string): boolean {
  const pidFile = `${output}.pid`;
  let pid: number;
  try {
    pid = Number(readFileSync(pidFile, 'utf8').trim());
  } catch {
    return false;
  }
  let stopped = false;
  try {
    const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    if (Number.isInteger(pid) && pid > 0 && cmd.split('\0').includes(output)) {
      process.kill(pid, 'SIGKILL');
      stopped = true;
    }
  } catch {
    // gone already, or not Linux
  }
  rmSync(pidFile, { force: true });
  return stopped;
}
