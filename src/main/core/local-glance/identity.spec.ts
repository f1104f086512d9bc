import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { IdentityService, loadOrCreateCredentials } from './identity';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'gu-identity-'));
});
afterEach(() => {
  vi.useRealTimers();
  rmSync(dir, { recursive: true, force: true });
});

const password = (name: string, pw: string, scope?: unknown): unknown => ({
  auth: {
    identity: { methods: ['password'], password: { user: { name, domain: { name: 'Default' }, password: pw } } },
    ...(scope ? { scope } : {}),
  },
});

describe('local identity', () => {
  it('makes the local user once, keeps its password private (0600), and finds it again', () => {
    const a = loadOrCreateCredentials(dir);
    expect(statSync(join(dir, 'credentials.json')).mode & 0o777).toBe(0o600);
    expect(loadOrCreateCredentials(dir)).toEqual(a);
    expect(a.password.length).toBeGreaterThanOrEqual(20);
  });

  it('authenticates the right password and scope only', () => {
    const creds = loadOrCreateCredentials(dir);
    const id = new IdentityService(creds);
    expect(id.authenticate(password('local', creds.password))).toBeDefined();
    expect(id.authenticate(password('local', 'wrong'))).toBeUndefined();
    expect(id.authenticate(password('admin', creds.password))).toBeUndefined();
    expect(id.authenticate(password('local', creds.password, { project: { id: creds.projectId } }))).toBeDefined();
    expect(id.authenticate(password('local', creds.password, { project: { id: 'other' } }))).toBeUndefined();
    expect(id.authenticate({})).toBeUndefined();
  });

  // A member and an admin in one project, the member in a second project too: the roles each token
  // carries decide Glance's policy answers. Fails if local-admin lost its admin role, or local could
  // scope to a project it is not in.
  it('has a member, an admin, and a second project only the member is in', () => {
    const creds = loadOrCreateCredentials(dir);
    const id = new IdentityService(creds);
    const member = id.authenticate(password('local', creds.password));
    const admin = id.authenticate(password('local-admin', creds.admin.password));
    expect([member?.projectId, member?.roles]).toEqual([creds.projectId, ['member', 'reader']]);
    expect([admin?.projectId, admin?.roles]).toEqual([creds.projectId, ['admin', 'member', 'reader']]);
    expect(id.authenticate(password('local-admin', creds.password))).toBeUndefined();
    const second = { project: { name: 'local-other', domain: { id: 'default' } } };
    expect(id.authenticate(password('local', creds.password, second))?.projectId).toBe(creds.second.projectId);
    expect(id.authenticate(password('local-admin', creds.admin.password, second))).toBeUndefined();
    // Rescoping a token: the same user, another of its projects.
    const rescoped = id.authenticate({
      auth: { identity: { methods: ['token'], token: { id: member?.id } }, scope: second },
    });
    expect([rescoped?.userId, rescoped?.projectId]).toEqual([creds.userId, creds.second.projectId]);
  });

  it('keeps the user of a folder from before the admin existed (as the member) and adds the others', () => {
    const old = { username: 'local', password: 'p'.repeat(24), userId: 'u1', projectName: 'local', projectId: 'p1' };
    writeFileSync(join(dir, 'credentials.json'), JSON.stringify({ ...old, domainId: 'default' }), { mode: 0o600 });
    const creds = loadOrCreateCredentials(dir);
    expect(creds).toMatchObject(old);
    expect(creds.admin.username).toBe('local-admin');
    expect(loadOrCreateCredentials(dir)).toEqual(creds);
  });

  it('expires tokens, and a token made from a token never outlives it', () => {
    vi.useFakeTimers();
    const creds = loadOrCreateCredentials(dir);
    const id = new IdentityService(creds, 60);
    const t = id.authenticate(password('local', creds.password));
    expect(id.validate(t?.id)).toBeDefined();
    vi.advanceTimersByTime(30_000);
    const child = id.authenticate({ auth: { identity: { methods: ['token'], token: { id: t?.id } } } });
    expect(child?.expiresAt).toBe(t?.expiresAt);
    vi.advanceTimersByTime(31_000);
    expect(id.validate(t?.id)).toBeUndefined();
    expect(id.validate(child?.id)).toBeUndefined();
    expect(id.authenticate({ auth: { identity: { methods: ['token'], token: { id: t?.id } } } })).toBeUndefined();
  });
});
