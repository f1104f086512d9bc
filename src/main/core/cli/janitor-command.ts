/**
 * `glance-uploader janitor`: the half-made images of a cloud (queued, saving, uploading, importing, killed;
 * any tool's), with their age and size, ours told apart; `--delete ID[,ID]` deletes those named,
 * only with `--yes` (without it, the images that would go are named and nothing is deleted).
 */
import { chooseLeftovers, deleteLeftovers, findLeftovers, type Leftover } from '../doctor/leftovers';
import { JobRepository } from '../queue/job-repository';
import { parseDuration, splitList, UsageError } from './args';
import { withContext } from './cli-context';
import { EXIT } from './exit-codes';
import { out, parse, type CliIo } from './io';
import { formatBytes, formatDuration } from './progress-line';

export const JANITOR_HELP = `Usage: glance-uploader janitor --cloud C [--region R[,R2]] [--older-than 1h] [--json]
       glance-uploader janitor --cloud C --delete [REGION/]ID[,...] [--yes]

Lists your project's images that a failed upload or import left half-made (queued, saving,
uploading, importing, killed), by any tool, unchanged for longer than --older-than (default 1h), with age
and size; "ours" when a job of this queue made it (its file, and "retry" when the job can).
--delete deletes the images named, only those listed, and only with --yes (an id alone names it
in every region listed: --same-id images share one; REGION/ID names one region's).`;

function line(l: Leftover): string {
  const who = l.ours
    ? `ours: ${l.ours.source ?? 'job ' + l.ours.jobId.slice(0, 8)}${l.ours.live ? ' (the queue still works on it)' : l.ours.retryable ? `; retry: glance-uploader queue retry ${l.ours.jobId.slice(0, 8)}` : ''}`
    : 'not made by this queue';
  return `${l.region}  ${l.id}  ${l.status.padEnd(9)} ${formatDuration(l.ageMs / 1000).padStart(10)}  ${l.size === null ? '-' : formatBytes(l.size)}  "${l.name ?? ''}"  ${who}`;
}

export async function janitorCommand(args: string[], io: CliIo): Promise<number> {
  const p = parse(args, {
    cloud: { type: 'string' },
    region: { type: 'string' },
    'older-than': { type: 'string' },
    delete: { type: 'string' },
    yes: { type: 'boolean' },
  });
  if (p.values.help === true) return (out(io, JANITOR_HELP), EXIT.ok);
  const cloud = p.values.cloud ?? io.env.OS_CLOUD;
  if (cloud === undefined || cloud === '')
    throw new UsageError('janitor needs --cloud (or OS_CLOUD).', 'glance-uploader clouds list shows the clouds.');
  const olderThanMs = parseDuration('--older-than', p.values['older-than'] ?? '1h');
  const json = p.values.json === true;
  return withContext(io, async ({ db, engine }) => {
    const repo = new JobRepository(db, `cli:${process.pid}`);
    const named = splitList(p.values.region);
    const regions = named.length > 0 ? named : (await engine.listRegions(cloud)).map((r) => r.id);
    const leftovers = await findLeftovers(engine, repo, { cloud, regions, olderThanMs });
    const ids = splitList(p.values.delete);
    if (ids.length === 0) {
      if (json) out(io, JSON.stringify({ leftovers }));
      else out(io, leftovers.length === 0 ? 'No half-made images.' : leftovers.map(line).join('\n'));
      return EXIT.ok;
    }
    const doomed = chooseLeftovers(
      leftovers,
      ids.map((ref) => {
        // Ids never hold a '/', region names may: the id is after the last one.
        const at = ref.lastIndexOf('/');
        return at < 0 ? { id: ref } : { id: ref.slice(at + 1), region: ref.slice(0, at) };
      }),
    );
    if (p.values.yes !== true) {
      for (const l of doomed) io.stderr.write(`would delete: ${line(l)}\n`);
      throw new UsageError(
        `Deleting ${doomed.length} image(s) needs --yes.`,
        'The images that would go are named above.',
      );
    }
    await deleteLeftovers(engine, repo, doomed);
    if (!json) for (const l of doomed) io.stderr.write(`deleted: ${l.region} ${l.id} "${l.name ?? ''}"\n`);
    if (json) out(io, JSON.stringify({ deleted: doomed.map((l) => ({ region: l.region, id: l.id })) }));
    return EXIT.ok;
  });
}
