/**
 * The engine's first slice against the reference Keystone and Glance: clouds from the suite's
 * clouds.yaml, password auth, the catalog's image endpoints per region, image listing with
 * pagination, token renewal, and the coded errors a user will meet.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Engine } from '../../src/main/core/clouds/engine';
import { openDatabase } from '../../src/main/core/queue/database';
import { SavedClouds } from '../../src/main/core/clouds/saved-clouds';
import { PassphraseCodec } from '../../src/main/core/clouds/secret-codec';
import { findCloud, loadClouds } from '../../src/main/core/openstack/clouds-config';
import { GlanceClient } from '../../src/main/core/openstack/glance-client';
import { HttpClient, type HttpRequest, type HttpResponse } from '../../src/main/core/openstack/http-client';
import { KeystoneSession } from '../../src/main/core/openstack/keystone-session';
import { engineError } from '../support/engine-error';
import { ReferenceImages } from '../support/reference-images';

const cloud = inject('referenceCloud');
const images = new ReferenceImages(cloud);
let engine: Engine;
let scratch: string;
const names = {
  one: ReferenceImages.uniqueName('slice-r1'),
  empty: ReferenceImages.uniqueName('slice-r1-queued'),
  two: ReferenceImages.uniqueName('slice-r2'),
};
const data = Buffer.alloc(1024 * 1024, 7);

/** An HttpClient that counts what it sends: the real one underneath. */
class CountingHttp extends HttpClient {
  sent: HttpRequest[] = [];
  override async send(req: HttpRequest): Promise<HttpResponse> {
    this.sent.push(req);
    return super.send(req);
  }
}

beforeAll(async () => {
  engine = new Engine({ env: { OS_CLIENT_CONFIG_FILE: cloud.cloudsYamlPath }, cwd: tmpdir(), home: tmpdir() });
  scratch = mkdtempSync(join(tmpdir(), 'gu-int-'));
  await images.create('RegionOne', names.one, { visibility: 'private', os_distro: 'cirros' }, data);
  await images.create('RegionOne', names.empty);
  await images.create('RegionTwo', names.two, {}, data);
});

afterAll(async () => {
  await images.deleteAll();
  await engine.close();
  rmSync(scratch, { recursive: true, force: true });
});

describe('clouds and regions', () => {
  it('lists the clouds of the suite clouds.yaml', () => {
    const clouds = engine.listClouds();
    expect(clouds.map((c) => c.name).sort()).toEqual(['ref-admin', 'ref-admin-r2', 'ref-demo', 'ref-demo-r2']);
    expect(clouds.find((c) => c.name === 'ref-demo')).toEqual({
      name: 'ref-demo',
      authUrl: cloud.keystoneUrl,
      authType: 'password',
      regions: ['RegionOne'],
      source: cloud.cloudsYamlPath,
      insecure: false,
    });
  });

  it('reads both regions and their image endpoints from the catalog', async () => {
    const regions = await engine.listRegions('ref-demo');
    expect(regions.sort((a, b) => a.id.localeCompare(b.id))).toEqual([
      { id: 'RegionOne', imageEndpoint: cloud.glance.RegionOne.url },
      { id: 'RegionTwo', imageEndpoint: cloud.glance.RegionTwo.url },
    ]);
  });
});

describe('listing images', () => {
  it('shows the images of the chosen region, with Glance fields', async () => {
    const list = await engine.listImages('ref-demo', 'RegionOne');
    const one = list.find((i) => i.name === names.one);
    expect(one).toMatchObject({
      status: 'active',
      diskFormat: 'raw',
      containerFormat: 'bare',
      visibility: 'private',
      size: data.length,
      owner: cloud.users.demo.projectId,
    });
    expect(one?.createdAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(list.find((i) => i.name === names.empty)).toMatchObject({ status: 'queued', size: null });
    expect(list.some((i) => i.name === names.two)).toBe(false);
  });

  it('shows RegionTwo images only in RegionTwo', async () => {
    const list = await engine.listImages('ref-demo-r2', 'RegionTwo');
    expect(list.filter((i) => i.name === names.two)).toHaveLength(1);
    expect(list.some((i) => i.name === names.one)).toBe(false);
  });

  it('follows next links to the last page', async () => {
    const glance = await engine.glance('ref-demo', 'RegionOne');
    const http = new CountingHttp();
    const session = new KeystoneSession(
      findCloud(
        loadClouds({ env: { OS_CLIENT_CONFIG_FILE: cloud.cloudsYamlPath }, cwd: scratch, home: scratch }),
        'ref-demo',
      ),
      http,
    );
    const paged = new GlanceClient(glance.root, session, http);
    const all = await paged.listImages({ limit: 1 });
    const ours = all.filter((i) => i.name === names.one || i.name === names.empty);
    expect(ours).toHaveLength(2);
    const gets = http.sent.filter((r) => r.method === 'GET');
    expect(gets.length).toBeGreaterThanOrEqual(all.length); // one page per image, plus the empty last page
    expect(new Set(all.map((i) => i.id)).size).toBe(all.length);
  });
});

describe('tokens', () => {
  const demoEntry = (): ReturnType<typeof findCloud> =>
    findCloud(
      loadClouds({ env: { OS_CLIENT_CONFIG_FILE: cloud.cloudsYamlPath }, cwd: scratch, home: scratch }),
      'ref-demo',
    );

  it('shares one authentication among concurrent callers', async () => {
    const http = new CountingHttp();
    const session = new KeystoneSession(demoEntry(), http);
    const states = await Promise.all(Array.from({ length: 8 }, () => session.auth()));
    expect(http.sent.filter((r) => r.url.endsWith('/auth/tokens'))).toHaveLength(1);
    expect(new Set(states.map((s) => s.token)).size).toBe(1);
    expect(states[0]?.projectId).toBe(cloud.users.demo.projectId);
    await http.close();
  });

  it('renews ahead of expiry: a token inside the margin is replaced before use', async () => {
    const http = new CountingHttp();
    let clock = Date.now();
    const session = new KeystoneSession(demoEntry(), http, { renewMarginMs: 120_000, now: () => clock });
    const first = await session.auth();
    expect((await session.auth()).token).toBe(first.token);
    // Move to 119 s before expiry: inside the 120 s margin, so the next caller gets a new token.
    clock = first.expiresAt - 119_000;
    const second = await session.auth();
    expect(second.token).not.toBe(first.token);
    expect(http.sent.filter((r) => r.url.endsWith('/auth/tokens'))).toHaveLength(2);
    await http.close();
  });
});

describe('coded errors', () => {
  function writeClouds(body: string): Engine {
    const file = join(scratch, `clouds-${Math.random().toString(36).slice(2)}.yaml`);
    writeFileSync(file, body);
    return new Engine({ env: { OS_CLIENT_CONFIG_FILE: file }, cwd: scratch, home: scratch });
  }
  const entry = (extra: string): string =>
    `clouds:\n  bad:\n    auth:\n      auth_url: ${cloud.keystoneUrl}\n      username: demo\n      user_domain_id: default\n      project_domain_id: default\n${extra}\n    region_name: RegionOne\n`;

  it('a wrong password is auth.failed with Keystone status and request id', async () => {
    const e = await engineError(
      writeClouds(entry('      password: wrong\n      project_name: demo')).listRegions('bad'),
    );
    expect(e.info).toMatchObject({ code: 'auth.failed', status: 401 });
    expect(e.info.requestId).toMatch(/^req-/);
    expect(e.info.hint).toMatch(/password/);
  });

  it('an unknown project is refused with a coded error', async () => {
    const e = await engineError(
      writeClouds(
        entry(`      password: ${cloud.users.demo.password}\n      project_name: no-such-project`),
      ).listRegions('bad'),
    );
    expect(['auth.failed', 'auth.forbidden']).toContain(e.code);
  });

  it('an unknown region names the regions that exist', async () => {
    const e = await engineError(engine.listImages('ref-demo', 'RegionNine'));
    expect(e.code).toBe('catalog.region_not_found');
    expect(e.info.hint).toContain('RegionOne');
    expect(e.info.hint).toContain('RegionTwo');
  });

  it('an unreachable Keystone is net.unreachable', async () => {
    const closed = cloud.keystoneUrl.replace(/:\d+\//, ':1/');
    const e = await engineError(
      writeClouds(
        `clouds:\n  down:\n    auth: {auth_url: '${closed}', username: u, password: p, project_name: p}\n`,
      ).listRegions('down'),
    );
    expect(e.code).toBe('net.unreachable');
    expect(e.message).toContain('127.0.0.1:1');
  });

  it('logs in with a cloud saved in the app, its password sealed in the database and opened only in memory', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gu-saved-'));
    const db = openDatabase(join(dir, 'q.sqlite3'));
    const saved = new SavedClouds(db, new PassphraseCodec('a passphrase for this test'));
    saved.save('saved-demo', {
      auth: {
        auth_url: cloud.keystoneUrl,
        username: 'demo',
        password: cloud.users.demo.password,
        project_name: 'demo',
        user_domain_id: 'default',
        project_domain_id: 'default',
      },
      region_name: 'RegionOne',
    });
    const e = new Engine({ env: {}, cwd: dir, home: dir, savedClouds: saved });
    try {
      expect(e.listClouds()).toEqual([expect.objectContaining({ name: 'saved-demo', source: 'saved in the app' })]);
      expect((await e.listRegions('saved-demo')).map((r) => r.id).sort()).toEqual(['RegionOne', 'RegionTwo']);
      expect(readFileSync(join(dir, 'q.sqlite3')).toString('latin1')).not.toContain(cloud.users.demo.password);
    } finally {
      await e.close();
      db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('an unknown cloud lists the known ones', async () => {
    const e = await engineError(engine.listRegions('prod'));
    expect(e.code).toBe('config.cloud_not_found');
    expect(e.info.hint).toContain('ref-demo');
  });

  it('an auth type Glance Uploader does not support is refused, naming it and what is supported', async () => {
    const e = await engineError(
      writeClouds(
        `clouds:\n  oidc:\n    auth_type: v3oidcpassword\n    auth: {auth_url: '${cloud.keystoneUrl}', username: u, password: p}\n`,
      ).listRegions('oidc'),
    );
    expect(e.code).toBe('config.unsupported');
    expect(e.message).toContain('v3oidcpassword');
    expect(e.info.hint).toContain('v3applicationcredential');
  });
});
