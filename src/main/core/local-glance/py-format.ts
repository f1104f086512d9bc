/**
 * Python's repr() and pprint.pformat() of JSON values, as jsonschema prints them in the
 * messages Glance answers with (Python 3.11: dict keys sorted, width 72, long strings split at
 * whitespace). Only JSON's types: null, booleans, numbers, strings, arrays, objects.
 */

/** repr() of a str: single quotes unless the text has one and no double quote; escapes as Python. */
export function reprStr(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = '';
  for (const ch of s) {
    const c = ch.codePointAt(0) ?? 0;
    if (ch === '\\') out += '\\\\';
    else if (ch === quote) out += `\\${quote}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (c < 0x20 || c === 0x7f) out += `\\x${c.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return `${quote}${out}${quote}`;
}

/** Python's truth of a JSON value: null, false, 0, "", [] and {} are false. */
export function pyTruthy(v: unknown): boolean {
  if (v === null || v === undefined || v === false || v === 0 || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  return typeof v !== 'object' || Object.keys(v).length > 0;
}

export function pyRepr(v: unknown): string {
  if (v === null || v === undefined) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : floatRepr(v);
  if (typeof v === 'string') return reprStr(v);
  if (Array.isArray(v)) return `[${v.map(pyRepr).join(', ')}]`;
  const entries = sortedEntries(v as Record<string, unknown>);
  return `{${entries.map(([k, x]) => `${reprStr(k)}: ${pyRepr(x)}`).join(', ')}}`;
}

function floatRepr(v: number): string {
  if (!Number.isFinite(v)) return Number.isNaN(v) ? 'nan' : v > 0 ? 'inf' : '-inf';
  const s = String(v);
  return s.includes('e') ? s.replace(/e([+-])(\d)$/, 'e$10$2') : s;
}

function sortedEntries(o: Record<string, unknown>): [string, unknown][] {
  return Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

const WIDTH = 72;

/** pprint.pformat(v, width=72). */
export function pformat(v: unknown): string {
  return format(v, 0, 0, 0);
}

function format(v: unknown, indent: number, allowance: number, level: number): string {
  const rep = pyRepr(v);
  if (rep.length <= WIDTH - indent - allowance) return rep;
  if (Array.isArray(v)) return `[${items(v, indent, allowance + 1, level + 1)}]`;
  if (typeof v === 'string') return str(v, indent, allowance, level + 1);
  if (v !== null && typeof v === 'object')
    return `{${dictItems(v as Record<string, unknown>, indent, allowance + 1, level + 1)}}`;
  return rep;
}

function dictItems(o: Record<string, unknown>, indent: number, allowance: number, level: number): string {
  const inner = indent + 1;
  const entries = sortedEntries(o);
  return entries
    .map(([k, x], i) => {
      const key = reprStr(k);
      const last = i === entries.length - 1;
      return `${key}: ${format(x, inner + key.length + 2, last ? allowance : 1, level)}`;
    })
    .join(`,\n${' '.repeat(inner)}`);
}

function items(list: unknown[], indent: number, allowance: number, level: number): string {
  const inner = indent + 1;
  return list
    .map((x, i) => format(x, inner, i === list.length - 1 ? allowance : 1, level))
    .join(`,\n${' '.repeat(inner)}`);
}

/** pprint's long string: split at whitespace into chunks that fit, one per line (in parentheses at the top). */
function str(s: string, indent: number, allowance: number, level: number): string {
  const top = level === 1;
  const ind = top ? indent + 1 : indent;
  const allow = top ? allowance + 1 : allowance;
  const lines = s.match(/[^\n]*\n|[^\n]+$/g) ?? [s];
  const chunks: string[] = [];
  lines.forEach((line, i) => {
    const lastLine = i === lines.length - 1;
    const rep = reprStr(line);
    if (rep.length <= WIDTH - ind - (lastLine ? allow : 0)) return void chunks.push(rep);
    const parts = line.match(/\S*\s*/g)?.filter((p) => p !== '') ?? [];
    let current = '';
    parts.forEach((part, j) => {
      const max = WIDTH - ind - (lastLine && j === parts.length - 1 ? allow : 0);
      const candidate = current + part;
      if (reprStr(candidate).length > max) {
        if (current !== '') chunks.push(reprStr(current));
        current = part;
      } else current = candidate;
    });
    if (current !== '') chunks.push(reprStr(current));
  });
  if (chunks.length === 1) return chunks[0] ?? reprStr(s);
  const body = chunks.join(`\n${' '.repeat(ind)}`);
  return top ? `(${body})` : body;
}

/** Python's urlencode (quote_plus): what Glance's `first` and `next` links look like. */
export function pyUrlencode(q: URLSearchParams): string {
  const quote = (s: string): string =>
    [...Buffer.from(s, 'utf8')]
      .map((b) => {
        const c = String.fromCharCode(b);
        if (/[A-Za-z0-9_.~-]/.test(c)) return c;
        return c === ' ' ? '+' : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
      })
      .join('');
  return [...q].map(([k, v]) => `${quote(k)}=${quote(v)}`).join('&');
}
