/** The body of POST /v3/auth/tokens for each supported auth method. */
import { EngineError } from '../io/errors';
import type { CloudAuth, CloudEntry } from './clouds-config';

export type AuthMethod = 'password' | 'application_credential' | 'token';

export type ProjectScope = { id: string } | { name: string; domain: { id: string } | { name: string } };

/** auth_type of clouds.yaml -> the method we send; anything else is a coded error naming it. */
export function authMethodOf(cloud: CloudEntry): AuthMethod {
  switch (cloud.authType) {
    case 'password':
    case 'v3password':
      return 'password';
    case 'v3applicationcredential':
    case 'applicationcredential':
      return 'application_credential';
    case 'token':
    case 'v3token':
      return 'token';
    default:
      throw new EngineError(
        'config.unsupported',
        `Cloud "${cloud.name}" uses auth_type "${cloud.authType}", which Glance Uploader does not support.`,
        {
          hint: 'Supported: password, v3password, v3applicationcredential, token, v3token.',
        },
      );
  }
}

function domainRef(id: string | undefined, name: string | undefined): { id: string } | { name: string } {
  if (id !== undefined) return { id };
  if (name !== undefined) return { name };
  return { id: 'default' };
}

/** The project scope the entry asks for, if any. */
export function configuredScope(auth: CloudAuth): ProjectScope | undefined {
  if (auth.projectId !== undefined) return { id: auth.projectId };
  if (auth.projectName !== undefined)
    return { name: auth.projectName, domain: domainRef(auth.projectDomainId, auth.projectDomainName) };
  return undefined;
}

function need(cloud: CloudEntry, value: string | undefined, key: string, hint: string): string {
  if (value === undefined) throw new EngineError('config.invalid', `Cloud "${cloud.name}" has no ${key}.`, { hint });
  return value;
}

export function authBody(cloud: CloudEntry, method: AuthMethod, scope: ProjectScope | undefined): unknown {
  const a = cloud.auth;
  if (method === 'password') {
    const password = need(
      cloud,
      a.password,
      'password',
      'Add auth.password, or put it in secure.yaml beside clouds.yaml.',
    );
    if (a.userId === undefined && a.username === undefined) {
      throw new EngineError('config.invalid', `Cloud "${cloud.name}" names no user.`, {
        hint: 'Add auth.username (with user_domain_name) or auth.user_id.',
      });
    }
    const user =
      a.userId !== undefined
        ? { id: a.userId, password }
        : { name: a.username, domain: domainRef(a.userDomainId, a.userDomainName), password };
    return {
      auth: {
        identity: { methods: ['password'], password: { user } },
        ...(scope ? { scope: { project: scope } } : {}),
      },
    };
  }
  if (method === 'application_credential') {
    const secret = need(
      cloud,
      a.applicationCredentialSecret,
      'application_credential_secret',
      'Add auth.application_credential_secret (shown once when the credential was created).',
    );
    let credential: Record<string, unknown>;
    if (a.applicationCredentialId !== undefined) credential = { id: a.applicationCredentialId, secret };
    else {
      const name = need(
        cloud,
        a.applicationCredentialName,
        'application_credential_id or application_credential_name',
        'Add auth.application_credential_id (or its name with the user).',
      );
      if (a.userId === undefined && a.username === undefined) {
        throw new EngineError(
          'config.invalid',
          `Cloud "${cloud.name}" names its application credential by name but names no user.`,
          {
            hint: 'Add auth.user_id, or auth.username with user_domain_name, or use application_credential_id.',
          },
        );
      }
      const user =
        a.userId !== undefined
          ? { id: a.userId }
          : { name: a.username, domain: domainRef(a.userDomainId, a.userDomainName) };
      credential = { name, secret, user };
    }
    // An application credential is bound to its project: Keystone refuses an explicit scope.
    return { auth: { identity: { methods: ['application_credential'], application_credential: credential } } };
  }
  const token = need(cloud, a.token, 'token', 'Add auth.token, or use a password or an application credential.');
  return {
    auth: { identity: { methods: ['token'], token: { id: token } }, ...(scope ? { scope: { project: scope } } : {}) },
  };
}
