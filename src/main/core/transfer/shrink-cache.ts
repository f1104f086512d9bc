/**
 * The compressed copies of raw files that shrinking targets send (`<data folder>/cache/shrink`):
 * one per job, `<job id>.qcow2`, written as `<job id>.qcow2.part` by qemu-img and renamed once
 * complete and hashed. Space is checked before a conversion starts (the copy is at most the
 * file's data plus qcow2's tables); a copy goes when its job has no target left to send it, and
 * a start sweeps whatever a crash left (a `.part`, with the qemu-img still writing it stopped).
 */
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { shrinkDir } from '../io/cache-space';
import { stopOrphan } from '../io/qemu-img';
import { unpackedDir } from '../io/unpacked-copies';
import type { JobRepository } from '../queue/job-repository';

/** The job's copy, once no target of it still has to send it: the file and its row. */
export function releaseShrunk(repo: JobRepository, jobId: string): void {
  const copy = repo.shrunk.all().find((s) => s.jobId === jobId);
  if (copy === undefined || copy.live) return;
  rmSync(copy.path, { force: true });
  repo.shrunk.drop(jobId);
  repo.audit.jobEvent('job.shrunk_removed', jobId, { path: copy.path, size: copy.size });
}

/**
 * At a start: copies whose job ended, and what a crash left (a `.part`, and the qemu-img that
 * was writing it; a copy without its row). Copies live jobs still need are kept.
 */
export function sweepShrinkCache(repo: JobRepository, cacheDir: string): number {
  const dir = shrinkDir(cacheDir);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return 0;
  }
  const rows = repo.shrunk.all();
  for (const r of rows) if (!r.live) releaseShrunk(repo, r.jobId);
  const kept = new Set(rows.filter((r) => r.live).map((r) => r.path));
  let removed = 0;
  for (const name of names) {
    const path = join(dir, name);
    if (kept.has(path)) continue;
    try {
      // A PID file whose `.part` is gone (or not made yet): its qemu-img, if still ours, is stopped.
      if (name.endsWith('.pid')) {
        if (!names.includes(name.slice(0, -'.pid'.length))) stopOrphan(path.slice(0, -'.pid'.length));
        continue;
      }
      const stopped = name.endsWith('.part') && stopOrphan(path);
      rmSync(path, { force: true });
      removed += 1;
      // In the job's log (when it is still queued): what a crash left, and that it is gone.
      const jobId = name.replace(/\.qcow2(\.part)?$/, '');
      if (repo.hasJob(jobId)) repo.audit.jobEvent('job.shrink_swept', jobId, { path, stoppedQemuImg: stopped });
    } catch {
      // held open elsewhere (Windows): the next start tries again; the other leftovers go on
    }
  }
  return removed;
}

/**
 * At a start: the unpacked raw files of packed staged images (io/unpacked-copies.ts) that no
 * job in the queue still needs: its job gone, or every target of it done or canceled. A failed
 * sync keeps its file: `queue retry` sends it again.
 */
export function sweepUnpacked(repo: JobRepository, cacheDir: string): number {
  const dir = unpackedDir(cacheDir);
  if (!existsSync(dir)) return 0;
  const needed = new Set(
    repo
      .listJobs()
      .filter((j) => repo.targetsOf(j.id).some((t) => t.state !== 'done' && t.state !== 'canceled'))
      .map((j) => j.sourcePath),
  );
  let removed = 0;
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (needed.has(path)) continue;
    rmSync(path, { force: true });
    removed++;
  }
  return removed;
}
