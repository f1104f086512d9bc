/** `glance-uploader audit export`: the audit log (every attempt, decision and check) as JSON or CSV. */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { auditCsv, auditJson } from '../queue/audit-export';
import { JobRepository } from '../queue/job-repository';
import { UsageError } from './args';
import { EXIT } from './exit-codes';
import { out, parse, type CliIo } from './io';
import { withContext } from './cli-context';

export const AUDIT_HELP = `Usage: glance-uploader audit export --format json|csv [--output FILE]`;

export async function auditCommand(args: string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = args;
  const p = parse(rest, { format: { type: 'string' }, output: { type: 'string' } });
  if (sub !== 'export' || p.values.help === true)
    return (out(io, AUDIT_HELP), p.values.help === true || sub === undefined ? EXIT.ok : EXIT.usage);
  const format = p.values.format ?? 'json';
  if (format !== 'json' && format !== 'csv')
    throw new UsageError(`--format "${format}" is not json or csv.`, 'Use --format json or --format csv.');
  return withContext(io, async ({ db }) => {
    const events = new JobRepository(db, 'audit').events();
    const text = format === 'csv' ? auditCsv(events) : `${auditJson(events)}\n`;
    if (p.values.output !== undefined) {
      writeFileSync(resolve(io.cwd, p.values.output), text);
      io.stderr.write(`${events.length} events written to ${p.values.output}\n`);
    } else io.stdout.write(text);
    return EXIT.ok;
  });
}
