/**
 * One image to upload, from a local file or a URL, as a queue job: the file identified and
 * inspected first (an unsafe image, or one that is not its declared format, never queues), the
 * metadata completed from what the content is (disk and container format, min_disk), the name
 * and targets given by the caller. The CLI's `upload`/`stage` and the app's enqueue call share it.
 */
import { readdir, stat } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { EngineError } from '../io/errors';
import { fillFromInspection, inspectFile, refusal } from '../inspect/inspect';
import type { Finding, Inspection } from '../inspect/types';
import { identify } from '../io/source-file';
import type { NewJob, NewTarget } from '../queue/job-repository';

export interface ImageMetadataInput {
  diskFormat?: string;
  containerFormat?: string;
  visibility?: string;
  minDisk?: number;
  minRam?: number;
  protected?: boolean;
  tags?: string[];
  properties?: Record<string, string>;
}

export interface UploadJobInput {
  /** An absolute path, or an http(s) URL Glance fetches (web-download). */
  source: { path: string } | { url: URL; sha512?: string };
  name: string;
  metadata: ImageMetadataInput;
  targets: NewTarget[];
  bwlimit?: number;
  onDuplicate?: 'upload' | 'reuse';
  allowFormatMismatch?: boolean;
  sameImageId?: string;
  /** Warnings of the inspection (the image is queued anyway): for the user. */
  onWarning?: (finding: Finding) => void;
}

/** The file's name without its extension: ubuntu-24.04.qcow2 -> ubuntu-24.04 (an image's default name). */
export function stemOf(path: string): string {
  const base = basename(path);
  const ext = extname(base);
  return ext.length > 0 && ext.length < base.length ? base.slice(0, -ext.length) : base;
}

const BY_EXTENSION: Record<string, string> = {
  '.qcow2': 'qcow2',
  '.qcow': 'qcow2',
  '.raw': 'raw',
  '.img': 'raw',
  '.iso': 'iso',
  '.vmdk': 'vmdk',
  '.vhd': 'vhd',
  '.vhdx': 'vhdx',
  '.vdi': 'vdi',
  '.ploop': 'ploop',
};

/** The disk format a file name suggests (for a URL, whose content is not read before Glance fetches it). */
export function diskFormatFromName(path: string): string | undefined {
  const dot = path.lastIndexOf('.');
  return dot < 0 ? undefined : BY_EXTENSION[path.slice(dot).toLowerCase()];
}

/**
 * The images a dropped selection means: a file is itself; a folder is the disk images inside it
 * and its subfolders (by extension, .ova included; hidden files and anything else, a README or a
 * SHA256SUMS, left out), in name order. A folder without any is an error that says so.
 */
export async function expandImagePaths<T extends { path: string; name?: string }>(entries: T[]): Promise<T[]> {
  const out: T[] = [];
  for (const e of entries) {
    const st = await stat(e.path).catch(() => undefined);
    if (st === undefined || !st.isDirectory()) {
      out.push(e); // a file, or nothing there: identify() says which
      continue;
    }
    const found = (await readdir(e.path, { recursive: true, withFileTypes: true }))
      .filter((d) => d.isFile() && !d.name.startsWith('.'))
      .map((d) => join(d.parentPath, d.name))
      .filter((p) => diskFormatFromName(p) !== undefined || extname(p).toLowerCase() === '.ova')
      .sort();
    if (found.length === 0)
      throw new EngineError('source.not_found', `The folder ${e.path} holds no disk image.`, {
        hint: 'Images are recognised by their extension: .qcow2, .raw, .img, .iso, .vmdk, .vhd, .vhdx, .vdi, .ova.',
      });
    out.push(...found.map((path) => ({ ...e, path, name: undefined }))); // a folder's overrides apply to each image in it
  }
  return out;
}

/** What the queue keeps of an inspection: enough to show and audit, not the whole report. */
export function inspectionSummary(r: Inspection): Record<string, unknown> {
  return {
    format: r.format,
    diskFormat: r.diskFormat,
    virtualSize: r.virtualSize,
    allocatedSize: r.allocatedSize,
    ...(r.dataSize !== undefined ? { dataSize: r.dataSize } : {}),
    minDiskGiB: r.minDiskGiB,
    findings: r.findings.map((f) => ({ code: f.code, severity: f.severity, message: f.message })),
  };
}

export async function planUploadJob(o: UploadJobInput): Promise<NewJob> {
  const m = o.metadata;
  const label = 'url' in o.source ? o.source.url.href : o.source.path;
  const { source, inspected, inspection } = await sourceOf(o, label);
  const diskFormat = m.diskFormat ?? (inspected.disk_format as string | undefined);
  if (diskFormat === undefined)
    throw new EngineError('queue.invalid_job', `Cannot tell the disk format of ${label} from its name.`, {
      hint: 'Give the disk format (qcow2, raw, vmdk, vhd, vhdx, vdi, iso...).',
    });
  if (o.name === '')
    throw new EngineError('queue.invalid_job', `Cannot name an image after ${label}.`, { hint: 'Give a name.' });
  return {
    source,
    name: o.name,
    metadata: imageFields(o.name, m, diskFormat, inspected),
    targets: o.targets,
    bwlimit: o.bwlimit,
    onDuplicate: o.onDuplicate ?? 'upload',
    ...(inspection !== undefined ? { inspection: inspectionSummary(inspection) } : {}),
    allowFormatMismatch: o.allowFormatMismatch === true,
    ...(o.sameImageId !== undefined ? { sameImageId: o.sameImageId } : {}),
  };
}

/**
 * A file: identified and inspected (a refusal throws; warnings go to onWarning), its metadata
 * from its content. A URL: its digest if given, its disk format from its name.
 */
async function sourceOf(
  o: UploadJobInput,
  label: string,
): Promise<{ source: NewJob['source']; inspected: Record<string, unknown>; inspection?: Inspection }> {
  if ('url' in o.source) {
    const { url, sha512 } = o.source;
    const byName = diskFormatFromName(decodeURIComponent(url.pathname));
    return {
      source: { kind: 'url', url: url.href, ...(sha512 !== undefined ? { sha512: sha512.toLowerCase() } : {}) },
      inspected: byName !== undefined ? { disk_format: byName } : {},
    };
  }
  const path = o.source.path;
  const id = await identify(path);
  const inspection = await inspectFile(path);
  const refused = refusal(inspection, o.metadata.diskFormat, o.allowFormatMismatch === true);
  if (refused !== undefined)
    throw new EngineError(refused.code, `${label}: ${refused.message}`, { hint: refused.info.hint });
  for (const w of inspection.findings.filter((x) => x.severity === 'warning')) o.onWarning?.(w);
  return {
    source: { kind: 'file', path, size: id.size, mtimeMs: id.mtimeMs, ino: id.ino, dev: id.dev },
    inspected: fillFromInspection({}, inspection),
    inspection,
  };
}

/** The image's fields: what the user gave, else what inspection found; only what is set. */
function imageFields(
  name: string,
  m: ImageMetadataInput,
  diskFormat: string,
  inspected: Record<string, unknown>,
): NewJob['metadata'] {
  const minDisk = m.minDisk ?? (inspected.min_disk as number | undefined);
  return {
    name,
    disk_format: diskFormat,
    container_format: m.containerFormat ?? (inspected.container_format as string | undefined) ?? 'bare',
    ...(m.visibility !== undefined ? { visibility: m.visibility } : {}),
    ...(minDisk !== undefined ? { min_disk: minDisk } : {}),
    ...(m.minRam !== undefined ? { min_ram: m.minRam } : {}),
    ...(m.protected === true ? { protected: true } : {}),
    ...(m.tags !== undefined && m.tags.length > 0 ? { tags: m.tags } : {}),
    ...(m.properties !== undefined && Object.keys(m.properties).length > 0 ? { properties: m.properties } : {}),
  };
}

/**
 * The targets of one image as the user named them. The first region gets the data (the file by
 * PUT or glance-direct, a URL by web-download); with `glance-download` the other regions pull it
 * from the first; otherwise each gets it the same way (a file is read once for all). `copyTo`
 * adds a copy-image into each of those stores in every region. (`auto` is planned from what the
 * regions offer: distribution-plan.ts.)
 */
export function namedTargets(o: {
  cloud: string;
  regions: string[];
  store: string | undefined;
  method: string | undefined;
  fromUrl: boolean;
  copyTo: string[];
}): NewJob['targets'] {
  const first = o.fromUrl ? 'web-download' : o.method === 'glance-direct' || o.method === 'relay' ? o.method : 'direct';
  const targets: NewJob['targets'] = o.regions.map((region, i) => ({
    cloud: o.cloud,
    region,
    store: o.store,
    method: o.method === 'glance-download' && i > 0 ? 'glance-download' : first,
  }));
  for (const region of o.regions)
    for (const store of o.copyTo) targets.push({ cloud: o.cloud, region, store, method: 'copy-image' });
  return targets;
}
