/**
 * Half-made images: Glance leaves images `queued`, `saving`, `uploading` (staged, never
 * imported), `importing` or `killed` after a failure of any tool (a cut upload, an import that
 * died). The janitor lists the caller's project's images in those states, older than a
 * threshold, with their age and size, and tells ours (a target of this queue recorded it: its
 * source, and whether the queue still works on it) from others'. Glance's v2 never lists a
 * `killed` image, so the images our ended targets recorded are also asked for one by one.
 * Deleting is the caller's choice, image by image, and only of what a fresh look still lists.
 */
import type { Leftover } from '../../../shared/dto';
import type { Engine } from '../clouds/engine';
import { EngineError } from '../io/errors';
import type { JobRepository, TargetRecord } from '../queue/job-repository';
import { isTerminal } from '../queue/target-state';

export type { Leftover } from '../../../shared/dto';

export const LEFTOVER_STATES = ['queued', 'saving', 'uploading', 'importing', 'killed'] as const;
const LEFTOVER = new Set<string>(LEFTOVER_STATES);

/** The ended targets looked up by id per region at most (the newest first). */
const RECORDED_LOOKUPS = 50;

interface GlanceImageFields {
  id: string;
  name: string | null;
  status: string;
  size: number | null;
  updated_at: string;
}

function leftoverOf(repo: JobRepository, cloud: string, region: string, i: GlanceImageFields, now: number): Leftover {
  // This cloud's and region's targets only: with --same-id every region's image has one id.
  const mine = repo.targetsWithImage(i.id).filter((x) => x.cloud === cloud && x.region === region);
  const t = mine.at(-1);
  const job = t !== undefined ? repo.getJob(t.jobId) : undefined;
  return {
    cloud,
    region,
    id: i.id,
    name: i.name,
    status: i.status,
    ageMs: Math.max(0, now - Date.parse(i.updated_at)),
    size: i.size,
    ours:
      t !== undefined
        ? {
            jobId: t.jobId,
            targetId: t.id,
            source: job?.sourcePath ?? job?.sourceUrl ?? null,
            live: mine.some((x) => !isTerminal(x.state)),
            retryable: t.state === 'failed' || t.state === 'canceled',
          }
        : null,
  };
}

/** The images our failed or canceled targets of this region still record (their deletion failed). */
function recordedIds(repo: JobRepository, cloud: string, region: string): string[] {
  return repo
    .targetsIn(['failed', 'canceled'])
    .filter((t: TargetRecord) => t.cloud === cloud && t.region === region && t.remoteImageId !== null)
    .sort((a, b) => b.updatedAt - a.updatedAt)
    .slice(0, RECORDED_LOOKUPS)
    .map((t) => t.remoteImageId as string);
}

export async function findLeftovers(
  engine: Engine,
  repo: JobRepository,
  o: { cloud: string; regions: string[]; olderThanMs: number; now?: number },
): Promise<Leftover[]> {
  const now = o.now ?? Date.now();
  const project = (await engine.session(o.cloud).auth()).projectId;
  const out: Leftover[] = [];
  for (const region of o.regions) {
    const glance = await engine.glance(o.cloud, region);
    const seen = new Set<string>();
    for (const status of LEFTOVER_STATES)
      for (const i of await glance.listImages({ owner: project, status })) {
        seen.add(i.id);
        const l = leftoverOf(repo, o.cloud, region, i, now);
        if (l.ageMs >= o.olderThanMs) out.push(l);
      }
    for (const id of recordedIds(repo, o.cloud, region)) {
      if (seen.has(id)) continue;
      const i = await glance.findImage(id);
      if (i === undefined || !LEFTOVER.has(i.status)) continue;
      const l = leftoverOf(repo, o.cloud, region, i, now);
      if (l.ageMs >= o.olderThanMs) out.push(l);
    }
  }
  return out.sort((a, b) => b.ageMs - a.ageMs);
}

/** An image named for deletion: its id, and its region when the user named one (the app always does). */
export interface LeftoverRef {
  id: string;
  region?: string;
}

/**
 * The images to delete: each a listed leftover (an id without a region names it in every region
 * listed, as `--same-id` images share one), none one the queue still works on.
 */
export function chooseLeftovers(leftovers: Leftover[], refs: LeftoverRef[]): Leftover[] {
  const chosen = refs.flatMap((ref) => {
    const found = leftovers.filter((x) => x.id === ref.id && (ref.region === undefined || x.region === ref.region));
    const where = `${ref.id}${ref.region !== undefined ? ` in ${ref.region}` : ''}`;
    if (found.length === 0)
      throw new EngineError('janitor.not_listed', `${where} is not one of the half-made images listed.`, {
        hint: 'List them again: it may have been deleted or finished meanwhile.',
      });
    for (const l of found)
      if (l.ours?.live === true)
        throw new EngineError('janitor.in_use', `${l.id} in ${l.region} is being uploaded by this queue.`, {
          hint: `Cancel its job first (glance-uploader queue cancel ${l.ours.jobId.slice(0, 8)}).`,
        });
    return found;
  });
  return [...new Set(chosen)]; // named twice (ID and REGION/ID): deleted once
}

/** Deletes these leftovers (chosen from a fresh list), each a `janitor.deleted` row in the audit log. */
export async function deleteLeftovers(engine: Engine, repo: JobRepository, doomed: Leftover[]): Promise<void> {
  for (const l of doomed) {
    await (await engine.glance(l.cloud, l.region)).deleteImageIfPresent(l.id);
    repo.audit.record({
      kind: 'janitor.deleted',
      jobId: l.ours?.jobId ?? null,
      targetId: l.ours?.targetId ?? null,
      fromState: null,
      toState: null,
      cloud: l.cloud,
      region: l.region,
      imageId: l.id,
      detail: { status: l.status, name: l.name, ageMs: l.ageMs, ours: l.ours !== null },
    });
    if (l.ours !== null && repo.getTarget(l.ours.targetId).remoteImageId === l.id)
      repo.setRemoteImageId(l.ours.targetId, null);
  }
}
