import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { fillFromInspection, formatMismatch, inspectFile, refusal } from './inspect';
import type { Inspection } from './types';

function ins(over: Partial<Inspection>): Inspection {
  return {
    path: '/img/disk.img',
    size: 10,
    allocatedSize: 10,
    format: 'raw',
    diskFormat: 'raw',
    containerFormat: 'bare',
    virtualSize: 3 * 1024 ** 3 + 1,
    minDiskGiB: 4,
    details: {},
    findings: [],
    safe: true,
    bytesRead: 512,
    elapsedMs: 1,
    ...over,
  };
}

describe('declared format against the content', () => {
  it('passes what matches, a hybrid ISO declared raw, and opaque formats over raw content', () => {
    expect(formatMismatch(ins({ format: 'qcow2', diskFormat: 'qcow2' }), 'qcow2')).toBeUndefined();
    expect(formatMismatch(ins({ format: 'iso', diskFormat: 'iso' }), 'raw')).toBeUndefined();
    expect(formatMismatch(ins({}), 'aki')).toBeUndefined();
    expect(formatMismatch(ins({}), undefined)).toBeUndefined();
  });

  it('refuses a mismatch with a hint naming the real format, unless overridden', () => {
    const f = formatMismatch(ins({ format: 'qcow2', diskFormat: 'qcow2' }), 'raw');
    expect(f).toMatchObject({ code: 'inspect.format_mismatch', severity: 'error' });
    expect(f?.hint).toMatch(/--disk-format qcow2/);
    expect(formatMismatch(ins({}), 'vhd')?.hint).toMatch(/qemu-img convert -f raw -O vpc disk\.img OUT/);
    expect(refusal(ins({}), 'vmdk', false)?.code).toBe('inspect.format_mismatch');
    expect(refusal(ins({}), 'vmdk', true)).toBeUndefined();
  });

  it('puts an unsafe finding before the mismatch, and no override lifts it', () => {
    const unsafe = ins({
      format: 'qcow2',
      diskFormat: 'qcow2',
      safe: false,
      findings: [{ code: 'inspect.backing_file', severity: 'error', message: 'm', hint: 'h' }],
    });
    expect(refusal(unsafe, 'raw', true)?.code).toBe('inspect.backing_file');
    expect(refusal(unsafe, 'raw', false)?.code).toBe('inspect.backing_file');
  });

  it('fills only what the user left empty', () => {
    const found = ins({ format: 'ova', diskFormat: 'vmdk', containerFormat: 'ova' });
    expect(fillFromInspection({}, found)).toEqual({ disk_format: 'vmdk', container_format: 'ova', min_disk: 4 });
    expect(fillFromInspection({ disk_format: 'raw', min_disk: 1 }, found)).toEqual({
      disk_format: 'raw',
      container_format: 'ova',
      min_disk: 1,
    });
    expect(fillFromInspection({}, ins({ virtualSize: 0, minDiskGiB: 0 }))).toEqual({
      disk_format: 'raw',
      container_format: 'bare',
    });
  });
});

describe('text', () => {
  it('calls a sector of text no disk image, but judges nothing from a file smaller than a sector', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gu-text-'));
    try {
      writeFileSync(join(dir, 'a'), 'x');
      writeFileSync(join(dir, 'b'), 'hello world\n'.repeat(40));
      writeFileSync(join(dir, 'c'), 'hello world\n'.repeat(50));
      expect((await inspectFile(join(dir, 'a'))).format).toBe('raw');
      expect((await inspectFile(join(dir, 'b'))).format).toBe('raw');
      expect(await inspectFile(join(dir, 'c'))).toMatchObject({ format: 'not-a-disk-image', safe: false });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('compressed files', () => {
  // Fails when gzip is told by its first two bytes alone (1f 8b): one raw disk in 65536 starts
  // so (a random test file did), and inspect.compressed refuses it for good.
  it('calls gzip, JPEG and MP3 only what has their whole header, not a raw disk that starts like them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gu-gz-'));
    try {
      const disk = Buffer.alloc(64 * 1024, 0xa5);
      disk.set([0x1f, 0x8b, 0xa5, 0xe7]);
      writeFileSync(join(dir, 'disk.raw'), disk);
      writeFileSync(join(dir, 'disk.raw.gz'), gzipSync(Buffer.alloc(64 * 1024, 0xa5)));
      const raw = await inspectFile(join(dir, 'disk.raw'));
      expect(raw.format).toBe('raw');
      expect(refusal(raw, 'raw', false)).toBeUndefined();
      expect(await inspectFile(join(dir, 'disk.raw.gz'))).toMatchObject({ format: 'gzip', safe: false });
      // The same for the 3-byte starts of a JPEG (ff d8 ff) and an MP3 tag (ID3): one in 16.8 million.
      for (const start of [
        [0xff, 0xd8, 0xff, 0x5a],
        [0x49, 0x44, 0x33, 0xa5],
      ]) {
        disk.set(start);
        writeFileSync(join(dir, 'disk.raw'), disk);
        expect((await inspectFile(join(dir, 'disk.raw'))).format).toBe('raw');
      }
      disk.set([0xff, 0xd8, 0xff, 0xe0]);
      writeFileSync(join(dir, 'photo.jpg'), disk);
      expect((await inspectFile(join(dir, 'photo.jpg'))).format).toBe('not-a-disk-image');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('allocated size', () => {
  // Fails when the allocation is taken from the file's size (st.size instead of st.blocks).
  it('tells a sparse raw disk from its size: only the blocks that were written count', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gu-sparse-'));
    try {
      const path = join(dir, 'sparse.raw');
      writeFileSync(path, '');
      const { truncateSync, openSync, writeSync, closeSync } = await import('node:fs');
      truncateSync(path, 64 * 1024 * 1024);
      const fd = openSync(path, 'r+');
      writeSync(fd, Buffer.alloc(1024 * 1024, 7), 0, 1024 * 1024, 10 * 1024 * 1024);
      closeSync(fd);
      const r = await inspectFile(path);
      expect(r.size).toBe(64 * 1024 * 1024);
      expect(r.allocatedSize).toBeGreaterThanOrEqual(1024 * 1024);
      expect(r.allocatedSize).toBeLessThan(4 * 1024 * 1024);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
