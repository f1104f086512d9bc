/**
 * The image a target uploads into: the one an earlier attempt recorded when it can still take
 * data (or is an import under way to follow), else a new one whose id is recorded BEFORE the
 * create call (a retried create is then idempotent: Glance answers 409 and we take the image we
 * made). An image left `saving` by an aborted upload is given time to fall back to `queued`; a
 * dead or stuck one of ours is deleted and replaced.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { EngineError } from '../io/errors';
import { fillFromInspection } from '../inspect/inspect';
import type { Inspection } from '../inspect/types';
import type { GlanceClient } from '../openstack/glance-client';
import type { CreateImageFields, GlanceImage } from '../openstack/glance-types';
import type { JobRecord } from '../queue/job-repository';
import type { RunContext } from './upload-runner';
import { MADE_BY, SOURCE_SHA512 } from '../../../shared/image-properties';

const DEAD = new Set(['killed', 'deleted', 'pending_delete', 'deactivated']);

/** How long another machine's image may stay `queued` and unchanged before this one sends the data itself. */
export const TAKE_OVER_MS = 30 * 60_000;

function idSpent(region: string, id: string): EngineError {
  return new EngineError(
    'catalogfile.id_spent',
    `${region} has no image ${id}, yet refuses to create it: it was deleted, and Glance never gives a deleted image's id again.`,
    {
      hint: 'Give the version a higher `generation` in the catalog: its image is then made with a new id.',
      status: 409,
    },
  );
}

/**
 * A target whose image id is fixed (a catalog's, the same on every machine): the image is the
 * catalog's, never deleted by a failure, a cancel or a recovery (a deleted id is spent). Created
 * here, or found: ours (named by MADE_BY) is continued; another machine's is the lock, and this
 * target waits for it to be active (then verifies it like its own), unless it stays queued and
 * unchanged for TAKE_OVER_MS (that machine stopped): then it sends the data itself.
 */
async function ensureFixedImage(
  ctx: RunContext,
  glance: GlanceClient,
  fields: CreateImageFields,
): Promise<GlanceImage> {
  const { repo, target } = ctx;
  const id = fields.id ?? '';
  repo.setRemoteImageId(target.id, id, false);
  let image = await glance.findImage(id);
  if (image === undefined) {
    try {
      return (await glance.createImage(fields)).image;
    } catch (e) {
      if (!(e instanceof EngineError && e.code === 'glance.conflict')) throw e;
      image = await glance.findImage(id);
      if (image === undefined) throw idSpent(target.region, id);
    }
  }
  const madeBy = image[MADE_BY];
  if (repo.targetsWithFixedImage(id).some((t) => t.id === madeBy)) {
    // Made by this queue (this target, or an earlier one for the same version): continued.
    image = await pastSaving(ctx, glance, id, image);
    if (image === undefined || DEAD.has(image.status)) throw idSpent(target.region, id);
    return image;
  }
  repo.note('target.image_of_another', repo.getTarget(target.id), {
    imageId: id,
    status: image.status,
    madeBy: image[MADE_BY] ?? null,
  });
  // Two machines that won one region each would otherwise wait on each other for good: each
  // one's waiting branch would hold back its own upload of the other region (one read feeds both).
  leaveFanOut(ctx);
  ctx.onWaiting?.(true);
  try {
    return await waitForOther(ctx, glance, image);
  } finally {
    ctx.onWaiting?.(false);
  }
}

/**
 * Another machine's image: followed until it is active (or importing: followed as an import), or
 * taken over once it stood queued and unchanged too long; one that stands still in another state
 * (saving: its Glance died mid-upload) ends the try, to be looked at again by the next.
 */
async function waitForOther(ctx: RunContext, glance: GlanceClient, first: GlanceImage): Promise<GlanceImage> {
  let image = first;
  let since = Date.now();
  let last = `${image.status} ${image.updated_at}`;
  for (;;) {
    if (image.status === 'active' || image.status === 'deactivated' || image.status === 'importing') return image;
    if (DEAD.has(image.status)) throw idSpent(ctx.target.region, image.id);
    if (`${image.status} ${image.updated_at}` !== last)
      [since, last] = [Date.now(), `${image.status} ${image.updated_at}`];
    const idle = Date.now() - since;
    if (image.status === 'queued' && idle >= (ctx.takeOverMs ?? TAKE_OVER_MS)) {
      ctx.repo.note('target.took_over', ctx.repo.getTarget(ctx.target.id), { imageId: image.id, idleMs: idle });
      return image;
    }
    if (idle >= (ctx.takeOverMs ?? TAKE_OVER_MS))
      throw new EngineError(
        'glance.import_stalled',
        `Image ${image.id} in ${ctx.target.region}, made by another machine, has stood ${image.status} for ${Math.round(idle / 60_000)} min.`,
        { hint: 'It is looked at again at the next try; if it stays so, the cloud operator can reset it.' },
      );
    await sleep(ctx.pollMs ?? 2000, undefined, { signal: ctx.signal });
    image = (await glance.findImage(image.id)) ?? { ...image, status: 'deleted' };
  }
}

/**
 * A target that will not send now (it waits, or follows an import) lets its fan-out siblings go on
 * without it; if it sends later (a take-over), it reads the file on its own.
 */
export function leaveFanOut(ctx: RunContext): void {
  ctx.shared?.body.detach();
  ctx.shared = undefined;
}

/** The create call's fields: the job's metadata, with what inspection found where it is silent. */
export function createFields(job: JobRecord, id: string, inspection?: Inspection): CreateImageFields {
  const m = (inspection ? fillFromInspection(job.metadata, inspection) : job.metadata) as CreateImageFields;
  return { ...m, id, name: m.name ?? job.name };
}

export async function deleteQuietly(glance: GlanceClient, id: string): Promise<void> {
  await glance.deleteImage(id).catch(() => undefined);
}

/** The image this target should upload into: the recorded one when it can still take data, else a new one. */
export async function ensureImage(
  ctx: RunContext,
  glance: GlanceClient,
  inspection?: Inspection,
  /** What this target's image has apart from the job's (shrink: the copy's disk_format). */
  override: Partial<CreateImageFields> = {},
): Promise<GlanceImage> {
  const { repo, target } = ctx;
  const fixed = repo.getTarget(target.id).fixedImageId;
  const recorded = repo.getTarget(target.id).remoteImageId;
  // (a fixed id is looked at afresh every time: the image may be another machine's)
  if (recorded !== null && fixed === null) {
    const kept = await reusableImage(ctx, glance, recorded);
    if (kept !== undefined) return kept;
  }
  const id = fixed ?? ctx.job.sameImageId ?? randomUUID(); // --same-id: one id in every region
  const fields = ctx.engine.createFieldsFor(ctx.target.cloud, {
    ...createFields(ctx.job, id, inspection),
    ...override,
  });
  if (fixed !== null)
    return ensureFixedImage(ctx, glance, { ...fields, properties: { ...fields.properties, [MADE_BY]: target.id } });
  repo.setRemoteImageId(target.id, id); // before the call: a crash after Glance made it still finds it
  try {
    return (await glance.createImage(fields)).image;
  } catch (e) {
    // Our own earlier create that succeeded but whose answer was lost.
    if (e instanceof EngineError && e.code === 'glance.conflict') {
      const mine = await glance.findImage(id);
      if (mine !== undefined) return mine;
      if (ctx.job.sameImageId !== null)
        throw new EngineError(
          'glance.conflict',
          `${target.region} already used the id ${id} for an image (Glance never reuses the id of a deleted image).`,
          { hint: 'Queue the image again without --same-id, or with another id.', status: 409 },
        );
    }
    throw e;
  }
}

/**
 * The image a previous try recorded, when it can take the data (queued, or active: the upload
 * finished before a crash) or is an import under way to follow; else it is replaced (deleted when
 * ours and not dead already) and undefined is returned.
 */
/**
 * An aborted upload leaves the image `saving` for a moment before Glance resets it to `queued`:
 * the image once it left `saving`, or as it is after the grace.
 */
async function pastSaving(
  ctx: RunContext,
  glance: GlanceClient,
  id: string,
  first: GlanceImage | undefined,
): Promise<GlanceImage | undefined> {
  let image = first;
  const deadline = Date.now() + (ctx.savingGraceMs ?? 15_000);
  while (image?.status === 'saving' && Date.now() < deadline) {
    await sleep(500, undefined, { signal: ctx.signal });
    image = await glance.findImage(id);
  }
  return image;
}

async function reusableImage(ctx: RunContext, glance: GlanceClient, id: string): Promise<GlanceImage | undefined> {
  const { repo, target } = ctx;
  const image = await pastSaving(ctx, glance, id, await glance.findImage(id));
  if (image !== undefined && (image.status === 'queued' || image.status === 'active')) return image;
  // An import that was running when the engine stopped is followed, not redone.
  if (image !== undefined && image.status === 'importing' && ctx.target.method !== 'direct') return image;
  // Stuck (saving without end, importing from an old attempt) or dead: replace it.
  if (image !== undefined && !DEAD.has(image.status) && repo.getTarget(target.id).imageOwned)
    await deleteQuietly(glance, id);
  repo.note('target.image_replaced', repo.getTarget(target.id), { imageId: id, status: image?.status ?? 'missing' });
  return undefined;
}

/**
 * A fixed-id image verified against its source says so (SOURCE_SHA512): the catalog takes only
 * such images as made. Set by whichever machine verified it (the same value from each).
 */
export async function markVerified(
  ctx: RunContext,
  glance: GlanceClient,
  imageId: string,
  sha512: string | null,
): Promise<void> {
  if (sha512 === null || ctx.repo.getTarget(ctx.target.id).fixedImageId === null) return;
  await glance.updateImage(imageId, [{ op: 'add', path: `/${SOURCE_SHA512}`, value: sha512 }]);
}
