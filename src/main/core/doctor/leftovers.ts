/**
 * Half-made images: Glance leaves images `queued`, `saving`, `killed` or `importing` after a
 * failure of any tool (a cut upload, an import that died). The janitor lists the caller's
 * project's images in those states, older than a threshold, with their age and size, and tells
 * ours (a target of this queue recorded it: its source, and whether the queue still works on it)
 * from others'. Deleting is the caller's choice, image by image: nothing here deletes by itself.
 */
import type { Engine } from '../clouds/engine';
import type { JobRepository } from '../queue/job-repository';
import { isTerminal } from '../queue/target-state';

export const LEFTOVER_STATES = ['queued', 'saving', 'importing', 'killed'] as const;

export interface Leftover {
  cloud: string;
  region: string;
  id: string;
  name: string | null;
  status: string;
  /** Since Glance last changed it. */
  ageMs: number;
  size: number | null;
  /** A target of this queue made it: its job and file. */
  ours: { jobId: string; targetId: string; source: string | null; live: boolean } | null;
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
    for (const status of LEFTOVER_STATES)
      for (const i of await glance.listImages({ owner: project, status })) {
        const ageMs = Math.max(0, now - Date.parse(i.updated_at));
        if (ageMs < o.olderThanMs) continue;
        const t = repo.targetsWithImage(i.id).at(-1);
        const job = t !== undefined ? repo.getJob(t.jobId) : undefined;
        out.push({
          cloud: o.cloud,
          region,
          id: i.id,
          name: i.name,
          status: i.status,
          ageMs,
          size: i.size,
          ours:
            t !== undefined
              ? {
                  jobId: t.jobId,
                  targetId: t.id,
                  source: job?.sourcePath ?? job?.sourceUrl ?? null,
                  live: !isTerminal(t.state),
                }
              : null,
        });
      }
  }
  return out.sort((a, b) => b.ageMs - a.ageMs);
}
