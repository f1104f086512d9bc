/**
 * glance-uploader settings: what the Settings screen shows and changes, from the command line
 * (the queue database is shared with the app). Each value is checked by the same schema as the
 * app's, and the app applies what it reads at its next start (the engine running now keeps its).
 */
import { apiArgSchemas } from '../../../shared/ipc/contract-schemas';
import type { SettingsUpdate } from '../../../shared/dto';
import { Settings, type SettingKey } from '../queue/settings';
import { UsageError } from './args';
import { withContext } from './cli-context';
import { EXIT } from './exit-codes';
import { out, type CliIo } from './io';

export const SETTINGS_HELP = `Usage: glance-uploader settings [list] [--json]
       glance-uploader settings set KEY VALUE
       glance-uploader settings unset KEY      (back to the default)

  concurrency N           targets transferring at once (default 2)
  bwlimit BYTES_PER_S     bandwidth of the whole queue (0: none), in the app and in CLI runs
  bwSchedule TIMETABLE    a weekly timetable over bwlimit ('' : none), rclone's syntax:
                          "Mon-Fri 08:00,10M 18:00,off" (queue run --bwlimit overrides both)
  tokenRenewMarginS S     renew a token this long before it expires (default 120)
  retryBudgetHours H      retry transient failures this long (default 24)
  duplicateCheck reuse|upload
  localServerPort PORT    the app's local server (0: any free port)
  relaySegmentMiB N       relay: the size of each object-store segment (default 64)
  relayParallel N         relay: segments sent at once (default 1; a kill costs up to N)
  relayAutoGiB N          --method auto relays files from this size where offered (default 2)
  relayAccountKey true|false
                          relay: may set the object-store ACCOUNT's temp-url key when neither the
                          account nor our container has one and the container key cannot be set
  shrink auto|qcow2|off   raw files: sent as a compressed qcow2 where the region converts imports
                          back (auto, the default), everywhere (qcow2), or never (off)
  shrinkCacheGiB N        the most the compressed copies may take in the cache (0: what the disk has)
  whenDone notify|sleep|"COMMAND"
                          when the app's queue is done: notify only, also put the computer to
                          sleep, or also run COMMAND through the shell (GLANCE_UPLOADER_DONE,
                          _FAILED, _CANCELED and _JOBS give the counts)`;

const schema = apiArgSchemas.updateSettings.def.items[0];
const KEYS = Object.keys(schema.shape) as (keyof SettingsUpdate)[];

/** A value as typed: true/false, a number, else the text (the schema says whether it fits). */
function parseValue(key: string, text: string): unknown {
  if (key === 'whenDone')
    return text === 'notify' || text === 'sleep' ? { action: text } : { action: 'command', command: text };
  if (text === 'true' || text === 'false') return text === 'true';
  return /^\d+(\.\d+)?$/.test(text) ? Number(text) : text; // not 0x8, 1e1 or a padded number
}

export async function settingsCommand(args: string[], io: CliIo): Promise<number> {
  const json = args.includes('--json');
  const [verb = 'list', key, value, ...extra] = args.filter((a) => a !== '--json');
  if (verb === '--help' || verb === '-h') return (out(io, SETTINGS_HELP), EXIT.ok);
  if (extra.length > 0) throw new UsageError(`settings: unexpected "${extra.join(' ')}".`, 'settings set KEY VALUE');
  if (!['list', 'set', 'unset'].includes(verb))
    throw new UsageError(`settings ${verb}: not a settings command.`, 'settings list | set KEY VALUE | unset KEY');
  if (verb !== 'list' && (key === undefined || !(KEYS as string[]).includes(key)))
    throw new UsageError(`"${key ?? ''}" is not a setting.`, `Settings: ${KEYS.join(', ')}.`);
  return withContext(io, async ({ db }) => {
    const settings = new Settings(db);
    if (verb === 'set') {
      if (value === undefined) throw new UsageError(`settings set ${key}: no value.`, 'settings set KEY VALUE');
      const parsed = schema.safeParse({ [key as string]: parseValue(key as string, value) });
      if (!parsed.success)
        throw new UsageError(
          `${key} "${value}" is not valid: ${parsed.error.issues.map((i) => i.message).join('; ')}.`,
          'glance-uploader settings --help says what each takes.',
        );
      const v = (parsed.data as Record<string, unknown>)[key as string];
      settings.set(key as SettingKey, v as never);
    } else if (verb === 'unset') settings.clear(key as SettingKey);
    const all = Object.fromEntries(KEYS.map((k) => [k, settings.get(k) ?? null]));
    out(
      io,
      json
        ? JSON.stringify({ settings: all })
        : KEYS.map((k) => `${k} = ${all[k] === null ? '(default)' : JSON.stringify(all[k])}`).join('\n'),
    );
    return EXIT.ok;
  });
}
