/**
 * A plan as people read it, grouped by cloud and region like `terraform plan`: `+` what is made,
 * `~` what changes, `-` what is deleted, `!` what is noted and left alone; drift (a change made by
 * hand since the last apply) is marked. One line each, with its reason.
 */
import { CATALOG_SIGN as SIGN } from '../../../shared/catalog-dto';
import type { CatalogAction, CatalogPlan } from './catalog-plan';

export function actionLine(a: CatalogAction): string {
  const subject = `${a.family}${a.version !== undefined ? ` ${a.version}` : ''}`;
  const when = a.afterUpload === true ? ', once uploaded' : '';
  const drift = a.drift === true && a.kind !== 'note' ? ' [drift]' : '';
  return `  ${SIGN[a.kind]} ${a.kind.padEnd(10)} ${subject}: ${a.what}  (${a.why}${when})${drift}`;
}

export function planSummary(plan: CatalogPlan): string {
  const n = (k: (a: CatalogAction) => boolean): number => plan.actions.filter(k).length;
  const uploads = n((a) => a.kind === 'upload');
  const deletes = n((a) => a.kind === 'delete');
  const changes = plan.changes - uploads - deletes;
  const drift = n((a) => a.drift === true);
  if (plan.changes === 0)
    return `Catalog ${plan.catalog}: nothing to change${drift > 0 ? ` (${drift} note(s) of drift)` : ''}.`;
  return `Catalog ${plan.catalog}: ${uploads} to upload, ${changes} to change, ${deletes} to delete${drift > 0 ? `, ${drift} of them drift` : ''}.`;
}

export function planText(plan: CatalogPlan): string {
  const lines: string[] = [];
  let region = '';
  for (const a of plan.actions) {
    const here = `${a.cloud} / ${a.region}`;
    if (here !== region) lines.push(`${(region = here)}`);
    lines.push(actionLine(a));
  }
  lines.push(planSummary(plan));
  return lines.join('\n');
}
