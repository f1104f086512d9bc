/** Small HTTP helpers of the embedded server: bodies with limits, Glance- and Keystone-shaped errors. */
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
  416: 'Requested Range Not Satisfiable',
  500: 'Internal Server Error',
};

/** An error answered as Glance's webob does with JSON: message, "NNN Title" code, title. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
    /** Keystone's shape ({"error": {code, title, message}}) instead of Glance's. */
    readonly keystone = false,
  ) {
    super(message);
  }

  body(): string {
    const title = TITLES[this.status] ?? 'Error';
    return this.keystone
      ? JSON.stringify({ error: { code: this.status, title, message: this.message } })
      : JSON.stringify({ message: `${this.message}<br /><br />\n\n\n`, code: `${this.status} ${title}`, title });
  }
}

export function send(
  res: ServerResponse,
  status: number,
  body?: unknown,
  headers: Record<string, string | number> = {},
): void {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, {
    ...(body === undefined ? {} : { 'content-type': 'application/json; charset=UTF-8' }),
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

/** A JSON body, at most `limit` bytes (413 beyond), parsed (400 when it is not JSON). */
export async function readJson(req: IncomingMessage, limit = 256 * 1024, keystone = false): Promise<unknown> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) throw new HttpError(413, `The request body is larger than ${limit} bytes.`, {}, keystone);
  const parts: Buffer[] = [];
  let n = 0;
  for await (const chunk of req) {
    n += (chunk as Buffer).length;
    if (n > limit) throw new HttpError(413, `The request body is larger than ${limit} bytes.`, {}, keystone);
    parts.push(chunk as Buffer);
  }
  const text = Buffer.concat(parts).toString('utf8');
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new HttpError(400, 'Malformed JSON in request body.', {}, keystone);
  }
}
