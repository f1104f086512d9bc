/**
 * Which runnable targets start now: in queue order, within the global limit and the limit per
 * region, a job's streamed file targets (direct, glance-direct, the file itself) together in one group (one read
 * of the file feeds them all: the fan-out). Pure: the scheduler gives what runs and what could, this decides.
 */
import { STREAM_METHODS } from '../queue/target-methods';
import type { TargetRecord } from '../queue/job-repository';

export interface AdmissionLimits {
  /** Targets transferring at once. */
  limit: number;
  /** Targets transferring at once into one region of a cloud. */
  perRegion: number;
}

const fansOut = (t: TargetRecord): boolean => STREAM_METHODS.includes(t.method) && t.sendFormat === null;

export function pickGroups(
  runnable: readonly TargetRecord[],
  running: readonly TargetRecord[],
  limits: AdmissionLimits,
): TargetRecord[][] {
  const regionLoad = new Map<string, number>();
  const key = (x: TargetRecord): string => `${x.cloud}\n${x.region}`;
  const take = (x: TargetRecord): void => void regionLoad.set(key(x), (regionLoad.get(key(x)) ?? 0) + 1);
  const fits = (x: TargetRecord): boolean => (regionLoad.get(key(x)) ?? 0) < limits.perRegion;
  for (const r of running) take(r);
  let busy = running.length;
  const started = new Set<string>();
  const groups: TargetRecord[][] = [];
  for (const t of runnable) {
    if (busy >= limits.limit) break;
    if (started.has(t.id) || !fits(t)) continue;
    // The job's other runnable file targets go with it, as far as the limits allow. A target sent
    // a compressed copy (shrink) reads that copy on its own: it never shares the file's read.
    const group = [t];
    take(t);
    for (const sib of fansOut(t) ? runnable : []) {
      if (sib.jobId !== t.jobId || sib.id === t.id || started.has(sib.id) || !fansOut(sib)) continue;
      if (busy + group.length >= limits.limit || !fits(sib)) continue;
      group.push(sib);
      take(sib);
    }
    for (const g of group) started.add(g.id);
    busy += group.length;
    groups.push(group);
  }
  return groups;
}
