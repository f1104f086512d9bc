/**
 * The versions a family declares, from its sources: the `versions` list (a file or a URL with its
 * sha512), the last run of a Packer build (its manifest.json: the post-processor appends every
 * run, and only `last_run_uuid`'s files are sure to be what they say), and a folder a build
 * writes into (each image file one version, named by the file; a file changed in the last few
 * seconds is still being written and waits for the next look). Versions are ordered numerically
 * where they hold numbers (1.9 < 1.10, 20240703 < 20240801).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, extname, isAbsolute, join, resolve } from 'node:path';
import { EngineError } from '../io/errors';
import { diskFormatFromName, stemOf } from '../planning/upload-plan';
import type { Catalog, Family } from './catalog-file';

export type VersionSource = { path: string } | { url: string; sha512: string };

export interface DeclaredVersion {
  version: string;
  source: VersionSource;
  /** Pinned as the one with the plain name. */
  latest: boolean;
  generation: number;
  from: 'versions' | 'packer' | 'folder';
}

/** The one ordering of versions: numeric where they hold numbers. */
export function compareVersions(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true, sensitivity: 'variant' });
}

/** A file still being written (changed this recently) is left for the next look. */
const SETTLE_MS = 3000;

function sourceError(c: Catalog, f: Family, key: 'packer' | 'folder', message: string, hint: string): EngineError {
  const at = c.locate(['families', f.id, key]);
  return new EngineError('catalogfile.source', `${c.path}, line ${at.line}: ${message}`, { hint });
}

/** A path of the catalog file, relative to its folder. */
export const under = (c: Catalog, p: string): string => (isAbsolute(p) ? p : resolve(c.dir, p));

interface PackerBuild {
  name?: string;
  build_time?: number;
  files?: { name: string; size?: number }[] | null;
  packer_run_uuid?: string;
  custom_data?: Record<string, string> | null;
}

function packerVersions(c: Catalog, f: Family): DeclaredVersion[] {
  const p = f.packer;
  if (p === undefined) return [];
  const file = under(c, p.manifest);
  let m: { builds?: PackerBuild[]; last_run_uuid?: string };
  try {
    m = JSON.parse(readFileSync(file, 'utf8')) as typeof m;
  } catch (e) {
    const missing = (e as NodeJS.ErrnoException).code === 'ENOENT';
    if (missing) return []; // no build yet: nothing declared (watch waits for it)
    throw sourceError(
      c,
      f,
      'packer',
      `cannot read the Packer manifest ${file}: ${(e as Error).message}`,
      'It is the manifest post-processor’s output (packer-manifest.json).',
    );
  }
  const builds = (m.builds ?? []).filter(
    (b) =>
      (m.last_run_uuid === undefined || b.packer_run_uuid === m.last_run_uuid) &&
      (p.build === undefined || b.name === p.build),
  );
  const out: DeclaredVersion[] = [];
  for (const b of builds) {
    const image = (b.files ?? []).map((x) => x.name).find((n) => diskFormatFromName(n) !== undefined);
    if (image === undefined) continue;
    const path = isAbsolute(image) ? image : resolve(dirname(file), image);
    const version =
      b.custom_data?.[p.version ?? 'version'] ??
      (b.build_time !== undefined
        ? new Date(b.build_time * 1000).toISOString().slice(0, 19).replace(/[-:]/g, '').replace('T', '-')
        : undefined);
    if (version === undefined)
      throw sourceError(
        c,
        f,
        'packer',
        `the build "${b.name ?? '?'}" in ${file} says no version and no build time`,
        'Set custom_data { version = "..." } in the manifest post-processor.',
      );
    // (Packer writes the manifest once the build is over: its file is whole, unlike a folder's)
    if (!existsSync(path)) continue;
    out.push({ version, source: { path }, latest: false, generation: 0, from: 'packer' });
  }
  return out;
}

function settling(path: string, now: number): boolean {
  const st = statSync(path, { throwIfNoEntry: false });
  return st === undefined || now - st.mtimeMs < SETTLE_MS;
}

function folderVersions(c: Catalog, f: Family, now: number): DeclaredVersion[] {
  const d = f.folder;
  if (d === undefined) return [];
  const dir = under(c, d.path);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (e) {
    throw sourceError(
      c,
      f,
      'folder',
      `cannot read the folder ${dir}: ${(e as Error).message}`,
      'Create it, or point folder.path at the folder the build writes into.',
    );
  }
  const re = d.match !== undefined ? new RegExp(d.match) : undefined;
  const out: DeclaredVersion[] = [];
  for (const name of names.sort()) {
    if (name.startsWith('.') || extname(name) === '.part') continue;
    const hit = re?.exec(name);
    if (re !== undefined ? hit === null || hit === undefined : diskFormatFromName(name) === undefined) continue;
    const version = hit?.groups?.version ?? hit?.[1] ?? stemOf(name);
    const path = join(dir, name);
    if (!statSync(path).isFile() || settling(path, now)) continue;
    out.push({ version, source: { path }, latest: false, generation: 0, from: 'folder' });
  }
  return out;
}

/** Every version the family declares, oldest first; a version declared twice keeps the list's. */
export function declaredVersions(c: Catalog, f: Family, now = Date.now()): DeclaredVersion[] {
  const listed: DeclaredVersion[] = (f.versions ?? []).map((v) => ({
    version: v.version,
    source: v.url !== undefined ? { url: v.url, sha512: v.sha512 ?? '' } : { path: under(c, v.file ?? '') },
    latest: v.latest === true,
    generation: v.generation ?? 0,
    from: 'versions',
  }));
  const byVersion = new Map<string, DeclaredVersion>();
  for (const v of [...folderVersions(c, f, now), ...packerVersions(c, f), ...listed]) byVersion.set(v.version, v);
  return [...byVersion.values()].sort((a, b) => compareVersions(a.version, b.version));
}

/** What a source is, for people: the file's name or the URL. */
export function sourceLabel(s: VersionSource): string {
  return 'url' in s ? s.url : basename(s.path);
}
