/**
 * Clouds as the openstack CLI finds them (openstacksdk's config loader is the reference):
 * OS_CLIENT_CONFIG_FILE, then ./, the user config dir, /etc/openstack; the first clouds.yaml
 * found wins (no merging across folders); secure.yaml is deep-merged over it; OS_* variables
 * make a cloud named "envvars". Keys are normalised ("-" and "_" alike, top-level auth keys
 * moved into auth). Secrets read here stay in memory only.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, YAMLParseError } from 'yaml';
import { EngineError } from '../io/errors';

export interface ConfigContext {
  env: Record<string, string | undefined>;
  cwd: string;
  home: string;
}

export interface CloudAuth {
  authUrl: string;
  username?: string;
  userId?: string;
  password?: string;
  projectName?: string;
  projectId?: string;
  userDomainName?: string;
  userDomainId?: string;
  projectDomainName?: string;
  projectDomainId?: string;
  token?: string;
  applicationCredentialId?: string;
  applicationCredentialName?: string;
  applicationCredentialSecret?: string;
}

export interface CloudEntry {
  name: string;
  source: string;
  authType: string;
  auth: CloudAuth;
  regions: string[];
  interface: 'public' | 'internal' | 'admin';
  cacert?: string;
  verify: boolean;
  identityApiVersion: string;
  /** image_endpoint_override: use this Glance URL instead of the catalog's (every region). */
  imageEndpointOverride?: string;
  /**
   * object_store_endpoint_override: the object store's URL instead of the catalog's (every
   * region); `%(project_id)s` is replaced by the token's project, as openstacksdk does.
   */
  objectStoreEndpointOverride?: string;
}

type Json = Record<string, unknown>;

const FILE_NAMES = ['clouds.yaml', 'clouds.yml', 'clouds.json'];
const SECURE_NAMES = ['secure.yaml', 'secure.yml', 'secure.json'];
/** Keys that openstacksdk moves from the top level of a cloud into its auth block. */
const AUTH_KEYS = new Set([
  'auth_url',
  'username',
  'user_id',
  'password',
  'project_name',
  'project_id',
  'tenant_name',
  'tenant_id',
  'user_domain_name',
  'user_domain_id',
  'project_domain_name',
  'project_domain_id',
  'domain_name',
  'domain_id',
  'token',
  'application_credential_id',
  'application_credential_name',
  'application_credential_secret',
]);
const SUPPORTED_TOP_KEYS = new Set([
  'auth',
  'auth_type',
  'region_name',
  'regions',
  'interface',
  'endpoint_type',
  'identity_api_version',
  'image_api_version',
  'cacert',
  'verify',
  'insecure',
  'identity_interface',
  'api_timeout',
  'profile',
  'image_format',
  'image_endpoint_override',
  'object_store_endpoint_override',
  'volume_api_version',
  'compute_api_version',
  'network_api_version',
]);

export function searchDirs(ctx: ConfigContext): string[] {
  const xdg = ctx.env.XDG_CONFIG_HOME ?? join(ctx.home, '.config');
  return [
    ctx.cwd,
    join(xdg, 'openstack'),
    join(ctx.home, '.config', 'openstack'),
    '/etc/xdg/openstack',
    '/etc/openstack',
  ];
}

function firstExisting(dirs: string[], names: string[]): string | undefined {
  for (const d of dirs) for (const n of names) if (existsSync(join(d, n))) return join(d, n);
  return undefined;
}

export function findCloudsFile(ctx: ConfigContext): string | undefined {
  const explicit = ctx.env.OS_CLIENT_CONFIG_FILE;
  if (explicit !== undefined && explicit !== '') {
    if (!existsSync(explicit)) {
      throw new EngineError('config.not_found', `OS_CLIENT_CONFIG_FILE points to ${explicit}, which does not exist.`, {
        hint: 'Fix the path in OS_CLIENT_CONFIG_FILE or unset it to use the standard locations.',
      });
    }
    return explicit;
  }
  return firstExisting(searchDirs(ctx), FILE_NAMES);
}

function readConfigFile(path: string): Json {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new EngineError('config.not_found', `Cannot read ${path}: ${(e as Error).message}`, {
      hint: 'Check the file exists and is readable.',
    });
  }
  let data: unknown;
  try {
    data = path.endsWith('.json') ? JSON.parse(text) : parse(text, { merge: true });
  } catch (e) {
    const where =
      e instanceof YAMLParseError && e.linePos ? ` at line ${e.linePos[0].line}, column ${e.linePos[0].col}` : '';
    throw new EngineError(
      'config.invalid',
      `${path} is not valid ${path.endsWith('.json') ? 'JSON' : 'YAML'}${where}.`,
      {
        hint: `Fix the syntax of ${path}; the openstack CLI reads the same file.`,
      },
    );
  }
  if (data === null || data === undefined) return {};
  if (typeof data !== 'object' || Array.isArray(data)) {
    throw new EngineError('config.invalid', `${path} must hold a mapping with a "clouds" key.`, {
      hint: 'See the clouds.yaml example in the README.',
    });
  }
  return data as Json;
}

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function deepMerge(base: Json, over: Json): Json {
  const out: Json = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = isObject(v) && isObject(out[k]) ? deepMerge(out[k], v) : v;
  return out;
}

function normaliseKeys(o: Json): Json {
  const out: Json = {};
  for (const [k, v] of Object.entries(o))
    out[k.replaceAll('-', '_')] = k === 'auth' && isObject(v) ? normaliseKeys(v) : v;
  return out;
}

function str(v: unknown): string | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  return String(v);
}

function truthy(v: unknown): boolean {
  return v === true || (typeof v === 'string' && ['1', 'true', 'yes', 'on'].includes(v.toLowerCase()));
}

/** One raw cloud block (from a file or from OS_* variables) as a CloudEntry. */
export function normaliseCloud(name: string, source: string, raw: Json): CloudEntry {
  const c = normaliseKeys(raw);
  checkKeys(c, name, source);
  const auth = authOf(c);
  const authUrl = str(auth.auth_url);
  if (authUrl === undefined) {
    throw new EngineError('config.invalid', `Cloud "${name}" in ${source} has no auth_url.`, {
      hint: 'Add auth.auth_url (the Keystone URL, e.g. https://keystone.example:5000/v3).',
    });
  }
  const regions = regionsOfEntry(c);
  const iface = interfaceOf(c, name);
  const identityApiVersion = str(c.identity_api_version) ?? '3';
  if (!identityApiVersion.startsWith('3')) {
    throw new EngineError(
      'config.unsupported',
      `Cloud "${name}" asks for identity_api_version ${identityApiVersion}; only Keystone v3 is supported.`,
      {
        hint: 'Set identity_api_version: 3 (Keystone v2 was removed from OpenStack in Queens).',
      },
    );
  }
  const a = (k: string): string | undefined => str(auth[k]);
  return {
    name,
    source,
    authType: str(c.auth_type) ?? 'password',
    auth: {
      authUrl,
      username: a('username'),
      userId: a('user_id'),
      password: a('password'),
      projectName: a('project_name'),
      projectId: a('project_id'),
      userDomainName: a('user_domain_name'),
      userDomainId: a('user_domain_id'),
      projectDomainName: a('project_domain_name'),
      projectDomainId: a('project_domain_id'),
      token: a('token'),
      applicationCredentialId: a('application_credential_id'),
      applicationCredentialName: a('application_credential_name'),
      applicationCredentialSecret: a('application_credential_secret'),
    },
    regions,
    interface: iface,
    cacert: str(c.cacert),
    verify: !truthy(c.insecure) && c.verify !== false && str(c.verify)?.toLowerCase() !== 'false',
    identityApiVersion,
    imageEndpointOverride: str(c.image_endpoint_override),
    objectStoreEndpointOverride: str(c.object_store_endpoint_override),
  };
}

/** Every key must be one we understand: a key we would ignore could change what the user meant. */
function checkKeys(c: Json, name: string, source: string): void {
  for (const k of Object.keys(c)) {
    if (!AUTH_KEYS.has(k) && !SUPPORTED_TOP_KEYS.has(k)) {
      throw new EngineError(
        'config.unsupported',
        `Cloud "${name}" in ${source} uses the key "${k}", which Glance Uploader does not support.`,
        {
          hint: `Remove "${k}" from the entry, or use the openstack CLI for this cloud.`,
        },
      );
    }
  }
  if (c.profile !== undefined) {
    throw new EngineError(
      'config.unsupported',
      `Cloud "${name}" in ${source} uses "profile" (vendor profiles), which is not supported yet.`,
      {
        hint: 'Write the auth_url and region of the cloud in the entry itself.',
      },
    );
  }
}

/** The auth block, with auth keys written at the top level, legacy names and a shared domain applied. */
function authOf(c: Json): Json {
  const auth: Json = isObject(c.auth) ? { ...c.auth } : {};
  for (const [k, v] of Object.entries(c)) if (AUTH_KEYS.has(k) && auth[k] === undefined) auth[k] = v;
  // Legacy names, as openstacksdk maps them.
  if (auth.tenant_name !== undefined && auth.project_name === undefined) auth.project_name = auth.tenant_name;
  if (auth.tenant_id !== undefined && auth.project_id === undefined) auth.project_id = auth.tenant_id;
  // A single domain_* applies to both the user and the project.
  for (const kind of ['name', 'id'] as const) {
    const d = auth[`domain_${kind}`];
    if (d !== undefined) {
      auth[`user_domain_${kind}`] ??= d;
      auth[`project_domain_${kind}`] ??= d;
    }
  }
  return auth;
}

/** region_name, then `regions` (names or {name: ...} blocks), without repeats. */
function regionsOfEntry(c: Json): string[] {
  const regions: string[] = [];
  const single = str(c.region_name);
  if (single !== undefined) regions.push(single);
  if (Array.isArray(c.regions)) {
    for (const r of c.regions) {
      const id = isObject(r) ? str(r.name) : str(r);
      if (id !== undefined && !regions.includes(id)) regions.push(id);
    }
  }
  return regions;
}

function interfaceOf(c: Json, name: string): 'public' | 'internal' | 'admin' {
  const iface = (str(c.interface) ?? str(c.endpoint_type) ?? 'public').replace(/URL$/, '');
  if (iface !== 'public' && iface !== 'internal' && iface !== 'admin') {
    throw new EngineError('config.invalid', `Cloud "${name}" has interface "${iface}".`, {
      hint: 'Use public, internal or admin.',
    });
  }
  return iface;
}

/** OS_* variables (an openrc) as a cloud block, as openstacksdk builds its "envvars" cloud. */
export function envCloud(env: ConfigContext['env']): Json | undefined {
  const selectorOnly = new Set([
    'OS_CLOUD',
    'OS_REGION_NAME',
    'OS_CLIENT_CONFIG_FILE',
    'OS_CLIENT_SECURE_FILE',
    'OS_CLOUD_NAME',
  ]);
  const block: Json = {};
  let meaningful = false;
  for (const [k, v] of Object.entries(env)) {
    if (!k.startsWith('OS_') || v === undefined || /^OS_(TEST|STD|LOG)/.test(k)) continue;
    if (k === 'OS_CLOUD' || k === 'OS_CLIENT_CONFIG_FILE' || k === 'OS_CLIENT_SECURE_FILE' || k === 'OS_CLOUD_NAME')
      continue;
    block[k.slice(3).toLowerCase()] = v;
    if (!selectorOnly.has(k)) meaningful = true;
  }
  return meaningful && block.auth_url !== undefined ? block : undefined;
}

export interface LoadedClouds {
  clouds: CloudEntry[];
  /** The cloud OS_CLOUD names, or the only one there is. */
  defaultCloud?: string;
  file?: string;
}

export function loadClouds(ctx: ConfigContext): LoadedClouds {
  const { doc, file, origin } = readCloudsDoc(ctx);
  const rawClouds = doc.clouds ?? {};
  if (!isObject(rawClouds)) {
    throw new EngineError('config.invalid', `"clouds" in ${origin} must be a mapping of cloud names to entries.`, {
      hint: 'See the clouds.yaml example in the README.',
    });
  }
  const clouds: CloudEntry[] = [];
  for (const [name, raw] of Object.entries(rawClouds)) {
    if (!isObject(raw))
      throw new EngineError('config.invalid', `Cloud "${name}" in ${file ?? 'clouds.yaml'} is not a mapping.`, {
        hint: 'Each cloud is a block with auth, region_name...',
      });
    clouds.push(normaliseCloud(name, origin, raw));
  }
  const fromEnv = envCloud(ctx.env);
  if (fromEnv !== undefined) clouds.push(normaliseCloud(ctx.env.OS_CLOUD_NAME ?? 'envvars', 'environment', fromEnv));
  const named = ctx.env.OS_CLOUD;
  const defaultCloud = named !== undefined && named !== '' ? named : clouds.length === 1 ? clouds[0]?.name : undefined;
  return { clouds, defaultCloud, file };
}

/** clouds.yaml as found, with secure.yaml merged over it; `origin` names where the clouds came from. */
function readCloudsDoc(ctx: ConfigContext): { doc: Json; file: string | undefined; origin: string } {
  const file = findCloudsFile(ctx);
  let doc: Json = file !== undefined ? readConfigFile(file) : {};
  const secureExplicit = ctx.env.OS_CLIENT_SECURE_FILE;
  const secure =
    secureExplicit !== undefined && secureExplicit !== ''
      ? secureExplicit
      : firstExisting(searchDirs(ctx), SECURE_NAMES);
  if (secure !== undefined && existsSync(secure)) doc = deepMerge(doc, readConfigFile(secure));
  return { doc, file, origin: file ?? secure ?? 'clouds.yaml' };
}

export function findCloud(loaded: LoadedClouds, name: string): CloudEntry {
  const c = loaded.clouds.find((x) => x.name === name);
  if (c === undefined) {
    const known = loaded.clouds.map((x) => x.name);
    throw new EngineError(
      'config.cloud_not_found',
      `No cloud named "${name}"${loaded.file ? ` in ${loaded.file}` : ''}.`,
      {
        hint:
          known.length > 0
            ? `Known clouds: ${known.join(', ')}.`
            : 'No clouds.yaml was found: set OS_CLIENT_CONFIG_FILE or create ~/.config/openstack/clouds.yaml.',
      },
    );
  }
  return c;
}
