/**
 * A minimal Keystone v3 for the embedded server, made at first start (passwords in
 * `credentials.json`, mode 0600): two users in the project `local` — `local`, a member (what
 * staging and the default clouds.yaml entry use), and `local-admin`, an admin — and a second
 * project, `local-other`, where `local` is a member too, so that sharing and ownership answer
 * as they do on a real cloud. Password and token auth, scoping and rescoping, tokens that
 * expire, validation, and a catalog whose image endpoint (region `local`) is this server.
 * Enough for keystoneauth (openstack, glance, openstacksdk) and for our engine.
 */
import { randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const LOCAL_REGION = 'local';

export interface LocalCredentials {
  /** The member user `local`, in its project `local`. */
  username: string;
  password: string;
  userId: string;
  projectName: string;
  projectId: string;
  domainId: string;
  /** `local-admin`: the admin role on the project `local`. */
  admin: { username: string; password: string; userId: string };
  /** A second project, `local-other`, where `local` is a member too. */
  second: { projectName: string; projectId: string };
}

export interface TokenInfo {
  id: string;
  userId: string;
  projectId: string;
  roles: string[];
  methods: string[];
  issuedAt: number;
  expiresAt: number;
  auditId: string;
}

/** Who calls the image API: the token's project, and whether it holds the admin role. */
export interface Caller {
  projectId: string;
  userId: string;
  isAdmin: boolean;
}

export function callerOf(t: TokenInfo): Caller {
  return { projectId: t.projectId, userId: t.userId, isAdmin: t.roles.includes('admin') };
}

const newId = (): string => randomUUID().replaceAll('-', '');

/**
 * The local users, made on first start and kept in the data folder. A folder from before the
 * admin and the second project existed keeps its user (now the member) and gains the others.
 */
export function loadOrCreateCredentials(dataDir: string): LocalCredentials {
  const file = join(dataDir, 'credentials.json');
  const old = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Partial<LocalCredentials>) : {};
  const creds: LocalCredentials = {
    username: old.username ?? 'local',
    password: old.password ?? randomBytes(18).toString('base64url'),
    userId: old.userId ?? newId(),
    projectName: old.projectName ?? 'local',
    projectId: old.projectId ?? newId(),
    domainId: old.domainId ?? 'default',
    admin: old.admin ?? { username: 'local-admin', password: randomBytes(18).toString('base64url'), userId: newId() },
    second: old.second ?? { projectName: 'local-other', projectId: newId() },
  };
  if (old.admin === undefined || old.second === undefined) {
    // A temp file renamed over the old one: a crash mid-write never loses the member's password.
    const temp = `${file}.tmp-${process.pid}`;
    writeFileSync(temp, JSON.stringify(creds, null, 2), { mode: 0o600 });
    renameSync(temp, file);
  }
  return creds;
}

function keystoneTime(ms: number): string {
  return new Date(ms).toISOString().replace('Z', '000Z');
}

interface User {
  id: string;
  name: string;
  password: string;
  /** Project id -> roles there (admin implies member implies reader, as Keystone's bootstrap). */
  roles: Map<string, string[]>;
  defaultProject: string;
}

type Identity = { methods?: unknown; password?: { user?: Record<string, unknown> }; token?: { id?: unknown } };
type Scope = { project?: { id?: unknown; name?: unknown; domain?: unknown } };

export class IdentityService {
  readonly #tokens = new Map<string, TokenInfo>();
  readonly #users: User[];
  readonly #projects: Map<string, string>;

  constructor(
    readonly creds: LocalCredentials,
    /** Token lifetime in seconds. */
    readonly ttlSeconds = 12 * 3600,
  ) {
    const member = ['member', 'reader'];
    this.#users = [
      {
        id: creds.userId,
        name: creds.username,
        password: creds.password,
        roles: new Map([
          [creds.projectId, member],
          [creds.second.projectId, member],
        ]),
        defaultProject: creds.projectId,
      },
      {
        id: creds.admin.userId,
        name: creds.admin.username,
        password: creds.admin.password,
        roles: new Map([[creds.projectId, ['admin', ...member]]]),
        defaultProject: creds.projectId,
      },
    ];
    this.#projects = new Map([
      [creds.projectId, creds.projectName],
      [creds.second.projectId, creds.second.projectName],
    ]);
  }

  /** The projects (id and name), for Keystone's project lookups. */
  projects(): { id: string; name: string }[] {
    return [...this.#projects].map(([id, name]) => ({ id, name }));
  }

  /** The users (id and name), for Keystone's user lookups. */
  users(): { id: string; name: string }[] {
    return this.#users.map((u) => ({ id: u.id, name: u.name }));
  }

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
   * POST /v3/auth/tokens: password (a user by name and domain, or by id) or token; scope: a
   * project of the user (by id, or by name and domain), or none (the user's default project).
   * Undefined: 401.
   */
  authenticate(body: unknown): TokenInfo | undefined {
    const auth = (body as { auth?: Record<string, unknown> } | null)?.auth;
    const who = this.#identify(auth?.identity as Identity | undefined);
    if (who === undefined) return undefined;
    const parent = 'auditId' in who ? who : undefined;
    const user = parent ? this.#users.find((u) => u.id === parent.userId) : (who as User);
    if (user === undefined) return undefined;
    const projectId = this.#scope(auth?.scope as Scope | undefined) ?? parent?.projectId ?? user.defaultProject;
    const roles = user.roles.get(projectId);
    if (roles === undefined) return undefined;
    const now = Date.now();
    const t: TokenInfo = {
      id: randomBytes(32).toString('hex'),
      userId: user.id,
      projectId,
      roles,
      methods: parent ? ['token', ...parent.methods.filter((m) => m !== 'token')] : ['password'],
      issuedAt: now,
      // A token made from a token never outlives it (as Keystone).
      expiresAt: parent ? parent.expiresAt : now + this.ttlSeconds * 1000,
      auditId: randomBytes(16).toString('base64url'),
    };
    this.#tokens.set(t.id, t);
    return t;
  }

  /** The password method (a user by id, or by name in its domain) or the token method (its parent token). */
  #identify(identity: Identity | undefined): User | TokenInfo | undefined {
    const methods = Array.isArray(identity?.methods) ? (identity.methods as unknown[]) : [];
    if (methods.includes('password')) {
      const u = identity?.password?.user ?? {};
      const user = this.#users.find((x) => u.id === x.id || (u.name === x.name && this.#ourDomain(u.domain)));
      return user !== undefined && typeof u.password === 'string' && samePassword(u.password, user.password)
        ? user
        : undefined;
    }
    if (methods.includes('token'))
      return this.validate(typeof identity?.token?.id === 'string' ? identity.token.id : undefined);
    return undefined;
  }

  /** The project a scope names (by id, or by name in our domain); undefined when none is named. */
  #scope(scope: Scope | undefined): string | undefined {
    const p = scope?.project;
    if (p === undefined) return undefined;
    if (p === null || typeof p !== 'object') return 'unknown';
    for (const [id, name] of this.#projects)
      if (p.id === id || (p.name === name && this.#ourDomain(p.domain))) return id;
    return 'unknown';
  }

  #ourDomain(d: unknown): boolean {
    const domain = (d ?? {}) as { id?: unknown; name?: unknown };
    return (
      domain.id === this.creds.domainId || (typeof domain.name === 'string' && domain.name.toLowerCase() === 'default')
    );
  }

  /** The token document Keystone answers with, its catalog pointing at `baseUrl`. */
  tokenBody(t: TokenInfo, baseUrl: string): Record<string, unknown> {
    const domain = { id: this.creds.domainId, name: 'Default' };
    const user = this.#users.find((u) => u.id === t.userId);
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
        user: { id: t.userId, name: user?.name ?? '', domain, password_expires_at: null },
        audit_ids: [t.auditId],
        expires_at: keystoneTime(t.expiresAt),
        issued_at: keystoneTime(t.issuedAt),
        project: { id: t.projectId, name: this.#projects.get(t.projectId) ?? '', domain },
        is_domain: false,
        roles: t.roles.map((r) => ({ id: r, name: r })),
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

function samePassword(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
