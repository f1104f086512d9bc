/**
 * A Keystone v3 session for one cloud: authenticates, keeps the token and the catalog, and hands
 * every caller a token with at least `renewMarginMs` of life left, renewing ahead of expiry
 * (keystoneauth's margin is 120 s). Concurrent callers share one renewal (single flight).
 */
import { EngineError } from '../errors';
import type { CloudEntry } from './clouds-config';
import { parseCatalog, type CatalogService } from './catalog';
import type { HttpClient, HttpResponse } from './http-client';

export interface AuthState {
  token: string;
  expiresAt: number;
  projectId: string;
  userId: string;
  catalog: CatalogService[];
}

export const DEFAULT_RENEW_MARGIN_MS = 120_000;

/** Keystone's v3 root from a configured auth_url, which may or may not name the version. */
export function identityRoot(authUrl: string): string {
  const u = authUrl.replace(/\/+$/, '');
  return /\/v3(\.\d+)?$/.test(u) ? u : `${u}/v3`;
}

function scopeOf(cloud: CloudEntry): Record<string, unknown> | undefined {
  const a = cloud.auth;
  const domain =
    a.projectDomainId !== undefined
      ? { id: a.projectDomainId }
      : a.projectDomainName !== undefined
        ? { name: a.projectDomainName }
        : { id: 'default' };
  if (a.projectId !== undefined) return { project: { id: a.projectId } };
  if (a.projectName !== undefined) return { project: { name: a.projectName, domain } };
  return undefined;
}

function passwordAuthBody(cloud: CloudEntry): unknown {
  const a = cloud.auth;
  if (a.password === undefined) {
    throw new EngineError('config.invalid', `Cloud "${cloud.name}" has no password.`, {
      hint: 'Add auth.password to the entry, or put it in secure.yaml beside clouds.yaml.',
    });
  }
  if (a.userId === undefined && a.username === undefined) {
    throw new EngineError('config.invalid', `Cloud "${cloud.name}" names no user.`, {
      hint: 'Add auth.username (with user_domain_name) or auth.user_id.',
    });
  }
  const domain =
    a.userDomainId !== undefined
      ? { id: a.userDomainId }
      : a.userDomainName !== undefined
        ? { name: a.userDomainName }
        : { id: 'default' };
  const user =
    a.userId !== undefined
      ? { id: a.userId, password: a.password }
      : { name: a.username, domain, password: a.password };
  const scope = scopeOf(cloud);
  return { auth: { identity: { methods: ['password'], password: { user } }, ...(scope ? { scope } : {}) } };
}

function authBody(cloud: CloudEntry): unknown {
  switch (cloud.authType.replace(/^v3/, '')) {
    case 'password':
      return passwordAuthBody(cloud);
    case 'applicationcredential':
    case 'token':
      throw new EngineError(
        'config.unsupported',
        `Cloud "${cloud.name}" uses auth_type "${cloud.authType}", which is not supported yet (coming next: application credentials and tokens).`,
        {
          hint: 'Use auth_type: password for now.',
        },
      );
    default:
      throw new EngineError(
        'config.unsupported',
        `Cloud "${cloud.name}" uses auth_type "${cloud.authType}", which Glance Uploader does not support.`,
        {
          hint: 'Supported: password, v3password.',
        },
      );
  }
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

export class KeystoneSession {
  #state: AuthState | undefined;
  #inflight: Promise<AuthState> | undefined;

  constructor(
    readonly cloud: CloudEntry,
    private readonly http: HttpClient,
    private readonly renewMarginMs: number = DEFAULT_RENEW_MARGIN_MS,
    private readonly now: () => number = Date.now,
  ) {}

  /** A valid auth state (token + catalog), renewed when it would expire within the margin. */
  async auth(): Promise<AuthState> {
    const s = this.#state;
    if (s !== undefined && s.expiresAt - this.now() > this.renewMarginMs) return s;
    this.#inflight ??= this.#authenticate().finally(() => {
      this.#inflight = undefined;
    });
    return this.#inflight;
  }

  /** Forget the token (after a 401), so the next auth() authenticates again. */
  invalidate(): void {
    this.#state = undefined;
  }

  async #authenticate(): Promise<AuthState> {
    const url = `${identityRoot(this.cloud.auth.authUrl)}/auth/tokens`;
    const res = await this.http.send({
      method: 'POST',
      url,
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(authBody(this.cloud)),
    });
    const requestId = res.headers['x-openstack-request-id'];
    if (res.status === 401) {
      throw new EngineError(
        'auth.failed',
        `Keystone refused the credentials of cloud "${this.cloud.name}": ${keystoneMessage(res)}`,
        {
          status: 401,
          requestId,
          hint: 'Check the user name, password, domain and project in clouds.yaml.',
        },
      );
    }
    if (res.status === 403 || res.status === 404) {
      throw new EngineError(
        'auth.forbidden',
        `Keystone would not scope cloud "${this.cloud.name}" to its project: ${keystoneMessage(res)}`,
        {
          status: res.status,
          requestId,
          hint: 'Check project_name/project_id and project_domain_*; the user needs a role on that project.',
        },
      );
    }
    const token = res.headers['x-subject-token'];
    if (res.status !== 201 || token === undefined) {
      throw new EngineError(
        'auth.invalid_response',
        `Keystone at ${url} answered HTTP ${res.status} to a token request.`,
        {
          status: res.status,
          requestId,
          hint: 'Check that auth_url points at Keystone v3 (it usually ends in /v3 or :5000).',
        },
      );
    }
    let body: { token?: { expires_at?: string; project?: { id?: string }; user?: { id?: string }; catalog?: unknown } };
    try {
      body = JSON.parse(res.body.toString('utf8')) as typeof body;
    } catch {
      throw new EngineError('auth.invalid_response', `Keystone at ${url} sent a token without a JSON body.`, {
        hint: 'Check that auth_url points at Keystone v3.',
      });
    }
    const expiresAt = Date.parse(body.token?.expires_at ?? '');
    const state: AuthState = {
      token,
      expiresAt: Number.isNaN(expiresAt) ? this.now() + 3600_000 : expiresAt,
      projectId: body.token?.project?.id ?? '',
      userId: body.token?.user?.id ?? '',
      catalog: parseCatalog(body.token?.catalog),
    };
    this.#state = state;
    return state;
  }
}
