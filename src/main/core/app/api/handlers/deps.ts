/** What the application API's handlers work on: the engine and the app's queue. */
import type { Engine } from '../../../clouds/engine';
import type { SavedClouds } from '../../../clouds/saved-clouds';
import type { Db } from '../../../queue/database';
import type { Settings } from '../../../queue/settings';
import type { Scheduler } from '../../../transfer/scheduler';

export interface HandlerDeps {
  engine: Engine;
  db: Db;
  scheduler: Scheduler;
  savedClouds: SavedClouds;
  settings: Settings;
}
