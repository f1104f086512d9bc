import { describe, expect, it } from 'vitest';
import type { GlanceImage } from '../openstack/glance-types';
import type { ShrunkFile } from '../queue/shrunk-files';
import { conversionDetail, expectedStored, isConverted } from './stored-image';

const image = (disk_format: string | null): GlanceImage => ({ disk_format, size: 4096 }) as GlanceImage;
const file = { format: 'raw', size: 4096, virtualSize: 4096, digests: { md5: 'fm', sha512: 'fs' } };
const copy: ShrunkFile = {
  jobId: 'j',
  path: '/c/j.qcow2',
  format: 'qcow2',
  size: 300,
  md5: 'cm',
  sha512: 'cs',
  createdAt: 1,
};

describe('what the image Glance stored must equal', () => {
  // Fails if a converted image were held to the file's digests (a qcow2 stored as raw would be
  // called corrupt and deleted), or a shrunk one converted back were only size-checked.
  it('the file when stored in its declared format, the copy in the copy format, else the virtual size', () => {
    expect(expectedStored(image('raw'), file, copy)).toEqual({ stored: 'file', size: 4096, md5: 'fm', sha512: 'fs' });
    expect(expectedStored(image('qcow2'), file, copy)).toEqual({ stored: 'copy', size: 300, md5: 'cm', sha512: 'cs' });
    expect(expectedStored(image('vmdk'), file, copy)).toEqual({ stored: 'converted', virtualSize: 4096 });
    // Not shrunk: a qcow2 file a region stored as raw.
    const q = { ...file, format: 'qcow2', virtualSize: 65536 };
    expect(expectedStored(image('raw'), q)).toEqual({ stored: 'converted', virtualSize: 65536 });
    expect(expectedStored(image('qcow2'), q)).toMatchObject({ stored: 'file', sha512: 'fs' });
  });

  it('calls nothing converted when the job declared no format', () => {
    expect(isConverted(image('raw'), '')).toBe(false);
    expect(isConverted(image(null), 'raw')).toBe(false);
    expect(isConverted(image('raw'), 'qcow2')).toBe(true);
  });

  it('says what was sent and stored when they differ, and the bytes saved', () => {
    expect(conversionDetail(image('raw'), file)).toBeUndefined();
    expect(conversionDetail(image('raw'), file, copy)).toEqual({
      sentFormat: 'qcow2',
      sentBytes: 300,
      storedFormat: 'raw',
      storedSize: 4096,
      savedBytes: 3796,
    });
    expect(conversionDetail(image('raw'), { format: 'qcow2', size: 700 })).toMatchObject({
      sentFormat: 'qcow2',
      storedFormat: 'raw',
      savedBytes: 0,
    });
  });
});
