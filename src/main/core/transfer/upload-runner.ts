/**
 * Runs one target of a job with the direct method (POST /v2/images, PUT /file) or glance-direct
 * (PUT /stage, POST /import, then follow the import to active), from wherever a previous attempt
 * left it (the image: image-ensure.ts). A target that shrinks sends the job's compressed copy
 * instead of the file (shrink.ts). After the upload the source is checked again and what Glance
 * stored must equal what was sent (or, converted back, the file) before the target is done.
 * Every phase is written before its work starts.
 */
import type { Engine } from '../clouds/engine';
import { EngineError } from '../io/errors';
import { inspectFile, refusal } from '../inspect/inspect';
import type { Inspection } from '../inspect/types';
import type { GlanceClient } from '../openstack/glance-client';
import { importImage, stageImageData, uploadImageData } from '../openstack/glance-data';
import { waitForImage, type WaitOptions } from '../openstack/glance-wait';
import type { GlanceImage } from '../openstack/glance-types';
import type { JobRecord, JobRepository, TargetRecord } from '../queue/job-repository';
import type { Digests } from '../io/hasher';
import { assertUnchanged, type SourceIdentity } from '../io/source-file';
import type { TokenBucket } from './token-bucket';
import { knownOrHashed } from './job-digests';
import { uploadStream, type SharedBody } from './upload-stream';
import { deleteQuietly, ensureImage, leaveFanOut, markVerified } from './image-ensure';
import { copyToSend, fileDigestsUnderWay, shrinkFields, type ShrinkSend } from './shrink';
import { conversionDetail, declaredFormat, expectedStored, virtualSizeOf } from './stored-image';
import { releaseShrunk } from './shrink-cache';

export interface RunContext {
  repo: JobRepository;
  engine: Engine;
  job: JobRecord;
  target: TargetRecord;
  signal: AbortSignal;
  buckets: TokenBucket[];
  /** Bytes handed to Glance so far in this attempt. */
  onProgress?: (bytes: number) => void;
  /** How long an image may stay `saving` after an aborted upload before it is replaced. */
  savingGraceMs?: number;
  /**
   * Told when the target starts and stops waiting for another machine's image: meanwhile it holds
   * no concurrency slot (a take-over may then send beyond the limit, by the targets that waited).
   */
  onWaiting?: (waiting: boolean) => void;
  /** A fan-out branch: the file read once for several targets of the job. */
  shared?: SharedBody;
  /** An import showing no change for this long is stuck (glance.import_stalled). */
  importStallMs?: number;
  /** Another machine's image (a fixed id) queued and unchanged this long is taken over (image-ensure.ts). */
  takeOverMs?: number;
  /** How often another machine's image is looked at while this target waits for it. */
  pollMs?: number;
}

/** What an import may show no change for before it is called stuck, when nobody said otherwise. */
export const DEFAULT_IMPORT_STALL_MS = 20 * 60_000;

/** Follows an import this target asked for (or found running), within the stall limit. */
export async function followImport(
  ctx: RunContext,
  glance: GlanceClient,
  id: string,
  startedAt: number,
  options: Pick<WaitOptions, 'until' | 'before'> = {},
): Promise<GlanceImage> {
  try {
    return await waitForImage(glance, id, {
      ...options,
      importStartedAt: startedAt,
      stallMs: ctx.importStallMs ?? DEFAULT_IMPORT_STALL_MS,
      timeoutMs: 24 * 3600_000, // a moving import may take hours: the stall limit is the watch
      signal: ctx.signal,
      onProgress: (p) => ctx.repo.note('target.import_progress', ctx.repo.getTarget(ctx.target.id), { ...p }),
    });
  } catch (e) {
    if (e instanceof EngineError && e.code === 'glance.import_stalled') await abandonStuckImport(ctx, glance, id, e);
    throw e;
  }
}

/**
 * A stuck import: Glance keeps such an image `importing` until it is deleted, so ours is deleted
 * (never one we did not make) and the retry makes it again. When the planner chose the import
 * (--method auto) and the file is here, the retry is a direct upload instead, and says why.
 */
async function abandonStuckImport(ctx: RunContext, glance: GlanceClient, id: string, e: EngineError): Promise<void> {
  const { repo } = ctx;
  const t = repo.getTarget(ctx.target.id);
  if (t.imageOwned) await dropOwnImage(ctx, glance, id, { why: 'its import made no progress', diagnosis: e.message });
  // (never a target sent a compressed copy: a PUT of it would store qcow2 where raw was asked)
  const fallBack =
    ctx.job.sourceKind === 'file' &&
    t.sendFormat === null &&
    t.planReason !== null &&
    (t.method === 'glance-direct' || t.method === 'glance-download');
  if (fallBack)
    repo.setMethod(
      t.id,
      'direct',
      `${t.method} made no progress in ${t.region} (${e.message}); a direct upload (PUT) is offered there, so the file is sent that way`,
    );
}

export function sourceOf(job: JobRecord): SourceIdentity {
  if (job.sourceKind === 'url' || job.sourcePath === null || job.sourceSize === null) {
    throw new EngineError('queue.invalid_job', `Job "${job.name}" has no local file to upload.`, {
      hint: 'A URL is fetched by Glance (web-download).',
    });
  }
  return {
    path: job.sourcePath,
    size: job.sourceSize,
    mtimeMs: job.sourceMtimeMs ?? 0,
    ino: job.sourceIno ?? 0,
    dev: job.sourceDev ?? 0,
  };
}

/**
 * A staged image is sent with the digests the local server computed when it was staged: bytes
 * read now that hash otherwise mean its data file changed or rotted since (final: stage it again).
 */
function assertStagedDigests(job: JobRecord, digests: Digests): void {
  if (job.sourceKind !== 'staged' || job.sha512 === null || digests.sha512 === job.sha512) return;
  throw new EngineError(
    'source.digest_mismatch',
    `The staged copy of "${job.name}" no longer has the sha512 it was staged with.`,
    { hint: 'Its data file in the local server changed or is damaged: stage the image again.' },
  );
}

/**
 * The duplicate check: hash the file, look for an active image with the same sha512, size and
 * md5 in the target, and adopt it instead of uploading. An adopted image is recorded as not
 * ours, so nothing we do (cancel, failure, recovery) ever deletes it.
 */
export async function adoptDuplicate(
  ctx: RunContext,
  glance: GlanceClient,
  source: SourceIdentity,
): Promise<TargetRecord | undefined> {
  const { repo, job } = ctx;
  let t = repo.transition(ctx.target.id, 'hashing', { newAttempt: true });
  const digests = await knownOrHashed(job, source);
  repo.setHashes(job.id, digests);
  const candidates = await glance.listImages({ os_hash_value: digests.sha512, status: 'active' });
  const same = candidates.find((i) => i.size === source.size && i.checksum === digests.md5);
  if (same === undefined) return undefined;
  repo.setRemoteImageId(t.id, same.id, false);
  t = repo.transition(t.id, 'verifying');
  repo.note('target.duplicate_reused', t, { imageId: same.id, name: same.name, sha512: digests.sha512 });
  repo.setProgress(t.id, source.size);
  return repo.transition(t.id, 'done');
}

/**
 * The first phase of every file target: what the file really is, read from its headers. An
 * unsafe image, or one whose content is not its declared disk_format (unless the user chose
 * to send it anyway), is refused before any byte leaves: a final inspect.* error.
 */
export async function inspectBeforeSending(ctx: RunContext, path: string): Promise<Inspection> {
  const ins = await inspectFile(path);
  const declared = (ctx.job.metadata as { disk_format?: string }).disk_format;
  ctx.repo.note('target.inspected', ctx.repo.getTarget(ctx.target.id), {
    format: ins.format,
    virtualSize: ins.virtualSize,
    declared: declared ?? null,
    findings: ins.findings.map((f) => `${f.severity}:${f.code}`),
    bytesRead: ins.bytesRead,
  });
  const refused = refusal(ins, declared, ctx.job.allowFormatMismatch);
  if (refused !== undefined) throw refused;
  return ins;
}

/**
 * Where the upload continues: on a server with resumable uploads (our own), the byte it already
 * holds from an earlier attempt (paused, cut, or an engine that died); against Glance, byte 0.
 */
async function resumePoint(
  ctx: RunContext,
  glance: GlanceClient,
  imageId: string,
  size: number,
): Promise<{ start: number; total: number } | undefined> {
  if (!(await glance.resumableUploads())) return undefined;
  const offset = await glance.uploadOffset(imageId);
  if (offset <= 0 || offset >= size) return undefined;
  ctx.repo.note('target.resumed_at_byte', ctx.repo.getTarget(ctx.target.id), { imageId, offset, size });
  return { start: offset, total: size };
}

/** glance-direct must be offered by the region (checked before any byte is staged). */
async function assertGlanceDirect(glance: GlanceClient, region: string): Promise<void> {
  const offered = await glance.importMethods();
  if (!offered.includes('glance-direct'))
    throw new EngineError('glance.method_not_offered', `${region} does not offer the glance-direct import method.`, {
      hint: `Use the direct method for this region (it offers: ${offered.join(', ') || 'no import method'}).`,
    });
}

export async function runDirectUpload(ctx: RunContext): Promise<TargetRecord> {
  const { repo, job, signal } = ctx;
  const source = sourceOf(job);
  await assertUnchanged(source);
  let t = repo.transition(ctx.target.id, 'inspecting', { newAttempt: true });
  const inspection = await inspectBeforeSending(ctx, source.path);
  const glance = await ctx.engine.glance(ctx.target.cloud, ctx.target.region);
  if (job.onDuplicate === 'reuse' && repo.getTarget(t.id).remoteImageId === null) {
    const adopted = await adoptDuplicate(ctx, glance, source);
    if (adopted !== undefined) return adopted;
  }
  t = repo.transition(t.id, 'creating');
  const image = await ensureImage(ctx, glance, inspection, shrinkFields(t));
  const send = await copyToSend(ctx, source, inspection, image);
  const sending = send?.identity ?? source;
  let digests: Digests | undefined;
  const direct = t.method !== 'glance-direct';
  if (!direct) await assertGlanceDirect(glance, t.region);
  if (image.status !== 'queued') leaveFanOut(ctx); // an import to follow: the siblings send meanwhile
  if (image.status === 'queued') {
    t = repo.transition(t.id, 'uploading');
    const continueAt =
      direct && ctx.shared === undefined ? await resumePoint(ctx, glance, image.id, sending.size) : undefined;
    const stream = uploadStream(sending.path, sending.size, {
      buckets: ctx.buckets,
      signal,
      onBytes: ctx.onProgress,
      shared: ctx.shared,
      start: continueAt?.start,
    });
    try {
      if (direct)
        await uploadImageData(glance, image.id, stream.source, { signal, store: t.store || undefined, continueAt });
      else await stageImageData(glance, image.id, stream.source, { signal });
      digests = await stream.digests();
      if (send === undefined) assertStagedDigests(job, digests); // (a copy: its file was checked when it was made)
    } finally {
      await stream.dispose();
    }
    await assertUnchanged(sending); // changed while it was read: never keep such an image
    if (!direct) {
      t = repo.transition(t.id, 'importing');
      const started = Date.now();
      await importImage(glance, image.id, {
        method: { name: 'glance-direct' },
        ...(t.store ? { stores: [t.store] } : {}),
      });
      await followImport(ctx, glance, image.id, started);
    }
  }
  const done = await settleFileTarget(ctx, glance, image, source, digests, undefined, send);
  if (send !== undefined) releaseShrunk(repo, job.id); // the last target to send it removes the copy
  return done;
}

/**
 * The end of every file target (direct, glance-direct, relay). An image this attempt did not
 * fill (`sent` undefined) is an import an earlier engine started, followed to its end, or data
 * sent by an attempt that died before it could verify; either way the file is hashed to check
 * it. Then Glance's size, md5 and sha512 must equal the file's (a shrinking target: what Glance
 * stored decides, see shrink.ts), and the target is done, once `beforeDone` ran (the relay
 * deletes its objects there).
 */
export async function settleFileTarget(
  ctx: RunContext,
  glance: GlanceClient,
  image: GlanceImage,
  source: SourceIdentity,
  sent: Digests | undefined,
  beforeDone?: () => Promise<void>,
  shrink?: ShrinkSend,
): Promise<TargetRecord> {
  const { repo, job } = ctx;
  if (sent === undefined) {
    if (image.status === 'importing') {
      repo.transition(ctx.target.id, 'importing');
      await followImport(ctx, glance, image.id, Date.parse(image.updated_at));
    } else repo.transition(ctx.target.id, 'hashing');
  }
  // The file's digests: those of what was sent when it was the file, else known (or hashed now).
  // (read again: a shrink recorded them on the job while this target ran)
  const digests =
    shrink === undefined && sent !== undefined
      ? sent
      : await (fileDigestsUnderWay(job.id) ?? knownOrHashed(repo.getJob(job.id), source));
  const t = repo.transition(ctx.target.id, 'verifying');
  // A PUT stores what it was sent; an import may have converted it (stored-image.ts).
  const stored = t.method === 'direct' && shrink === undefined ? undefined : await glance.getImage(image.id);
  const file = {
    format: declaredFormat(job),
    size: source.size,
    virtualSize: virtualSizeOf(job),
    digests,
  };
  const expected =
    stored === undefined ? { size: source.size, ...digests } : expectedStored(stored, file, shrink?.copy);
  const verified = await verifyImage(ctx, glance, stored ?? image.id, expected);
  repo.setHashes(job.id, digests);
  repo.setProgress(t.id, source.size);
  repo.note('target.verified', t, {
    md5: digests.md5,
    sha512: digests.sha512,
    size: source.size,
    ...expected,
    ...('stored' in expected && expected.stored === 'converted' ? { converted: true } : {}),
  });
  const converted = stored === undefined ? undefined : conversionDetail(verified, file, shrink?.copy);
  if (converted !== undefined) repo.note('target.converted', t, converted);
  await markVerified(ctx, glance, image.id, digests.sha512);
  await beforeDone?.();
  return repo.transition(t.id, 'done');
}

/** Deletes an image this target made, says why in the audit log, and forgets it (the retry makes another). */
async function dropOwnImage(
  ctx: RunContext,
  glance: GlanceClient,
  id: string,
  detail: { why: string; diagnosis?: string },
): Promise<void> {
  await deleteQuietly(glance, id);
  ctx.repo.note('target.image_deleted', ctx.repo.getTarget(ctx.target.id), { imageId: id, ...detail });
  ctx.repo.setRemoteImageId(ctx.target.id, null);
}

export interface Expected {
  size?: number | null;
  md5?: string | null;
  sha512?: string | null;
  /** A format Glance converted to: only the virtual size can be compared. */
  virtualSize?: number | null;
}

/** Each expected figure against the image's: equal, or not known (nothing to compare). */
function compared(
  image: GlanceImage,
  expected: Expected,
): Record<'sameSize' | 'sameMd5' | 'sameSha' | 'sameVirtual', boolean> {
  const known = <T>(v: T | null | undefined): v is T => v !== null && v !== undefined;
  return {
    sameSize: !known(expected.size) || image.size === expected.size,
    sameMd5: !known(expected.md5) || image.checksum === expected.md5,
    sameSha: !known(expected.sha512) || image.os_hash_algo !== 'sha512' || image.os_hash_value === expected.sha512,
    sameVirtual: !known(expected.virtualSize) || image.virtual_size === expected.virtualSize,
  };
}

/**
 * The image must be active with the expected size, md5 and sha512 (each when known). When it is
 * not, an image this target made is deleted (never an adopted one) and the target is to be
 * redone: transfer.hash_mismatch.
 */
export async function verifyImage(
  ctx: RunContext,
  glance: GlanceClient,
  /** The image, or its id to read it now (an image just read is not read twice). */
  id: string | GlanceImage,
  expected: Expected,
  /** What a mismatch means here, when it is not a transfer to redo (a URL serving other bytes). */
  mismatch?: { code: 'source.digest_mismatch'; hint: string },
): Promise<GlanceImage> {
  const { repo } = ctx;
  const t = repo.getTarget(ctx.target.id);
  const image = typeof id === 'string' ? await glance.getImage(id) : id;
  const { sameSize, sameMd5, sameSha, sameVirtual } = compared(image, expected);
  if (image.status === 'active' && sameSize && sameMd5 && sameSha && sameVirtual) return image;
  // In the audit log with its id: an image Glance called active held other content.
  if (t.imageOwned) await dropOwnImage(ctx, glance, image.id, { why: 'its content does not match the source' });
  throw new EngineError(
    mismatch?.code ?? 'transfer.hash_mismatch',
    `Image ${image.id} in ${t.region} does not match the source (status ${image.status}, size ${image.size ?? 'none'}, md5 ${sameMd5 ? 'equal' : 'different'}, sha512 ${sameSha ? 'equal' : 'different'}).`,
    {
      hint:
        mismatch?.hint ??
        (t.imageOwned ? 'The image was deleted; it will be made again.' : 'It will be checked again.'),
    },
  );
}
