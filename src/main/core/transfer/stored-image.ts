/**
 * What the image Glance stored must equal, once an upload or an import is over. A PUT stores the
 * bytes sent. An import may convert them (Glance's image_conversion plugin, in a region that
 * turns everything into raw for Ceph): then the disk_format Glance reports says what it stored.
 * - the format the file was declared in: the file itself (a shrunk raw file converted back to
 *   raw, or a raw file no plugin touched): its size, md5 and sha512, exactly;
 * - the format of the compressed copy a shrinking target sent: the copy, exactly;
 * - any other format (a qcow2 file stored as raw): bytes that are not ours to hash; the image
 *   must be active with the file's virtual size, and the log says it was converted.
 */
import type { Digests } from '../io/hasher';
import type { GlanceImage } from '../openstack/glance-types';
import type { JobRecord } from '../queue/job-repository';
import type { ShrunkFile } from '../queue/shrunk-files';
import type { Expected } from './upload-runner';

export type StoredAs = 'file' | 'copy' | 'converted';

/**
 * Glance stored another format than the one declared: an import converted it. (A job without a
 * declared format cannot tell: its image must be what was sent.)
 */
export function isConverted(image: GlanceImage, declared: string): boolean {
  return declared !== '' && image.disk_format !== null && image.disk_format !== declared;
}

/** The job's file's virtual size, as inspection found it when the job was queued. */
export function virtualSizeOf(job: JobRecord): number | null {
  const v = job.inspection?.virtualSize;
  return typeof v === 'number' ? v : null;
}

/** The format the job's image was declared in ('' when it has none). */
export const declaredFormat = (job: JobRecord): string => String(job.metadata.disk_format ?? '');

export function expectedStored(
  image: GlanceImage,
  file: { format: string; size: number; virtualSize: number | null; digests: Digests },
  copy?: ShrunkFile,
): Expected & { stored: StoredAs } {
  if (copy !== undefined && image.disk_format === copy.format)
    return { stored: 'copy', size: copy.size, md5: copy.md5, sha512: copy.sha512 };
  if (!isConverted(image, file.format)) return { stored: 'file', size: file.size, ...file.digests };
  return { stored: 'converted', virtualSize: file.virtualSize ?? file.size };
}

/** What the log says of a target whose image is not the file it was given (shrunk, or converted by Glance). */
export function conversionDetail(
  image: GlanceImage,
  file: { format: string; size: number },
  copy?: ShrunkFile,
): Record<string, unknown> | undefined {
  if (copy === undefined && !isConverted(image, file.format)) return undefined;
  const sentBytes = copy?.size ?? file.size;
  return {
    sentFormat: copy?.format ?? file.format,
    sentBytes,
    storedFormat: image.disk_format,
    storedSize: image.size,
    savedBytes: file.size - sentBytes,
  };
}
