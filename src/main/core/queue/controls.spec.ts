import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Controls, parseOutcome } from './controls';
import { openDatabase, type Db } from './database';

let dir: string;
let db: Db;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'gu-controls-'));
  db = openDatabase(join(dir, 'q.sqlite3'));
});
afterEach(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('controls', () => {
  // Fails when a refusal crosses as text only: the app then has no code to branch on.
  it('carries the holder’s outcome, a refusal with its error code', async () => {
    const c = new Controls(db);
    const a = c.request('cli:1', 't1', 'resume');
    const b = c.request('cli:1', 't2', 'pause');
    const d = c.request('cli:1', 't3', 'retry');
    c.answer(a, { outcome: 'refused', error: { code: 'queue.invalid_transition', message: 'Target t1 is done.' } });
    c.answer(b, { outcome: 'ok' });
    c.answer(d, { outcome: 'nothing_to_do', message: 'nothing to do: the target is done' });
    expect(await c.wait([a, b, d], 1000)).toEqual([
      {
        id: a,
        targetId: 't1',
        action: 'resume',
        outcome: 'refused',
        error: { code: 'queue.invalid_transition', message: 'Target t1 is done.' },
      },
      { id: b, targetId: 't2', action: 'pause', outcome: 'ok' },
      {
        id: d,
        targetId: 't3',
        action: 'retry',
        outcome: 'nothing_to_do',
        message: 'nothing to do: the target is done',
      },
    ]);
  });

  it('reads answers written as plain text by an earlier version', () => {
    expect(parseOutcome('ok')).toEqual({ outcome: 'ok' });
    expect(parseOutcome('refused: Target x is done.')).toEqual({
      outcome: 'refused',
      error: { code: 'queue.invalid_transition', message: 'Target x is done.' },
    });
    expect(parseOutcome('nothing to do: the target is paused')).toEqual({
      outcome: 'nothing_to_do',
      message: 'nothing to do: the target is paused',
    });
  });
});
