/**
 * The application API behind `window.api`, independent of any transport: one handler per method
 * of the shared contract, grouped by feature (handlers/), and `dispatch` (dispatch.ts), which
 * validates the arguments and answers an envelope.
 */
import type { ApiArgs, ApiMethod, ApiResults } from '../../../../shared/ipc/contract';
import type { Engine } from '../../clouds/engine';
import type { SavedClouds } from '../../clouds/saved-clouds';
import type { Db } from '../../queue/database';
import { Settings } from '../../queue/settings';
import type { Scheduler } from '../../transfer/scheduler';
import { catalogHandlers } from './handlers/catalog';
import { cloudHandlers } from './handlers/clouds';
import type { HandlerDeps } from './handlers/deps';
import { inspectHandlers } from './handlers/inspect';
import { queueHandlers } from './handlers/queue';
import { settingHandlers } from './handlers/settings';
import { stagingHandlers } from './handlers/staging';
import { leftoverHandlers } from './handlers/leftovers';
import { transferWindowHandlers } from './handlers/transfer-window';

export { dispatch } from './dispatch';

export type ApiHandlers = { [M in ApiMethod]: (...args: ApiArgs[M]) => Promise<ApiResults[M]> };

/** What the queue calls work on: the app's runtime (or a test's equivalent). */
export interface QueueAccess {
  db: Db;
  scheduler: Scheduler;
  savedClouds: SavedClouds;
}

export function createApiHandlers(engine: Engine, queue: QueueAccess): ApiHandlers {
  const deps: HandlerDeps = { engine, ...queue, settings: new Settings(queue.db) };
  return {
    ...cloudHandlers(deps),
    ...queueHandlers(deps),
    ...stagingHandlers(deps),
    ...settingHandlers(deps),
    ...inspectHandlers(deps),
    ...catalogHandlers(deps),
    ...transferWindowHandlers(deps),
    ...leftoverHandlers(deps),
  } satisfies ApiHandlers;
}
