import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Engine } from '../clouds/engine';
import { EngineError } from '../io/errors';
import { identify } from '../io/source-file';
import { inspectFile } from '../inspect/inspect';
import { openDatabase } from '../queue/database';
import { JobRepository, type TargetRecord } from '../queue/job-repository';
import { fileDigestsUnderWay, shrunkSource } from './shrink';
import type { RunContext } from './upload-runner';

const MiB = 1024 * 1024;
let dir: string;
let repo: JobRepository;
let close: () => void;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'gu-shrink-'));
  const db = openDatabase(join(dir, 'q.sqlite3'));
  repo = new JobRepository(db, 'test');
  close = () => db.close();
});
afterEach(() => {
  close();
  rmSync(dir, { recursive: true, force: true });
});

/** A job of a 64 MiB sparse raw (8 MiB of data) with two targets that shrink, and a context per target. */
async function twoTargets(): Promise<{
  path: string;
  ctx: (t: TargetRecord, signal: AbortSignal) => RunContext;
  targets: TargetRecord[];
}> {
  const path = join(dir, 'disk.raw');
  writeFileSync(path, '');
  truncateSync(path, 64 * MiB);
  execFileSync('dd', ['if=/dev/urandom', `of=${path}`, 'bs=1M', 'count=8', 'seek=20', 'conv=notrunc', 'status=none']);
  const id = await identify(path);
  const { job, targets } = repo.createJob({
    source: { kind: 'file', path, size: id.size, mtimeMs: id.mtimeMs, ino: id.ino, dev: id.dev },
    name: 'disk',
    metadata: { disk_format: 'raw', container_format: 'bare' },
    targets: ['R1', 'R2'].map((region) => ({ cloud: 'c', region, method: 'glance-direct', sendFormat: 'qcow2' })),
  });
  const engine = { cacheDir: join(dir, 'cache') } as Engine;
  const ctx = (target: TargetRecord, signal: AbortSignal): RunContext => ({
    repo,
    engine,
    job,
    target,
    signal,
    buckets: [],
  });
  return { path, ctx, targets };
}

describe('the compressed copy a job shares between its targets', () => {
  // Fails when the conversion runs on the first target's signal (tried by hand: pausing R1
  // rejected R2 with transfer.aborted, which would fail it for good).
  it('goes on for the other targets when one of them is paused or canceled', async () => {
    const { path, ctx, targets } = await twoTargets();
    const [a, b] = targets as [TargetRecord, TargetRecord];
    const inspection = await inspectFile(path);
    const stopA = new AbortController();
    const first = shrunkSource(ctx(a, stopA.signal), await identify(path), inspection);
    const second = shrunkSource(ctx(b, new AbortController().signal), await identify(path), inspection);
    stopA.abort();
    await expect(first).rejects.toMatchObject({ info: { code: 'transfer.aborted' } });
    const { copy } = await second;
    expect(existsSync(copy.path)).toBe(true);
    expect(copy.size).toBeLessThan(10 * MiB);
    expect(
      execFileSync('qemu-img', ['compare', '-f', 'raw', '-F', 'qcow2', path, copy.path], { encoding: 'utf8' }),
    ).toContain('Images are identical.');
    // The job's digests are the raw file's, read beside the conversion and the upload.
    await fileDigestsUnderWay(a.jobId);
    expect(repo.getJob(a.jobId).sha512).toMatch(/^[0-9a-f]{128}$/);
    expect(repo.getJob(a.jobId).sha512).not.toBe(copy.sha512);
  });

  // Fails when a new copy keeps the relay segments of the copy before it (forgetSegments not
  // called in makeCopy): the manifest would join pieces of two different files.
  it('makes a relay send every segment again when the copy is made anew', async () => {
    const { path, ctx, targets } = await twoTargets();
    const a = targets[0] as TargetRecord;
    repo.relays.ensure(a.id, 'glance-uploader-relay', 4 * MiB);
    repo.relays.confirm(a.id, { idx: 0, size: 4 * MiB, md5: 'a'.repeat(32) });
    repo.relays.markManifest(a.id);
    const { copy } = await shrunkSource(
      ctx(a, new AbortController().signal),
      await identify(path),
      await inspectFile(path),
    );
    expect(existsSync(copy.path)).toBe(true);
    expect(repo.relays.confirmed(a.id)).toEqual([]);
    expect(repo.relays.get(a.id)?.manifestAt ?? null).toBeNull();
  });

  // Fails when digests an earlier attempt recorded are trusted without reading the file again.
  it('refuses a file whose bytes are not the ones an earlier attempt read', async () => {
    const { path, ctx, targets } = await twoTargets();
    repo.setHashes(targets[0]?.jobId ?? '', { md5: '0'.repeat(32), sha512: '0'.repeat(128) });
    const job = repo.getJob(targets[0]?.jobId ?? '');
    await shrunkSource(
      { ...ctx(targets[0] as TargetRecord, new AbortController().signal), job },
      await identify(path),
      await inspectFile(path),
    );
    // Read beside the upload: the verification, which waits for them, fails the target.
    const err = await fileDigestsUnderWay(job.id)?.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EngineError);
    expect((err as EngineError).code).toBe('source.changed');
  });
});
