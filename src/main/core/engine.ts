/**
 * The engine facade: what the Electron layer, the CLI and the tests all drive. Plain Node;
 * never imports electron. Side effects start in methods, never in the constructor.
 */
import { homedir } from 'node:os';
import type { CloudSummary, ImageSummary, RegionSummary } from '../../shared/dto';
import { findCloud, loadClouds, type ConfigContext, type CloudEntry } from './openstack/clouds-config';
import { imageEndpoint, regionsOf } from './openstack/catalog';
import { GlanceClient, toImageSummary } from './openstack/glance-client';
import { HttpClient } from './openstack/http-client';
import { DEFAULT_RENEW_MARGIN_MS, KeystoneSession } from './openstack/keystone-session';

export interface EngineOptions {
  /** Environment to read OS_* and OS_CLIENT_CONFIG_FILE from (default: process.env). */
  env?: Record<string, string | undefined>;
  cwd?: string;
  home?: string;
  /** Renew a token when it has less than this left (default 120 s, as keystoneauth). */
  tokenRenewMarginMs?: number;
}

export class Engine {
  readonly #ctx: ConfigContext;
  readonly #http = new HttpClient();
  readonly #sessions = new Map<string, KeystoneSession>();
  readonly #renewMarginMs: number;

  constructor(options: EngineOptions = {}) {
    this.#ctx = { env: options.env ?? process.env, cwd: options.cwd ?? process.cwd(), home: options.home ?? homedir() };
    this.#renewMarginMs = options.tokenRenewMarginMs ?? DEFAULT_RENEW_MARGIN_MS;
  }

  listClouds(): CloudSummary[] {
    return loadClouds(this.#ctx).clouds.map((c) => ({
      name: c.name,
      authUrl: c.auth.authUrl,
      authType: c.authType,
      regions: c.regions,
      source: c.source,
    }));
  }

  #cloud(name: string): CloudEntry {
    return findCloud(loadClouds(this.#ctx), name);
  }

  /** One session per cloud, reused while its entry is unchanged. */
  #session(name: string): KeystoneSession {
    const cloud = this.#cloud(name);
    const existing = this.#sessions.get(name);
    if (existing !== undefined && JSON.stringify(existing.cloud) === JSON.stringify(cloud)) return existing;
    const session = new KeystoneSession(cloud, this.#http, this.#renewMarginMs);
    this.#sessions.set(name, session);
    return session;
  }

  /** Regions whose catalog has an image endpoint on the cloud's interface. */
  async listRegions(cloudName: string): Promise<RegionSummary[]> {
    const session = this.#session(cloudName);
    const { catalog } = await session.auth();
    const eps = regionsOf(catalog, 'image', session.cloud.interface);
    if (eps.length === 0) imageEndpoint(catalog, session.cloud.regions[0] ?? '', session.cloud.interface); // throws the coded error
    return eps.map((e) => ({ id: e.region, imageEndpoint: e.url }));
  }

  async glance(cloudName: string, region: string): Promise<GlanceClient> {
    const session = this.#session(cloudName);
    const { catalog } = await session.auth();
    return new GlanceClient(imageEndpoint(catalog, region, session.cloud.interface), session, this.#http);
  }

  async listImages(cloudName: string, region: string): Promise<ImageSummary[]> {
    const glance = await this.glance(cloudName, region);
    return (await glance.listImages()).map(toImageSummary);
  }

  async close(): Promise<void> {
    this.#sessions.clear();
    await this.#http.close();
  }
}
