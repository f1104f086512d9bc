/**
 * `glance-uploader`: the headless command line on the same engine and the same database as the
 * app. Errors print what happened, what to do and the code; the exit status follows the code's
 * family (exit-codes.ts). `--json` prints machine-readable output on stdout; progress goes to
 * stderr, and only on a terminal.
 */
import { doctorCommand } from './doctor-command';
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { ErrorInfo } from '../../../shared/errors';
import type { Engine } from '../clouds/engine';
import { EngineError, toErrorInfo } from '../io/errors';
import { auditCsv, auditJson } from '../queue/audit-export';
import { JobRepository, type NewJob } from '../queue/job-repository';
import { planUploadJob } from '../planning/upload-plan';
import { Controls } from '../queue/controls';
import { Lease } from '../queue/lease';
import { TARGET_METHODS, validateTargets } from '../queue/target-methods';
import { OPEN_STATES } from '../queue/target-state';
import { retryingText } from '../../../shared/retry-text';
import { allowedActions } from '../../../shared/target-states';
import { IMAGE_OPTIONS, imageName, parseProperties, parseDuration, parseRate, requireInt, UsageError } from './args';
import { EXIT, exitCodeFor } from './exit-codes';
import { inspectCommand } from './inspect-command';
import { serveCommand } from './serve-command';
import { printPlan, replicate } from './replicate-command';
import { askOffers, isAdmin } from '../planning/region-offers';
import { planDistribution } from '../planning/distribution-plan';
import { stage, staged, sync, withLocalServer } from './staging-commands';
import { LOCAL_CLOUD } from '../distribution/local-cloud';
import { autoSyncTick } from '../distribution/auto-sync';
import { Settings } from '../queue/settings';
import { out, parse, type CliIo } from './io';
import {
  cliSavedClouds,
  cliScheduler,
  follow,
  jobJson,
  open,
  report,
  runJobs,
  splitList,
  targetJson,
  targetLine,
  type Ctx,
} from './run-jobs';
import type { Db } from '../queue/database';
export type { CliIo } from './io';
import { formatBytes } from './progress-line';

const HELP: Record<string, string> = {
  main: `glance-uploader: get VM images into OpenStack Glance, reliably.

Usage: glance-uploader <command> [options]

Commands:
  upload FILE... --cloud NAME --region R[,R2]   queue uploads and run them (see upload --help)
  queue run [--watch]                             run the whole queue until it is empty (or keep watching)
  queue list | show ID                            what is queued, and one job in detail
  queue pause|resume|cancel|retry ID              act on a job (all its targets) or one target
  queue priority ID N | move ID --before ID2      reorder the queue
  queue remove ID                                 remove a finished job
  inspect FILE... [--json]                        the real format, virtual size and problems of images
  serve [--port 9292] [--write-clouds-yaml F]     a local Glance-compatible server (offline staging)
  stage FILE... [--name N] [metadata options]     upload into the local server, offline, to sync later
  staged list                                     the staged images, and where each was synced
  sync [NAME_OR_ID...] --cloud C --region R[,R2]  send staged images to clouds (all when none named)
  replicate ID --cloud C --from R --to R2[,R3]    copy an image of one region into others
  clouds list | show NAME                         the clouds found, and what each region offers
  doctor --cloud C [--horizon-origin URL]         check a cloud (and Horizon direct upload) and say what to fix
  audit export --format json|csv [--output FILE]  the attempts and audit log

Clouds come from clouds.yaml as the openstack CLI finds them (OS_CLIENT_CONFIG_FILE, OS_CLOUD).
The queue lives in GLANCE_UPLOADER_HOME (default: the app's data folder), shared with the app.
Every command takes --help; most take --json.`,
  upload: `Usage: glance-uploader upload FILE|URL... --cloud NAME --region R[,R2...] [options]

  --cloud NAME            a cloud of clouds.yaml (default: OS_CLOUD)
  --region R[,R2]         one or more regions: the image goes to each
  --name NAME             image name; with several files a template with {stem} and {n}
                          (default: the file name without its extension)
  --disk-format F         qcow2, raw, vmdk, vhd, vhdx, vdi, iso... (default: what the content is;
                          for a URL, from its extension)
  --container-format F    default bare (ova for an OVA)
  --allow-format-mismatch send it under --disk-format even where the content is another format
                          (every file is inspected first: see \`glance-uploader inspect\`)
  --visibility V          private, shared, community, public
  --min-disk GIB --min-ram MIB --protected
                          (min_disk defaults to the disk's virtual size, rounded up to GiB)
  --property K=V          a custom property (repeatable)
  --tag T                 a tag (repeatable)
  --method M              how the data gets in; only what a region offers is accepted
                          (\`clouds show CLOUD\` lists it):
                            direct          PUT the file (the default)
                            glance-direct   stage the file, then import it
                            web-download    Glance fetches an http(s) URL (the default for a URL)
                            glance-download the first region gets the upload, the others
                                            pull it from there (same cloud)
                            auto            plan each target from what its region offers
                                            (shown with the reason): the first region gets the
                                            upload, a region offering glance-download pulls it,
                                            more stores get copy-image where allowed
  --store S               the store to write to (multi-store clouds)
  --copy-to S[,S2]        then copy the image into these stores of each region (copy-image;
                          Glance's default policy allows it to admins only)
  --same-id               create the image with one id in every region (Glance accepts an id)
  --sha512 HEX            for a URL: the digest the image must have (else the first region's
                          digest is the reference the other regions must match)
  --bwlimit RATE          bytes per second for each of these jobs, e.g. 20M (binary suffixes)
  --retry-for DURATION    retry transient failures (5xx, resets, timeouts) this long before a
                          target fails, e.g. 6h (default: the setting, 24h); a crash, a kill or
                          a pause never counts
  --import-stall DURATION an import (glance-direct, web-download, glance-download) that shows
                          no change this long is stuck: its image is deleted and the import
                          made again; with --method auto, a direct upload instead (default 20m)
  --if-exists reuse       when a region already has an active image with the same sha512
                          (and size and md5), use it instead of uploading (default: upload)
  --detach                queue them and return; "queue run" (or the app) sends them
  --json                  print the result as JSON`,
  queue: `Usage: glance-uploader queue run [--watch] [--bwlimit RATE] [--retry-for DURATION] [--import-stall DURATION] [--json]
       glance-uploader queue list [--json]
       glance-uploader queue show ID [--json]
       glance-uploader queue pause|resume|cancel|retry ID
       glance-uploader queue priority ID N        higher runs first (default 0)
       glance-uploader queue move ID --before ID2
       glance-uploader queue remove ID

queue run takes --concurrency N (uploads at once, default 2) and --per-region N (default 2).

ID is a job id or a target id (a unique prefix of at least 4 characters is enough).
Against a cloud, resume sends the whole file again into the same image (Glance takes the data
of an image in one request).`,
  clouds: `Usage: glance-uploader clouds list [--json]
       glance-uploader clouds show NAME [--region R] [--json]
       glance-uploader clouds save NAME --auth-url URL [--username U --project P]
                          [--user-domain D] [--project-domain D] [--region R]
                          [--application-credential-id ID] --secret-stdin
       glance-uploader clouds forget NAME

save keeps a cloud in the data folder, as the app does, its password (or application
credential secret, read from the first line of stdin) sealed with the passphrase in
GLANCE_UPLOADER_SECRET_KEY: the app's OS keychain is not reachable from a terminal. clouds.yaml
wins over a saved cloud of the same name.

show asks each region (or R) what it offers: upload methods (direct, and the import methods
of /v2/info/import) and stores.`,
  audit: `Usage: glance-uploader audit export --format json|csv [--output FILE]`,
};

/** --retry-for and --import-stall, as the scheduler takes them. */
function retryFor(v: Record<string, unknown>): { retryBudgetMs?: number; importStallMs?: number } {
  const budget = v['retry-for'];
  const stall = v['import-stall'];
  return {
    ...(typeof budget === 'string' ? { retryBudgetMs: parseDuration('--retry-for', budget) } : {}),
    ...(typeof stall === 'string' ? { importStallMs: parseDuration('--import-stall', stall) } : {}),
  };
}

function printError(io: CliIo, e: ErrorInfo, json: boolean): void {
  if (json) {
    out(io, JSON.stringify({ error: e }));
    return;
  }
  io.stderr.write(`error: ${e.message}\n`);
  if (e.hint) io.stderr.write(`  hint: ${e.hint}\n`);
  if (e.fix) io.stderr.write(`  fix: ${e.fix}\n`);
  io.stderr.write(
    `  code: ${e.code}${e.status ? ` (HTTP ${e.status})` : ''}${e.requestId ? `, request ${e.requestId}` : ''}\n`,
  );
}

// ---- upload ----------------------------------------------------------------------------------

async function upload(args: string[], io: CliIo): Promise<number> {
  const p = parse(args, {
    ...IMAGE_OPTIONS,
    cloud: { type: 'string' },
    region: { type: 'string' },
    method: { type: 'string' },
    store: { type: 'string' },
    bwlimit: { type: 'string' },
    'retry-for': { type: 'string' },
    'import-stall': { type: 'string' },
    'if-exists': { type: 'string' },
    'copy-to': { type: 'string' },
    'same-id': { type: 'boolean' },
    sha512: { type: 'string' },
  });
  if (p.values.help === true) return (out(io, HELP.upload ?? ''), EXIT.ok);
  const v = p.values as Record<string, string | boolean | string[] | undefined>;
  const files = p.positionals;
  if (files.length === 0) throw new UsageError('upload needs at least one FILE.', 'glance-uploader upload --help');
  const cloud = (v.cloud as string | undefined) ?? io.env.OS_CLOUD;
  if (cloud === undefined || cloud === '')
    throw new UsageError('upload needs --cloud (or OS_CLOUD).', 'glance-uploader clouds list shows the clouds found.');
  const regions = splitList(v.region as string | undefined);
  if (regions.length === 0)
    throw new UsageError(
      'upload needs --region (one, or several separated by commas).',
      "For example --region RegionOne,RegionTwo; the app, or `openstack region list`, shows a cloud's regions.",
    );
  const method = v.method as string | undefined;
  if (method !== undefined && method !== 'auto' && !(TARGET_METHODS as readonly string[]).includes(method))
    throw new UsageError(
      `--method "${method}" is not one of ${TARGET_METHODS.join(', ')}.`,
      '`glance-uploader clouds show CLOUD` lists the methods each region offers.',
    );
  if (method === 'copy-image')
    throw new UsageError(
      'copy-image copies the uploaded image into more stores of the same region: it is not a way to upload.',
      'Upload as usual and add --copy-to STORE[,STORE2].',
    );
  if (method === 'glance-download' && regions.length < 2)
    throw new UsageError(
      'glance-download needs two regions at least: the first receives the upload, the others pull it from there.',
      'For example --region RegionOne,RegionTwo --method glance-download.',
    );
  const copyTo = splitList(v['copy-to'] as string | undefined);
  const sha512 = v.sha512 as string | undefined;
  if (sha512 !== undefined && !/^[0-9a-f]{128}$/i.test(sha512))
    throw new UsageError('--sha512 must be 128 hexadecimal digits.', "Copy it from the publisher's SHA512SUMS file.");
  const visibility = v.visibility as string | undefined;
  if (visibility !== undefined && !['private', 'shared', 'community', 'public'].includes(visibility))
    throw new UsageError(
      `--visibility "${visibility}" is not one of private, shared, community, public.`,
      "Leave it out for Glance's default (shared); public needs an admin.",
    );
  const bwlimit = v.bwlimit !== undefined ? parseRate(v.bwlimit as string) : undefined;
  const ifExists = (v['if-exists'] as string | undefined) ?? 'upload';
  if (ifExists !== 'upload' && ifExists !== 'reuse') {
    throw new UsageError(
      `--if-exists "${ifExists}" is not upload or reuse.`,
      'reuse adopts an active image with the same sha512 in the region instead of uploading again.',
    );
  }
  const properties = parseProperties((v.property as string[] | undefined) ?? []);
  const minDisk = requireInt('--min-disk', v['min-disk'] as string | undefined);
  const minRam = requireInt('--min-ram', v['min-ram'] as string | undefined);
  // Resolve everything before queuing anything: one bad file queues nothing.
  const planned: NewJob[] = [];
  for (const [i, f] of files.entries()) {
    const url = isUrl(f) ? new URL(f) : undefined;
    if (url === undefined && method === 'web-download')
      throw new UsageError(
        `web-download makes Glance fetch a URL, and "${f}" is not one.`,
        'Give an http(s) URL, or leave --method out to upload the local file.',
      );
    if (url !== undefined && (method === 'direct' || method === 'glance-direct'))
      throw new UsageError(
        `${f} is a URL: ${method} sends a local file.`,
        'Leave --method out (a URL is fetched by Glance with web-download), or download the file first.',
      );
    if (url === undefined && sha512 !== undefined)
      throw new UsageError(
        '--sha512 is the expected digest of a URL; a local file is hashed while it is sent.',
        'Leave --sha512 out for local files.',
      );
    const path = url === undefined ? resolve(io.cwd, f) : decodeURIComponent(url.pathname);
    planned.push(
      await planUploadJob({
        source: url === undefined ? { path } : { url, ...(sha512 !== undefined ? { sha512 } : {}) },
        name: imageName(v.name as string | undefined, path, i + 1, files.length),
        metadata: {
          diskFormat: v['disk-format'] as string | undefined,
          containerFormat: v['container-format'] as string | undefined,
          visibility,
          minDisk,
          minRam,
          protected: v.protected === true,
          tags: v.tag as string[] | undefined,
          properties,
        },
        targets: planTargets({
          cloud,
          regions,
          store: v.store as string | undefined,
          method: method === 'auto' ? undefined : method, // auto: planned below, once the regions are asked
          fromUrl: url !== undefined,
          copyTo,
        }),
        bwlimit,
        onDuplicate: ifExists,
        allowFormatMismatch: v['allow-format-mismatch'] === true,
        ...(v['same-id'] === true ? { sameImageId: randomUUID() } : {}),
        onWarning: (w) => v.json === true || io.stderr.write(`warning: ${f}: ${w.message}\n  hint: ${w.hint}\n`),
      }),
    );
  }
  for (const j of planned)
    validateTargets(
      j.name,
      j.source.kind,
      j.targets.map((t) => ({ ...t, store: t.store ?? '', method: t.method ?? 'direct' })),
    );
  // Fail early on an unknown cloud rather than after queuing.
  const { db, engine } = open(io);
  try {
    if (!engine.listClouds().some((c) => c.name === cloud)) engine.session(cloud);
    if (method === 'auto') {
      if (planned.some((j) => j.source.kind === 'url'))
        throw new UsageError(
          '--method auto plans the upload of local files; a URL is fetched by each region (web-download).',
          'Leave --method out for a URL.',
        );
      const stores =
        v.store !== undefined || copyTo.length > 0 ? [(v.store as string | undefined) ?? '', ...copyTo] : [];
      const offers = await askOffers(engine, cloud, regions, (region) =>
        v.json === true
          ? undefined
          : io.stderr.write(`note: ${region} cannot be reached now; it is planned as a push.\n`),
      );
      const admin = stores.length > 1 && (await isAdmin(engine, cloud));
      for (const j of planned) {
        j.targets = planDistribution({ cloud, regions, stores, offers, admin, method: 'auto' }).targets;
        if (v.json !== true) printPlan(io, j.name, j.targets);
      }
    }
    await checkMethodsOffered(io, engine, cloud, planned);
    const ctx: Ctx = { io, db, engine, json: v.json === true, ...retryFor(v) };
    const repo = new JobRepository(db, `cli:${process.pid}`);
    const jobs = planned.map((j) => repo.createJob(j).job);
    if (v.detach === true) {
      if (ctx.json) out(io, JSON.stringify({ queued: jobs.map((j) => ({ id: j.id, name: j.name })) }));
      else for (const j of jobs) out(io, `queued ${j.id}  ${j.name}`);
      return EXIT.ok;
    }
    return await runJobs(
      ctx,
      jobs.map((j) => j.id),
    );
  } finally {
    await engine.close();
    db.close();
  }
}

function isUrl(text: string): boolean {
  return /^https?:\/\//i.test(text);
}

/**
 * The targets of one image. The first region gets the data (the file by PUT or glance-direct,
 * a URL by web-download); with --method glance-download the other regions pull it from the
 * first; otherwise each gets it the same way (a file is read once for all). --copy-to adds a
 * copy-image into each of those stores in every region.
 */
function planTargets(o: {
  cloud: string;
  regions: string[];
  store: string | undefined;
  method: string | undefined;
  fromUrl: boolean;
  copyTo: string[];
}): NewJob['targets'] {
  const first = o.fromUrl ? 'web-download' : o.method === 'glance-direct' ? 'glance-direct' : 'direct';
  const targets: NewJob['targets'] = o.regions.map((region, i) => ({
    cloud: o.cloud,
    region,
    store: o.store,
    method: o.method === 'glance-download' && i > 0 ? 'glance-download' : first,
  }));
  for (const region of o.regions)
    for (const store of o.copyTo) targets.push({ cloud: o.cloud, region, store, method: 'copy-image' });
  return targets;
}

/**
 * Before queuing: each region must offer the import methods its targets use (/v2/info/import).
 * A region that cannot be reached now is not held against the job (it is checked again when
 * the target runs): the queue is for links that come and go.
 */
async function checkMethodsOffered(io: CliIo, engine: Engine, cloud: string, jobs: NewJob[]): Promise<void> {
  const byRegion = new Map<string, Set<string>>();
  for (const t of jobs.flatMap((j) => j.targets))
    if (t.method !== undefined && t.method !== 'direct')
      byRegion.set(t.region, (byRegion.get(t.region) ?? new Set()).add(t.method));
  for (const [region, methods] of byRegion) {
    let offered: string[];
    try {
      offered = (await engine.regionCapabilities(cloud, region)).methods;
    } catch (e) {
      if (e instanceof EngineError && e.code.startsWith('net.')) {
        io.stderr.write(`note: ${region} cannot be reached now; its import methods are checked when it runs.\n`);
        continue;
      }
      throw e;
    }
    const missing = [...methods].filter((m) => !offered.includes(m));
    if (missing.length > 0)
      throw new EngineError(
        'glance.method_not_offered',
        `${region} of ${cloud} does not offer ${missing.join(', ')}; nothing was queued.`,
        { hint: `It offers: ${offered.join(', ')}.` },
      );
  }
}

// ---- queue -----------------------------------------------------------------------------------

function resolveId(ctx: Ctx, id: string): { jobId: string; targetIds: string[] } {
  const repo = new JobRepository(ctx.db, 'resolve');
  if (id.length < 4)
    throw new UsageError(
      `"${id}" is too short to name a job or target.`,
      'Give at least 4 characters of its id (queue list shows them).',
    );
  const jobs = repo.listJobs().filter((j) => j.id.startsWith(id));
  const targets = repo
    .listJobs()
    .flatMap((j) => repo.targetsOf(j.id))
    .filter((t) => t.id.startsWith(id));
  if (jobs.length + targets.length > 1)
    throw new UsageError(`"${id}" names more than one job or target.`, 'Give more characters of the id.');
  const job = jobs[0];
  if (job !== undefined) return { jobId: job.id, targetIds: repo.targetsOf(job.id).map((t) => t.id) };
  const target = targets[0];
  if (target !== undefined) return { jobId: target.jobId, targetIds: [target.id] };
  throw new EngineError('queue.not_found', `No job or target ${id} in the queue.`, {
    hint: 'glance-uploader queue list shows what is queued.',
  });
}

async function queue(args: string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = args;
  const p = parse(rest, {
    watch: { type: 'boolean' },
    bwlimit: { type: 'string' },
    'retry-for': { type: 'string' },
    'import-stall': { type: 'string' },
    concurrency: { type: 'string' },
    'per-region': { type: 'string' },
    before: { type: 'string' },
  });
  if (sub === undefined || p.values.help === true || sub === 'help') return (out(io, HELP.queue ?? ''), EXIT.ok);
  const json = p.values.json === true;
  const { db, engine } = open(io);
  const ctx: Ctx = { io, db, engine, json, ...retryFor(p.values) };
  try {
    const { scheduler, line } = cliScheduler(
      ctx,
      p.values.bwlimit !== undefined ? parseRate(p.values.bwlimit as string) : undefined,
    );
    const repo = scheduler.repo;
    switch (sub) {
      case 'run': {
        const got = scheduler.start();
        if (!got.acquired) {
          throw new EngineError(
            'queue.lease_held',
            `The queue is already run by ${got.current.holder} (pid ${got.current.pid} on ${got.current.host}).`,
            {
              hint: 'Only one engine runs a queue: let that one finish, or stop it first.',
            },
          );
        }
        // Jobs that stage, or that remove their staged image, and auto-sync need the local server.
        const open = repo.targetsIn([...OPEN_STATES]);
        const autoSync = new Settings(db).get('autoSync') !== undefined;
        const needsLocal =
          p.values.watch === true ||
          autoSync ||
          open.some((t) => t.cloud === LOCAL_CLOUD || repo.getJob(t.jobId).removeStagedAfter);
        const run = async (): Promise<boolean> => {
          // Auto-sync: staged images not synced yet are queued now, and (watching) every 30 s.
          const tick = (): Promise<void> =>
            autoSyncTick(ctx.engine, db, `cli:${process.pid}`).then(
              (r) => {
                if (r.queued.length > 0 && !ctx.json) io.stderr.write(`auto-sync: queued ${r.queued.length} job(s)\n`);
              },
              (e: unknown) => {
                io.stderr.write(`auto-sync: ${toErrorInfo(e).message}\n`);
              },
            );
          if (autoSync) await tick();
          const every = p.values.watch === true ? setInterval(() => void tick(), 30_000) : undefined;
          try {
            return await follow(
              ctx,
              scheduler,
              line,
              () => p.values.watch !== true && repo.targetsIn([...OPEN_STATES]).length === 0,
            );
          } finally {
            clearInterval(every);
          }
        };
        const interrupted = needsLocal ? await withLocalServer(io, ctx.engine, ctx.json, run) : await run();
        if (interrupted) return EXIT.interrupted;
        const all = repo.listJobs().map((j) => j.id);
        return report(ctx, all);
      }
      case 'list': {
        const jobs = repo.listJobs().map((j) => ({ job: j, targets: repo.targetsOf(j.id) }));
        if (json)
          out(
            io,
            JSON.stringify({
              jobs: jobs.map((j) => ({ ...jobJson(j.job), targets: j.targets.map((t) => targetJson(t, repo)) })),
            }),
          );
        else if (jobs.length === 0) out(io, 'The queue is empty.');
        else
          for (const j of jobs)
            out(
              io,
              `${j.job.id.slice(0, 8)}  ${j.job.name}  ${formatBytes(j.job.sourceSize ?? 0)}  ${j.targets.map((t) => `${t.region}:${retryingText(t, Date.now()) ?? t.state}`).join(' ')}`,
            );
        return EXIT.ok;
      }
      case 'show': {
        const { jobId } = resolveId(ctx, p.positionals[0] ?? '');
        const job = repo.getJob(jobId);
        const targets = repo.targetsOf(jobId);
        const events = repo.events({ jobId });
        if (json)
          out(
            io,
            JSON.stringify({
              ...jobJson(job),
              metadata: job.metadata,
              targets: targets.map((t) => targetJson(t, repo)),
              events,
            }),
          );
        else {
          out(
            io,
            `${job.name}  (${job.id})\n  file   ${job.sourcePath ?? '-'}  ${formatBytes(job.sourceSize ?? 0)}\n  sha512 ${job.sha512 ?? '(not yet)'}`,
          );
          for (const t of targets) {
            out(io, `  ${targetLine(job, t, repo)}`);
            if (t.planReason !== null) out(io, `      why: ${t.planReason}`);
          }
          for (const e of events.slice(-30))
            out(
              io,
              `  ${new Date(e.at).toISOString()}  ${e.kind}  ${e.fromState ?? ''}${e.toState ? ` -> ${e.toState}` : ''}  ${e.region ?? ''}`,
            );
        }
        return EXIT.ok;
      }
      case 'pause':
      case 'resume':
      case 'cancel':
      case 'retry':
      case 'priority':
      case 'move':
      case 'remove': {
        const { jobId, targetIds } = resolveId(ctx, p.positionals[0] ?? '');
        // Order and removal are plain database updates the engine reads at every tick.
        if (sub === 'remove') repo.removeJob(jobId);
        if (sub === 'priority') {
          const n = Number(p.positionals[1]);
          if (!Number.isInteger(n))
            throw new UsageError(
              'queue priority needs a whole number after the id.',
              'For example: queue priority 3f2a 10 (higher runs first; default 0).',
            );
          repo.setPriority(jobId, n);
        }
        if (sub === 'move') {
          if (p.values.before === undefined)
            throw new UsageError(
              'queue move needs --before ID.',
              'For example: queue move 3f2a --before 9c1d (the job runs before that one).',
            );
          repo.moveBefore(jobId, resolveId(ctx, p.values.before as string).jobId);
        }
        if (sub === 'pause' || sub === 'resume' || sub === 'cancel' || sub === 'retry') {
          const lease = new Lease(db, `cli-control:${process.pid}`);
          const got = lease.acquire();
          if (got.acquired) {
            // No engine runs the queue: act on it directly.
            try {
              for (const id of targetIds) {
                const t = repo.getTarget(id);
                // The targets of a job for which the control makes sense (one rule: allowedActions).
                if (allowedActions(t.state).includes(sub)) await scheduler.control(id, sub);
              }
            } finally {
              lease.release();
            }
          } else {
            // The engine that runs the queue (the app, say) applies the request at its next tick.
            const controls = new Controls(db);
            const ids = targetIds.map((id) => controls.request(`cli:${process.pid}`, id, sub));
            const answers = await controls.wait(ids, 30_000);
            if (answers.some((a) => a === undefined)) {
              throw new EngineError(
                'queue.lease_held',
                `${got.current.holder} (pid ${got.current.pid}) runs the queue but did not answer the ${sub} request within 30 s.`,
                {
                  hint: 'It may be busy or hung; the request stays queued and is applied when it answers.',
                },
              );
            }
            for (const a of answers) {
              if (a === undefined || a.outcome === 'ok') continue;
              const why = a.outcome === 'refused' ? `refused: ${a.error.message} (${a.error.code})` : a.message;
              io.stderr.write(`${a.targetId.slice(0, 8)}: ${why}\n`);
            }
          }
        }
        if (sub === 'remove') out(io, `removed ${jobId}`);
        else if (sub === 'priority' || sub === 'move')
          for (const j of repo.listJobs()) out(io, `${j.id.slice(0, 8)}  priority ${j.priority}  ${j.name}`);
        else
          for (const t of repo.targetsOf(jobId).filter((x) => targetIds.includes(x.id)))
            out(io, targetLine(repo.getJob(jobId), t));
        if (sub === 'resume' || sub === 'retry')
          io.stderr.write('Queued again: "glance-uploader queue run" (or the app) sends it.\n');
        return EXIT.ok;
      }
      default:
        throw new UsageError(`Unknown queue command "${sub}".`, 'glance-uploader queue --help');
    }
  } finally {
    await engine.close();
    db.close();
  }
}

// ---- clouds, audit ---------------------------------------------------------------------------

/** clouds save / forget: the CLI's way to keep a cloud with its secret sealed by a passphrase. */
async function saveCloud(io: CliIo, db: Db, sub: 'save' | 'forget', p: ReturnType<typeof parse>): Promise<number> {
  const name = p.positionals[0];
  if (name === undefined || p.positionals.length > 1)
    throw new UsageError(`clouds ${sub} takes one NAME.`, 'glance-uploader clouds --help');
  const saved = cliSavedClouds(db, io.env);
  if (sub === 'forget') {
    if (!saved.has(name))
      throw new EngineError('config.cloud_not_found', `No saved cloud named "${name}".`, {
        hint: 'glance-uploader clouds list shows them (source "saved in the app").',
      });
    saved.remove(name);
    out(io, p.values.json === true ? JSON.stringify({ forgotten: name }) : `forgot ${name}`);
    return EXIT.ok;
  }
  const v = p.values as Record<string, string | boolean | undefined>;
  const authUrl = v['auth-url'] as string | undefined;
  if (authUrl === undefined || !/^https?:\/\//.test(authUrl))
    throw new UsageError('clouds save needs --auth-url http(s)://keystone.../v3.', 'glance-uploader clouds --help');
  if (name === LOCAL_CLOUD) throw new UsageError('"local" is the local server\'s name.', 'Choose another name.');
  if (v['secret-stdin'] !== true || io.stdin === undefined)
    throw new UsageError(
      'clouds save reads the password (or secret) from stdin: add --secret-stdin and pipe it in.',
      'For example: pass show openstack/prod | glance-uploader clouds save prod ... --secret-stdin',
    );
  let input = '';
  for await (const chunk of io.stdin) input += String(chunk);
  const secret = input.split(/\r?\n/)[0] ?? '';
  if (secret === '') throw new UsageError('Nothing came on stdin.', 'Pipe the password in, one line.');
  const appCred = v['application-credential-id'] as string | undefined;
  saved.save(name, {
    ...(appCred !== undefined ? { auth_type: 'v3applicationcredential' } : {}),
    auth: {
      auth_url: authUrl,
      ...(v.username !== undefined ? { username: v.username } : {}),
      ...(v.project !== undefined ? { project_name: v.project } : {}),
      ...(v['user-domain'] !== undefined ? { user_domain_name: v['user-domain'] } : {}),
      ...(v['project-domain'] !== undefined ? { project_domain_name: v['project-domain'] } : {}),
      ...(appCred !== undefined
        ? { application_credential_id: appCred, application_credential_secret: secret }
        : { password: secret }),
    },
    ...(v.region !== undefined ? { region_name: v.region } : {}),
  });
  out(
    io,
    p.values.json === true
      ? JSON.stringify({ saved: name })
      : `saved ${name} (secret sealed with GLANCE_UPLOADER_SECRET_KEY)`,
  );
  return EXIT.ok;
}

async function clouds(args: string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = args;
  const p = parse(rest, {
    region: { type: 'string' },
    'auth-url': { type: 'string' },
    username: { type: 'string' },
    project: { type: 'string' },
    'user-domain': { type: 'string' },
    'project-domain': { type: 'string' },
    'application-credential-id': { type: 'string' },
    'secret-stdin': { type: 'boolean' },
  });
  const known = sub === 'list' || sub === 'show' || sub === 'save' || sub === 'forget';
  if (!known || p.values.help === true)
    return (out(io, HELP.clouds ?? ''), sub === undefined || p.values.help === true ? EXIT.ok : EXIT.usage);
  const { db, engine } = open(io);
  try {
    if (sub === 'show') return await showCloud(io, engine, p);
    if (sub === 'save' || sub === 'forget') return await saveCloud(io, db, sub, p);
    const list = engine.listClouds();
    if (p.values.json === true) out(io, JSON.stringify({ clouds: list, default: io.env.OS_CLOUD ?? null }));
    else if (list.length === 0)
      out(io, 'No cloud found: set OS_CLIENT_CONFIG_FILE or create ~/.config/openstack/clouds.yaml.');
    else
      for (const c of list)
        out(
          io,
          `${c.name === io.env.OS_CLOUD ? '*' : ' '} ${c.name}  ${c.authUrl}  ${c.authType}  ${c.regions.join(',') || '(all regions)'}${c.insecure ? '  INSECURE (verify: false)' : ''}`,
        );
    return EXIT.ok;
  } finally {
    await engine.close();
    db.close();
  }
}

async function showCloud(io: CliIo, engine: Engine, p: ReturnType<typeof parse>): Promise<number> {
  const name = p.positionals[0] ?? io.env.OS_CLOUD;
  if (name === undefined || name === '')
    throw new UsageError('clouds show needs a cloud name (or OS_CLOUD).', 'glance-uploader clouds list shows them.');
  const only = p.values.region as string | undefined;
  const regions = only !== undefined ? [only] : (await engine.listRegions(name)).map((r) => r.id);
  const caps = await Promise.all(regions.map((r) => engine.regionCapabilities(name, r)));
  if (p.values.json === true) {
    out(io, JSON.stringify({ cloud: name, regions: caps }));
    return EXIT.ok;
  }
  for (const c of caps) {
    out(io, `${c.region}`);
    out(io, `  methods: ${c.methods.join(', ')}`);
    out(
      io,
      `  stores:  ${c.stores.length === 0 ? '(one store)' : c.stores.map((s) => `${s.id}${s.default ? ' (default)' : ''}`).join(', ')}`,
    );
  }
  return EXIT.ok;
}

async function audit(args: string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = args;
  const p = parse(rest, { format: { type: 'string' }, output: { type: 'string' } });
  if (sub !== 'export' || p.values.help === true)
    return (out(io, HELP.audit ?? ''), p.values.help === true || sub === undefined ? EXIT.ok : EXIT.usage);
  const format = (p.values.format as string | undefined) ?? 'json';
  if (format !== 'json' && format !== 'csv')
    throw new UsageError(`--format "${format}" is not json or csv.`, 'Use --format json or --format csv.');
  const { db, engine } = open(io);
  try {
    const events = new JobRepository(db, 'audit').events();
    const text = format === 'csv' ? auditCsv(events) : `${auditJson(events)}\n`;
    if (p.values.output !== undefined) {
      writeFileSync(resolve(io.cwd, p.values.output as string), text);
      io.stderr.write(`${events.length} events written to ${p.values.output as string}\n`);
    } else io.stdout.write(text);
    return EXIT.ok;
  } finally {
    await engine.close();
    db.close();
  }
}

export async function main(argv: string[], io: CliIo): Promise<number> {
  const [command, ...rest] = argv;
  const json = argv.includes('--json');
  try {
    switch (command) {
      case 'upload':
        return await upload(rest, io);
      case 'queue':
        return await queue(rest, io);
      case 'clouds':
        return await clouds(rest, io);
      case 'audit':
        return await audit(rest, io);
      case 'inspect':
        return await inspectCommand(rest, io);
      case 'serve':
        return await serveCommand(rest, io);
      case 'stage':
        return await stage(rest, io, upload);
      case 'staged':
        return await staged(rest, io);
      case 'sync':
        return await sync(rest, io);
      case 'replicate':
        return await replicate(rest, io);
      case 'doctor':
        return await doctorCommand(rest, io);
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        out(io, HELP.main ?? '');
        return command === undefined ? EXIT.usage : EXIT.ok;
      default:
        throw new UsageError(`Unknown command "${command}".`, 'glance-uploader --help lists the commands.');
    }
  } catch (e) {
    if (e instanceof UsageError) {
      if (json) {
        const error: ErrorInfo = { code: 'usage', message: e.message, hint: e.hint };
        out(io, JSON.stringify({ error }));
      } else io.stderr.write(`error: ${e.message}\n${e.hint ? `  hint: ${e.hint}\n` : ''}`);
      return EXIT.usage;
    }
    const info = toErrorInfo(e);
    printError(io, info, json);
    return e instanceof EngineError ? exitCodeFor(info.code) : EXIT.internal;
  }
}
