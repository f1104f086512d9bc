/**
 * Shrink: a raw file sent as a compressed qcow2 (only its data crosses the wire). The copy is
 * made once per job in the cache (shrink-cache.ts), with the space checked first, while the raw
 * file itself is hashed beside it (a region that converts the copy back to raw must store exactly
 * the file: Glance hashes what it stores). What the image must then equal: stored-image.ts.
 */
import { existsSync, renameSync, rmSync, statSync } from 'node:fs';
import type { Digests } from '../io/hasher';
import { hashFile } from '../io/hashed-read';
import { compressToQcow2, qcow2Bound } from '../io/qemu-img';
import { assertUnchanged, identify, type SourceIdentity } from '../io/source-file';
import { EngineError } from '../io/errors';
import type { Inspection } from '../inspect/types';
import { dataOf } from '../inspect/inspect';
import type { ShrunkFile } from '../queue/shrunk-files';
import { assertCacheFits, shrinkDir, shrinkPath } from '../io/cache-space';
import type { GlanceImage } from '../openstack/glance-types';
import type { JobRecord, JobRepository } from '../queue/job-repository';
import type { RunContext } from './upload-runner';

/**
 * Copies being made now in this process, by job: every target of the job that shrinks waits for
 * the same one. The conversion stops only when every target waiting for it stopped (a pause or a
 * cancel of one target must not fail the others), and its room in the cache is reserved until it
 * ends, so two conversions at once cannot both count the same free space.
 */
interface Making {
  copy: Promise<ShrunkFile>;
  stop: AbortController;
  waiting: number;
  need: number;
}
const making = new Map<string, Making>();
const reserved = (): number => [...making.values()].reduce((n, m) => n + m.need, 0);

/** Resolves with the copy, or rejects as soon as this target is stopped (the others go on). */
function waitFor(m: Making, signal: AbortSignal): Promise<ShrunkFile> {
  m.waiting += 1;
  const stopped = new Promise<never>((_, reject) => {
    const onAbort = (): void => {
      m.waiting -= 1;
      if (m.waiting === 0) m.stop.abort();
      reject(
        new EngineError('transfer.aborted', 'Stopped while the compressed copy was made.', { hint: 'It goes on.' }),
      );
    };
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    void m.copy.finally(() => signal.removeEventListener('abort', onAbort)).catch(() => undefined);
  });
  return Promise.race([m.copy, stopped]);
}

/** What the target sends instead of the file: the copy, as a source, with its digests. */
export interface ShrinkSend {
  copy: ShrunkFile;
  identity: SourceIdentity;
}

async function identityOf(copy: ShrunkFile): Promise<SourceIdentity> {
  const now = await identify(copy.path);
  if (now.size !== copy.size)
    throw new EngineError('shrink.failed', `The compressed copy ${copy.path} is not the size it was made at.`, {
      hint: 'It is made again.',
    });
  return now;
}

/**
 * The job's compressed copy: the one recorded when it is still whole, else made now (once for
 * all the job's targets in this process).
 */
export async function shrunkSource(
  ctx: RunContext,
  source: SourceIdentity,
  inspection: Inspection,
): Promise<ShrinkSend> {
  const { repo, job } = ctx;
  const known = recordedCopy(ctx);
  if (known !== undefined && known.identity.size === known.copy.size) return known;
  repo.transition(ctx.target.id, 'shrinking');
  let m = making.get(job.id);
  if (m === undefined) {
    const need = qcow2Bound(source.size, dataOf(inspection) ?? source.size);
    const stop = new AbortController();
    const started = makeCopy(ctx, source, need, stop.signal);
    m = { copy: started, stop, waiting: 0, need };
    making.set(job.id, m);
    void started.finally(() => making.delete(job.id)).catch(() => undefined);
  }
  const copy = await waitFor(m, ctx.signal);
  return { copy, identity: await identityOf(copy) };
}

/**
 * The raw file's digests, read beside the conversion and the upload (both read it; the page cache
 * serves the second): what Glance must store when it converts the copy back. Digests the job
 * already had must be these: a staged image's data file that rotted, or a file changed since,
 * is refused.
 */
function checkedDigests(job: JobRecord, read: Digests): Digests {
  if (job.sha512 === null || job.sha512 === read.sha512) return read;
  throw job.sourceKind === 'staged'
    ? new EngineError(
        'source.digest_mismatch',
        `The staged copy of "${job.name}" no longer has the sha512 it was staged with.`,
        {
          hint: 'Its data file in the local server changed or is damaged: stage the image again.',
        },
      )
    : new EngineError(
        'source.changed',
        `${job.sourcePath ?? job.name} no longer has the sha512 an earlier attempt read.`,
        {
          hint: 'An image must be the bytes that were checked: remove the job and queue the file again once it is final.',
        },
      );
}

/**
 * The raw file's digests being read by jobs whose copy is made or sent now: the upload does not
 * wait for them (they are needed only to verify what Glance stored), so on a fast link the copy
 * is on its way while the file is still being hashed.
 */
const reading = new Map<string, Promise<Digests>>();

/**
 * The raw file's digests for this job when they are being read (or failed to be: the failure is
 * reported once, to the verification, and the next attempt reads again), else undefined.
 */
export function fileDigestsUnderWay(jobId: string): Promise<Digests> | undefined {
  return reading.get(jobId)?.catch((e: unknown) => {
    reading.delete(jobId);
    throw e;
  });
}

function readFileDigests(repo: JobRepository, jobId: string, source: SourceIdentity): void {
  const read = (async (): Promise<Digests> => {
    const digests = checkedDigests(repo.getJob(jobId), await hashFile(source.path, source.size));
    await assertUnchanged(source); // changed while it was read: the digests do not hold
    repo.setHashes(jobId, digests);
    return digests;
  })();
  reading.set(jobId, read);
  // Once read they are the job's (in the database); a failure stays for the verification to report.
  read.then(
    () => {
      if (reading.get(jobId) === read) reading.delete(jobId);
    },
    () => undefined,
  );
}

async function makeCopy(
  ctx: RunContext,
  source: SourceIdentity,
  need: number,
  signal: AbortSignal,
): Promise<ShrunkFile> {
  const { repo, job, engine } = ctx;
  const path = shrinkPath(engine.cacheDir, job.id);
  const part = `${path}.part`;
  rmSync(part, { force: true }); // an earlier attempt's: not counted against the room
  const others = reserved() - need; // conversions under way in this process, this one excluded
  await assertCacheFits(shrinkDir(engine.cacheDir), need + others, job.name, repo.settings.get('shrinkCacheGiB'));
  const started = Date.now();
  repo.note('target.shrinking', repo.getTarget(ctx.target.id), { path, bound: need, size: source.size });
  readFileDigests(repo, job.id, source);
  await compressToQcow2(source.path, 'raw', part, { signal, pidFile: `${part}.pid` });
  await assertUnchanged(source); // changed while it was read: the copy does not hold
  const size = statSync(part).size;
  const digests = await hashFile(part, size);
  renameSync(part, path);
  const copy = repo.shrunk.record({ jobId: job.id, path, format: 'qcow2', size, ...digests });
  // A relay that sent segments of an earlier copy (removed since) must not mix them with this one's.
  for (const t of repo.targetsOf(job.id)) repo.relays.forgetSegments(t.id);
  repo.note('target.shrunk', repo.getTarget(ctx.target.id), {
    format: 'qcow2',
    size,
    from: source.size,
    saved: source.size - size,
    seconds: Math.round((Date.now() - started) / 100) / 10,
  });
  return copy;
}

/** The copy an earlier attempt made, when it is still there (a target resumed past its upload). */
export function recordedCopy(ctx: RunContext): ShrinkSend | undefined {
  const known = ctx.repo.shrunk.get(ctx.job.id);
  if (known === undefined || !existsSync(known.path)) return undefined;
  const st = statSync(known.path);
  return {
    copy: known,
    identity: { path: known.path, size: st.size, mtimeMs: Math.trunc(st.mtimeMs), ino: st.ino, dev: st.dev },
  };
}

/**
 * What a target sends: the file, or (shrink) the job's compressed copy, made only when the image
 * still needs its data; an image an earlier attempt filled is settled with the copy recorded then.
 */
export async function copyToSend(
  ctx: RunContext,
  source: SourceIdentity,
  inspection: Inspection,
  image: GlanceImage,
): Promise<ShrinkSend | undefined> {
  if (ctx.target.sendFormat === null) return undefined;
  return image.status === 'queued' ? shrunkSource(ctx, source, inspection) : recordedCopy(ctx);
}

/** The fields a shrinking target's image is created with: the copy's format, Glance checks it. */
export const shrinkFields = (t: { sendFormat: string | null }): { disk_format?: string } =>
  t.sendFormat !== null ? { disk_format: t.sendFormat } : {};
