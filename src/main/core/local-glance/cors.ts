/**
 * CORS as oslo.middleware applies it in front of Glance (oslo_middleware/cors.py), with
 * Glance's defaults, so a Horizon or a web
 * page in direct mode can talk to the embedded server. Off until origins are allowed. One
 * deliberate difference: an allowed origin `*` never goes out together with credentials (oslo
 * sends both, which browsers reject): `*` is sent without Allow-Credentials.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

export interface CorsOptions {
  allowedOrigins: string[];
  allowCredentials?: boolean;
  maxAge?: number;
  allowMethods?: string[];
  allowHeaders?: string[];
  exposeHeaders?: string[];
}

/**
 * Glance's `set_cors_middleware_defaults`, plus the headers of our resumable uploads and the
 * image size header Horizon's direct upload sends (the doctor found Glance's defaults refuse it).
 */
export const GLANCE_CORS_DEFAULTS = {
  allowMethods: ['GET', 'PUT', 'POST', 'DELETE', 'PATCH'],
  allowHeaders: [
    'Content-MD5',
    'X-Image-Meta-Checksum',
    'X-Storage-Token',
    'Accept-Encoding',
    'X-Auth-Token',
    'X-Identity-Status',
    'X-Roles',
    'X-Service-Catalog',
    'X-User-Id',
    'X-Tenant-Id',
    'X-OpenStack-Request-ID',
    'Content-Range',
    'X-OpenStack-Image-Size',
  ],
  exposeHeaders: [
    'X-Image-Meta-Checksum',
    'X-Auth-Token',
    'X-Subject-Token',
    'X-Service-Token',
    'X-OpenStack-Request-ID',
    'Upload-Offset',
  ],
};

/** Always allowed request headers (CORS "simple" headers, as oslo lists them). */
const SIMPLE = [
  'accept',
  'accept-language',
  'content-type',
  'cache-control',
  'content-language',
  'expires',
  'last-modified',
  'pragma',
];

export class Cors {
  readonly #o: Required<CorsOptions>;

  constructor(o: CorsOptions) {
    this.#o = {
      allowCredentials: true,
      maxAge: 3600,
      allowMethods: GLANCE_CORS_DEFAULTS.allowMethods,
      allowHeaders: GLANCE_CORS_DEFAULTS.allowHeaders,
      exposeHeaders: GLANCE_CORS_DEFAULTS.exposeHeaders,
      ...o,
    };
  }

  #origin(origin: string): string | undefined {
    if (this.#o.allowedOrigins.includes(origin)) return origin;
    if (this.#o.allowedOrigins.includes('*')) return '*';
    return undefined;
  }

  #common(res: ServerResponse, allowed: string): void {
    const vary = res.getHeader('vary');
    res.setHeader('vary', vary ? `${String(vary)},Origin` : 'Origin');
    res.setHeader('access-control-allow-origin', allowed);
    // Never a wildcard together with credentials.
    if (this.#o.allowCredentials && allowed !== '*') res.setHeader('access-control-allow-credentials', 'true');
  }

  /**
   * A preflight (OPTIONS with Origin and Access-Control-Request-Method) is answered here, 200
   * with an empty body; the CORS headers only when origin, method and every requested header
   * are allowed. True when it was one.
   */
  preflight(req: IncomingMessage, res: ServerResponse): boolean {
    const origin = req.headers.origin;
    const method = req.headers['access-control-request-method'];
    if (req.method !== 'OPTIONS' || origin === undefined || typeof method !== 'string') return false;
    const allowed = this.#origin(origin);
    const requested = String(req.headers['access-control-request-headers'] ?? '')
      .split(',')
      .map((h) => h.trim())
      .filter(Boolean);
    const headerOk = (h: string): boolean =>
      SIMPLE.includes(h.toLowerCase()) || this.#o.allowHeaders.some((a) => a.toLowerCase() === h.toLowerCase());
    if (allowed !== undefined && this.#o.allowMethods.includes(method.toUpperCase()) && requested.every(headerOk)) {
      this.#common(res, allowed);
      res.setHeader('access-control-max-age', String(this.#o.maxAge));
      res.setHeader('access-control-allow-methods', method);
      if (requested.length > 0) res.setHeader('access-control-allow-headers', requested.join(','));
    }
    res.writeHead(200, { 'content-length': 0 });
    res.end();
    return true;
  }

  /** Headers of an actual request from an allowed origin (set before the answer, errors included). */
  actual(req: IncomingMessage, res: ServerResponse): void {
    const origin = req.headers.origin;
    if (origin === undefined) return;
    const allowed = this.#origin(origin);
    if (allowed === undefined) return;
    this.#common(res, allowed);
    if (this.#o.exposeHeaders.length > 0)
      res.setHeader('access-control-expose-headers', this.#o.exposeHeaders.join(','));
  }
}
