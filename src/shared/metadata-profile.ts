/**
 * Metadata profiles: the properties an image must (required) and should (x-recommended) carry,
 * each with its type and allowed values, written as a JSON Schema (draft 2020-12, the subset of
 * it that describes flat string properties: type, enum, pattern, format date, minimum). We ship
 * the Sovereign Cloud Stack standard; users add their own schema files. Pure and shared: the
 * upload form checks as the user types, the engine checks again before anything is queued.
 */

export interface ProfileProperty {
  type?: 'string' | 'integer' | 'number' | 'boolean';
  title?: string;
  description?: string;
  enum?: string[];
  /** A regular expression the whole value must match. */
  pattern?: string;
  /** 'date': YYYY-MM-DD (optionally a time after it, as SCS allows). */
  format?: 'date';
  minimum?: number;
  /** An example, shown as the field's placeholder. */
  examples?: string[];
}

export interface MetadataProfile {
  /** A stable id ("scs-0102-v1"): the file name of a user's profile without .json. */
  id: string;
  title: string;
  description?: string;
  properties: Record<string, ProfileProperty>;
  required: string[];
  /** Should be set: a warning, never a refusal. */
  recommended: string[];
  /** Shipped with the app, or a user's file. */
  source: 'builtin' | 'user';
}

export interface ProfileFinding {
  key: string;
  /** missing: a required property is not set (blocks queuing); invalid: set but wrong (blocks); recommended: not set. */
  level: 'missing' | 'invalid' | 'recommended';
  message: string;
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2}))?Z?)?$/;

/** YYYY-MM-DD, optionally a time after it, that names a real day and time (not 2024-02-30). */
export function isDate(text: string): boolean {
  const m = DATE.exec(text);
  if (m === null) return false;
  const [y, mo, d, h = 0, mi = 0, s = 0] = m.slice(1).map((x) => (x === undefined ? undefined : Number(x))) as number[];
  const at = new Date(Date.UTC(y!, mo! - 1, d));
  return (
    at.getUTCFullYear() === y && at.getUTCMonth() === mo! - 1 && at.getUTCDate() === d && h < 24 && mi < 60 && s < 60
  );
}

/** What is wrong with one value for its property (undefined: nothing). */
export function valueProblem(p: ProfileProperty, value: string): string | undefined {
  if (p.type === 'integer' && !/^-?\d+$/.test(value)) return 'a whole number';
  if (p.type === 'number' && !Number.isFinite(Number(value))) return 'a number';
  if (p.type === 'boolean' && value !== 'true' && value !== 'false') return 'true or false';
  if ((p.type === 'integer' || p.type === 'number') && p.minimum !== undefined && Number(value) < p.minimum)
    return `at least ${p.minimum}`;
  if (p.enum !== undefined && !p.enum.includes(value)) return `one of ${p.enum.join(', ')}`;
  return textProblem(p, value);
}

/** The format and pattern of a text value. */
function textProblem(p: ProfileProperty, value: string): string | undefined {
  if (p.format === 'date' && !isDate(value)) return 'a date, YYYY-MM-DD (a time after it allowed)';
  if (p.pattern === undefined) return undefined;
  if (!new RegExp(`^(?:${p.pattern})$`).test(value)) return `of the form ${p.pattern}`;
  // A value the pattern lets through as a date must be a real one (provided_until 2024-02-30).
  if (/^\d{4}-\d{2}-\d{2}/.test(value) && !isDate(value)) return 'a real date';
  return undefined;
}

/**
 * The image's values (its properties, and min_disk, min_ram... as strings; '' is unset) against
 * the profile: every required property missing or invalid, every recommended one missing.
 */
export function checkProfile(profile: MetadataProfile, values: Record<string, string | undefined>): ProfileFinding[] {
  const out: ProfileFinding[] = [];
  const set = (k: string): string | undefined => {
    const v = values[k]?.trim();
    return v === undefined || v === '' ? undefined : v;
  };
  for (const key of profile.required)
    if (set(key) === undefined) out.push({ key, level: 'missing', message: `${key} is required by ${profile.title}.` });
  for (const [key, p] of Object.entries(profile.properties)) {
    const v = set(key);
    const problem = v === undefined ? undefined : valueProblem(p, v);
    if (problem !== undefined)
      out.push({ key, level: 'invalid', message: `${key} must be ${problem} (${profile.title}).` });
  }
  for (const key of profile.recommended)
    if (set(key) === undefined && !profile.required.includes(key))
      out.push({ key, level: 'recommended', message: `${key} is recommended by ${profile.title}.` });
  return out;
}

/**
 * What an image's metadata holds, as Glance keeps it (strings): its custom `properties`, then
 * its fields (disk_format, min_disk...), which a property of the same name cannot override. The
 * one reading of "the image's values" for the form and the engine alike.
 */
export function profileValues(metadata: Record<string, unknown>): Record<string, string> {
  const { properties, ...fields } = metadata;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries({ ...(properties as Record<string, unknown> | undefined), ...fields }))
    if (v !== null && v !== undefined && typeof v !== 'object') out[k] = String(v);
  return out;
}

/** Findings that refuse queuing (missing or invalid). */
export const blocking = (f: readonly ProfileFinding[]): ProfileFinding[] => f.filter((x) => x.level !== 'recommended');

const TYPES = new Set(['string', 'integer', 'number', 'boolean']);

function propertyOf(key: string, raw: unknown): ProfileProperty | string {
  if (typeof raw !== 'object' || raw === null) return `properties.${key} is not an object`;
  const r = raw as Record<string, unknown>;
  const p: ProfileProperty = {};
  if (r.type !== undefined) {
    if (typeof r.type !== 'string' || !TYPES.has(r.type))
      return `properties.${key}.type must be string, integer, number or boolean`;
    p.type = r.type as ProfileProperty['type'];
  }
  if (r.enum !== undefined) {
    if (!Array.isArray(r.enum) || r.enum.length === 0) return `properties.${key}.enum must be a list of values`;
    p.enum = r.enum.map(String);
  }
  if (r.pattern !== undefined) {
    if (typeof r.pattern !== 'string') return `properties.${key}.pattern must be a string`;
    try {
      new RegExp(r.pattern);
    } catch {
      return `properties.${key}.pattern is not a regular expression`;
    }
    p.pattern = r.pattern;
  }
  if (r.format === 'date') p.format = 'date';
  if (typeof r.minimum === 'number') p.minimum = r.minimum;
  if (typeof r.title === 'string') p.title = r.title;
  if (typeof r.description === 'string') p.description = r.description;
  if (Array.isArray(r.examples)) p.examples = r.examples.map(String);
  return p;
}

function keyList(doc: Record<string, unknown>, field: string, known: Set<string>): string[] | string {
  const v = doc[field];
  if (v === undefined) return [];
  if (!Array.isArray(v) || !v.every((k) => typeof k === 'string')) return `${field} must be a list of property names`;
  const unknown = v.filter((k) => !known.has(k));
  return unknown.length > 0 ? `${field} names ${unknown.join(', ')}, not under properties` : v;
}

/**
 * A user's profile: a JSON Schema object with `properties`, `required` and `x-recommended`.
 * The first problem found, said so the user can fix the file, or the profile.
 */
export function parseProfile(id: string, text: string): { profile: MetadataProfile } | { error: string } {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    return { error: `not JSON: ${(e as Error).message}` };
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc))
    return { error: 'the schema must be a JSON object' };
  const d = doc as Record<string, unknown>;
  if (d.type !== undefined && d.type !== 'object')
    return { error: 'the schema must describe an object (type: object)' };
  if (typeof d.properties !== 'object' || d.properties === null) return { error: 'the schema has no properties' };
  const properties: Record<string, ProfileProperty> = {};
  for (const [key, raw] of Object.entries(d.properties)) {
    const p = propertyOf(key, raw);
    if (typeof p === 'string') return { error: p };
    properties[key] = p;
  }
  const known = new Set(Object.keys(properties));
  const required = keyList(d, 'required', known);
  if (typeof required === 'string') return { error: required };
  const recommended = keyList(d, 'x-recommended', known);
  if (typeof recommended === 'string') return { error: recommended };
  return {
    profile: {
      id,
      title: typeof d.title === 'string' && d.title !== '' ? d.title : id,
      ...(typeof d.description === 'string' ? { description: d.description } : {}),
      properties,
      required,
      recommended,
      source: 'user',
    },
  };
}
