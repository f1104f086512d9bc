/**
 * The reference OpenStack our tests run against: a real Keystone v3 (uWSGI, SQLite, fernet) and
 * two real Glance v2 APIs (RegionOne, RegionTwo; SQLite, two file stores each), and a real Swift
 * in RegionOne (object-store.ts; not in RegionTwo, a region without an object store), from Debian's
 * packages, on 127.0.0.1 only, on ports chosen free at run time, in a fresh temporary state
 * folder. Everything it starts is recorded in <state>/pids and stopped from there, so any process
 * that knows the state folder (a test worker, the CLI) can restart or stop it.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import {
  cloudsYaml,
  glanceConf,
  glancePasteIni,
  keystoneConf,
  KEYSTONE_CORS_EXPOSE_HEADERS,
  type GlanceLimits,
} from './config-templates.ts';
import { ensurePackages } from './packages.ts';
import {
  objectStoreInfo,
  prepareObjectStore,
  startSwiftServer,
  SWIFT_SERVERS,
  waitObjectStore,
  type ObjectStoreInfo,
} from './object-store.ts';
import { freePorts, run, startDetached, stopAll, stopByPidFile, tail, waitHttp } from './processes.ts';

/** Debian's interpreter: a pyenv python3 may come first on PATH and lack the OpenStack libraries. */
const PY = '/usr/bin/python3';
const HOST = '127.0.0.1';
export const REGIONS = ['RegionOne', 'RegionTwo'] as const;
export type Region = (typeof REGIONS)[number];

export interface ReferenceOptions {
  /** Keystone [token] expiration in seconds (default 3600). */
  tokenExpiration?: number;
  corsOrigins?: string[];
  adminPassword?: string;
  demoPassword?: string;
  demoAdminPassword?: string;
  limits?: Partial<Record<Region, GlanceLimits>>;
  debug?: boolean;
  startTimeoutMs?: number;
  /** Install missing Debian packages with apt-get (root only). Default true. */
  install?: boolean;
  log?: (line: string) => void;
}

/** Everything a test needs to reach the reference cloud; plain JSON (it crosses process lines). */
export interface ReferenceCloud {
  stateDir: string;
  host: string;
  keystoneUrl: string;
  keystonePort: number;
  glance: Record<Region, { url: string; port: number }>;
  /** Swift in RegionOne's catalog. */
  objectStore: ObjectStoreInfo;
  cloudsYamlPath: string;
  tokenExpiration: number;
  corsOrigins: string[];
  users: {
    admin: { name: string; password: string; project: string; projectId: string };
    demo: {
      name: string;
      password: string;
      project: string;
      projectId: string;
      extraProjectId: string;
      userId: string;
    };
    /** Admin role on the demo project (the embedded server's `local-admin` is admin on its project). */
    demoAdmin: { name: string; password: string; project: string; projectId: string; userId: string };
  };
  readyMs: number;
  debug: boolean;
}

function dirs(stateDir: string): { pids: string; logs: string } {
  return { pids: join(stateDir, 'pids'), logs: join(stateDir, 'logs') };
}

function writeKeystoneConf(cloud: Pick<ReferenceCloud, 'stateDir' | 'tokenExpiration' | 'debug'>): string {
  const dir = join(cloud.stateDir, 'keystone');
  const conf = join(dir, 'keystone.conf');
  writeFileSync(
    conf,
    keystoneConf({
      dir,
      logDir: dirs(cloud.stateDir).logs,
      tokenExpiration: cloud.tokenExpiration,
      debug: cloud.debug,
    }),
  );
  return conf;
}

function startKeystone(cloud: ReferenceCloud): void {
  const conf = join(cloud.stateDir, 'keystone', 'keystone.conf');
  // --http11-socket: --http-socket answers HTTP/1.1 without "Connection: close" and then closes,
  // which breaks keep-alive clients with connection resets.
  startDetached(
    'keystone',
    '/usr/bin/uwsgi',
    [
      '--plugin',
      'python3',
      '--http11-socket',
      `${HOST}:${cloud.keystonePort}`,
      '--wsgi-file',
      '/usr/bin/keystone-wsgi-public',
      '--master',
      '--processes',
      '2',
      '--threads',
      '2',
      '--die-on-term',
      '--need-app',
      '--buffer-size',
      '65535',
      '--disable-logging',
      '--env',
      `OS_KEYSTONE_CONFIG_FILES=${conf}`,
      '--env',
      `OS_CORS__ALLOWED_ORIGIN=${cloud.corsOrigins.join(',')}`,
      '--env',
      'OS_CORS__ALLOW_CREDENTIALS=true',
      '--env',
      'OS_CORS__MAX_AGE=3600',
      '--env',
      `OS_CORS__EXPOSE_HEADERS=${KEYSTONE_CORS_EXPOSE_HEADERS}`,
    ],
    dirs(cloud.stateDir),
  );
}

/**
 * What each region is like unless a test says otherwise: RegionTwo converts what an import brings
 * (image_conversion, output raw: a region backed by Ceph would), RegionOne keeps what it is sent.
 */
const REGION_DEFAULTS: Record<Region, GlanceLimits> = {
  RegionOne: {},
  RegionTwo: { importPlugins: ['image_conversion'] },
};

function writeGlanceConfig(cloud: ReferenceCloud, region: Region, limits: GlanceLimits = {}): string {
  const dir = join(cloud.stateDir, `glance-${region}`);
  for (const sub of ['store-fast', 'store-cold', 'staging', 'tasks', 'locks'])
    mkdirSync(join(dir, sub), { recursive: true });
  writeFileSync(join(dir, 'glance-api-paste.ini'), glancePasteIni(dir));
  const conf = join(dir, 'glance-api.conf');
  writeFileSync(
    conf,
    glanceConf({
      ...REGION_DEFAULTS[region],
      ...limits,
      region,
      host: HOST,
      port: cloud.glance[region].port,
      dir,
      logDir: dirs(cloud.stateDir).logs,
      keystoneUrl: cloud.keystoneUrl,
      corsOrigins: cloud.corsOrigins,
      debug: cloud.debug,
    }),
  );
  return conf;
}

function startGlance(cloud: ReferenceCloud, region: Region): void {
  const conf = join(cloud.stateDir, `glance-${region}`, 'glance-api.conf');
  startDetached(`glance-${region}`, PY, ['-m', 'glance.cmd.api', '--config-file', conf], dirs(cloud.stateDir));
}

function setWal(dbFile: string): void {
  // Keystone keeps a read transaction open while it writes in the same request; with SQLite's
  // rollback journal that blocks its own COMMIT ("database is locked" after 5 s). WAL fixes it,
  // and lets Glance poll, upload and delete concurrently.
  const db = new Database(dbFile);
  try {
    const mode = db.pragma('journal_mode = WAL', { simple: true });
    if (mode !== 'wal') throw new Error(`could not set WAL on ${dbFile} (got ${String(mode)})`);
  } finally {
    db.close();
  }
}

async function waitService(cloud: ReferenceCloud, name: string, url: string, timeoutMs: number): Promise<void> {
  const d = dirs(cloud.stateDir);
  await waitHttp(url, 200, {
    name,
    pidsDir: d.pids,
    stateDir: cloud.stateDir,
    logFile: join(d.logs, `${name}.out`),
    timeoutMs,
  });
}

/** A token from a Keystone v3 for a user of the default domain (scoped to `project` when named). */
export async function passwordToken(
  authUrl: string,
  user: string,
  password: string,
  project?: string,
): Promise<string> {
  const res = await fetch(`${authUrl}/auth/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      auth: {
        identity: {
          methods: ['password'],
          password: { user: { name: user, domain: { id: 'default' }, password } },
        },
        ...(project !== undefined ? { scope: { project: { name: project, domain: { id: 'default' } } } } : {}),
      },
    }),
  });
  await res.arrayBuffer();
  const token = res.headers.get('x-subject-token');
  if (res.status !== 201 || token === null) throw new Error(`no token for ${user}: HTTP ${res.status}`);
  return token;
}

/** A project-scoped token for a user of the reference cloud. */
export async function issueToken(cloud: ReferenceCloud, who: 'admin' | 'demo'): Promise<string> {
  const u = cloud.users[who];
  return passwordToken(cloud.keystoneUrl, u.name, u.password, u.project);
}

export async function startReferenceOpenStack(opts: ReferenceOptions = {}): Promise<ReferenceCloud> {
  const log = opts.log ?? ((s: string) => console.log(s));
  const t0 = Date.now();
  if (opts.install ?? true) ensurePackages(undefined, log);
  const stateDir = mkdtempSync(join(tmpdir(), 'glance-uploader-ref-'));
  writeFileSync(join(stateDir, '.reference-openstack'), 'made by test/openstack/reference-openstack.ts\n');
  const d = dirs(stateDir);
  for (const p of [d.pids, d.logs, join(stateDir, 'keystone')]) mkdirSync(p, { recursive: true });
  const [kp, g1, g2, sp, so, sc, sa] = await freePorts(7, HOST);
  if ([kp, g1, g2, sp, so, sc, sa].includes(undefined)) throw new Error('could not find seven free ports');
  const keystoneUrl = `http://${HOST}:${kp}/v3`;
  const cloud: ReferenceCloud = {
    stateDir,
    host: HOST,
    keystoneUrl,
    keystonePort: kp as number,
    glance: {
      RegionOne: { url: `http://${HOST}:${g1}`, port: g1 as number },
      RegionTwo: { url: `http://${HOST}:${g2}`, port: g2 as number },
    },
    objectStore: objectStoreInfo(HOST, {
      proxy: sp as number,
      object: so as number,
      container: sc as number,
      account: sa as number,
    }),
    cloudsYamlPath: join(stateDir, 'clouds.yaml'),
    tokenExpiration: opts.tokenExpiration ?? 3600,
    corsOrigins: opts.corsOrigins ?? ['http://localhost:5173'],
    users: {
      admin: { name: 'admin', password: opts.adminPassword ?? 'admin', project: 'admin', projectId: '' },
      demo: {
        name: 'demo',
        password: opts.demoPassword ?? 'demo',
        project: 'demo',
        projectId: '',
        extraProjectId: '',
        userId: '',
      },
      demoAdmin: {
        name: 'demo-admin',
        password: opts.demoAdminPassword ?? 'demo-admin',
        project: 'demo',
        projectId: '',
        userId: '',
      },
    },
    readyMs: 0,
    debug: opts.debug ?? false,
  };
  const timeoutMs = opts.startTimeoutMs ?? 120_000;
  try {
    const ksDir = join(stateDir, 'keystone');
    const ksConf = writeKeystoneConf(cloud);
    const ksLog = join(d.logs, 'keystone-manage.out');
    const ksm = (...args: string[]): Promise<string> =>
      run('keystone-manage', ['--config-file', ksConf, ...args], { logFile: ksLog });
    // Glance configs and schemas do not need Keystone: prepare them while Keystone starts.
    const glanceSyncs = REGIONS.map(async (region) => {
      const conf = writeGlanceConfig(cloud, region, opts.limits?.[region]);
      await run(PY, ['-m', 'glance.cmd.manage', '--config-file', conf, 'db_sync'], {
        logFile: join(d.logs, `glance-manage-${region}.out`),
      });
      setWal(join(stateDir, `glance-${region}`, 'glance.db'));
    });
    const swiftReady = prepareObjectStore(stateDir, HOST, cloud.objectStore, keystoneUrl).then(() => {
      for (const s of SWIFT_SERVERS) startSwiftServer(stateDir, s);
    });
    await ksm('db_sync');
    setWal(join(ksDir, 'keystone.db'));
    const uid = String(process.getuid?.() ?? 0);
    const gid = String(process.getgid?.() ?? 0);
    await ksm('fernet_setup', '--keystone-user', uid, '--keystone-group', gid);
    await ksm('credential_setup', '--keystone-user', uid, '--keystone-group', gid);
    await ksm(
      'bootstrap',
      '--bootstrap-password',
      cloud.users.admin.password,
      '--bootstrap-region-id',
      'RegionOne',
      '--bootstrap-admin-url',
      `${keystoneUrl}/`,
      '--bootstrap-internal-url',
      `${keystoneUrl}/`,
      '--bootstrap-public-url',
      `${keystoneUrl}/`,
    );
    startKeystone(cloud);
    await waitService(cloud, 'keystone', keystoneUrl, timeoutMs);
    const out = await run(PY, [join(import.meta.dirname, 'bootstrap.py')], {
      logFile: join(d.logs, 'bootstrap.out'),
      env: {
        ...process.env,
        REF_KEYSTONE_URL: keystoneUrl,
        REF_ADMIN_PASSWORD: cloud.users.admin.password,
        REF_DEMO_PASSWORD: cloud.users.demo.password,
        REF_DEMO_ADMIN_PASSWORD: cloud.users.demoAdmin.password,
        REF_GLANCE_URLS: REGIONS.map((r) => `${r}=${cloud.glance[r].url}`).join(','),
        REF_SWIFT_URL: cloud.objectStore.catalogUrl,
        REF_SWIFT_PASSWORD: cloud.objectStore.serviceUser.password,
      },
    });
    const ids = JSON.parse(out.trim().split('\n').pop() ?? '{}') as Record<string, string>;
    cloud.users.admin.projectId = ids.admin_project_id ?? '';
    cloud.users.demo.projectId = ids.demo_project_id ?? '';
    cloud.users.demo.extraProjectId = ids.demo_extra_project_id ?? '';
    cloud.users.demo.userId = ids.demo_user_id ?? '';
    cloud.users.demoAdmin.projectId = ids.demo_project_id ?? '';
    cloud.users.demoAdmin.userId = ids.demo_admin_user_id ?? '';
    await Promise.all(glanceSyncs);
    for (const region of REGIONS) startGlance(cloud, region);
    await swiftReady;
    await Promise.all([
      ...REGIONS.map((r) => waitService(cloud, `glance-${r}`, `${cloud.glance[r].url}/healthcheck`, timeoutMs)),
      waitObjectStore(stateDir, cloud.objectStore, timeoutMs),
    ]);
    writeFileSync(
      cloud.cloudsYamlPath,
      cloudsYaml({
        keystoneUrl,
        adminPassword: cloud.users.admin.password,
        demoPassword: cloud.users.demo.password,
      }),
    );
    // The check the suite relies on: a demo token lists images in both regions.
    const token = await issueToken(cloud, 'demo');
    for (const r of REGIONS) {
      const res = await fetch(`${cloud.glance[r].url}/v2/images`, { headers: { 'x-auth-token': token } });
      await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`GET /v2/images as demo in ${r} answered ${res.status}`);
    }
    // ... and reaches its own account in the object store (made on first use).
    const account = cloud.objectStore.catalogUrl.replace('%(project_id)s', cloud.users.demo.projectId);
    const put = await fetch(`${account}/ready-check`, { method: 'PUT', headers: { 'x-auth-token': token } });
    await put.arrayBuffer();
    const del = await fetch(`${account}/ready-check`, { method: 'DELETE', headers: { 'x-auth-token': token } });
    await del.arrayBuffer();
    if (put.status !== 201 || del.status !== 204)
      throw new Error(`the object store answered ${put.status}/${del.status} to demo (PUT/DELETE of a container)`);
    cloud.readyMs = Date.now() - t0;
    writeFileSync(join(stateDir, 'cloud.json'), JSON.stringify(cloud, null, 2));
    return cloud;
  } catch (e) {
    await stopAll(d.pids, stateDir);
    const logs = ['keystone.out', 'glance-RegionOne.out', 'glance-RegionTwo.out', 'swift-proxy-server.out']
      .map((f) => `--- ${f}\n${tail(join(d.logs, f), 15)}`)
      .join('\n');
    throw new Error(
      `the reference OpenStack did not start (state kept in ${stateDir}): ${(e as Error).message}\n${logs}`,
      { cause: e },
    );
  }
}

/** Stop one region's Glance (a region that went down); `resumeGlance` starts it again. */
export async function stopGlance(cloud: ReferenceCloud, region: Region): Promise<void> {
  await stopByPidFile(dirs(cloud.stateDir).pids, `glance-${region}`, cloud.stateDir);
}

/** Start a region's Glance stopped by `stopGlance`, with its config, DB and images as they were. */
export async function resumeGlance(cloud: ReferenceCloud, region: Region): Promise<void> {
  startGlance(cloud, region);
  await waitService(cloud, `glance-${region}`, `${cloud.glance[region].url}/healthcheck`, 60_000);
}

/** Rewrite one region's Glance config with new limits and restart it; Keystone, DBs and images stay. */
export async function restartGlance(cloud: ReferenceCloud, region: Region, limits: GlanceLimits = {}): Promise<void> {
  await stopByPidFile(dirs(cloud.stateDir).pids, `glance-${region}`, cloud.stateDir);
  writeGlanceConfig(cloud, region, limits);
  startGlance(cloud, region);
  await waitService(cloud, `glance-${region}`, `${cloud.glance[region].url}/healthcheck`, 60_000);
}

/** Restart Keystone with another token lifetime; users, projects and fernet keys stay. */
export async function restartKeystone(cloud: ReferenceCloud, tokenExpiration: number): Promise<ReferenceCloud> {
  await stopByPidFile(dirs(cloud.stateDir).pids, 'keystone', cloud.stateDir);
  const next = { ...cloud, tokenExpiration };
  writeKeystoneConf(next);
  startKeystone(next);
  await waitService(next, 'keystone', next.keystoneUrl, 60_000);
  return next;
}

/** Stop exactly what startReferenceOpenStack started. The state folder is removed unless keep. */
export async function stopReferenceOpenStack(cloud: Pick<ReferenceCloud, 'stateDir'>, keep = false): Promise<void> {
  await stopAll(dirs(cloud.stateDir).pids, cloud.stateDir);
  if (!keep && existsSync(join(cloud.stateDir, '.reference-openstack')))
    rmSync(cloud.stateDir, { recursive: true, force: true });
}

export function loadReferenceCloud(stateDir: string): ReferenceCloud {
  return JSON.parse(readFileSync(join(stateDir, 'cloud.json'), 'utf8')) as ReferenceCloud;
}
