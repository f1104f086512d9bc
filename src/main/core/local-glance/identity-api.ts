/**
 * The Keystone v3 routes of the embedded server, under /identity: discovery, tokens (issue,
 * validate, revoke), the catalog and regions, and the project and user lookups clients make
 * before sharing an image (`openstack image add project`): a project or user the token may
 * read, or Keystone's 403 for one it may not (the client then uses the id it was given).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpError, readJson, send } from './http-kit';
import { LOCAL_REGION, type IdentityService, type TokenInfo } from './identity';

const keystoneError = (status: number, message: string): HttpError => new HttpError(status, message, {}, 'keystone');
const unauthenticated = (): HttpError => keystoneError(401, 'The request you have made requires authentication.');
const forbidden = (rule: string): HttpError =>
  keystoneError(403, `You are not authorized to perform the requested action: identity:${rule}.`);

export class IdentityApi {
  constructor(
    private readonly identity: IdentityService,
    /** The server's base URL (the catalog's image endpoint); Keystone is at `${base}/identity/v3`. */
    private readonly base: () => string,
  ) {}

  get #authUrl(): string {
    return `${this.base()}/identity/v3`;
  }

  #caller(req: IncomingMessage): TokenInfo {
    const t = this.identity.validate(req.headers['x-auth-token'] as string | undefined);
    if (t === undefined) throw unauthenticated();
    return t;
  }

  /** `path` is the whole path (/identity...), trailing slashes removed. */
  async route(
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    method: string,
    query: URLSearchParams,
  ): Promise<void> {
    const v3 = {
      id: 'v3.14',
      status: 'stable',
      updated: '2020-04-07T00:00:00Z',
      links: [{ rel: 'self', href: `${this.#authUrl}/` }],
      'media-types': [{ base: 'application/json', type: 'application/vnd.openstack.identity-v3+json' }],
    };
    if (path === '/identity') return send(res, 300, { versions: { values: [v3] } });
    if (path === '/identity/v3') return send(res, 200, { version: v3 });
    if (path === '/identity/v3/auth/tokens') return this.#tokens(req, res, method);
    const caller = this.#caller(req);
    if (path === '/identity/v3/auth/catalog')
      return send(res, 200, {
        catalog: (this.identity.tokenBody(caller, this.base()).token as { catalog: unknown }).catalog,
      });
    if (path === '/identity/v3/regions')
      return send(res, 200, {
        regions: [{ id: LOCAL_REGION, description: 'Glance Uploader local server', parent_region_id: null }],
      });
    const [kind, id, more] = path.split('/').slice(3);
    if ((kind === 'projects' || kind === 'users') && more === undefined && method === 'GET')
      return kind === 'projects' ? this.#projects(res, caller, id, query) : this.#users(res, caller, id, query);
    throw keystoneError(404, 'The resource could not be found.');
  }

  async #tokens(req: IncomingMessage, res: ServerResponse, method: string): Promise<void> {
    if (method === 'POST') {
      const t = this.identity.authenticate(await readJson(req, 64 * 1024, 'keystone'));
      if (t === undefined) throw unauthenticated();
      return send(res, 201, this.identity.tokenBody(t, this.base()), { 'x-subject-token': t.id });
    }
    this.#caller(req);
    const subjectId = req.headers['x-subject-token'] as string | undefined;
    const subject = this.identity.validate(subjectId);
    if (method === 'DELETE') {
      if (subjectId === undefined || !this.identity.revoke(subjectId))
        throw keystoneError(404, 'Could not find token.');
      return send(res, 204);
    }
    if (subject === undefined) throw keystoneError(404, 'Could not find token.');
    if (method === 'HEAD') return send(res, 200);
    return send(res, 200, this.identity.tokenBody(subject, this.base()), { 'x-subject-token': subject.id });
  }

  /** GET /v3/projects[/{id}]: an admin reads and lists all; others read their token's project only. */
  #projects(res: ServerResponse, caller: TokenInfo, id: string | undefined, query: URLSearchParams): void {
    const admin = caller.roles.includes('admin');
    const all = this.identity.projects().map((p) => this.#projectDoc(p));
    if (id === undefined) {
      if (!admin) throw forbidden('list_projects');
      const name = query.get('name');
      return send(res, 200, {
        projects: all.filter((p) => name === null || p.name === name),
        links: { self: `${this.#authUrl}/projects`, previous: null, next: null },
      });
    }
    if (!admin && id !== caller.projectId) throw forbidden('get_project');
    const p = all.find((x) => x.id === id);
    if (p === undefined) throw keystoneError(404, `Could not find project: ${id}.`);
    send(res, 200, { project: p });
  }

  #projectDoc(p: { id: string; name: string }): { id: string; name: string } & Record<string, unknown> {
    return {
      id: p.id,
      name: p.name,
      domain_id: this.identity.creds.domainId,
      description: '',
      enabled: true,
      parent_id: this.identity.creds.domainId,
      is_domain: false,
      tags: [],
      options: {},
      links: { self: `${this.#authUrl}/projects/${p.id}` },
    };
  }

  /** GET /v3/users[/{id}]: an admin reads and lists all; others read themselves only. */
  #users(res: ServerResponse, caller: TokenInfo, id: string | undefined, query: URLSearchParams): void {
    const admin = caller.roles.includes('admin');
    const all = this.identity.users().map((u) => ({
      id: u.id,
      name: u.name,
      domain_id: this.identity.creds.domainId,
      enabled: true,
      password_expires_at: null,
      options: {},
      links: { self: `${this.#authUrl}/users/${u.id}` },
    }));
    if (id === undefined) {
      if (!admin) throw forbidden('list_users');
      const name = query.get('name');
      return send(res, 200, {
        users: all.filter((u) => name === null || u.name === name),
        links: { self: `${this.#authUrl}/users`, previous: null, next: null },
      });
    }
    if (!admin && id !== caller.userId) throw forbidden('get_user');
    const u = all.find((x) => x.id === id);
    if (u === undefined) throw keystoneError(404, `Could not find user: ${id}.`);
    send(res, 200, { user: u });
  }
}
