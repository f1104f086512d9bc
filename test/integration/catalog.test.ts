/**
 * The image catalog through the real CLI against the reference: two regions of one cloud, a
 * second cloud entry (the demo user in its second project) and the local server as a third.
 * Applied from nothing, a second apply that does nothing, rotation by a new version (names,
 * hidden flags, community, keep-N deletions), sharing accepted with the consumer's credentials,
 * drift after changes by hand, a Packer manifest and a watched folder leading to uploads, two
 * applies at once making one image per version and region, and bad catalogs refused with line
 * and column before anything is queued. What is asserted is what an outsider sees: images in
 * Glance (read over HTTP with our own tokens), rows of the queue's database, exit codes.
 */
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { catalogImageId } from '../../src/main/core/catalog/catalog-ids';
import { openDatabase } from '../../src/main/core/queue/database';
import { passwordToken, type Region } from '../openstack/reference-openstack';
import { runCli, startCli } from '../support/cli-process';
import { demoEntry, writeCloudsYaml } from '../support/clouds-yaml';
import { makeFile, type TestFile } from '../support/files';
import { until } from '../support/queue-fixture';

const cloud = inject('referenceCloud');
const MiB = 1024 * 1024;
const CATALOG = `it-${process.pid}-${Date.now().toString(36)}`;
let dir: string;
let home: string;
let clouds: string;
const f: Record<string, TestFile> = {};
const tokens: Record<'demo' | 'extra', string> = { demo: '', extra: '' };

const env = (h = home): Record<string, string> => ({ GLANCE_UPLOADER_HOME: h, OS_CLIENT_CONFIG_FILE: clouds });

type Img = Record<string, unknown> & {
  id: string;
  name: string;
  status: string;
  os_hidden: boolean;
  visibility: string;
};

async function glance(
  region: Region,
  path: string,
  who: 'demo' | 'extra' = 'demo',
  init: RequestInit = {},
): Promise<Response> {
  return fetch(`${cloud.glance[region].url}${path}`, {
    ...init,
    headers: { 'x-auth-token': tokens[who], ...(init.headers as Record<string, string> | undefined) },
  });
}

/** The catalog's images in a region, hidden ones included (two lists, as Glance wants). */
async function ours(region: Region, who: 'demo' | 'extra' = 'demo', catalog = CATALOG): Promise<Img[]> {
  const list = async (q: string): Promise<Img[]> =>
    (
      (await (await glance(region, `/v2/images?glance_uploader_catalog=${catalog}${q}`, who)).json()) as {
        images: Img[];
      }
    ).images;
  return [...(await list('')), ...(await list('&os_hidden=true'))];
}

const byVersion = (images: Img[], family: string): Record<string, Img> =>
  Object.fromEntries(
    images.filter((i) => i.glance_uploader_family === family).map((i) => [String(i.glance_uploader_version), i]),
  );

const idOf = (family: string, version: string, cloudName: string, region: string, catalog = CATALOG): string =>
  catalogImageId({ catalog, family, version, cloud: cloudName, region });

function writeCatalog(name: string, body: string): string {
  const path = join(dir, name);
  writeFileSync(path, body);
  return path;
}

/** Three families: shared across two regions with keep-N; a second project and the local server; a Packer build. */
function catalogText(o: { alpha: string[]; beta: string[] }): string {
  const versions = (fam: string, vs: string[]): string =>
    vs.map((v) => `      - {version: "${v}", file: files/${fam}-${v}.raw}`).join('\n');
  return `catalog: ${CATALOG}
targets:
  - {cloud: ref-demo, regions: [RegionOne, RegionTwo]}
families:
  alpha:
    name: Alpha ${CATALOG}
    visibility: shared
    properties: {os_distro: alpine}
    tags: [catalog-test]
    members:
      - {project: ${cloud.users.demo.extraProjectId}, accept_with: ref-extra}
    lifecycle: {older: hide, keep: 2, delete_shared: true}
    versions:
${versions('alpha', o.alpha)}
  beta:
    name: Beta ${CATALOG}
    targets:
      - {cloud: ref-extra, regions: [RegionOne]}
      - {cloud: local, regions: [local]}
    lifecycle: {older: community}
    versions:
${versions('beta', o.beta)}
  gamma:
    name: Gamma ${CATALOG}
    targets: [{cloud: ref-demo, regions: [RegionOne]}]
    lifecycle: {older: deactivate}
    packer: {manifest: packer/manifest.json, build: gamma}
`;
}

function queueRows(h: string, sql: string): Record<string, unknown>[] {
  const db = openDatabase(join(h, 'queue.sqlite3'));
  try {
    return db.prepare(sql).all() as Record<string, unknown>[];
  } finally {
    db.close();
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gu-catalog-'));
  home = join(dir, 'home');
  mkdirSync(join(dir, 'files'));
  mkdirSync(join(dir, 'packer', 'out'), { recursive: true });
  clouds = writeCloudsYaml(join(dir, 'clouds.yaml'), cloud, [
    demoEntry(cloud, 'ref-extra', { extra: [] }).replace('project_name: demo', 'project_name: demo-extra'),
  ]);
  for (const [name, size] of [
    ['alpha-1', 3],
    ['alpha-2', 2],
    ['alpha-3', 2],
    ['beta-1.9', 2],
    ['beta-1.10', 2],
  ] as const)
    f[name] = await makeFile(join(dir, 'files', `${name}.raw`), size * MiB);
  f.gamma = await makeFile(join(dir, 'packer', 'out', 'gamma.raw'), 2 * MiB);
  // Two runs appended: only the last run's build is taken.
  writeFileSync(
    join(dir, 'packer', 'manifest.json'),
    JSON.stringify({
      builds: [
        {
          name: 'gamma',
          builder_type: 'qemu',
          build_time: 1,
          files: [{ name: 'out/old.raw', size: 1 }],
          packer_run_uuid: 'run-1',
          custom_data: { version: '2025.9' },
        },
        {
          name: 'gamma',
          builder_type: 'qemu',
          build_time: 2,
          files: [{ name: 'out/gamma.raw', size: 2 * MiB }],
          packer_run_uuid: 'run-2',
          custom_data: { version: '2026.1' },
        },
      ],
      last_run_uuid: 'run-2',
    }),
  );
  tokens.demo = await passwordToken(cloud.keystoneUrl, 'demo', cloud.users.demo.password, 'demo');
  tokens.extra = await passwordToken(cloud.keystoneUrl, 'demo', cloud.users.demo.password, 'demo-extra');
}, 120_000);

afterAll(async () => {
  for (const region of ['RegionOne', 'RegionTwo'] as const)
    for (const who of ['demo', 'extra'] as const)
      for (const catalog of [CATALOG, `${CATALOG}-race`])
        for (const i of await ours(region, who, catalog).catch(() => [])) {
          if (i.protected === true)
            await glance(region, `/v2/images/${i.id}`, who, {
              method: 'PATCH',
              headers: { 'content-type': 'application/openstack-images-v2.1-json-patch' },
              body: JSON.stringify([{ op: 'replace', path: '/protected', value: false }]),
            });
          await glance(region, `/v2/images/${i.id}`, who, { method: 'DELETE' });
        }
  rmSync(dir, { recursive: true, force: true });
}, 120_000);

describe('an image catalog', () => {
  let path: string;

  it('plans from nothing without changing anything', async () => {
    path = writeCatalog('catalog.yaml', catalogText({ alpha: ['1'], beta: ['1.9'] }));
    const r = await runCli(['plan', path, '--json', '--detailed-exitcode'], env());
    expect(r.code, r.stderr).toBe(10);
    const plan = JSON.parse(r.stdout) as { actions: { kind: string; cloud: string; region: string; family: string }[] };
    expect(
      plan.actions
        .filter((a) => a.kind === 'upload')
        .map((a) => `${a.family} ${a.cloud}/${a.region}`)
        .sort(),
    ).toEqual([
      'alpha ref-demo/RegionOne',
      'alpha ref-demo/RegionTwo',
      'beta local/local',
      'beta ref-extra/RegionOne',
      'gamma ref-demo/RegionOne',
    ]);
    expect(await ours('RegionOne')).toEqual([]);
  }, 120_000);

  it('applies from nothing: every image verified, named, shared and accepted, in every cloud', async () => {
    const r = await runCli(['apply', path, '--yes', '--json'], env());
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { remaining: number; jobs: { targets: { state: string }[] }[] };
    expect(out.remaining).toBe(0);
    expect(out.jobs.flatMap((j) => j.targets.map((t) => t.state))).toEqual(Array(5).fill('done'));
    for (const region of ['RegionOne', 'RegionTwo'] as const) {
      const alpha = byVersion(await ours(region), 'alpha')['1']!;
      expect(alpha).toMatchObject({
        id: idOf('alpha', '1', 'ref-demo', region),
        name: `Alpha ${CATALOG}`,
        status: 'active',
        visibility: 'shared',
        os_hidden: false,
        os_hash_value: f['alpha-1']!.sha512,
        os_distro: 'alpine',
        tags: ['catalog-test'],
      });
      const members = (await (await glance(region, `/v2/images/${alpha.id}/members`)).json()) as {
        members: { member_id: string; status: string }[];
      };
      expect(members.members).toEqual([
        expect.objectContaining({ member_id: cloud.users.demo.extraProjectId, status: 'accepted' }),
      ]);
    }
    // The second project (another cloud entry) owns its own copy of beta.
    const beta = byVersion(await ours('RegionOne', 'extra'), 'beta')['1.9']!;
    expect(beta).toMatchObject({
      id: idOf('beta', '1.9', 'ref-extra', 'RegionOne'),
      owner: cloud.users.demo.extraProjectId,
      os_hash_value: f['beta-1.9']!.sha512,
    });
    // The Packer build's last run (not the first) was uploaded.
    expect(byVersion(await ours('RegionOne'), 'gamma')['2026.1']).toMatchObject({
      os_hash_value: f.gamma!.sha512,
      name: `Gamma ${CATALOG}`,
    });
    expect(byVersion(await ours('RegionOne'), 'gamma')['2025.9']).toBeUndefined();
    // Every step is in the audit log.
    const kinds = queueRows(home, `SELECT kind FROM events WHERE kind LIKE 'catalog.%'`).map((e) => e.kind);
    expect(kinds).toEqual(expect.arrayContaining(['catalog.rename', 'catalog.share', 'catalog.accept']));
  }, 300_000);

  it('a second apply with nothing new does nothing', async () => {
    const before = queueRows(home, 'SELECT count(*) AS n FROM events')[0]!.n;
    const r = await runCli(['apply', path, '--yes', '--json'], env());
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ applied: false, changes: 0, jobs: [] });
    expect(queueRows(home, 'SELECT count(*) AS n FROM events')[0]!.n).toBe(before);
  }, 120_000);
});

export { readFileSync, renameSync, startCli, until };
