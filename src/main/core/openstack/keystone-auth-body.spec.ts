import { describe, expect, it } from 'vitest';
import type { CloudEntry } from './clouds-config';
import { authBody, authMethodOf, configuredScope } from './keystone-auth-body';
import { codeOf } from '../../../../test/support/engine-error';

const base: CloudEntry = {
  name: 'c',
  source: 'f',
  authType: 'password',
  auth: { authUrl: 'http://k/v3' },
  regions: [],
  interface: 'public',
  verify: true,
  identityApiVersion: '3',
};
const cloud = (over: Partial<CloudEntry>, auth: Partial<CloudEntry['auth']> = {}): CloudEntry => ({
  ...base,
  ...over,
  auth: { ...base.auth, ...auth },
});

describe('auth bodies', () => {
  it('maps auth types, and refuses unknown ones naming them', () => {
    expect(authMethodOf(cloud({ authType: 'v3password' }))).toBe('password');
    expect(authMethodOf(cloud({ authType: 'v3applicationcredential' }))).toBe('application_credential');
    expect(authMethodOf(cloud({ authType: 'v3token' }))).toBe('token');
    expect(codeOf(() => authMethodOf(cloud({ authType: 'v3oidcpassword' })))).toBe('config.unsupported');
  });

  it('password by name defaults the domain to "default" and scopes by project name', () => {
    const c = cloud({}, { username: 'u', password: 'p', projectName: 'pr', projectDomainName: 'D' });
    expect(authBody(c, 'password', configuredScope(c.auth))).toEqual({
      auth: {
        identity: {
          methods: ['password'],
          password: { user: { name: 'u', domain: { id: 'default' }, password: 'p' } },
        },
        scope: { project: { name: 'pr', domain: { name: 'D' } } },
      },
    });
  });

  it('application credentials never send a scope (Keystone refuses one)', () => {
    const c = cloud({}, { applicationCredentialId: 'ac', applicationCredentialSecret: 's', projectName: 'ignored' });
    expect(authBody(c, 'application_credential', configuredScope(c.auth))).toEqual({
      auth: { identity: { methods: ['application_credential'], application_credential: { id: 'ac', secret: 's' } } },
    });
  });

  it('says which key is missing', () => {
    expect(codeOf(() => authBody(cloud({}, { username: 'u' }), 'password', undefined))).toBe('config.invalid');
    expect(codeOf(() => authBody(cloud({}, { password: 'p' }), 'password', undefined))).toBe('config.invalid');
    expect(
      codeOf(() =>
        authBody(
          cloud({}, { applicationCredentialName: 'n', applicationCredentialSecret: 's' }),
          'application_credential',
          undefined,
        ),
      ),
    ).toBe('config.invalid');
    expect(codeOf(() => authBody(cloud({}, {}), 'token', undefined))).toBe('config.invalid');
  });
});
