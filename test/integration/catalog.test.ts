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
import { createReadStream, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
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
let server: Server;
let baseUrl = '';

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
    targets: [{cloud: ref-demo, regions: [RegionOne], stores: [cold]}]
    lifecycle: {older: deactivate}
    packer: {manifest: packer/manifest.json, build: gamma}
  delta:
    name: Delta ${CATALOG}
    targets: [{cloud: ref-demo, regions: [RegionOne]}]
    versions:
      - {version: "1", url: "${baseUrl}/web-1.raw", sha512: "${f['web-1']!.sha512}"}
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
  f['web-1'] = await makeFile(join(dir, 'files', 'web-1.raw'), 2 * MiB);
  // Glance fetches the URL versions from here (web-download), on loopback.
  server = createServer((req, res) => {
    if (req.url !== '/web-1.raw') return void res.writeHead(404).end();
    res.writeHead(200, { 'content-length': f['web-1']!.size });
    createReadStream(f['web-1']!.path).pipe(res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
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
      for (const catalog of [CATALOG, `${CATALOG}-race`, `${CATALOG}-adopt`])
        for (const i of await ours(region, who, catalog).catch(() => [])) {
          if (i.protected === true)
            await glance(region, `/v2/images/${i.id}`, who, {
              method: 'PATCH',
              headers: { 'content-type': 'application/openstack-images-v2.1-json-patch' },
              body: JSON.stringify([{ op: 'replace', path: '/protected', value: false }]),
            });
          await glance(region, `/v2/images/${i.id}`, who, { method: 'DELETE' });
        }
  await new Promise((r) => server.close(r));
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
      'delta ref-demo/RegionOne',
      'gamma ref-demo/RegionOne',
    ]);
    expect(await ours('RegionOne')).toEqual([]);
  }, 120_000);

  it('applies from nothing: every image verified, named, shared and accepted, in every cloud', async () => {
    const r = await runCli(['apply', path, '--yes', '--json'], env());
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { remaining: number; jobs: { targets: { state: string }[] }[] };
    expect(out.remaining).toBe(0);
    expect(out.jobs.flatMap((j) => j.targets.map((t) => t.state))).toEqual(Array(6).fill('done'));
    // A URL version: fetched by Glance (web-download) into the catalog's id, verified, marked so.
    expect(byVersion(await ours('RegionOne'), 'delta')['1']).toMatchObject({
      id: idOf('delta', '1', 'ref-demo', 'RegionOne'),
      os_hash_value: f['web-1']!.sha512,
      glance_uploader_source_sha512: f['web-1']!.sha512,
    });
    for (const region of ['RegionOne', 'RegionTwo'] as const) {
      const alpha = byVersion(await ours(region), 'alpha')['1']!;
      expect(alpha).toMatchObject({
        id: idOf('alpha', '1', 'ref-demo', region),
        name: `Alpha ${CATALOG}`,
        status: 'active',
        visibility: 'shared',
        os_hidden: false,
        os_hash_value: f['alpha-1']!.sha512,
        glance_uploader_source_sha512: f['alpha-1']!.sha512,
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
      stores: 'cold', // the target's store, not the region's default (fast)
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

  it('rotates on new versions: plain name to the newest, older hidden or community, beyond keep 2 deleted', async () => {
    // Fails if versions were ordered as text (1.10 < 1.9: beta's latest would be 1.9), or if
    // keep-N counted what the catalog declares instead of what each region holds.
    writeCatalog('catalog.yaml', catalogText({ alpha: ['1', '2', '3'], beta: ['1.9', '1.10'] }));
    const r = await runCli(['apply', path, '--yes', '--json'], env());
    expect(r.code, r.stderr).toBe(0);
    for (const region of ['RegionOne', 'RegionTwo'] as const) {
      const alpha = byVersion(await ours(region), 'alpha');
      expect(Object.keys(alpha).sort()).toEqual(['2', '3']);
      expect(alpha['3']).toMatchObject({
        name: `Alpha ${CATALOG}`,
        os_hidden: false,
        os_hash_value: f['alpha-3']!.sha512,
      });
      expect(alpha['2']).toMatchObject({ name: `Alpha ${CATALOG} (2)`, os_hidden: true, visibility: 'shared' });
      // Version 1 was deleted (shared, but the family allows it): Glance no longer shows it.
      expect((await glance(region, `/v2/images/${idOf('alpha', '1', 'ref-demo', region)}`)).status).toBe(404);
    }
    const beta = byVersion(await ours('RegionOne', 'extra'), 'beta');
    expect(beta['1.10']).toMatchObject({ name: `Beta ${CATALOG}`, visibility: 'private' });
    expect(beta['1.9']).toMatchObject({ name: `Beta ${CATALOG} (1.9)`, visibility: 'community' });
    const deletes = queueRows(home, `SELECT region, image_id FROM events WHERE kind = 'catalog.delete'`);
    expect(deletes.map((e) => e.image_id).sort()).toEqual(
      [idOf('alpha', '1', 'ref-demo', 'RegionOne'), idOf('alpha', '1', 'ref-demo', 'RegionTwo')].sort(),
    );
  }, 300_000);

  it('shows drift after changes by hand (a hidden flag removed, an extra image), and apply undoes only ours', async () => {
    // Fails if the plan read only the images Glance lists by default (a hidden image is missing
    // from that list: its flag could never be seen), or if apply deleted an image it did not make.
    const r2 = 'RegionTwo' as const;
    const two = idOf('alpha', '2', 'ref-demo', r2);
    await glance(r2, `/v2/images/${two}`, 'demo', {
      method: 'PATCH',
      headers: { 'content-type': 'application/openstack-images-v2.1-json-patch' },
      body: JSON.stringify([{ op: 'replace', path: '/os_hidden', value: false }]),
    });
    const extra = (await (
      await glance(r2, '/v2/images', 'demo', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          name: 'by hand',
          disk_format: 'raw',
          container_format: 'bare',
          glance_uploader_catalog: CATALOG,
          glance_uploader_family: 'alpha',
          glance_uploader_version: '3',
        }),
      })
    ).json()) as { id: string };
    const p = await runCli(['plan', path, '--json'], env());
    expect(p.code, p.stderr).toBe(0);
    const actions = (
      JSON.parse(p.stdout) as { actions: { kind: string; region: string; imageId?: string; drift?: boolean }[] }
    ).actions;
    expect(actions).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ kind: 'hide', region: r2, imageId: two, drift: true }),
        expect.objectContaining({ kind: 'note', region: r2, imageId: extra.id, drift: true }),
      ]),
    );
    expect(actions.filter((a) => a.kind !== 'note').map((a) => a.kind)).toEqual(['hide']);
    const text = await runCli(['plan', path], env());
    expect(text.stdout).toContain('[drift]');
    const a = await runCli(['apply', path, '--yes'], env());
    expect(a.code, a.stderr).toBe(0);
    expect(((await (await glance(r2, `/v2/images/${two}`)).json()) as Img).os_hidden).toBe(true);
    expect((await glance(r2, `/v2/images/${extra.id}`)).status).toBe(200); // never ours to delete
    await glance(r2, `/v2/images/${extra.id}`, 'demo', { method: 'DELETE' });
  }, 300_000);

  it('adopts an image it did not make when told: it becomes an older version, renamed and hidden', async () => {
    // Fails if adoption were ignored (the hand-made image would keep the plain name beside the
    // catalog's), or if an image of another name or project were taken in.
    const name = `Epsilon ${CATALOG}`;
    const made = (await (
      await glance('RegionOne', '/v2/images', 'demo', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name, disk_format: 'raw', container_format: 'bare', visibility: 'private' }),
      })
    ).json()) as { id: string };
    const put = await glance('RegionOne', `/v2/images/${made.id}/file`, 'demo', {
      method: 'PUT',
      headers: { 'content-type': 'application/octet-stream' },
      body: Buffer.alloc(4096, 7),
    });
    expect(put.status).toBe(204);
    const apath = writeCatalog(
      'adopt.yaml',
      `catalog: ${CATALOG}-adopt
families:
  eps:
    name: ${name}
    targets: [{cloud: ref-demo, regions: [RegionOne]}]
    lifecycle: {adopt: true}
    versions: [{version: "1", file: files/alpha-2.raw}]
`,
    );
    const r = await runCli(['apply', apath, '--yes', '--json'], env());
    expect(r.code, r.stderr).toBe(0);
    const adopted = (await (await glance('RegionOne', `/v2/images/${made.id}`)).json()) as Img;
    expect(adopted).toMatchObject({
      name: `${name} (${new Date().toISOString().slice(0, 10)})`,
      os_hidden: true,
      glance_uploader_catalog: `${CATALOG}-adopt`,
      glance_uploader_family: 'eps',
      glance_uploader_adopted: made.id,
    });
    const v1 = byVersion(await ours('RegionOne', 'demo', `${CATALOG}-adopt`), 'eps')['1'];
    expect(v1).toMatchObject({ name, os_hidden: false, os_hash_value: f['alpha-2']!.sha512 });
  }, 300_000);

  it('a version whose image was deleted by hand is refused with its code, and made again with the next generation', async () => {
    // Fails if a deleted image's id were retried forever (Glance never gives it again), or if the
    // generation did not change the id.
    const r2 = 'RegionTwo' as const;
    const three = idOf('alpha', '3', 'ref-demo', r2);
    expect((await glance(r2, `/v2/images/${three}`, 'demo', { method: 'DELETE' })).status).toBe(204);
    const a = await runCli(['apply', path, '--yes', '--json'], env());
    expect(a.code, a.stderr).toBe(3);
    const failed = (
      JSON.parse(a.stdout) as { jobs: { targets: { state: string; error?: { code: string; hint: string } }[] }[] }
    ).jobs
      .flatMap((j) => j.targets)
      .find((t) => t.state === 'failed');
    expect(failed?.error).toMatchObject({ code: 'catalogfile.id_spent', hint: expect.stringContaining('generation') });
    // Applied again unchanged, it is not queued again (a watch would queue it every minute).
    const unchanged = await runCli(['apply', path, '--yes', '--json'], env());
    expect(unchanged.code, unchanged.stderr).toBe(3);
    const out = JSON.parse(unchanged.stdout) as {
      jobs: unknown[];
      refused: { family: string; version: string; error: { code: string } }[];
    };
    expect(out.jobs).toEqual([]);
    expect(out.refused).toEqual([
      expect.objectContaining({
        family: 'alpha',
        version: '3',
        error: expect.objectContaining({ code: 'catalogfile.id_spent' }),
      }),
    ]);
    writeCatalog(
      'catalog.yaml',
      catalogText({ alpha: ['1', '2', '3'], beta: ['1.9', '1.10'] }).replace(
        '{version: "3", file: files/alpha-3.raw}',
        '{version: "3", file: files/alpha-3.raw, generation: 1}',
      ),
    );
    const b = await runCli(['apply', path, '--yes', '--json'], env());
    expect(b.code, b.stderr).toBe(0);
    const again = byVersion(await ours(r2), 'alpha')['3']!;
    expect(again).toMatchObject({
      id: catalogImageId({
        catalog: CATALOG,
        family: 'alpha',
        version: '3',
        cloud: 'ref-demo',
        region: r2,
        generation: 1,
      }),
      name: `Alpha ${CATALOG}`,
      os_hidden: false,
    });
    // RegionOne kept its image of version 3 (made with generation 0): nothing is made twice there.
    expect(byVersion(await ours('RegionOne'), 'alpha')['3']!.id).toBe(idOf('alpha', '3', 'ref-demo', 'RegionOne'));
  }, 300_000);

  it('apply --watch uploads what a build writes into a watched folder, and a new Packer run', async () => {
    const watched = join(dir, 'nightly');
    mkdirSync(watched);
    mkdirSync(join(dir, 'pk'));
    const manifest = (run: string, version: string): string =>
      JSON.stringify({
        builds: [
          {
            name: 'p',
            builder_type: 'qemu',
            files: [{ name: `p-${version}.raw` }],
            packer_run_uuid: run,
            custom_data: { version },
          },
        ],
        last_run_uuid: run,
      });
    const wpath = writeCatalog(
      'watch.yaml',
      `catalog: ${CATALOG}
targets: [{cloud: ref-demo, regions: [RegionOne]}]
families:
  nightly:
    name: Nightly ${CATALOG}
    folder: {path: nightly, match: '^n-(?<version>[0-9]+)\\.raw$'}
  packed:
    name: Packed ${CATALOG}
    packer: {manifest: pk/manifest.json}
`,
    );
    const named = (family: string, version: string, name: string) => async (): Promise<boolean> => {
      const i = byVersion(await ours('RegionOne'), family)[version];
      return i?.status === 'active' && i.name === name;
    };
    const w = startCli(['apply', wpath, '--watch', '--yes'], env());
    try {
      await until(
        'the first look',
        () => w.child.exitCode === null && /watching for changes/.test(stderrOf(w)),
        60_000,
      );
      const file = await makeFile(join(dir, 'n-7.part'), 2 * MiB);
      renameSync(file.path, join(watched, 'n-7.raw'));
      await until('the nightly image', named('nightly', '7', `Nightly ${CATALOG}`), 120_000, 500);
      expect(byVersion(await ours('RegionOne'), 'nightly')['7']).toMatchObject({ os_hash_value: file.sha512 });
      // A Packer run writes its image, then its manifest (the manifest names the new run).
      const built = await makeFile(join(dir, 'pk', 'p-2.raw'), 1 * MiB);
      writeFileSync(join(dir, 'pk', 'manifest.json'), manifest('run-b', '2'));
      await until('the Packer image', named('packed', '2', `Packed ${CATALOG}`), 120_000, 500);
      expect(byVersion(await ours('RegionOne'), 'packed')['2']).toMatchObject({ os_hash_value: built.sha512 });
    } finally {
      w.child.kill('SIGINT');
    }
    const done = await w.done;
    expect(done.code, done.stderr).toBe(0);
  }, 300_000);
});

let watchErr = '';
function stderrOf(w: ReturnType<typeof startCli>): string {
  if (watchErr === '') w.child.stderr?.on('data', (d: Buffer) => (watchErr += d.toString()));
  return watchErr || ' ';
}

describe('two applies at once', () => {
  it('make exactly one image per version and region, and both exit 0', async () => {
    // Fails if image ids were random (each process would create its own image: two per region),
    // or if the loser of Glance's 409 uploaded into or deleted the winner's image.
    const race = `${CATALOG}-race`;
    const big = await makeFile(join(dir, 'files', 'race.raw'), 48 * MiB);
    const rpath = writeCatalog(
      'race.yaml',
      `catalog: ${race}
targets: [{cloud: ref-demo, regions: [RegionOne, RegionTwo]}]
families:
  r:
    name: Race ${race}
    versions: [{version: "1", file: files/race.raw}]
`,
    );
    const homes = [join(dir, 'race-a'), join(dir, 'race-b')];
    const runs = homes.map((h) => startCli(['apply', rpath, '--yes', '--json'], env(h)).done);
    const [a, b] = await Promise.all(runs);
    expect(a!.code, a!.stderr).toBe(0);
    expect(b!.code, b!.stderr).toBe(0);
    for (const region of ['RegionOne', 'RegionTwo'] as const) {
      const images = await ours(region, 'demo', race);
      expect(images.map((i) => i.id)).toEqual([idOf('r', '1', 'ref-demo', region, race)]);
      expect(images[0]).toMatchObject({ status: 'active', os_hash_value: big.sha512, name: `Race ${race}` });
    }
    // The race was real: both planned uploads, and one waited for the other's image (the lock).
    const planned = [a!, b!].map(
      (x) =>
        (JSON.parse(x.stdout) as { actions: { kind: string }[] }).actions.filter((y) => y.kind === 'upload').length,
    );
    expect(Math.min(...planned)).toBeGreaterThan(0);
    const waited = homes.flatMap((h) => queueRows(h, `SELECT kind FROM events WHERE kind = 'target.image_of_another'`));
    expect(waited.length).toBeGreaterThan(0);
  }, 300_000);
});

describe('bad catalogs', () => {
  it('a target that cannot be reached refuses the whole plan: nothing is changed anywhere', async () => {
    // Fails if regions were read one by one as the plan is made (RegionOne changed before the
    // dead cloud is met).
    const deadClouds = writeCloudsYaml(join(dir, 'dead-clouds.yaml'), cloud, [
      demoEntry(cloud, 'dead', { extra: [] }).replace(cloud.keystoneUrl, 'http://127.0.0.1:9/v3'),
    ]);
    const p = writeCatalog(
      'dead.yaml',
      `catalog: ${CATALOG}-dead
families:
  d:
    name: D
    targets: [{cloud: ref-demo, regions: [RegionOne]}, {cloud: dead, regions: [RegionOne]}]
    versions: [{version: "1", file: files/alpha-1.raw}]
`,
    );
    const deadHome = join(dir, 'dead-home');
    const r = await runCli(['apply', p, '--yes'], {
      GLANCE_UPLOADER_HOME: deadHome,
      OS_CLIENT_CONFIG_FILE: deadClouds,
    });
    expect(r.code).toBe(5);
    expect(r.stderr).toContain('Plan refused: RegionOne of dead cannot be read');
    expect(await ours('RegionOne', 'demo', `${CATALOG}-dead`)).toEqual([]);
    expect(queueRows(deadHome, 'SELECT count(*) AS n FROM jobs')[0]!.n).toBe(0);
  }, 120_000);

  it('are refused with every problem at its line and column, and nothing is queued', async () => {
    const bad = writeCatalog(
      'bad.yaml',
      `catalog: ${CATALOG}
targets: [{cloud: nowhere, regions: [RegionOne]}]
families:
  a:
    name: A
    lifecycel: {keep: 2}
    versions:
      - {version: "1", url: "https://example.com/a.img"}
      - {version: "2", file: a.raw, latest: true}
      - {version: "3", file: b.raw, latest: true}
`,
    );
    const badHome = join(dir, 'bad-home');
    const r = await runCli(['apply', bad, '--yes'], env(badHome));
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('line 2, column 19: no cloud "nowhere"');
    const j = await runCli(['plan', bad, '--json'], env(badHome));
    expect(j.code).toBe(3);
    const error = (
      JSON.parse(j.stdout) as { error: { code: string; problems: { line: number; column: number; message: string }[] } }
    ).error;
    expect(error.code).toBe('catalogfile.invalid');
    expect(error.problems.map((p) => `${p.line}:${p.column} ${p.message.split(':')[0]!}`)).toEqual([
      '2:19 no cloud "nowhere" in clouds.yaml or the app\'s saved clouds',
      '6:5 unknown key "lifecycel"',
      '8:29 a url needs its sha512',
      '10:45 family "a" has two versions marked latest',
    ]);
    expect(queueRows(badHome, 'SELECT count(*) AS n FROM jobs')[0]!.n).toBe(0);
  }, 120_000);
});
