/**
 * What an image of a catalog's version should be: its name (the plain name for the latest, the
 * lifecycle's for older ones), visibility, listing and state, and the fields it is created with
 * (our properties among them: the catalog's state lives in the clouds). One order for versions,
 * in which images a family adopted come first.
 */
import type { Catalog, Family } from './catalog-file';
import { PROP } from './catalog-state';
import { compareVersions, type DeclaredVersion } from './version-sources';

/** Images a family adopted carry this version prefix; they are older than any declared version. */
export const ADOPTED = 'adopted:';

export function orderVersions(a: string, b: string): number {
  const rank = (v: string): number => (v.startsWith(ADOPTED) ? 0 : 1);
  return rank(a) - rank(b) || compareVersions(a, b);
}

/** The name an older version takes ({name}, {version}, {date}: the day its image was made). */
export function olderName(f: Family, version: string, createdAt: string | undefined): string {
  // (an adopted image's version is `adopted:<day>-<id>`: its name shows the day)
  const v = version.startsWith(ADOPTED) ? version.slice(ADOPTED.length, ADOPTED.length + 10) : version;
  return f.lifecycle.rename
    .replaceAll('{name}', f.name)
    .replaceAll('{version}', v)
    .replaceAll('{date}', (createdAt ?? new Date().toISOString()).slice(0, 10));
}

export interface Desired {
  name: string;
  visibility: string;
  hidden: boolean;
  deactivated: boolean;
}

export function desiredOf(f: Family, version: string, latest: boolean, createdAt: string | undefined): Desired {
  const older = f.lifecycle.older;
  const base = f.visibility ?? ((f.members ?? []).length > 0 ? 'shared' : 'private');
  return {
    name: latest ? f.name : olderName(f, version, createdAt),
    visibility: !latest && older === 'community' ? 'community' : base,
    hidden: !latest && older === 'hide',
    deactivated: !latest && older === 'deactivate',
  };
}

/** The create call's fields of a version's image (its name final unless it is the latest). */
export function createFieldsOf(c: Catalog, f: Family, v: DeclaredVersion, latest: boolean): Record<string, unknown> {
  const d = desiredOf(f, v.version, latest, undefined);
  return {
    // The latest takes the plain name only once the older image gave it up (second pass).
    name: olderName(f, v.version, undefined),
    visibility: d.visibility,
    ...(d.hidden ? { os_hidden: true } : {}),
    ...(f.min_disk !== undefined ? { min_disk: f.min_disk } : {}),
    ...(f.min_ram !== undefined ? { min_ram: f.min_ram } : {}),
    ...(f.tags !== undefined ? { tags: f.tags } : {}),
    properties: {
      ...f.properties,
      [PROP.catalog]: c.name,
      [PROP.family]: f.id,
      [PROP.version]: v.version,
    },
  };
}
