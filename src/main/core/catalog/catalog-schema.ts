/**
 * The catalog file: the images each cloud and region must have, declared once. One zod schema is
 * the rule for the CLI and the app alike, and the JSON Schema editors use is made from it
 * (`catalogJsonSchema`), so the two can never disagree. Objects are strict: a key we do not know
 * is an error at its line, never ignored (a typo in `lifecycle` must not keep 40 images).
 * Versions and digests are strings: an unquoted `1.10` is the number 1.1 in YAML.
 */
import { z } from 'zod';

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

const word = (what: string): z.ZodString =>
  z.string().regex(NAME, `${what} is letters, digits, ".", "_" and "-" (64 at most), starting with a letter or digit`);

export const TargetSchema = z.strictObject({
  cloud: z
    .string()
    .min(1)
    .meta({ description: 'A cloud of clouds.yaml or saved in the app; `local` is the data folder’s server.' }),
  regions: z
    .array(z.string().min(1))
    .min(1)
    .meta({ description: 'The regions of that cloud that must have the images.' }),
  stores: z
    .array(z.string().min(1))
    .optional()
    .meta({ description: 'The stores to fill in each region (the first receives the data, the others copy-image).' }),
});

const sha512 = z
  .string()
  .regex(/^[0-9a-fA-F]{128}$/, 'a sha512 is 128 hexadecimal digits (quote it)')
  .transform((s) => s.toLowerCase());

export const VersionSchema = z
  .strictObject({
    version: z.string().min(1).max(64).meta({ description: 'The version, as a string (quote it: 1.10 is not 1.1).' }),
    file: z.string().min(1).optional().meta({ description: 'A local image file, relative to the catalog file.' }),
    url: z
      .url({ protocol: /^https?$/ })
      .optional()
      .meta({ description: 'An http(s) URL Glance fetches (web-download).' }),
    sha512: sha512.optional().meta({ description: 'The sha512 the URL’s content must have (required with url).' }),
    latest: z
      .boolean()
      .optional()
      .meta({ description: 'This version carries the plain name even if newer ones exist.' }),
    generation: z.int().min(0).max(999).optional().meta({
      description: 'Bump it to make a version again after its image was deleted (Glance never reuses an id).',
    }),
  })
  .superRefine((v, ctx) => {
    if ((v.file === undefined) === (v.url === undefined))
      ctx.addIssue({ code: 'custom', message: 'a version has a file or a url (one of them)' });
    if (v.url !== undefined && v.sha512 === undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['url'],
        message: 'a url needs its sha512: Glance fetches it, and only the digest proves what it fetched',
      });
    if (v.file !== undefined && v.sha512 !== undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['sha512'],
        message: 'a file is hashed while it is sent: sha512 is for urls',
      });
  });

export const PackerSchema = z.strictObject({
  manifest: z
    .string()
    .min(1)
    .meta({ description: 'Packer’s manifest.json (manifest post-processor), relative to the catalog.' }),
  build: z.string().min(1).optional().meta({ description: 'The build’s name in the manifest (default: any).' }),
  version: z
    .string()
    .min(1)
    .optional()
    .meta({ description: 'The custom_data key holding the version (default: version; else the build time).' }),
});

export const FolderSchema = z.strictObject({
  path: z.string().min(1).meta({ description: 'A folder a build writes images into, relative to the catalog.' }),
  match: z.string().min(1).optional().meta({
    description: 'A regular expression the file name must match; its group `version` (or first group) is the version.',
  }),
});

export const OLDER = ['hide', 'community', 'deactivate', 'keep'] as const;

export const LifecycleSchema = z.strictObject({
  older: z.enum(OLDER).default('hide').meta({
    description: 'What older versions become: hidden (os_hidden), community, deactivated, or kept as they are.',
  }),
  keep: z
    .int()
    .min(1)
    .max(1000)
    .optional()
    .meta({ description: 'Keep this many newest versions; older ones are deleted.' }),
  rename: z
    .string()
    .min(1)
    .default('{name} ({version})')
    .meta({ description: 'The name of an older version: {name}, {version}, {date} (when it was made).' }),
  adopt: z
    .boolean()
    .default(false)
    .meta({ description: 'Take images with the family’s name that the catalog did not make into its rotation.' }),
  delete_protected: z.boolean().default(false).meta({ description: 'Let keep-N delete a protected image.' }),
  delete_shared: z.boolean().default(false).meta({ description: 'Let keep-N delete an image shared with members.' }),
});

export const MemberSchema = z.strictObject({
  project: z.string().min(1).meta({ description: 'The project id the images are shared with.' }),
  accept_with: z
    .string()
    .min(1)
    .optional()
    .meta({ description: 'A cloud entry with that project’s credentials: the share is accepted with it.' }),
});

const VISIBILITY = ['private', 'shared', 'community', 'public'] as const;

export const FamilySchema = z.strictObject({
  name: z.string().min(1).max(200).meta({ description: 'The plain name the latest version carries.' }),
  disk_format: z.string().min(1).optional(),
  container_format: z.string().min(1).optional(),
  min_disk: z.int().min(0).optional(),
  min_ram: z.int().min(0).optional(),
  visibility: z.enum(VISIBILITY).optional().meta({ description: 'Default private; shared when members are given.' }),
  protected: z.boolean().optional(),
  properties: z
    .record(z.string().min(1).max(255), z.string())
    .optional()
    .meta({ description: 'Image properties; values are strings (quote numbers and booleans).' }),
  tags: z.array(z.string().min(1).max(255)).max(100).optional(),
  targets: z
    .array(TargetSchema)
    .min(1)
    .optional()
    .meta({ description: 'Where this family goes (default: the catalog’s targets).' }),
  members: z.array(MemberSchema).max(128).optional(),
  lifecycle: LifecycleSchema.prefault({}),
  versions: z.array(VersionSchema).optional(),
  packer: PackerSchema.optional(),
  folder: FolderSchema.optional(),
});

export const CatalogSchema = z.strictObject({
  catalog: word('catalog').meta({ description: 'The catalog’s name: kept on every image it makes.' }),
  targets: z.array(TargetSchema).min(1).optional(),
  families: z
    .record(word('a family'), FamilySchema)
    .refine((f) => Object.keys(f).length > 0, 'a catalog declares one family at least'),
});

export type CatalogInput = z.input<typeof CatalogSchema>;
export type CatalogDoc = z.output<typeof CatalogSchema>;
export type FamilyDoc = z.output<typeof FamilySchema>;
export type VersionDoc = z.output<typeof VersionSchema>;
export type TargetDoc = z.output<typeof TargetSchema>;
export type Lifecycle = z.output<typeof LifecycleSchema>;
export type OlderMode = (typeof OLDER)[number];

/** The JSON Schema of the catalog file, for editors (`glance-uploader catalog schema`). */
export function catalogJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(CatalogSchema, { io: 'input', unrepresentable: 'any' }),
    title: 'Glance Uploader image catalog',
  };
}
