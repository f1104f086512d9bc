/**
 * Offline staging and sync: `stage` uploads files into the local server (the cloud `local`),
 * `staged list` shows what is staged and where each image went, `sync` queues staged images to
 * clouds and runs them. Each works whether or not the app runs: the local server on the data
 * folder is used when one is up, else started for the duration of the command.
 */
import { existsSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { dataHome, ensureDataHome } from '../io/data-home';
import { Engine } from '../clouds/engine';
import { databasePath, openDatabase, type Db } from '../queue/database';
import { EngineError } from '../io/errors';
import type { GlanceImage } from '../openstack/glance-types';
import { JobRepository } from '../queue/job-repository';
import { Settings } from '../queue/settings';
import { autoSyncTick } from '../distribution/auto-sync';
import { LOCAL_CLOUD, LOCAL_REGION, stagedImages, withLocalCloud } from '../distribution/local-cloud';
import { findRunningServer, startServerProcess, type ServerInfo } from '../local-glance/server-process';
import { IMAGE_OPTIONS, rateOption, splitList, UsageError } from './args';
import { EXIT } from './exit-codes';
import { out, parse, type CliIo, type Parsed } from './io';
import { parsePlanMethod, printPlan } from './replicate-command';
import { planSync, syncRecords, type SyncOptions } from '../distribution/sync-jobs';
import { runJobs } from './run-jobs';
import { type Ctx, withContext } from './cli-context';

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
  --auto                 also from now on: every image staged later is synced there by
                         itself once the cloud can be reached (while the app, or
                         \`queue run --watch\`, runs); a region an earlier sync failed is
                         left to you
  --stop-auto            turn auto-sync off (nothing else)
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

/** stage = upload into the cloud `local`, with the server up for the duration. */
export async function stage(
  args: string[],
  io: CliIo,
  upload: (args: string[], io: CliIo) => Promise<number>,
): Promise<number> {
  const p = parse(args, IMAGE_OPTIONS); // refuses --cloud, --region, --method...: a stage goes to the local server
  if (p.values.help === true) return (out(io, STAGE_HELP), EXIT.ok);
  if (p.positionals.length === 0)
    throw new UsageError('stage needs at least one FILE.', 'glance-uploader stage --help');
  const engine = new Engine(withLocalCloud({ env: io.env, cwd: io.cwd }));
  try {
    return await withLocalServer(io, engine, p.values.json === true, async () => {
      const code = await upload([...args, '--cloud', LOCAL_CLOUD, '--region', LOCAL_REGION], io);
      if (code !== EXIT.ok || p.values.detach === true) return code;
      // With auto-sync on, what was just staged is queued to its destinations (they run when reachable).
      const db = openDatabase(databasePath(ensureDataHome(dataHome(io.env))));
      try {
        const r = await autoSyncTick(engine, db, `cli:${process.pid}`);
        if (r.queued.length > 0 && p.values.json !== true)
          io.stderr.write(
            `auto-sync: queued ${r.queued.length} sync job(s); they run in the app or with \`glance-uploader queue run\`.\n`,
          );
      } finally {
        db.close();
      }
      return code;
    });
  } finally {
    await engine.close();
  }
}

// ---- staged list -----------------------------------------------------------------------------

export async function staged(args: string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = args;
  const p = parse(rest, {});
  if (sub === undefined || sub === '--help' || sub === '-h' || p.values.help === true)
    return (out(io, STAGED_HELP), EXIT.ok);
  if (sub !== 'list') throw new UsageError(`Unknown staged command "${sub}".`, 'glance-uploader staged list');
  const json = p.values.json === true;
  return withContext(io, async ({ db, engine }) => {
    const images = await withLocalServer(io, engine, json, async () => stagedImages(engine));
    const records = syncRecords(new JobRepository(db, 'staged'));
    const auto = new Settings(db).get('autoSync') ?? null;
    if (json) {
      out(
        io,
        JSON.stringify({
          autoSync: auto,
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
    out(
      io,
      auto === null
        ? 'auto-sync: off'
        : `auto-sync: on, to ${auto.cloud} ${auto.regions.join(',')}${auto.stores.length > 0 ? ` (stores ${auto.stores.join(',')})` : ''}`,
    );
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
  });
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

const SYNC_OPTIONS = {
  cloud: { type: 'string' },
  region: { type: 'string' },
  store: { type: 'string' },
  method: { type: 'string' },
  'same-id': { type: 'boolean' },
  'if-exists': { type: 'string' },
  'remove-local': { type: 'boolean' },
  bwlimit: { type: 'string' },
  detach: { type: 'boolean' },
  auto: { type: 'boolean' },
  'stop-auto': { type: 'boolean' },
} as const;

type SyncArgs = Parsed<typeof SYNC_OPTIONS>;

export async function sync(args: string[], io: CliIo): Promise<number> {
  const p = parse(args, SYNC_OPTIONS);
  if (p.values.help === true) return (out(io, SYNC_HELP), EXIT.ok);
  const v = p.values;
  if (v['stop-auto'] === true) {
    return withContext(io, async ({ db }) => {
      new Settings(db).clear('autoSync');
      out(io, v.json === true ? JSON.stringify({ autoSync: null }) : 'auto-sync is off.');
      return EXIT.ok;
    });
  }
  const o = syncOptions(v, io);
  const json = v.json === true;
  return withContext(io, async ({ db, engine }) => {
    if (!engine.listClouds().some((c) => c.name === o.cloud)) engine.session(o.cloud); // an unknown cloud fails here
    if (v.auto === true) autoSyncOn(db, o, p, io);
    return await withLocalServer(io, engine, json, () => queueSync({ io, db, engine, json }, o, p));
  });
}

/** The checked options of a sync. */
function syncOptions(v: SyncArgs['values'], io: CliIo): SyncOptions {
  const cloud = v.cloud ?? io.env.OS_CLOUD;
  if (cloud === undefined || cloud === '')
    throw new UsageError('sync needs --cloud (or OS_CLOUD).', 'glance-uploader clouds list shows the clouds found.');
  if (cloud === LOCAL_CLOUD)
    throw new UsageError('sync sends staged images to a cloud; "local" is where they are.', 'Name another cloud.');
  const regions = splitList(v.region);
  if (regions.length === 0)
    throw new UsageError(
      'sync needs --region (one, or several separated by commas).',
      'For example --region RegionOne',
    );
  const ifExists = v['if-exists'] ?? 'reuse';
  if (ifExists !== 'upload' && ifExists !== 'reuse')
    throw new UsageError(`--if-exists "${ifExists}" is not upload or reuse.`, 'reuse links an image already there.');
  const bwlimit = rateOption(v.bwlimit);
  return {
    cloud,
    regions,
    stores: splitList(v.store),
    method: parsePlanMethod(v.method),
    ifExists,
    removeLocal: v['remove-local'] === true,
    sameId: v['same-id'] === true,
    ...(bwlimit !== undefined ? { bwlimit } : {}),
  };
}

/** --auto: every staged image, now and from now on, goes to these regions by itself. */
function autoSyncOn(db: Db, o: SyncOptions, p: SyncArgs, io: CliIo): void {
  if (p.positionals.length > 0)
    throw new UsageError(
      '--auto syncs every staged image: name none.',
      'glance-uploader sync --auto --cloud C --region R',
    );
  const { cloud, regions, stores, method, removeLocal } = o;
  new Settings(db).set('autoSync', { cloud, regions, stores, method, removeLocal });
  if (p.values.json !== true)
    io.stderr.write(
      `auto-sync is on: staged images go to ${cloud} ${regions.join(',')} by themselves when it can be reached (while the app or \`queue run --watch\` runs).\n`,
    );
}

/** The sync jobs of the named (or all) staged images, queued all or nothing, then run (or, --detach, left queued). */
async function queueSync(ctx: Ctx, o: SyncOptions, p: SyncArgs): Promise<number> {
  const { io, db, engine, json } = ctx;
  const repo = new JobRepository(db, `cli:${process.pid}`);
  const images = select(await stagedImages(engine), p.positionals);
  const plan = await planSync(engine, repo, images, o, (region) =>
    json ? undefined : io.stderr.write(`note: ${region} cannot be reached now; it is planned as a push.\n`),
  );
  const skipped = plan.skipped;
  if (!json) {
    for (const s of skipped)
      io.stderr.write(
        `${s.image}: ${s.region} ${s.state === 'done' ? `already has it (${s.imageId ?? '-'})` : `is already under way (${s.state})`}\n`,
      );
    for (const j of plan.jobs) printPlan(io, j.name, j.targets);
  }
  // All or nothing: one job that cannot be queued queues none.
  const created = db.transaction(() => plan.jobs.map((j) => repo.createJob(j).job.id))();
  const jobIds = new Set([...plan.underWay, ...created]);
  if (jobIds.size === 0) {
    if (json) out(io, JSON.stringify({ jobs: [], skipped }));
    else if (images.length === 0) out(io, 'Nothing to sync: no staged image is active.');
    else out(io, 'Nothing to sync: every image is already in every region named.');
    return EXIT.ok;
  }
  if (p.values.detach !== true) return runJobs(ctx, [...jobIds]);
  if (json) out(io, JSON.stringify({ queued: [...jobIds] }));
  else for (const id of jobIds) out(io, `queued ${id}  ${repo.getJob(id).name}`);
  return EXIT.ok;
}
