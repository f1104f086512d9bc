import { describe, expect, it } from 'vitest';
import { cloudDrafts, parseOpenrc } from './cloud-import';

describe('cloud import', () => {
  it('reads every cloud of a clouds.yaml as a draft for the form, ids and names kept apart', () => {
    const drafts = cloudDrafts(
      'clouds.yaml',
      `clouds:
  prod:
    auth:
      auth_url: https://keystone.example:5000/v3
      username: ops
      password: "s3cret"
      project_name: images
      user_domain_id: default
      project_domain_name: Default
    region_name: RegionOne
  ci:
    auth_type: v3applicationcredential
    auth:
      auth_url: https://keystone.example:5000/v3
      application_credential_id: abc
      application_credential_secret: xyz
`,
    );
    expect(drafts).toEqual([
      {
        name: 'prod',
        authUrl: 'https://keystone.example:5000/v3',
        authType: 'password',
        username: 'ops',
        password: 's3cret',
        projectName: 'images',
        userDomainId: 'default',
        projectDomain: 'Default',
        region: 'RegionOne',
      },
      {
        name: 'ci',
        authUrl: 'https://keystone.example:5000/v3',
        authType: 'v3applicationcredential',
        applicationCredentialId: 'abc',
        applicationCredentialSecret: 'xyz',
      },
    ]);
  });

  it("reads Horizon's openrc: the password prompt is left to the form, nothing is executed", () => {
    const text = `#!/usr/bin/env bash
export OS_AUTH_URL=https://keystone.example:5000/v3
export OS_PROJECT_NAME="Image Builders"
export OS_USER_DOMAIN_NAME="Default"
export OS_PROJECT_DOMAIN_ID='default'
export OS_USERNAME="ops"
echo "Please enter your OpenStack Password for project $OS_PROJECT_NAME as user $OS_USERNAME: "
read -sr OS_PASSWORD_INPUT
export OS_PASSWORD=$OS_PASSWORD_INPUT
export OS_REGION_NAME="RegionTwo"
export OS_INTERFACE=public
export OS_IDENTITY_API_VERSION=3
`;
    expect(parseOpenrc(text)).not.toHaveProperty('OS_PASSWORD');
    expect(cloudDrafts('openrc', text, 'proj-openrc.sh')).toEqual([
      {
        name: 'image-builders',
        authUrl: 'https://keystone.example:5000/v3',
        authType: 'password',
        username: 'ops',
        projectName: 'Image Builders',
        userDomain: 'Default',
        projectDomainId: 'default',
        region: 'RegionTwo',
      },
    ]);
  });

  it.each([
    ['clouds.yaml', 'clouds: [1, 2', 'not valid YAML'],
    ['clouds.yaml', 'foo: bar\n', 'no "clouds:" mapping'],
    ['clouds.yaml', 'clouds:\n  t:\n    auth:\n      auth_url: https://k/v3\n      token: gAAAA\n', 'token'],
    ['openrc', 'echo hello\n', 'sets no OS_AUTH_URL'],
  ] as const)('refuses %s %j with a coded error', (format, text, message) => {
    expect(() => cloudDrafts(format, text)).toThrow(message);
    try {
      cloudDrafts(format, text);
    } catch (e) {
      expect((e as { info: { code: string } }).info.code).toMatch(/^config\./);
    }
  });
});
