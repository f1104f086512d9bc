import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from './database';
import { Settings } from './settings';

let dir: string;
let db: Db;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'gu-settings-'));
  db = openDatabase(join(dir, 'q.sqlite3'));
});
afterEach(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('settings', () => {
  it('keeps a value across connections, replaces it, clears it, and reads a broken one as unset', () => {
    const s = new Settings(db);
    expect(s.get('autoSync')).toBeUndefined();
    const value = { cloud: 'c', regions: ['R1'], stores: [], method: 'auto' as const, removeLocal: false };
    s.set('autoSync', value);
    s.set('autoSync', { ...value, regions: ['R1', 'R2'] });
    const other = openDatabase(join(dir, 'q.sqlite3'));
    expect(new Settings(other).get('autoSync')).toEqual({ ...value, regions: ['R1', 'R2'] });
    other.close();
    s.clear('autoSync');
    expect(s.get('autoSync')).toBeUndefined();
    db.prepare(`INSERT INTO settings (key, value) VALUES ('autoSync', '{not json')`).run();
    expect(s.get('autoSync')).toBeUndefined();
  });
});
