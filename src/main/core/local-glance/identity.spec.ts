import { mkdtempSync, rmSync, statSync } from 'node:fs';
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
