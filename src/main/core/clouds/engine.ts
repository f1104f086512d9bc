/**
 * The engine facade: what the Electron layer, the CLI and the tests all drive. Plain Node;
 * never imports electron. Side effects start in methods, never in the constructor.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { dataHome, localServerDir } from '../io/data-home';
import type {
  CloudSummary,
  ImageSummary,
  ProjectSummary,
  RegionCapabilities,
  RegionSummary,
} from '../../../shared/dto';
import { findCloud, loadClouds, normaliseCloud, type ConfigContext, type CloudEntry } from '../openstack/clouds-config';
import type { SavedClouds } from './saved-clouds';
import { imageEndpoint, objectStoreEndpoint, regionsOf } from '../openstack/catalog';
import { accountUrlOf, ObjectStoreClient } from '../openstack/object-store-client';
import { GlanceClient, toImageSummary } from '../openstack/glance-client';
import { DEFAULT_TIMEOUTS, HttpClient, type HttpTimeouts } from '../openstack/http-client';
import { DEFAULT_RENEW_MARGIN_MS, KeystoneSession } from '../openstack/keystone-session';
import type { CreateImageFields } from '../openstack/glance-types';

export interface EngineOptions {
  /** Environment to read OS_* and OS_CLIENT_CONFIG_FILE from (default: process.env). */
  env?: Record<string, string | undefined>;
  cwd?: string;
  home?: string;
  /** Renew a token when it has less than this left (default 120 s, as keystoneauth). */
  tokenRenewMarginMs?: number;
  timeouts?: HttpTimeouts;
  /** The local server's data folder (default: `staging-server` in the data folder). */
  localServerDir?: string;
  /** Clouds saved in the app (their secrets sealed); clouds.yaml wins on a name both have. */
  savedClouds?: SavedClouds;
  /**
   * Clouds the app provides itself, resolved by name before clouds.yaml (the local server, whose
   * port changes from run to run: distribution/local-cloud.ts makes it). The engine knows none by
   * name: what is built in is decided where the engine is composed.
   */
  providedClouds?: readonly ProvidedCloud[];
}

/** A cloud whose clouds.yaml block is computed when it is used (it throws a coded error when it cannot be). */
export interface ProvidedCloud {
  name: string;
  /** Where the entry comes from, as `clouds list` shows it. */
  source: string;
  block: () => Record<string, unknown>;
  /** The fields an image is created with on this cloud, from the job's (default: unchanged). */
  createFields?: (fields: CreateImageFields) => CreateImageFields;
}

export class Engine {
  readonly #ctx: ConfigContext;
  readonly #http = new Map<string, HttpClient>();
  readonly #sessions = new Map<string, KeystoneSession>();
  readonly #glance = new Map<string, GlanceClient>();
  #renewMarginMs: number;
  readonly #timeouts: HttpTimeouts;
  /** The local server's data folder: the `local` cloud when clouds.yaml has no entry of that name. */
  readonly localServerDir: string;
  /** Where copies downloaded for a push live (replicate): `<data folder>/cache`. */
  readonly cacheDir: string;
  readonly #saved: SavedClouds | undefined;
  readonly #provided: ReadonlyMap<string, ProvidedCloud>;

  constructor(options: EngineOptions = {}) {
    this.#ctx = { env: options.env ?? process.env, cwd: options.cwd ?? process.cwd(), home: options.home ?? homedir() };
    this.#renewMarginMs = options.tokenRenewMarginMs ?? DEFAULT_RENEW_MARGIN_MS;
    this.#timeouts = options.timeouts ?? DEFAULT_TIMEOUTS;
    this.localServerDir = options.localServerDir ?? localServerDir(this.#ctx.env);
    this.cacheDir = join(dataHome(this.#ctx.env), 'cache');
    this.#saved = options.savedClouds;
    this.#provided = new Map((options.providedClouds ?? []).map((c) => [c.name, c]));
  }

  /** Renew tokens this long before they expire: sessions made from now on (the next sign-in of each cloud). */
  get tokenRenewMarginMs(): number {
    return this.#renewMarginMs;
  }

  setTokenRenewMargin(ms: number): void {
    this.#renewMarginMs = ms;
    this.#sessions.clear();
    this.#glance.clear();
  }

  listClouds(): CloudSummary[] {
    const fromFiles = loadClouds(this.#ctx).clouds;
    const saved = (this.#saved?.list() ?? [])
      .filter((s) => !fromFiles.some((c) => c.name === s.name))
      .map((s) => normaliseCloud(s.name, 'saved in the app', this.#saved?.config(s.name) ?? {}));
    return [...fromFiles, ...saved].map((c) => ({
      name: c.name,
      authUrl: c.auth.authUrl,
      authType: c.authType,
      regions: c.regions,
      source: c.source,
      insecure: !c.verify,
    }));
  }

  /** Whether a cloud of that name exists (provided, clouds.yaml or saved in the app), without signing in. */
  hasCloud(name: string): boolean {
    return this.#provided.has(name) || this.listClouds().some((c) => c.name === name);
  }

  /** The fields an image is created with on a cloud: a provided cloud may adapt the job's. */
  createFieldsFor(cloud: string, fields: CreateImageFields): CreateImageFields {
    return this.#provided.get(cloud)?.createFields?.(fields) ?? fields;
  }

  #cloud(name: string): CloudEntry {
    // A provided cloud wins over clouds.yaml: `local` is always this data folder's server (an
    // entry of that name may name an old port).
    const provided = this.#provided.get(name);
    if (provided !== undefined) return normaliseCloud(name, provided.source, provided.block());
    const loaded = loadClouds(this.#ctx);
    if (!loaded.clouds.some((c) => c.name === name) && this.#saved?.has(name) === true)
      return normaliseCloud(name, 'saved in the app', this.#saved.load(name)); // the secret, opened in memory only
    return findCloud(loaded, name);
  }

  /** One HTTP client per TLS setting, shared by the clouds that use it. */
  #httpFor(cloud: CloudEntry): HttpClient {
    const key = JSON.stringify([cloud.cacert ?? null, cloud.verify]);
    let http = this.#http.get(key);
    if (http === undefined) {
      http = new HttpClient(this.#timeouts, { cacert: cloud.cacert, verify: cloud.verify });
      this.#http.set(key, http);
    }
    return http;
  }

  /** One session per cloud, reused while its clouds.yaml entry is unchanged. */
  session(name: string): KeystoneSession {
    const cloud = this.#cloud(name);
    const existing = this.#sessions.get(name);
    if (existing !== undefined && JSON.stringify(existing.cloud) === JSON.stringify(cloud)) return existing;
    const session = new KeystoneSession(cloud, this.#httpFor(cloud), { renewMarginMs: this.#renewMarginMs });
    this.#sessions.set(name, session);
    for (const key of this.#glance.keys()) if (key.startsWith(`${name}\n`)) this.#glance.delete(key);
    return session;
  }

  /** Regions whose catalog has an image endpoint on the cloud's interface. */
  async listRegions(cloudName: string): Promise<RegionSummary[]> {
    const session = this.session(cloudName);
    const { catalog } = await session.auth();
    const eps = regionsOf(catalog, 'image', session.cloud.interface);
    if (eps.length === 0) imageEndpoint(catalog, session.cloud.regions[0] ?? '', session.cloud.interface); // throws the coded error
    return eps.map((e) => ({ id: e.region, imageEndpoint: e.url }));
  }

  async listProjects(cloudName: string): Promise<ProjectSummary[]> {
    const session = this.session(cloudName);
    const current = (await session.auth()).projectId;
    return (await session.listProjects()).map((p) => ({ ...p, current: p.id === current }));
  }

  /** Scope the cloud's session to another project of the same user (no password asked again). */
  async switchProject(cloudName: string, projectId: string): Promise<void> {
    const session = this.session(cloudName);
    await session.switchProject(projectId);
    for (const key of this.#glance.keys()) if (key.startsWith(`${cloudName}\n`)) this.#glance.delete(key);
  }

  /** The Glance client of a cloud's region (the catalog's endpoint on the cloud's interface). */
  async glance(cloudName: string, region: string): Promise<GlanceClient> {
    const session = this.session(cloudName);
    const key = `${cloudName}\n${region}`;
    const cached = this.#glance.get(key);
    if (cached !== undefined && cached.session === session) return cached;
    const { catalog } = await session.auth();
    const endpoint = session.cloud.imageEndpointOverride ?? imageEndpoint(catalog, region, session.cloud.interface);
    const client = new GlanceClient(endpoint, session, session.http);
    this.#glance.set(key, client);
    return client;
  }

  /**
   * The object store of a cloud's region (the relay goes through it); objectstore.not_offered
   * when the catalog has none there and clouds.yaml names none.
   */
  async objectStore(cloudName: string, region: string): Promise<ObjectStoreClient> {
    const session = this.session(cloudName);
    const { catalog, projectId } = await session.auth();
    const url = accountUrlOf(
      session.cloud.objectStoreEndpointOverride,
      objectStoreEndpoint(catalog, region, session.cloud.interface),
      projectId,
    );
    return new ObjectStoreClient(url, session, session.http);
  }

  /** Whether a region has an object store (in its catalog, or named by clouds.yaml). */
  async hasObjectStore(cloudName: string, region: string): Promise<boolean> {
    const session = this.session(cloudName);
    const { catalog } = await session.auth();
    return (
      session.cloud.objectStoreEndpointOverride !== undefined ||
      objectStoreEndpoint(catalog, region, session.cloud.interface) !== undefined
    );
  }

  /**
   * The methods a target in this region may use and the stores it may write to: only these are
   * offered. relay is offered where the region has an object store and Glance web-download.
   */
  async regionCapabilities(cloudName: string, region: string): Promise<RegionCapabilities> {
    const glance = await this.glance(cloudName, region);
    const [offered, stores, objectStore] = await Promise.all([
      glance.importMethods(),
      glance.stores(),
      this.hasObjectStore(cloudName, region),
    ]);
    const relay = objectStore && offered.includes('web-download') ? ['relay'] : [];
    return {
      region,
      methods: ['direct', ...relay, ...offered.filter((m) => m !== 'direct')],
      stores: stores.map((s) => ({
        id: s.id,
        default: s.default,
        ...(s.description ? { description: s.description } : {}),
      })),
    };
  }

  async listImages(cloudName: string, region: string): Promise<ImageSummary[]> {
    const glance = await this.glance(cloudName, region);
    return (await glance.listImages()).map(toImageSummary);
  }

  async close(): Promise<void> {
    this.#sessions.clear();
    this.#glance.clear();
    await Promise.all([...this.#http.values()].map((h) => h.close()));
    this.#http.clear();
  }
}
