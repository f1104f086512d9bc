import { describe, expect, it } from 'vitest';
import {
  emptyFields,
  hasErrors,
  toRequest,
  validateMetadata,
  validateName,
  type ImageSchema,
} from './metadata-validation';

// The parts of Glance 25's /v2/schemas/image that the form uses.
const schema: ImageSchema = {
  properties: {
    name: { type: ['null', 'string'], maxLength: 255 },
    disk_format: {
      type: ['null', 'string'],
      enum: [null, 'ami', 'ari', 'aki', 'vhd', 'vhdx', 'vmdk', 'raw', 'qcow2', 'vdi', 'iso', 'ploop'],
    },
    container_format: {
      type: ['null', 'string'],
      enum: [null, 'ami', 'ari', 'aki', 'bare', 'ovf', 'ova', 'docker', 'compressed'],
    },
    visibility: { type: 'string', enum: ['community', 'public', 'private', 'shared'] },
    status: { type: 'string', readOnly: true },
    os_distro: { type: 'string' },
    tags: { type: 'array', items: { type: 'string', maxLength: 255 } },
  },
  additionalProperties: { type: 'string' },
};

describe('validateMetadata', () => {
  it('accepts an empty template (the inspector fills the formats) and a full one', () => {
    expect(validateMetadata(schema, emptyFields())).toEqual({});
    const full = {
      ...emptyFields(),
      diskFormat: 'qcow2',
      containerFormat: 'bare',
      minDisk: '10',
      minRam: '512',
      tags: 'a, b, a',
      properties: [{ key: 'os_distro', value: 'ubuntu' }],
    };
    expect(validateMetadata(schema, full)).toEqual({});
    expect(toRequest(full)).toEqual({
      diskFormat: 'qcow2',
      containerFormat: 'bare',
      visibility: 'private',
      minDisk: 10,
      minRam: 512,
      tags: ['a', 'b'],
      properties: { os_distro: 'ubuntu' },
    });
  });

  it('refuses what the cloud would refuse, field by field, with the reason', () => {
    const e = validateMetadata(schema, {
      ...emptyFields(),
      diskFormat: 'qcow3',
      visibility: 'everyone',
      minRam: '1.5',
      minDisk: '-1',
      tags: 'x'.repeat(256),
      properties: [
        { key: 'status', value: 'active' },
        { key: 'min_ram', value: '1' },
        { key: 'os_glance_import_task', value: 'x' },
        { key: '', value: 'orphan' },
        { key: 'k', value: '1' },
        { key: 'k', value: '2' },
        { key: '', value: '' },
      ],
    });
    expect(e.diskFormat).toMatch(/"qcow3" is not one this cloud takes \(ami, .*qcow2/);
    expect(e.visibility).toMatch(/"everyone"/);
    expect(e.minRam).toMatch(/whole number/);
    expect(e.minDisk).toMatch(/whole number/);
    expect(e.tags).toMatch(/at most 255/);
    expect(e.propertyRows).toEqual({
      0: '"status" is set by Glance itself.',
      1: '"min_ram" has its own field above.',
      2: '"os_glance_import_task" is set by Glance itself.',
      3: 'Give the property a name.',
      5: '"k" is given twice.',
    });
    expect(hasErrors(e)).toBe(true);
  });

  it('checks names against the schema length', () => {
    expect(validateName(schema, '')).toMatch(/Give the image a name/);
    expect(validateName(schema, 'n'.repeat(256))).toMatch(/At most 255 characters \(256 now\)/);
    expect(validateName(schema, 'ubuntu-24.04')).toBeUndefined();
  });
});
