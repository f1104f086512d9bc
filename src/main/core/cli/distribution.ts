/**
 * One image to N regions and stores: what the regions offer (asked before anything is queued),
 * the plan with the reason for each target's method, and `replicate` (an image that exists only
 * in the cloud goes to more regions: pulled by those that offer glance-download, pushed from a
 * verified local copy to the others).
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { dataHome } from '../data-home';
import { EngineError } from '../errors';
import { downloadImage } from '../openstack/glance-data';
import { planDistribution, type PlanMethod } from '../queue/distribution-plan';
import { askOffers, isAdmin } from '../staging/sync-jobs';
import { JobRepository, type NewJob, type NewTarget } from '../queue/job-repository';
import { stagedMetadata } from '../staging/local-cloud';
import { identify } from '../transfer/source-file';
import { parseRate, UsageError } from './args';
import { EXIT } from './exit-codes';
import { out, parse, type CliIo } from './io';
import { open, runJobs, splitList, type Ctx } from './run-jobs';

export const REPLICATE_HELP = `Usage: glance-uploader replicate IMAGE_ID --cloud C --from REGION --to R2[,R3] [options]

Copies an image that is in one region of a cloud into other regions (and stores), with the same
metadata and tags, each copy's sha512 verified. Each target gets the cheapest method (shown with
the reason): a region that offers glance-download pulls it from REGION; the others get it pushed
from a local copy, downloaded once (and verified) into the data folder's cache.

  --cloud C              a cloud of clouds.yaml (default: OS_CLOUD)
  --from REGION          the region that has the image
  --to R2[,R3]           the regions to copy it into
  --store S[,S2]         the stores to fill in each region (the others by copy-image where allowed)
  --method M             auto (default), glance-download or push
  --same-id              create every copy with the source image's id
  --keep-local           keep the local copy after the push (default: removed once verified)
  --bwlimit RATE         bytes per second for the push, e.g. 20M
  --json                 print the result as JSON`;

const PLAN_METHODS: readonly PlanMethod[] = ['auto', 'push', 'glance-download'];

export function parsePlanMethod(value: string | undefined): PlanMethod {
  const m = value ?? 'auto';
  if (!(PLAN_METHODS as readonly string[]).includes(m))
    throw new UsageError(
      `--method "${m}" is not one of ${PLAN_METHODS.join(', ')}.`,
      'auto picks the cheapest method each region offers (see `glance-uploader clouds show CLOUD`).',
    );
  return m as PlanMethod;
}

/** The plan, one line per target, before it runs. */
export function printPlan(io: CliIo, name: string, targets: NewTarget[]): void {
  for (const t of targets)
    io.stderr.write(
      `plan: ${name} -> ${t.region}${t.store ? `/${t.store}` : ''}: ${t.method ?? 'direct'}${t.planReason ? ` (${t.planReason})` : ''}\n`,
    );
}

export async function replicate(args: string[], io: CliIo): Promise<number> {
  const p = parse(args, {
    cloud: { type: 'string' },
    from: { type: 'string' },
    to: { type: 'string' },
    store: { type: 'string' },
    method: { type: 'string' },
    'same-id': { type: 'boolean' },
    'keep-local': { type: 'boolean' },
    bwlimit: { type: 'string' },
  });
  if (p.values.help === true) return (out(io, REPLICATE_HELP), EXIT.ok);
  const v = p.values as Record<string, string | boolean | undefined>;
  const imageId = p.positionals[0];
  if (imageId === undefined || p.positionals.length > 1)
    throw new UsageError('replicate takes one IMAGE_ID.', 'glance-uploader replicate --help');
  const cloud = (v.cloud as string | undefined) ?? io.env.OS_CLOUD;
  if (cloud === undefined || cloud === '')
    throw new UsageError('replicate needs --cloud (or OS_CLOUD).', 'glance-uploader clouds list shows the clouds.');
  const from = v.from as string | undefined;
  if (from === undefined) throw new UsageError('replicate needs --from REGION (where the image is).', REPLICATE_HELP);
  const to = splitList(v.to as string | undefined).filter((r) => r !== from);
  if (to.length === 0)
    throw new UsageError('replicate needs --to R2[,R3]: regions other than --from.', 'For example --to RegionTwo');
  const method = parsePlanMethod(v.method as string | undefined);
  const stores = splitList(v.store as string | undefined);
  const bwlimit = v.bwlimit !== undefined ? parseRate(v.bwlimit as string) : undefined;
  const json = v.json === true;
  const { db, engine } = open(io);
  try {
    const source = await engine.glance(cloud, from);
    const image = await source.findImage(imageId);
    if (image === undefined)
      throw new EngineError('source.not_found', `No image ${imageId} in ${from} of ${cloud}.`, {
        hint: `\`openstack image list --os-region-name ${from}\` lists them.`,
      });
    if (image.status !== 'active' || image.size === null || image.checksum === null || image.os_hash_value === null)
      throw new EngineError(
        'source.unreadable',
        `Image ${imageId} in ${from} is ${image.status}: nothing to copy yet.`,
        {
          hint: 'Wait until it is active (with its size and hashes).',
        },
      );
    const offers = await askOffers(engine, cloud, [from, ...to], (region) =>
      json ? undefined : io.stderr.write(`note: ${region} cannot be reached now; it is planned as a push.\n`),
    );
    const plan = planDistribution({
      cloud,
      regions: to,
      stores,
      offers,
      sourceRegion: from,
      admin: await isAdmin(engine, cloud),
      method,
    });
    const name = image.name ?? image.id;
    if (!json) printPlan(io, name, [...plan.targets, ...plan.push]);
    const repo = new JobRepository(db, `cli:${process.pid}`);
    const metadata = stagedMetadata(image);
    const common = { name, metadata, bwlimit, ...(v['same-id'] === true ? { sameImageId: image.id } : {}) };
    const jobs: NewJob[] = [];
    if (plan.targets.length > 0)
      jobs.push({
        ...common,
        source: {
          kind: 'image',
          cloud,
          region: from,
          id: image.id,
          size: image.size,
          md5: image.checksum,
          sha512: image.os_hash_value,
        },
        targets: plan.targets,
      });
    let cache: string | undefined;
    if (plan.push.length > 0) {
      // One verified local copy for every region that is pushed (resumed if an earlier run was cut).
      const dir = join(dataHome(io.env), 'cache');
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      cache = join(dir, `${image.id}.img`);
      if (!json) io.stderr.write(`downloading ${name} from ${from} once for ${plan.push.length} target(s)...\n`);
      await downloadImage(source, image.id, cache, { resume: true });
      const id = await identify(cache);
      jobs.push({
        ...common,
        source: { kind: 'file', path: cache, size: id.size, mtimeMs: id.mtimeMs, ino: id.ino, dev: id.dev },
        targets: plan.push,
      });
    }
    const jobIds = db.transaction(() => jobs.map((j) => repo.createJob(j).job.id))();
    const ctx: Ctx = { io, db, engine, json };
    const code = await runJobs(ctx, jobIds);
    const pushed = jobIds.slice(plan.targets.length > 0 ? 1 : 0); // the push job, when there is one
    const allDone = pushed.every((id) => repo.targetsOf(id).every((t) => t.state === 'done'));
    if (cache !== undefined && allDone && v['keep-local'] !== true) rmSync(cache, { force: true });
    else if (cache !== undefined && !json) io.stderr.write(`the local copy stays in ${cache}\n`);
    return code;
  } finally {
    await engine.close();
    db.close();
  }
}
