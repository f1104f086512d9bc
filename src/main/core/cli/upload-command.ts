/**
 * `glance-uploader upload FILE|URL... --cloud C --region R[,R2]`: every argument checked and every
 * file inspected and planned before anything is queued (one bad file queues nothing), then the
 * jobs queued and run with the progress line (or, `--detach`, left to `queue run` or the app).
 */
import { dirname } from 'node:path';
import { enforceProfile, findProfile } from '../planning/profiles';
import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import type { Engine } from '../clouds/engine';
import { planDistribution } from '../planning/distribution-plan';
import { askOffers, checkMethodsOffered, isAdmin } from '../planning/region-offers';
import { namedTargets, planUploadJob } from '../planning/upload-plan';
import { shrinkJobs } from '../planning/shrink-jobs';
import { SHRINK_MODES, type ShrinkMode } from '../../../shared/dto';
import { JobRepository, type NewJob } from '../queue/job-repository';
import { RelayStore } from '../queue/relay-store';
import { TARGET_METHODS, validateTargets } from '../queue/target-methods';
import {
  IMAGE_OPTIONS,
  imageName,
  parseProperties,
  rateOption,
  requireInt,
  retryOptions,
  splitList,
  UsageError,
} from './args';
import { EXIT } from './exit-codes';
import { out, parse, type CliIo, type Parsed } from './io';
import { printPlan } from './replicate-command';
import { runJobs } from './run-jobs';
import { withContext, type Ctx } from './cli-context';

export const UPLOAD_HELP = `Usage: glance-uploader upload FILE|URL... --cloud NAME --region R[,R2...] [options]

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
                            relay           through the region's object store (Swift): segments
                                            sent and confirmed one by one, resumed at the first
                                            one missing after a crash, a pause or a cut; then
                                            Glance imports it (web-download) and it is deleted
                            web-download    Glance fetches an http(s) URL (the default for a URL)
                            glance-download the first region gets the upload, the others
                                            pull it from there (same cloud)
                            auto            plan each target from what its region offers
                                            (shown with the reason): the first region gets the
                                            upload, a region offering glance-download pulls it,
                                            more stores get copy-image where allowed
  --shrink MODE           a raw file sent as a compressed qcow2 made locally with qemu-img:
                            auto   where the region converts imports back (Glance's
                                   image_conversion, as \`clouds show --probe\` or the doctor found)
                                   and the file's data is at most half its size (the default: the
                                   setting shrink)
                            qcow2  everywhere; where the region keeps what it is sent, the image
                                   is stored as qcow2 (a warning says so)
                            off    send the file as it is
  --store S               the store to write to (multi-store clouds)
  --copy-to S[,S2]        then copy the image into these stores of each region (copy-image;
                          Glance's default policy allows it to admins only)
  --same-id               create the image with one id in every region (Glance accepts an id)
  --sha512 HEX            for a URL: the digest the image must have (else the first region's
                          digest is the reference the other regions must match)
  --bwlimit RATE          bytes per second for each of these jobs, e.g. 20M (binary suffixes);
                          a weekly timetable limits the whole queue: settings set bwSchedule
  --profile ID            every image must meet this metadata profile (scs-0102-v1, or yours in
                          the data folder's profiles/ID.json): what is missing is named and
                          nothing is queued
  --retry-for DURATION    retry transient failures (5xx, resets, timeouts) this long before a
                          target fails, e.g. 6h (default: the setting, 24h); a crash, a kill or
                          a pause never counts
  --import-stall DURATION an import (glance-direct, web-download, glance-download) that shows
                          no change this long is stuck: its image is deleted and the import
                          made again; with --method auto, a direct upload instead (default 20m)
  --if-exists reuse       when a region already has an active image with the same sha512
                          (and size and md5), use it instead of uploading (default: upload)
  --detach                queue them and return; "queue run" (or the app) sends them
  --json                  print the result as JSON`;

const UPLOAD_OPTIONS = {
  ...IMAGE_OPTIONS,
  cloud: { type: 'string' },
  region: { type: 'string' },
  method: { type: 'string' },
  store: { type: 'string' },
  bwlimit: { type: 'string' },
  profile: { type: 'string' },
  'retry-for': { type: 'string' },
  'import-stall': { type: 'string' },
  'if-exists': { type: 'string' },
  'copy-to': { type: 'string' },
  'same-id': { type: 'boolean' },
  sha512: { type: 'string' },
  shrink: { type: 'string' },
} as const;

type UploadValues = Parsed<typeof UPLOAD_OPTIONS>['values'];

/** The checked arguments of one `upload`. */
interface UploadArgs {
  files: string[];
  cloud: string;
  regions: string[];
  method: string | undefined;
  copyTo: string[];
  sha512: string | undefined;
  v: UploadValues;
}

export async function uploadCommand(args: string[], io: CliIo): Promise<number> {
  const p = parse(args, UPLOAD_OPTIONS);
  if (p.values.help === true) return (out(io, UPLOAD_HELP), EXIT.ok);
  const a = checkUploadArgs(p.positionals, p.values, io);
  const shrink = shrinkMode(p.values.shrink);
  // Resolve everything before queuing anything: one bad file queues nothing.
  const planned = await planFiles(a, io);
  for (const j of planned)
    validateTargets(
      j.name,
      j.source.kind,
      j.targets.map((t) => ({ ...t, store: t.store ?? '', method: t.method ?? 'direct' })),
    );
  const json = a.v.json === true;
  return withContext(io, async ({ db, engine }) => {
    // Fail early on an unknown cloud rather than after queuing.
    if (!engine.listClouds().some((c) => c.name === a.cloud)) engine.session(a.cloud);
    if (a.method === 'auto') await planAuto(engine, a, planned, io, new RelayStore(db).options().autoFrom);
    const repo = new JobRepository(db, `cli:${process.pid}`);
    if (a.v.profile !== undefined) enforceProfile(findProfile(dirname(engine.cacheDir), a.v.profile), planned);
    await shrinkJobs(engine, repo, planned, {
      mode: shrink ?? repo.settings.get('shrink') ?? 'auto',
      methodChosen: a.method !== undefined && a.method !== 'auto',
      onWarning: (job, w) => json || io.stderr.write(`warning: ${job.name}: ${w}\n`),
    });
    await checkMethodsOffered(engine, a.cloud, planned, (region) =>
      io.stderr.write(`note: ${region} cannot be reached now; its import methods are checked when it runs.\n`),
    );
    const ctx: Ctx = { io, db, engine, json, ...retryOptions(a.v) };
    const jobs = planned.map((j) => repo.createJob(j).job);
    if (a.v.detach !== true)
      return runJobs(
        ctx,
        jobs.map((j) => j.id),
      );
    if (json) out(io, JSON.stringify({ queued: jobs.map((j) => ({ id: j.id, name: j.name })) }));
    else for (const j of jobs) out(io, `queued ${j.id}  ${j.name}`);
    return EXIT.ok;
  });
}

function checkUploadArgs(files: string[], v: UploadValues, io: CliIo): UploadArgs {
  if (files.length === 0) throw new UsageError('upload needs at least one FILE.', 'glance-uploader upload --help');
  const cloud = v.cloud ?? io.env.OS_CLOUD;
  if (cloud === undefined || cloud === '')
    throw new UsageError('upload needs --cloud (or OS_CLOUD).', 'glance-uploader clouds list shows the clouds found.');
  const regions = splitList(v.region);
  if (regions.length === 0)
    throw new UsageError(
      'upload needs --region (one, or several separated by commas).',
      "For example --region RegionOne,RegionTwo; the app, or `openstack region list`, shows a cloud's regions.",
    );
  checkMethod(v.method, regions);
  const sha512 = v.sha512;
  if (sha512 !== undefined && !/^[0-9a-f]{128}$/i.test(sha512))
    throw new UsageError('--sha512 must be 128 hexadecimal digits.', "Copy it from the publisher's SHA512SUMS file.");
  const visibility = v.visibility;
  if (visibility !== undefined && !['private', 'shared', 'community', 'public'].includes(visibility))
    throw new UsageError(
      `--visibility "${visibility}" is not one of private, shared, community, public.`,
      "Leave it out for Glance's default (shared); public needs an admin.",
    );
  const ifExists = v['if-exists'] ?? 'upload';
  if (ifExists !== 'upload' && ifExists !== 'reuse')
    throw new UsageError(
      `--if-exists "${ifExists}" is not upload or reuse.`,
      'reuse adopts an active image with the same sha512 in the region instead of uploading again.',
    );
  return { files, cloud, regions, method: v.method, copyTo: splitList(v['copy-to']), sha512, v };
}

function shrinkMode(text: string | undefined): ShrinkMode | undefined {
  if (text === undefined || (SHRINK_MODES as readonly string[]).includes(text)) return text as ShrinkMode | undefined;
  throw new UsageError(
    `--shrink "${text}" is not one of ${SHRINK_MODES.join(', ')}.`,
    'auto shrinks raw files where the region converts imports back; qcow2 everywhere; off never.',
  );
}

function checkMethod(method: string | undefined, regions: string[]): void {
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
}

/** A URL and a local file take different methods; --sha512 is for URLs only. */
function checkSource(f: string, url: URL | undefined, method: string | undefined, sha512: string | undefined): void {
  if (url === undefined && method === 'web-download')
    throw new UsageError(
      `web-download makes Glance fetch a URL, and "${f}" is not one.`,
      'Give an http(s) URL, or leave --method out to upload the local file.',
    );
  if (url !== undefined && (method === 'direct' || method === 'glance-direct' || method === 'relay'))
    throw new UsageError(
      `${f} is a URL: ${method} sends a local file.`,
      'Leave --method out (a URL is fetched by Glance with web-download), or download the file first.',
    );
  if (url === undefined && sha512 !== undefined)
    throw new UsageError(
      '--sha512 is the expected digest of a URL; a local file is hashed while it is sent.',
      'Leave --sha512 out for local files.',
    );
}

/** One job per file or URL: inspected, named, its metadata and targets (auto: planned later). */
async function planFiles(a: UploadArgs, io: CliIo): Promise<NewJob[]> {
  const { v, sha512 } = a;
  const properties = parseProperties(v.property ?? []);
  const minDisk = requireInt('--min-disk', v['min-disk']);
  const minRam = requireInt('--min-ram', v['min-ram']);
  const bwlimit = rateOption(v.bwlimit);
  const planned: NewJob[] = [];
  for (const [i, f] of a.files.entries()) {
    const url = /^https?:\/\//i.test(f) ? new URL(f) : undefined;
    checkSource(f, url, a.method, sha512);
    const path = url === undefined ? resolve(io.cwd, f) : decodeURIComponent(url.pathname);
    planned.push(
      await planUploadJob({
        source: url === undefined ? { path } : { url, ...(sha512 !== undefined ? { sha512 } : {}) },
        name: imageName(v.name, path, i + 1, a.files.length),
        metadata: {
          diskFormat: v['disk-format'],
          containerFormat: v['container-format'],
          visibility: v.visibility,
          minDisk,
          minRam,
          protected: v.protected === true,
          tags: v.tag,
          properties,
        },
        targets: namedTargets({
          cloud: a.cloud,
          regions: a.regions,
          store: v.store,
          method: a.method === 'auto' ? undefined : a.method, // auto: planned once the regions are asked
          fromUrl: url !== undefined,
          copyTo: a.copyTo,
        }),
        bwlimit,
        onDuplicate: v['if-exists'] === 'reuse' ? 'reuse' : 'upload',
        allowFormatMismatch: v['allow-format-mismatch'] === true,
        ...(v['same-id'] === true ? { sameImageId: randomUUID() } : {}),
        onWarning: (w) => v.json === true || io.stderr.write(`warning: ${f}: ${w.message}\n  hint: ${w.hint}\n`),
      }),
    );
  }
  return planned;
}

/** --method auto: each target planned from what its region offers, the plan printed with its reasons. */
async function planAuto(engine: Engine, a: UploadArgs, planned: NewJob[], io: CliIo, relayFrom: number): Promise<void> {
  const json = a.v.json === true;
  if (planned.some((j) => j.source.kind === 'url'))
    throw new UsageError(
      '--method auto plans the upload of local files; a URL is fetched by each region (web-download).',
      'Leave --method out for a URL.',
    );
  const stores = a.v.store !== undefined || a.copyTo.length > 0 ? [a.v.store ?? '', ...a.copyTo] : [];
  const offers = await askOffers(engine, a.cloud, a.regions, (region) =>
    json ? undefined : io.stderr.write(`note: ${region} cannot be reached now; it is planned as a push.\n`),
  );
  const admin = stores.length > 1 && (await isAdmin(engine, a.cloud));
  for (const j of planned) {
    const relay = j.source.kind === 'file' ? { size: j.source.size, from: relayFrom } : undefined;
    j.targets = planDistribution({
      cloud: a.cloud,
      regions: a.regions,
      stores,
      offers,
      admin,
      method: 'auto',
      relay,
    }).targets;
    if (!json) printPlan(io, j.name, j.targets);
  }
}
