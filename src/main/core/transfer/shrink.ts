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
import type { ShrunkFile } from '../queue/shrunk-files';
import { assertCacheFits, shrinkDir, shrinkPath } from '../io/cache-space';
import type { RunContext } from './upload-runner';

/** Copies being made now in this process, by job: two targets of a job wait for the same one. */
const making = new Map<string, Promise<ShrunkFile>>();

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
 * The job's compressed copy: the one recorded when it is still whole, else made now. `hashFile`
 * gives the raw file's digests (known, or read beside the conversion).
 */
export async function shrunkSource(
  ctx: RunContext,
  source: SourceIdentity,
  inspection: Inspection,
  fileDigests: () => Promise<Digests>,
): Promise<ShrinkSend> {
  const { repo, job } = ctx;
  const known = repo.shrunk.get(job.id);
  if (known !== undefined && existsSync(known.path) && statSync(known.path).size === known.size)
    return { copy: known, identity: await identityOf(known) };
  let pending = making.get(job.id);
  if (pending === undefined) {
    pending = makeCopy(ctx, source, inspection, fileDigests).finally(() => making.delete(job.id));
    making.set(job.id, pending);
  } else repo.transition(ctx.target.id, 'shrinking');
  const copy = await pending;
  return { copy, identity: await identityOf(copy) };
}

async function makeCopy(
  ctx: RunContext,
  source: SourceIdentity,
  inspection: Inspection,
  fileDigests: () => Promise<Digests>,
): Promise<ShrunkFile> {
  const { repo, job, engine } = ctx;
  const t = repo.transition(ctx.target.id, 'shrinking');
  const path = shrinkPath(engine.cacheDir, job.id);
  const need = qcow2Bound(source.size, inspection.allocatedSize ?? source.size);
  await assertCacheFits(shrinkDir(engine.cacheDir), need, job.name, repo.settings.get('shrinkCacheGiB'));
  const part = `${path}.part`;
  rmSync(part, { force: true });
  const started = Date.now();
  repo.note('target.shrinking', t, { path, bound: need, allocated: inspection.allocatedSize, size: source.size });
  // The file's own digests beside the conversion (both read it; the page cache serves the second).
  const [digestsOfFile] = await Promise.all([
    fileDigests(),
    compressToQcow2(source.path, 'raw', part, { signal: ctx.signal, pidFile: `${part}.pid` }),
  ]);
  await assertUnchanged(source); // changed while it was read: neither the copy nor the digests hold
  repo.setHashes(job.id, digestsOfFile);
  const size = statSync(part).size;
  const digests = await hashFile(part, size);
  renameSync(part, path);
  const copy = repo.shrunk.record({ jobId: job.id, path, format: 'qcow2', size, ...digests });
  repo.note('target.shrunk', repo.getTarget(t.id), {
    format: 'qcow2',
    size,
    from: source.size,
    saved: source.size - size,
    seconds: Math.round((Date.now() - started) / 100) / 10,
  });
  return copy;
}
