import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

// A file of its own: qemu-img's path is read when io/qemu-img.ts loads.
const saved = process.env.GLANCE_UPLOADER_QEMU_IMG;
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'gu-packing-tool-'));
  process.env.GLANCE_UPLOADER_QEMU_IMG = join(dir, 'no-qemu-img-here');
});
afterEach(() => {
  if (saved === undefined) delete process.env.GLANCE_UPLOADER_QEMU_IMG;
  else process.env.GLANCE_UPLOADER_QEMU_IMG = saved;
  rmSync(dir, { recursive: true, force: true });
});

describe('packing without qemu-img', () => {
  // Fails when a missing tool marks the image kept raw (it would never be packed once qemu-img
  // is installed).
  it('fails, and leaves the image to be packed once qemu-img is there', async () => {
    const { ImageStore } = await import('./image-store');
    const { ImagePacker } = await import('./image-packing');
    const { newImage } = await import('./image-doc');
    const store = new ImageStore(join(dir, 'server')).open();
    try {
      const id = '00000000-0000-4000-8000-000000000007';
      const img = newImage(id, 'p');
      Object.assign(img, { status: 'active', disk_format: 'raw', container_format: 'bare', size: 1024 * 1024 });
      img.stores = ['local'];
      store.insert(img);
      writeFileSync(store.storePath('local', id), Buffer.alloc(1024 * 1024, 1));
      const outcomes: string[] = [];
      const packer = new ImagePacker(store, (_id, o, detail) => outcomes.push(`${o}: ${detail ?? ''}`));
      packer.request(id);
      await packer.idle();
      expect(outcomes).toEqual([expect.stringMatching(/^failed: qemu-img could not be started/)]);
      expect(store.get(id)).toMatchObject({ packed: false, packKept: false });
    } finally {
      store.close();
    }
  });
});
