/**
 * The JSON schemas the embedded server publishes (`GET /v2/schemas/...`): Glance 25's own, as
 * the reference serves them without custom properties (glance-schemas.json, fetched from it),
 * since glanceclient builds its models from them and clients show their validation messages;
 * and the version list.
 */
import SCHEMAS from './glance-schemas.json';

type Schema = Record<string, unknown>;
const ALL = SCHEMAS as unknown as Record<string, Schema>;

/** A schema by its path below /v2/schemas (`image`, `members`, `metadefs/namespace`...), a copy; undefined when Glance has none. */
export function glanceSchema(name: string): Schema | undefined {
  return Object.hasOwn(ALL, name) ? structuredClone(ALL[name]) : undefined;
}

export function imageSchema(): Schema {
  return glanceSchema('image') ?? {};
}

/**
 * The API versions Glance 25 serves (no image cache configured): 2.15 current, 2.9 and 2.7 to
 * 2.0; multi-store adds 2.8 and 2.10 to 2.13 (the stores API). Newest first, as it lists them.
 */
export function versionIds(multiStore: boolean): string[] {
  const store = multiStore ? ['v2.13', 'v2.12', 'v2.11', 'v2.10', 'v2.9', 'v2.8'] : ['v2.9'];
  return ['v2.15', ...store, 'v2.7', 'v2.6', 'v2.5', 'v2.4', 'v2.3', 'v2.2', 'v2.1', 'v2.0'];
}

export function versions(baseUrl: string, multiStore: boolean): Record<string, unknown>[] {
  return versionIds(multiStore).map((id, i) => ({
    id,
    status: i === 0 ? 'CURRENT' : 'SUPPORTED',
    links: [{ rel: 'self', href: `${baseUrl}/v2/` }],
  }));
}
