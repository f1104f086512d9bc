import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from './database';
import { JobRepository } from './job-repository';
import { SAMPLES_KEPT_MS } from './progress-samples';
import { jobSpeed, queueSpeed } from './queue-speed';

const MiB = 1024 * 1024;
let dir: string;
let db: Db;
let repo: JobRepository;
let clock: number;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'gu-speed-'));
  db = openDatabase(join(dir, 'q.sqlite3'));
  clock = Date.UTC(2026, 11, 4, 12);
  repo = new JobRepository(db, 'test', () => clock);
});
afterEach(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

function job(name: string, size: number, regions: string[]): string[] {
  const { targets } = repo.createJob({
    source: { kind: 'file', path: `/images/${name}.raw`, size, mtimeMs: 1, ino: 1, dev: 1 },
    name,
    metadata: { disk_format: 'raw', container_format: 'bare' },
    targets: regions.map((region) => ({ cloud: 'c', region })),
  });
  return targets.map((t) => t.id);
}

/** What the scheduler writes on progress: the target's count and a speed sample. */
function progress(targetId: string, bytes: number): void {
  repo.setProgress(targetId, bytes);
  repo.samples.add(targetId, bytes);
}

/** The scheduler's progress writes: one a second, `perSecond` bytes more each. */
function send(targetId: string, seconds: number, perSecond: number, from = 0): void {
  for (let s = 1; s <= seconds; s++) {
    clock += 1000;
    progress(targetId, from + s * perSecond);
  }
}

describe('queue speed', () => {
  it('gives each job and the queue their rate and the ETA of what the open targets still send', () => {
    const [a1, a2] = job('a', 100 * MiB, ['R1', 'R2']);
    const [b1] = job('b', 50 * MiB, ['R1']);
    progress(a1!, 0);
    progress(a2!, 0);
    for (let s = 1; s <= 20; s++) {
      clock += 1000;
      progress(a1!, s * MiB);
      progress(a2!, s * 2 * MiB);
    }
    const a = jobSpeed(repo, repo.getTarget(a1!).jobId, clock);
    expect(a.rate).toBeCloseTo(3 * MiB, -3);
    // Left: 80 MiB in R1, 60 MiB in R2, at 3 MiB/s.
    expect(a.remaining).toBe(140 * MiB);
    expect(a.etaMs! / 1000).toBeCloseTo(140 / 3, 0);
    const q = queueSpeed(repo, clock);
    expect(q.queue.remaining).toBe(140 * MiB + 50 * MiB);
    expect(q.jobs.map((j) => j.jobId).sort()).toEqual([repo.getTarget(a1!).jobId, repo.getTarget(b1!).jobId].sort());
    expect(q.jobs.find((j) => j.jobId === repo.getTarget(b1!).jobId)?.speed.rate).toBe(0);
  });

  it('forgets samples after half an hour', () => {
    const [t] = job('c', 10 * MiB, ['R1']);
    send(t!, 5, MiB);
    clock += SAMPLES_KEPT_MS + 61_000;
    progress(t!, 6 * MiB); // a write a minute later prunes what is older than the half hour
    expect(repo.samples.since(0).get(t!)?.samples).toEqual([{ at: clock, bytes: 6 * MiB }]);
  });
});
