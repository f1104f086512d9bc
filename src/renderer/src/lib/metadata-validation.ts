/**
 * The upload form's validation, driven by the target region's own image schema
 * (GET /v2/schemas/image): enums, types, lengths and read-only fields come from the cloud, so
 * a cloud with other disk formats or extra properties is validated as it will judge. Pure: the
 * form calls it on every keystroke and shows what it returns next to each field.
 */

export interface SchemaProperty {
  type?: string | string[];
  enum?: (string | null)[];
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  readOnly?: boolean;
  items?: { type?: string; maxLength?: number };
}

export interface ImageSchema {
  properties?: Record<string, SchemaProperty>;
  additionalProperties?: { type?: string; maxLength?: number } | boolean;
}

/** What the form holds: everything as typed (strings), so nothing the user typed is ever lost. */
export interface MetadataFields {
  diskFormat: string;
  containerFormat: string;
  visibility: string;
  minDisk: string;
  minRam: string;
  protected: boolean;
  tags: string;
  properties: { key: string; value: string }[];
}

export type FieldErrors = Partial<Record<'name' | keyof MetadataFields, string>> & {
  /** Per custom property row (by index). */
  propertyRows?: Record<number, string>;
};

/** Fields the form has its own inputs for: not custom properties. */
const FORM_FIELDS = new Set([
  'name',
  'disk_format',
  'container_format',
  'visibility',
  'min_disk',
  'min_ram',
  'protected',
  'tags',
]);

/** The values a schema enum allows (null left out: the form always sends a value). */
export function enumOf(schema: ImageSchema | undefined, field: string): string[] | undefined {
  const e = schema?.properties?.[field]?.enum;
  return e === undefined ? undefined : e.filter((v): v is string => typeof v === 'string');
}

function integerError(text: string, label: string): string | undefined {
  if (text.trim() === '') return undefined;
  if (!/^\d+$/.test(text.trim())) return `${label} must be a whole number (0 or more).`;
  if (Number(text) > 2 ** 31 - 1) return `${label} is too large.`;
  return undefined;
}

export function tagsOf(text: string): string[] {
  return [
    ...new Set(
      text
        .split(',')
        .map((t) => t.trim())
        .filter(Boolean),
    ),
  ];
}

export function validateName(schema: ImageSchema | undefined, name: string): string | undefined {
  const max = schema?.properties?.name?.maxLength ?? 255;
  if (name.trim() === '') return 'Give the image a name.';
  if (name.length > max) return `At most ${max} characters (${name.length} now).`;
  return undefined;
}

/** Every problem of the fields, keyed by field; empty when the form may be sent. */
export function validateMetadata(schema: ImageSchema | undefined, f: MetadataFields): FieldErrors {
  const errors: FieldErrors = {};
  const checkEnum = (field: 'diskFormat' | 'containerFormat' | 'visibility', key: string, label: string): void => {
    const value = f[field].trim();
    const allowed = enumOf(schema, key);
    if (value !== '' && allowed !== undefined && !allowed.includes(value))
      errors[field] = `${label} "${value}" is not one this cloud takes (${allowed.join(', ')}).`;
  };
  checkEnum('diskFormat', 'disk_format', 'Disk format');
  checkEnum('containerFormat', 'container_format', 'Container format');
  checkEnum('visibility', 'visibility', 'Visibility');
  const minDisk = integerError(f.minDisk, 'Minimum disk');
  if (minDisk) errors.minDisk = minDisk;
  const minRam = integerError(f.minRam, 'Minimum RAM');
  if (minRam) errors.minRam = minRam;
  const tagMax = schema?.properties?.tags?.items?.maxLength ?? 255;
  const longTag = tagsOf(f.tags).find((t) => t.length > tagMax);
  if (longTag !== undefined) errors.tags = `A tag is at most ${tagMax} characters: "${longTag.slice(0, 20)}…".`;
  const rows: Record<number, string> = {};
  const seen = new Set<string>();
  f.properties.forEach((p, i) => {
    const key = p.key.trim();
    if (key === '' && p.value === '') return; // an empty row the user has not filled yet
    const known = schema?.properties?.[key];
    if (key === '') rows[i] = 'Give the property a name.';
    else if (key.length > 255) rows[i] = 'A property name is at most 255 characters.';
    else if (seen.has(key)) rows[i] = `"${key}" is given twice.`;
    else if (FORM_FIELDS.has(key)) rows[i] = `"${key}" has its own field above.`;
    else if (known?.readOnly === true || key.startsWith('os_glance')) rows[i] = `"${key}" is set by Glance itself.`;
    else if (known?.enum !== undefined && !enumOf(schema, key)?.includes(p.value))
      rows[i] = `"${key}" takes one of: ${enumOf(schema, key)?.join(', ')}.`;
    else if (known?.maxLength !== undefined && p.value.length > known.maxLength)
      rows[i] = `"${key}" is at most ${known.maxLength} characters.`;
    seen.add(key);
  });
  if (Object.keys(rows).length > 0) errors.propertyRows = rows;
  return errors;
}

export function hasErrors(e: FieldErrors): boolean {
  return Object.keys(e).some((k) => k !== 'propertyRows') || Object.keys(e.propertyRows ?? {}).length > 0;
}

/** The form's fields as enqueueUploads takes them (empty fields left to the inspector's values). */
export function toRequest(f: MetadataFields): {
  diskFormat?: string;
  containerFormat?: string;
  visibility?: 'private' | 'shared' | 'community' | 'public';
  minDisk?: number;
  minRam?: number;
  protected?: boolean;
  tags?: string[];
  properties?: Record<string, string>;
} {
  const out: ReturnType<typeof toRequest> = {};
  if (f.diskFormat.trim() !== '') out.diskFormat = f.diskFormat.trim();
  if (f.containerFormat.trim() !== '') out.containerFormat = f.containerFormat.trim();
  if (['private', 'shared', 'community', 'public'].includes(f.visibility))
    out.visibility = f.visibility as 'private' | 'shared' | 'community' | 'public';
  if (f.minDisk.trim() !== '') out.minDisk = Number(f.minDisk);
  if (f.minRam.trim() !== '') out.minRam = Number(f.minRam);
  if (f.protected) out.protected = true;
  const tags = tagsOf(f.tags);
  if (tags.length > 0) out.tags = tags;
  const props = f.properties.filter((p) => p.key.trim() !== '');
  if (props.length > 0) out.properties = Object.fromEntries(props.map((p) => [p.key.trim(), p.value]));
  return out;
}

export function emptyFields(): MetadataFields {
  return {
    diskFormat: '',
    containerFormat: '',
    visibility: 'private',
    minDisk: '',
    minRam: '',
    protected: false,
    tags: '',
    properties: [],
  };
}
