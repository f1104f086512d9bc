/**
 * Only one engine runs jobs from a database at a time. The holder writes a heartbeat; another
 * engine (the CLI while the app runs, say) sees a live lease and only enqueues, leaving the
 * running to the holder. A lease whose heartbeat is older than its TTL belongs to an engine
 * that died: the next one takes it over; on the same host, a holder whose process is gone is
 * known dead at once (an app restarted after a crash does not wait for the TTL). Acquire runs in an IMMEDIATE transaction, so two
 * engines racing for it cannot both win.
 */
import { hostname } from 'node:os';
import type { Db } from './database';

export interface LeaseHolder {
  holder: string;
  pid: number;
  host: string;
  acquiredAt: number;
  heartbeatAt: number;
}

export type AcquireResult = { acquired: true } | { acquired: false; current: LeaseHolder };

interface LeaseRow {
  holder: string;
  pid: number;
  host: string;
  acquired_at: number;
  heartbeat_at: number;
}

export const DEFAULT_LEASE_TTL_MS = 15_000;

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'; // alive, someone else's
  }
}

export class Lease {
  readonly #ttlMs: number;
  readonly #now: () => number;
  #held = false;

  constructor(
    private readonly db: Db,
    readonly holder: string,
    options: { ttlMs?: number; now?: () => number } = {},
  ) {
    this.#ttlMs = options.ttlMs ?? DEFAULT_LEASE_TTL_MS;
    this.#now = options.now ?? Date.now;
  }

  get ttlMs(): number {
    return this.#ttlMs;
  }

  get held(): boolean {
    return this.#held;
  }

  current(): LeaseHolder | undefined {
    const r = this.db.prepare('SELECT * FROM lease WHERE id = 1').get() as LeaseRow | undefined;
    return r === undefined
      ? undefined
      : { holder: r.holder, pid: r.pid, host: r.host, acquiredAt: r.acquired_at, heartbeatAt: r.heartbeat_at };
  }

  acquire(): AcquireResult {
    return this.db
      .transaction((): AcquireResult => {
        const now = this.#now();
        const cur = this.current();
        const alive =
          cur !== undefined &&
          now - cur.heartbeatAt < this.#ttlMs &&
          !(cur.host === hostname() && !processAlive(cur.pid));
        // A live lease blocks another holder, and the same holder name in another live process
        // (two app windows on one data folder must not both run the queue).
        const mine = cur !== undefined && cur.holder === this.holder && cur.pid === process.pid;
        if (cur !== undefined && !mine && alive) return { acquired: false, current: cur };
        this.db
          .prepare(
            `INSERT INTO lease (id, holder, pid, host, acquired_at, heartbeat_at) VALUES (1, ?, ?, ?, ?, ?)
             ON CONFLICT (id) DO UPDATE SET holder = excluded.holder, pid = excluded.pid, host = excluded.host,
               acquired_at = excluded.acquired_at, heartbeat_at = excluded.heartbeat_at`,
          )
          .run(this.holder, process.pid, hostname(), cur?.holder === this.holder ? cur.acquiredAt : now, now);
        this.#held = true;
        return { acquired: true };
      })
      .immediate();
  }

  /** Refresh the heartbeat. False when the lease was lost (taken over after a stall): stop running jobs. */
  heartbeat(): boolean {
    const r = this.db
      .prepare('UPDATE lease SET heartbeat_at = ? WHERE id = 1 AND holder = ?')
      .run(this.#now(), this.holder);
    this.#held = r.changes === 1;
    return this.#held;
  }

  release(): void {
    this.db.prepare('DELETE FROM lease WHERE id = 1 AND holder = ?').run(this.holder);
    this.#held = false;
  }
}
