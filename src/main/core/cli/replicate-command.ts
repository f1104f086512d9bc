/**
 * One image to N regions and stores: what the regions offer (asked before anything is queued),
 * the plan with the reason for each target's method, and `replicate` (an image that exists only
 * in the cloud goes to more regions: pulled by those that offer glance-download, pushed from a
 * verified local copy to the others).
 */
import { existsSync } from 'node:fs';
import { PLAN_METHODS, type PlanMethod } from '../../../shared/plan-methods';
import { JobRepository, type NewTarget } from '../queue/job-repository';
import { planReplicate } from '../distribution/replicate';
import { rateOption, splitList, UsageError } from './args';
import { EXIT } from './exit-codes';
import { out, parse, type CliIo } from './io';
import { runJobs } from './run-jobs';
import { type Ctx, withContext } from './cli-context';

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
  const v = p.values;
  const imageId = p.positionals[0];
  if (imageId === undefined || p.positionals.length > 1)
    throw new UsageError('replicate takes one IMAGE_ID.', 'glance-uploader replicate --help');
  const cloud = v.cloud ?? io.env.OS_CLOUD;
  if (cloud === undefined || cloud === '')
    throw new UsageError('replicate needs --cloud (or OS_CLOUD).', 'glance-uploader clouds list shows the clouds.');
  const from = v.from;
  if (from === undefined) throw new UsageError('replicate needs --from REGION (where the image is).', REPLICATE_HELP);
  const to = splitList(v.to).filter((r) => r !== from);
  if (to.length === 0)
    throw new UsageError('replicate needs --to R2[,R3]: regions other than --from.', 'For example --to RegionTwo');
  const method = parsePlanMethod(v.method);
  const stores = splitList(v.store);
  const bwlimit = rateOption(v.bwlimit);
  const json = v.json === true;
  return withContext(io, async ({ db, engine }) => {
    const plan = await planReplicate(engine, {
      cloud,
      from,
      to,
      imageId,
      stores,
      method,
      sameId: v['same-id'] === true,
      keepLocal: v['keep-local'] === true,
      bwlimit,
      onUnreachable: (region) =>
        json || io.stderr.write(`note: ${region} cannot be reached now; it is planned as a push.\n`),
      onPlan: (name, targets) => json || printPlan(io, name, targets),
      onDownload: (name, n) => json || io.stderr.write(`downloading ${name} from ${from} once for ${n} target(s)...\n`),
    });
    const repo = new JobRepository(db, `cli:${process.pid}`);
    const jobIds = db.transaction(() => plan.jobs.map((j) => repo.createJob(j).job.id))();
    const code = await runJobs({ io, db, engine, json } satisfies Ctx, jobIds);
    if (plan.cache !== undefined && existsSync(plan.cache) && !json)
      io.stderr.write(`the local copy stays in ${plan.cache}\n`);
    return code;
  });
}
