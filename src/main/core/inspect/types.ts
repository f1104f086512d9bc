/** What inspection says of a file. */
import type { ErrorCode } from '../../../shared/errors';

/** What the content is. Disk formats use Glance's `disk_format` names. */
export type DetectedFormat =
  | 'raw'
  | 'qcow2'
  | 'vmdk'
  | 'vhd'
  | 'vhdx'
  | 'vdi'
  | 'qed'
  | 'iso'
  | 'ova'
  | 'gzip'
  | 'xz'
  | 'zstd'
  | 'bzip2'
  | 'not-a-disk-image';

export type Severity = 'error' | 'warning' | 'info';

export interface Finding {
  code: ErrorCode;
  severity: Severity;
  message: string;
  /** What to do about it (for example the `qemu-img convert` line). */
  hint: string;
}

export interface Inspection {
  path: string;
  /** File size in bytes. */
  size: number;
  /**
   * Bytes the file system holds for it: less than `size` for a sparse file (a raw disk whose
   * empty parts were never written). Null where the platform does not say (Windows).
   */
  allocatedSize: number | null;
  /**
   * Bytes of a raw file that hold data: its 64 KiB clusters with a non-zero byte (zero runs
   * written as data are not counted, holes neither). Only a data scan, which reads the file
   * through, knows it: null until one ran (see `dataOf`).
   */
  dataSize?: number | null;
  format: DetectedFormat;
  /** The `disk_format` to declare in Glance (null when the file is no disk image). */
  diskFormat: string | null;
  /** The `container_format` to declare: `bare`, or `ova` for an OVA. */
  containerFormat: 'bare' | 'ova' | null;
  /** Size of the disk the guest sees, in bytes (null when unknown). */
  virtualSize: number | null;
  /** The smallest `min_disk` (GiB, rounded up) that fits the virtual size. */
  minDiskGiB: number | null;
  /** Format details: version, subformat, backing file, partition table, inner format... */
  details: Record<string, unknown>;
  findings: Finding[];
  /** No error finding: Glance (2025.1 and later too) will take it and it can boot. */
  safe: boolean;
  /** Bytes read to decide (headers and tables only). */
  bytesRead: number;
  elapsedMs: number;
}

/** What a probe returns when the content is its format. */
export interface Probe {
  format: DetectedFormat;
  diskFormat: string | null;
  containerFormat?: 'bare' | 'ova' | null;
  virtualSize: number | null;
  details?: Record<string, unknown>;
  findings?: Finding[];
}
