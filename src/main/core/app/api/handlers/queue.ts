/** The Upload and Queue screens: planning and queuing uploads, the queue's jobs, the user's controls, the activity log. */
import { shrinkJobs } from '../../../planning/shrink-jobs';
import type { HandlerDeps } from './deps';
import type { ApiHandlers } from '../api-service';
import { randomUUID } from 'node:crypto';
import { dirname } from 'node:path';
import { enforceProfile, findProfile } from '../../../planning/profiles';
import { allowedActions } from '../../../../../shared/target-states';
import { EngineError } from '../../../io/errors';
import { planDistribution } from '../../../planning/distribution-plan';
import { askOffers, isAdmin } from '../../../planning/region-offers';
import { expandImagePaths, planUploadJob, stemOf, type ImageMetadataInput } from '../../../planning/upload-plan';
import { auditCsv, auditJson } from '../../../queue/audit-export';
import { Controls, type ControlAction } from '../../../queue/controls';
import type { Db } from '../../../queue/database';
import type { NewJob } from '../../../queue/job-repository';
import type { Scheduler } from '../../../transfer/scheduler';

type QueueHandlers = Pick<
  ApiHandlers,
  'listJobs' | 'controlTarget' | 'enqueueUploads' | 'removeJob' | 'jobEvents' | 'listActivity' | 'exportActivity'
>;

export function queueHandlers({ engine, db, scheduler, settings }: HandlerDeps): QueueHandlers {
  return {
    listJobs: async () =>
      scheduler.repo
        .listJobs()
        .map((j) => scheduler.snapshot(j.id))
        .filter((u) => u !== undefined)
        .map((u) => ({ ...u, seq: 0 })),
    controlTarget: async ({ targetId, action }) => {
      await controlTarget(db, scheduler, targetId, action);
      return null;
    },
    enqueueUploads: async (r) => {
      // The plan of every target from what the regions offer, then each file inspected: one
      // refused file queues nothing.
      const stores = r.stores ?? [];
      const offers = await askOffers(engine, r.cloud, r.regions);
      const admin = stores.length > 1 && (await isAdmin(engine, r.cloud));
      const relayFrom = scheduler.repo.relays.options().autoFrom;
      const plan = (size?: number): NewJob['targets'] =>
        planDistribution({
          cloud: r.cloud,
          regions: r.regions,
          stores,
          offers,
          admin,
          method: r.method ?? 'auto',
          ...(size !== undefined ? { relay: { size, from: relayFrom } } : {}),
        }).targets;
      const targets = plan(); // refuses a plan that cannot run before any file is read
      const jobs: NewJob[] = [];
      for (const image of await expandImagePaths(r.images)) {
        // a dropped folder: the images in it
        const job = await planUploadJob({
          source: { path: image.path },
          name: image.name ?? stemOf(image.path),
          metadata: withOverrides(r, image),
          targets,
          bwlimit: r.bwlimit,
          onDuplicate: settings.get('duplicateCheck') ?? 'upload',
          allowFormatMismatch: r.allowFormatMismatch,
          ...(r.sameId === true ? { sameImageId: randomUUID() } : {}),
        });
        if (job.source.kind === 'file') job.targets = plan(job.source.size); // auto relays a big file
        jobs.push(job);
      }
      if (r.profile !== undefined) enforceProfile(findProfile(dirname(engine.cacheDir), r.profile), jobs);
      const warnings = new Map<NewJob, string[]>();
      await shrinkJobs(engine, scheduler.repo, jobs, {
        mode: r.shrink ?? settings.get('shrink') ?? 'auto',
        methodChosen: r.method !== undefined && r.method !== 'auto',
        onWarning: (job, w) => warnings.set(job, [...(warnings.get(job) ?? []), w]),
      });
      const create = (j: NewJob): string => {
        const id = scheduler.repo.createJob(j).job.id;
        for (const warning of warnings.get(j) ?? []) scheduler.repo.audit.jobEvent('job.warning', id, { warning });
        return id; // in the job's log, which its details show
      };
      return { jobIds: db.transaction(() => jobs.map(create))() };
    },
    removeJob: async ({ jobId }) => {
      scheduler.repo.removeJob(jobId);
      return null;
    },
    jobEvents: async ({ jobId }) => scheduler.repo.events({ jobId }),
    listActivity: async ({ limit }) => scheduler.repo.recentEvents(limit ?? 500),
    exportActivity: async ({ format }) => {
      const events = scheduler.repo.events();
      const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').replace('T', '-');
      return {
        fileName: `glance-uploader-activity-${stamp}.${format}`,
        text: format === 'csv' ? auditCsv(events) : auditJson(events),
      };
    },
  };
}

/** The template's metadata with one file's overrides on top (properties merged, the rest replaced). */
function withOverrides(template: ImageMetadataInput, file: ImageMetadataInput): ImageMetadataInput {
  const out: ImageMetadataInput = { ...template };
  for (const k of ['diskFormat', 'containerFormat', 'visibility', 'minDisk', 'minRam', 'protected', 'tags'] as const)
    if (file[k] !== undefined) Object.assign(out, { [k]: file[k] });
  if (file.properties !== undefined) out.properties = { ...template.properties, ...file.properties };
  return out;
}

/**
 * Pause, resume, cancel or retry a target: directly when this process runs the queue, else
 * through the controls table that the engine running it (a `queue run`) applies at its next tick.
 */
async function controlTarget(db: Db, scheduler: Scheduler, targetId: string, action: ControlAction): Promise<void> {
  const t = scheduler.repo.getTarget(targetId); // queue.not_found for an unknown id
  if (!scheduler.running) {
    const controls = new Controls(db);
    const [answer] = await controls.wait([controls.request('app', t.id, action)], 30_000);
    if (answer === undefined)
      throw new EngineError('queue.lease_held', 'The engine that runs the queue did not answer in 30 s.', {
        hint: 'It may be busy or stuck: try again, or stop it (its `queue run`).',
      });
    if (answer.outcome === 'refused') {
      // The engine's own error, code and all: the app branches on codes, never on text.
      const { code, message, ...extra } = answer.error;
      throw new EngineError(code, `The engine that runs the queue refused: ${message}`, {
        hint: 'The target may have moved on meanwhile: look at the queue again.',
        ...extra,
      });
    }
    return;
  }
  if (!allowedActions(t.state).includes(action))
    throw new EngineError('queue.invalid_transition', `A ${t.state} target cannot be asked to ${action}.`, {
      hint: `It allows: ${allowedActions(t.state).join(', ') || 'nothing (it is done)'}.`,
    });
  await scheduler.control(t.id, action);
}
