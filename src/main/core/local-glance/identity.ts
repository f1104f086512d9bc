/**
 * A minimal Keystone v3 for the embedded server: one local user in one project, created at
 * first start (its password in `credentials.json`, mode 0600), password and token auth,
 * tokens that expire, validation, and a catalog whose image endpoint (region `local`) is this
 * server. Enough for keystoneauth (openstack, glance, openstacksdk) and for our engine.
 */
import { randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const LOCAL_REGION = 'local';

export interface LocalCredentials {
  username: string;
  password: string;
  userId: string;
  projectName: string;
  projectId: string;
  domainId: string;
}

export interface TokenInfo {
  id: string;
  userId: string;
  projectId: string;
  methods: string[];
  issuedAt: number;
  expiresAt: number;
  auditId: string;
}

/** The local user, made on first start and kept in the data folder. */
export function loadOrCreateCredentials(dataDir: string): LocalCredentials {
  const file = join(dataDir, 'credentials.json');
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as LocalCredentials;
  const creds: LocalCredentials = {
    username: 'local',
    password: randomBytes(18).toString('base64url'),
    userId: randomUUID().replaceAll('-', ''),
    projectName: 'local',
    projectId: randomUUID().replaceAll('-', ''),
    domainId: 'default',
  };
  writeFileSync(file, JSON.stringify(creds, null, 2), { mode: 0o600 });
  return creds;
}

function keystoneTime(ms: number): string {
  return new Date(ms).toISOString().replace('Z', '000Z');
}

type Identity = { methods?: unknown; password?: { user?: Record<string, unknown> }; token?: { id?: unknown } };
type Scope = { project?: { id?: unknown; name?: unknown; domain?: unknown } };

export class IdentityService {
  readonly #tokens = new Map<string, TokenInfo>();

  constructor(
    readonly creds: LocalCredentials,
    /** Token lifetime in seconds. */
    readonly ttlSeconds = 12 * 3600,
  ) {}

  /** A valid, unexpired token, or undefined. */
  validate(id: string | undefined): TokenInfo | undefined {
    if (id === undefined || id === '') return undefined;
    const t = this.#tokens.get(id);
    if (t === undefined) return undefined;
    if (t.expiresAt <= Date.now()) {
      this.#tokens.delete(id);
      return undefined;
    }
    return t;
  }

  revoke(id: string): boolean {
    return this.#tokens.delete(id);
  }

  /**
   * POST /v3/auth/tokens: password (user by name and domain, or by id) or token; scope: our
   * project (by id, or by name and domain), or none (the default project). Undefined: 401.
   */
  authenticate(body: unknown): TokenInfo | undefined {
    const auth = (body as { auth?: Record<string, unknown> } | null)?.auth;
    const who = this.#identify(auth?.identity as Identity | undefined);
    if (who === undefined || !this.#inScope(auth?.scope as Scope | undefined)) return undefined;
    const parent = who === true ? undefined : who;
    const now = Date.now();
    const t: TokenInfo = {
      id: randomBytes(32).toString('hex'),
      userId: this.creds.userId,
      projectId: this.creds.projectId,
      methods: parent ? ['token', ...parent.methods.filter((m) => m !== 'token')] : ['password'],
      issuedAt: now,
      // A token made from a token never outlives it (as Keystone).
      expiresAt: parent ? parent.expiresAt : now + this.ttlSeconds * 1000,
      auditId: randomBytes(16).toString('base64url'),
    };
    this.#tokens.set(t.id, t);
    return t;
  }

  /** The password method (the user by id, or by name in its domain) or the token method (its parent token). */
  #identify(identity: Identity | undefined): true | TokenInfo | undefined {
    const methods = Array.isArray(identity?.methods) ? (identity.methods as unknown[]) : [];
    if (methods.includes('password')) {
      const u = identity?.password?.user ?? {};
      const byId = u.id === this.creds.userId;
      const byName = u.name === this.creds.username && this.#ourDomain(u.domain);
      return (byId || byName) && typeof u.password === 'string' && this.#samePassword(u.password) ? true : undefined;
    }
    if (methods.includes('token'))
      return this.validate(typeof identity?.token?.id === 'string' ? identity.token.id : undefined);
    return undefined;
  }

  /** No scope (the default project), or our project by id, or by name in our domain. */
  #inScope(scope: Scope | undefined): boolean {
    const p = scope?.project;
    if (p === undefined) return true;
    return p.id === this.creds.projectId || (p.name === this.creds.projectName && this.#ourDomain(p.domain));
  }

  #ourDomain(d: unknown): boolean {
    const domain = (d ?? {}) as { id?: unknown; name?: unknown };
    return (
      domain.id === this.creds.domainId || (typeof domain.name === 'string' && domain.name.toLowerCase() === 'default')
    );
  }

  #samePassword(p: string): boolean {
    const a = Buffer.from(p);
    const b = Buffer.from(this.creds.password);
    return a.length === b.length && timingSafeEqual(a, b);
  }

  /** The token document Keystone answers with, its catalog pointing at `baseUrl`. */
  tokenBody(t: TokenInfo, baseUrl: string): Record<string, unknown> {
    const domain = { id: this.creds.domainId, name: 'Default' };
    const endpoints = (url: string, service: string): Record<string, unknown>[] =>
      ['public', 'internal', 'admin'].map((iface) => ({
        id: `${service}-${iface}`,
        interface: iface,
        region_id: LOCAL_REGION,
        region: LOCAL_REGION,
        url,
      }));
    return {
      token: {
        methods: t.methods,
        user: { id: this.creds.userId, name: this.creds.username, domain, password_expires_at: null },
        audit_ids: [t.auditId],
        expires_at: keystoneTime(t.expiresAt),
        issued_at: keystoneTime(t.issuedAt),
        project: { id: this.creds.projectId, name: this.creds.projectName, domain },
        is_domain: false,
        roles: [
          { id: 'admin', name: 'admin' },
          { id: 'member', name: 'member' },
          { id: 'reader', name: 'reader' },
        ],
        catalog: [
          { type: 'image', name: 'glance', id: 'image', endpoints: endpoints(baseUrl, 'image') },
          {
            type: 'identity',
            name: 'keystone',
            id: 'identity',
            endpoints: endpoints(`${baseUrl}/identity/v3`, 'identity'),
          },
        ],
      },
    };
  }
}
