/**
 * The one way the engine talks HTTP: undici with separate connect, header and body timeouts,
 * TLS settings per cloud (a CA bundle; verification off only when asked), request bodies that
 * stream from a Readable, response bodies read whole or streamed, and every network failure
 * turned into a coded EngineError (net.unreachable, net.timeout, net.tls) that names the URL.
 */
import { readFileSync } from 'node:fs';
import type { Readable } from 'node:stream';
import type { Agent, Dispatcher } from 'undici';
import { UndiciAgent, undiciRequest } from './undici-core';
import { EngineError } from '../io/errors';
import { sendWatchdog } from './send-watchdog';

export interface HttpTimeouts {
  /** TCP + TLS connect. */
  connectMs: number;
  /** Until the response headers arrive. */
  headersMs: number;
  /** Between two body chunks (long uploads stream for hours: this is an idle timeout). */
  bodyMs: number;
}

export const DEFAULT_TIMEOUTS: HttpTimeouts = { connectMs: 10_000, headersMs: 60_000, bodyMs: 300_000 };

export interface TlsOptions {
  /** Path of a PEM bundle of CA certificates to trust (clouds.yaml `cacert`). */
  cacert?: string;
  /** false turns certificate verification off (clouds.yaml `verify: false` / `insecure: true`). */
  verify?: boolean;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

export interface StreamResponse {
  status: number;
  headers: Record<string, string>;
  body: Readable;
}

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'HEAD' | 'OPTIONS';

export interface HttpRequest {
  method: Method;
  url: string;
  headers?: Record<string, string>;
  /**
   * A string or Buffer can be sent again (after a 401); a stream cannot. A stream is written
   * chunk by chunk, the next asked for once the socket took the last (see io/hashed-read.ts).
   */
  body?: string | Buffer | AsyncIterable<Uint8Array>;
  signal?: AbortSignal;
}

const TLS_CODES =
  /^(ERR_TLS_|ERR_SSL_|CERT_|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_(GET|VERIFY)_|ERR_OSSL_|HOSTNAME_MISMATCH)/;
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

function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return url;
  }
}

export function networkError(e: unknown, url: string): EngineError {
  if (e instanceof EngineError) return e;
  const code = errorCode(e) ?? '';
  const origin = originOf(url);
  if (TLS_CODES.test(code)) {
    return new EngineError(
      'net.tls',
      `TLS to ${origin} failed: ${describeTlsCode(code)} (${code}).`,
      {
        hint: 'If the cloud uses a private CA, set "cacert" in clouds.yaml to its PEM bundle. Turn verification off ("verify: false") only on a network you trust.',
      },
      { cause: e },
    );
  }
  if (TIMEOUT_CODES.has(code)) {
    return new EngineError(
      'net.timeout',
      `${origin} did not answer in time (${code}).`,
      { hint: 'Check the network path to the cloud (VPN, proxy, firewall) and try again.' },
      { cause: e },
    );
  }
  if (UNREACHABLE_CODES.has(code)) {
    return new EngineError(
      'net.unreachable',
      `Cannot reach ${origin} (${code}).`,
      { hint: 'Check the URL, that the service is up, and your network connection.' },
      { cause: e },
    );
  }
  const message = e instanceof Error ? e.message : String(e);
  return new EngineError(
    'net.unreachable',
    `Request to ${origin} failed: ${message}`,
    { hint: 'Check the URL and your network connection.' },
    { cause: e },
  );
}

function describeTlsCode(code: string): string {
  if (code === 'DEPTH_ZERO_SELF_SIGNED_CERT' || code === 'SELF_SIGNED_CERT_IN_CHAIN')
    return 'the certificate is self-signed';
  if (code.startsWith('UNABLE_TO_GET_ISSUER') || code === 'UNABLE_TO_VERIFY_LEAF_SIGNATURE')
    return 'the certificate was issued by a CA this machine does not trust';
  if (code === 'CERT_HAS_EXPIRED') return 'the certificate has expired';
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID' || code === 'HOSTNAME_MISMATCH')
    return 'the certificate does not name this host';
  return 'the certificate could not be verified';
}

function flattenHeaders(raw: Record<string, string | string[] | undefined>): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw)) {
    if (v !== undefined) headers[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  }
  return headers;
}

/** A body streamed from an iterable (a Readable is one), as opposed to one held whole. */
function isStreamed(body: HttpRequest['body']): body is AsyncIterable<Uint8Array> {
  return body !== undefined && typeof body !== 'string' && !Buffer.isBuffer(body);
}

/**
 * The same body, once its first chunk exists (or it ended, failed, or the request was aborted):
 * that chunk is pulled now and given first. Nothing else is read ahead.
 */
export async function primed(
  body: AsyncIterable<Uint8Array>,
  signal?: AbortSignal,
): Promise<AsyncIterable<Uint8Array>> {
  const it = body[Symbol.asyncIterator]();
  let first: IteratorResult<Uint8Array> | Error;
  let onAbort: (() => void) | undefined;
  try {
    first = await Promise.race([
      it.next(),
      new Promise<never>((_, reject) => {
        onAbort = () => reject(signal?.reason as Error);
        if (signal?.aborted === true) onAbort();
        signal?.addEventListener('abort', onAbort);
      }),
    ]);
  } catch (e) {
    first = e as Error; // given to the HTTP client as the body's failure, where it is reported
  } finally {
    if (onAbort !== undefined) signal?.removeEventListener('abort', onAbort);
  }
  async function* rest(): AsyncGenerator<Uint8Array> {
    try {
      if (first instanceof Error) throw first;
      if (first.done === true) return;
      yield first.value;
      for (let r = await it.next(); r.done !== true; r = await it.next()) yield r.value;
    } finally {
      await it.return?.();
    }
  }
  return rest();
}

export class HttpClient {
  readonly #agent: Agent;
  readonly #sendIdleMs: number;
  /** True when certificate verification is off: callers report it to the user. */
  readonly insecure: boolean;

  constructor(timeouts: HttpTimeouts = DEFAULT_TIMEOUTS, tls: TlsOptions = {}) {
    this.insecure = tls.verify === false;
    this.#sendIdleMs = timeouts.bodyMs;
    let ca: string | undefined;
    if (tls.cacert !== undefined && !this.insecure) {
      try {
        ca = readFileSync(tls.cacert, 'utf8');
      } catch (e) {
        throw new EngineError('config.invalid', `Cannot read the CA bundle ${tls.cacert}: ${(e as Error).message}`, {
          hint: 'Fix "cacert" in clouds.yaml: it must be the path of a PEM file.',
        });
      }
    }
    this.#agent = new UndiciAgent({
      connect: { timeout: timeouts.connectMs, ...(ca !== undefined ? { ca } : {}), rejectUnauthorized: !this.insecure },
      headersTimeout: timeouts.headersMs,
      bodyTimeout: timeouts.bodyMs,
    });
  }

  async #request(req: HttpRequest): Promise<Dispatcher.ResponseData> {
    // undici writes a streamed body's headers with its first chunk: a request handed over before
    // that chunk exists (a throttled upload waiting for its tokens) holds a keep-alive socket it
    // has not written to, which the server may close as idle just as the first chunk goes out
    // ("other side closed"). The request is handed over once its first chunk is ready.
    const streamed = isStreamed(req.body) ? await primed(req.body, req.signal) : undefined;
    // A streamed body (image data) is watched while it is sent: see send-watchdog.ts.
    const watch = streamed !== undefined ? sendWatchdog(streamed, this.#sendIdleMs, req.signal) : undefined;
    try {
      return await undiciRequest(this.#agent, req.url, {
        method: req.method,
        headers: req.headers,
        // undici writes an async iterable as such (writeIterable); its types name Readable only.
        body: (watch?.body ?? req.body) as string | Buffer | Readable | undefined,
        signal: watch?.signal ?? req.signal,
      });
    } catch (e) {
      if (watch?.stalled === true && req.signal?.aborted !== true)
        throw new EngineError(
          'net.timeout',
          `Sending to ${new URL(req.url).host} stalled: no byte was taken for ${Math.round(this.#sendIdleMs / 1000)} s.`,
          { hint: 'The server or the link stopped taking data; the upload is sent again.' },
        );
      if (req.signal?.aborted === true) throw e;
      throw networkError(e, req.url);
    } finally {
      watch?.stop();
    }
  }

  /** A request whose response body is read whole (API calls, never image data). */
  async send(req: HttpRequest): Promise<HttpResponse> {
    const res = await this.#request(req);
    let body: Buffer;
    try {
      body = Buffer.from(await res.body.arrayBuffer());
    } catch (e) {
      throw networkError(e, req.url);
    }
    return { status: res.statusCode, headers: flattenHeaders(res.headers), body };
  }

  /** A request whose response body is handed over as a stream (downloads). The caller consumes or destroys it. */
  async stream(req: HttpRequest): Promise<StreamResponse> {
    const res = await this.#request(req);
    return { status: res.statusCode, headers: flattenHeaders(res.headers), body: res.body };
  }

  async close(): Promise<void> {
    await this.#agent.close();
  }
}
