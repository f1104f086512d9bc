/**
 * `apply` from the command line: the plan shown (and confirmed, unless --yes), its uploads queued
 * and run by this process's scheduler (or followed where another engine holds the queue), then
 * the other steps, then the clouds read again, until a look finds nothing to do (at most a few
 * passes: each pass may only make what the one before needs, like the latest's plain name once
 * the older image gave it up). `--watch` applies again when a source changes.
 */
import { watch, type FSWatcher } from 'node:fs';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { converge, uploadBatch, type StepOutcome, type UploadBatch } from '../catalog/catalog-apply';
import type { Catalog } from '../catalog/catalog-file';
import type { CatalogPlan } from '../catalog/catalog-plan';
import { lookAt, readCatalog } from '../catalog/catalog-session';
import { under } from '../catalog/version-sources';
import { actionLine, planSummary, planText } from '../catalog/plan-text';
import { toErrorInfo } from '../io/errors';
import { JobRepository } from '../queue/job-repository';
import { UsageError } from './args';
import type { Ctx } from './cli-context';
import { EXIT, exitCodeFor } from './exit-codes';
import { out, type CliIo } from './io';
import { jobJson, targetJson } from './job-report';
import { runJobs } from './run-jobs';
import { planJson } from './catalog-commands';

async function confirm(io: CliIo, plan: CatalogPlan): Promise<void> {
  const refuse = new UsageError(
    `apply would make ${plan.changes} change(s) and no one confirmed them.`,
    'Run it again with --yes (or answer "yes" on a terminal).',
  );
  if (io.stdin === undefined || io.stderr.isTTY !== true) throw refuse;
  io.stderr.write(`Apply these ${plan.changes} change(s)? Only "yes" goes on: `);
  for await (const chunk of io.stdin) {
    if (String(chunk).trim() === 'yes') return;
    break;
  }
  throw refuse;
}

interface Outcome {
  jobIds: string[];
  jobsCode: number;
  steps: StepOutcome[];
  final: CatalogPlan;
  refused: UploadBatch['refused'];
}

/** Uploads, then passes of steps until a look finds nothing to do (or nothing more it can do). */
async function make(ctx: Ctx, catalog: Catalog, plan: CatalogPlan): Promise<Outcome> {
  const { io, db, engine, json } = ctx;
  const repo = new JobRepository(db, `cli:${process.pid}`);
  const batch = await uploadBatch(catalog, plan, repo, (w) => json || io.stderr.write(`warning: ${w}\n`));
  const created = db.transaction(() => batch.jobs.map((j) => repo.createJob(j).job.id))();
  const jobIds = [...created, ...batch.queued];
  for (const r of batch.refused)
    if (!json)
      io.stderr.write(`not queued: ${r.family} ${r.version}: ${r.error.message}\n  hint: ${r.error.hint ?? ''}\n`);
  const quiet: CliIo = { ...io, stdout: { write: () => true } };
  let jobsCode: number = jobIds.length === 0 ? EXIT.ok : await runJobs({ ...ctx, io: json ? quiet : io }, jobIds);
  if (jobsCode === EXIT.interrupted) return { jobIds, jobsCode, steps: [], final: plan, refused: batch.refused };
  const first = batch.refused[0];
  if (jobsCode === EXIT.ok && first !== undefined) jobsCode = exitCodeFor(first.error.code);
  const { steps, final } = await converge(engine, repo.audit, catalog, (o) => {
    if (!json)
      io.stderr.write(
        `${o.error === undefined ? 'done' : 'FAILED'}:${actionLine(o.action)}${o.error ? `\n    ${o.error.message}` : ''}\n`,
      );
  });
  return { jobIds, jobsCode, steps, final, refused: batch.refused };
}

/** One apply of the catalog at `path`: the exit status by outcome. */
export async function applyCatalog(ctx: Ctx, path: string, yes: boolean): Promise<number> {
  const { io, engine, json } = ctx;
  const catalog = readCatalog(engine, path);
  const { plan } = await lookAt(engine, catalog);
  if (!json) io.stderr.write(`${planText(plan)}\n`);
  if (plan.changes === 0) {
    if (json) out(io, JSON.stringify({ ...planJson(plan), applied: false, jobs: [], steps: [], remaining: 0 }));
    return EXIT.ok;
  }
  if (!yes) await confirm(io, plan);
  const o = await make(ctx, catalog, plan);
  const failedSteps = o.steps.filter((s) => s.error !== undefined);
  const remaining = o.final.changes;
  if (json) {
    const repo = new JobRepository(ctx.db, 'report');
    out(
      io,
      JSON.stringify({
        ...planJson(plan),
        applied: true,
        jobs: o.jobIds.map((id) => ({
          ...jobJson(repo.getJob(id)),
          targets: repo.targetsOf(id).map((t) => targetJson(t, repo)),
        })),
        steps: o.steps.map((s) => ({
          kind: s.action.kind,
          cloud: s.action.cloud,
          region: s.action.region,
          family: s.action.family,
          version: s.action.version ?? null,
          imageId: s.action.imageId ?? null,
          what: s.action.what,
          ...(s.error ? { error: s.error } : {}),
        })),
        refused: o.refused,
        remaining,
        final: planJson(o.final),
      }),
    );
  } else {
    io.stderr.write(
      remaining === 0 ? `Applied. ${planSummary(o.final)}\n` : `Not all applied:\n${planText(o.final)}\n`,
    );
  }
  if (o.jobsCode !== EXIT.ok) return o.jobsCode;
  return failedSteps.length > 0 || remaining > 0 ? EXIT.failed : EXIT.ok;
}

/** The paths whose change means a new look: the catalog, its folders, its manifests' folders. */
function watchedPaths(c: Catalog): string[] {
  const paths = new Set<string>([c.path]);
  for (const f of c.families) {
    if (f.folder !== undefined) paths.add(under(c, f.folder.path));
    if (f.packer !== undefined) paths.add(dirname(under(c, f.packer.manifest)));
  }
  return [...paths];
}

/**
 * Apply, then again whenever a watched path changes (a change is waited out a few seconds: a build
 * writing an image changes it many times), until interrupted. A failed apply is reported and the
 * watch goes on. Exit status: that of the last apply.
 */
export async function watchCatalog(ctx: Ctx, path: string, yes: boolean): Promise<number> {
  const { io } = ctx;
  if (!yes)
    throw new UsageError('apply --watch changes things unattended: it needs --yes.', 'apply CATALOG --watch --yes');
  let changed = true;
  let code: number = EXIT.ok;
  let stop = false;
  void io.interrupted?.then(() => (stop = true));
  let watchers: FSWatcher[] = [];
  const rewatch = (c: Catalog): void => {
    for (const w of watchers) w.close();
    watchers = watchedPaths(c).flatMap((p) => {
      try {
        return [watch(p, () => (changed = true))];
      } catch {
        return []; // not there yet: the periodic look finds it
      }
    });
  };
  let lastLook = 0;
  try {
    while (!stop) {
      if (changed || Date.now() - lastLook > 60_000) {
        changed = false;
        await sleep(3500); // let a burst of writes end (a file changed in the last 3 s is not taken yet)
        try {
          rewatch(readCatalog(ctx.engine, path));
          code = await applyCatalog(ctx, path, true);
        } catch (e) {
          const info = toErrorInfo(e);
          io.stderr.write(`apply failed: ${info.message}\n${info.hint ? `  hint: ${info.hint}\n` : ''}`);
          code = EXIT.failed;
        }
        lastLook = Date.now();
        if (!ctx.json) io.stderr.write('watching for changes (Ctrl-C stops)...\n');
      }
      await sleep(500);
    }
  } finally {
    for (const w of watchers) w.close();
  }
  return code;
}
