/**
 * Cloud entries the user brings to the app as text: a clouds.yaml (every cloud in it) or an
 * openrc (`export OS_*=...` lines; one cloud). Parsed and checked as the engine reads its own
 * config (normaliseCloud), then given back as drafts for the login form: nothing is saved here,
 * the user reviews, completes (an openrc usually asks for the password at `source` time) and
 * saves each with saveCloud. A token in the text is refused: tokens are never kept.
 */
import { parse } from 'yaml';
import type { CloudDraft } from '../../../shared/dto';
import { EngineError } from '../io/errors';
import { envCloud, normaliseCloud } from './clouds-config';

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `export OS_X=value` / `OS_X="value"` lines; shell expansions and commands are not run. */
export function parseOpenrc(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    const m = /^(?:export\s+)?(OS_[A-Z0-9_]+)=(.*)$/.exec(line);
    if (m === null) continue;
    let value = (m[2] ?? '').trim();
    const quote = value[0];
    if ((quote === '"' || quote === "'") && value.endsWith(quote) && value.length >= 2) value = value.slice(1, -1);
    else value = value.replace(/\s+#.*$/, '');
    if (value.includes('$')) continue; // $OS_PASSWORD_INPUT and the like: asked at source time, not here
    env[m[1] as string] = value;
  }
  return env;
}

function draftOf(name: string, source: string, block: Json): CloudDraft {
  const c = normaliseCloud(name, source, block);
  if (c.auth.token !== undefined)
    throw new EngineError('config.unsupported', `Cloud "${name}" signs in with a token, which the app never keeps.`, {
      hint: 'Use a password or an application credential for a saved cloud.',
    });
  const a = c.auth;
  const d: CloudDraft = { name, authUrl: a.authUrl, authType: c.authType };
  const set = <K extends keyof CloudDraft>(k: K, v: CloudDraft[K] | undefined): void => {
    if (v !== undefined && v !== '') d[k] = v;
  };
  set('username', a.username);
  set('password', a.password);
  set('projectName', a.projectName);
  set('projectId', a.projectId);
  set('userDomain', a.userDomainName);
  set('userDomainId', a.userDomainId);
  set('projectDomain', a.projectDomainName);
  set('projectDomainId', a.projectDomainId);
  set('applicationCredentialId', a.applicationCredentialId);
  set('applicationCredentialSecret', a.applicationCredentialSecret);
  set('region', c.regions[0]);
  return d;
}

export function cloudDrafts(format: 'clouds.yaml' | 'openrc', text: string, fileName: string = format): CloudDraft[] {
  if (format === 'openrc') {
    const env = parseOpenrc(text);
    const block = envCloud(env);
    if (block === undefined)
      throw new EngineError('config.invalid', `${fileName} sets no OS_AUTH_URL: it is not an openrc file.`, {
        hint: 'Download the "OpenStack RC file" from Horizon (API Access), or fill in the form.',
      });
    const name = (env.OS_PROJECT_NAME ?? env.OS_USERNAME ?? 'imported').toLowerCase().replace(/[^a-z0-9._-]+/g, '-');
    return [draftOf(name, fileName, block)];
  }
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (e) {
    throw new EngineError('config.invalid', `${fileName} is not valid YAML: ${(e as Error).message}`, {
      hint: 'Check the indentation (spaces, not tabs) around the line named.',
    });
  }
  const clouds = isObject(doc) ? doc.clouds : undefined;
  if (!isObject(clouds) || Object.keys(clouds).length === 0)
    throw new EngineError('config.invalid', `${fileName} has no "clouds:" mapping.`, {
      hint: 'A clouds.yaml starts with "clouds:" and one block per cloud.',
    });
  return Object.entries(clouds).map(([name, block]) => {
    if (!isObject(block))
      throw new EngineError('config.invalid', `Cloud "${name}" in ${fileName} is not a mapping.`, {
        hint: 'Each cloud is a block with auth, region_name...',
      });
    return draftOf(name, fileName, block);
  });
}
