import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EngineError } from '../io/errors';
import { findCloud, loadClouds, type ConfigContext } from './clouds-config';
import { codeOf } from '../../../../test/support/engine-error';

let root: string;
let ctx: ConfigContext;

function write(rel: string, text: string): string {
  const p = join(root, rel);
  mkdirSync(join(p, '..'), { recursive: true });
  writeFileSync(p, text);
  return p;
}

const demo = `clouds:
  demo:
    auth:
      auth_url: http://keystone.test/v3
      username: demo
      project_name: demo
      user_domain_name: Default
      project_domain_name: Default
    region_name: RegionOne
`;

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'gu-clouds-'));
  mkdirSync(join(root, 'cwd'));
  mkdirSync(join(root, 'home'));
  ctx = { env: {}, cwd: join(root, 'cwd'), home: join(root, 'home') };
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('clouds.yaml discovery', () => {
  it('finds no cloud when there is no file and no OS_* variable', () => {
    expect(loadClouds(ctx)).toEqual({ clouds: [], defaultCloud: undefined, file: undefined });
  });

  it('prefers OS_CLIENT_CONFIG_FILE, then ./clouds.yaml, then ~/.config/openstack', () => {
    write('home/.config/openstack/clouds.yaml', demo.replace('demo:', 'from-home:'));
    expect(loadClouds(ctx).clouds.map((c) => c.name)).toEqual(['from-home']);
    write('cwd/clouds.yml', demo.replace('demo:', 'from-cwd:'));
    expect(loadClouds(ctx).clouds.map((c) => c.name)).toEqual(['from-cwd']);
    ctx.env.OS_CLIENT_CONFIG_FILE = write('elsewhere/my.yaml', demo.replace('demo:', 'explicit:'));
    const loaded = loadClouds(ctx);
    expect(loaded.clouds.map((c) => c.name)).toEqual(['explicit']);
    expect(loaded.file).toBe(ctx.env.OS_CLIENT_CONFIG_FILE);
  });

  it('honours XDG_CONFIG_HOME', () => {
    write('xdg/openstack/clouds.yaml', demo.replace('demo:', 'xdg:'));
    ctx.env.XDG_CONFIG_HOME = join(root, 'xdg');
    expect(loadClouds(ctx).clouds.map((c) => c.name)).toEqual(['xdg']);
  });

  it('reports a missing OS_CLIENT_CONFIG_FILE with a coded error', () => {
    ctx.env.OS_CLIENT_CONFIG_FILE = join(root, 'nope.yaml');
    expect(codeOf(() => loadClouds(ctx))).toBe('config.not_found');
  });

  it('deep-merges secure.yaml so the password completes the entry', () => {
    write('cwd/clouds.yaml', demo);
    write('cwd/secure.yaml', 'clouds:\n  demo:\n    auth:\n      password: s3cret\n');
    const c = findCloud(loadClouds(ctx), 'demo');
    expect(c.auth.password).toBe('s3cret');
    expect(c.auth.username).toBe('demo');
  });

  it('normalises keys the way openstacksdk does', () => {
    write(
      'cwd/clouds.yaml',
      `clouds:
  legacy:
    auth-url: http://k/v3
    username: u
    password: p
    tenant_name: t
    domain_name: D
    endpoint_type: internalURL
    regions: [R1, {name: R2, values: {}}]
    verify: false
`,
    );
    const c = findCloud(loadClouds(ctx), 'legacy');
    expect(c.auth).toMatchObject({
      authUrl: 'http://k/v3',
      username: 'u',
      password: 'p',
      projectName: 't',
      userDomainName: 'D',
      projectDomainName: 'D',
    });
    expect(c.interface).toBe('internal');
    expect(c.regions).toEqual(['R1', 'R2']);
    expect(c.verify).toBe(false);
    expect(c.authType).toBe('password');
    expect(c.imageEndpointOverride).toBeUndefined();
  });

  it('reads image_endpoint_override (openstacksdk key) for every region', () => {
    write(
      'cwd/clouds.yaml',
      'clouds:\n  o:\n    auth: {auth_url: http://k/v3}\n    image_endpoint_override: http://127.0.0.1:9292\n',
    );
    expect(findCloud(loadClouds(ctx), 'o').imageEndpointOverride).toBe('http://127.0.0.1:9292');
  });

  it('supports YAML anchors and merge keys, as the reference clouds.yaml uses', () => {
    write(
      'cwd/clouds.yaml',
      `clouds:\n  a: &a\n    auth: {auth_url: 'http://k/v3', username: u, password: p}\n    region_name: R1\n  b:\n    <<: *a\n    region_name: R2\n`,
    );
    const loaded = loadClouds(ctx);
    expect(findCloud(loaded, 'b')).toMatchObject({ regions: ['R2'], auth: { username: 'u' } });
  });

  it('builds an "envvars" cloud from an openrc, and OS_CLOUD picks the default', () => {
    ctx.env = {
      OS_AUTH_URL: 'http://k:5000',
      OS_USERNAME: 'u',
      OS_PASSWORD: 'p',
      OS_PROJECT_NAME: 'pr',
      OS_REGION_NAME: 'R9',
    };
    let loaded = loadClouds(ctx);
    expect(loaded.clouds.map((c) => c.name)).toEqual(['envvars']);
    expect(loaded.defaultCloud).toBe('envvars');
    expect(findCloud(loaded, 'envvars')).toMatchObject({
      source: 'environment',
      regions: ['R9'],
      auth: { projectName: 'pr' },
    });
    write('cwd/clouds.yaml', demo);
    ctx.env.OS_CLOUD = 'demo';
    loaded = loadClouds(ctx);
    expect(loaded.defaultCloud).toBe('demo');
  });

  it('names the line of a YAML syntax error', () => {
    const file = write('cwd/clouds.yaml', 'clouds:\n  demo:\n    auth: [unclosed\n');
    try {
      loadClouds(ctx);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(EngineError);
      expect((e as EngineError).code).toBe('config.invalid');
      expect((e as EngineError).message).toContain(file);
      expect((e as EngineError).message).toMatch(/line \d+/);
    }
  });

  it('refuses what it does not support, naming the key', () => {
    write('cwd/clouds.yaml', 'clouds:\n  x:\n    auth: {auth_url: http://k}\n    floating_ip_source: nova\n');
    expect(codeOf(() => loadClouds(ctx))).toBe('config.unsupported');
    write('cwd/clouds.yaml', 'clouds:\n  x:\n    auth: {auth_url: http://k}\n    identity_api_version: 2\n');
    expect(codeOf(() => loadClouds(ctx))).toBe('config.unsupported');
  });

  it('rejects malformed structures and unknown clouds with coded errors', () => {
    write('cwd/clouds.yaml', 'clouds: [1, 2]\n');
    expect(codeOf(() => loadClouds(ctx))).toBe('config.invalid');
    write('cwd/clouds.yaml', 'clouds:\n  noauth:\n    region_name: R\n');
    expect(codeOf(() => loadClouds(ctx))).toBe('config.invalid');
    write('cwd/clouds.yaml', demo);
    try {
      findCloud(loadClouds(ctx), 'prod');
      expect.unreachable();
    } catch (e) {
      expect((e as EngineError).code).toBe('config.cloud_not_found');
      expect((e as EngineError).info.hint).toContain('demo');
    }
  });
});
