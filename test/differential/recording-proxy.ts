/**
 * A recording HTTP proxy on 127.0.0.1 in front of one Glance (the reference or the embedded
 * server): the clients' image endpoint points here, every request is forwarded unchanged (the
 * Host header names the Glance, so the embedded server's Host check and Glance's links see their
 * own address) and every exchange is kept, labelled with the step the driver says is running.
 *
 * The driver labels its steps with `PUT /__diff/step` (body: the label; empty: do not record,
 * as while it polls an import until it settles). That request is answered here, never forwarded.
 */
import { createHash } from 'node:crypto';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export const STEP_PATH = '/__diff/step';

/** A body as recorded: JSON parsed, other text as is, bytes by length and md5. */
export type RecordedBody = unknown;

export interface Exchange {
  step: string;
  method: string;
  /** Path and query, as the client sent them. */
  path: string;
  status: number;
  contentType: string | null;
  /** The response headers of Glance's API that clients read (import methods, stores, ranges, location). */
  headers: Record<string, string>;
  request: RecordedBody;
  response: RecordedBody;
}

const API_HEADERS = [
  'content-range',
  'content-md5',
  'location',
  'openstack-image-import-methods',
  'openstack-image-store-ids',
];

function recordBody(buf: Buffer, contentType: string | undefined): RecordedBody {
  if (buf.length === 0) return null;
  const type = (contentType ?? '').toLowerCase();
  const text = buf.toString('utf8');
  if (type.includes('json')) {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return { unparsableJson: text };
    }
  }
  if (type.startsWith('text/')) return { text };
  return { bytes: buf.length, md5: createHash('md5').update(buf).digest('hex') };
}

function readAll(stream: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    stream.on('data', (c: Buffer) => parts.push(c));
    stream.on('end', () => resolve(Buffer.concat(parts)));
    stream.on('error', reject);
  });
}

export class RecordingProxy {
  readonly exchanges: Exchange[] = [];
  readonly #target: URL;
  #server: Server | undefined;
  #step = '';
  #url = '';

  constructor(target: string) {
    this.#target = new URL(target);
  }

  get url(): string {
    return this.#url;
  }

  async start(): Promise<string> {
    const server = createServer((req, res) => void this.#handle(req, res));
    this.#server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', resolve);
    });
    this.#url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return this.#url;
  }

  async close(): Promise<void> {
    const s = this.#server;
    if (s === undefined) return;
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let body: Buffer;
    try {
      body = await readAll(req);
    } catch {
      res.destroy(); // the client went away mid-request
      return;
    }
    if (req.url === STEP_PATH && req.method === 'PUT') {
      this.#step = body.toString('utf8');
      res.writeHead(204).end();
      return;
    }
    const step = this.#step;
    try {
      const answer = await this.#forward(req, body);
      const headers: Record<string, string> = {};
      for (const h of API_HEADERS) {
        const v = answer.res.headers[h];
        if (v !== undefined) headers[h] = Array.isArray(v) ? v.join(', ') : v;
      }
      const contentType = answer.res.headers['content-type'] ?? null;
      if (step !== '')
        this.exchanges.push({
          step,
          method: req.method ?? 'GET',
          path: req.url ?? '/',
          status: answer.res.statusCode ?? 0,
          contentType,
          headers,
          request: recordBody(body, req.headers['content-type']),
          response: recordBody(answer.body, contentType ?? undefined),
        });
      res.writeHead(answer.res.statusCode ?? 502, answer.res.rawHeaders);
      res.end(req.method === 'HEAD' ? undefined : answer.body);
    } catch (e) {
      if (step !== '')
        this.exchanges.push({
          step,
          method: req.method ?? 'GET',
          path: req.url ?? '/',
          status: 0,
          contentType: null,
          headers: {},
          request: recordBody(body, req.headers['content-type']),
          response: { proxyError: (e as Error).message },
        });
      res.destroy();
    }
  }

  #forward(req: IncomingMessage, body: Buffer): Promise<{ res: IncomingMessage; body: Buffer }> {
    return new Promise((resolve, reject) => {
      const headers = { ...req.headers, host: this.#target.host };
      const out = request(
        {
          host: this.#target.hostname,
          port: this.#target.port,
          method: req.method,
          path: req.url,
          headers,
        },
        (res) => {
          readAll(res).then((b) => resolve({ res, body: b }), reject);
        },
      );
      out.on('error', reject);
      out.end(body);
    });
  }
}
