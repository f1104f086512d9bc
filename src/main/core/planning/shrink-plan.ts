/**
 * Which targets of a raw file are sent a compressed qcow2 instead (shrink), decided when the job
 * is queued and shown with the target's reason:
 *
 * - `auto` (the default): where the region converts imports (its probe said so), a raw file
 *   whose data is at most half its size goes as a compressed qcow2 through an import
 *   (glance-direct, or the relay), and Glance stores the region's format. A PUT is never
 *   converted: a target the planner gave PUT moves to glance-direct where the region offers it;
 *   one the user gave PUT stays as it is (raw).
 * - `qcow2`: every raw file goes as a compressed qcow2. Where the region does not convert (or
 *   nobody probed it) the image is stored as qcow2: a warning says so, never silently.
 * - `off`: as it is.
 *
 * Only raw files (by content and by declared format) shrink, whose size is whole 512-byte
 * sectors (as every disk's is): any other format is already what the user asked for. Pure: the caller gives what regions do and offer.
 */
import type { ShrinkMode } from '../../../shared/dto';
import { dataOf } from '../inspect/inspect';
import type { NewJob, NewTarget } from '../queue/job-repository';
import type { ConversionFact } from '../queue/region-facts';

/** auto shrinks a raw file whose data is at most this share of its size. */
export const AUTO_SHRINK_DATA_SHARE = 0.5;

const SENDS_FILE = new Set(['direct', 'glance-direct', 'relay']);

export interface ShrinkPlanInput {
  mode: ShrinkMode;
  /** The user named the method (--method, New upload's choice): it is never changed. */
  methodChosen: boolean;
  conversion: (cloud: string, region: string) => ConversionFact | undefined;
  /** The import methods a region offers; undefined: not known now. */
  offers: (cloud: string, region: string) => readonly string[] | undefined;
}

export interface ShrinkPlan {
  targets: NewTarget[];
  warnings: string[];
}

const gib = (n: number): string => `${(n / 1024 ** 3).toFixed(1)} GiB`;

function rawFile(job: NewJob): { size: number; data: number | null } | undefined {
  if (job.source.kind !== 'file' && job.source.kind !== 'staged') return undefined; // a local file
  const ins = job.inspection as { format?: string } | undefined;
  if (ins?.format !== 'raw' || job.metadata?.disk_format !== 'raw') return undefined;
  // qemu-img sees a disk in 512-byte sectors: a raw file of another size comes back padded, and
  // Glance's converted image could never have the file's size and sha512.
  if (job.source.size % 512 !== 0) return undefined;
  return { size: job.source.size, data: dataOf(ins) };
}

export function planShrink(job: NewJob, o: ShrinkPlanInput): ShrinkPlan {
  const file = rawFile(job);
  const warnings: string[] = [];
  if (file === undefined || o.mode === 'off') return { targets: job.targets, warnings };
  const sparse = file.data !== null && file.data <= file.size * AUTO_SHRINK_DATA_SHARE;
  const what = file.data !== null ? `${gib(file.data)} of data in ${gib(file.size)}` : gib(file.size);
  const targets = job.targets.map((t): NewTarget => {
    const method = t.method ?? 'direct';
    if (!SENDS_FILE.has(method)) return t;
    const fact = o.conversion(t.cloud, t.region);
    if (fact?.converts === true) {
      if (o.mode === 'auto' && !sparse) return t;
      const importing =
        method !== 'direct' || (!o.methodChosen && o.offers(t.cloud, t.region)?.includes('glance-direct'));
      if (!importing) {
        if (o.mode === 'auto') return t;
        warnings.push(
          `${t.region}: sent with PUT as you asked, which Glance never converts: the image is stored as qcow2 there.`,
        );
        return { ...t, sendFormat: 'qcow2' };
      }
      const why = `${t.region} converts imports to ${fact.storedFormat}: ${what} sent as a compressed qcow2, stored as ${fact.storedFormat}`;
      return {
        ...t,
        method: method === 'direct' ? 'glance-direct' : method,
        sendFormat: 'qcow2',
        planReason: t.planReason !== undefined ? `${t.planReason}; ${why}` : why,
      };
    }
    if (o.mode !== 'qcow2') return t;
    warnings.push(
      fact === undefined
        ? `${t.region}: whether it converts imports is not known (glance-uploader clouds show ${t.cloud} --probe): the image may be stored as qcow2, not raw.`
        : fact.storeTypes?.includes('rbd') === true
          ? `${t.region} keeps what it is sent and stores images in Ceph (rbd), which prefers raw: the image is stored as qcow2, and every instance booted from it is converted first instead of cloned (--shrink off sends it raw).`
          : `${t.region} keeps what it is sent: the image is stored as qcow2, not raw (a Ceph-backed store boots raw images faster).`,
    );
    return { ...t, sendFormat: 'qcow2' };
  });
  return { targets, warnings };
}
