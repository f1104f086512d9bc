/**
 * What the desktop app runs, assembled in the engine so that it is tested in Node: the queue
 * database of the data folder, the engine (with the clouds saved in the app, their secrets
 * sealed by the codec the shell gives), the local server (started by the shell's own means: a
 * utility process in Electron, a child process in tests), the scheduler that runs the queue, and
 * auto-sync ticking every 30 s. The Electron entry only composes this with Electron's pieces.
 */
import type { JobUpdate } from '../queue/job-events';
import { dataHome, ensureDataHome } from '../io/data-home';
import { Engine } from '../clouds/engine';
import { toErrorInfo } from '../io/errors';
import { databasePath, openDatabase, type Db } from '../queue/database';
import type { AcquireResult } from '../queue/lease';
import { DEFAULT_CONCURRENCY, retryBudgetMsOf, savedBandwidth, Settings } from '../queue/settings';
import { SavedClouds } from '../clouds/saved-clouds';
import type { SecretCodec } from '../clouds/secret-codec';
import { autoSyncTick } from '../distribution/auto-sync';
import { findRunningServer, type ServerInfo } from '../local-glance/server-process';
import { Scheduler } from '../transfer/scheduler';
import { withLocalCloud } from '../distribution/local-cloud';
import { removeLocalCopy } from '../distribution/local-copy-cleanup';
import type { QueueDoneSummary } from '../../../shared/dto';
import { QueueDoneWatch, type ActionRunner } from './queue-done';
import { JobRepository } from '../queue/job-repository';

export interface LocalServerHandle extends ServerInfo {
  stop: () => Promise<void>;
}

export interface AppRuntimeOptions {
  env?: Record<string, string | undefined>;
  /** How secrets are sealed (called when first needed, with the user's plain-text choice). */
  codec?: (allowPlaintext: boolean) => SecretCodec;
  /** Starts the local server on a data folder, on a port (0: any free one); the shell decides how. */
  startLocalServer?: (dataDir: string, port: number) => Promise<LocalServerHandle>;
  onJobUpdated?: (u: JobUpdate) => void;
  /** Problems that are not a call's answer (auto-sync, the local server): for the log and the UI. */
  onNotice?: (message: string) => void;
  autoSyncEveryMs?: number;
  /** The wall clock the bandwidth schedule is read with (default: now; tests set the hour). */
  clock?: () => Date;
  /** The queue is done (queue-done.ts): the shell notifies, the window shows it. */
  onQueueDone?: (s: QueueDoneSummary) => void;
  /** How the sleep or the user's command is run when the queue is done (tests record it instead). */
  runAction?: ActionRunner;
}

export class AppRuntime {
  readonly db: Db;
  readonly engine: Engine;
  readonly scheduler: Scheduler;
  readonly savedClouds: SavedClouds;
  #server: LocalServerHandle | undefined;
  #autoSync: NodeJS.Timeout | undefined;
  readonly #queueDone: QueueDoneWatch;

  /** Builds nothing by itself: `AppRuntime.open` opens the data folder and composes the parts. */
  private constructor(
    private readonly o: AppRuntimeOptions,
    parts: { db: Db; engine: Engine; scheduler: Scheduler; savedClouds: SavedClouds; queueDone: QueueDoneWatch },
  ) {
    this.db = parts.db;
    this.engine = parts.engine;
    this.scheduler = parts.scheduler;
    this.savedClouds = parts.savedClouds;
    this.#queueDone = parts.queueDone;
  }

  /** Opens the data folder's queue database and composes the engine and the scheduler from its settings. */
  static open(o: AppRuntimeOptions = {}): AppRuntime {
    const env = o.env ?? process.env;
    const db = openDatabase(databasePath(ensureDataHome(dataHome(env))));
    const settings = new Settings(db);
    const savedClouds = new SavedClouds(
      db,
      o.codec === undefined
        ? undefined
        : () => o.codec?.(settings.get('allowPlaintextSecrets') === true) as SecretCodec,
    );
    // The user's settings (the Settings screen; shared with the CLI through the data folder).
    const margin = settings.get('tokenRenewMarginS');
    const engine = new Engine(
      withLocalCloud({
        env,
        savedClouds,
        ...(margin !== undefined ? { tokenRenewMarginMs: margin * 1000 } : {}),
      }),
    );
    // eslint-disable-next-line prefer-const -- the watch waits on the scheduler made after it
    let scheduler: Scheduler;
    const queueDone = new QueueDoneWatch({
      repo: new JobRepository(db, 'app'),
      when: () => settings.get('whenDone') ?? { action: 'notify' },
      onDone: (s) => o.onQueueDone?.(s),
      idle: () => scheduler.idle(),
      ...(o.runAction !== undefined ? { run: o.runAction } : {}),
      env,
    });
    scheduler = new Scheduler({
      db,
      engine,
      actor: 'app',
      onJobDone: removeLocalCopy(engine),
      onJobUpdated: (u) => {
        o.onJobUpdated?.(u);
        queueDone.seen(u);
      },
      concurrency: settings.get('concurrency') ?? DEFAULT_CONCURRENCY,
      retryBudgetMs: retryBudgetMsOf(settings),
      ...(o.clock !== undefined ? { clock: o.clock } : {}),
    });
    scheduler.bandwidth.apply(savedBandwidth(settings), o.clock?.());
    return new AppRuntime(o, { db, engine, scheduler, savedClouds, queueDone });
  }

  /**
   * Start: the local server (the one running on the data folder, else one started now), the
   * queue (unless another engine, a `queue run` say, holds it: then the app only watches), and
   * auto-sync. A local server that cannot start is reported, never fatal: uploads to clouds go on.
   */
  async start(): Promise<AcquireResult> {
    try {
      const running = await findRunningServer(this.engine.localServerDir);
      if (running === undefined && this.o.startLocalServer !== undefined)
        this.#server = await this.o.startLocalServer(
          this.engine.localServerDir,
          new Settings(this.db).get('localServerPort') ?? 0,
        );
    } catch (e) {
      this.o.onNotice?.(`The local server did not start: ${toErrorInfo(e).message}`);
    }
    this.#queueDone.start(); // before the queue runs: what each target is now
    const got = this.scheduler.start();
    const tick = (): void =>
      void autoSyncTick(this.engine, this.db, 'app').then(
        (r) => {
          if (r.queued.length > 0) this.o.onNotice?.(`auto-sync queued ${r.queued.length} image(s)`);
        },
        (e: unknown) => this.o.onNotice?.(`auto-sync: ${toErrorInfo(e).message}`),
      );
    tick();
    this.#autoSync = setInterval(tick, this.o.autoSyncEveryMs ?? 30_000);
    return got;
  }

  /** Stop cleanly: running transfers stop where they are (the next start resumes them). */
  async stop(): Promise<void> {
    clearInterval(this.#autoSync);
    this.#queueDone.stop();
    await this.scheduler.stop();
    await this.#server?.stop();
    this.#server = undefined;
    await this.engine.close();
    this.db.close();
  }
}
