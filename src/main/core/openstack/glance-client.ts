/**
 * Glance v2 image API client for one region endpoint. Every call takes its token from the
 * Keystone session just before it is sent, so a long series of calls never uses a stale one.
 */
import type { ImageStatus, ImageSummary } from '../../../shared/dto';
import { EngineError } from '../errors';
import { glanceError } from './glance-errors';
import type { HttpClient, HttpRequest, HttpResponse } from './http-client';
import type { KeystoneSession } from './keystone-session';

/** The image document as Glance returns it (custom properties are flattened in). */
export interface GlanceImage {
  id: string;
  name: string | null;
  status: ImageStatus;
  disk_format: string | null;
  container_format: string | null;
  visibility: string;
  size: number | null;
  owner: string | null;
  created_at: string;
  updated_at: string;
  [property: string]: unknown;
}

export interface ListImagesQuery {
  name?: string;
  status?: string;
  limit?: number;
}

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

export class GlanceClient {
  readonly root: string;

  constructor(
    endpoint: string,
    private readonly session: KeystoneSession,
    private readonly http: HttpClient,
  ) {
    this.root = glanceRoot(endpoint);
  }

  async #send(req: Omit<HttpRequest, 'url'> & { path: string }): Promise<HttpResponse> {
    const { token } = await this.session.auth();
    return this.http.send({
      method: req.method,
      url: `${this.root}${req.path}`,
      headers: { accept: 'application/json', 'x-auth-token': token, ...req.headers },
      body: req.body,
    });
  }

  /** Every image visible to the project, following Glance's `next` links to the end. */
  async listImages(query: ListImagesQuery = {}): Promise<GlanceImage[]> {
    const params = new URLSearchParams();
    params.set('limit', String(query.limit ?? 200));
    if (query.name !== undefined) params.set('name', query.name);
    if (query.status !== undefined) params.set('status', query.status);
    let path: string | undefined = `/v2/images?${params.toString()}`;
    const images: GlanceImage[] = [];
    const seen = new Set<string>();
    while (path !== undefined) {
      if (seen.has(path))
        throw new EngineError('glance.http', `Glance returned the same page link twice (${path}).`, {
          hint: 'This is a Glance pagination bug; report it to the operator.',
        });
      seen.add(path);
      const res = await this.#send({ method: 'GET', path });
      if (res.status !== 200) throw glanceError(res, 'Listing images failed');
      const page = JSON.parse(res.body.toString('utf8')) as { images: GlanceImage[]; next?: string };
      images.push(...page.images);
      // `next` is relative to the API root ("/v2/images?marker=..."); the root may carry a path prefix.
      path = typeof page.next === 'string' && page.images.length > 0 ? page.next : undefined;
    }
    return images;
  }
}
