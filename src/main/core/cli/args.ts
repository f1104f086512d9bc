/** Parsing of the CLI's values: rates, properties, name templates. Bad input is a coded error with a hint. */
import {
  isTimetable,
  parseRate as parseRateText,
  parseSchedule,
  type BandwidthSchedule,
} from '../../../shared/bandwidth-schedule';
import { EngineError } from '../io/errors';
import { stemOf } from '../planning/upload-plan';

/** Bad command-line input. The hint is required: bad input always says what to do. */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly hint: string,
  ) {
    super(message);
    this.name = 'UsageError';
  }
}

/** "20M" -> 20 MiB per second. Binary suffixes K, M, G, T (as rclone's --bwlimit); "0" or "off" is no limit. */
export function parseRate(text: string): number {
  const rate = parseRateText(text);
  if (rate === undefined)
    throw new UsageError(
      `"${text}" is not a rate.`,
      'Write bytes per second with an optional binary suffix: 512K, 20M, 1G (0 or off: no limit).',
    );
  return rate;
}

/** A whole-queue --bwlimit: one rate, or a weekly timetable (rclone's syntax, and day tokens). */
export function bandwidthOption(text: string | undefined): { rate?: number; schedule?: BandwidthSchedule } {
  if (text === undefined) return {};
  if (!isTimetable(text)) return { rate: parseRate(text) };
  const r = parseSchedule(text);
  if ('error' in r)
    throw new UsageError(
      `--bwlimit "${text}": ${r.error}.`,
      'A timetable is entries HH:MM,RATE (every day) or DAY-HH:MM,RATE, after optional days: "Mon-Fri 08:00,10M 18:00,off".',
    );
  return { schedule: r.schedule };
}

/** "24h" -> milliseconds. Units s, m, h, d (a plain number is hours), as --retry-for takes them. */
export function parseDuration(name: string, text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([smhd]?)$/i.exec(text.trim());
  const ms =
    m === null
      ? NaN
      : Number(m[1]) * { s: 1000, m: 60_000, h: 3600_000, d: 86_400_000 }[(m[2] || 'h').toLowerCase() as 's'];
  if (!(ms > 0))
    throw new UsageError(`${name} "${text}" is not a duration.`, `Write a number with s, m, h or d, e.g. ${name} 24h.`);
  return ms;
}

/** "20G" -> 20 GiB. Binary suffixes K, M, G, T; a plain number is bytes. */
export function parseSize(name: string, text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([KMGT]?)(i?B?)?$/i.exec(text.trim());
  if (m === null)
    throw new UsageError(
      `${name} "${text}" is not a size.`,
      `Write bytes with an optional binary suffix, e.g. ${name} 20G.`,
    );
  const mult = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 }[
    (m[2] ?? '').toUpperCase() as '' | 'K' | 'M' | 'G' | 'T'
  ];
  return Math.round(Number(m[1]) * mult);
}

/** --property K=V, repeatable. Values stay strings (Glance custom properties are strings). */
export function parseProperties(items: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of items) {
    const i = item.indexOf('=');
    if (i <= 0)
      throw new UsageError(`--property "${item}" is not KEY=VALUE.`, 'For example: --property os_distro=ubuntu');
    out[item.slice(0, i)] = item.slice(i + 1);
  }
  return out;
}

/** The image options `upload` and `stage` share: name, formats, minimums, protection, tags, properties. */
export const IMAGE_OPTIONS = {
  name: { type: 'string' },
  'disk-format': { type: 'string' },
  'container-format': { type: 'string' },
  visibility: { type: 'string' },
  'min-disk': { type: 'string' },
  'min-ram': { type: 'string' },
  protected: { type: 'boolean' },
  property: { type: 'string', multiple: true },
  tag: { type: 'string', multiple: true },
  'allow-format-mismatch': { type: 'boolean' },
  detach: { type: 'boolean' },
} as const;

/** --name with several files is a template: {stem} and {n} (1-based). */
export function imageName(template: string | undefined, path: string, n: number, count: number): string {
  if (template === undefined) return stemOf(path);
  if (count > 1 && !template.includes('{stem}') && !template.includes('{n}')) {
    throw new UsageError(
      `--name "${template}" would give ${count} images the same name.`,
      'Use {stem} (the file name) or {n} (1, 2, ...) in it, e.g. --name "{stem}-prod".',
    );
  }
  return template.replaceAll('{stem}', stemOf(path)).replaceAll('{n}', String(n));
}

/** The disk format a file name suggests (kept with the upload planning). */
export { diskFormatFromName, stemOf } from '../planning/upload-plan';

export function requireInt(name: string, value: string | undefined, min = 0): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min)
    throw new UsageError(
      `${name} must be a whole number of at least ${min} (got "${value}").`,
      `For example: ${name} 20`,
    );
  return n;
}

export function notSupportedYet(what: string, hint: string): EngineError {
  return new EngineError('config.unsupported', `${what} is not supported yet.`, { hint });
}

/** --retry-for and --import-stall, as the scheduler takes them. */
export function retryOptions(v: { 'retry-for'?: string; 'import-stall'?: string }): {
  retryBudgetMs?: number;
  importStallMs?: number;
} {
  const budget = v['retry-for'];
  const stall = v['import-stall'];
  return {
    ...(budget !== undefined ? { retryBudgetMs: parseDuration('--retry-for', budget) } : {}),
    ...(stall !== undefined ? { importStallMs: parseDuration('--import-stall', stall) } : {}),
  };
}

/** --bwlimit, when given. */
/** A job's own --bwlimit: one rate (a timetable limits the whole queue, said so). */
export function rateOption(text: string | undefined): number | undefined {
  if (text !== undefined && isTimetable(text))
    throw new UsageError(
      `--bwlimit "${text}" is a timetable: a job's own limit is one rate.`,
      'A weekly timetable limits the whole queue: glance-uploader settings set bwSchedule "Mon-Fri 08:00,10M 18:00,off" (or queue run --bwlimit with it).',
    );
  return text !== undefined ? parseRate(text) : undefined;
}

/** "R1, R2" -> ["R1", "R2"]: a comma-separated option, blanks dropped. */
export function splitList(text: string | undefined): string[] {
  return (text ?? '')
    .split(',')
    .map((r) => r.trim())
    .filter(Boolean);
}
