import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from './database';
import { JobRepository, type NewJob } from './job-repository';
import { codeOf } from '../../../../test/support/engine-error';

let dir: string;
let db: Db;
let repo: JobRepository;
let clock: number;

const fileJob = (
  name: string,
  targets: NewJob['targets'] = [
    { cloud: 'prod', region: 'RegionOne' },
    { cloud: 'prod', region: 'RegionTwo' },
  ],
): NewJob => ({
  source: { kind: 'file', path: `/images/${name}.qcow2`, size: 1234, mtimeMs: 1_700_000_000_000, ino: 42, dev: 7 },
  name,
  metadata: { disk_format: 'qcow2', container_format: 'bare' },
  targets,
});

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'gu-repo-'));
  db = openDatabase(join(dir, 'q.sqlite3'));
  clock = 1_000;
  repo = new JobRepository(db, 'test', () => clock++);
});
afterEach(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('jobs', () => {
  it('creates a job with its targets pending, and audits both', () => {
    const { job, targets } = repo.createJob(fileJob('ubuntu'));
    expect(job).toMatchObject({
      name: 'ubuntu',
      sourceKind: 'file',
      sourcePath: '/images/ubuntu.qcow2',
      sourceSize: 1234,
      sourceIno: 42,
      metadata: { disk_format: 'qcow2' },
      position: 1,
    });
    expect(targets.map((t) => [t.region, t.state, t.attempt])).toEqual([
      ['RegionOne', 'pending', 0],
      ['RegionTwo', 'pending', 0],
    ]);
    expect(repo.events({ jobId: job.id }).map((e) => e.kind)).toEqual([
      'job.created',
      'target.created',
      'target.created',
    ]);
  });

  it('refuses a job without targets or with a target twice', () => {
    expect(codeOf(() => repo.createJob(fileJob('x', [])))).toBe('queue.invalid_job');
    expect(
      codeOf(() =>
        repo.createJob(
          fileJob('x', [
            { cloud: 'a', region: 'r' },
            { cloud: 'a', region: 'r' },
          ]),
        ),
      ),
    ).toBe('queue.invalid_job');
    expect(repo.listJobs()).toEqual([]);
  });

  it('orders by priority, then position; moves a job before another', () => {
    const a = repo.createJob(fileJob('a')).job;
    const b = repo.createJob(fileJob('b')).job;
    const c = repo.createJob(fileJob('c')).job;
    expect(repo.listJobs().map((j) => j.name)).toEqual(['a', 'b', 'c']);
    repo.setPriority(c.id, 5);
    expect(repo.listJobs().map((j) => j.name)).toEqual(['c', 'a', 'b']);
    repo.moveBefore(b.id, a.id);
    expect(repo.listJobs().map((j) => j.name)).toEqual(['c', 'b', 'a']);
    expect(codeOf(() => repo.setPriority('nope', 1))).toBe('queue.not_found');
  });

  // Fails if a prefix were used as a LIKE pattern as typed ('%' or '_' would match other ids).
  it('finds jobs and targets by the start of their id, and nothing for what no id can contain', () => {
    const { job, targets } = repo.createJob(fileJob('a'));
    const t = targets[0];
    expect(repo.findByIdPrefix(job.id.slice(0, 8)).jobs.map((j) => j.id)).toEqual([job.id]);
    expect(repo.findByIdPrefix(t?.id ?? '').targets.map((x) => x.id)).toEqual([t?.id]);
    expect(repo.findByIdPrefix('%')).toEqual({ jobs: [], targets: [] });
    expect(repo.findByIdPrefix('____')).toEqual({ jobs: [], targets: [] });
  });
});

describe('transitions', () => {
  it('records every step of a target with its audit event, before the work', () => {
    const { targets } = repo.createJob(fileJob('u'));
    const t = targets[0];
    if (t === undefined) throw new Error('no target');
    repo.transition(t.id, 'creating', { newAttempt: true });
    repo.setRemoteImageId(t.id, 'img-1');
    for (const s of ['uploading', 'verifying', 'done'] as const) repo.transition(t.id, s);
    const done = repo.getTarget(t.id);
    expect(done).toMatchObject({ state: 'done', attempt: 1, remoteImageId: 'img-1', error: null });
    const trail = repo.events({ jobId: t.jobId }).filter((e) => e.targetId === t.id);
    expect(trail.map((e) => `${e.kind}:${e.fromState ?? ''}>${e.toState ?? ''}`)).toEqual([
      'target.created:>pending',
      'target.transition:pending>creating',
      'target.image:creating>creating',
      'target.transition:creating>uploading',
      'target.transition:uploading>verifying',
      'target.transition:verifying>done',
    ]);
    expect(trail.every((e) => e.actor === 'test' && e.region === 'RegionOne')).toBe(true);
    expect(trail.at(-1)?.imageId).toBe('img-1');
  });

  it('refuses moves outside the state machine and leaves the row as it was', () => {
    const t = repo.createJob(fileJob('u')).targets[0];
    if (t === undefined) throw new Error('no target');
    expect(codeOf(() => repo.transition(t.id, 'done'))).toBe('queue.invalid_transition');
    expect(codeOf(() => repo.transition(t.id, 'uploading', { from: ['creating'] }))).toBe('queue.invalid_transition');
    expect(repo.getTarget(t.id).state).toBe('pending');
    expect(repo.events({ jobId: t.jobId }).filter((e) => e.kind === 'target.transition')).toHaveLength(0);
  });

  it('keeps the error and next attempt of a retry, and clears them when work resumes', () => {
    const t = repo.createJob(fileJob('u')).targets[0];
    if (t === undefined) throw new Error('no target');
    repo.transition(t.id, 'uploading', { newAttempt: true });
    repo.setProgress(t.id, 500);
    const err = { code: 'net.unreachable' as const, message: 'reset', hint: 'retrying' };
    const r = repo.transition(t.id, 'retrying', { error: err, nextAttemptAt: 9_999 });
    expect(r).toMatchObject({ state: 'retrying', nextAttemptAt: 9_999, error: err, bytesAccepted: 500 });
    const again = repo.transition(t.id, 'uploading', { newAttempt: true });
    expect(again).toMatchObject({ state: 'uploading', attempt: 2, nextAttemptAt: null, error: null });
    expect(repo.events({ jobId: t.jobId }).find((e) => e.kind === 'target.error')?.detail).toMatchObject({
      error: err,
      nextAttemptAt: 9_999,
    });
  });

  it('pauses with the phase it was in, and a user retry of a failed target starts over', () => {
    const t = repo.createJob(fileJob('u')).targets[0];
    if (t === undefined) throw new Error('no target');
    repo.transition(t.id, 'uploading', { newAttempt: true });
    expect(repo.transition(t.id, 'paused')).toMatchObject({ state: 'paused', pausedFrom: 'uploading' });
    repo.transition(t.id, 'uploading');
    repo.setProgress(t.id, 700);
    repo.transition(t.id, 'failed', { error: { code: 'glance.over_limit', message: 'quota' } });
    expect(repo.getTarget(t.id)).toMatchObject({ state: 'failed', error: { code: 'glance.over_limit' } });
    expect(repo.transition(t.id, 'pending')).toMatchObject({
      state: 'pending',
      attempt: 0,
      bytesAccepted: 0,
      error: null,
    });
  });

  it('lists targets by state in queue order', () => {
    const a = repo.createJob(fileJob('a', [{ cloud: 'c', region: 'r' }])).targets[0];
    const b = repo.createJob(fileJob('b', [{ cloud: 'c', region: 'r' }])).targets[0];
    if (a === undefined || b === undefined) throw new Error('no target');
    repo.setPriority(b.jobId, 1);
    expect(repo.targetsIn(['pending']).map((t) => t.id)).toEqual([b.id, a.id]);
  });
});

describe('removal and durability', () => {
  it('removes only finished jobs; the audit log keeps their history', () => {
    const { job, targets } = repo.createJob(fileJob('r', [{ cloud: 'c', region: 'r' }]));
    expect(codeOf(() => repo.removeJob(job.id))).toBe('queue.invalid_transition');
    repo.transition(targets[0]?.id ?? '', 'canceled');
    repo.removeJob(job.id);
    expect(repo.listJobs()).toEqual([]);
    expect(db.prepare('SELECT COUNT(*) AS n FROM targets').get()).toEqual({ n: 0 });
    expect(repo.events({ jobId: job.id }).map((e) => e.kind)).toContain('job.removed');
  });

  it('finds every state again after the database is closed and reopened', () => {
    const { targets } = repo.createJob(fileJob('d'));
    repo.transition(targets[0]?.id ?? '', 'uploading', { newAttempt: true });
    repo.setRemoteImageId(targets[0]?.id ?? '', 'img-9');
    db.close();
    db = openDatabase(join(dir, 'q.sqlite3'));
    repo = new JobRepository(db, 'test');
    expect(repo.getTarget(targets[0]?.id ?? '')).toMatchObject({
      state: 'uploading',
      remoteImageId: 'img-9',
      attempt: 1,
    });
  });
});

describe('attempts and the retry budget', () => {
  // Fails when: a recovery or a pause counts as an attempt again (the crash loop that used up
  // a job's retries), or the budget's clock keeps running while no engine ran.
  it('an interrupted try is continued by the next start: no new attempt, logged apart, downtime given back', () => {
    const [t] = repo.createJob(fileJob('crashy', [{ cloud: 'prod', region: 'RegionOne' }])).targets;
    const id = t!.id;
    repo.transition(id, 'hashing', { newAttempt: true });
    expect(repo.getTarget(id).attempt).toBe(1);
    // A transient failure starts the budget's clock.
    const err = { code: 'glance.unavailable' as const, message: 'HTTP 503' };
    const failedAt = clock;
    repo.transition(id, 'retrying', { error: err, nextAttemptAt: clock });
    expect(repo.getTarget(id)).toMatchObject({ failingSince: failedAt, interrupted: false });
    expect(repo.previousFailure(id)).toMatchObject({ code: 'glance.unavailable' });
    for (let crash = 0; crash < 30; crash++) {
      repo.transition(id, 'hashing', { newAttempt: true });
      repo.transition(id, 'uploading');
      repo.transition(id, 'retrying', { interrupted: { downtimeMs: 60_000 }, detail: { recovered: true } });
    }
    // One more try than the failure: attempt 2, on and on through 30 crashes.
    expect(repo.getTarget(id)).toMatchObject({ attempt: 2, interrupted: true, failingSince: failedAt + 30 * 60_000 });
    expect(repo.events({ jobId: t!.jobId }).filter((e) => e.kind === 'target.interrupted')).toHaveLength(30);
    expect(repo.events({ jobId: t!.jobId }).filter((e) => e.kind === 'target.error')).toHaveLength(1);
    // A pause of a working try is an interruption too.
    repo.transition(id, 'hashing', { newAttempt: true });
    repo.transition(id, 'paused', { interrupted: {} });
    repo.transition(id, 'pending');
    repo.transition(id, 'hashing', { newAttempt: true });
    expect(repo.getTarget(id).attempt).toBe(2);
    // Done stops the clock; the user's retry of a failed target starts from zero.
    repo.transition(id, 'uploading');
    repo.transition(id, 'failed', { error: { code: 'glance.over_limit', message: 'HTTP 413' } });
    repo.transition(id, 'pending');
    expect(repo.getTarget(id)).toMatchObject({ attempt: 0, interrupted: false, failingSince: null });
    expect(repo.previousFailure(id)).toBeNull();
  });
});
