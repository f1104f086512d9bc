/**
 * The Leftovers screen (the janitor): a cloud's half-made images, deleted only when named by the
 * user and still listed by a fresh look (doctor/leftovers.ts decides both), ignored at the user's
 * word; "Retry" is the queue's own control on the target that made one.
 */
import { chooseLeftovers, deleteLeftovers, findLeftovers } from '../../../doctor/leftovers';
import type { Engine } from '../../../clouds/engine';
import type { Leftover } from '../../../../../shared/dto';
import type { ApiHandlers } from '../api-service';
import type { HandlerDeps } from './deps';

type LeftoverHandlers = Pick<ApiHandlers, 'listLeftovers' | 'deleteLeftovers' | 'ignoreLeftovers'>;

const HOUR = 3600_000;

async function regionsOf(engine: Engine, cloud: string, named: string[] | undefined): Promise<string[]> {
  return named !== undefined && named.length > 0 ? named : (await engine.listRegions(cloud)).map((r) => r.id);
}

export function leftoverHandlers({ engine, scheduler, settings }: HandlerDeps): LeftoverHandlers {
  const look = async (o: { cloud: string; regions?: string[]; olderThanHours?: number }): Promise<Leftover[]> =>
    findLeftovers(engine, scheduler.repo, {
      cloud: o.cloud,
      regions: await regionsOf(engine, o.cloud, o.regions),
      olderThanMs: (o.olderThanHours ?? 1) * HOUR,
    });
  return {
    listLeftovers: async (o) => ({ leftovers: await look(o), ignored: settings.get('ignoredLeftovers') ?? [] }),
    deleteLeftovers: async (o) => {
      const doomed = chooseLeftovers(await look(o), o.images);
      await deleteLeftovers(engine, scheduler.repo, doomed);
      return { deleted: doomed.map((l) => ({ region: l.region, id: l.id })) };
    },
    ignoreLeftovers: async ({ ids, ignore }) => {
      const now = new Set(settings.get('ignoredLeftovers') ?? []);
      for (const id of ids) {
        if (ignore) now.add(id);
        else now.delete(id);
      }
      settings.set('ignoredLeftovers', [...now].slice(-2000));
      return null;
    },
  };
}
