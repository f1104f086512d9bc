/**
 * `plan CATALOG` (what would change, nothing is), `apply CATALOG` (the plan made: uploads through
 * the queue, then the other steps, then a look again until nothing is left; `--watch` keeps
 * applying as the file, its folders and manifests change) and `catalog schema|example`.
 */
import { resolve } from 'node:path';
import { catalogJsonSchema } from '../catalog/catalog-schema';
import { CATALOG_EXAMPLE } from '../catalog/catalog-example';
import type { CatalogPlan } from '../catalog/catalog-plan';
import { lookAt, readCatalog, targetsLocal } from '../catalog/catalog-session';
import { planText } from '../catalog/plan-text';
import { isLocalCloud } from '../distribution/local-cloud';
import { UsageError } from './args';
import { EXIT } from './exit-codes';
import { out, parse, type CliIo } from './io';
import { withContext, type Ctx } from './cli-context';
import { withLocalServer } from './staging-commands';
import { applyCatalog, watchCatalog } from './catalog-apply-run';

export const PLAN_HELP = `Usage: glance-uploader plan CATALOG.yaml [--json] [--detailed-exitcode]

What applying the catalog would change in each cloud and region (upload, rename, hide, share,
delete...), each with its reason, and drift (changes made by hand). Nothing is changed. Every
targeted region is read first: one that cannot be reached refuses the plan.

  --json                the plan as JSON
  --detailed-exitcode   exit 10 when there are changes (0 when none)`;

export const APPLY_HELP = `Usage: glance-uploader apply CATALOG.yaml [--yes] [--watch] [--json]

Makes the plan: uploads go through the queue (each verified, each step in the audit log), then
names, hidden flags, visibility, members and deletions, then the clouds are read again until
nothing is left to do. A second apply with nothing new does nothing.

  --yes                 do not ask before changing anything
  --watch               keep running: apply again when the catalog, a watched folder or a
                        Packer manifest changes (Ctrl-C stops)
  --json                the outcome as JSON`;

export const CATALOG_HELP = `Usage: glance-uploader catalog schema | example

  schema    the catalog file's JSON Schema (for an editor: yaml-language-server)
  example   a catalog to start from`;

function catalogPath(positionals: string[], help: string): string {
  if (positionals.length !== 1) throw new UsageError('Give one catalog file.', help);
  return positionals[0]!;
}

export function planJson(plan: CatalogPlan): Record<string, unknown> {
  return {
    catalog: plan.catalog,
    changes: plan.changes,
    actions: plan.actions.map(({ upload, patch, ...a }) => ({
      ...a,
      ...(upload !== undefined ? { source: upload.version.source } : {}),
      ...(patch !== undefined ? { patch } : {}),
    })),
  };
}

export async function planCommand(args: string[], io: CliIo): Promise<number> {
  const p = parse(args, { 'detailed-exitcode': { type: 'boolean' } });
  if (p.values.help === true) return (out(io, PLAN_HELP), EXIT.ok);
  const path = catalogPath(p.positionals, PLAN_HELP);
  const json = p.values.json === true;
  return withContext(io, async ({ engine }) => {
    const catalog = readCatalog(engine, resolve(io.cwd, path));
    const run = (): ReturnType<typeof lookAt> => lookAt(engine, catalog);
    const { plan } = targetsLocal(catalog, isLocalCloud) ? await withLocalServer(io, engine, json, run) : await run();
    out(io, json ? JSON.stringify(planJson(plan)) : planText(plan));
    return p.values['detailed-exitcode'] === true && plan.changes > 0 ? EXIT.changes : EXIT.ok;
  });
}

export async function applyCommand(args: string[], io: CliIo): Promise<number> {
  const p = parse(args, { yes: { type: 'boolean', short: 'y' }, watch: { type: 'boolean' } });
  if (p.values.help === true) return (out(io, APPLY_HELP), EXIT.ok);
  const path = resolve(io.cwd, catalogPath(p.positionals, APPLY_HELP));
  const json = p.values.json === true;
  const yes = p.values.yes === true;
  return withContext(io, async ({ db, engine }) => {
    const ctx: Ctx = { io, db, engine, json };
    const local = targetsLocal(readCatalog(engine, path), isLocalCloud);
    const run = (): Promise<number> =>
      p.values.watch === true ? watchCatalog(ctx, path, yes) : applyCatalog(ctx, path, yes);
    return local ? withLocalServer(io, engine, json, run) : run();
  });
}

export function catalogCommand(args: string[], io: CliIo): Promise<number> {
  const p = parse(args, {});
  const what = p.positionals[0];
  if (p.values.help === true || what === undefined)
    return Promise.resolve((out(io, CATALOG_HELP), what === undefined ? EXIT.usage : EXIT.ok));
  if (what === 'schema') return Promise.resolve((out(io, JSON.stringify(catalogJsonSchema(), null, 2)), EXIT.ok));
  if (what === 'example') return Promise.resolve((out(io, CATALOG_EXAMPLE), EXIT.ok));
  throw new UsageError(`Unknown catalog command "${what}".`, CATALOG_HELP);
}
