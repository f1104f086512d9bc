/**
 * The data folder: the database, logs and local staging live here. GLANCE_UPLOADER_HOME
 * overrides it (tests and scripts always isolate it); otherwise the platform's usual place.
 */
import { mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export function dataHome(
  env: Record<string, string | undefined> = process.env,
  platform: NodeJS.Platform = process.platform,
  home: string = homedir(),
): string {
  const explicit = env.GLANCE_UPLOADER_HOME;
  if (explicit !== undefined && explicit !== '') return explicit;
  if (platform === 'win32') return join(env.APPDATA ?? join(home, 'AppData', 'Roaming'), 'glance-uploader');
  if (platform === 'darwin') return join(home, 'Library', 'Application Support', 'glance-uploader');
  return join(env.XDG_DATA_HOME ?? join(home, '.local', 'share'), 'glance-uploader');
}

/** Creates the folder (owner-only: it will hold the queue and staged images). */
export function ensureDataHome(dir: string): string {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return dir;
}

/** Where the local server keeps its images: `<data folder>/staging-server`. */
export function localServerDir(env: Record<string, string | undefined>): string {
  return join(dataHome(env), 'staging-server');
}
