import { describe, expect, it } from 'vitest';
import { blankForm, formFromDraft, importFormat, saveArgsOf } from './cloud-form';

describe('the cloud form', () => {
  it('saves only the chosen kind’s fields, trimmed, and never trims a secret', () => {
    const f = { ...blankForm(), name: ' prod ', authUrl: ' https://k/v3 ', username: 'ann', password: ' s3cret ' };
    f.applicationCredentialId = 'left-over';
    expect(saveArgsOf(f)).toEqual({
      name: 'prod',
      authUrl: 'https://k/v3',
      username: 'ann',
      password: ' s3cret ',
      projectName: undefined,
      userDomain: 'Default',
      projectDomain: 'Default',
      userDomainId: undefined,
      projectDomainId: undefined,
      region: undefined,
    });
    const app = { ...f, kind: 'appcred' as const, applicationCredentialSecret: 'x' };
    expect(saveArgsOf(app)).toEqual({
      name: 'prod',
      authUrl: 'https://k/v3',
      applicationCredentialId: 'left-over',
      applicationCredentialSecret: 'x',
      region: undefined,
    });
  });

  it('fills from a draft: an application credential picks that kind; a domain by id leaves the name empty', () => {
    expect(
      formFromDraft({ name: 'a', authUrl: 'u', authType: 'v3applicationcredential', applicationCredentialId: 'id' })
        .kind,
    ).toBe('appcred');
    const byId = formFromDraft({ name: 'b', authUrl: 'u', authType: 'password', username: 'u', userDomainId: 'd1' });
    expect([byId.kind, byId.userDomain, byId.userDomainId, byId.projectDomain]).toEqual([
      'password',
      '',
      'd1',
      'Default',
    ]);
  });

  it('tells a clouds.yaml from an openrc by its top-level key', () => {
    expect(importFormat('# mine\nclouds:\n  a: {}\n')).toBe('clouds.yaml');
    expect(importFormat('export OS_AUTH_URL=https://k/v3\n')).toBe('openrc');
  });
});
