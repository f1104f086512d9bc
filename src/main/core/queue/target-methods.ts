/**
 * How a target gets its image, and what it depends on.
 *
 * - direct (PUT /file) and glance-direct (PUT /stage + import) send the job's local file;
 * - relay sends it in segments to the region's object store, and Glance fetches it from there
 *   (web-download of a TempURL): resumable at the segment;
 * - web-download: Glance fetches the job's URL itself;
 * - copy-image: the image another target of the job made in the SAME region is copied into this
 *   target's store (no byte leaves the machine);
 * - glance-download: this region pulls the image another target of the job made in ANOTHER
 *   region of the same cloud (same Keystone), region to region.
 *
 * - existing: the image is already in that region (a replicate job's source): done from the
 *   start, never run, never deleted by us; only the repository makes such targets.
 *
 * copy-image and glance-download wait for that "source target" to be done. Which methods a region really offers
 * comes from its /v2/info/import (direct is always there); this module checks only the shape.
 */
import { EngineError } from '../io/errors';

export const TARGET_METHODS = [
  'direct',
  'glance-direct',
  'relay',
  'web-download',
  'copy-image',
  'glance-download',
] as const;
export type TargetMethod = (typeof TARGET_METHODS)[number];

/** Methods that bring the data in (from the file or the URL): a source for the dependent ones. */
export const SOURCE_METHODS: readonly string[] = ['direct', 'glance-direct', 'relay', 'web-download', 'existing'];
/** Methods that read the local file. */
export const FILE_METHODS: readonly string[] = ['direct', 'glance-direct', 'relay'];
/**
 * Methods that send the file as one stream: a job's targets with these share one read (the
 * fan-out). relay reads its segments on its own, at its own pace, resumable apart.
 */
export const STREAM_METHODS: readonly string[] = ['direct', 'glance-direct'];

export function isTargetMethod(m: string): m is TargetMethod {
  return (TARGET_METHODS as readonly string[]).includes(m);
}

export function dependsOnSource(method: string): boolean {
  return method === 'copy-image' || method === 'glance-download';
}

interface TargetShape {
  cloud: string;
  region: string;
  store: string;
  method: string;
}

/**
 * The target whose image a copy-image or glance-download target starts from: the first target
 * of the job (in order) that has the image in the same region (copy-image: any target there but
 * another copy), or that brings the data into another region of the same cloud
 * (glance-download). Undefined for the other methods.
 */
export function sourceTargetOf<T extends TargetShape>(t: T, siblings: readonly T[]): T | undefined {
  if (!dependsOnSource(t.method)) return undefined;
  return siblings.find(
    (s) =>
      s !== t &&
      s.cloud === t.cloud &&
      (t.method === 'copy-image'
        ? s.region === t.region && s.method !== 'copy-image'
        : s.region !== t.region && SOURCE_METHODS.includes(s.method)),
  );
}

/** The error of a copy-image or glance-download target whose source target is not done. */
export function sourceUnavailable(t: TargetShape, src: TargetShape & { state: string }): EngineError {
  return new EngineError(
    'transfer.source_unavailable',
    `${t.method} into ${t.region}${t.store ? `/${t.store}` : ''} needs the image of ${src.region}, which is ${src.state}.`,
    { hint: `Retry the target in ${src.region}; once it is done, retry this one.` },
  );
}

function invalid(message: string, hint: string): EngineError {
  return new EngineError('queue.invalid_job', message, { hint });
}

/** Refuse, before anything is queued, a job whose targets cannot all run. */
export function validateTargets(jobName: string, sourceKind: string, targets: readonly TargetShape[]): void {
  const keys = targets.map((t) => `${t.cloud}\n${t.region}\n${t.store}`);
  if (new Set(keys).size !== keys.length)
    throw invalid(
      `Job "${jobName}" names the same target (cloud, region and store) twice.`,
      'Each cloud, region and store once: a store given to --store is not also a --copy-to store.',
    );
  for (const t of targets) {
    if (!isTargetMethod(t.method) && !(t.method === 'existing' && sourceKind === 'image'))
      throw invalid(
        `Job "${jobName}": "${t.method}" is not an upload method.`,
        `Use one of ${TARGET_METHODS.join(', ')}.`,
      );
    if (sourceKind === 'url' && FILE_METHODS.includes(t.method))
      throw invalid(
        `Job "${jobName}" comes from a URL: the ${t.method} method sends a local file.`,
        'Glance fetches a URL itself with --method web-download; or download the file and upload it.',
      );
    if (sourceKind !== 'url' && t.method === 'web-download')
      throw invalid(
        `Job "${jobName}": web-download needs a URL (http or https), not a local file.`,
        'Give the URL instead of the file, or use --method direct for a local file.',
      );
    if (t.method === 'copy-image' && t.store === '')
      throw invalid(
        `Job "${jobName}": copy-image to ${t.region} needs the store to copy into.`,
        'Name the store (--copy-to STORE); `glance-uploader clouds show` lists the stores of each region.',
      );
    if (dependsOnSource(t.method) && sourceTargetOf(t, targets) === undefined)
      throw invalid(
        t.method === 'copy-image'
          ? `Job "${jobName}": copy-image into ${t.store} of ${t.region} has no upload to ${t.region} to copy from.`
          : `Job "${jobName}": glance-download into ${t.region} has no upload to another region of ${t.cloud} to pull from.`,
        t.method === 'copy-image'
          ? 'The job must also upload to that region (to its default store, or another one).'
          : 'List the region that receives the upload first: --region R1,R2 --method glance-download uploads to R1 and R2 pulls from it.',
      );
  }
}

/** What a resumed target does with the data, for the audit log. */
export function resumeWhy(method: string): string {
  return method === 'relay'
    ? 'The relay continues at the first segment the object store has not confirmed (target.resumed_at_byte).'
    : 'Glance takes image data in one request: the file is sent again from byte 0 into the same image. A server with resumable uploads (our own) continues at the byte it holds (target.resumed_at_byte).';
}
