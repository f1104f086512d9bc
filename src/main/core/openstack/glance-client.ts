/**
 * Glance v2 client for one region endpoint: discovery and image metadata. Every call takes its
 * token from the Keystone session just before it is sent; a 401 makes the session authenticate
 * once more and the call is sent again (request bodies are buffers, or a factory that re-opens
 * a stream from byte 0). Data transfer lives in glance-data.ts, waiting in glance-wait.ts.
 */
import type { ImageSummary } from '../../../shared/dto';
import { EngineError } from '../io/errors';
import { glanceError } from './glance-errors';
import type {
  CreateImageFields,
  GlanceImage,
  GlanceTask,
  GlanceVersion,
  ListImagesQuery,
  PatchOp,
  StoreInfo,
} from './glance-types';
import type { HttpClient, HttpResponse, Method, StreamResponse } from './http-client';
import type { KeystoneSession } from './keystone-session';
import { withToken } from './token-exchange';

export type { GlanceImage } from './glance-types';

/** The API root of a catalog image endpoint: unversioned, no trailing slash. */
export function glanceRoot(endpoint: string): string {
  return endpoint.replace(/\/+$/, '').replace(/\/v2(\.\d+)?$/, '');
}

export function toImageSummary(img: GlanceImage): ImageSummary {
  return {
    id: img.id,
    name: img.name,
    status: img.status,
    diskFormat: img.disk_format,
    containerFormat: img.container_format,
    visibility: img.visibility,
    size: img.size,
    owner: img.owner,
    createdAt: img.created_at,
    updatedAt: img.updated_at,
  };
}

export interface GlanceRequest {
  method: Method;
  path: string;
  headers?: Record<string, string>;
  /** A Buffer/string, or a factory giving a fresh stream (so that a 401 retry can resend). */
  body?: string | Buffer | (() => AsyncIterable<Uint8Array>);
  signal?: AbortSignal;
}

function json<T>(res: HttpResponse, what: string): T {
  try {
    return JSON.parse(res.body.toString('utf8')) as T;
  } catch {
    throw new EngineError(
      'glance.invalid_response',
      `${what}: Glance answered HTTP ${res.status} without a JSON body.`,
      {
        status: res.status,
        requestId: res.headers['x-openstack-request-id'],
        hint: 'Check that the image endpoint in the catalog really is Glance.',
      },
    );
  }
}

const enc = encodeURIComponent;

export class GlanceClient {
  readonly root: string;
  #importMethods: Promise<string[]> | undefined;
  #resumable: Promise<boolean> | undefined;

  constructor(
    endpoint: string,
    readonly session: KeystoneSession,
    private readonly http: HttpClient,
  ) {
    this.root = glanceRoot(endpoint);
  }

  #headers(token: string, req: GlanceRequest): Record<string, string> {
    return { accept: 'application/json', 'x-auth-token': token, ...req.headers };
  }

  #body(req: GlanceRequest): string | Buffer | AsyncIterable<Uint8Array> | undefined {
    return typeof req.body === 'function' ? req.body() : req.body;
  }

  /** A call whose answer is read whole. */
  async request(req: GlanceRequest): Promise<HttpResponse> {
    return withToken(
      this.session,
      (token) =>
        this.http.send({
          method: req.method,
          url: `${this.root}${req.path}`,
          headers: this.#headers(token, req),
          body: this.#body(req),
          signal: req.signal,
        }),
      () => undefined,
    );
  }

  /** A call whose answer body is streamed (downloads). */
  async requestStream(req: GlanceRequest): Promise<StreamResponse> {
    return withToken(
      this.session,
      (token) =>
        this.http.stream({
          method: req.method,
          url: `${this.root}${req.path}`,
          headers: this.#headers(token, req),
          body: this.#body(req),
          signal: req.signal,
        }),
      (r) => r.body.destroy(),
    );
  }

  async #expect(req: GlanceRequest, ok: number[], what: string): Promise<HttpResponse> {
    const res = await this.request(req);
    if (!ok.includes(res.status)) throw glanceError(res, what);
    return res;
  }

  // ---- discovery --------------------------------------------------------------------------

  /** The API versions the endpoint offers (GET / answers 300 with the list). */
  async versions(): Promise<GlanceVersion[]> {
    const res = await this.request({ method: 'GET', path: '/' });
    if (res.status !== 300 && res.status !== 200) throw glanceError(res, 'Version discovery failed');
    const body = json<{ versions?: { id: string; status: string }[] }>(res, 'Version discovery');
    return (body.versions ?? []).map((v) => ({ id: v.id, status: v.status }));
  }

  /** The highest v2 minor version the endpoint calls CURRENT or SUPPORTED, e.g. "2.15". */
  async apiVersion(): Promise<string> {
    const usable = (await this.versions()).filter(
      (v) => /^v2(\.\d+)?$/.test(v.id) && ['CURRENT', 'SUPPORTED', 'STABLE'].includes(v.status.toUpperCase()),
    );
    if (usable.length === 0)
      throw new EngineError('glance.invalid_response', 'The image endpoint offers no Glance v2 API.', {
        hint: 'Glance Uploader needs the Image API v2.',
      });
    const minor = (id: string): number => Number(id.split('.')[1] ?? 0);
    const best = usable.reduce((a, b) => (minor(b.id) > minor(a.id) ? b : a));
    return best.id.slice(1).includes('.') ? best.id.slice(1) : '2.0';
  }

  /** Import methods this region offers (GET /v2/info/import), cached for the client's life. */
  async importMethods(): Promise<string[]> {
    this.#importMethods ??= (async () => {
      const res = await this.request({ method: 'GET', path: '/v2/info/import' });
      if (res.status === 404) return []; // interoperable image import not enabled
      if (res.status !== 200) throw glanceError(res, 'Reading the import methods failed');
      return json<{ 'import-methods'?: { value?: string[] } }>(res, 'Import methods')['import-methods']?.value ?? [];
    })().catch((e: unknown) => {
      this.#importMethods = undefined;
      throw e;
    });
    return this.#importMethods;
  }

  /**
   * Whether the server takes uploads that continue at a byte (Glance Uploader's own server,
   * GET /v2/info/upload; real Glance answers 404), cached for the client's life.
   */
  async resumableUploads(): Promise<boolean> {
    this.#resumable ??= (async () => {
      const res = await this.request({ method: 'GET', path: '/v2/info/upload' });
      if (res.status !== 200) return false;
      try {
        return json<{ resumable?: unknown }>(res, 'Upload capabilities').resumable !== undefined;
      } catch {
        return false;
      }
    })().catch((e: unknown) => {
      this.#resumable = undefined;
      throw e;
    });
    return this.#resumable;
  }

  /** Where a resumable upload of this image continues (HEAD /file, Upload-Offset). */
  async uploadOffset(id: string): Promise<number> {
    const res = await this.request({ method: 'HEAD', path: `/v2/images/${encodeURIComponent(id)}/file` });
    if (res.status !== 200) throw glanceError(res, `Asking where the upload of image ${id} stopped failed`);
    const n = Number(res.headers['upload-offset'] ?? 0);
    return Number.isFinite(n) && n >= 0 ? n : 0;
  }

  /** Stores of a multi-store region; an empty list when the region has a single store. */
  async stores(): Promise<StoreInfo[]> {
    const res = await this.request({ method: 'GET', path: '/v2/info/stores' });
    if (res.status === 404 || res.status === 410) return [];
    if (res.status !== 200) throw glanceError(res, 'Reading the stores failed');
    const body = json<{ stores?: { id: string; description?: string; default?: string | boolean }[] }>(res, 'Stores');
    return (body.stores ?? []).map((s) => ({
      id: s.id,
      description: s.description,
      default: s.default === true || s.default === 'true',
    }));
  }

  /**
   * The type of each store (rbd, file, swift...), from /v2/info/stores/detail. Glance answers it
   * to an admin of a multi-store site only: undefined when it does not (403, 404), not an error.
   */
  async storeTypes(): Promise<string[] | undefined> {
    const res = await this.request({ method: 'GET', path: '/v2/info/stores/detail' });
    if (res.status === 403 || res.status === 404 || res.status === 410) return undefined;
    if (res.status !== 200) throw glanceError(res, 'Reading the stores failed');
    const body = json<{ stores?: { type?: unknown }[] }>(res, 'Stores');
    return [...new Set((body.stores ?? []).map((s) => s.type).filter((t): t is string => typeof t === 'string'))];
  }

  /** The image JSON schema (GET /v2/schemas/image): drives forms and validation. */
  async imageSchema(): Promise<Record<string, unknown>> {
    const res = await this.#expect(
      { method: 'GET', path: '/v2/schemas/image' },
      [200],
      'Reading the image schema failed',
    );
    return json<Record<string, unknown>>(res, 'Image schema');
  }

  // ---- images -----------------------------------------------------------------------------

  static listParams(query: ListImagesQuery): URLSearchParams {
    const p = new URLSearchParams();
    p.set('limit', String(query.limit ?? 200));
    const plain = [
      'name',
      'id',
      'status',
      'visibility',
      'owner',
      'disk_format',
      'container_format',
      'os_hash_value',
      'checksum',
      'member_status',
    ] as const;
    for (const k of plain) if (query[k] !== undefined) p.set(k, String(query[k]));
    if (query.size_min !== undefined) p.set('size_min', String(query.size_min));
    if (query.size_max !== undefined) p.set('size_max', String(query.size_max));
    if (query.protected !== undefined) p.set('protected', String(query.protected));
    if (query.os_hidden !== undefined) p.set('os_hidden', String(query.os_hidden));
    for (const t of query.tags ?? []) p.append('tag', t);
    for (const [k, v] of Object.entries(query.properties ?? {})) p.set(k, v);
    if (query.sort !== undefined && query.sort.length > 0)
      p.set('sort', query.sort.map((s) => `${s.key}:${s.dir ?? 'desc'}`).join(','));
    return p;
  }

  /** Images matching the query, following Glance's `next` links to the end (or `max`). */
  async listImages(query: ListImagesQuery = {}): Promise<GlanceImage[]> {
    let path: string | undefined = `/v2/images?${GlanceClient.listParams(query).toString()}`;
    const images: GlanceImage[] = [];
    const seen = new Set<string>();
    while (path !== undefined) {
      if (seen.has(path)) {
        throw new EngineError('glance.invalid_response', `Glance returned the same page link twice (${path}).`, {
          hint: 'This is a pagination bug of the cloud; report it to the operator.',
        });
      }
      seen.add(path);
      const res = await this.#expect({ method: 'GET', path }, [200], 'Listing images failed');
      const page = json<{ images: GlanceImage[]; next?: string }>(res, 'Image list');
      images.push(...page.images);
      if (query.max !== undefined && images.length >= query.max) return images.slice(0, query.max);
      // `next` is relative to the API root ("/v2/images?marker=..."); the root may carry a path prefix.
      path = typeof page.next === 'string' && page.images.length > 0 ? page.next : undefined;
    }
    return images;
  }

  async getImage(id: string): Promise<GlanceImage> {
    const res = await this.#expect(
      { method: 'GET', path: `/v2/images/${enc(id)}` },
      [200],
      `Reading image ${id} failed`,
    );
    return json<GlanceImage>(res, 'Image');
  }

  /** The image, or undefined when Glance says 404 (deleted, or never existed). */
  async findImage(id: string): Promise<GlanceImage | undefined> {
    const res = await this.request({ method: 'GET', path: `/v2/images/${enc(id)}` });
    if (res.status === 404) return undefined;
    if (res.status !== 200) throw glanceError(res, `Reading image ${id} failed`);
    return json<GlanceImage>(res, 'Image');
  }

  /** POST /v2/images; also returns the import methods the response advertises. */
  async createImage(fields: CreateImageFields): Promise<{ image: GlanceImage; importMethods: string[] }> {
    const { properties, ...base } = fields;
    const body: Record<string, unknown> = { ...properties, ...base };
    for (const k of Object.keys(body)) if (body[k] === undefined) delete body[k];
    const res = await this.#expect(
      {
        method: 'POST',
        path: '/v2/images',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      },
      [201],
      `Creating image ${fields.name ?? fields.id ?? ''}`.trim() + ' failed',
    );
    const header = res.headers['openstack-image-import-methods'];
    return {
      image: json<GlanceImage>(res, 'Created image'),
      importMethods: header ? header.split(',').map((m) => m.trim()) : [],
    };
  }

  /** JSON-patch update (add/replace/remove of fields, properties and /tags). */
  async updateImage(id: string, ops: PatchOp[]): Promise<GlanceImage> {
    const res = await this.#expect(
      {
        method: 'PATCH',
        path: `/v2/images/${enc(id)}`,
        headers: { 'content-type': 'application/openstack-images-v2.1-json-patch' },
        body: JSON.stringify(ops),
      },
      [200],
      `Updating image ${id} failed`,
    );
    return json<GlanceImage>(res, 'Updated image');
  }

  async deleteImage(id: string): Promise<void> {
    await this.#expect({ method: 'DELETE', path: `/v2/images/${enc(id)}` }, [204], `Deleting image ${id} failed`);
  }

  /** Deletes an image; one already gone is what was wanted (its not_found is no error). */
  async deleteImageIfPresent(id: string): Promise<void> {
    await this.deleteImage(id).catch((e: unknown) => {
      if (!(e instanceof EngineError && e.code === 'glance.not_found')) throw e;
    });
  }

  async addTag(id: string, tag: string): Promise<void> {
    await this.#expect(
      { method: 'PUT', path: `/v2/images/${enc(id)}/tags/${enc(tag)}` },
      [204],
      `Tagging image ${id} failed`,
    );
  }

  async removeTag(id: string, tag: string): Promise<void> {
    await this.#expect(
      { method: 'DELETE', path: `/v2/images/${enc(id)}/tags/${enc(tag)}` },
      [204],
      `Removing tag ${tag} of image ${id} failed`,
    );
  }

  async deactivate(id: string): Promise<void> {
    await this.#expect(
      { method: 'POST', path: `/v2/images/${enc(id)}/actions/deactivate` },
      [204],
      `Deactivating image ${id} failed`,
    );
  }

  async reactivate(id: string): Promise<void> {
    await this.#expect(
      { method: 'POST', path: `/v2/images/${enc(id)}/actions/reactivate` },
      [204],
      `Reactivating image ${id} failed`,
    );
  }

  /** Tasks of an image (import diagnostics), newest first. */
  async imageTasks(id: string): Promise<GlanceTask[]> {
    const res = await this.#expect(
      { method: 'GET', path: `/v2/images/${enc(id)}/tasks` },
      [200],
      `Reading the tasks of image ${id} failed`,
    );
    const tasks = json<{ tasks?: GlanceTask[] }>(res, 'Image tasks').tasks ?? [];
    return tasks.sort((a, b) => b.created_at.localeCompare(a.created_at));
  }
}
