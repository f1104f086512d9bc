/**
 * The embedded Glance-compatible server: the Image API v2 (images-api.ts) and a minimal
 * Keystone v3 under /identity/v3 (identity.ts) on one port, bound to 127.0.0.1 by default.
 * Every request but version discovery needs a valid token; the Host header must name this
 * server (no DNS rebinding from a web page); JSON bodies are size-limited. Runs in its own
 * process: `glance-uploader serve`, or a utility process of the app.
 */
import { ImagePacker } from './image-packing';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Cors, type CorsOptions } from './cors';
import { HttpError, send, sendError } from './http-kit';
import { callerOf, IdentityService, loadOrCreateCredentials, type Caller, type LocalCredentials } from './identity';
import { IdentityApi } from './identity-api';
import { mustBeAdmin } from './image-access';
import { ImageStore } from './image-store';
import { importMethods } from './image-doc';
import { ImagesApi } from './images-api';
import { MembersApi } from './members-api';
import { glanceSchema, versionIds, versions } from './schemas';
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
  /**
   * Keep raw images as a compressed qcow2 of themselves once active (image-packing.ts). `serve`
   * turns it on (the data folder's server); off here, so a server made in code keeps what it is sent.
   */
  packImages?: boolean;
  log?: (line: string) => void;
}

type Parts = {
  creds: LocalCredentials;
  identity: IdentityService;
  keystone: IdentityApi;
  api: ImagesApi;
  members: MembersApi;
};
type ImageRoute = (
  req: IncomingMessage,
  res: ServerResponse,
  id: string,
  c: string,
  caller: Caller,
) => void | Promise<void>;

const UNAUTHORIZED =
  'This server could not verify that you are authorized to access the document you requested. Either you ' +
  'supplied the wrong credentials (e.g., bad password), or your browser does not understand how to supply the ' +
  'credentials required.';

/** A store's description (Glance's store_description): ours are not configurable. */
const storeDescription = (store: string): string => `Glance Uploader local store '${store}'`;

const notAllowed = (method: string, allow: string): HttpError => HttpError.methodNotAllowed(method, allow);

/** The methods each route below an image takes (webob's `Allow`). HEAD on file is our resumable-upload probe. */
const ALLOWED = new Map([
  ['', 'GET, PATCH, DELETE'],
  ['file', 'GET, PUT'],
  ['stage', 'PUT'],
  ['import', 'POST'],
  ['tasks', 'GET'],
  ['members', 'GET, POST'],
  ['members/*', 'GET, PUT, DELETE'],
  ['tags/*', 'PUT, DELETE'],
  ['actions/*', 'POST'],
]);

/** The route a path below /v2/images/{id} names (`tags/*` for any tag...), undefined for none. */
function routeBelow(rest: string[]): string | undefined {
  const [b, c, ...more] = rest;
  if (b === undefined) return '';
  if (more.length > 0 || c === '') return undefined;
  if (c === undefined) return ['file', 'stage', 'import', 'tasks', 'members'].includes(b) ? b : undefined;
  if (b === 'tags' || b === 'members') return `${b}/*`;
  return b === 'actions' && (c === 'deactivate' || c === 'reactivate') ? 'actions/*' : undefined;
}

/** A path as WSGI hands it to Glance: every %XX decoded to the latin-1 character of that byte. */
function wsgiPath(path: string): string {
  return path.replace(/%([0-9a-f]{2})/gi, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

export class StagingServer {
  readonly store: ImageStore;
  readonly #cors: Cors | undefined;
  /** Made by start(): the local user's credentials (written at the first start), its Keystone and the image API. */
  #parts: Parts | undefined;
  #packer: ImagePacker | undefined;
  #server: Server | undefined;
  #url = '';
  /** What answers below /v2/images/{id}, by method and path (`c`: a tag, an action or a member). */
  readonly #imageRoutes = new Map<string, ImageRoute>([
    ['GET ', (_q, res, id, _c, who) => this.#api.show(res, id, who)],
    ['PATCH ', (req, res, id, _c, who) => this.#api.patch(req, res, id, who)],
    ['DELETE ', (_q, res, id, _c, who) => this.#api.delete(res, id, who)],
    ['PUT file', (req, res, id, _c, who) => this.#api.upload(req, res, id, false, who)],
    ['GET file', (req, res, id, _c, who) => this.#api.download(req, res, id, who)],
    ['HEAD file', (_q, res, id, _c, who) => this.#api.head(res, id, who)],
    ['PUT stage', (req, res, id, _c, who) => this.#api.upload(req, res, id, true, who)],
    ['POST import', (req, res, id, _c, who) => this.#api.import(req, res, id, who)],
    ['PUT tags/*', (_q, res, id, tag, who) => this.#api.tag(res, id, tag, true, who)],
    ['DELETE tags/*', (_q, res, id, tag, who) => this.#api.tag(res, id, tag, false, who)],
    ['POST actions/*', (_q, res, id, action, who) => this.#api.action(res, id, action, who)],
    ['GET tasks', (_q, res, id, _c, who) => this.#api.tasks(res, id, who)],
    ['GET members', (req, res, id, _c, who) => this.#started().members.list(req, res, id, who)],
    ['POST members', (req, res, id, _c, who) => this.#started().members.add(req, res, id, who)],
    ['GET members/*', (req, res, id, m, who) => this.#started().members.show(req, res, id, m, who)],
    ['PUT members/*', (req, res, id, m, who) => this.#started().members.answer(req, res, id, m, who)],
    ['DELETE members/*', (req, res, id, m, who) => this.#started().members.remove(req, res, id, m, who)],
  ]);

  constructor(private readonly o: StagingServerOptions) {
    this.store = new ImageStore(o.dataDir, o.stores && o.stores.length > 0 ? o.stores : ['local']);
    this.#cors = o.cors && o.cors.allowedOrigins.length > 0 ? new Cors(o.cors) : undefined;
  }

  #started(): Parts {
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
    if (this.o.packImages === true)
      this.#packer = new ImagePacker(this.store, (id, outcome, detail) =>
        this.o.log?.(`packing ${id}: ${outcome}${detail !== undefined ? ` (${detail})` : ''}`),
      );
    const creds = loadOrCreateCredentials(this.o.dataDir);
    const identity = new IdentityService(creds, this.o.tokenTtlSeconds);
    this.#parts = {
      creds,
      identity,
      keystone: new IdentityApi(identity, () => this.#url),
      members: new MembersApi(this.store),
      api: new ImagesApi({
        store: this.store,
        sizeCap: this.o.sizeCap ?? 1024 ** 4,
        quotaBytes: this.o.quotaBytes ?? 0,
        maxImages: this.o.maxImages ?? 0,
        webDownload: this.o.webDownload ?? { enabled: false },
        ...(this.#packer !== undefined ? { onActive: (id: string) => this.#packer?.request(id) } : {}),
      }),
    };
    const swept = this.store.sweep();
    if (swept.removed + swept.reset > 0)
      this.o.log?.(`start-up sweep: ${swept.removed} temp file(s) removed, ${swept.reset} interrupted upload(s) reset`);
    this.#packer?.requestPending(); // what a stop or a crash interrupted
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

  /** The packer, when packing is on (tests wait on it). */
  get packer(): ImagePacker | undefined {
    return this.#packer;
  }

  async close(): Promise<void> {
    await this.#packer?.stop();
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
      const keystone = (req.url ?? '').startsWith('/identity') ? 'keystone' : 'glance';
      const err =
        e instanceof HttpError ? e : new HttpError(500, `Internal error: ${(e as Error).message}`, {}, keystone);
      sendError(req, res, err);
      if (err.status >= 500) this.o.log?.(`${req.method} ${req.url}: ${err.message}`);
    } finally {
      if (this.o.log)
        res.on('finish', () => this.o.log?.(`${req.method} ${req.url} ${res.statusCode} ${Date.now() - started} ms`));
    }
  }

  async #route(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    // The path as sent, dot segments kept (as webob's PATH_INFO): `/v2/images/../x` is no route, not `/x`.
    const sent = (req.url ?? '/').split('?')[0] ?? '/';
    const path = (sent.startsWith('/') ? sent : url.pathname).replace(/\/+$/, '') || '/';
    const method = req.method ?? 'GET';
    if (path === '/identity' || path.startsWith('/identity/'))
      return this.#started().keystone.route(req, res, path, method, url.searchParams);
    // Glance's version negotiation, before any token check: `versions` first, then the first
    // segment must name a version it serves (v2.N is v2), or the answer is the list (300).
    const first = path.split('/')[1] ?? '';
    if (first === 'versions') return send(res, 200, { versions: this.#versions() });
    if (first !== 'v2' && !versionIds(this.store.storeNames.length > 1).includes(first))
      return send(res, 300, { versions: this.#versions() });
    const caller = this.#caller(req);
    // Routes' mapper redirects the bare version to its slash form (which is no route).
    if (path === '/v2' && !sent.endsWith('/'))
      return void send(res, 302, undefined, {
        'content-type': 'text/plain; charset=utf8',
        location: `${this.#url}/v2/`,
      });
    return this.#v2(req, res, url, wsgiPath(path), caller);
  }

  /** The token's caller; keystonemiddleware refuses before Glance, and what reaches the client is webob's 401 page. */
  #caller(req: IncomingMessage): Caller {
    const token = this.identity.validate(req.headers['x-auth-token'] as string | undefined);
    if (token === undefined)
      throw new HttpError(401, UNAUTHORIZED, { 'www-authenticate': `Keystone uri="${this.authUrl}"` });
    return callerOf(token);
  }

  /**
   * Below /v2, routed on the decoded path as WSGI's PATH_INFO (each %XX one latin-1 character):
   * a tag with an encoded slash is two segments, no route (404), as on Glance.
   */
  async #v2(req: IncomingMessage, res: ServerResponse, url: URL, path: string, caller: Caller): Promise<void> {
    const method = req.method ?? 'GET';
    const seg = path.split('/').slice(2); // after /v2 (or /v2.N)
    const [a, id] = seg;
    if (a === undefined) throw new HttpError(404, 'The resource could not be found.');
    if (a === 'schemas') return this.#schema(res, seg.slice(1).join('/'));
    if (a === 'info' && method === 'GET' && this.#info(res, id, seg[2], caller)) return;
    if (a !== 'images') throw new HttpError(404, 'The resource could not be found.');
    return this.#images(req, res, url, method, seg.slice(1), caller);
  }

  /** Glance 25's version list: multi-store adds the versions of the store APIs (2.8 to 2.13). */
  #versions(): Record<string, unknown>[] {
    return versions(this.#url, this.store.storeNames.length > 1);
  }

  #schema(res: ServerResponse, name: string): void {
    const doc = glanceSchema(name);
    if (doc === undefined) throw new HttpError(404, 'The resource could not be found.');
    send(res, 200, doc);
  }

  /** GET /v2/info/*: import methods, stores (multi-store only), usage, and our resumable upload. False: not one of them. */
  #info(res: ServerResponse, id: string | undefined, sub: string | undefined, caller: Caller): boolean {
    if (id === 'stores' && sub === 'detail') return this.#storesDetail(res, caller);
    if (sub !== undefined) return false;
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
          description: storeDescription(s),
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

  /** GET /v2/info/stores/detail: admin only (stores_info_detail), each store with its type and properties. */
  #storesDetail(res: ServerResponse, caller: Caller): true {
    if (this.store.storeNames.length < 2) throw new HttpError(404, 'Multi backend is not supported at this site.');
    mustBeAdmin(caller, 'stores_info_detail');
    send(res, 200, {
      stores: this.store.storeNames.map((s, i) => ({
        id: s,
        description: storeDescription(s),
        ...(i === 0 ? { default: 'true' } : {}),
        type: 'file',
        properties: { data_dir: `${this.store.storeDir(s)}/`, chunk_size: 65536, thin_provisioning: false },
      })),
    });
    return true;
  }

  /** /v2/images and below (`seg`: the path after /v2/images). */
  async #images(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    method: string,
    seg: string[],
    caller: Caller,
  ): Promise<void> {
    const [id, , c] = seg;
    if (id === undefined) {
      if (method === 'GET') return this.#api.list(res, url.searchParams, caller);
      if (method === 'POST') return this.#api.create(req, res, this.#url, caller);
      throw notAllowed(method, 'GET, POST');
    }
    // Glance's routes below an image (`tags/T`, `members/M`, `actions/A` with their name); the
    // image id itself is the controller's to check, each with its own 404.
    const below = routeBelow(seg.slice(1));
    if (below === undefined) throw new HttpError(404, 'The resource could not be found.');
    const route = this.#imageRoutes.get(`${method} ${below}`);
    if (route !== undefined) return route(req, res, id, c ?? '', caller);
    throw notAllowed(method, ALLOWED.get(below) ?? 'GET');
  }
}
