/**
 * Reading a catalog file: YAML parsed as a document (so every value keeps its position), checked
 * against the schema, then against the rules the schema cannot say (one `latest` per family, a
 * source for every family, members only on shared images, a cloud that exists). Every problem is
 * reported at its line and column, all of them at once; a catalog with one is refused whole.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { isMap, isScalar, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import type { CatalogProblem } from '../../../shared/errors';
import { EngineError } from '../io/errors';
import { CatalogSchema, type CatalogDoc, type FamilyDoc, type Lifecycle, type TargetDoc } from './catalog-schema';

export type Path = (string | number)[];

/** One family as the catalog means it: its own targets or the catalog's, resolved. */
export interface Family extends Omit<FamilyDoc, 'targets'> {
  id: string;
  targets: TargetDoc[];
  lifecycle: Lifecycle;
}

export interface Catalog {
  name: string;
  /** The file, and its folder (sources are relative to it). */
  path: string;
  dir: string;
  families: Family[];
  /** Where a value of the file is (for problems found later: a cloud that does not exist). */
  locate: (path: Path) => { line: number; column: number };
}

/** The deepest node the path reaches; for a key we refuse, the key itself. */
function nodeAt(doc: Document, path: Path, key?: string): Node | undefined {
  for (let n = path.length; n >= 0; n--) {
    const node = doc.getIn(path.slice(0, n), true) as Node | undefined;
    if (node === undefined || node === null) continue;
    if (n === path.length && key !== undefined && isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && p.key.value === key);
      if (pair !== undefined && isScalar(pair.key)) return pair.key;
    }
    return node;
  }
  return undefined;
}

function problemsError(path: string, problems: CatalogProblem[]): EngineError {
  const lines = problems.map((p) => `  line ${p.line}, column ${p.column}: ${p.message}`);
  return new EngineError(
    'catalogfile.invalid',
    `${path} has ${problems.length === 1 ? 'a problem' : `${problems.length} problems`}; nothing was planned:\n${lines.join('\n')}`,
    {
      hint: '`glance-uploader catalog schema` prints the JSON Schema (for an editor); `catalog example` a catalog to start from.',
      problems,
    },
  );
}

/** Parses and checks a catalog; `knownCloud` says whether a target's cloud exists. */
export function loadCatalog(path: string, knownCloud: (name: string) => boolean): Catalog {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new EngineError('catalogfile.not_found', `Cannot read the catalog ${path}: ${(e as Error).message}`, {
      hint: 'Give the path of a catalog file (YAML).',
    });
  }
  return parseCatalog(text, path, knownCloud);
}

export function parseCatalog(text: string, path: string, knownCloud: (name: string) => boolean): Catalog {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, uniqueKeys: true });
  const at = (offset: number): { line: number; column: number } => {
    const p = lc.linePos(offset);
    return { line: p.line, column: p.col };
  };
  if (doc.errors.length > 0)
    throw problemsError(
      path,
      doc.errors.map((e) => ({ ...at(e.pos[0]), path: '', message: e.message.split('\n')[0] ?? e.code })),
    );
  const locate = (p: Path, key?: string): { line: number; column: number } => at(nodeAt(doc, p, key)?.range?.[0] ?? 0);
  const problem = (p: Path, message: string, key?: string): CatalogProblem => ({
    ...locate(p, key),
    path: [...p, ...(key !== undefined ? [key] : [])].join('.'),
    message,
  });
  const raw: unknown = doc.toJS() ?? {};
  const parsed = CatalogSchema.safeParse(raw);
  // Every problem at once: what the schema says, and the rules that read the raw values (a
  // cloud's name, two latest) even where the schema failed elsewhere.
  const problems = [
    ...(parsed.success
      ? ruleProblems(parsed.data, problem)
      : parsed.error.issues.flatMap((i) =>
          i.code === 'unrecognized_keys'
            ? i.keys.map((k) => problem(i.path as Path, `unknown key "${k}"`, k))
            : [problem(i.path as Path, messageOf(i, doc.getIn(i.path as Path)))],
        )),
    ...rawProblems(raw, knownCloud, problem),
  ];
  if (problems.length > 0 || !parsed.success)
    throw problemsError(
      path,
      problems.sort((a, b) => a.line - b.line || a.column - b.column),
    );
  const file = resolve(path);
  return {
    name: parsed.data.catalog,
    path: file,
    dir: dirname(file),
    families: Object.entries(parsed.data.families).map(([id, f]) => ({
      ...f,
      id,
      targets: f.targets ?? parsed.data.targets ?? [],
    })),
    locate,
  };
}

/** zod's words, with the hint YAML needs: a number where a string is expected was not quoted. */
function messageOf(i: { code: string; message: string; expected?: unknown }, value: unknown): string {
  if (i.code === 'invalid_type' && i.expected === 'string' && typeof value === 'number')
    return `${i.message} (quote it: YAML reads it unquoted as the number ${String(value)})`;
  return i.message;
}

type Problem = (p: Path, message: string, key?: string) => CatalogProblem;

const list = (v: unknown): Record<string, unknown>[] =>
  Array.isArray(v) ? v.filter((x): x is Record<string, unknown> => typeof x === 'object' && x !== null) : [];
const map = (v: unknown): Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};

/** Rules read from the raw values, so they are said even when the schema fails elsewhere. */
function rawProblems(raw: unknown, knownCloud: (name: string) => boolean, problem: Problem): CatalogProblem[] {
  const out: CatalogProblem[] = [];
  const checkTargets = (targets: unknown, at: Path): void =>
    list(targets).forEach((t, i) => {
      if (typeof t.cloud === 'string' && !knownCloud(t.cloud))
        out.push(problem([...at, i, 'cloud'], `no cloud "${t.cloud}" in clouds.yaml or the app's saved clouds`));
    });
  checkTargets(map(raw).targets, ['targets']);
  for (const [id, fv] of Object.entries(map(map(raw).families))) {
    const f = map(fv);
    const at: Path = ['families', id];
    checkTargets(f.targets, [...at, 'targets']);
    const versions = list(f.versions);
    const latest = versions.flatMap((v, i) => (v.latest === true ? [i] : []));
    for (const i of latest.slice(1))
      out.push(problem([...at, 'versions', i, 'latest'], `family "${id}" has two versions marked latest`));
    const seen = new Set<unknown>();
    versions.forEach((v, i) => {
      if (seen.has(v.version))
        out.push(problem([...at, 'versions', i, 'version'], `version "${String(v.version)}" is declared twice`));
      seen.add(v.version);
    });
    list(f.members).forEach((m, i) => {
      if (typeof m.accept_with === 'string' && !knownCloud(m.accept_with))
        out.push(problem([...at, 'members', i, 'accept_with'], `no cloud "${m.accept_with}" to accept the share with`));
    });
  }
  return out;
}

/** What the schema cannot say: each problem at the value it is about. */
function ruleProblems(c: CatalogDoc, problem: Problem): CatalogProblem[] {
  const out: CatalogProblem[] = [];
  for (const [id, f] of Object.entries(c.families)) {
    const at: Path = ['families', id];
    if (f.targets === undefined && c.targets === undefined)
      out.push(problem(at, `family "${id}" has no targets, and the catalog has none for it to use`));
    if (f.versions === undefined && f.packer === undefined && f.folder === undefined)
      out.push(problem(at, `family "${id}" has no source: give versions, packer or folder`));
    if (f.members !== undefined && f.visibility !== undefined && f.visibility !== 'shared')
      out.push(
        problem(
          [...at, 'visibility'],
          `members need visibility shared (Glance refuses members on a ${f.visibility} image)`,
        ),
      );
    if (!f.lifecycle.rename.includes('{version}') && !f.lifecycle.rename.includes('{date}'))
      out.push(
        problem(
          [...at, 'lifecycle', 'rename'],
          'rename must hold {version} or {date}, or older versions share one name',
        ),
      );
  }
  return out;
}
