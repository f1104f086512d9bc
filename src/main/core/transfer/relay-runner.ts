/**
 * The relay method: Glance cannot resume an upload (PUT /file and PUT /stage take the whole
 * body), so a big file goes through the region's object store instead, where it is resumable
 * at the segment:
 *
 * 1. the image is created up front (its id recorded before the first byte, as for every method);
 * 2. the file goes up as segments of a Static Large Object (relay-segments.ts), each confirmed
 *    against Swift's ETag and recorded in the queue; a restart continues at the first segment
 *    not confirmed, while the file's md5 and sha512 are computed beside it (once per job);
 * 3. the SLO manifest is written (Swift checks every segment; one it lacks is sent again);
 * 4. Glance imports a TempURL of the manifest (web-download; relay-url.ts), followed to active
 *    and verified against the file's digests; an import that fails is tried once more with a
 *    fresh URL before the target fails;
 * 5. the manifest and segments are deleted (relay-cleanup.ts) before the target is done.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { EngineError } from '../io/errors';
import { HashedRead } from '../io/hashed-read';
import type { Digests } from '../io/hasher';
import { assertUnchanged, type SourceIdentity } from '../io/source-file';
import type { GlanceClient } from '../openstack/glance-client';
import { importImage } from '../openstack/glance-data';
import type { GlanceImage } from '../openstack/glance-types';
import { inStores, list } from '../openstack/glance-wait';
import type { ObjectStoreClient } from '../openstack/object-store-client';
import { redactTempUrl } from '../openstack/temp-url';
import type { TargetRecord } from '../queue/job-repository';
import type { RelayRecord } from '../queue/relay-store';
import { releaseRelay, sweepRelays } from './relay-cleanup';
import {
  manifestName,
  manifestOf,
  segmentSizeFor,
  segmentsOf,
  sendSegments,
  DEFAULT_MAX_SEGMENTS,
} from './relay-segments';
import {
  RELAY_CONTAINER,
  relayUrlTtlS,
  urlFilteredError,
  withoutSignature,
  workingRelayUrl,
} from '../openstack/relay-url';
import { ensureImage } from './image-ensure';
import { copyToSend, shrinkFields } from './shrink';
import { releaseShrunk } from './shrink-cache';
import {
  adoptDuplicate,
  followImport,
  inspectBeforeSending,
  sourceOf,
  settleFileTarget,
  type RunContext,
} from './upload-runner';
import { knownOrHashed } from './job-digests';

/** How many imports of one relay are asked of Glance in one attempt (the second with a new URL). */
const IMPORT_ROUNDS = 2;

async function assertRelayOffered(glance: GlanceClient, t: TargetRecord): Promise<void> {
  if (!(await glance.importMethods()).includes('web-download'))
    throw new EngineError(
      'glance.method_not_offered',
      `${t.region} does not offer web-download, which the relay method imports with.`,
      { hint: 'Use --method direct for this region.' },
    );
}

/** The target's relay (made and recorded before its first segment), its container there. */
async function prepareRelay(ctx: RunContext, store: ObjectStoreClient, size: number): Promise<RelayRecord> {
  const { repo } = ctx;
  const options = repo.relays.options();
  let known = repo.relays.get(ctx.target.id);
  await store.ensureContainer(known?.container ?? RELAY_CONTAINER);
  // A manifest written by an earlier attempt and gone since (swept, deleted by hand): start over.
  if (
    known !== undefined &&
    known.manifestAt !== null &&
    (await store.headObject(known.container, manifestName(known))) === undefined
  ) {
    repo.note('target.relay_restarted', repo.getTarget(ctx.target.id), { why: 'its manifest is gone from the store' });
    repo.relays.drop(ctx.target.id); // what is left of it is an orphan the sweep below deletes
    known = undefined;
  }
  const swept = await sweepRelays(store, repo).catch(() => 0); // best effort: never blocks an upload
  if (swept > 0) repo.note('target.relay_swept', repo.getTarget(ctx.target.id), { objects: swept });
  if (known !== undefined) return known;
  const max = (await store.info()).slo?.max_manifest_segments ?? DEFAULT_MAX_SEGMENTS;
  return repo.relays.ensure(ctx.target.id, RELAY_CONTAINER, segmentSizeFor(size, options.segmentSize, max));
}

/**
 * Every segment in the store, and the file's digests: hashed beside the upload (a worker reads
 * the file once more, locally), or recorded by an earlier attempt.
 */
async function uploadSegments(
  ctx: RunContext,
  store: ObjectStoreClient,
  relay: RelayRecord,
  source: SourceIdentity,
): Promise<Digests> {
  const { repo, job } = ctx;
  const t = repo.getTarget(ctx.target.id);
  const confirmed = repo.relays.confirmed(t.id);
  const at = confirmed.reduce((n, s) => n + s.size, 0);
  if (at > 0)
    repo.note('target.resumed_at_byte', t, {
      offset: at,
      size: source.size,
      via: 'relay',
      segments: `${confirmed.length} of ${segmentsOf(source.size, relay.segmentSize).length}`,
    });
  const known = job.sha512 !== null && job.md5 !== null;
  const hashing = known ? undefined : HashedRead.start(source.path, source.size, { from: source.size });
  let digests: Digests | undefined;
  try {
    await sendSegments({
      store,
      relay,
      path: source.path,
      size: source.size,
      buckets: ctx.buckets,
      signal: ctx.signal,
      parallel: repo.relays.options().parallel,
      confirmed,
      onConfirmed: (s) => repo.relays.confirm(t.id, s),
      onBytes: ctx.onProgress,
    });
    digests = hashing !== undefined ? await hashing.digests() : await knownOrHashed(job, source);
    return digests;
  } finally {
    // A failed or paused upload does not wait for the rest of the file to be hashed.
    await (digests === undefined ? hashing?.abort() : hashing?.dispose());
  }
}

/** The manifest, once every segment is confirmed; segments Swift lacks are sent again first. */
async function writeManifest(
  ctx: RunContext,
  store: ObjectStoreClient,
  relay: RelayRecord,
  source: SourceIdentity,
): Promise<void> {
  const { repo } = ctx;
  if ((repo.relays.get(relay.targetId)?.manifestAt ?? null) !== null) return;
  for (let round = 1; ; round++) {
    const bad = await store.putSloManifest(
      relay.container,
      manifestName(relay),
      manifestOf(relay, repo.relays.confirmed(relay.targetId)),
    );
    if (bad.length === 0) break;
    const idx = bad.map((name) => Number(/\/seg\/(\d+)$/.exec(name)?.[1] ?? NaN)).filter(Number.isFinite);
    if (round > 1 || idx.length === 0)
      throw new EngineError('objectstore.http', `The object store refused the manifest: ${bad.join(', ')}.`, {
        hint: 'Its segments are sent again on the next attempt.',
      });
    repo.note('target.relay_segments_lost', repo.getTarget(relay.targetId), { segments: idx });
    for (const i of idx) repo.relays.unconfirm(relay.targetId, i);
    await uploadSegments(ctx, store, relay, source);
  }
  repo.relays.markManifest(relay.targetId);
}

/** Glance puts an image whose import failed back to `queued`; anything else ends the relay. */
async function waitQueued(glance: GlanceClient, id: string, signal: AbortSignal): Promise<void> {
  let status = '';
  for (let i = 0; i < 60; i++) {
    status = (await glance.getImage(id)).status;
    if (status === 'queued') return;
    await sleep(1000, undefined, { signal });
  }
  throw new EngineError('glance.import_failed', `Image ${id} is ${status}, not queued, after its import failed.`, {
    hint: 'It cannot take another import: it is deleted, and made again on the next attempt.',
  });
}

/** web-download of the manifest's TempURL into the image, followed to the end. */
async function importFromRelay(
  ctx: RunContext,
  glance: GlanceClient,
  store: ObjectStoreClient,
  relay: RelayRecord,
  imageId: string,
  size: number,
): Promise<GlanceImage> {
  const { repo } = ctx;
  const t = repo.getTarget(ctx.target.id);
  const { allowAccountKey } = repo.relays.options();
  for (let round = 1; ; round++) {
    const object = manifestName(relay);
    const ttlS = relayUrlTtlS(size, round);
    const { url, key } = await workingRelayUrl(store, { container: relay.container, object, allowAccountKey, ttlS });
    repo.note('target.import_requested', t, {
      imageId,
      method: 'relay',
      via: 'web-download',
      url: redactTempUrl(url),
      key,
      validForS: Math.round(ttlS),
      round,
    });
    // A failed import (this attempt's or an earlier one's) leaves its stores in
    // os_glance_failed_import, and its failed task: only this import's own task decides.
    const before = {
      failedStores: list((await glance.getImage(imageId)).os_glance_failed_import),
      taskIds: (await glance.imageTasks(imageId)).map((x) => x.id),
    };
    const started = Date.now();
    await importImage(glance, imageId, {
      method: { name: 'web-download', uri: url },
      ...(t.store ? { stores: [t.store] } : {}),
    }).catch((e: unknown) => {
      throw urlFilteredError(e, store.origin);
    });
    try {
      return await followImport(ctx, glance, imageId, started, {
        ...(t.store ? { until: inStores([t.store]) } : {}),
        before,
      });
    } catch (raw) {
      const e = withoutSignature(raw); // a task's message may quote the URL
      if (!(e instanceof EngineError && e.code === 'glance.import_failed') || round >= IMPORT_ROUNDS) throw e;
      // An expired or refused URL, a cut while Glance fetched: once more, with a new URL.
      const urlStatus = await store.probe(url).catch(() => 0);
      repo.note('target.relay_import_retried', t, { imageId, reason: e.message, urlStatus });
      await waitQueued(glance, imageId, ctx.signal);
    }
  }
}

export async function runRelayUpload(ctx: RunContext): Promise<TargetRecord> {
  const { repo, job } = ctx;
  const source = sourceOf(job);
  await assertUnchanged(source);
  let t = repo.transition(ctx.target.id, 'inspecting', { newAttempt: true });
  const inspection = await inspectBeforeSending(ctx, source.path);
  const glance = await ctx.engine.glance(t.cloud, t.region);
  const store = await ctx.engine.objectStore(t.cloud, t.region);
  await assertRelayOffered(glance, t);
  if (job.onDuplicate === 'reuse' && repo.getTarget(t.id).remoteImageId === null) {
    const adopted = await adoptDuplicate(ctx, glance, source);
    if (adopted !== undefined) return adopted;
  }
  t = repo.transition(t.id, 'creating');
  const image = await ensureImage(ctx, glance, inspection, shrinkFields(t));
  // A shrinking relay sends the job's compressed copy (shrink.ts); web-download converts it too.
  const send = await copyToSend(ctx, source, inspection, image);
  const sending = send?.identity ?? source;
  let digests: Digests | undefined;
  if (image.status === 'queued') {
    const relay = await prepareRelay(ctx, store, sending.size);
    t = repo.transition(t.id, 'uploading');
    digests = await uploadSegments(ctx, store, relay, sending);
    await assertUnchanged(sending); // changed while it was read: never import it
    // A later attempt (the import failed, a crash) does not hash again.
    if (send === undefined) repo.setHashes(job.id, digests);
    await writeManifest(ctx, store, relay, sending);
    repo.transition(t.id, 'importing');
    await importFromRelay(ctx, glance, store, relay, image.id, sending.size);
  }
  const done = await settleFileTarget(
    ctx,
    glance,
    image,
    source,
    digests,
    () => releaseRelay(ctx.engine, repo, repo.getTarget(ctx.target.id)),
    send,
  );
  if (send !== undefined) releaseShrunk(repo, job.id);
  return done;
}
