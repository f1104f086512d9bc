import { describe, expect, it } from 'vitest';
import type { CatalogProblem } from '../../../shared/errors';
import { EngineError } from '../io/errors';
import { parseCatalog } from './catalog-file';
import { catalogJsonSchema } from './catalog-schema';
import { CATALOG_EXAMPLE } from './catalog-example';
import { parse } from 'yaml';

const clouds = new Set(['prod', 'dr', 'tenant-a', 'local']);
const known = (n: string): boolean => clouds.has(n);

function problems(text: string): CatalogProblem[] {
  try {
    parseCatalog(text, 'c.yaml', known);
  } catch (e) {
    expect(e).toBeInstanceOf(EngineError);
    expect((e as EngineError).code).toBe('catalogfile.invalid');
    return (e as EngineError).info.problems ?? [];
  }
  throw new Error('the catalog was accepted');
}

const GOOD = `catalog: acme
targets:
  - cloud: prod
    regions: [RegionOne, RegionTwo]
families:
  ubuntu:
    name: Ubuntu 24.04
    versions:
      - version: "1.9"
        file: u-1.9.qcow2
      - version: "1.10"
        url: https://example.com/u.img
        sha512: ${'A'.repeat(128)}
`;

describe('the catalog file', () => {
  it('reads a good catalog: families with the catalog targets, lifecycle defaults, digests in lower case', () => {
    const c = parseCatalog(GOOD, '/x/c.yaml', known);
    expect(c.name).toBe('acme');
    expect(c.dir).toBe('/x');
    const f = c.families[0]!;
    expect(f.id).toBe('ubuntu');
    expect(f.targets).toEqual([{ cloud: 'prod', regions: ['RegionOne', 'RegionTwo'] }]);
    expect(f.lifecycle).toEqual({
      older: 'hide',
      rename: '{name} ({version})',
      adopt: false,
      delete_protected: false,
      delete_shared: false,
    });
    expect(f.versions?.[1]?.sha512).toBe('a'.repeat(128));
  });

  it('says where an unknown key is (the key itself), all problems at once', () => {
    const p = problems(
      GOOD.replace('    name: Ubuntu 24.04\n', '    name: Ubuntu 24.04\n    lifecycel: {keep: 2}\n').replace(
        'catalog: acme',
        'catalog: acme\nowner: me',
      ),
    );
    expect(p).toEqual([
      expect.objectContaining({ line: 2, column: 1, message: 'unknown key "owner"' }),
      expect.objectContaining({
        line: 9,
        column: 5,
        message: 'unknown key "lifecycel"',
        path: 'families.ubuntu.lifecycel',
      }),
    ]);
  });

  it('refuses a url without its sha512, at the url', () => {
    const p = problems(GOOD.replace(`        sha512: ${'A'.repeat(128)}\n`, ''));
    expect(p).toEqual([
      expect.objectContaining({ line: 12, column: 14, message: expect.stringContaining('needs its sha512') }),
    ]);
  });

  it('refuses a family with two latest versions, at the second', () => {
    const p = problems(
      GOOD.replace('        file: u-1.9.qcow2\n', '        file: u-1.9.qcow2\n        latest: true\n').replace(
        '        url: https://example.com/u.img\n',
        '        url: https://example.com/u.img\n        latest: true\n',
      ),
    );
    expect(p).toEqual([
      expect.objectContaining({ line: 14, column: 17, message: 'family "ubuntu" has two versions marked latest' }),
    ]);
  });

  it('refuses a cloud that does not exist, at its name', () => {
    const p = problems(GOOD.replace('cloud: prod', 'cloud: prdo'));
    expect(p).toEqual([
      expect.objectContaining({ line: 3, column: 12, message: expect.stringContaining('no cloud "prdo"') }),
    ]);
  });

  it('says an unquoted version was read as a number, and how to write it', () => {
    const p = problems(GOOD.replace('version: "1.10"', 'version: 1.10'));
    expect(p[0]).toMatchObject({ line: 11, column: 18, message: expect.stringContaining('quote it') });
  });

  it('reports YAML syntax errors and duplicate keys at their place', () => {
    const dup = problems(GOOD.replace('    name: Ubuntu 24.04\n', '    name: Ubuntu 24.04\n    name: Other\n'));
    expect(dup[0]).toMatchObject({ line: 8, message: expect.stringContaining('Map keys must be unique') });
  });

  it('refuses members on an image that is not shared, and a family without a source or targets', () => {
    const p = problems(`catalog: acme
families:
  a:
    name: A
    visibility: private
    members: [{project: p1}]
`);
    expect(p.map((x) => x.message)).toEqual([
      'family "a" has no targets, and the catalog has none for it to use',
      'family "a" has no source: give versions, packer or folder',
      'members need visibility shared (Glance refuses members on a private image)',
    ]);
  });

  it('has a JSON Schema that refuses unknown keys, and an example that passes its own checks', () => {
    const schema = catalogJsonSchema();
    expect(schema.additionalProperties).toBe(false);
    expect(JSON.stringify(schema)).toContain('"older"');
    const example = parse(CATALOG_EXAMPLE) as { targets: { cloud: string }[] };
    expect(example.targets.map((t) => t.cloud)).toEqual(['prod', 'dr-site']);
    const c = parseCatalog(CATALOG_EXAMPLE, '/x/c.yaml', () => true);
    expect(c.families.map((f) => f.id)).toEqual(['ubuntu-24.04', 'debian-12', 'nightly']);
  });
});
