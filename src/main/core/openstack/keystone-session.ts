/**
 * A Keystone v3 session for one cloud: authenticates (password, application credential or a
 * pre-issued token), keeps the token and the catalog, and hands every caller a token with at
 * least the renewal margin of life left, renewing ahead of expiry (keystoneauth's margin is
 * 120 s; for short-lived tokens, at most half their lifetime). Concurrent callers share one
 * renewal (single flight). A session on a pre-issued token cannot renew: when it runs out the
 * caller gets auth.expired, asking the user to log in again.
 */
import { EngineError } from '../io/errors';
import type { CloudEntry } from './clouds-config';
import { parseCatalog, type CatalogService } from './catalog';
import type { HttpClient, HttpResponse } from './http-client';
import { authBody, authMethodOf, configuredScope, type AuthMethod, type ProjectScope } from './keystone-auth-body';

export interface AuthState {
  token: string;
  issuedAt: number;
  expiresAt: number;
  projectId: string;
  projectName: string;
  userId: string;
  /** The token's role names in its project (admin decides, e.g., whether copy-image is allowed by default policy). */
  roles: string[];
  catalog: CatalogService[];
}

export interface ProjectRef {
  id: string;
  name: string;
  domainId: string;
  enabled: boolean;
}

export const DEFAULT_RENEW_MARGIN_MS = 120_000;

/** Keystone's v3 root from a configured auth_url, which may or may not name the version. */
export function identityRoot(authUrl: string): string {
  const u = authUrl.replace(/\/+$/, '');
  return /\/v3(\.\d+)?$/.test(u) ? u : `${u}/v3`;
}

function keystoneMessage(res: HttpResponse): string {
  try {
    const j = JSON.parse(res.body.toString('utf8')) as { error?: { message?: string } };
    if (typeof j.error?.message === 'string') return j.error.message;
  } catch {
    /* not JSON */
  }
  return res.body.toString('utf8').slice(0, 200);
}

export interface SessionOptions {
  renewMarginMs?: number;
  now?: () => number;
}

export class KeystoneSession {
  readonly method: AuthMethod;
  #scope: ProjectScope | undefined;
  #state: AuthState | undefined;
  #inflight: Promise<AuthState> | undefined;
  readonly #renewMarginMs: number;
  readonly #now: () => number;

  constructor(
    readonly cloud: CloudEntry,
    readonly http: HttpClient,
    options: SessionOptions = {},
  ) {
    this.method = authMethodOf(cloud);
    this.#scope = configuredScope(cloud.auth);
    this.#renewMarginMs = options.renewMarginMs ?? DEFAULT_RENEW_MARGIN_MS;
    this.#now = options.now ?? Date.now;
  }

  get identityUrl(): string {
    return identityRoot(this.cloud.auth.authUrl);
  }

  /** Whether this session can get a fresh token by itself (not when all it has is a token). */
  get canRenew(): boolean {
    return this.method !== 'token';
  }

  #fresh(s: AuthState): boolean {
    const left = s.expiresAt - this.#now();
    if (!this.canRenew) return left > 0;
    const margin = Math.min(this.#renewMarginMs, (s.expiresAt - s.issuedAt) / 2);
    return left > margin;
  }

  /** A valid auth state (token + catalog), renewed when it would expire within the margin. */
  async auth(): Promise<AuthState> {
    const s = this.#state;
    if (s !== undefined && this.#fresh(s)) return s;
    if (s !== undefined && !this.canRenew) throw this.#expired();
    this.#inflight ??= this.#authenticate().finally(() => {
      this.#inflight = undefined;
    });
    return this.#inflight;
  }

  /** Forget the token (after a 401), so that the next auth() authenticates again. */
  invalidate(token?: string): void {
    if (token === undefined || this.#state?.token === token) this.#state = undefined;
  }

  #expired(): EngineError {
    return new EngineError(
      'auth.expired',
      `The token of cloud "${this.cloud.name}" has expired or was revoked, and the entry has no other credential to get a new one.`,
      {
        hint: 'Log in again: issue a new token (openstack token issue), or give the cloud a password or an application credential.',
      },
    );
  }

  /** Projects the user can scope to (GET /v3/auth/projects). */
  async listProjects(): Promise<ProjectRef[]> {
    const { token } = await this.auth();
    const res = await this.http.send({
      method: 'GET',
      url: `${this.identityUrl}/auth/projects`,
      headers: { 'x-auth-token': token, accept: 'application/json' },
    });
    if (res.status !== 200) {
      throw new EngineError(
        'auth.invalid_response',
        `Keystone did not list the projects: HTTP ${res.status}: ${keystoneMessage(res)}`,
        {
          status: res.status,
          requestId: res.headers['x-openstack-request-id'],
          hint: 'Try again; if it persists, the cloud operator can look the request id up.',
        },
      );
    }
    const body = JSON.parse(res.body.toString('utf8')) as {
      projects?: { id: string; name: string; domain_id: string; enabled?: boolean }[];
    };
    return (body.projects ?? []).map((p) => ({
      id: p.id,
      name: p.name,
      domainId: p.domain_id,
      enabled: p.enabled !== false,
    }));
  }

  /** Scope the session to another project of the same user, without asking for the password again. */
  async switchProject(projectId: string): Promise<AuthState> {
    if (this.method === 'application_credential') {
      throw new EngineError(
        'auth.cannot_switch_project',
        `Cloud "${this.cloud.name}" signs in with an application credential, which is bound to one project.`,
        {
          hint: 'Create an application credential in the other project, or use a password entry.',
        },
      );
    }
    const current = await this.auth();
    // A token rescope needs only the current token: the password is not needed again.
    const res = await this.http.send({
      method: 'POST',
      url: `${this.identityUrl}/auth/tokens`,
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({
        auth: { identity: { methods: ['token'], token: { id: current.token } }, scope: { project: { id: projectId } } },
      }),
    });
    if (res.status === 401 || res.status === 403 || res.status === 404) {
      // Keystone answers 401 to a rescope onto a project where the user has no role.
      throw new EngineError(
        'auth.forbidden',
        `Keystone would not scope cloud "${this.cloud.name}" to project ${projectId}: ${keystoneMessage(res)}`,
        {
          status: res.status,
          requestId: res.headers['x-openstack-request-id'],
          hint: 'You need a role on that project; the project list shows the ones you can use.',
        },
      );
    }
    const state = this.#parse(res, 'switch to project ' + projectId);
    // Renewals (password) must ask for the new project from now on.
    this.#scope = { id: projectId };
    this.#state = state;
    return state;
  }

  async #authenticate(): Promise<AuthState> {
    const res = await this.http.send({
      method: 'POST',
      url: `${this.identityUrl}/auth/tokens`,
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(authBody(this.cloud, this.method, this.#scope)),
    });
    const state = this.#parse(res, 'sign in');
    this.#state = state;
    return state;
  }

  /** Keystone's refusals, as coded errors: the credentials, the scope, or an answer that is no token. */
  #checkRefusal(res: HttpResponse, what: string): string {
    const requestId = res.headers['x-openstack-request-id'];
    if ((res.status === 401 || res.status === 404) && this.method === 'token') throw this.#expired();
    if (res.status === 401) {
      const hint =
        this.method === 'application_credential'
          ? 'Check application_credential_id/name and secret; the credential may have expired or been deleted.'
          : 'Check the user name, password, domain and project in clouds.yaml.';
      throw new EngineError(
        'auth.failed',
        `Keystone refused the credentials of cloud "${this.cloud.name}": ${keystoneMessage(res)}`,
        { status: 401, requestId, hint },
      );
    }
    if (res.status === 403 || res.status === 404) {
      throw new EngineError(
        'auth.forbidden',
        `Keystone would not ${what} for cloud "${this.cloud.name}": ${keystoneMessage(res)}`,
        {
          status: res.status,
          requestId,
          hint: 'Check project_name/project_id and project_domain_*: the user needs a role on that project.',
        },
      );
    }
    const token = res.headers['x-subject-token'];
    if (res.status !== 201 || token === undefined) {
      throw new EngineError(
        'auth.invalid_response',
        `Keystone at ${this.identityUrl} answered HTTP ${res.status} to a token request.`,
        {
          status: res.status,
          requestId,
          hint: 'Check that auth_url points at Keystone v3 (it usually ends in /v3 or :5000).',
        },
      );
    }
    return token;
  }

  #parse(res: HttpResponse, what: string): AuthState {
    const token = this.#checkRefusal(res, what);
    let body: {
      token?: {
        issued_at?: string;
        expires_at?: string;
        project?: { id?: string; name?: string };
        user?: { id?: string };
        roles?: { name?: string }[];
        catalog?: unknown;
      };
    };
    try {
      body = JSON.parse(res.body.toString('utf8')) as typeof body;
    } catch {
      throw new EngineError(
        'auth.invalid_response',
        `Keystone at ${this.identityUrl} sent a token without a JSON body.`,
        { hint: 'Check that auth_url points at Keystone v3.' },
      );
    }
    const now = this.#now();
    const issuedAt = Date.parse(body.token?.issued_at ?? '');
    const expiresAt = Date.parse(body.token?.expires_at ?? '');
    return {
      token,
      issuedAt: Number.isNaN(issuedAt) ? now : issuedAt,
      expiresAt: Number.isNaN(expiresAt) ? now + 3600_000 : expiresAt,
      projectId: body.token?.project?.id ?? '',
      projectName: body.token?.project?.name ?? '',
      userId: body.token?.user?.id ?? '',
      roles: (body.token?.roles ?? []).map((r) => r.name ?? '').filter(Boolean),
      catalog: parseCatalog(body.token?.catalog),
    };
  }
}
