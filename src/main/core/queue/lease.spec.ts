import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from './database';
import { Lease } from './lease';

let dir: string;
let dbA: Db;
let dbB: Db;
let clock: number;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'gu-lease-'));
  // Two connections to one file, as the app and the CLI would have.
  dbA = openDatabase(join(dir, 'q.sqlite3'));
  dbB = openDatabase(join(dir, 'q.sqlite3'));
  clock = 1_000_000;
});
afterEach(() => {
  dbA.close();
  dbB.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('lease', () => {
  it('lets one engine hold it; the other sees who holds it', () => {
    const a = new Lease(dbA, 'app', { ttlMs: 15_000, now: () => clock });
    const b = new Lease(dbB, 'cli', { ttlMs: 15_000, now: () => clock });
    expect(a.acquire()).toEqual({ acquired: true });
    const seen = b.acquire();
    expect(seen.acquired).toBe(false);
    if (!seen.acquired) expect(seen.current).toMatchObject({ holder: 'app', pid: process.pid, heartbeatAt: clock });
    expect(b.held).toBe(false);
  });

  it('is never taken while its holder beats; a silent holder loses it after the TTL', () => {
    const a = new Lease(dbA, 'app', { ttlMs: 15_000, now: () => clock });
    const b = new Lease(dbB, 'cli', { ttlMs: 15_000, now: () => clock });
    a.acquire();
    for (let i = 0; i < 5; i++) {
      clock += 10_000;
      expect(a.heartbeat()).toBe(true);
      expect(b.acquire().acquired).toBe(false);
    }
    clock += 15_001; // a stopped beating (crashed or hung)
    expect(b.acquire()).toEqual({ acquired: true });
    // The old holder finds out at its next beat and must stop running jobs.
    expect(a.heartbeat()).toBe(false);
    expect(a.held).toBe(false);
  });

  it('takes over at once from a holder on this host whose process is gone', () => {
    const a = new Lease(dbA, 'crashed-app', { ttlMs: 15_000, now: () => clock });
    a.acquire();
    // As if the holder's process had died: a pid that cannot exist.
    dbA.prepare('UPDATE lease SET pid = ? WHERE id = 1').run(2 ** 22 + 12345);
    const b = new Lease(dbB, 'app-restarted', { ttlMs: 15_000, now: () => clock });
    expect(b.acquire()).toEqual({ acquired: true });
  });

  it('is not taken by the same holder name in another live process (a second app on one data folder)', () => {
    const a = new Lease(dbA, 'app', { ttlMs: 15_000, now: () => clock });
    a.acquire();
    // As if the holder were another app process, alive: our parent process will do.
    dbA.prepare('UPDATE lease SET pid = ? WHERE id = 1').run(process.ppid);
    const b = new Lease(dbB, 'app', { ttlMs: 15_000, now: () => clock });
    expect(b.acquire()).toMatchObject({ acquired: false, current: { holder: 'app', pid: process.ppid } });
  });

  it('re-acquiring keeps the first acquisition time; release lets the other in at once', () => {
    const a = new Lease(dbA, 'app', { now: () => clock });
    const b = new Lease(dbB, 'cli', { now: () => clock });
    a.acquire();
    const first = a.current()?.acquiredAt;
    clock += 1000;
    a.acquire();
    expect(a.current()?.acquiredAt).toBe(first);
    a.release();
    expect(b.acquire()).toEqual({ acquired: true });
  });
});
