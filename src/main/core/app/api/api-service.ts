/**
 * The application API behind `window.api`, independent of any transport: validates the
 * arguments of each call against the shared contract and answers an envelope, never a throw.
 * Electron's ipcMain (src/main/electron/ipc-main.ts) and the browser-test bridge both call
 * `dispatch`.
 */
import {
  API_METHODS,
  type ApiArgs,
  type ApiMethod,
  type ApiResults,
  type Envelope,
} from '../../../../shared/ipc/contract';
import { apiArgSchemas } from '../../../../shared/ipc/contract-schemas';
import { randomUUID } from 'node:crypto';
import type { Engine } from '../../clouds/engine';
import { planDistribution } from '../../planning/distribution-plan';
import type { NewJob } from '../../queue/job-repository';
import {
  diskFormatFromName,
  expandImagePaths,
  planUploadJob,
  stemOf,
  type ImageMetadataInput,
} from '../../planning/upload-plan';
import { auditCsv, auditJson } from '../../queue/audit-export';
import { inspectFile, refusal } from '../../inspect/inspect';
import { cloudDrafts } from '../../openstack/cloud-import';
import { announcedServer, LOCAL_CLOUD, LOCAL_REGION, localCredentials } from '../../distribution/local-cloud';
import { dirname } from 'node:path';
import { planReplicate } from '../../distribution/replicate';
import { planSync, syncRecords } from '../../distribution/sync-jobs';
import { askOffers, isAdmin } from '../../planning/region-offers';
import { Controls, type ControlAction } from '../../queue/controls';
import type { Db } from '../../queue/database';
import { DEFAULT_CONCURRENCY, Settings } from '../../queue/settings';
import { allowedActions } from '../../../../shared/target-states';
import { largestQueuedFor, runDoctor } from '../../doctor/doctor';
import type { SavedClouds } from '../../clouds/saved-clouds';
import type { Scheduler } from '../../transfer/scheduler';
import { EngineError, toErrorInfo } from '../../io/errors';

export type ApiHandlers = { [M in ApiMethod]: (...args: ApiArgs[M]) => Promise<ApiResults[M]> };

/** What the queue calls work on: the app's runtime (or a test's equivalent). */
export interface QueueAccess {
  db: Db;
  scheduler: Scheduler;
  savedClouds: SavedClouds;
}

export function createApiHandlers(engine: Engine, queue: QueueAccess): ApiHandlers {
  const { db, scheduler, savedClouds } = queue;
  const settings = new Settings(db);
  return {
    listClouds: async () => {
      // The local server is a cloud of its own (where staging goes), listed whether it runs or not.
      const server = announcedServer(engine.localServerDir);
      return [
        ...engine.listClouds().filter((c) => c.name !== LOCAL_CLOUD),
        {
          name: LOCAL_CLOUD,
          authUrl: server?.authUrl ?? '',
          authType: 'password',
          regions: [LOCAL_REGION],
          source: server === undefined ? 'the local server (not running)' : 'the local server',
          insecure: false,
        },
      ];
    },
    switchProject: async ({ cloud, projectId }) => {
      await engine.switchProject(cloud, projectId);
      return null;
    },
    listRegions: async ({ cloud }) => engine.listRegions(cloud),
    listImages: async ({ cloud, region }) => engine.listImages(cloud, region),
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
    getSettings: async () => {
      const server = announcedServer(engine.localServerDir);
      const creds = server === undefined ? undefined : localCredentials(engine.localServerDir);
      return {
        autoSync: settings.get('autoSync') ?? null,
        allowPlaintextSecrets: settings.get('allowPlaintextSecrets') === true,
        concurrency: settings.get('concurrency') ?? DEFAULT_CONCURRENCY,
        bwlimit: settings.get('bwlimit') ?? 0,
        tokenRenewMarginS: Math.round(engine.tokenRenewMarginMs / 1000),
        retryBudgetHours: scheduler.retryBudgetMs / 3600_000,
        duplicateCheck: settings.get('duplicateCheck') ?? 'upload',
        localServerPort: settings.get('localServerPort') ?? 0,
        dataFolder: dirname(engine.cacheDir),
        localServer:
          server === undefined || creds === undefined
            ? null
            : {
                url: server.url,
                authUrl: server.authUrl,
                username: creds.username,
                password: creds.password,
                projectName: creds.projectName,
              },
      };
    },
    runDoctor: async ({ cloud, region, horizonOrigin, probeMiB }) => {
      return runDoctor(engine, {
        cloud,
        ...(region !== undefined ? { region } : {}),
        ...(horizonOrigin !== undefined ? { horizonOrigin: horizonOrigin.replace(/\/+$/, '') } : {}),
        largestQueuedBytes: largestQueuedFor(scheduler.repo, cloud),
        probeBytes: Math.round((probeMiB ?? 8) * 1024 * 1024),
      });
    },
    updateSettings: async (u) => {
      // Saved for the next start, and applied now to what runs.
      if (u.concurrency !== undefined) {
        settings.set('concurrency', u.concurrency);
        scheduler.setConcurrency(u.concurrency);
      }
      if (u.bwlimit !== undefined) {
        settings.set('bwlimit', u.bwlimit);
        scheduler.setBandwidth(u.bwlimit);
      }
      if (u.tokenRenewMarginS !== undefined) {
        settings.set('tokenRenewMarginS', u.tokenRenewMarginS);
        engine.setTokenRenewMargin(u.tokenRenewMarginS * 1000);
      }
      if (u.retryBudgetHours !== undefined) {
        settings.set('retryBudgetHours', u.retryBudgetHours);
        scheduler.setRetryBudget(u.retryBudgetHours * 3600_000);
      }
      if (u.duplicateCheck !== undefined) settings.set('duplicateCheck', u.duplicateCheck);
      if (u.localServerPort !== undefined) settings.set('localServerPort', u.localServerPort); // at the server's next start
      return null;
    },
    setAllowPlaintextSecrets: async ({ allow }) => {
      settings.set('allowPlaintextSecrets', allow);
      return null;
    },
    saveCloud: async (c) => {
      savedClouds.save(c.name, {
        ...(c.applicationCredentialId !== undefined ? { auth_type: 'v3applicationcredential' } : {}),
        auth: {
          auth_url: c.authUrl,
          ...(c.username !== undefined ? { username: c.username } : {}),
          ...(c.password !== undefined ? { password: c.password } : {}),
          ...(c.projectName !== undefined ? { project_name: c.projectName } : {}),
          ...(c.userDomain !== undefined ? { user_domain_name: c.userDomain } : {}),
          ...(c.projectDomain !== undefined ? { project_domain_name: c.projectDomain } : {}),
          ...(c.projectId !== undefined ? { project_id: c.projectId } : {}),
          ...(c.userDomainId !== undefined ? { user_domain_id: c.userDomainId } : {}),
          ...(c.projectDomainId !== undefined ? { project_domain_id: c.projectDomainId } : {}),
          ...(c.applicationCredentialId !== undefined ? { application_credential_id: c.applicationCredentialId } : {}),
          ...(c.applicationCredentialSecret !== undefined
            ? { application_credential_secret: c.applicationCredentialSecret }
            : {}),
        },
        ...(c.region !== undefined ? { region_name: c.region } : {}),
      });
      return null;
    },
    forgetCloud: async ({ name }) => {
      savedClouds.remove(name);
      return null;
    },
    enqueueUploads: async (r) => {
      // The plan of every target from what the regions offer, then each file inspected: one
      // refused file queues nothing.
      const stores = r.stores ?? [];
      const offers = await askOffers(engine, r.cloud, r.regions);
      const admin = stores.length > 1 && (await isAdmin(engine, r.cloud));
      const { targets } = planDistribution({
        cloud: r.cloud,
        regions: r.regions,
        stores,
        offers,
        admin,
        method: r.method ?? 'auto',
      });
      const jobs: NewJob[] = [];
      for (const image of await expandImagePaths(r.images))
        // a dropped folder: the images in it
        jobs.push(
          await planUploadJob({
            source: { path: image.path },
            name: image.name ?? stemOf(image.path),
            metadata: withOverrides(r, image),
            targets,
            bwlimit: r.bwlimit,
            onDuplicate: settings.get('duplicateCheck') ?? 'upload',
            allowFormatMismatch: r.allowFormatMismatch,
            ...(r.sameId === true ? { sameImageId: randomUUID() } : {}),
          }),
        );
      return { jobIds: db.transaction(() => jobs.map((j) => scheduler.repo.createJob(j).job.id))() };
    },
    listStaged: async () => {
      const images = await (await engine.glance(LOCAL_CLOUD, LOCAL_REGION)).listImages();
      const records = syncRecords(scheduler.repo);
      return images.map((i) => ({
        id: i.id,
        name: i.name,
        status: i.status,
        size: i.size,
        diskFormat: i.disk_format,
        containerFormat: i.container_format,
        sha512: i.os_hash_value,
        tags: i.tags,
        synced: records.get(i.id) ?? [],
      }));
    },
    syncStaged: async (r) => {
      const all = await (await engine.glance(LOCAL_CLOUD, LOCAL_REGION)).listImages();
      const wanted =
        r.imageIds === undefined
          ? all.filter((i) => i.status === 'active')
          : r.imageIds.map((id) => {
              const img = all.find((i) => i.id === id);
              if (img === undefined)
                throw new EngineError('staged.not_found', `No staged image ${id}.`, {
                  hint: 'List the staged images again.',
                });
              if (img.status !== 'active')
                throw new EngineError(
                  'staged.not_ready',
                  `Staged image ${img.name ?? id} is ${img.status}, not active.`,
                  {
                    hint: 'Wait until its staging is done.',
                  },
                );
              return img;
            });
      const plan = await planSync(engine, scheduler.repo, wanted, {
        cloud: r.cloud,
        regions: r.regions,
        stores: r.stores ?? [],
        method: r.method ?? 'auto',
        ifExists: 'reuse',
        removeLocal: r.removeLocal === true,
        sameId: r.sameId === true,
      });
      const created = db.transaction(() => plan.jobs.map((j) => scheduler.repo.createJob(j).job.id))();
      return { jobIds: [...new Set([...plan.underWay, ...created])], skipped: plan.skipped.length };
    },
    replicateImage: async (r) => {
      // The copy for regions that cannot pull is downloaded here, before the call answers.
      const plan = await planReplicate(engine, {
        cloud: r.cloud,
        from: r.from,
        to: r.to,
        imageId: r.imageId,
        stores: r.stores ?? [],
        method: r.method ?? 'auto',
        sameId: r.sameId === true,
        keepLocal: r.keepLocal === true,
      });
      return { jobIds: db.transaction(() => plan.jobs.map((j) => scheduler.repo.createJob(j).job.id))() };
    },
    parseCloudConfig: async ({ format, text, fileName }) => cloudDrafts(format, text, fileName),
    testConnection: async ({ cloud }) => {
      const regions = await engine.listRegions(cloud); // signs in: a wrong password fails here
      const projects = await engine.listProjects(cloud).catch(() => []);
      return {
        cloud,
        projects,
        regions: await Promise.all(
          regions.map(async (r) => {
            try {
              const caps = await engine.regionCapabilities(cloud, r.id);
              return { ...r, methods: caps.methods, stores: caps.stores };
            } catch (e) {
              const { code, message, hint } = toErrorInfo(e);
              return {
                ...r,
                methods: [],
                stores: [],
                error: { code, message, ...(hint !== undefined ? { hint } : {}) },
              };
            }
          }),
        ),
      };
    },
    imageSchema: async ({ cloud, region }) => (await engine.glance(cloud, region)).imageSchema(),
    inspectFiles: async ({ paths }) => {
      const files = await expandImagePaths(paths.map((path) => ({ path })));
      return Promise.all(
        files.map(async ({ path }) => {
          const base = { path, name: stemOf(path) };
          try {
            const ins = await inspectFile(path);
            // A name that states a format (disk.qcow2, not disk.img) is a declaration the content must match.
            const named = diskFormatFromName(path);
            const refused = refusal(ins, named !== 'raw' ? named : undefined, false);
            return {
              ...base,
              size: ins.size,
              format: ins.format,
              diskFormat: ins.diskFormat,
              containerFormat: ins.containerFormat,
              virtualSize: ins.virtualSize,
              minDiskGiB: ins.minDiskGiB,
              findings: ins.findings.map((f) => ({
                code: f.code,
                severity: f.severity,
                message: f.message,
                hint: f.hint,
              })),
              refused: refused === undefined ? null : refused.info,
            };
          } catch (e) {
            return {
              ...base,
              size: 0,
              format: 'unknown',
              diskFormat: null,
              containerFormat: null,
              virtualSize: null,
              minDiskGiB: null,
              findings: [],
              refused: toErrorInfo(e),
            };
          }
        }),
      );
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
    setAutoSync: async (setting) => {
      if (setting === null) settings.clear('autoSync');
      else settings.set('autoSync', setting);
      return null;
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

function isApiMethod(m: unknown): m is ApiMethod {
  return typeof m === 'string' && (API_METHODS as readonly string[]).includes(m);
}

export async function dispatch(handlers: ApiHandlers, method: unknown, args: unknown): Promise<Envelope<unknown>> {
  try {
    if (!isApiMethod(method)) {
      throw new EngineError('ipc.unknown_method', `Unknown API method ${JSON.stringify(method)}.`, {
        hint: 'The renderer and main process are out of step; restart the app.',
      });
    }
    const parsed = apiArgSchemas[method].safeParse(args);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue && issue.path.length > 0 ? ` at ${issue.path.join('.')}` : '';
      throw new EngineError(
        'ipc.invalid_argument',
        `Invalid arguments for ${method}${where}: ${issue?.message ?? 'rejected'}.`,
        {
          hint: 'The call did not match the API contract.',
        },
      );
    }
    const handler = handlers[method] as (...a: unknown[]) => Promise<unknown>;
    return { result: await handler(...(parsed.data as unknown[])) };
  } catch (e) {
    return { error: toErrorInfo(e) };
  }
}
