/**
 * The user's controls asked by another process (the CLI while the app runs the queue, say):
 * read from the controls table, applied when the target's state allows them
 * (`allowedActions`), and answered with their outcome (and the engine's error code when refused).
 */
import { allowedActions, type ControlAction } from '../../../shared/target-states';
import { toErrorInfo } from '../io/errors';
import { Controls } from '../queue/controls';
import type { Db } from '../queue/database';
import type { JobRepository } from '../queue/job-repository';

export function applyControlRequests(
  db: Db,
  repo: JobRepository,
  control: (targetId: string, action: ControlAction) => Promise<void>,
): void {
  const controls = new Controls(db);
  for (const c of controls.open()) {
    try {
      const t = repo.getTarget(c.targetId);
      if (!allowedActions(t.state).includes(c.action)) {
        controls.answer(c.id, { outcome: 'nothing_to_do', message: `nothing to do: the target is ${t.state}` });
        continue;
      }
      void control(t.id, c.action);
      repo.note('target.control', repo.getTarget(t.id), { action: c.action, requestedBy: c.actor });
      controls.answer(c.id, { outcome: 'ok' });
    } catch (e) {
      controls.answer(c.id, { outcome: 'refused', error: toErrorInfo(e) });
    }
  }
}
