/**
 * Requests to the engine that runs the queue, from another process (the CLI while the app
 * holds the lease). The requester writes a row; the holder applies it at its next tick and
 * writes the result; the requester waits for that answer.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Db } from './database';

import type { ControlAction } from '../../../shared/target-states';

export type { ControlAction };

export interface ControlRequest {
  id: number;
  targetId: string;
  action: ControlAction;
  actor: string;
}

export interface ControlAnswer {
  id: number;
  targetId: string;
  action: ControlAction;
  result: string;
}

export class Controls {
  constructor(
    private readonly db: Db,
    private readonly now: () => number = Date.now,
  ) {}

  request(actor: string, targetId: string, action: ControlAction): number {
    return Number(
      this.db
        .prepare('INSERT INTO controls (at, actor, target_id, action) VALUES (?, ?, ?, ?)')
        .run(this.now(), actor, targetId, action).lastInsertRowid,
    );
  }

  /** Requests not answered yet, oldest first (for the holder). */
  open(): ControlRequest[] {
    return (
      this.db.prepare('SELECT id, target_id, action, actor FROM controls WHERE done_at IS NULL ORDER BY id').all() as {
        id: number;
        target_id: string;
        action: ControlAction;
        actor: string;
      }[]
    ).map((r) => ({
      id: r.id,
      targetId: r.target_id,
      action: r.action,
      actor: r.actor,
    }));
  }

  answer(id: number, result: string): void {
    this.db.prepare('UPDATE controls SET done_at = ?, result = ? WHERE id = ?').run(this.now(), result, id);
  }

  /** Wait for the holder's answers; undefined for those not answered within the timeout. */
  async wait(ids: number[], timeoutMs: number): Promise<(ControlAnswer | undefined)[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const rows = ids.map(
        (id) =>
          this.db
            .prepare('SELECT id, target_id, action, result FROM controls WHERE id = ? AND done_at IS NOT NULL')
            .get(id) as { id: number; target_id: string; action: ControlAction; result: string } | undefined,
      );
      if (rows.every((r) => r !== undefined) || Date.now() > deadline) {
        return rows.map((r) =>
          r === undefined ? undefined : { id: r.id, targetId: r.target_id, action: r.action, result: r.result },
        );
      }
      await sleep(200);
    }
  }
}
