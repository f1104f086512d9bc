import { describe, expect, it } from 'vitest';
import { cloudBlock } from './cloud-block';

describe('cloudBlock', () => {
  it('keeps only the fields given, with the application credential auth type when there is one', () => {
    expect(cloudBlock({ authUrl: 'https://k/v3', username: 'u', password: 'p', region: 'R1' })).toEqual({
      auth: { auth_url: 'https://k/v3', username: 'u', password: 'p' },
      region_name: 'R1',
    });
    expect(
      cloudBlock({ authUrl: 'https://k/v3', applicationCredentialId: 'id', applicationCredentialSecret: 's' }),
    ).toEqual({
      auth_type: 'v3applicationcredential',
      auth: { auth_url: 'https://k/v3', application_credential_id: 'id', application_credential_secret: 's' },
    });
  });
});
