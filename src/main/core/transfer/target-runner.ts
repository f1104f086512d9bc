/**
 * Targets whose data Glance brings in itself, through its import API:
 *
 * - web-download: the region fetches the job's URL;
 * - copy-image: the image the job's upload made in this region is copied into one more store;
 * - glance-download: this region pulls the image the job's upload made in another region.
 *
 * Each is checked against /v2/info/import first (only offered methods run), recorded before
 * the call, followed to the end (an import running when the engine stopped is followed, not
 * started again) and verified: size, md5 and sha512 equal the job's, which the file's upload
 * measured, the user gave (a URL with --sha512), or the first region to finish reported
 * (every other region must then agree).
 */
import type { GlanceClient } from '../openstack/glance-client';
import { importImage } from '../openstack/glance-data';
import { inStores, list } from '../openstack/glance-wait';
import type { GlanceImage, ImportRequest } from '../openstack/glance-types';
import { EngineError } from '../io/errors';
import type { TargetRecord } from '../queue/job-repository';
import { sourceTargetOf, sourceUnavailable } from '../queue/target-methods';
import { runRelayUpload } from './relay-runner';
import { ensureImage, markVerified } from './image-ensure';
import { conversionDetail, declaredFormat, isConverted, virtualSizeOf } from './stored-image';
import { followImport, runDirectUpload, verifyImage, type Expected, type RunContext } from './upload-runner';

/** Run one target by its method. */
export function runTarget(ctx: RunContext): Promise<TargetRecord> {
  switch (ctx.target.method) {
    case 'web-download':
    case 'glance-download':
      return runImport(ctx);
    case 'copy-image':
      return runCopyImage(ctx);
    case 'relay':
      return runRelayUpload(ctx);
    case 'existing':
      // Done when queued; a retry has nothing to send (the image is someone's, already there).
      return Promise.resolve(ctx.repo.getTarget(ctx.target.id));
    default:
      return runDirectUpload(ctx);
  }
}

/** The done target this one starts from; a source that failed or was canceled fails this one. */
export function readySource(ctx: RunContext): TargetRecord & { remoteImageId: string } {
  const siblings = ctx.repo.targetsOf(ctx.job.id);
  const me = siblings.find((s) => s.id === ctx.target.id) ?? ctx.target;
  const src = sourceTargetOf(me, siblings);
  if (src === undefined)
    throw new EngineError('queue.invalid_job', `Target ${me.id} (${me.method}) has no target to start from.`, {
      hint: 'Remove this job and queue it again with an upload to the region it copies from.',
    });
  if (src.state !== 'done' || src.remoteImageId === null) throw sourceUnavailable(me, src);
  return { ...src, remoteImageId: src.remoteImageId };
}

function expected(ctx: RunContext): { size: number | null; md5: string | null; sha512: string | null } {
  const job = ctx.repo.getJob(ctx.job.id); // hashes recorded by the source target after this run began
  return { size: job.sourceSize, md5: job.md5, sha512: job.sha512 };
}

/**
 * What the image must equal now that Glance holds it: the job's digests, unless the region's
 * import converted it (stored-image.ts): then the file's virtual size, and the log says so.
 */
async function expectedNow(
  ctx: RunContext,
  glance: GlanceClient,
  id: string,
): Promise<{ want: Expected; converted: boolean; image: GlanceImage }> {
  const job = ctx.repo.getJob(ctx.job.id);
  const image = await glance.getImage(id);
  if (!isConverted(image, declaredFormat(job))) return { want: expected(ctx), converted: false, image };
  ctx.repo.note(
    'target.converted',
    ctx.repo.getTarget(ctx.target.id),
    conversionDetail(image, { format: declaredFormat(job), size: job.sourceSize ?? image.size ?? 0 }) ?? {},
  );
  return { want: { virtualSize: virtualSizeOf(job) }, converted: true, image };
}

async function assertOffered(glance: GlanceClient, t: TargetRecord): Promise<void> {
  const offered = await glance.importMethods();
  if (!offered.includes(t.method))
    throw new EngineError('glance.method_not_offered', `${t.region} does not offer the ${t.method} import method.`, {
      hint: `It offers: ${['direct (PUT)', ...offered].join(', ')}. Queue the image again with one of those.`,
    });
}

/**
 * After a verified import: when nobody knew the job's digests, this region's become the
 * reference (true); when another region recorded them meanwhile, this image must match them.
 */
async function agreeOnDigests(
  ctx: RunContext,
  glance: GlanceClient,
  image: GlanceImage,
  mismatch: Parameters<typeof verifyImage>[4],
): Promise<boolean> {
  const job = ctx.repo.getJob(ctx.job.id);
  if (job.md5 !== null && job.sha512 !== null) {
    await verifyImage(ctx, glance, image, expected(ctx), mismatch); // the image just verified, not read again
    return false;
  }
  if (image.os_hash_algo !== 'sha512' || !image.os_hash_value || !image.checksum) return false;
  // verifyImage passed: what was known already equals the image's.
  ctx.repo.setHashes(job.id, { md5: job.md5 ?? image.checksum, sha512: job.sha512 ?? image.os_hash_value });
  return true;
}

/** web-download and glance-download: a new image of ours, filled by Glance from a URL or another region. */
async function runImport(ctx: RunContext): Promise<TargetRecord> {
  const { repo } = ctx;
  const src = ctx.target.method === 'glance-download' ? readySource(ctx) : undefined;
  const glance = await ctx.engine.glance(ctx.target.cloud, ctx.target.region);
  let t = repo.transition(ctx.target.id, 'creating', { newAttempt: true });
  await assertOffered(glance, t);
  let image = await ensureImage(ctx, glance);
  if (image.status === 'queued') {
    t = repo.transition(t.id, 'importing');
    const req: ImportRequest = {
      method:
        src === undefined
          ? { name: 'web-download', uri: urlOf(ctx) }
          : { name: 'glance-download', glanceImageId: src.remoteImageId, glanceRegion: src.region },
      ...(t.store ? { stores: [t.store] } : {}),
    };
    repo.note('target.import_requested', t, {
      imageId: image.id,
      method: t.method,
      ...(src ? { fromRegion: src.region, fromImageId: src.remoteImageId } : { uri: urlOf(ctx) }),
    });
    const started = Date.now();
    await importImage(glance, image.id, req);
    await follow(ctx, glance, image.id, started);
  } else if (image.status === 'importing') {
    t = repo.transition(t.id, 'importing');
    await follow(ctx, glance, image.id, Date.parse(image.updated_at));
  }
  t = repo.transition(t.id, 'verifying');
  const mismatch =
    src === undefined
      ? {
          code: 'source.digest_mismatch' as const,
          hint: 'The URL served other bytes than expected (--sha512, or what the first region got): the image was deleted. Check the URL and the digest, then retry.',
        }
      : undefined;
  const now = await expectedNow(ctx, glance, image.id);
  image = await verifyImage(ctx, glance, now.image, now.want, mismatch);
  // A converted image's digests are of what Glance made: never the reference of the job's others.
  const first = !now.converted && (await agreeOnDigests(ctx, glance, image, mismatch));
  repo.setProgress(t.id, image.size ?? 0);
  repo.note('target.verified', t, {
    md5: image.checksum,
    sha512: image.os_hash_value,
    size: image.size,
    // "job": equal to digests known before (the file's, the user's, or another region's);
    // "first": this region's are the reference the job's other regions must match.
    against: now.converted ? 'converted' : first ? 'first' : 'job',
    ...(now.converted ? { converted: true } : {}),
  });
  await markVerified(
    ctx,
    glance,
    image.id,
    repo.getJob(ctx.job.id).sha512 ?? (now.converted ? null : image.os_hash_value),
  );
  return repo.transition(t.id, 'done');
}

function urlOf(ctx: RunContext): string {
  const url = ctx.job.sourceUrl;
  if (url === null)
    throw new EngineError('queue.invalid_job', `Job "${ctx.job.name}" has no URL for web-download.`, {
      hint: 'Queue it again with the URL as the source.',
    });
  return url;
}

function follow(ctx: RunContext, glance: GlanceClient, id: string, startedAt: number): Promise<GlanceImage> {
  const t = ctx.target;
  return followImport(ctx, glance, id, startedAt, t.store ? { until: inStores([t.store]) } : {});
}

/**
 * copy-image: the source target's image (same region) goes into one more store. The image is
 * the source target's: this target never deletes it (cancel stops following the copy).
 */
async function runCopyImage(ctx: RunContext): Promise<TargetRecord> {
  const { repo } = ctx;
  const src = readySource(ctx);
  const glance = await ctx.engine.glance(ctx.target.cloud, ctx.target.region);
  let t = repo.transition(ctx.target.id, 'creating', { newAttempt: true });
  await assertOffered(glance, t);
  repo.setRemoteImageId(t.id, src.remoteImageId, false);
  const store = t.store;
  let image = await glance.getImage(src.remoteImageId);
  t = repo.transition(t.id, 'importing');
  if (!list(image.stores).includes(store)) {
    let started = Date.parse(image.updated_at);
    if (!list(image.os_glance_importing_to_stores).includes(store)) {
      repo.note('target.import_requested', t, { imageId: image.id, method: 'copy-image', store });
      started = Date.now();
      await importImage(glance, image.id, { method: { name: 'copy-image' }, stores: [store] });
    }
    image = await follow(ctx, glance, image.id, started);
  } else {
    repo.note('target.already_in_store', t, { imageId: image.id, store });
  }
  t = repo.transition(t.id, 'verifying');
  const now = await expectedNow(ctx, glance, image.id);
  image = await verifyImage(ctx, glance, now.image, now.want);
  if (!list(image.stores).includes(store))
    throw new EngineError('glance.import_failed', `Image ${image.id} is not in store ${store} after the copy.`, {
      hint: 'Look at the image tasks for the reason; retry this target.',
    });
  repo.setProgress(t.id, image.size ?? 0);
  repo.note('target.verified', t, {
    md5: image.checksum,
    sha512: image.os_hash_value,
    store,
    ...(now.converted ? { converted: true } : {}),
  });
  return repo.transition(t.id, 'done');
}
