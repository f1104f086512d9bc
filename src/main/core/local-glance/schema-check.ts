/**
 * Validation of image attributes against Glance 25's image schema, failing with the message
 * Glance answers (jsonschema 4.10's error, printed with Python's repr and pprint): the value,
 * the keyword that failed, the part of the schema and the path to the value. Only the keywords
 * the image schema uses for writable attributes: type, enum, maxLength, pattern, items.
 */
import { HttpError } from './http-kit';
import { pformat, pyRepr, reprStr } from './py-format';
import { imageSchema } from './schemas';

type Schema = {
  type?: string | string[];
  enum?: unknown[];
  maxLength?: number;
  pattern?: string;
  items?: Schema;
};
type Path = (string | number)[];

const SCHEMA = imageSchema() as { properties: Record<string, Schema>; additionalProperties: Schema };

const TYPES: Record<string, (v: unknown) => boolean> = {
  null: (v) => v === null,
  string: (v) => typeof v === 'string',
  boolean: (v) => typeof v === 'boolean',
  integer: (v) => typeof v === 'number' && Number.isInteger(v),
  number: (v) => typeof v === 'number',
  array: (v) => Array.isArray(v),
  object: (v) => v !== null && typeof v === 'object' && !Array.isArray(v),
};

const index = (word: string, path: Path): string =>
  path.length === 0 ? word : `${word}[${path.map((p) => (typeof p === 'number' ? String(p) : reprStr(p))).join('][')}]`;

const indented = (text: string): string => text.replaceAll('\n', '\n    ');

/** Glance's 400 for a value its image schema refuses. */
export function schemaFailure(f: {
  message: string;
  validator: string;
  schemaPath: Path;
  schema: unknown;
  instancePath: Path;
  instance: unknown;
}): HttpError {
  return new HttpError(
    400,
    `Provided object does not match schema 'image': ${f.message}\n\n` +
      `Failed validating ${reprStr(f.validator)} in ${index('schema', f.schemaPath)}:\n    ${indented(pformat(f.schema))}\n\n` +
      `On ${index('instance', f.instancePath)}:\n    ${indented(pformat(f.instance))}`,
  );
}

/** The first keyword a value fails, in the order jsonschema checks them here, or undefined. */
function failure(value: unknown, s: Schema): { validator: string; message: string } | undefined {
  if (s.type !== undefined) {
    const types = Array.isArray(s.type) ? s.type : [s.type];
    if (!types.some((t) => TYPES[t]?.(value)))
      return { validator: 'type', message: `${pyRepr(value)} is not of type ${types.map(reprStr).join(', ')}` };
  }
  if (s.enum !== undefined && !s.enum.includes(value))
    return { validator: 'enum', message: `${pyRepr(value)} is not one of ${pyRepr(s.enum)}` };
  if (s.maxLength !== undefined && typeof value === 'string' && [...value].length > s.maxLength)
    return { validator: 'maxLength', message: `${pyRepr(value)} is too long` };
  if (s.pattern !== undefined && typeof value === 'string' && !new RegExp(s.pattern).test(value))
    return { validator: 'pattern', message: `${pyRepr(value)} does not match ${reprStr(s.pattern)}` };
  return undefined;
}

/** Checks one attribute as Glance validates `{key: value}` against its image schema. */
export function checkAttribute(key: string, value: unknown): void {
  const known = Object.hasOwn(SCHEMA.properties, key);
  const s = known ? SCHEMA.properties[key] : SCHEMA.additionalProperties;
  if (s === undefined) return;
  const base: Path = known ? ['properties', key] : ['additionalProperties'];
  const f = failure(value, s);
  if (f !== undefined) throw schemaFailure({ ...f, schemaPath: base, schema: s, instancePath: [key], instance: value });
  if (s.items !== undefined && Array.isArray(value))
    value.forEach((item, i) => {
      const g = s.items && failure(item, s.items);
      if (g !== undefined)
        throw schemaFailure({
          ...g,
          schemaPath: [...base, 'items'],
          schema: s.items,
          instancePath: [key, i],
          instance: item,
        });
    });
}

/** A body's attributes in the order jsonschema meets them: the schema's properties first, then the others. */
export function schemaOrder(fields: Record<string, unknown>): [string, unknown][] {
  const known = Object.keys(SCHEMA.properties).filter((k) => Object.hasOwn(fields, k));
  const others = Object.keys(fields).filter((k) => !Object.hasOwn(SCHEMA.properties, k));
  return [...known, ...others].map((k) => [k, fields[k]]);
}
