/**
 * The object store (OpenStack Swift, `object-store` in the catalog) of one region: what the relay
 * method needs and nothing more. Containers, objects streamed with their length and checked
 * against the ETag Swift computed, Static Large Object manifests, listings, deletes that count a
 * missing object as deleted, the temp-url keys of the account and of a container, and /info.
 * Every call takes its token from the Keystone session (token-exchange.ts); /info needs none.
 */
import { EngineError } from '../io/errors';
import type { HttpClient, HttpResponse } from './http-client';
import type { KeystoneSession } from './keystone-session';
import { objectStoreError } from './object-store-errors';
import { withToken } from './token-exchange';

export interface SwiftInfo {
  slo?: { max_manifest_segments?: number; min_segment_size?: number; max_manifest_size?: number };
  tempurl?: { allowed_digests?: string[]; methods?: string[] };
  swift?: { max_file_size?: number };
}

export interface ListedObject {
  name: string;
  bytes: number;
  hash: string;
  last_modified: string;
}

export interface SloSegment {
  path: string;
  etag: string;
  size_bytes: number;
}

interface Call {
  method: 'GET' | 'HEAD' | 'PUT' | 'POST' | 'DELETE';
  /** Below the account: '' (the account), 'container', 'container/object'. Already encoded. */
  path: string;
  query?: string;
  headers?: Record<string, string>;
  body?: string | Buffer | (() => AsyncIterable<Uint8Array>);
  signal?: AbortSignal;
}

/** A path below the account, each part encoded (object names keep their slashes). */
export function objectPath(container: string, object?: string): string {
  const c = encodeURIComponent(container);
  return object === undefined ? c : `${c}/${object.split('/').map(encodeURIComponent).join('/')}`;
}

const TEMP_URL_KEYS = ['temp-url-key', 'temp-url-key-2'];

export class ObjectStoreClient {
  #info: Promise<SwiftInfo> | undefined;

  constructor(
    /** The account URL: https://swift.example/v1/AUTH_<project>. */
    readonly accountUrl: string,
    readonly session: KeystoneSession,
    private readonly http: HttpClient,
  ) {}

  /** scheme://host[:port]/ of the proxy, where /info lives. */
  get origin(): string {
    return new URL(this.accountUrl).origin;
  }

  /** The URL path of an object, as a TempURL signs it (/v1/AUTH_x/container/object). */
  pathOf(container: string, object: string): string {
    return `${new URL(this.accountUrl).pathname.replace(/\/+$/, '')}/${objectPath(container, object)}`;
  }

  async call(c: Call): Promise<HttpResponse> {
    const url = `${this.accountUrl.replace(/\/+$/, '')}${c.path ? `/${c.path}` : ''}${c.query ? `?${c.query}` : ''}`;
    return withToken(
      this.session,
      (token) =>
        this.http.send({
          method: c.method,
          url,
          headers: { 'x-auth-token': token, ...c.headers },
          body: typeof c.body === 'function' ? c.body() : c.body,
          signal: c.signal,
        }),
      () => undefined,
    );
  }

  async #expect(c: Call, ok: number[], what: string): Promise<HttpResponse> {
    const res = await this.call(c);
    if (!ok.includes(res.status)) throw objectStoreError(res, what);
    return res;
  }

  /** The cluster's capabilities (GET /info, no token), cached for the client's life. */
  async info(): Promise<SwiftInfo> {
    this.#info ??= (async () => {
      const res = await this.http.send({ method: 'GET', url: `${this.origin}/info` });
      if (res.status !== 200) return {}; // /info may be off: defaults apply
      try {
        return JSON.parse(res.body.toString('utf8')) as SwiftInfo;
      } catch {
        return {};
      }
    })().catch((e: unknown) => {
      this.#info = undefined;
      throw e;
    });
    return this.#info;
  }

  /** The status of a one-byte GET of a URL without a token (does a TempURL work?). */
  async probe(url: string): Promise<number> {
    const res = await this.http.send({ method: 'GET', url, headers: { range: 'bytes=0-0' } });
    return res.status;
  }

  /** Creates the container when missing (PUT answers 201, or 202 when it exists). */
  async ensureContainer(container: string, headers: Record<string, string> = {}): Promise<void> {
    await this.#expect(
      { method: 'PUT', path: objectPath(container), headers },
      [201, 202],
      `Creating container ${container}`,
    );
  }

  /** Deletes a container if it is empty; false when it is not (409) or a listing raced it. */
  async deleteContainerIfEmpty(container: string): Promise<boolean> {
    const res = await this.call({ method: 'DELETE', path: objectPath(container) });
    if (res.status === 204 || res.status === 404) return true;
    if (res.status === 409) return false;
    throw objectStoreError(res, `Deleting container ${container}`);
  }

  /** PUT an object of `size` bytes; the answer's ETag (the MD5 Swift computed of what it stored). */
  async putObject(
    container: string,
    object: string,
    body: () => AsyncIterable<Uint8Array>,
    size: number,
    signal?: AbortSignal,
  ): Promise<string> {
    const res = await this.#expect(
      {
        method: 'PUT',
        path: objectPath(container, object),
        headers: { 'content-length': String(size), 'content-type': 'application/octet-stream' },
        body,
        signal,
      },
      [201],
      `Writing ${container}/${object}`,
    );
    return (res.headers.etag ?? '').replace(/"/g, '');
  }

  /** Size and ETag of an object, or undefined when there is none. */
  async headObject(container: string, object: string): Promise<{ size: number; etag: string } | undefined> {
    const res = await this.call({ method: 'HEAD', path: objectPath(container, object) });
    if (res.status === 404) return undefined;
    if (res.status !== 200) throw objectStoreError(res, `Reading ${container}/${object}`);
    return { size: Number(res.headers['content-length'] ?? 0), etag: (res.headers.etag ?? '').replace(/"/g, '') };
  }

  /** Every object under a prefix (pages of 10000 followed by marker). */
  async list(container: string, prefix: string): Promise<ListedObject[]> {
    const out: ListedObject[] = [];
    for (let marker = ''; ;) {
      const q = new URLSearchParams({ format: 'json', prefix, ...(marker ? { marker } : {}) });
      const res = await this.call({ method: 'GET', path: objectPath(container), query: q.toString() });
      if (res.status === 404) return out;
      if (res.status !== 200 && res.status !== 204) throw objectStoreError(res, `Listing ${container}`);
      const page = res.status === 204 ? [] : (JSON.parse(res.body.toString('utf8')) as ListedObject[]);
      out.push(...page);
      const last = page.at(-1);
      if (last === undefined) return out;
      marker = last.name;
    }
  }

  /**
   * Writes a Static Large Object manifest. Swift checks each segment's size and ETag: the
   * segments it refused (missing, or other bytes) are returned by name; none means written.
   */
  async putSloManifest(container: string, object: string, segments: SloSegment[]): Promise<string[]> {
    const res = await this.call({
      method: 'PUT',
      path: objectPath(container, object),
      query: 'multipart-manifest=put',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(segments),
    });
    if (res.status === 201) return [];
    if (res.status === 400) {
      try {
        const errors = (JSON.parse(res.body.toString('utf8')) as { Errors?: [string, string][] }).Errors ?? [];
        if (errors.length > 0) return errors.map(([name]) => name);
      } catch {
        /* not the bulk answer: reported below */
      }
    }
    throw objectStoreError(res, `Writing the manifest ${container}/${object}`);
  }

  /**
   * Deletes an object; a missing one counts as deleted. `withSegments` on an SLO manifest deletes
   * the segments it lists too (?multipart-manifest=delete, server side, one call).
   */
  async deleteObject(container: string, object: string, withSegments = false): Promise<void> {
    const res = await this.call({
      method: 'DELETE',
      path: objectPath(container, object),
      ...(withSegments ? { query: 'multipart-manifest=delete', headers: { accept: 'application/json' } } : {}),
    });
    if (withSegments && res.status === 200) {
      // The bulk answer: 200 even when a segment could not be deleted; its Errors say which.
      const r = JSON.parse(res.body.toString('utf8') || '{}') as { Errors?: unknown[]; 'Response Status'?: string };
      if ((r.Errors ?? []).length > 0 && !/^(200|404)/.test(r['Response Status'] ?? ''))
        throw new EngineError(
          'objectstore.http',
          `Deleting ${container}/${object}: ${JSON.stringify(r.Errors).slice(0, 300)}`,
          {
            hint: 'Some segments could not be deleted; the next sweep tries again.',
          },
        );
      return;
    }
    if (res.status !== 204 && res.status !== 404) throw objectStoreError(res, `Deleting ${container}/${object}`);
  }

  /** The account's temp-url keys (only its owner sees them). */
  async accountTempUrlKeys(): Promise<string[]> {
    const res = await this.#expect({ method: 'HEAD', path: '' }, [200, 204], 'Reading the account');
    return TEMP_URL_KEYS.map((k) => res.headers[`x-account-meta-${k}`]).filter((v): v is string => !!v);
  }

  async setAccountTempUrlKey(key: string): Promise<void> {
    await this.#expect(
      { method: 'POST', path: '', headers: { 'x-account-meta-temp-url-key': key } },
      [204],
      'Setting the account temp-url key',
    );
  }

  /** A container's temp-url keys (only the account's owner sees them). */
  async containerTempUrlKeys(container: string): Promise<string[]> {
    const res = await this.#expect({ method: 'HEAD', path: objectPath(container) }, [200, 204], `Reading ${container}`);
    return TEMP_URL_KEYS.map((k) => res.headers[`x-container-meta-${k}`]).filter((v): v is string => !!v);
  }

  async setContainerTempUrlKey(container: string, key: string): Promise<void> {
    await this.#expect(
      { method: 'POST', path: objectPath(container), headers: { 'x-container-meta-temp-url-key': key } },
      [204],
      `Setting the temp-url key of ${container}`,
    );
  }
}

/** The account URL of a region's object store: the catalog's, or the cloud's override. */
export function accountUrlOf(override: string | undefined, fromCatalog: string | undefined, projectId: string): string {
  const url = override ?? fromCatalog;
  if (url === undefined)
    throw new EngineError('objectstore.not_offered', 'This region has no object store (object-store) in its catalog.', {
      hint: "The relay method goes through the region's object store (Swift); use --method direct there.",
    });
  return url.replace(/%\(project_id\)s|\$\(project_id\)s/g, projectId);
}
