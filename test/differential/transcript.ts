/**
 * A scenario's transcript: for each step, the client call, every request it sent to Glance
 * (method, path and query, status, content type, the API headers clients read, both bodies whole)
 * and the client's outcome. `normalise` replaces only what must differ between two clouds:
 *
 * - values each side has its own of, listed by the side (`SideSpec.symbols`: URLs, project and
 *   user ids, store descriptions), by a symbol;
 * - request ids, then UUIDs (image, task ids) by placeholders in order of first appearance;
 * - the digits of timestamps (their shape stays: `2026-01-01T00:00:00Z` and `...00.000Z` differ);
 * - the padding of CLI tables (a column is as wide as its widest, normalised-away value), and the
 *   glance CLI's wrapping of long values (it wraps at 80 columns, wherever that falls);
 * - the order of tag lists: Glance keeps an image's tags in a Python set, so their order follows
 *   the string hashing of its process (it changes when Glance restarts); tags are compared
 *   sorted, in JSON (`tags`, the CLI's `Tags`, the value of a patch of `/tags`, which the
 *   openstack CLI builds from a set too) and in the glance CLI's `| tags | [...] |` row.
 *
 * A CLI's stdout that is JSON (`-f json`) is compared parsed.
 * Everything else is compared as is.
 */
import type { Exchange } from './recording-proxy';
import type { SideRun } from './sides';

export interface HttpLine {
  request: string;
  status: number;
  contentType: string | null;
  headers?: Record<string, string>;
  sent?: unknown;
  body: unknown;
}

export interface Step {
  call: string;
  http: HttpLine[];
  outcome: unknown;
}

export interface Transcript {
  stopped: string | null;
  driverError: string | null;
  steps: Step[];
}

function line(e: Exchange): HttpLine {
  return {
    request: `${e.method} ${e.path}`,
    status: e.status,
    contentType: e.contentType,
    ...(Object.keys(e.headers).length > 0 ? { headers: e.headers } : {}),
    ...(e.request !== null ? { sent: e.request } : {}),
    body: e.response,
  };
}

/** A CLI outcome with a JSON stdout (`-f json`) keeps it parsed, so it is normalised as JSON. */
function parsedStdout(outcome: unknown): unknown {
  const o = outcome as { stdout?: unknown };
  if (typeof o?.stdout !== 'string' || !/^\s*[[{]/.test(o.stdout)) return outcome;
  try {
    return { ...o, stdout: JSON.parse(o.stdout) as unknown };
  } catch {
    return outcome;
  }
}

/** One scenario of one side's run: the driver's steps with the proxy's exchanges of each. */
export function transcriptOf(run: SideRun, id: string): Transcript {
  const r = run.results[id];
  if (r === undefined)
    return { stopped: `the ${run.spec.side} driver did not run ${id}`, driverError: null, steps: [] };
  return {
    stopped: r.stopped,
    driverError: r.driverError,
    steps: r.steps.map((s) => ({
      call: `${s.client} (${s.role}): ${s.call}`,
      http: run.exchanges.filter((e) => e.step === s.label).map(line),
      outcome: parsedStdout(s.outcome),
    })),
  };
}

const REQUEST_ID = /req-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;
const TIMESTAMP = /\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})?/g;
const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

const CONTINUATION = /^\|\s+\|\s(.*?)\s*\|$/;
const PROPERTY_ROW = /^(\|\s\S.*?\s\|\s.*?)(\s*\|)$/;

/**
 * The glance CLI wraps a long value of a property table at 80 columns onto rows with an empty
 * first cell; where it wraps depends on values that are normalised away (a store description),
 * so the rows are joined back first (textwrap breaks at the whitespace it drops).
 */
function unwrapTables(text: string): string {
  const out: string[] = [];
  for (const row of text.split('\n')) {
    const more = CONTINUATION.exec(row);
    const prev = out.length > 0 ? PROPERTY_ROW.exec(out[out.length - 1] ?? '') : null;
    if (more !== null && prev !== null) out[out.length - 1] = `${prev[1]} ${more[1] ?? ''}${prev[2] ?? ''}`;
    else out.push(row);
  }
  return out.join('\n');
}

/** Text normalisation with one placeholder map per transcript (`ids` carries it along). */
function normaliseText(text: string, symbols: [string, string][], ids: Map<string, string>): string {
  let t = text.includes('\n| ') ? unwrapTables(text) : text;
  for (const [value, symbol] of symbols) if (value !== '') t = t.replace(new RegExp(escape(value), 'g'), symbol);
  t = t.replace(REQUEST_ID, 'req-<request-id>');
  t = t.replace(UUID, (u) => {
    let p = ids.get(u);
    if (p === undefined) {
      p = `<id${ids.size + 1}>`;
      ids.set(u, p);
    }
    return p;
  });
  t = t.replace(TIMESTAMP, (ts) => ts.replace(/\d/g, 'N'));
  // CLI tables: borders and padding follow the widest (normalised-away) value of a column
  t = t.replace(/-{3,}/g, '---').replace(/ {2,}\|/g, ' |');
  return t.replace(/^\| tags \| (\[.*\]) \|$/gm, (row, list: string) => {
    try {
      return `| tags | ${JSON.stringify((JSON.parse(list) as string[]).sort())} |`;
    } catch {
      return row;
    }
  });
}

const TAG_KEYS = new Set(['tags', 'Tags']);

function walk(value: unknown, f: (s: string) => string, key = ''): unknown {
  if (typeof value === 'string') return f(value);
  if (Array.isArray(value)) {
    const items = value.map((v) => walk(v, f));
    return TAG_KEYS.has(key) && items.every((v) => typeof v === 'string') ? items.sort() : items;
  }
  if (value !== null && typeof value === 'object') {
    // a JSON-patch operation on /tags: its value is a tag list too
    const tagsOp = (value as { path?: unknown }).path === '/tags';
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [f(k), walk(v, f, tagsOp && k === 'value' ? 'tags' : k)]),
    );
  }
  return value;
}

/** Symbols longest first, so a URL is replaced before the host:port it starts with. */
export function normalise(t: Transcript, symbols: [string, string][]): Transcript {
  const ordered = [...symbols].sort((a, b) => b[0].length - a[0].length);
  const ids = new Map<string, string>();
  return walk(t, (s) => normaliseText(s, ordered, ids)) as Transcript;
}
