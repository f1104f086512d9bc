/**
 * Requests to the engine that runs the queue, from another process (the CLI while the app
 * holds the lease). The requester writes a row; the holder applies it at its next tick and
 * writes the result; the requester waits for that answer.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { ErrorInfo } from '../../../shared/errors';
import type { Db } from './database';

import type { ControlAction } from '../../../shared/target-states';

export type { ControlAction };

export interface ControlRequest {
  id: number;
  targetId: string;
  action: ControlAction;
  actor: string;
}

/** What the holder did with a request: applied, nothing to do (the state did not allow it), or refused with an error. */
export type ControlOutcome =
  { outcome: 'ok' } | { outcome: 'nothing_to_do'; message: string } | { outcome: 'refused'; error: ErrorInfo };

export type ControlAnswer = { id: number; targetId: string; action: ControlAction } & ControlOutcome;

/** The result column holds the outcome as JSON; rows written before it held plain text. */
export function parseOutcome(text: string): ControlOutcome {
  try {
    const o = JSON.parse(text) as ControlOutcome;
    if (o.outcome === 'ok' || o.outcome === 'nothing_to_do' || o.outcome === 'refused') return o;
  } catch {
    // an older answer in plain text
  }
  if (text === 'ok') return { outcome: 'ok' };
  if (text.startsWith('refused'))
    return {
      outcome: 'refused',
      error: { code: 'queue.invalid_transition', message: text.replace(/^refused:\s*/, '') },
    };
  return { outcome: 'nothing_to_do', message: text };
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

  answer(id: number, result: ControlOutcome): void {
    this.db
      .prepare('UPDATE controls SET done_at = ?, result = ? WHERE id = ?')
      .run(this.now(), JSON.stringify(result), id);
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
          r === undefined
            ? undefined
            : { id: r.id, targetId: r.target_id, action: r.action, ...parseOutcome(r.result) },
        );
      }
      await sleep(200);
    }
  }
}
