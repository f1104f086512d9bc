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
    const caller = this.#caller(req);
    const subjectId = req.headers['x-subject-token'] as string | undefined;
    const subject = this.identity.validate(subjectId);
    // Keystone's policy: an admin, or the token's own user (another user's token is not yours to read or revoke).
    if (subject !== undefined && !caller.roles.includes('admin') && subject.userId !== caller.userId)
      throw forbidden(method === 'DELETE' ? 'revoke_token' : 'validate_token');
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
    const docs = this.identity.projects().map((p) => ({
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
    }));
    this.#lookup(res, { kind: 'project', docs, own: caller.projectId, caller, id, query });
  }

  /** GET /v3/users[/{id}]: an admin reads and lists all; others read themselves only. */
  #users(res: ServerResponse, caller: TokenInfo, id: string | undefined, query: URLSearchParams): void {
    const docs = this.identity.users().map((u) => ({
      id: u.id,
      name: u.name,
      domain_id: this.identity.creds.domainId,
      enabled: true,
      password_expires_at: null,
      options: {},
      links: { self: `${this.#authUrl}/users/${u.id}` },
    }));
    this.#lookup(res, { kind: 'user', docs, own: caller.userId, caller, id, query });
  }

  /**
   * Keystone's answer to a read (`id`) or a list (by `name`) of projects or users: an admin may
   * do both; anyone else may read its own (`own`) and gets Keystone's 403 for the rest.
   */
  #lookup(
    res: ServerResponse,
    l: {
      kind: 'project' | 'user';
      docs: ({ id: string; name: string } & Record<string, unknown>)[];
      own: string;
      caller: TokenInfo;
      id: string | undefined;
      query: URLSearchParams;
    },
  ): void {
    const admin = l.caller.roles.includes('admin');
    if (l.id === undefined) {
      if (!admin) throw forbidden(`list_${l.kind}s`);
      const name = l.query.get('name');
      return send(res, 200, {
        [`${l.kind}s`]: l.docs.filter((d) => name === null || d.name === name),
        links: { self: `${this.#authUrl}/${l.kind}s`, previous: null, next: null },
      });
    }
    if (!admin && l.id !== l.own) throw forbidden(`get_${l.kind}`);
    const doc = l.docs.find((d) => d.id === l.id);
    if (doc === undefined) throw keystoneError(404, `Could not find ${l.kind}: ${l.id}.`);
    send(res, 200, { [l.kind]: doc });
  }
}
