import { describe, expect, it } from 'vitest';
import { blocking, checkProfile, parseProfile } from './metadata-profile';
import { SCS_0102 } from './profiles/scs-0102';

/** An image that meets SCS-0102 v1. */
const compliant = {
  architecture: 'x86_64',
  min_disk: '10',
  min_ram: '512',
  os_distro: 'ubuntu',
  os_version: '24.04',
  hw_disk_bus: 'scsi',
  image_build_date: '2026-12-01',
  image_original_user: 'ubuntu',
  image_source: 'https://cloud-images.ubuntu.com/noble/',
  image_description: 'https://ubuntu.com/about/release-cycle',
  replace_frequency: 'monthly',
  provided_until: 'none',
  uuid_validity: 'last-3',
};

describe('metadata profiles', () => {
  it('passes an image that meets SCS-0102, with the recommended properties it lacks as warnings only', () => {
    const f = checkProfile(SCS_0102, compliant);
    expect(blocking(f)).toEqual([]);
    expect(f.map((x) => x.key)).toEqual([
      'hypervisor_type',
      'hw_rng_model',
      'hw_firmware_type',
      'hw_scsi_model',
      'os_purpose',
      'hotfix_hours',
    ]);
  });

  it('names every required property missing and every value the standard does not allow', () => {
    const f = blocking(
      checkProfile(SCS_0102, {
        ...compliant,
        architecture: 'amd64',
        os_version: '',
        image_build_date: '01.12.2026',
        image_source: 'ftp:/broken',
        replace_frequency: 'sometimes',
        uuid_validity: 'last-',
        min_ram: '-1',
        hw_disk_bus: undefined,
      }),
    );
    expect(f.map((x) => [x.key, x.level])).toEqual([
      ['os_version', 'missing'],
      ['hw_disk_bus', 'missing'],
      ['architecture', 'invalid'],
      ['min_ram', 'invalid'],
      ['image_build_date', 'invalid'],
      ['image_source', 'invalid'],
      ['replace_frequency', 'invalid'],
      ['uuid_validity', 'invalid'],
    ]);
    expect(blocking(checkProfile(SCS_0102, { ...compliant, image_build_date: '2024-02-30' }))).toMatchObject([
      { key: 'image_build_date', level: 'invalid' },
    ]);
    expect(blocking(checkProfile(SCS_0102, { ...compliant, provided_until: '2024-02-30' }))).toMatchObject([
      { key: 'provided_until', level: 'invalid' },
    ]);
    expect(
      blocking(
        checkProfile(SCS_0102, {
          ...compliant,
          image_build_date: '2024-02-29 13:05',
          uuid_validity: '2027-01-01 00:00',
        }),
      ),
    ).toEqual([]);
    expect(f.find((x) => x.key === 'architecture')?.message).toBe(
      'architecture must be one of x86_64, aarch64, risc-v (SCS-0102 v1 (Sovereign Cloud Stack image metadata)).',
    );
  });

  it('reads a user’s JSON Schema, and says what is wrong with a bad one', () => {
    const ok = parseProfile(
      'team',
      JSON.stringify({
        title: 'Our images',
        type: 'object',
        properties: { owner_team: { type: 'string', pattern: '[a-z]+' }, cost_center: { type: 'integer' } },
        required: ['owner_team'],
        'x-recommended': ['cost_center'],
      }),
    );
    if ('error' in ok) throw new Error(ok.error);
    expect(checkProfile(ok.profile, { owner_team: 'Ops', cost_center: '' }).map((x) => [x.key, x.level])).toEqual([
      ['owner_team', 'invalid'],
      ['cost_center', 'recommended'],
    ]);
    expect(parseProfile('x', '{')).toMatchObject({ error: expect.stringMatching(/^not JSON/) });
    expect(parseProfile('x', '{"properties": {"a": {"type": "date"}}}')).toEqual({
      error: 'properties.a.type must be string, integer, number or boolean',
    });
    expect(parseProfile('x', '{"properties": {"a": {}}, "required": ["b"]}')).toEqual({
      error: 'required names b, not under properties',
    });
    expect(parseProfile('x', '{"properties": {"a": {"pattern": "("}}}')).toEqual({
      error: 'properties.a.pattern is not a regular expression',
    });
  });
});
