/**
 * The JSON schemas the embedded server publishes, shaped like Glance 25's (glanceclient builds
 * its models from them and validates our own documents against them), and the version list.
 */
import { CONTAINER_FORMATS, DISK_FORMATS } from './image-store';

const STATUSES = [
  'queued',
  'saving',
  'active',
  'killed',
  'deleted',
  'uploading',
  'importing',
  'pending_delete',
  'deactivated',
];

const nullable = (type: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  type: ['null', type],
  ...extra,
});
const readOnly = { readOnly: true };

export function imageSchema(): Record<string, unknown> {
  return {
    name: 'image',
    additionalProperties: { type: 'string' },
    properties: {
      id: {
        type: 'string',
        description: 'An identifier for the image',
        pattern: '^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$',
      },
      name: nullable('string', { description: 'Descriptive name for the image', maxLength: 255 }),
      status: { type: 'string', description: 'Status of the image', enum: STATUSES, ...readOnly },
      visibility: {
        type: 'string',
        description: 'Scope of image accessibility',
        enum: ['community', 'public', 'private', 'shared'],
      },
      protected: { type: 'boolean', description: 'If true, image will not be deletable.' },
      os_hidden: { type: 'boolean', description: 'If true, image will not appear in default image list response.' },
      checksum: nullable('string', { description: 'md5 hash of image contents.', maxLength: 32, ...readOnly }),
      os_hash_algo: nullable('string', {
        description: 'Algorithm to calculate the os_hash_value',
        maxLength: 64,
        ...readOnly,
      }),
      os_hash_value: nullable('string', {
        description: 'Hexdigest of the image contents',
        maxLength: 128,
        ...readOnly,
      }),
      owner: nullable('string', { description: 'Owner of the image', maxLength: 255 }),
      size: nullable('integer', { description: 'Size of image file in bytes', ...readOnly }),
      virtual_size: nullable('integer', { description: 'Virtual size of image in bytes', ...readOnly }),
      container_format: {
        description: 'Format of the container',
        type: ['null', 'string'],
        enum: [null, ...CONTAINER_FORMATS],
      },
      disk_format: { description: 'Format of the disk', type: ['null', 'string'], enum: [null, ...DISK_FORMATS] },
      created_at: { type: 'string', description: 'Date and time of image registration', ...readOnly },
      updated_at: { type: 'string', description: 'Date and time of the last image modification', ...readOnly },
      tags: {
        type: 'array',
        description: 'List of strings related to the image',
        items: { type: 'string', maxLength: 255 },
      },
      direct_url: { type: 'string', description: 'URL to access the image file kept in external store', ...readOnly },
      min_ram: { type: 'integer', description: 'Amount of ram (in MB) required to boot image.' },
      min_disk: { type: 'integer', description: 'Amount of disk space (in GB) required to boot image.' },
      self: { type: 'string', description: 'An image self url', ...readOnly },
      file: { type: 'string', description: 'An image file url', ...readOnly },
      stores: { type: 'string', description: 'Store in which image data resides.', ...readOnly },
      schema: { type: 'string', description: 'An image schema url', ...readOnly },
      locations: {
        type: 'array',
        description: 'A set of URLs to access the image file kept in external store',
        items: {
          type: 'object',
          properties: { url: { type: 'string', maxLength: 255 }, metadata: { type: 'object' } },
        },
      },
      os_distro: { type: 'string', description: 'Common name of operating system distribution', is_base: false },
      os_version: { type: 'string', description: 'Operating system version', is_base: false },
      architecture: { type: 'string', description: 'Operating system architecture', is_base: false },
      description: { type: 'string', description: 'A human-readable string describing this image.', is_base: false },
    },
    links: [
      { rel: 'self', href: '{self}' },
      { rel: 'enclosure', href: '{file}' },
      { rel: 'describedby', href: '{schema}' },
    ],
  };
}

export function imagesSchema(): Record<string, unknown> {
  return {
    name: 'images',
    properties: {
      images: { type: 'array', items: imageSchema() },
      schema: { type: 'string' },
      first: { type: 'string' },
      next: { type: 'string' },
    },
    links: [
      { rel: 'first', href: '{first}' },
      { rel: 'next', href: '{next}' },
      { rel: 'describedby', href: '{schema}' },
    ],
  };
}

/** glanceclient downloads these two beside the image schema; empty models are enough. */
export function metadefStub(name: string): Record<string, unknown> {
  return { name, properties: {}, additionalProperties: false };
}

/** Glance's single-store version list (2.12 for the tasks call glanceclient checks for). */
/**
 * The API versions Glance 25 serves (no image cache configured): 2.15 current, 2.9 and 2.7 to
 * 2.0; multi-store adds 2.8 and 2.10 to 2.13 (the stores API). Newest first, as it lists them.
 */
export function versionIds(multiStore: boolean): string[] {
  const store = multiStore ? ['v2.13', 'v2.12', 'v2.11', 'v2.10', 'v2.9', 'v2.8'] : ['v2.9'];
  return ['v2.15', ...store, 'v2.7', 'v2.6', 'v2.5', 'v2.4', 'v2.3', 'v2.2', 'v2.1', 'v2.0'];
}

export function versions(baseUrl: string, multiStore: boolean): Record<string, unknown>[] {
  return versionIds(multiStore).map((id, i) => ({
    id,
    status: i === 0 ? 'CURRENT' : 'SUPPORTED',
    links: [{ rel: 'self', href: `${baseUrl}/v2/` }],
  }));
}

const MEMBER_PROPERTIES = {
  member_id: { type: 'string', description: 'An identifier for the image member (tenantId)' },
  image_id: {
    type: 'string',
    description: 'An identifier for the image',
    pattern: '^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$',
  },
  created_at: { type: 'string', description: 'Date and time of image member creation' },
  updated_at: { type: 'string', description: 'Date and time of last modification of image member' },
  status: { type: 'string', description: 'The status of this image member', enum: ['pending', 'accepted', 'rejected'] },
  schema: { readOnly: true, type: 'string' },
};

/** GET /v2/schemas/member, as Glance 25 prints it. */
export function memberSchema(): Record<string, unknown> {
  return { name: 'member', properties: MEMBER_PROPERTIES };
}

/** GET /v2/schemas/members. */
export function membersSchema(): Record<string, unknown> {
  return {
    name: 'members',
    properties: { members: { type: 'array', items: memberSchema() }, schema: { type: 'string' } },
    links: [{ rel: 'describedby', href: '{schema}' }],
  };
}
