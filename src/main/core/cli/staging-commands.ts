/**
 * Offline staging and sync: `stage` uploads files into the local server (the cloud `local`),
 * `staged list` shows what is staged and where each image went, `sync` queues staged images to
 * clouds and runs them. Each works whether or not the app runs: the local server on the data
 * folder is used when one is up, else started for the duration of the command.
 */
import { existsSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { Engine } from '../engine';
import { EngineError } from '../errors';
import type { GlanceImage } from '../openstack/glance-types';
import { JobRepository, type JobRecord, type NewJob, type TargetRecord } from '../queue/job-repository';
import { isTerminal } from '../queue/target-state';
import { LOCAL_CLOUD, LOCAL_REGION, stagedDataPath, stagedMetadata } from '../staging/local-cloud';
import { findRunningServer, startServerProcess, type ServerInfo } from '../staging/server-process';
import { identify } from '../transfer/source-file';
import { parseRate, UsageError } from './args';
import { EXIT } from './exit-codes';
import { out, parse, type CliIo } from './io';
import { askOffers, isAdmin, parsePlanMethod, printPlan } from './distribution';
import { open, runJobs, splitList, type Ctx } from './run-jobs';
import { planDistribution, type RegionOffer } from '../queue/distribution-plan';
import { validateTargets } from '../queue/target-methods';

export const STAGE_HELP = `Usage: glance-uploader stage FILE... [--name N] [metadata options as for upload]

Uploads each file into the local server (offline: no cloud is needed), inspected and hashed
there, to be synced later with \`glance-uploader sync\`. Takes the upload command's metadata
options: --name, --disk-format, --container-format, --visibility, --min-disk, --min-ram,
--protected, --property K=V, --tag T, --allow-format-mismatch, and --detach, --json.
The local server of the data folder is used when it runs (the app starts one), else started
for the duration of the command.`;

export const STAGED_HELP = `Usage: glance-uploader staged list [--json]

The images of the local server, and for each the clouds and regions it was synced to (state
and image id there).`;

export const SYNC_HELP = `Usage: glance-uploader sync [NAME_OR_ID...] --cloud NAME --region R[,R2] [options]

Sends staged images (all of them when none is named) to each region: the same metadata and
tags, the sha512 verified there. An image already in a region (same sha512, size and md5) is
linked, not sent again; a region it already went to is skipped.

  --cloud NAME           a cloud of clouds.yaml (default: OS_CLOUD)
  --region R[,R2]        one or more regions
  --store S[,S2]         the stores to fill in each region (multi-store clouds)
  --method M             auto (default): each region gets the cheapest method it offers, shown
                         with the reason (the first region gets the push, a region offering
                         glance-download pulls it from there, more stores by copy-image where
                         allowed); push: send to every region; glance-download: pull everywhere
  --same-id              create the image with the staged image's id in every region
  --if-exists upload     send it even when the region has the same image (default: reuse it)
  --remove-local         delete the staged image once every region verified it
  --bwlimit RATE         bytes per second for each image, e.g. 20M
  --detach               queue and return; "queue run" (or the app) sends them
  --json                 print the result as JSON

A sync is a queue job like any other: it survives restarts and retries a region that cannot
be reached (the others go on).`;

/** The script that runs this CLI (to start `serve` as a child): argv[1], else bin/ above this file. */
function cliEntry(): string {
  const arg = process.argv[1];
  if (arg !== undefined && /glance-uploader/.test(basename(arg)) && existsSync(arg)) return arg;
  for (let dir = import.meta.dirname; dir !== dirname(dir); dir = dirname(dir)) {
    const candidate = join(dir, 'bin', 'glance-uploader.mjs');
    if (existsSync(candidate)) return candidate;
  }
  throw new EngineError('internal', 'Cannot find the glance-uploader script to start the local server.', {
    hint: 'Start it yourself with `glance-uploader serve`, then run this command again.',
  });
}

/**
 * Run `fn` with the local server of the engine's data folder up: the running one, else one
 * started now and stopped afterwards (the data stays; the next one serves it again).
 */
export async function withLocalServer<T>(
  io: CliIo,
  engine: Engine,
  quiet: boolean,
  fn: (server: ServerInfo) => Promise<T>,
): Promise<T> {
  const running = await findRunningServer(engine.localServerDir);
  if (running !== undefined) return fn(running);
  const started = await startServerProcess({ entry: cliEntry(), dataDir: engine.localServerDir, env: io.env });
  if (!quiet) io.stderr.write(`started the local server on ${started.url} for this command\n`);
  try {
    return await fn(started);
  } finally {
    await started.stop();
  }
}

// ---- stage -----------------------------------------------------------------------------------

const STAGE_OPTIONS = {
  name: { type: 'string' },
  'disk-format': { type: 'string' },
  'container-format': { type: 'string' },
  visibility: { type: 'string' },
  'min-disk': { type: 'string' },
  'min-ram': { type: 'string' },
  protected: { type: 'boolean' },
  property: { type: 'string', multiple: true },
  tag: { type: 'string', multiple: true },
  'allow-format-mismatch': { type: 'boolean' },
  detach: { type: 'boolean' },
} as const;

/** stage = upload into the cloud `local`, with the server up for the duration. */
export async function stage(
  args: string[],
  io: CliIo,
  upload: (args: string[], io: CliIo) => Promise<number>,
): Promise<number> {
  const p = parse(args, STAGE_OPTIONS); // refuses --cloud, --region, --method...: a stage goes to the local server
  if (p.values.help === true) return (out(io, STAGE_HELP), EXIT.ok);
  if (p.positionals.length === 0)
    throw new UsageError('stage needs at least one FILE.', 'glance-uploader stage --help');
  const engine = new Engine({ env: io.env, cwd: io.cwd });
  try {
    return await withLocalServer(io, engine, p.values.json === true, () =>
      upload([...args, '--cloud', LOCAL_CLOUD, '--region', LOCAL_REGION], io),
    );
  } finally {
    await engine.close();
  }
}

// ---- staged list -----------------------------------------------------------------------------

interface SyncRecord {
  jobId: string;
  cloud: string;
  region: string;
  store: string;
  method: string;
  state: string;
  imageId: string | null;
  error: string | null;
}

/** Where each staged image went: the targets of every sync job made from it. */
function syncRecords(repo: JobRepository): Map<string, SyncRecord[]> {
  const byImage = new Map<string, SyncRecord[]>();
  for (const j of repo.listJobs()) {
    if (j.sourceKind !== 'staged' || j.stagedImageId === null) continue;
    const list = byImage.get(j.stagedImageId) ?? [];
    for (const t of repo.targetsOf(j.id))
      list.push({
        jobId: j.id,
        cloud: t.cloud,
        region: t.region,
        store: t.store,
        method: t.method,
        state: t.state,
        imageId: t.remoteImageId,
        error: t.error?.code ?? null,
      });
    byImage.set(j.stagedImageId, list);
  }
  return byImage;
}

export async function staged(args: string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = args;
  const p = parse(rest, {});
  if (sub === undefined || sub === '--help' || sub === '-h' || p.values.help === true)
    return (out(io, STAGED_HELP), EXIT.ok);
  if (sub !== 'list') throw new UsageError(`Unknown staged command "${sub}".`, 'glance-uploader staged list');
  const json = p.values.json === true;
  const { db, engine } = open(io);
  try {
    const images = await withLocalServer(io, engine, json, async () =>
      (await engine.glance(LOCAL_CLOUD, LOCAL_REGION)).listImages(),
    );
    const records = syncRecords(new JobRepository(db, 'staged'));
    if (json) {
      out(
        io,
        JSON.stringify({
          staged: images.map((i) => ({
            id: i.id,
            name: i.name,
            status: i.status,
            size: i.size,
            disk_format: i.disk_format,
            container_format: i.container_format,
            sha512: i.os_hash_value,
            tags: i.tags,
            synced: records.get(i.id) ?? [],
          })),
        }),
      );
      return EXIT.ok;
    }
    if (images.length === 0) out(io, 'No staged images. `glance-uploader stage FILE` stages one.');
    for (const i of images) {
      out(io, `${i.id}  ${i.name ?? '-'}  ${i.status}  ${i.size ?? 0} bytes  ${i.disk_format ?? '-'}`);
      for (const r of records.get(i.id) ?? [])
        out(
          io,
          `    -> ${r.cloud}/${r.region}${r.store ? `/${r.store}` : ''}  ${r.state}  ${r.imageId ?? '-'}${r.error ? `  ${r.error}` : ''}`,
        );
    }
    return EXIT.ok;
  } finally {
    await engine.close();
    db.close();
  }
}

// ---- sync ------------------------------------------------------------------------------------

/** The staged images a sync names (by id, id prefix or exact name), or all active ones. */
function select(images: GlanceImage[], names: string[]): GlanceImage[] {
  if (names.length === 0) return images.filter((i) => i.status === 'active');
  return names.map((n) => {
    const byId = images.filter((i) => i.id === n || (n.length >= 4 && i.id.startsWith(n)));
    const matches = byId.length > 0 ? byId : images.filter((i) => i.name === n);
    if (matches.length === 0)
      throw new EngineError('staged.not_found', `No staged image is named or has the id "${n}".`, {
        hint: 'glance-uploader staged list shows the staged images.',
      });
    if (matches.length > 1)
      throw new UsageError(`"${n}" names ${matches.length} staged images.`, 'Give the id (staged list shows it).');
    const img = matches[0] as GlanceImage;
    if (img.status !== 'active')
      throw new EngineError('staged.not_ready', `Staged image ${img.name ?? img.id} is ${img.status}, not active.`, {
        hint: 'Finish staging it first (queue list shows its upload), or stage the file again.',
      });
    return img;
  });
}

/** A target of an earlier sync of this image that is done or still under way: not queued twice. */
function alreadyThere(
  repo: JobRepository,
  stagedId: string,
  where: { cloud: string; region: string; store: string },
): { job: JobRecord; target: TargetRecord } | undefined {
  for (const j of repo.listJobs()) {
    if (j.stagedImageId !== stagedId) continue;
    const t = repo
      .targetsOf(j.id)
      .find(
        (x) =>
          x.cloud === where.cloud &&
          x.region === where.region &&
          x.store === where.store &&
          (x.state === 'done' || !isTerminal(x.state)),
      );
    if (t !== undefined) return { job: j, target: t };
  }
  return undefined;
}

export async function sync(args: string[], io: CliIo): Promise<number> {
  const p = parse(args, {
    cloud: { type: 'string' },
    region: { type: 'string' },
    store: { type: 'string' },
    method: { type: 'string' },
    'same-id': { type: 'boolean' },
    'if-exists': { type: 'string' },
    'remove-local': { type: 'boolean' },
    bwlimit: { type: 'string' },
    detach: { type: 'boolean' },
  });
  if (p.values.help === true) return (out(io, SYNC_HELP), EXIT.ok);
  const v = p.values as Record<string, string | boolean | undefined>;
  const cloud = (v.cloud as string | undefined) ?? io.env.OS_CLOUD;
  if (cloud === undefined || cloud === '')
    throw new UsageError('sync needs --cloud (or OS_CLOUD).', 'glance-uploader clouds list shows the clouds found.');
  if (cloud === LOCAL_CLOUD)
    throw new UsageError('sync sends staged images to a cloud; "local" is where they are.', 'Name another cloud.');
  const regions = splitList(v.region as string | undefined);
  if (regions.length === 0)
    throw new UsageError(
      'sync needs --region (one, or several separated by commas).',
      'For example --region RegionOne',
    );
  const ifExists = (v['if-exists'] as string | undefined) ?? 'reuse';
  if (ifExists !== 'upload' && ifExists !== 'reuse')
    throw new UsageError(`--if-exists "${ifExists}" is not upload or reuse.`, 'reuse links an image already there.');
  const bwlimit = v.bwlimit !== undefined ? parseRate(v.bwlimit as string) : undefined;
  const stores = splitList(v.store as string | undefined);
  const store = stores[0] ?? '';
  const method = parsePlanMethod(v.method as string | undefined);
  const json = v.json === true;
  const { db, engine } = open(io);
  try {
    if (!engine.listClouds().some((c) => c.name === cloud)) engine.session(cloud); // an unknown cloud fails here
    return await withLocalServer(io, engine, json, async () => {
      const repo = new JobRepository(db, `cli:${process.pid}`);
      const images = select(await (await engine.glance(LOCAL_CLOUD, LOCAL_REGION)).listImages(), p.positionals);
      const jobIds = new Set<string>();
      const skipped: { image: string; region: string; state: string; imageId: string | null }[] = [];
      const planned: NewJob[] = [];
      let offers: Map<string, RegionOffer | undefined> | undefined;
      let admin = false;
      for (const img of images) {
        const path = stagedDataPath(engine.localServerDir, img.id);
        if (path === undefined || img.os_hash_value === null || img.checksum === null || img.size === null)
          throw new EngineError('staged.not_ready', `The data of staged image ${img.name ?? img.id} is missing.`, {
            hint: 'Stage the file again.',
          });
        const missing: string[] = [];
        for (const region of regions) {
          const there = alreadyThere(repo, img.id, { cloud, region, store });
          if (there === undefined) missing.push(region);
          else {
            if (there.target.state !== 'done') jobIds.add(there.job.id); // under way: followed, not queued again
            skipped.push({
              image: img.name ?? img.id,
              region,
              state: there.target.state,
              imageId: there.target.remoteImageId,
            });
          }
        }
        if (missing.length === 0) continue;
        if (offers === undefined) {
          offers = await askOffers(io, engine, cloud, regions, json);
          admin = stores.length > 1 && (await isAdmin(engine, cloud));
        }
        const { targets } = planDistribution({ cloud, regions: missing, stores, offers, admin, method });
        if (!json) printPlan(io, img.name ?? img.id, targets);
        validateTargets(
          img.name ?? img.id,
          'staged',
          targets.map((t) => ({ ...t, store: t.store ?? '', method: t.method ?? 'direct' })),
        );
        const id = await identify(path);
        planned.push({
          source: {
            kind: 'staged',
            imageId: img.id,
            path,
            size: id.size,
            mtimeMs: id.mtimeMs,
            ino: id.ino,
            dev: id.dev,
            md5: img.checksum,
            sha512: img.os_hash_value,
          },
          name: img.name ?? img.id,
          metadata: stagedMetadata(img),
          targets,
          bwlimit,
          onDuplicate: ifExists,
          removeStagedAfter: v['remove-local'] === true,
          ...(v['same-id'] === true ? { sameImageId: img.id } : {}),
        });
      }
      if (!json)
        for (const s of skipped)
          io.stderr.write(
            `${s.image}: ${s.region} ${s.state === 'done' ? `already has it (${s.imageId ?? '-'})` : `is already under way (${s.state})`}\n`,
          );
      for (const j of planned) jobIds.add(repo.createJob(j).job.id);
      if (jobIds.size === 0) {
        if (json) out(io, JSON.stringify({ jobs: [], skipped }));
        else if (images.length === 0) out(io, 'Nothing to sync: no staged image is active.');
        else out(io, 'Nothing to sync: every image is already in every region named.');
        return EXIT.ok;
      }
      const ctx: Ctx = { io, db, engine, json };
      if (v.detach === true) {
        if (json) out(io, JSON.stringify({ queued: [...jobIds] }));
        else for (const id of jobIds) out(io, `queued ${id}  ${repo.getJob(id).name}`);
        return EXIT.ok;
      }
      return runJobs(ctx, [...jobIds]);
    });
  } finally {
    await engine.close();
    db.close();
  }
}
