/**
 * When the queue is done: the notice (always: the shell notifies, the window shows a toast), and
 * the user's optional action, putting the computer to sleep or running a command. "Done" means
 * every target of the work since the queue was last idle has ended (none open, none paused: a
 * queue the user paused is not done) and at least one of them ran in this app; the queue
 * database, not the events, decides it. Each completion is a `queue.completed` row in the audit
 * log, with what the action did.
 */
import { spawn } from 'node:child_process';
import type { JobUpdate, QueueDoneSummary, WhenQueueDone } from '../../../shared/dto';
import { OPEN_STATES, TARGET_STATES } from '../../../shared/target-states';
import { toErrorInfo } from '../io/errors';
import type { JobRepository } from '../queue/job-repository';

/** A command that never ends does not hold the next completion back for ever. */
const ACTION_TIMEOUT_MS = 10 * 60_000;

/** The platform's own way to suspend (no privileges needed on a desktop session). */
export function sleepCommand(
  platform: NodeJS.Platform = process.platform,
): { file: string; args: string[] } | undefined {
  if (platform === 'linux') return { file: 'systemctl', args: ['suspend'] };
  if (platform === 'darwin') return { file: 'pmset', args: ['sleepnow'] };
  if (platform === 'win32') return { file: 'rundll32.exe', args: ['powrprof.dll,SetSuspendState', '0,1,0'] };
  return undefined;
}

export type ActionRunner = (
  file: string,
  args: string[],
  o: { shell: boolean; env: Record<string, string | undefined> },
) => Promise<number | null>;

/** Runs a program to its end (or the timeout): its exit code, null when killed. */
export const runProgram: ActionRunner = (file, args, o) =>
  new Promise((resolve, reject) => {
    const child = spawn(file, args, { shell: o.shell, env: o.env, stdio: 'ignore', windowsHide: true });
    const timer = setTimeout(() => child.kill(), ACTION_TIMEOUT_MS);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });

export interface QueueDoneOptions {
  repo: JobRepository;
  when: () => WhenQueueDone;
  onDone: (s: QueueDoneSummary) => void;
  /** Resolves once nothing runs (the scheduler's cleanup of failed images included). */
  idle: () => Promise<void>;
  run?: ActionRunner;
  env?: Record<string, string | undefined>;
}

const OPEN = new Set<string>(OPEN_STATES);

export class QueueDoneWatch {
  /** Jobs with work since the queue was last idle. */
  readonly #batch = new Set<string>();
  #ran = false;
  /** Counts the batches: a completion acts only for the batch it was made for. */
  #generation = 0;
  #stopped = false;
  /** Each target's state as last known (the database's at start, then each update's). */
  readonly #states = new Map<string, string>();

  constructor(private readonly o: QueueDoneOptions) {}

  /** Before the queue runs: what every target is now, so an old job's first update is no news. */
  start(): void {
    for (const t of this.o.repo.targetsIn([...TARGET_STATES])) this.#states.set(t.id, t.state);
  }

  /** A job's update (the scheduler's): the batch grows; the end of its last open target completes it. */
  seen(u: JobUpdate): void {
    // Work ran: a target moved into a state past waiting (updates are coalesced: a quick failure
    // may be the first state seen; a repeated update is no news).
    let canceled = false;
    for (const t of u.targets) {
      if (this.#states.get(t.id) === t.state) continue;
      if (this.#batch.size === 0) this.#generation++; // a new batch: a completion still waiting is stale
      this.#batch.add(u.jobId);
      if (t.state === 'canceled') canceled = true;
      else if (t.state !== 'pending' && t.state !== 'paused') this.#ran = true;
      this.#states.set(t.id, t.state);
    }
    if (!this.#ran || u.targets.some((t) => OPEN.has(t.state))) return;
    if (this.o.repo.targetsIn([...OPEN_STATES, 'paused']).length > 0) return;
    const summary = this.#summary();
    this.#batch.clear();
    this.#ran = false;
    // The user's own cancel ended the work: they are at the screen, and nothing is done for them.
    if (canceled) return;
    // A failure here (the database closed as the app stops) is the end of it, never unhandled.
    this.#complete(summary, this.#generation).catch(() => undefined);
  }

  /** The app stops: a completion still waiting does nothing. */
  stop(): void {
    this.#stopped = true;
  }

  #summary(): Omit<QueueDoneSummary, 'action'> {
    const s = { jobs: 0, done: 0, failed: 0, canceled: 0 };
    for (const jobId of this.#batch) {
      let targets;
      try {
        targets = this.o.repo.targetsOf(jobId);
      } catch {
        continue; // removed meanwhile
      }
      s.jobs++;
      for (const t of targets) if (t.state === 'done' || t.state === 'failed' || t.state === 'canceled') s[t.state]++;
    }
    return s;
  }

  async #complete(counts: Omit<QueueDoneSummary, 'action'>, generation: number): Promise<void> {
    // The scheduler still deletes a failed target's image after its last update: wait for it,
    // then look again. Work queued meanwhile (a new batch began, or is still open) means this
    // completion is not the queue's: the batch that follows completes on its own.
    await this.o.idle();
    if (this.#stopped || generation !== this.#generation) return;
    if (this.o.repo.targetsIn([...OPEN_STATES, 'paused']).length > 0) return;
    const when = this.o.when();
    // Told before the computer sleeps (and again if it could not).
    if (when.action === 'sleep') this.o.onDone({ ...counts, action: { kind: 'sleep', exitCode: null } });
    const action = await this.#act(when, counts);
    const summary: QueueDoneSummary = { ...counts, action };
    this.o.repo.audit.record({
      kind: 'queue.completed',
      jobId: null,
      targetId: null,
      fromState: null,
      toState: null,
      cloud: null,
      region: null,
      imageId: null,
      detail: { ...summary },
    });
    if (when.action !== 'sleep' || action.error !== undefined) this.o.onDone(summary);
  }

  async #act(when: WhenQueueDone, counts: Omit<QueueDoneSummary, 'action'>): Promise<QueueDoneSummary['action']> {
    if (when.action === 'notify') return { kind: 'notify', exitCode: null };
    const program =
      when.action === 'sleep'
        ? sleepCommand()
        : when.command.trim() === ''
          ? undefined
          : { file: when.command, args: [] };
    if (program === undefined)
      return {
        kind: when.action,
        exitCode: null,
        error: when.action === 'sleep' ? `no way to sleep on ${process.platform}` : 'no command set',
      };
    try {
      const exitCode = await (this.o.run ?? runProgram)(program.file, program.args, {
        shell: when.action === 'command',
        env: {
          ...(this.o.env ?? process.env),
          GLANCE_UPLOADER_JOBS: String(counts.jobs),
          GLANCE_UPLOADER_DONE: String(counts.done),
          GLANCE_UPLOADER_FAILED: String(counts.failed),
          GLANCE_UPLOADER_CANCELED: String(counts.canceled),
        },
      });
      return { kind: when.action, exitCode };
    } catch (e) {
      return { kind: when.action, exitCode: null, error: toErrorInfo(e).message };
    }
  }
}
