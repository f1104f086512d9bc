/** Test files made at run time, with their hashes computed independently of the engine. */
import { createHash, randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { closeSync, createReadStream, openSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import { open } from 'node:fs/promises';

export interface TestFile {
  path: string;
  size: number;
  md5: string;
  sha512: string;
}

export async function hashFile(path: string): Promise<{ md5: string; sha512: string; size: number }> {
  const md5 = createHash('md5');
  const sha512 = createHash('sha512');
  let size = 0;
  for await (const chunk of createReadStream(path)) {
    md5.update(chunk as Buffer);
    sha512.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { md5: md5.digest('hex'), sha512: sha512.digest('hex'), size };
}

/** A file of `size` pseudo-random bytes, written in 4 MiB pieces (never held whole in memory). */
export async function makeFile(path: string, size: number): Promise<TestFile> {
  const fh = await open(path, 'w');
  const piece = randomBytes(Math.min(size, 4 * 1024 * 1024));
  let written = 0;
  while (written < size) {
    const n = Math.min(piece.length, size - written);
    await fh.write(piece, 0, n);
    written += n;
  }
  await fh.close();
  return { path, ...(await hashFile(path)) };
}

export function writeSmallFile(path: string, data: Buffer): void {
  writeFileSync(path, data);
}

/**
 * A raw disk written out in full (its zeros are data, as a copy made with scp leaves them), `mib`
 * MiB long, with runs of data at `atMiB`: random, or `text` repeated (compressible).
 */
export function makeWrittenOutRaw(
  path: string,
  mib: number,
  runs: { atMiB: number; mib: number; text?: string }[],
): string {
  const MiB = 1024 * 1024;
  writeFileSync(path, Buffer.alloc(mib * MiB));
  const fd = openSync(path, 'r+');
  try {
    for (const r of runs) {
      const data = r.text === undefined ? randomBytes(r.mib * MiB) : Buffer.alloc(r.mib * MiB, r.text);
      writeSync(fd, data, 0, data.length, r.atMiB * MiB);
    }
  } finally {
    closeSync(fd);
  }
  return path;
}

/** A sparse raw file of `size` with `chunks` runs of random data (`chunkMiB` MiB each) spread over it. */
export function makeSparseRaw(path: string, size: number, chunks: number, chunkMiB: number): string {
  writeFileSync(path, '');
  truncateSync(path, size);
  const step = Math.floor(size / (1024 * 1024) / chunks);
  for (let i = 0; i < chunks; i++)
    execFileSync('dd', [
      'if=/dev/urandom',
      `of=${path}`,
      'bs=1M',
      `count=${chunkMiB}`,
      `seek=${i * step}`,
      'conv=notrunc',
      'status=none',
    ]);
  return path;
}
