/** How the CLI shows jobs and targets: the end-of-run report, one line per target, and the JSON forms. */
import { retryingText } from '../../../shared/retry-text';
import { JobRepository, type JobRecord, type TargetRecord } from '../queue/job-repository';
import type { Ctx } from './cli-context';
import { EXIT, exitCodeFor } from './exit-codes';
import { out } from './io';
import { formatBytes } from './progress-line';

/**
 * The report of some jobs, per image and target: where (cloud/region/store), the state, the
 * method (and, on a terminal, why it was chosen), the image id, bytes, duration and whether the
 * sha512 was verified there. The exit status is the first failure's.
 */
export function report(ctx: Ctx, jobIds: string[]): number {
  const repo = new JobRepository(ctx.db, 'report');
  const jobs = jobIds.map((id) => ({ job: repo.getJob(id), targets: repo.targetsOf(id) }));
  const failed = jobs.flatMap((j) => j.targets).filter((t) => t.state !== 'done');
  if (ctx.json)
    out(
      ctx.io,
      JSON.stringify({
        jobs: jobs.map((j) => ({ ...jobJson(j.job), targets: j.targets.map((t) => targetJson(t, repo)) })),
      }),
    );
  else for (const j of jobs) for (const t of j.targets) out(ctx.io, targetLine(j.job, t, repo));
  if (failed.length === 0) return EXIT.ok;
  const first = failed.find((t) => t.error !== null)?.error;
  return first ? exitCodeFor(first.code) : EXIT.failed;
}

export function jobJson(j: JobRecord): Record<string, unknown> {
  return {
    id: j.id,
    name: j.name,
    file: j.sourcePath,
    ...(j.sourceImage !== null ? { sourceImage: j.sourceImage } : {}),
    ...(j.stagedImageId !== null ? { stagedImageId: j.stagedImageId } : {}),
    size: j.sourceSize,
    sha512: j.sha512,
    md5: j.md5,
    priority: j.priority,
  };
}

export function targetJson(t: TargetRecord, repo?: JobRepository): Record<string, unknown> {
  const o = repo?.outcome(t.id);
  const resumedAt = repo?.resumedAt(t.id) ?? null;
  const conversion = repo?.conversion(t.id) ?? null;
  return {
    id: t.id,
    cloud: t.cloud,
    region: t.region,
    store: t.store,
    method: t.method,
    ...(t.planReason !== null ? { why: t.planReason } : {}),
    state: t.state,
    imageId: t.remoteImageId,
    attempt: t.attempt,
    ...(t.state === 'retrying' ? { nextAttemptAt: t.nextAttemptAt, retrying: retryingText(t, Date.now()) } : {}),
    bytesAccepted: t.bytesAccepted,
    ...(resumedAt !== null ? { resumedAt } : {}),
    ...(t.sendFormat !== null ? { sendFormat: t.sendFormat } : {}),
    ...(conversion !== null ? { conversion } : {}),
    ...(o !== undefined
      ? {
          durationMs: o.startedAt !== null && o.endedAt !== null ? o.endedAt - o.startedAt : null,
          verified: o.verified,
          linked: o.linked,
        }
      : {}),
    error: t.error,
  };
}

/** What a shrinking target sent and Glance stored, or what it is to send. */
function shrinkFact(t: TargetRecord, repo?: JobRepository): string | undefined {
  const conv = repo?.conversion(t.id) ?? null;
  if (conv !== null)
    return `sent as ${conv.sentFormat} (${formatBytes(conv.sentBytes)}), stored as ${conv.storedFormat ?? '?'}${
      conv.savedBytes > 0
        ? `: ${formatBytes(conv.savedBytes)} not sent`
        : " (converted by Glance, so its sha512 is not the source's)"
    }`;
  return t.sendFormat !== null && t.state !== 'done' ? `to be sent as a compressed ${t.sendFormat}` : undefined;
}

/** Bytes the region accepted so far, while it works (done: the other facts say what was sent). */
function acceptedFact(j: JobRecord, t: TargetRecord): string | undefined {
  if (t.state === 'done' || t.bytesAccepted === 0) return undefined;
  return `${formatBytes(t.bytesAccepted)}${j.sourceSize !== null ? ` of ${formatBytes(j.sourceSize)}` : ''} accepted`;
}

export function targetLine(j: JobRecord, t: TargetRecord, repo?: JobRepository): string {
  const where = `${t.cloud}/${t.region}${t.store ? `/${t.store}` : ''}`;
  const waiting = retryingText(t, Date.now());
  const err = t.error ? `  ${waiting ?? t.error.code}: ${t.error.message}` : '';
  const o = repo?.outcome(t.id);
  const facts: string[] = [t.method];
  const resumed = repo?.resumedAt(t.id) ?? null;
  if (resumed !== null && j.sourceSize !== null)
    facts.push(`resumed at ${formatBytes(resumed)} of ${formatBytes(j.sourceSize)}`);
  if (o !== undefined && t.state === 'done') {
    if (t.method === 'existing') facts.push('the source');
    else {
      facts.push(o.linked ? 'linked (already there)' : formatBytes(t.bytesAccepted));
      if (o.startedAt !== null && o.endedAt !== null) facts.push(`${((o.endedAt - o.startedAt) / 1000).toFixed(1)} s`);
      if (o.verified) facts.push('sha512 verified');
    }
  }
  for (const f of [acceptedFact(j, t), shrinkFact(t, repo)]) if (f !== undefined) facts.push(f);
  return `${t.state.padEnd(9)} ${j.name}  ${where}  ${t.remoteImageId ?? '-'}  ${facts.join(', ')}${err}`;
}
