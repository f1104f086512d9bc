/**
 * Small HTTP helpers of the embedded server: bodies with limits, JSON answers as Glance sends
 * them (`application/json`, no charset), and errors in the three shapes a client can meet:
 * Glance's (webob's page, negotiated on Accept), Keystone's own API, and keystonemiddleware's 401.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  410: 'Gone',
  413: 'Request Entity Too Large',
  415: 'Unsupported Media Type',
  416: 'Request Range Not Satisfiable',
  500: 'Internal Server Error',
};

/**
 * Who shapes the error: `glance` (webob's error page as JSON, HTML or plain text, by Accept),
 * `keystone` (Keystone's API: {"error": {code, title, message}}).
 */
export type ErrorShape = 'glance' | 'keystone';

export interface Rendered {
  contentType: string;
  body: string;
}

/** webob's explanation of each status, what a "detail" error shows first. */
const EXPLANATIONS: Record<number, string> = {
  400: 'The server could not comply with the request since it is either malformed or otherwise incorrect.',
  403: 'Access was denied to this resource.',
  404: 'The resource could not be found.',
  409: 'There was a conflict when trying to complete your request.',
  416: 'The Range requested is not available.',
};

export class HttpError extends Error {
  /** webob's second line (`detail`): Glance passes some messages that way, after the class's explanation. */
  detail = '';
  /** webob's own body template, for the errors that have one (405, 415); `esc` escapes what comes from the request. */
  #template: ((esc: (s: string) => string) => string) | undefined;

  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
    readonly shape: ErrorShape = 'glance',
  ) {
    super(message);
  }

  /** An error Glance raises with a positional message: webob's explanation first, the message after it. */
  static detailed(status: number, detail: string, headers: Record<string, string> = {}): HttpError {
    const e = new HttpError(status, EXPLANATIONS[status] ?? '', headers);
    e.detail = detail;
    return e;
  }

  /** webob's 405 for a method a route does not take; `Allow` lists those it does. */
  static methodNotAllowed(method: string, allow: string): HttpError {
    const e = new HttpError(405, `The method ${method} is not allowed for this resource.`, { allow });
    e.#template = (esc) => `The method ${esc(method)} is not allowed for this resource. <br /><br />\n${esc(e.detail)}`;
    return e;
  }

  /** webob's 415, naming the media type sent; `Accept-Patch` lists the ones taken. */
  static unsupportedMediaType(contentType: string, acceptPatch: string): HttpError {
    const e = new HttpError(415, `The request media type ${contentType} is not supported by this server.`, {
      'accept-patch': acceptPatch,
    });
    e.#template = (esc) =>
      `The request media type ${esc(contentType)} is not supported by this server.\n<br /><br />\n${esc(e.detail)}`;
    return e;
  }

  /** webob's body template, before the page around it (`esc`: HTML escaping, or none). */
  #body(esc: (s: string) => string): string {
    if (this.#template !== undefined) return this.#template(esc);
    return `${esc(this.message)}<br /><br />\n${esc(this.detail)}\n\n`;
  }

  /** The body and its type for a request that sent this Accept header. */
  render(accept: string | undefined): Rendered {
    const title = TITLES[this.status] ?? 'Error';
    if (this.shape !== 'glance') {
      const body = JSON.stringify({ error: { code: this.status, title, message: this.message } });
      return { contentType: 'application/json', body };
    }
    const status = `${this.status} ${title}`;
    const same = (x: string): string => x;
    const format = errorFormat(accept);
    if (format === 'application/json')
      return {
        contentType: 'application/json',
        body: JSON.stringify({ message: this.#body(same), code: status, title }),
      };
    if (format === 'text/html')
      return {
        contentType: 'text/html; charset=UTF-8',
        body: `<html>\n <head>\n  <title>${status}</title>\n </head>\n <body>\n  <h1>${status}</h1>\n  ${this.#body(escapeHtml)}\n </body>\n</html>`,
      };
    return { contentType: 'text/plain; charset=UTF-8', body: `${status}\n\n${stripTags(this.#body(same))}` };
  }
}

/** webob's strip_tags: newlines become spaces, each <br> a newline, other tags go. */
function stripTags(s: string): string {
  return s
    .replaceAll('\n', ' ')
    .replaceAll('\r', '')
    .replace(/<br.*?>/gis, '\n')
    .replace(/<!--|-->/g, '')
    .replace(/<.*?>/gs, '');
}

function escapeHtml(s: string): string {
  return s
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#x27;');
}

const ERROR_OFFERS = ['text/html', 'application/json'] as const;

/**
 * The format webob picks for an error page: the best of its two offers by the Accept header's
 * q-values (the most specific range decides, a tie goes to text/html); none acceptable, or no
 * header at all: plain text. A header that does not parse accepts everything (text/html).
 */
export function errorFormat(accept: string | undefined): (typeof ERROR_OFFERS)[number] | 'text/plain' {
  const ranges = parseAccept(accept ?? '');
  if (ranges === undefined) return 'text/html';
  let best: { offer: (typeof ERROR_OFFERS)[number]; q: number } | undefined;
  for (const offer of ERROR_OFFERS) {
    const [type] = offer.split('/');
    const specificity = (r: string): number => (r === offer ? 3 : r === `${type}/*` ? 2 : r === '*/*' ? 1 : 0);
    let match: { s: number; q: number } | undefined;
    for (const r of ranges) {
      const s = specificity(r.range);
      if (s > 0 && (match === undefined || s > match.s)) match = { s, q: r.q };
    }
    if (match !== undefined && match.q > 0 && (best === undefined || match.q > best.q)) best = { offer, q: match.q };
  }
  return best?.offer ?? 'text/plain';
}

/** Media ranges with their q (1 when absent); undefined when the header is not valid. */
function parseAccept(header: string): { range: string; q: number }[] | undefined {
  const out: { range: string; q: number }[] = [];
  for (const part of header.split(',')) {
    const [media = '', ...params] = part.split(';').map((p) => p.trim());
    if (media === '') continue;
    if (!/^[\w!#$%&'*+.^`|~-]+\/[\w!#$%&'*+.^`|~-]+$/.test(media)) return undefined;
    const q = params.map((p) => /^q=([\d.]+)$/i.exec(p)?.[1]).find((v) => v !== undefined);
    out.push({ range: media.toLowerCase(), q: q === undefined ? 1 : Number(q) });
  }
  return out;
}

/** Answers an error the way its shape says, or drops the connection when the answer has begun. */
export function sendError(req: IncomingMessage, res: ServerResponse, err: HttpError): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const { contentType, body } = err.render(req.headers.accept);
  res.writeHead(err.status, {
    'content-type': contentType,
    'content-length': Buffer.byteLength(body),
    ...err.headers,
  });
  res.end(body);
}

/**
 * A Glance answer without a body (204 after a change, 202 for an import): webob's Response still
 * types it `text/html; charset=UTF-8`, with a length of 0.
 */
export function sendEmpty(res: ServerResponse, status: number, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'text/html; charset=UTF-8', 'content-length': 0, ...headers });
  res.end();
}

/** A JSON answer, typed as Glance and Keystone type theirs (`application/json`, no charset). */
export function send(
  res: ServerResponse,
  status: number,
  body?: unknown,
  headers: Record<string, string | number> = {},
): void {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, {
    ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

/** A JSON body a route requires: Glance's deserializer refuses an empty one ("Body expected in request."). */
export async function readBody(req: IncomingMessage): Promise<unknown> {
  const body = await readJson(req);
  if (body === undefined) throw new HttpError(400, 'Body expected in request.');
  return body;
}

/** A JSON body, at most `limit` bytes (413 beyond), parsed (400 when it is not JSON). */
export async function readJson(
  req: IncomingMessage,
  limit = 256 * 1024,
  shape: ErrorShape = 'glance',
): Promise<unknown> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) throw new HttpError(413, `The request body is larger than ${limit} bytes.`, {}, shape);
  const parts: Buffer[] = [];
  let n = 0;
  for await (const chunk of req) {
    n += (chunk as Buffer).length;
    if (n > limit) throw new HttpError(413, `The request body is larger than ${limit} bytes.`, {}, shape);
    parts.push(chunk as Buffer);
  }
  const text = Buffer.concat(parts).toString('utf8');
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new HttpError(400, 'Malformed JSON in request body.', {}, shape);
  }
}
