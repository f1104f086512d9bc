/**
 * The local server as a cloud of the engine, named `local` (region `local`), whatever port it
 * runs on today: its clouds.yaml block is made from the data folder (the server's
 * `credentials.json` and the `server.json` a running server announces). An explicit `local`
 * entry in clouds.yaml wins. Staging is an upload to this cloud; sync reads staged images from
 * here.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Engine, EngineOptions, ProvidedCloud } from '../clouds/engine';
import { localServerDir } from '../io/data-home';
import { EngineError } from '../io/errors';
import type { CreateImageFields, GlanceImage } from '../openstack/glance-types';
import { UUID_RE } from '../local-glance/image-store';
import { LOCAL_REGION, type LocalCredentials } from '../local-glance/identity';
import { alive, type ServerInfo } from '../local-glance/server-process';

export { isLocalCloud, LOCAL_ADMIN_CLOUD, LOCAL_CLOUD } from '../../../shared/local-cloud';
import { LOCAL_ADMIN_CLOUD, LOCAL_CLOUD } from '../../../shared/local-cloud';
export { LOCAL_REGION };

/**
 * Where a staged image keeps the visibility it is meant to have: the local server's member may
 * not make an image public (Glance's publicize_image is an admin's), so a public image is staged
 * private with this property, and sync gives the copies the visibility it names.
 */
export const STAGED_VISIBILITY = 'glance_uploader_visibility';

/** The fields a staged image is created with: `public` kept for the copies, the staged one private. */
export function stagingFields(fields: CreateImageFields): CreateImageFields {
  if (fields.visibility !== 'public') return fields;
  return { ...fields, visibility: 'private', properties: { ...fields.properties, [STAGED_VISIBILITY]: 'public' } };
}

/** The `local` cloud for an engine (the member user): this data folder's running server, whatever its port today. */
export function localCloud(dataDir: string): ProvidedCloud {
  return {
    name: LOCAL_CLOUD,
    source: 'the local server',
    block: () => localCloudOf(dataDir),
    createFields: stagingFields,
  };
}

/** `local-admin`: the same server as its admin user. */
export function localAdminCloud(dataDir: string): ProvidedCloud {
  return { name: LOCAL_ADMIN_CLOUD, source: 'the local server', block: () => localCloudOf(dataDir, 'admin') };
}

/** Engine options with the `local` cloud added (its data folder: the options' or the data home's). */
export function withLocalCloud(options: EngineOptions): EngineOptions {
  const dir = options.localServerDir ?? localServerDir(options.env ?? process.env);
  return { ...options, providedClouds: [...(options.providedClouds ?? []), localCloud(dir), localAdminCloud(dir)] };
}

/** The clouds.yaml block of a server for its member or its admin (what `serve --write-clouds-yaml` writes too). */
export function localCloudBlock(
  authUrl: string,
  creds: LocalCredentials,
  role: 'member' | 'admin' = 'member',
): Record<string, unknown> {
  const user = role === 'admin' ? creds.admin : creds;
  return {
    auth_type: 'password',
    auth: {
      auth_url: authUrl,
      username: user.username,
      password: user.password,
      project_name: creds.projectName,
      user_domain_id: creds.domainId,
      project_domain_id: creds.domainId,
    },
    region_name: LOCAL_REGION,
    interface: 'public',
    identity_api_version: 3,
    image_api_version: 2,
  };
}

/** The running server's announcement, without asking it (synchronous; the request that follows will). */
export function announcedServer(dataDir: string): ServerInfo | undefined {
  try {
    const info = JSON.parse(readFileSync(join(dataDir, 'server.json'), 'utf8')) as ServerInfo;
    return alive(info.pid) ? info : undefined;
  } catch {
    return undefined;
  }
}

/** The local user's credentials (written by the server at its first start), if any. */
export function localCredentials(dataDir: string): LocalCredentials | undefined {
  try {
    return JSON.parse(readFileSync(join(dataDir, 'credentials.json'), 'utf8')) as LocalCredentials;
  } catch {
    return undefined;
  }
}

/** The `local` (or `local-admin`) cloud's block, or `local.not_running` when no server runs on the data folder. */
export function localCloudOf(dataDir: string, role: 'member' | 'admin' = 'member'): Record<string, unknown> {
  const info = announcedServer(dataDir);
  const credsFile = join(dataDir, 'credentials.json');
  if (info === undefined || !existsSync(credsFile))
    throw new EngineError('local.not_running', `The local server is not running (data folder ${dataDir}).`, {
      hint: 'Open the app, or run `glance-uploader serve`; stage and sync start it for their duration.',
    });
  const creds = JSON.parse(readFileSync(credsFile, 'utf8')) as LocalCredentials;
  if (role === 'admin' && creds.admin === undefined)
    throw new EngineError('local.not_running', `The local server has no admin user yet (data folder ${dataDir}).`, {
      hint: 'Restart the local server: it adds the admin user at start.',
    });
  return localCloudBlock(info.authUrl, creds, role);
}

/**
 * Where the local server keeps an active image's data: `images/<id>` (the default store) or
 * `stores/s<N>/<id>`, with `.qcow2` when it is packed (a compressed qcow2 of the raw bytes:
 * local-glance/image-packing.ts). Sync reads it from there, as a file, rather than through HTTP.
 */
export function stagedDataPath(dataDir: string, id: string): { path: string; packed: boolean } | undefined {
  if (!UUID_RE.test(id)) return undefined;
  const dirs = [join(dataDir, 'images')];
  const stores = join(dataDir, 'stores');
  if (existsSync(stores)) for (const d of readdirSync(stores).sort()) dirs.push(join(stores, d));
  for (const dir of dirs)
    for (const packed of [false, true]) {
      const path = join(dir, `${id.toLowerCase()}${packed ? '.qcow2' : ''}`);
      if (existsSync(path)) return { path, packed };
    }
  return undefined;
}

/** Fields Glance sets itself, or that describe one copy of the data: never copied to a target. */
const NOT_COPIED = new Set([
  'id',
  'status',
  'size',
  'virtual_size',
  'checksum',
  'os_hash_algo',
  'os_hash_value',
  'created_at',
  'updated_at',
  'owner',
  'file',
  'schema',
  'self',
  'direct_url',
  'locations',
  'stores',
  'tags',
  'name',
  'disk_format',
  'container_format',
  'visibility',
  'protected',
  'os_hidden',
  'min_disk',
  'min_ram',
  STAGED_VISIBILITY,
]);

/**
 * A staged image's metadata as a job's: name, formats, visibility, minimums, protection, tags
 * and every custom property (Glance's own `os_glance_*` bookkeeping excepted).
 */
export function stagedMetadata(img: GlanceImage): Record<string, unknown> {
  const properties: Record<string, string> = {};
  for (const [k, v] of Object.entries(img))
    if (!NOT_COPIED.has(k) && !k.startsWith('os_glance_') && typeof v === 'string') properties[k] = v;
  return {
    name: img.name ?? img.id,
    disk_format: img.disk_format,
    container_format: img.container_format,
    visibility: (img as unknown as Record<string, unknown>)[STAGED_VISIBILITY] === 'public' ? 'public' : img.visibility,
    min_disk: img.min_disk,
    min_ram: img.min_ram,
    ...(img.protected ? { protected: true } : {}),
    ...(img.os_hidden === true ? { os_hidden: true } : {}),
    ...(img.tags.length > 0 ? { tags: [...img.tags] } : {}),
    ...(Object.keys(properties).length > 0 ? { properties } : {}),
  };
}

/** The images staged on the local server (every status). */
export async function stagedImages(engine: Engine): Promise<GlanceImage[]> {
  return (await engine.glance(LOCAL_CLOUD, LOCAL_REGION)).listImages();
}
