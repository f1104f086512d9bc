/**
 * Auto-sync: with the setting on, every active staged image gets a sync job to the configured
 * cloud, regions and stores, without being asked. The jobs wait in the queue while the cloud
 * cannot be reached (unreachable attempts do not use up retries) and go on by themselves when
 * the network is back. A region an earlier sync of the image did, is doing, or failed (the user
 * decides what to do with a failure) is left alone, so ticking again queues nothing twice.
 */
import type { Engine } from '../clouds/engine';
import type { Db } from '../queue/database';
import { JobRepository } from '../queue/job-repository';
import { Settings } from '../queue/settings';
import { stagedImages } from './local-cloud';
import { findRunningServer } from '../local-glance/server-process';
import { planSync } from './sync-jobs';

export interface AutoSyncResult {
  /** Jobs queued by this tick. */
  queued: string[];
  /** Why nothing was looked at (setting off, no local server). */
  idle?: 'off' | 'no-local-server';
}

export async function autoSyncTick(engine: Engine, db: Db, actor: string): Promise<AutoSyncResult> {
  const setting = new Settings(db).get('autoSync');
  if (setting === undefined) return { queued: [], idle: 'off' };
  if ((await findRunningServer(engine.localServerDir)) === undefined) return { queued: [], idle: 'no-local-server' };
  const images = (await stagedImages(engine)).filter((i) => i.status === 'active');
  const repo = new JobRepository(db, actor);
  const plan = await planSync(engine, repo, images, {
    cloud: setting.cloud,
    regions: setting.regions,
    stores: setting.stores,
    method: setting.method,
    ifExists: 'reuse',
    removeLocal: setting.removeLocal,
    sameId: false,
    skipSettled: true,
  });
  const queued = db.transaction(() => plan.jobs.map((j) => repo.createJob(j).job.id))();
  for (const id of queued) {
    const first = repo.targetsOf(id)[0];
    if (first !== undefined) repo.note('job.auto_sync', first, { cloud: setting.cloud, regions: setting.regions });
  }
  return { queued };
}
