/**
 * The "add a cloud" form as data: blank, filled from an imported draft (clouds.yaml or openrc),
 * and turned into `saveCloud`'s arguments (trimmed; empty fields left out; the secret of the
 * chosen kind only). Pure: the Clouds screen's model (clouds.svelte.ts) holds the state.
 */
import type { CloudDraft } from '../../../shared/dto';
import type { ApiArgs } from '../../../shared/ipc/contract';

export type AuthKind = 'password' | 'appcred';

export interface CloudForm {
  name: string;
  authUrl: string;
  kind: AuthKind;
  username: string;
  password: string;
  projectName: string;
  userDomain: string;
  projectDomain: string;
  region: string;
  applicationCredentialId: string;
  applicationCredentialSecret: string;
  userDomainId: string;
  projectDomainId: string;
}

export function blankForm(): CloudForm {
  return {
    name: '',
    authUrl: '',
    kind: 'password',
    username: '',
    password: '',
    projectName: '',
    userDomain: 'Default',
    projectDomain: 'Default',
    region: '',
    applicationCredentialId: '',
    applicationCredentialSecret: '',
    userDomainId: '',
    projectDomainId: '',
  };
}

/** A draft's fields in the form; a domain given by id leaves the name empty rather than "Default". */
export function formFromDraft(d: CloudDraft): CloudForm {
  return {
    ...blankForm(),
    name: d.name,
    authUrl: d.authUrl,
    kind: d.applicationCredentialId !== undefined ? 'appcred' : 'password',
    username: d.username ?? '',
    password: d.password ?? '',
    projectName: d.projectName ?? '',
    userDomain: d.userDomain ?? (d.userDomainId !== undefined ? '' : 'Default'),
    projectDomain: d.projectDomain ?? (d.projectDomainId !== undefined ? '' : 'Default'),
    userDomainId: d.userDomainId ?? '',
    projectDomainId: d.projectDomainId ?? '',
    region: d.region ?? '',
    applicationCredentialId: d.applicationCredentialId ?? '',
    applicationCredentialSecret: d.applicationCredentialSecret ?? '',
  };
}

const opt = (v: string): string | undefined => (v.trim() === '' ? undefined : v.trim());

/** `saveCloud`'s arguments: only the chosen kind's fields; secrets kept as typed (never trimmed). */
export function saveArgsOf(f: CloudForm): ApiArgs['saveCloud'][0] {
  return {
    name: f.name.trim(),
    authUrl: f.authUrl.trim(),
    ...(f.kind === 'password'
      ? {
          username: opt(f.username),
          password: f.password === '' ? undefined : f.password,
          projectName: opt(f.projectName),
          userDomain: opt(f.userDomain),
          projectDomain: opt(f.projectDomain),
          userDomainId: opt(f.userDomainId),
          projectDomainId: opt(f.projectDomainId),
        }
      : {
          applicationCredentialId: opt(f.applicationCredentialId),
          applicationCredentialSecret: f.applicationCredentialSecret === '' ? undefined : f.applicationCredentialSecret,
        }),
    region: opt(f.region),
  };
}

/** What an imported file is: a clouds.yaml has a top-level `clouds:`; anything else is read as an openrc. */
export function importFormat(text: string): 'clouds.yaml' | 'openrc' {
  return /^\s*clouds\s*:/m.test(text) ? 'clouds.yaml' : 'openrc';
}
