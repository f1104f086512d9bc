/**
 * Applying a plan: its uploads become queue jobs like any other (one per family version, a target
 * per region that needs it, each with the catalog's image id for that region; a target already
 * queued for that id is followed, not queued twice), and its other steps are Glance calls made
 * here, in the plan's order, each written to the audit log (`catalog.<step>`). A step that fails
 * stops the rest of its family in that region (a delete never follows a rename that failed);
 * other families and regions go on, and the failure is reported.
 */
import type { Engine } from '../clouds/engine';
import { EngineError, toErrorInfo } from '../io/errors';
import type { ErrorInfo } from '../../../shared/errors';
import { addMember, setMemberStatus } from '../openstack/glance-members';
import type { AuditLog } from '../queue/audit-log';
import type { JobRepository, NewJob, NewTarget } from '../queue/job-repository';
import { isTerminal } from '../queue/target-state';
import { planUploadJob } from '../planning/upload-plan';
import { identify } from '../io/source-file';
import type { VersionSource } from './version-sources';
import type { Catalog } from './catalog-file';
import type { CatalogAction, CatalogPlan } from './catalog-plan';
import { lookAt } from './catalog-session';

export interface UploadBatch {
  /** New jobs to queue. */
  jobs: NewJob[];
  /** Jobs already in the queue for some of these images (followed, not queued again). */
  queued: string[];
  /** Versions not queued, with why: a refused file, or the same source whose last try failed. */
  refused: { family: string; version: string; error: ErrorInfo }[];
}

/** The targets of one version: one per region (the first store gets the data, the others copy-image). */
function targetsOf(c: Catalog, actions: CatalogAction[], fromUrl: boolean): NewTarget[] {
  const family = c.families.find((f) => f.id === actions[0]?.family);
  const out: NewTarget[] = [];
  for (const a of actions) {
    const stores = family?.targets.find((t) => t.cloud === a.cloud && t.regions.includes(a.region))?.stores ?? [];
    const method = fromUrl ? 'web-download' : 'direct';
    out.push({
      cloud: a.cloud,
      region: a.region,
      method,
      imageId: a.imageId,
      ...(stores[0] ? { store: stores[0] } : {}),
      planReason: `catalog ${c.name}: ${a.why}`,
    });
    for (const store of stores.slice(1)) out.push({ cloud: a.cloud, region: a.region, store, method: 'copy-image' });
  }
  return out;
}

/**
 * The last try of this image failed and its source is the same as then: it is not queued again
 * by itself (a watch would queue it every minute), only once the file changes or on `queue retry`.
 */
async function failedBefore(
  repo: JobRepository,
  a: CatalogAction,
  source: VersionSource,
): Promise<ErrorInfo | undefined> {
  const last = repo.targetsWithFixedImage(a.imageId ?? '').at(-1);
  if (last?.state !== 'failed') return undefined;
  const job = repo.getJob(last.jobId);
  const same =
    'url' in source
      ? job.sourceUrl === source.url
      : await identify(source.path).then(
          (id) => job.sourcePath === source.path && job.sourceSize === id.size && job.sourceMtimeMs === id.mtimeMs,
          () => false,
        );
  if (!same) return undefined;
  const e = last.error;
  return {
    code: e?.code ?? 'queue.invalid_job',
    message: `The last upload of this version to ${a.region} failed${e ? `: ${e.message}` : ''}; its source has not changed since.`,
    hint: `${e?.hint ? `${e.hint} ` : ''}It is queued again once the file changes, or now with \`glance-uploader queue retry ${last.jobId.slice(0, 8)}\`.`,
  };
}

/** The plan's uploads as jobs (inspected like any upload); a version that cannot be queued is said, the others go on. */
export async function uploadBatch(
  c: Catalog,
  plan: CatalogPlan,
  repo: JobRepository,
  onWarning?: (message: string) => void,
): Promise<UploadBatch> {
  const groups = new Map<string, CatalogAction[]>();
  const queued = new Set<string>();
  const refused: UploadBatch['refused'] = [];
  for (const a of plan.actions) {
    if (a.kind !== 'upload' || a.upload === undefined || a.imageId === undefined) continue;
    const live = repo.targetsWithFixedImage(a.imageId).find((t) => !isTerminal(t.state));
    if (live !== undefined) {
      queued.add(live.jobId);
      continue;
    }
    const failed = await failedBefore(repo, a, a.upload.version.source);
    if (failed !== undefined) {
      refused.push({ family: a.family, version: a.version ?? '', error: failed });
      continue;
    }
    const k = `${a.family}\u0000${a.version ?? ''}`;
    groups.set(k, [...(groups.get(k) ?? []), a]);
  }
  const jobs: NewJob[] = [];
  for (const actions of groups.values()) {
    const first = actions[0]!;
    try {
      jobs.push(await versionJob(c, actions, onWarning));
    } catch (e) {
      refused.push({ family: first.family, version: first.version ?? '', error: toErrorInfo(e) });
    }
  }
  return { jobs, queued: [...queued], refused };
}

async function versionJob(
  c: Catalog,
  actions: CatalogAction[],
  onWarning?: (message: string) => void,
): Promise<NewJob> {
  const first = actions[0]!;
  const family = c.families.find((f) => f.id === first.family)!;
  const { version, fields } = first.upload!;
  const src = version.source;
  const job = await planUploadJob({
    source: 'url' in src ? { url: new URL(src.url), sha512: src.sha512 } : { path: src.path },
    name: String(fields.name),
    metadata: {
      diskFormat: family.disk_format,
      containerFormat: family.container_format,
      visibility: fields.visibility as string,
      minDisk: family.min_disk,
      minRam: family.min_ram,
      tags: family.tags,
      properties: (fields.properties ?? {}) as Record<string, string>,
    },
    targets: targetsOf(c, actions, 'url' in src),
    onWarning: (w) => onWarning?.(`${family.id} ${version.version}: ${w.message}`),
  });
  if (fields.os_hidden === true) job.metadata = { ...job.metadata, os_hidden: true };
  return job;
}

export interface StepOutcome {
  action: CatalogAction;
  error?: ErrorInfo;
}

async function runStep(engine: Engine, a: CatalogAction): Promise<void> {
  const glance = await engine.glance(a.cloud, a.region);
  const id = a.imageId ?? '';
  switch (a.kind) {
    case 'deactivate':
      return glance.deactivate(id);
    case 'reactivate':
      return glance.reactivate(id);
    case 'share':
      return addMember(glance, id, a.member ?? '');
    case 'accept':
      return setMemberStatus(await engine.glance(a.acceptWith ?? '', a.region), id, a.member ?? '', 'accepted');
    case 'delete':
      return glance.deleteImageIfPresent(id);
    default:
      if (a.patch === undefined) throw new EngineError('internal', `The catalog step ${a.kind} has nothing to send.`);
      await glance.updateImage(id, a.patch);
  }
}

/** The steps that are not uploads, in order, each in the audit log; a failure stops its family there. */
export async function runSteps(
  engine: Engine,
  audit: AuditLog,
  plan: CatalogPlan,
  onStep?: (o: StepOutcome) => void,
): Promise<StepOutcome[]> {
  const stopped = new Set<string>();
  const out: StepOutcome[] = [];
  for (const a of plan.actions) {
    if (a.kind === 'upload' || a.kind === 'note' || a.afterUpload === true) continue;
    const scope = `${a.cloud}\u0000${a.region}\u0000${a.family}`;
    if (stopped.has(scope)) continue;
    let outcome: StepOutcome;
    try {
      await runStep(engine, a);
      outcome = { action: a };
    } catch (e) {
      stopped.add(scope);
      outcome = { action: a, error: toErrorInfo(e) };
    }
    audit.record({
      kind: `catalog.${a.kind}`,
      jobId: null,
      targetId: null,
      fromState: null,
      toState: null,
      cloud: a.cloud,
      region: a.region,
      imageId: a.imageId ?? null,
      detail: {
        catalog: plan.catalog,
        family: a.family,
        version: a.version ?? null,
        what: a.what,
        why: a.why,
        ...(a.drift === true ? { drift: true } : {}),
        ...(outcome.error !== undefined ? { error: outcome.error } : {}),
      },
    });
    out.push(outcome);
    onStep?.(outcome);
  }
  return out;
}

/** Passes of steps after the uploads before apply says the clouds do not settle. */
const MAX_PASSES = 4;

/**
 * The steps after the uploads: look, make the steps, look again, until a look finds only uploads
 * and notes left (each pass may make only what the one before allows: the latest's plain name
 * once the older image gave it up, members once the image exists). Returns every step made and
 * the last look's plan (its changes: what could not be made).
 */
export async function converge(
  engine: Engine,
  audit: AuditLog,
  catalog: Catalog,
  onStep?: (o: StepOutcome) => void,
): Promise<{ steps: StepOutcome[]; final: CatalogPlan }> {
  const steps: StepOutcome[] = [];
  let plan = (await lookAt(engine, catalog)).plan;
  for (let pass = 0; pass < MAX_PASSES; pass++) {
    if (!plan.actions.some((a) => a.kind !== 'upload' && a.kind !== 'note' && a.afterUpload !== true)) break;
    const done = await runSteps(engine, audit, plan, onStep);
    steps.push(...done);
    plan = (await lookAt(engine, catalog)).plan;
    if (done.every((o) => o.error !== undefined)) break; // nothing moved: another pass would fail the same way
  }
  return { steps, final: plan };
}
