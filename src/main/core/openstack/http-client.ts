/**
 * The one way the engine talks HTTP: undici with separate connect, header and body timeouts,
 * and every network failure turned into a coded EngineError (net.unreachable, net.timeout,
 * net.tls) that names the URL.
 */
import { Agent, request, type Dispatcher } from 'undici';
import { EngineError } from '../errors';

export interface HttpTimeouts {
  /** TCP + TLS connect. */
  connectMs: number;
  /** Until the response headers arrive. */
  headersMs: number;
  /** Between two body chunks (long uploads stream for hours; this is an idle timeout). */
  bodyMs: number;
}

export const DEFAULT_TIMEOUTS: HttpTimeouts = { connectMs: 10_000, headersMs: 60_000, bodyMs: 300_000 };

export interface HttpResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

export interface HttpRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'HEAD';
  url: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

const TLS_CODES =
  /^(ERR_TLS_|ERR_SSL_|CERT_|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_(GET|VERIFY)_|ERR_OSSL_)/;
const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
]);
const TIMEOUT_CODES = new Set([
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'ETIMEDOUT',
]);

function errorCode(e: unknown): string | undefined {
  // undici wraps the socket error: the useful code may be on the error or on its cause.
  let cur: unknown = e;
  for (let depth = 0; depth < 4 && cur !== null && typeof cur === 'object'; depth++) {
    const code = (cur as { code?: unknown }).code;
    if (typeof code === 'string' && code !== 'UND_ERR' && !code.startsWith('UND_ERR_REQ')) return code;
    cur = (cur as { cause?: unknown }).cause;
  }
  return undefined;
}

export function networkError(e: unknown, url: string): EngineError {
  const code = errorCode(e) ?? '';
  const origin = (() => {
    try {
      return new URL(url).origin;
    } catch {
      return url;
    }
  })();
  if (TLS_CODES.test(code)) {
    return new EngineError(
      'net.tls',
      `TLS to ${origin} failed (${code}).`,
      {
        hint: 'If the cloud uses a private CA, set "cacert" in clouds.yaml to its bundle; "verify: false" only on a trusted network.',
      },
      { cause: e },
    );
  }
  if (TIMEOUT_CODES.has(code)) {
    return new EngineError(
      'net.timeout',
      `${origin} did not answer in time (${code}).`,
      {
        hint: 'Check the network path to the cloud (VPN, proxy, firewall) and try again.',
      },
      { cause: e },
    );
  }
  if (UNREACHABLE_CODES.has(code)) {
    return new EngineError(
      'net.unreachable',
      `Cannot reach ${origin} (${code}).`,
      {
        hint: 'Check the URL, that the service is up, and your network connection.',
      },
      { cause: e },
    );
  }
  return new EngineError(
    'net.unreachable',
    `Request to ${origin} failed: ${(e as Error).message ?? String(e)}`,
    {
      hint: 'Check the URL and your network connection.',
    },
    { cause: e },
  );
}

export class HttpClient {
  readonly #agent: Agent;

  constructor(timeouts: HttpTimeouts = DEFAULT_TIMEOUTS) {
    this.#agent = new Agent({
      connect: { timeout: timeouts.connectMs },
      headersTimeout: timeouts.headersMs,
      bodyTimeout: timeouts.bodyMs,
    });
  }

  get dispatcher(): Dispatcher {
    return this.#agent;
  }

  /** A request whose body is read whole (API calls, never image data). */
  async send(req: HttpRequest): Promise<HttpResponse> {
    let res: Dispatcher.ResponseData;
    try {
      res = await request(req.url, {
        method: req.method,
        headers: req.headers,
        body: req.body,
        dispatcher: this.#agent,
      });
    } catch (e) {
      throw networkError(e, req.url);
    }
    let body: Buffer;
    try {
      body = Buffer.from(await res.body.arrayBuffer());
    } catch (e) {
      throw networkError(e, req.url);
    }
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(res.headers)) {
      if (v !== undefined) headers[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
    }
    return { status: res.statusCode, headers, body };
  }

  async close(): Promise<void> {
    await this.#agent.close();
  }
}
