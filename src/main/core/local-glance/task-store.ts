/**
 * Import tasks of the embedded server, as Glance's database keeps them and its
 * `GET /v2/images/{id}/tasks` shows them: the raw row (microsecond times without a zone, the
 * request and user that made it, `expires_at` once finished: 48 hours later, Glance's
 * task_time_to_live).
 */
import { randomUUID } from 'node:crypto';
import type Database from 'better-sqlite3';

export interface TaskRecord {
  id: string;
  type: string;
  status: 'processing' | 'success' | 'failure';
  owner: string | null;
  expires_at: string | null;
  created_at: string;
  updated_at: string;
  deleted_at: null;
  deleted: false;
  image_id: string;
  request_id: string;
  user_id: string;
  input: Record<string, unknown>;
  result: Record<string, unknown> | null;
  message: string;
}

const TTL_MS = 48 * 3600 * 1000;

/** A task row's time: UTC, microseconds, no zone ("2026-12-05T18:54:44.601000"). */
function rowTime(ms: number = Date.now()): string {
  return new Date(ms).toISOString().replace(/Z$/, '000');
}

type Row = Omit<TaskRecord, 'input' | 'result' | 'deleted_at' | 'deleted'> & { input: string; result: string | null };

export class TaskStore {
  constructor(private readonly db: () => Database.Database) {}

  /** The table, and the columns a data folder from before they existed lacks. */
  open(): void {
    this.db().exec(`
      CREATE TABLE IF NOT EXISTS tasks (
        id TEXT PRIMARY KEY, image_id TEXT NOT NULL, type TEXT NOT NULL, status TEXT NOT NULL,
        owner TEXT, input TEXT NOT NULL, result TEXT, message TEXT NOT NULL DEFAULT '',
        created_at TEXT NOT NULL, updated_at TEXT NOT NULL
      );
      CREATE INDEX IF NOT EXISTS tasks_image ON tasks (image_id, created_at);
    `);
    const have = new Set(
      (this.db().prepare('PRAGMA table_info(tasks)').all() as { name: string }[]).map((c) => c.name),
    );
    for (const column of ['request_id', 'user_id', 'expires_at'])
      if (!have.has(column)) this.db().exec(`ALTER TABLE tasks ADD COLUMN ${column} TEXT`);
  }

  /** An import task, as Glance records one (`api_image_import`), status `processing`. */
  create(
    imageId: string,
    who: { projectId: string; userId: string; requestId: string },
    input: Record<string, unknown>,
  ): TaskRecord {
    const now = rowTime();
    const t: TaskRecord = {
      id: randomUUID(),
      type: 'api_image_import',
      status: 'processing',
      owner: who.projectId,
      expires_at: null,
      created_at: now,
      updated_at: now,
      deleted_at: null,
      deleted: false,
      image_id: imageId,
      request_id: who.requestId,
      user_id: who.userId,
      input,
      result: null,
      message: '',
    };
    this.db()
      .prepare(
        `INSERT INTO tasks (id, image_id, type, status, owner, input, result, message, created_at, updated_at,
           request_id, user_id, expires_at) VALUES (?, ?, ?, ?, ?, ?, NULL, '', ?, ?, ?, ?, NULL)`,
      )
      .run(t.id, imageId, t.type, t.status, t.owner, JSON.stringify(input), now, now, t.request_id, t.user_id);
    return t;
  }

  finish(id: string, status: 'success' | 'failure', message: string, result?: Record<string, unknown>): void {
    const now = Date.now();
    this.db()
      .prepare('UPDATE tasks SET status = ?, message = ?, result = ?, updated_at = ?, expires_at = ? WHERE id = ?')
      .run(status, message, result ? JSON.stringify(result) : null, rowTime(now), rowTime(now + TTL_MS), id);
  }

  /** Every task still processing ends as failed (after a restart: nothing runs them any more). */
  failUnfinished(message: string): void {
    const now = Date.now();
    this.db()
      .prepare(
        `UPDATE tasks SET status = 'failure', message = ?, updated_at = ?, expires_at = ? WHERE status = 'processing'`,
      )
      .run(message, rowTime(now), rowTime(now + TTL_MS));
  }

  /** An image's tasks not expired yet, newest first, in Glance's key order. */
  of(imageId: string): TaskRecord[] {
    // Glance lists only tasks that have not expired (48 hours after they ended).
    const rows = this.db()
      .prepare(
        'SELECT * FROM tasks WHERE image_id = ? AND (expires_at IS NULL OR expires_at >= ?) ORDER BY created_at DESC',
      )
      .all(imageId, rowTime()) as Row[];
    return rows.map((r) => ({
      id: r.id,
      type: r.type,
      status: r.status,
      owner: r.owner,
      expires_at: r.expires_at ?? null,
      created_at: r.created_at,
      updated_at: r.updated_at,
      deleted_at: null,
      deleted: false,
      image_id: r.image_id,
      request_id: r.request_id ?? '',
      user_id: r.user_id ?? '',
      input: JSON.parse(r.input) as Record<string, unknown>,
      result: r.result ? (JSON.parse(r.result) as Record<string, unknown>) : null,
      message: r.message,
    }));
  }
}
