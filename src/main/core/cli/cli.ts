/**
 * `glance-uploader`: the headless command line on the same engine and the same database as the
 * app. Each command is its own module with its help (upload-command.ts, queue-command.ts...);
 * this one dispatches and prints errors: what happened, what to do and the code, the exit
 * status following the code's family (exit-codes.ts). `--json` prints machine-readable output
 * on stdout; progress goes to stderr, and only on a terminal.
 */
import type { ErrorInfo } from '../../../shared/errors';
import { EngineError, toErrorInfo } from '../io/errors';
import { UsageError } from './args';
import { auditCommand } from './audit-command';
import { applyCommand, catalogCommand, planCommand } from './catalog-commands';
import { cloudsCommand } from './clouds-command';
import { doctorCommand } from './doctor-command';
import { EXIT, exitCodeFor } from './exit-codes';
import { inspectCommand } from './inspect-command';
import { janitorCommand } from './janitor-command';
import { out, type CliIo } from './io';
import { queueCommand } from './queue-command';
import { replicate } from './replicate-command';
import { serveCommand } from './serve-command';
import { settingsCommand } from './settings-command';
import { stage, staged, sync } from './staging-commands';
import { uploadCommand } from './upload-command';

export type { CliIo } from './io';

const MAIN_HELP = `glance-uploader: get VM images into OpenStack Glance, reliably.

Usage: glance-uploader <command> [options]

Commands:
  upload FILE... --cloud NAME --region R[,R2]   queue uploads and run them (see upload --help)
  queue run [--watch]                             run the whole queue until it is empty (or keep watching)
  queue list | show ID                            what is queued, and one job in detail
  queue pause|resume|cancel|retry ID              act on a job (all its targets) or one target
  queue priority ID N | move ID --before ID2      reorder the queue
  queue remove ID                                 remove a finished job
  inspect FILE... [--json]                        the real format, virtual size and problems of images
  serve [--port 9292] [--write-clouds-yaml F]     a local Glance-compatible server (offline staging)
  stage FILE... [--name N] [metadata options]     upload into the local server, offline, to sync later
  staged list                                     the staged images, and where each was synced
  sync [NAME_OR_ID...] --cloud C --region R[,R2]  send staged images to clouds (all when none named)
  replicate ID --cloud C --from R --to R2[,R3]    copy an image of one region into others
  plan CATALOG.yaml                               what applying an image catalog would change, nothing changed
  apply CATALOG.yaml [--yes] [--watch]            make the clouds hold what the catalog declares, and keep them so
  catalog schema | example                        the catalog file's JSON Schema, and a catalog to start from
  clouds list | show NAME                         the clouds found, and what each region offers
  janitor --cloud C [--delete ID --yes]         half-made images (queued, saving, killed...) and their cleanup
  doctor --cloud C [--horizon-origin URL]         check a cloud (and Horizon direct upload) and say what to fix
  audit export --format json|csv [--output FILE]  the attempts and audit log
  settings [set KEY VALUE | unset KEY]            the settings the app shows (shared with it)

Clouds come from clouds.yaml as the openstack CLI finds them (OS_CLIENT_CONFIG_FILE, OS_CLOUD).
The queue lives in GLANCE_UPLOADER_HOME (default: the app's data folder), shared with the app.
Every command takes --help; most take --json.`;

function printError(io: CliIo, e: ErrorInfo, json: boolean): void {
  if (json) {
    out(io, JSON.stringify({ error: e }));
    return;
  }
  io.stderr.write(`error: ${e.message}\n`);
  if (e.hint) io.stderr.write(`  hint: ${e.hint}\n`);
  if (e.fix) io.stderr.write(`  fix: ${e.fix}\n`);
  io.stderr.write(
    `  code: ${e.code}${e.status ? ` (HTTP ${e.status})` : ''}${e.requestId ? `, request ${e.requestId}` : ''}\n`,
  );
}

/** The commands, by name (each parses its own options and prints its own help). */
const COMMANDS: ReadonlyMap<string, (args: string[], io: CliIo) => Promise<number>> = new Map([
  ['upload', uploadCommand],
  ['queue', queueCommand],
  ['clouds', cloudsCommand],
  ['audit', auditCommand],
  ['inspect', inspectCommand],
  ['serve', serveCommand],
  ['stage', (args: string[], io: CliIo) => stage(args, io, uploadCommand)],
  ['staged', staged],
  ['sync', sync],
  ['replicate', replicate],
  ['doctor', doctorCommand],
  ['settings', settingsCommand],
  ['plan', planCommand],
  ['apply', applyCommand],
  ['catalog', catalogCommand],
  ['janitor', janitorCommand],
]);

export async function main(argv: string[], io: CliIo): Promise<number> {
  const [command, ...rest] = argv;
  const json = argv.includes('--json');
  try {
    if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
      out(io, MAIN_HELP);
      return command === undefined ? EXIT.usage : EXIT.ok;
    }
    const run = COMMANDS.get(command);
    if (run === undefined)
      throw new UsageError(`Unknown command "${command}".`, 'glance-uploader --help lists the commands.');
    return await run(rest, io);
  } catch (e) {
    if (e instanceof UsageError) {
      if (json) {
        const error: ErrorInfo = { code: 'usage', message: e.message, hint: e.hint };
        out(io, JSON.stringify({ error }));
      } else io.stderr.write(`error: ${e.message}\n${e.hint ? `  hint: ${e.hint}\n` : ''}`);
      return EXIT.usage;
    }
    const info = toErrorInfo(e);
    printError(io, info, json);
    return e instanceof EngineError ? exitCodeFor(info.code) : EXIT.internal;
  }
}
