/**
 * Identity against the reference Keystone: each auth method, project switching, a real 401 from
 * Glance answered by one re-authentication, an expired token-only entry, and TLS failures.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Engine } from '../../src/main/core/clouds/engine';
import { findCloud, loadClouds } from '../../src/main/core/openstack/clouds-config';
import { GlanceClient } from '../../src/main/core/openstack/glance-client';
import { KeystoneSession } from '../../src/main/core/openstack/keystone-session';
import { issueToken } from '../openstack/reference-openstack';
import { CountingHttp } from '../support/counting-http';
import { engineError } from '../support/engine-error';
import { startTlsServer, type TlsServer } from '../support/tls-server';

const cloud = inject('referenceCloud');
let dir: string;
let demoUserId: string;
let appCred: { id: string; name: string; secret: string };
let tls: TlsServer;
const engines: Engine[] = [];

function engineWith(yaml: string): Engine {
  const file = join(dir, `clouds-${engines.length}.yaml`);
  writeFileSync(file, yaml);
  const e = new Engine({ env: { OS_CLIENT_CONFIG_FILE: file }, cwd: dir, home: dir });
  engines.push(e);
  return e;
}

const ks = (): string => cloud.keystoneUrl;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gu-auth-'));
  const token = await issueToken(cloud, 'demo');
  const check = await fetch(`${ks()}/auth/tokens`, { headers: { 'x-auth-token': token, 'x-subject-token': token } });
  demoUserId = ((await check.json()) as { token: { user: { id: string } } }).token.user.id;
  // An application credential, made through Keystone's API as the user would.
  const res = await fetch(`${ks()}/users/${demoUserId}/application_credentials`, {
    method: 'POST',
    headers: { 'x-auth-token': token, 'content-type': 'application/json' },
    body: JSON.stringify({ application_credential: { name: `gu-test-${Date.now()}` } }),
  });
  expect(res.status).toBe(201);
  appCred = ((await res.json()) as { application_credential: typeof appCred }).application_credential;
  tls = await startTlsServer(dir, (_req, res) => {
    res.writeHead(401, { 'content-type': 'application/json' }).end(
      JSON.stringify({
        error: { code: 401, message: 'The request you have made requires authentication.', title: 'Unauthorized' },
      }),
    );
  });
});

afterAll(async () => {
  const token = await issueToken(cloud, 'demo');
  await fetch(`${ks()}/users/${demoUserId}/application_credentials/${appCred.id}`, {
    method: 'DELETE',
    headers: { 'x-auth-token': token },
  });
  for (const e of engines) await e.close();
  await tls.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('auth methods', () => {
  it('password with user and project ids (no names, no domains)', async () => {
    const e = engineWith(
      `clouds:\n  ids:\n    auth: {auth_url: '${ks()}', user_id: ${demoUserId}, password: ${cloud.users.demo.password}, project_id: ${cloud.users.demo.projectId}}\n`,
    );
    expect((await e.session('ids').auth()).projectId).toBe(cloud.users.demo.projectId);
    expect(Array.isArray(await e.listImages('ids', 'RegionOne'))).toBe(true);
  });

  it('application credential by id, and by name with its user', async () => {
    const e = engineWith(`clouds:
  by-id:
    auth_type: v3applicationcredential
    auth: {auth_url: '${ks()}', application_credential_id: ${appCred.id}, application_credential_secret: ${appCred.secret}}
  by-name:
    auth_type: v3applicationcredential
    auth: {auth_url: '${ks()}', application_credential_name: ${appCred.name}, application_credential_secret: ${appCred.secret}, username: demo, user_domain_id: default}
  wrong-secret:
    auth_type: v3applicationcredential
    auth: {auth_url: '${ks()}', application_credential_id: ${appCred.id}, application_credential_secret: nope}
`);
    for (const name of ['by-id', 'by-name']) {
      expect((await e.session(name).auth()).projectId).toBe(cloud.users.demo.projectId);
      expect(Array.isArray(await e.listImages(name, 'RegionTwo'))).toBe(true);
    }
    const bad = await engineError(e.listRegions('wrong-secret'));
    expect(bad.code).toBe('auth.failed');
    expect(bad.info.hint).toMatch(/application_credential/);
    expect((await engineError(e.switchProject('by-id', cloud.users.demo.extraProjectId))).code).toBe(
      'auth.cannot_switch_project',
    );
  });

  it('a pre-issued token works until it is revoked, then asks to log in again', async () => {
    const token = await issueToken(cloud, 'demo');
    const yaml = `clouds:\n  tok:\n    auth_type: token\n    auth: {auth_url: '${ks()}', token: ${token}, project_name: demo, project_domain_id: default}\n`;
    const e = engineWith(yaml);
    expect(e.session('tok').canRenew).toBe(false);
    expect(Array.isArray(await e.listImages('tok', 'RegionOne'))).toBe(true);
    const revoke = await fetch(`${ks()}/auth/tokens`, {
      method: 'DELETE',
      headers: { 'x-auth-token': token, 'x-subject-token': token },
    });
    expect(revoke.status).toBe(204);
    const again = engineWith(yaml);
    const err = await engineError(again.listRegions('tok'));
    expect(err.code).toBe('auth.expired');
    expect(err.info.hint).toMatch(/Log in again/);
  });
});

describe('projects', () => {
  it('lists the user projects and switches without the password, and Glance sees the new owner', async () => {
    const e = engineWith(
      `clouds:\n  demo:\n    auth: {auth_url: '${ks()}', username: demo, password: ${cloud.users.demo.password}, project_name: demo, user_domain_id: default, project_domain_id: default}\n`,
    );
    const projects = await e.listProjects('demo');
    expect(projects.map((p) => p.name).sort()).toEqual(['demo', 'demo-extra']);
    expect(projects.find((p) => p.current)?.name).toBe('demo');
    await e.switchProject('demo', cloud.users.demo.extraProjectId);
    expect((await e.listProjects('demo')).find((p) => p.current)?.name).toBe('demo-extra');
    const glance = await e.glance('demo', 'RegionOne');
    const { image } = await glance.createImage({ name: 'in-extra', disk_format: 'raw', container_format: 'bare' });
    expect(image.owner).toBe(cloud.users.demo.extraProjectId);
    await glance.deleteImage(image.id);
    // Renewal keeps the switched project: force one and look again.
    e.session('demo').invalidate();
    expect((await e.session('demo').auth()).projectId).toBe(cloud.users.demo.extraProjectId);
    expect((await engineError(e.switchProject('demo', cloud.users.admin.projectId))).code).toBe('auth.forbidden');
  });
});

describe('tokens and 401', () => {
  it('a 401 from Glance triggers exactly one re-authentication and the call succeeds', async () => {
    const http = new CountingHttp();
    const entry = findCloud(
      loadClouds({ env: { OS_CLIENT_CONFIG_FILE: cloud.cloudsYamlPath }, cwd: dir, home: dir }),
      'ref-demo',
    );
    const session = new KeystoneSession(entry, http);
    const glance = new GlanceClient(cloud.glance.RegionOne.url, session, http);
    // Spoil the token of the first Glance call: the real Glance answers 401.
    http.tamper = (req, i) =>
      i === 1 ? { ...req, headers: { ...req.headers, 'x-auth-token': 'gAAAAA-not-a-token' } } : req;
    const images = await glance.listImages({ limit: 5, max: 5 });
    expect(Array.isArray(images)).toBe(true);
    expect(http.authRequests()).toBe(2);
    expect(http.sent.filter((r) => r.url.includes('/v2/images'))).toHaveLength(2);
    await http.close();
  });

  it('a second 401 after re-authenticating is the answer: auth.expired, no loop', async () => {
    const http = new CountingHttp();
    const entry = findCloud(
      loadClouds({ env: { OS_CLIENT_CONFIG_FILE: cloud.cloudsYamlPath }, cwd: dir, home: dir }),
      'ref-demo',
    );
    const glance = new GlanceClient(cloud.glance.RegionOne.url, new KeystoneSession(entry, http), http);
    http.tamper = (req) =>
      req.url.includes('/v2/') ? { ...req, headers: { ...req.headers, 'x-auth-token': 'bad' } } : req;
    const e = await engineError(glance.listImages());
    expect(e.info).toMatchObject({ code: 'auth.expired', status: 401 });
    expect(http.authRequests()).toBe(2);
    await http.close();
  });
});

describe('TLS', () => {
  const entry = (extra: string): string =>
    `clouds:\n  tls:\n    auth: {auth_url: '${tls.url}/v3', username: u, password: p, project_name: p}\n${extra}`;

  it('a self-signed certificate is net.tls with a hint about cacert', async () => {
    const e = await engineError(engineWith(entry('')).listRegions('tls'));
    expect(e.code).toBe('net.tls');
    expect(e.message).toMatch(/self-signed/);
    expect(e.info.hint).toMatch(/cacert/);
  });

  it('trusting its certificate with cacert gets past TLS (the server then refuses the password)', async () => {
    expect((await engineError(engineWith(entry(`    cacert: ${tls.certPath}\n`)).listRegions('tls'))).code).toBe(
      'auth.failed',
    );
  });

  it('verify: false gets past TLS only when asked, and the cloud says it is insecure', async () => {
    const e = engineWith(entry('    verify: false\n'));
    expect(e.listClouds()[0]?.insecure).toBe(true);
    expect((await engineError(e.listRegions('tls'))).code).toBe('auth.failed');
  });

  it('a CA bundle that cannot be read is a coded config error', async () => {
    expect(
      (await engineError(engineWith(entry(`    cacert: ${join(dir, 'missing.pem')}\n`)).listRegions('tls'))).code,
    ).toBe('config.invalid');
  });
});
