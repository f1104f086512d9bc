/**
 * The embedded Glance-compatible server: the Image API v2 (images-api.ts) and a minimal
 * Keystone v3 under /identity/v3 (identity.ts) on one port, bound to 127.0.0.1 by default.
 * Every request but version discovery needs a valid token; the Host header must name this
 * server (no DNS rebinding from a web page); JSON bodies are size-limited. Runs in its own
 * process: `glance-uploader serve`, or a utility process of the app.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Cors, type CorsOptions } from './cors';
import { HttpError, readJson, send } from './http-kit';
import { IdentityService, loadOrCreateCredentials, LOCAL_REGION, type LocalCredentials } from './identity';
import { ImageStore, UUID_RE } from './image-store';
import { importMethods } from './image-doc';
import { ImagesApi } from './images-api';
import { imageSchema, imagesSchema, metadefStub, versions } from './schemas';
import type { WebDownloadOptions } from './web-download';

export interface StagingServerOptions {
  dataDir: string;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 9292; 0 picks a free port. */
  port?: number;
  tokenTtlSeconds?: number;
  /** Largest image, bytes (default 1 TiB, Glance's default image_size_cap). */
  sizeCap?: number;
  /** Total bytes of all images, uploading ones included (default 0: none). */
  quotaBytes?: number;
  maxImages?: number;
  /** Store names (the first is the default); two or more make it multi-store, with copy-image. */
  stores?: string[];
  /** web-download: off by default; `allowLocal` lets it fetch from loopback and private addresses. */
  webDownload?: WebDownloadOptions;
  /** CORS (oslo.middleware semantics, Glance's defaults); off when absent or no origin allowed. */
  cors?: CorsOptions;
  log?: (line: string) => void;
}

export class StagingServer {
  readonly store: ImageStore;
  readonly #cors: Cors | undefined;
  /** Made by start(): the local user's credentials (written at the first start), its Keystone and the image API. */
  #parts: { creds: LocalCredentials; identity: IdentityService; api: ImagesApi } | undefined;
  #server: Server | undefined;
  #url = '';
  /** What answers below /v2/images/{id}, by method and path (`c`: a tag or an action). */
  readonly #imageRoutes = new Map<
    string,
    (req: IncomingMessage, res: ServerResponse, id: string, c: string) => void | Promise<void>
  >([
    ['GET ', (_q, res, id) => this.#api.show(res, id)],
    ['PATCH ', (req, res, id) => this.#api.patch(req, res, id)],
    ['DELETE ', (_q, res, id) => this.#api.delete(res, id)],
    ['PUT file', (req, res, id) => this.#api.upload(req, res, id, false)],
    ['GET file', (req, res, id) => this.#api.download(req, res, id)],
    ['HEAD file', (_q, res, id) => this.#api.head(res, id)],
    ['PUT stage', (req, res, id) => this.#api.upload(req, res, id, true)],
    ['POST import', (req, res, id) => this.#api.import(req, res, id)],
    ['PUT tags/*', (_q, res, id, tag) => this.#api.tag(res, id, tag, true)],
    ['DELETE tags/*', (_q, res, id, tag) => this.#api.tag(res, id, tag, false)],
    ['POST actions/*', (_q, res, id, action) => this.#api.action(res, id, action)],
    ['GET tasks', (_q, res, id) => this.#api.tasks(res, id)],
  ]);

  constructor(private readonly o: StagingServerOptions) {
    this.store = new ImageStore(o.dataDir, o.stores && o.stores.length > 0 ? o.stores : ['local']);
    this.#cors = o.cors && o.cors.allowedOrigins.length > 0 ? new Cors(o.cors) : undefined;
  }

  #started(): { creds: LocalCredentials; identity: IdentityService; api: ImagesApi } {
    if (this.#parts === undefined) throw new Error('StagingServer used before start()');
    return this.#parts;
  }

  get creds(): LocalCredentials {
    return this.#started().creds;
  }

  get identity(): IdentityService {
    return this.#started().identity;
  }

  get #api(): ImagesApi {
    return this.#started().api;
  }

  /** The base URL (http://host:port), once started. */
  get url(): string {
    return this.#url;
  }

  get authUrl(): string {
    return `${this.#url}/identity/v3`;
  }

  async start(): Promise<string> {
    this.store.open();
    const creds = loadOrCreateCredentials(this.o.dataDir);
    this.#parts = {
      creds,
      identity: new IdentityService(creds, this.o.tokenTtlSeconds),
      api: new ImagesApi({
        store: this.store,
        owner: creds.projectId,
        sizeCap: this.o.sizeCap ?? 1024 ** 4,
        quotaBytes: this.o.quotaBytes ?? 0,
        maxImages: this.o.maxImages ?? 0,
        webDownload: this.o.webDownload ?? { enabled: false },
      }),
    };
    const swept = this.store.sweep();
    if (swept.removed + swept.reset > 0)
      this.o.log?.(`start-up sweep: ${swept.removed} temp file(s) removed, ${swept.reset} interrupted upload(s) reset`);
    const server = createServer((req, res) => void this.#handle(req, res));
    this.#server = server;
    const host = this.o.host ?? '127.0.0.1';
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.o.port ?? 9292, host, resolve);
    });
    const port = (server.address() as AddressInfo).port;
    this.#url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
    return this.#url;
  }

  async close(): Promise<void> {
    const s = this.#server;
    if (s !== undefined) {
      s.closeAllConnections();
      await new Promise<void>((r) => s.close(() => r()));
    }
    this.store.close();
  }

  /** Host names a client may use to reach us: the bound one, and loopback names when bound there. */
  #hostAllowed(hostHeader: string | undefined): boolean {
    if (hostHeader === undefined) return false;
    const port = new URL(this.#url).port;
    const bound = new URL(this.#url).hostname;
    const names = new Set([bound]);
    if (['127.0.0.1', 'localhost', '[::1]', '::1'].includes(bound))
      ['127.0.0.1', 'localhost', '[::1]'].forEach((n) => names.add(n));
    const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(hostHeader.toLowerCase());
    return m !== null && names.has(m[1] ?? '') && (m[2] ?? '80') === port;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = Date.now();
    try {
      if (!this.#hostAllowed(req.headers.host))
        throw new HttpError(400, `Host ${req.headers.host ?? '(none)'} is not this server.`);
      const url = new URL(req.url ?? '/', this.#url);
      res.setHeader('x-openstack-request-id', `req-${crypto.randomUUID()}`);
      if (this.#cors?.preflight(req, res)) return; // answered without a token, as oslo does
      this.#cors?.actual(req, res);
      await this.#route(req, res, url);
    } catch (e) {
      const err =
        e instanceof HttpError
          ? e
          : new HttpError(500, `Internal error: ${(e as Error).message}`, {}, (req.url ?? '').startsWith('/identity'));
      if (!res.headersSent) {
        const body = err.body();
        res.writeHead(err.status, {
          'content-type': 'application/json; charset=UTF-8',
          'content-length': Buffer.byteLength(body),
          ...err.headers,
        });
        res.end(body);
      } else res.destroy();
      if (err.status >= 500) this.o.log?.(`${req.method} ${req.url}: ${err.message}`);
    } finally {
      if (this.o.log)
        res.on('finish', () => this.o.log?.(`${req.method} ${req.url} ${res.statusCode} ${Date.now() - started} ms`));
    }
  }

  async #route(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const path = url.pathname.replace(/\/+$/, '') || '/';
    const method = req.method ?? 'GET';
    if (path === '/' || path === '/versions') {
      if (method !== 'GET') throw new HttpError(405, 'Method not allowed.');
      return send(res, path === '/' ? 300 : 200, { versions: versions(this.#url) });
    }
    if (path === '/identity' || path.startsWith('/identity/')) return this.#identity(req, res, path, method);
    if (!path.startsWith('/v2')) throw new HttpError(404, 'The resource could not be found.');
    const token = this.identity.validate(req.headers['x-auth-token'] as string | undefined);
    if (token === undefined)
      throw new HttpError(
        401,
        'This server could not verify that you are authorized to access the document you requested.',
        {
          'www-authenticate': `Keystone uri="${this.authUrl}"`,
        },
      );
    if (path === '/v2') return send(res, 200, { versions: versions(this.#url) });
    const seg = path.split('/').slice(2).map(decodeURIComponent); // after /v2
    const [a, id] = seg;
    if (a === 'schemas') return this.#schema(res, seg.slice(1).join('/'));
    if (a === 'info' && method === 'GET' && this.#info(res, id)) return;
    if (a !== 'images') throw new HttpError(404, 'The resource could not be found.');
    return this.#images(req, res, url, method, seg.slice(1));
  }

  #schema(res: ServerResponse, name: string): void {
    const doc =
      name === 'image'
        ? imageSchema()
        : name === 'images'
          ? imagesSchema()
          : name.startsWith('metadefs/')
            ? metadefStub(name.slice(9))
            : undefined;
    if (doc === undefined) throw new HttpError(404, `Schema ${name} not found.`);
    send(res, 200, doc);
  }

  /** GET /v2/info/*: import methods, stores (multi-store only), usage, and our resumable upload. False: not one of them. */
  #info(res: ServerResponse, id: string | undefined): boolean {
    if (id === 'import')
      send(res, 200, {
        'import-methods': {
          description: 'Import methods available.',
          type: 'array',
          value: importMethods({ webDownload: this.o.webDownload, stores: this.store.storeNames.length }),
        },
      });
    else if (id === 'stores') {
      if (this.store.storeNames.length < 2) throw new HttpError(404, 'Multi backend is not supported at this site.');
      send(res, 200, {
        stores: this.store.storeNames.map((s, i) => ({
          id: s,
          description: `Glance Uploader local store '${s}'`,
          ...(i === 0 ? { default: 'true' } : {}),
        })),
      });
    } else if (id === 'usage') send(res, 200, { usage: {} });
    // Our extension, discoverable: real Glance answers 404 here.
    else if (id === 'upload')
      send(res, 200, {
        resumable: { offset: 'HEAD /v2/images/{id}/file -> Upload-Offset', range: 'Content-Range' },
      });
    else return false;
    return true;
  }

  /** /v2/images and below (`seg`: the path after /v2/images). */
  async #images(req: IncomingMessage, res: ServerResponse, url: URL, method: string, seg: string[]): Promise<void> {
    const [id, b, c] = seg;
    if (id === undefined) {
      if (method === 'GET') return this.#api.list(res, url.searchParams);
      if (method === 'POST') return this.#api.create(req, res, this.#url);
      throw new HttpError(405, 'Method not allowed.');
    }
    if (!UUID_RE.test(id)) throw new HttpError(404, `No image found with ID ${id}`);
    // The route below the image: `file` alone, `tags/T` and `actions/A` with their name, the others by their first part.
    const named = b === 'tags' || b === 'actions';
    const below =
      b === undefined ? '' : named ? (c === undefined ? b : `${b}/*`) : b === 'file' && c !== undefined ? 'file/*' : b;
    const route = this.#imageRoutes.get(`${method} ${below}`);
    if (route !== undefined) return route(req, res, id, c ?? '');
    throw new HttpError(404, 'The resource could not be found.');
  }

  async #identity(req: IncomingMessage, res: ServerResponse, path: string, method: string): Promise<void> {
    const v3 = {
      id: 'v3.14',
      status: 'stable',
      updated: '2020-04-07T00:00:00Z',
      links: [{ rel: 'self', href: `${this.authUrl}/` }],
      'media-types': [{ base: 'application/json', type: 'application/vnd.openstack.identity-v3+json' }],
    };
    if (path === '/identity') return send(res, 300, { versions: { values: [v3] } });
    if (path === '/identity/v3') return send(res, 200, { version: v3 });
    if (path === '/identity/v3/auth/tokens') {
      if (method === 'POST') {
        const t = this.identity.authenticate(await readJson(req, 64 * 1024, true));
        if (t === undefined) throw new HttpError(401, 'The request you have made requires authentication.', {}, true);
        return send(res, 201, this.identity.tokenBody(t, this.#url), { 'x-subject-token': t.id });
      }
      const caller = this.identity.validate(req.headers['x-auth-token'] as string | undefined);
      if (caller === undefined)
        throw new HttpError(401, 'The request you have made requires authentication.', {}, true);
      const subjectId = req.headers['x-subject-token'] as string | undefined;
      const subject = this.identity.validate(subjectId);
      if (method === 'DELETE') {
        if (subjectId === undefined || !this.identity.revoke(subjectId))
          throw new HttpError(404, 'Could not find token.', {}, true);
        return send(res, 204);
      }
      if (subject === undefined) throw new HttpError(404, 'Could not find token.', {}, true);
      if (method === 'HEAD') return send(res, 200);
      return send(res, 200, this.identity.tokenBody(subject, this.#url), { 'x-subject-token': subject.id });
    }
    if (path === '/identity/v3/auth/catalog' || path === '/identity/v3/regions') {
      const caller = this.identity.validate(req.headers['x-auth-token'] as string | undefined);
      if (caller === undefined)
        throw new HttpError(401, 'The request you have made requires authentication.', {}, true);
      const body = this.identity.tokenBody(caller, this.#url) as { token: { catalog: unknown } };
      return path.endsWith('catalog')
        ? send(res, 200, { catalog: body.token.catalog })
        : send(res, 200, {
            regions: [{ id: LOCAL_REGION, description: 'Glance Uploader local server', parent_region_id: null }],
          });
    }
    throw new HttpError(404, 'The resource could not be found.', {}, true);
  }
}
