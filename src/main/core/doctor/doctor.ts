/**
 * The cloud readiness doctor: before a long upload (and before turning on Horizon's direct
 * upload), what will go wrong with this cloud, and what exactly to change. Checks run in order
 * and a check that makes the next ones meaningless (Keystone unreachable, a wrong password)
 * stops them. It uploads a small probe image and deletes it, to measure throughput.
 */
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { relayCheck } from './relay-check';
import { conversionCheck, type ConversionMemory } from './conversion-check';
import type { Engine } from '../clouds/engine';
import { toErrorInfo } from '../io/errors';
import { uploadImageData } from '../openstack/glance-data';
import { regionsOf } from '../openstack/catalog';
import type { KeystoneSession } from '../openstack/keystone-session';
import type { JobRepository } from '../queue/job-repository';
import { OPEN_STATES } from '../queue/target-state';
import { horizonChecks } from './horizon';
import { cacertFix, proxyFixes, tokenFix } from './fixes';
import { summarize, type DoctorCheck, type DoctorReport } from './report';

export interface DoctorOptions {
  cloud: string;
  /** Only this region (else every region with an image endpoint). */
  region?: string;
  /** The Horizon origin to check direct upload for (https://horizon.example.com). */
  horizonOrigin?: string;
  /** The largest upload waiting for this cloud, bytes (from the queue): compared with the token's life. */
  largestQueuedBytes?: number;
  /** Size of the probe upload (default 8 MiB); 0 skips it (and the relay's probe). */
  probeBytes?: number;
  /** The relay may set the object-store account's temp-url key (the setting relayAccountKey). */
  relayAccountKey?: boolean;
  /** Where what the conversion probe finds is remembered (the queue's region facts). */
  conversionMemory?: ConversionMemory;
}

/** The largest upload still to do for a cloud (open or paused targets), in bytes: 0 when none. */
export function largestQueuedFor(repo: JobRepository, cloud: string): number {
  const jobs = new Set(
    repo
      .targetsIn([...OPEN_STATES, 'paused'])
      .filter((t) => t.cloud === cloud)
      .map((t) => t.jobId),
  );
  return Math.max(0, ...[...jobs].map((id) => repo.getJob(id).sourceSize ?? 0));
}

function minutes(s: number): string {
  return s < 120 ? `${Math.round(s)} s` : s < 7200 ? `${Math.round(s / 60)} min` : `${(s / 3600).toFixed(1)} h`;
}

export async function runDoctor(engine: Engine, o: DoctorOptions): Promise<DoctorReport> {
  const checks: DoctorCheck[] = [];
  const throughput: Record<string, number> = {};
  const done = (regions: string[]): DoctorReport =>
    summarize({ cloud: o.cloud, regions, horizonOrigin: o.horizonOrigin ?? null, checks, throughput });
  let session;
  try {
    session = engine.session(o.cloud);
  } catch (e) {
    const info = toErrorInfo(e);
    checks.push({
      id: 'config',
      title: `The cloud "${o.cloud}"`,
      status: 'fail',
      detail: info.message,
      why: info.hint,
    });
    return done([]);
  }

  const auth = await signIn(session, o.cloud, checks);
  if (auth === undefined) return done([]);
  const lifetimeS = (auth.expiresAt - auth.issuedAt) / 1000;
  checks.push({
    id: 'token.lifetime',
    title: 'Token lifetime',
    status: 'pass',
    detail: `Tokens live ${minutes(lifetimeS)} (expires_at - issued_at).`,
  });

  // Regions and their endpoints per interface.
  const iface = session.cloud.interface;
  const all = [...new Set(auth.catalog.find((s) => s.type === 'image')?.endpoints.map((e) => e.region) ?? [])];
  if (all.length === 0) {
    checks.push({
      id: 'catalog.image',
      title: 'An image service in the catalog',
      status: 'fail',
      detail: `The catalog has no image service (services: ${auth.catalog.map((s) => s.type).join(', ')}).`,
    });
    return done([]);
  }
  const regions =
    o.region !== undefined
      ? [o.region]
      : all.filter((r) => regionsOf(auth.catalog, 'image', iface).some((e) => e.region === r));
  for (const region of regions) {
    const eps = auth.catalog.find((s) => s.type === 'image')?.endpoints.filter((e) => e.region === region) ?? [];
    const byIface = eps.map((e) => `${e.interface} ${e.url}`).join('; ');
    const mine = eps.find((e) => e.interface === iface);
    checks.push({
      id: `catalog.endpoints:${region}`,
      region,
      title: `Image endpoints of ${region}`,
      status: mine !== undefined ? 'pass' : 'fail',
      detail: eps.length === 0 ? `No image endpoint in region ${region} (regions: ${all.join(', ')}).` : byIface,
      ...(mine === undefined
        ? { why: `This cloud entry uses the ${iface} interface, and ${region} has no ${iface} image endpoint.` }
        : {}),
    });
    if (mine === undefined) continue;
    await regionChecks(engine, o, region, checks, throughput, lifetimeS);
    if (o.horizonOrigin !== undefined) {
      const pub = eps.find((e) => e.interface === 'public');
      await horizonChecks(engine, o, region, pub?.url, auth.token, checks, iface);
    }
  }
  return done(regions);
}

/** Keystone: reachable, TLS, then the sign-in. undefined: the doctor stops here (the failure is a check). */
async function signIn(
  session: KeystoneSession,
  cloud: string,
  checks: DoctorCheck[],
): Promise<Awaited<ReturnType<KeystoneSession['auth']>> | undefined> {
  const identity = session.identityUrl;
  try {
    const res = await session.http.send({ method: 'GET', url: identity, headers: { accept: 'application/json' } });
    checks.push({
      id: 'keystone.reachable',
      title: `Keystone answers at ${identity}`,
      status: res.status < 500 ? 'pass' : 'fail',
      detail: `HTTP ${res.status}${identity.startsWith('https:') ? ', TLS verified' : ', plain http'}`,
    });
  } catch (e) {
    const info = toErrorInfo(e);
    const tls = info.code === 'net.tls';
    checks.push({
      id: 'keystone.reachable',
      title: `Keystone answers at ${identity}`,
      status: 'fail',
      detail: info.message,
      why: tls
        ? 'Nothing can sign in until the certificate chain is trusted.'
        : 'Nothing works without Keystone: the doctor stops here.',
      ...(tls ? { fixes: [cacertFix(cloud)] } : {}),
    });
    return undefined;
  }
  try {
    const auth = await session.auth();
    checks.push({
      id: 'auth',
      title: 'Sign-in',
      status: 'pass',
      detail: `Signed in to project ${auth.projectName} (roles: ${auth.roles.join(', ') || 'none'}).`,
    });
    return auth;
  } catch (e) {
    const info = toErrorInfo(e);
    checks.push({ id: 'auth', title: 'Sign-in', status: 'fail', detail: info.message, why: info.hint });
    return undefined;
  }
}

type Glance = Awaited<ReturnType<Engine['glance']>>;

/** Glance of one region: its version, what it offers, its quota, a timed probe upload, and the token's life against it. */
async function regionChecks(
  engine: Engine,
  o: DoctorOptions,
  region: string,
  checks: DoctorCheck[],
  throughput: Record<string, number>,
  lifetimeS: number,
): Promise<void> {
  const glance = await glanceCheck(engine, o, region, checks);
  if (glance === undefined) return;
  checks.push(await offersCheck(glance, region));
  checks.push(
    await relayCheck(engine, glance, {
      cloud: o.cloud,
      region,
      probe: (o.probeBytes ?? 8 * 1024 * 1024) > 0,
      allowAccountKey: o.relayAccountKey ?? false,
    }),
  );
  checks.push(
    await conversionCheck(glance, {
      cloud: o.cloud,
      region,
      probe: (o.probeBytes ?? 8 * 1024 * 1024) > 0,
      ...(o.conversionMemory !== undefined ? { memory: o.conversionMemory } : {}),
    }),
  );
  checks.push(await quotaCheck(glance, o, region));
  const rate = await probeUpload(glance, o, region, checks);
  if (rate === undefined) return;
  throughput[region] = rate;
  const probe = o.probeBytes ?? 8 * 1024 * 1024;
  checks.push({
    id: `glance.upload:${region}`,
    region,
    title: `A ${probe / (1024 * 1024)} MiB probe upload to ${region}`,
    status: 'pass',
    detail: `${(rate / 1e6).toFixed(1)} MB/s, image created, uploaded and deleted.`,
  });
  const largest = o.largestQueuedBytes ?? 0;
  if (largest > 0) checks.push(tokenLifeCheck(region, largest, rate, lifetimeS));
}

async function glanceCheck(
  engine: Engine,
  o: DoctorOptions,
  region: string,
  checks: DoctorCheck[],
): Promise<Glance | undefined> {
  try {
    const glance = await engine.glance(o.cloud, region);
    const version = await glance.apiVersion();
    checks.push({
      id: `glance.version:${region}`,
      region,
      title: `Glance in ${region}`,
      status: 'pass',
      detail: `Image API v${version} at ${glance.root}`,
    });
    return glance;
  } catch (e) {
    const info = toErrorInfo(e);
    checks.push({
      id: `glance.version:${region}`,
      region,
      title: `Glance in ${region}`,
      status: 'fail',
      detail: info.message,
      why: `Nothing can be uploaded to ${region} until its image endpoint answers.`,
      ...(info.code === 'net.tls' ? { fixes: [cacertFix(o.cloud)] } : {}),
    });
    return undefined;
  }
}

async function offersCheck(glance: Glance, region: string): Promise<DoctorCheck> {
  try {
    const [methods, stores] = await Promise.all([glance.importMethods(), glance.stores()]);
    return {
      id: `glance.offers:${region}`,
      region,
      title: `What ${region} offers`,
      status: 'pass',
      detail: `methods: direct${methods.length > 0 ? `, ${methods.join(', ')}` : ''}; stores: ${
        stores.length > 0
          ? stores.map((s) => s.id + (s.default ? ' (default)' : '')).join(', ')
          : 'one (not multi-store)'
      }`,
    };
  } catch (e) {
    return {
      id: `glance.offers:${region}`,
      region,
      title: `What ${region} offers`,
      status: 'warn',
      detail: toErrorInfo(e).message,
    };
  }
}

/** Quotas, where the cloud shows them (unified limits): does the largest queued upload fit? */
async function quotaCheck(glance: Glance, o: DoctorOptions, region: string): Promise<DoctorCheck> {
  const base = { id: `glance.quota:${region}`, region, title: `Quota in ${region}` };
  try {
    const res = await glance.request({ method: 'GET', path: '/v2/info/usage' });
    const usage =
      res.status === 200
        ? ((JSON.parse(res.body.toString('utf8')) as { usage?: Record<string, { limit: number; usage: number }> })
            .usage ?? {})
        : undefined;
    if (usage === undefined)
      return { ...base, status: 'skip', detail: `Not exposed (GET /v2/info/usage: HTTP ${res.status}).` };
    const size = usage.image_size_total;
    const left = size === undefined || size.limit < 0 ? undefined : size.limit * 1024 * 1024 - size.usage * 1024 * 1024;
    const tooBig = left !== undefined && (o.largestQueuedBytes ?? 0) > left;
    return {
      ...base,
      status: tooBig ? 'fail' : 'pass',
      detail:
        Object.keys(usage).length === 0
          ? 'No unified limits on this cloud: no image quota to check (a per-image size cap is not exposed by the API).'
          : Object.entries(usage)
              .map(([k, v]) => `${k}: ${v.usage} of ${v.limit < 0 ? 'unlimited' : v.limit}`)
              .join('; '),
      ...(tooBig ? { why: 'The largest queued upload does not fit in what is left of the image quota.' } : {}),
    };
  } catch (e) {
    return { ...base, status: 'skip', detail: toErrorInfo(e).message };
  }
}

/** A small upload and its deletion, timed: bytes per second, or undefined (the failure is a check). */
async function probeUpload(
  glance: Glance,
  o: DoctorOptions,
  region: string,
  checks: DoctorCheck[],
): Promise<number | undefined> {
  const probe = o.probeBytes ?? 8 * 1024 * 1024;
  if (probe <= 0) return undefined;
  let id: string | undefined;
  try {
    const { image } = await glance.createImage({
      name: `glance-uploader-doctor-probe-${randomBytes(4).toString('hex')}`,
      disk_format: 'raw',
      container_format: 'bare',
      visibility: 'private',
    });
    id = image.id;
    const data = randomBytes(probe); // incompressible: a proxy that compresses cannot flatter the figure
    const t0 = performance.now();
    await uploadImageData(glance, image.id, { open: () => Readable.from([data]), size: probe });
    return probe / ((performance.now() - t0) / 1000);
  } catch (e) {
    const info = toErrorInfo(e);
    const proxy =
      info.code === 'glance.over_limit' || info.code === 'glance.unavailable' || info.code === 'net.timeout';
    checks.push({
      id: `glance.upload:${region}`,
      region,
      title: `A ${probe / (1024 * 1024)} MiB probe upload to ${region}`,
      status: 'fail',
      detail: info.message,
      why: 'If a small upload fails, a large one will too.',
      ...(proxy ? { fixes: proxyFixes() } : {}),
    });
    return undefined;
  } finally {
    if (id !== undefined) await glance.deleteImage(id).catch(() => undefined);
  }
}

/** The largest queued upload at the probe's rate, against the token's life. */
function tokenLifeCheck(region: string, largest: number, rate: number, lifetimeS: number): DoctorCheck {
  const expected = largest / rate;
  const fits = expected < lifetimeS - 120;
  return {
    id: `token.upload:${region}`,
    region,
    title: `The largest queued upload within a token's life (${region})`,
    status: fits ? 'pass' : 'fail',
    detail: `${(largest / 1024 ** 3).toFixed(1)} GiB at ${(rate / 1e6).toFixed(1)} MB/s takes about ${minutes(expected)}; tokens live ${minutes(lifetimeS)}.`,
    ...(fits
      ? {}
      : {
          why: 'Glance checks the token again when an upload ends: an upload longer than the token’s life fails at its last byte, and Glance deletes the data.',
          fixes: [tokenFix(Math.ceil((expected * 1.5) / 3600) * 3600)],
        }),
  };
}
