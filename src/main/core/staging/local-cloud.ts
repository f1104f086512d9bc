/**
 * The local server as a cloud of the engine, named `local` (region `local`), whatever port it
 * runs on today: its clouds.yaml block is made from the data folder (the server's
 * `credentials.json` and the `server.json` a running server announces). An explicit `local`
 * entry in clouds.yaml wins. Staging is an upload to this cloud; sync reads staged images from
 * here.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { dataHome } from '../data-home';
import { EngineError } from '../errors';
import { LOCAL_REGION, type LocalCredentials } from './identity';
import { alive, type ServerInfo } from './server-process';

export const LOCAL_CLOUD = 'local';
export { LOCAL_REGION };

/** Where the local server keeps its images: `<data folder>/staging-server`. */
export function localServerDir(env: Record<string, string | undefined>): string {
  return join(dataHome(env), 'staging-server');
}

/** The clouds.yaml block of a server (what `serve --write-clouds-yaml` writes too). */
export function localCloudBlock(authUrl: string, creds: LocalCredentials): Record<string, unknown> {
  return {
    auth_type: 'password',
    auth: {
      auth_url: authUrl,
      username: creds.username,
      password: creds.password,
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

/** The `local` cloud's block, or `local.not_running` when no server runs on the data folder. */
export function localCloudOf(dataDir: string): Record<string, unknown> {
  const info = announcedServer(dataDir);
  const credsFile = join(dataDir, 'credentials.json');
  if (info === undefined || !existsSync(credsFile))
    throw new EngineError('local.not_running', `The local server is not running (data folder ${dataDir}).`, {
      hint: 'Open the app, or run `glance-uploader serve`; stage and sync start it for their duration.',
    });
  return localCloudBlock(info.authUrl, JSON.parse(readFileSync(credsFile, 'utf8')) as LocalCredentials);
}
