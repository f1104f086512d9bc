import { describe, expect, it } from 'vitest';
import type { GlanceImage } from '../openstack/glance-client';
import { parseCatalog } from './catalog-file';
import { catalogImageId, uuidV5 } from './catalog-ids';
import { planCatalog, type CatalogAction } from './catalog-plan';
import { PROP, type RegionState } from './catalog-state';
import { compareVersions, type DeclaredVersion } from './version-sources';
import { SOURCE_SHA512 } from '../../../shared/image-properties';

const catalog = (lifecycle: string): ReturnType<typeof parseCatalog> =>
  parseCatalog(
    `catalog: acme
targets: [{cloud: prod, regions: [R1]}]
families:
  deb:
    name: Debian 12
    properties: {os_distro: debian}
    lifecycle: ${lifecycle}
    versions: [{version: "1", file: a.qcow2}]
`,
    '/c/c.yaml',
    () => true,
  );

const declared = (...versions: string[]): Map<string, DeclaredVersion[]> =>
  new Map([
    [
      'deb',
      versions.map((version) => ({
        version,
        source: { path: `/c/${version}.qcow2` },
        latest: false,
        generation: 0,
        from: 'versions' as const,
      })),
    ],
  ]);

function image(version: string, over: Partial<GlanceImage> = {}): GlanceImage {
  return {
    id: catalogImageId({ catalog: 'acme', family: 'deb', version, cloud: 'prod', region: 'R1' }),
    name: `Debian 12 (${version})`,
    status: 'active',
    visibility: 'private',
    protected: false,
    os_hidden: true,
    checksum: null,
    os_hash_algo: null,
    os_hash_value: null,
    size: 1,
    virtual_size: null,
    min_disk: 0,
    min_ram: 0,
    owner: 'p',
    disk_format: 'qcow2',
    container_format: 'bare',
    created_at: '2026-01-02T00:00:00Z',
    updated_at: '2026-01-02T00:00:00Z',
    tags: [],
    os_distro: 'debian',
    [SOURCE_SHA512]: 'f'.repeat(128),
    [PROP.catalog]: 'acme',
    [PROP.family]: 'deb',
    [PROP.version]: version,
    ...over,
  };
}

const state = (ours: GlanceImage[], foreign: GlanceImage[] = []): RegionState[] => [
  {
    cloud: 'prod',
    region: 'R1',
    project: 'p',
    ours,
    foreign: new Map(foreign.length ? [['deb', foreign]] : []),
    members: new Map(),
  },
];

const brief = (a: CatalogAction): string =>
  `${a.kind} ${a.version ?? '-'}${a.drift === true ? ' drift' : ''}${a.afterUpload === true ? ' later' : ''}`;

describe('the catalog plan', () => {
  it('orders versions numerically and makes v5 UUIDs as RFC 9562 does', () => {
    expect(['1.10', '1.9', '20240801', '20240703'].sort(compareVersions)).toEqual([
      '1.9',
      '1.10',
      '20240703',
      '20240801',
    ]);
    // RFC 9562 appendix A.4: the DNS namespace and www.example.com.
    const dns = Buffer.from('6ba7b8109dad11d180b400c04fd430c8', 'hex');
    expect(uuidV5('www.example.com', dns)).toBe('2ed6657d-e927-568b-95e1-2665a8aea6a2');
  });

  it('from nothing: one upload per version, the latest named plainly, older ones created hidden', () => {
    const p = planCatalog(catalog('{}'), declared('1', '2'), state([]));
    expect(p.actions.map(brief)).toEqual(['upload 1', 'upload 2']);
    expect(p.actions[1]!.what).toContain('as "Debian 12"');
    expect(p.actions[0]!.upload?.fields).toMatchObject({ name: 'Debian 12 (1)', os_hidden: true });
    expect(p.actions[1]!.upload?.fields).not.toHaveProperty('os_hidden');
    expect(p.actions[1]!.imageId).toBe(
      catalogImageId({ catalog: 'acme', family: 'deb', version: '2', cloud: 'prod', region: 'R1' }),
    );
  });

  it('rotates: the old latest gives up the plain name before the new one takes it, and is hidden', () => {
    const p = planCatalog(
      catalog('{}'),
      declared('1', '2'),
      state([image('1', { name: 'Debian 12', os_hidden: false }), image('2')]),
    );
    expect(p.actions.map(brief)).toEqual(['rename 1', 'rename 2', 'hide 1', 'show 2']);
    const renames = p.actions.filter((a) => a.kind === 'rename').map((a) => a.what);
    expect(renames).toEqual(['"Debian 12" -> "Debian 12 (1)"', '"Debian 12 (2)" -> "Debian 12"']);
  });

  it('keep-N deletes the oldest, holds a protected one unless allowed, never uploads what it would delete', () => {
    const ours = [
      image('1', { protected: true }),
      image('2'),
      image('3', { name: 'Debian 12', os_hidden: false }),
      image('4'),
    ];
    // Version 0 is declared but beyond keep 2: never uploaded.
    const p = planCatalog(catalog('{keep: 2}'), declared('0', '1', '2', '3', '4'), state(ours));
    expect(p.actions.filter((a) => a.kind !== 'note').map(brief)).toEqual([
      'rename 3',
      'rename 4',
      'hide 3',
      'show 4',
      'delete 2',
    ]);
    expect(p.actions.find((a) => a.kind === 'note' && a.version === '1')?.why).toContain('protected');
    // ... and when protected images may go: unprotect, then delete (2 is beyond keep too).
    const q = planCatalog(catalog('{keep: 2, delete_protected: true}'), declared('0', '1', '2', '3', '4'), state(ours));
    expect(q.actions.filter((a) => ['unprotect', 'delete'].includes(a.kind)).map(brief)).toEqual([
      'unprotect 1',
      'delete 1',
      'delete 2',
    ]);
  });

  // Fails if the old latest gave up its name (or an old version was deleted) before the new one is
  // in the region: an upload that failed would leave the region without the plain name.
  it('moves the plain name and deletes beyond keep-N only once the new version is in the region', async () => {
    const ours = [image('1'), image('2', { name: 'Debian 12', os_hidden: false })];
    const before = planCatalog(catalog('{keep: 2}'), declared('1', '2', '3'), state(ours));
    expect(before.actions.map(brief)).toEqual(['upload 3', 'rename 2 later', 'delete 1 later']);
    // Its upload failed: the image is queued (or missing); a look now changes nothing else.
    const failed = planCatalog(
      catalog('{keep: 2}'),
      declared('1', '2', '3'),
      state([...ours, image('3', { status: 'queued' })]),
    );
    expect(failed.actions.filter((a) => a.afterUpload !== true).map(brief)).toEqual(['upload 3']);
    // It is there: the rotation happens.
    const after = planCatalog(catalog('{keep: 2}'), declared('1', '2', '3'), state([...ours, image('3')]));
    expect(after.actions.map(brief)).toEqual(['rename 2', 'rename 3', 'hide 2', 'show 3', 'delete 1']);
  });

  it('sees drift: a hidden flag removed by hand, a property changed, an extra image', () => {
    const ours = [
      image('1', { os_hidden: false }),
      image('2', { name: 'Debian 12', os_hidden: false, os_distro: 'ubuntu' }),
      image('2', { id: 'x', name: 'Debian 12 copy', os_hidden: false }),
    ];
    const p = planCatalog(catalog('{}'), declared('1', '2'), state(ours));
    expect(p.actions.map(brief)).toEqual(['hide 1 drift', 'update 2 drift', 'note 2 drift']);
  });

  // Fails if images were told apart by their properties alone: Nova copies an image's properties
  // to the snapshots of its instances, so keep-N would delete a user's snapshot.
  it('never touches a snapshot that carries the catalog’s properties (its id is not the version’s)', () => {
    const snap = image('1', { id: 'snapshot-of-1', name: 'my snapshot', os_hidden: false });
    const p = planCatalog(
      catalog('{keep: 1}'),
      declared('1', '2'),
      state([image('1'), snap, image('2', { name: 'Debian 12', os_hidden: false })]),
    );
    expect(p.actions.map(brief)).toEqual(['delete 1', 'note 1 drift']);
    expect(p.actions.find((a) => a.kind === 'delete')?.imageId).toBe(image('1').id);
  });

  // Fails if an active image counted as made before it was verified (a file changed while sent).
  it('checks again an active image never verified against its source, before it takes the name', () => {
    const ours = [image('1', { name: 'Debian 12', os_hidden: false }), image('2', { [SOURCE_SHA512]: undefined })];
    const p = planCatalog(catalog('{}'), declared('1', '2'), state(ours));
    expect(p.actions.map(brief)).toEqual(['upload 2', 'rename 1 later']);
    expect(p.actions[0]!.why).toContain('never verified');
  });

  it('notes an image of a family the catalog no longer sends to the region, and leaves it alone', () => {
    const gone = image('1', { [PROP.family]: 'old-family', name: 'Old' });
    const p = planCatalog(
      catalog('{}'),
      declared('1'),
      state([image('1', { name: 'Debian 12', os_hidden: false }), gone]),
    );
    expect(p.actions.map((a) => `${a.kind} ${a.family} ${a.drift === true ? 'drift' : ''}`)).toEqual([
      'note old-family drift',
    ]);
    expect(p.changes).toBe(0);
  });

  it('tells a rotation from a latest renamed by hand (drift)', () => {
    const fresh = planCatalog(
      catalog('{}'),
      declared('1', '2'),
      state([image('1', { name: 'Debian 12', os_hidden: false }), image('2', { os_hidden: false })]),
    );
    expect(fresh.actions.map(brief)).toEqual(['rename 1', 'rename 2', 'hide 1']);
    const byHand = planCatalog(
      catalog('{}'),
      declared('1', '2'),
      state([image('1'), image('2', { name: 'my name', os_hidden: false })]),
    );
    expect(byHand.actions.map(brief)).toEqual(['rename 2 drift']);
  });

  it('a second look after everything was made plans nothing', () => {
    const p = planCatalog(
      catalog('{}'),
      declared('1', '2'),
      state([image('1'), image('2', { name: 'Debian 12', os_hidden: false })]),
    );
    expect(p.changes).toBe(0);
  });

  it('leaves an image it did not make alone unless the family adopts it', () => {
    const theirs = image('x', { id: 'theirs', name: 'Debian 12', [PROP.catalog]: undefined });
    const p = planCatalog(catalog('{}'), declared('1'), state([], [theirs]));
    expect(p.actions.map(brief)).toEqual(['upload 1', 'note -']);
    const q = planCatalog(catalog('{adopt: true}'), declared('1'), state([], [theirs]));
    expect(q.actions.map((a) => a.kind)).toEqual(['adopt', 'upload']);
    expect(q.actions[0]!.patch).toContainEqual({ op: 'add', path: `/${PROP.catalog}`, value: 'acme' });
  });

  it('older versions may become community or deactivated instead of hidden', () => {
    const ours = [image('1', { name: 'Debian 12', os_hidden: false }), image('2', { os_hidden: false })];
    expect(planCatalog(catalog('{older: community}'), declared('1', '2'), state(ours)).actions.map(brief)).toEqual([
      'rename 1',
      'rename 2',
      'visibility 1',
    ]);
    expect(planCatalog(catalog('{older: deactivate}'), declared('1', '2'), state(ours)).actions.map(brief)).toEqual([
      'rename 1',
      'rename 2',
      'deactivate 1',
    ]);
  });
});
