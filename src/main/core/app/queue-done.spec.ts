import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { JobUpdate, QueueDoneSummary, WhenQueueDone } from '../../../shared/dto';
import type { TargetState } from '../../../shared/target-states';
import { openDatabase, type Db } from '../queue/database';
import { JobRepository } from '../queue/job-repository';
import { QueueDoneWatch, sleepCommand, type ActionRunner } from './queue-done';

let dir: string;
let db: Db;
let repo: JobRepository;
let ran: { file: string; args: string[]; shell: boolean; env: Record<string, string | undefined> }[];
let told: QueueDoneSummary[];
let when: WhenQueueDone;
let watch: QueueDoneWatch;
const runner: ActionRunner = async (file, args, o) => {
  ran.push({ file, args, ...o });
  return 0;
};

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'gu-done-'));
  db = openDatabase(join(dir, 'q.sqlite3'));
  repo = new JobRepository(db, 'test');
  ran = [];
  told = [];
  when = { action: 'notify' };
  watch = newWatch();
  watch.start();
});

/** A watch over the test's database that records what it tells and runs. */
function newWatch(): QueueDoneWatch {
  return new QueueDoneWatch({
    repo,
    when: () => when,
    onDone: (s) => told.push(s),
    idle: async () => undefined,
    run: runner,
    env: { PATH: '/bin' },
  });
}
afterEach(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

function job(regions: string[]): { jobId: string; ids: string[] } {
  const { job: j, targets } = repo.createJob({
    source: { kind: 'file', path: '/images/a.raw', size: 10, mtimeMs: 1, ino: 1, dev: 1 },
    name: 'a',
    metadata: { disk_format: 'raw', container_format: 'bare' },
    targets: regions.map((region) => ({ cloud: 'c', region })),
  });
  return { jobId: j.id, ids: targets.map((t) => t.id) };
}

/** The targets in these states, in the database and in the update the scheduler would send. */
function update(j: { jobId: string; ids: string[] }, states: TargetState[], seq: number): JobUpdate {
  j.ids.forEach((id, i) => db.prepare('UPDATE targets SET state = ? WHERE id = ?').run(states[i], id));
  return {
    jobId: j.jobId,
    seq,
    name: 'a',
    size: 10,
    sha512: null,
    targets: repo
      .targetsOf(j.jobId)
      .map((t) => ({ ...t, store: '', attempt: 1, error: null, verified: false }) as never),
  };
}

const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 20));

describe('the queue being done', () => {
  // Fails when "done" is read from the update alone (the repository check removed): the first
  // job's end would complete the queue while the second still uploads.
  it('is told once, when the last open target of the batch ends, with the counts', async () => {
    const a = job(['R1', 'R2']);
    const b = job(['R1']);
    watch.seen(update(a, ['uploading', 'uploading'], 1));
    watch.seen(update(b, ['uploading'], 1));
    watch.seen(update(a, ['done', 'failed'], 2));
    await settle();
    expect(told).toEqual([]); // b still uploads
    watch.seen(update(b, ['done'], 2));
    await settle();
    expect(told).toEqual([{ jobs: 2, done: 2, failed: 1, canceled: 0, action: { kind: 'notify', exitCode: null } }]);
    expect(repo.events().filter((e) => e.kind === 'queue.completed')).toHaveLength(1);
    watch.seen(update(b, ['done'], 3)); // a late repeat: nothing new ran
    await settle();
    expect(told).toHaveLength(1);
    expect(ran).toEqual([]);
    // A failure quicker than the coalesced updates: its first update is its end.
    const c = job(['R1']);
    watch.seen(update(c, ['failed'], 1));
    await settle();
    expect(told.at(-1)).toMatchObject({ jobs: 1, done: 0, failed: 1 });
  });

  it('is not done while a target is paused, nor when nothing ran', async () => {
    const a = job(['R1', 'R2']);
    watch.seen(update(a, ['pending', 'pending'], 1));
    watch.seen(update(a, ['canceled', 'canceled'], 2));
    await settle();
    expect(told).toEqual([]); // never ran here
    const b = job(['R1', 'R2']);
    watch.seen(update(b, ['uploading', 'uploading'], 1));
    watch.seen(update(b, ['done', 'paused'], 2));
    await settle();
    expect(told).toEqual([]);
  });

  it('runs the user’s command through the shell with the counts, and says its exit code', async () => {
    when = { action: 'command', command: 'notify-send "$GLANCE_UPLOADER_DONE"' };
    const a = job(['R1']);
    watch.seen(update(a, ['uploading'], 1));
    watch.seen(update(a, ['done'], 2));
    await settle();
    expect(ran).toEqual([
      {
        file: 'notify-send "$GLANCE_UPLOADER_DONE"',
        args: [],
        shell: true,
        env: {
          PATH: '/bin',
          GLANCE_UPLOADER_JOBS: '1',
          GLANCE_UPLOADER_DONE: '1',
          GLANCE_UPLOADER_FAILED: '0',
          GLANCE_UPLOADER_CANCELED: '0',
        },
      },
    ]);
    expect(told[0]?.action).toEqual({ kind: 'command', exitCode: 0 });
  });

  it('tells before it puts the computer to sleep, with the platform’s own command', async () => {
    when = { action: 'sleep' };
    const a = job(['R1']);
    watch.seen(update(a, ['uploading'], 1));
    watch.seen(update(a, ['done'], 2));
    await settle();
    expect(told).toHaveLength(1);
    expect(ran.map((r) => [r.file, ...r.args, r.shell])).toEqual([[...Object.values(sleepCommand()!).flat(), false]]);
    expect(sleepCommand('linux')).toEqual({ file: 'systemctl', args: ['suspend'] });
    expect(sleepCommand('darwin')).toEqual({ file: 'pmset', args: ['sleepnow'] });
    expect(sleepCommand('win32')?.file).toBe('rundll32.exe');
  });

  // Fails without start() reading the database: the old job's first update counts as work.
  it('is not done by an old job’s first update, nor by the user’s own cancel', async () => {
    const old = job(['R1', 'R2']);
    update(old, ['done', 'failed'], 1); // as the database holds them at the app's start
    watch = newWatch();
    watch.start();
    watch.seen(update(old, ['done', 'failed'], 2)); // an update of it, nothing changed (a flush at start)
    await settle();
    expect(told).toEqual([]);
    watch.seen(update(old, ['done', 'canceled'], 3)); // the user gives up on R2
    await settle();
    expect(told).toEqual([]);
    const a = job(['R1']);
    watch.seen(update(a, ['uploading'], 1));
    watch.seen(update(a, ['canceled'], 2)); // cancels the only running upload
    await settle();
    expect(told).toEqual([]);
  });

  it('waits for the scheduler to be idle, and is not done when work was queued meanwhile', async () => {
    let release: () => void = () => undefined;
    const idle = new Promise<void>((r) => (release = r));
    watch = new QueueDoneWatch({ repo, when: () => when, onDone: (s) => told.push(s), idle: () => idle, run: runner });
    watch.start();
    const a = job(['R1']);
    watch.seen(update(a, ['uploading'], 1));
    watch.seen(update(a, ['done'], 2));
    job(['R2']); // queued while the scheduler was still cleaning up
    release();
    await settle();
    expect(told).toEqual([]);
  });

  // Fails without the generation check: the first batch's completion, waiting on the cleanup,
  // acts too once the second batch ran to its end (two actions, the first with old counts).
  it('acts once when a second batch runs to its end while the first still waits on the cleanup', async () => {
    let release: () => void = () => undefined;
    let idle = new Promise<void>((r) => (release = r));
    const calls: number[] = [];
    watch = new QueueDoneWatch({
      repo,
      when: () => when,
      onDone: (s) => told.push(s),
      idle: () => {
        calls.push(calls.length);
        return idle;
      },
      run: runner,
    });
    watch.start();
    const a = job(['R1']);
    watch.seen(update(a, ['uploading'], 1));
    watch.seen(update(a, ['failed'], 2)); // waits: the failed image is being deleted
    const b = job(['R1']);
    watch.seen(update(b, ['uploading'], 1));
    watch.seen(update(b, ['done'], 2));
    release();
    idle = Promise.resolve();
    await settle();
    expect(told).toHaveLength(1);
    expect(told[0]).toMatchObject({ jobs: 1, done: 1, failed: 0 });
  });
});
