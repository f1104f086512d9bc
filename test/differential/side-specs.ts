/**
 * The two sides, configured the same way: the reference Glance 25 (RegionOne: stores fast and
 * cold, fast the default; glance-direct, web-download, copy-image, glance-download; web-download
 * may fetch from 127.0.0.1) and the embedded server started like the app's multi-store server.
 *
 * The same roles on both: member = `demo` in project `demo` / `local` in `local`; admin =
 * `demo-admin` (admin role on `demo`) / `local-admin` (admin on `local`); second = `demo` in
 * `demo-extra` / `local` in `local-other`, where the member user is also a member.
 */
import { join } from 'node:path';
import { StagingServer } from '../../src/main/core/local-glance/server';
import type { ReferenceCloud } from '../openstack/reference-openstack';
import type { SideRun, SideSpec } from './sides';

/** Store descriptions are free text of each deployment (ours are not configurable). */
const STORE_SYMBOLS = (describe: (store: string) => string): [string, string][] =>
  ['fast', 'cold'].map((s) => [describe(s), `<description of store ${s}>`]);

export function referenceSpec(ref: ReferenceCloud): SideSpec {
  const { demo, demoAdmin } = ref.users as Partial<ReferenceCloud['users']> & Pick<ReferenceCloud['users'], 'demo'>;
  if (demoAdmin === undefined)
    throw new Error(
      `the reference OpenStack in ${ref.stateDir} was started before the demo-admin user existed: ` +
        'start a new one (npm run openstack:up)',
    );
  return {
    side: 'reference',
    glanceUrl: ref.glance.RegionOne.url,
    authUrl: ref.keystoneUrl,
    region: 'RegionOne',
    users: {
      member: { username: demo.name, password: demo.password, project: demo.project },
      admin: { username: demoAdmin.name, password: demoAdmin.password, project: demoAdmin.project },
      second: { username: demo.name, password: demo.password, project: 'demo-extra' },
    },
    symbols: [
      [ref.glance.RegionOne.url, '<glance>'],
      [ref.keystoneUrl, '<keystone>'],
      [demo.projectId, '<project:member>'],
      [demo.extraProjectId, '<project:second>'],
      [demo.userId, '<user:member>'],
      [demoAdmin.userId, '<user:admin>'],
      ...STORE_SYMBOLS((s) => `RegionOne file store '${s}'${s === 'fast' ? ' (default)' : ''}`),
      ...['fast', 'cold'].map((s): [string, string] => [
        `${ref.stateDir}/glance-RegionOne/store-${s}/`,
        `<folder of store ${s}>`,
      ]),
    ],
  };
}

export async function startLocalServer(dir: string): Promise<StagingServer> {
  const server = new StagingServer({
    dataDir: join(dir, 'server'),
    port: 0,
    stores: ['fast', 'cold'],
    webDownload: { enabled: true, allowLocal: true },
  });
  await server.start();
  return server;
}

export function localSpec(server: StagingServer): SideSpec {
  const c = server.creds;
  return {
    side: 'local',
    glanceUrl: server.url,
    authUrl: server.authUrl,
    region: 'local',
    users: {
      member: { username: c.username, password: c.password, project: c.projectName },
      admin: { username: c.admin.username, password: c.admin.password, project: c.projectName },
      second: { username: c.username, password: c.password, project: c.second.projectName },
    },
    symbols: [
      [server.url, '<glance>'],
      [server.authUrl, '<keystone>'],
      [c.projectId, '<project:member>'],
      [c.second.projectId, '<project:second>'],
      [c.userId, '<user:member>'],
      [c.admin.userId, '<user:admin>'],
      ...STORE_SYMBOLS((s) => `Glance Uploader local store '${s}'`),
      ...['fast', 'cold'].map((s): [string, string] => [`${server.store.storeDir(s)}/`, `<folder of store ${s}>`]),
    ],
  };
}

/** A run's symbols: its side's, the proxy's address (the clients' image endpoint), its folder. */
export function symbolsOf(run: Pick<SideRun, 'spec' | 'proxyUrl' | 'workDir'>): [string, string][] {
  return [...run.spec.symbols, [run.proxyUrl, '<endpoint>'], [run.workDir, '<work>']];
}
