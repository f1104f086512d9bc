/**
 * The reference OpenStack's object store: a real Swift (Debian's 2.30) on 127.0.0.1, one replica
 * on one device in the state folder, Keystone auth (keystonemiddleware + keystoneauth), with the
 * tempurl and slo middleware, registered as `object-store` in RegionOne. What the relay method
 * (an upload through the object store, then Glance's web-download) needs, and no more.
 *
 * Gotchas met on this machine (../shared/openstack/swift/README.md has the whole story):
 * - Swift reads /etc/swift/swift.conf whatever swift_dir says: swift-server.py points it at ours.
 * - the rings' device IP and port must be the servers' bind address; `rebalance` exits 1 on a
 *   mere warning.
 * - `delay_auth_decision = true`, or an anonymous TempURL GET is refused before tempurl sees it.
 * - keystoneauth's default operator roles lack `member`, which demo has.
 * - `account_autocreate`: a Keystone project has no Swift account before its first write.
 */
import { mkdirSync, writeFileSync, existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { run, startDetached, waitHttp } from './processes.ts';

const PY = '/usr/bin/python3';

export const SWIFT_SERVERS = ['object-server', 'container-server', 'account-server', 'proxy-server'] as const;
type SwiftServer = (typeof SWIFT_SERVERS)[number];

export interface SwiftPorts {
  proxy: number;
  object: number;
  container: number;
  account: number;
}

/** Where the object store answers: the proxy root, and the catalog URL (Keystone fills the project). */
export interface ObjectStoreInfo {
  url: string;
  port: number;
  ports: SwiftPorts;
  catalogUrl: string;
  serviceUser: { name: string; password: string };
}

export function objectStoreInfo(host: string, ports: SwiftPorts): ObjectStoreInfo {
  const url = `http://${host}:${ports.proxy}`;
  return {
    url,
    port: ports.proxy,
    ports,
    catalogUrl: `${url}/v1/AUTH_%(project_id)s`,
    serviceUser: { name: 'swift', password: 'swift' },
  };
}

function swiftDir(stateDir: string): string {
  return join(stateDir, 'swift');
}

function backendConf(dir: string, host: string, port: number, egg: 'object' | 'container' | 'account'): string {
  return `[DEFAULT]
bind_ip = ${host}
bind_port = ${port}
workers = 0
swift_dir = ${dir}
devices = ${dir}/node
mount_check = false
log_name = ${egg}-server

[pipeline:main]
pipeline = healthcheck ${egg}-server

[app:${egg}-server]
use = egg:swift#${egg}

[filter:healthcheck]
use = egg:swift#healthcheck
`;
}

function proxyConf(dir: string, host: string, o: ObjectStoreInfo, keystoneUrl: string): string {
  return `[DEFAULT]
bind_ip = ${host}
bind_port = ${o.port}
workers = 0
swift_dir = ${dir}
log_name = proxy-server

# No memcached: no cache filter (and so no ratelimit); keystonemiddleware keeps tokens in process.
[pipeline:main]
pipeline = catch_errors gatekeeper healthcheck proxy-logging listing_formats bulk tempurl authtoken keystoneauth copy container-quotas account-quotas slo dlo proxy-logging proxy-server

[app:proxy-server]
use = egg:swift#proxy
account_autocreate = true
node_timeout = 60
conn_timeout = 5

[filter:authtoken]
paste.filter_factory = keystonemiddleware.auth_token:filter_factory
www_authenticate_uri = ${keystoneUrl}
auth_url = ${keystoneUrl}
auth_type = password
user_domain_id = default
project_domain_id = default
project_name = service
username = ${o.serviceUser.name}
password = ${o.serviceUser.password}
region_name = RegionOne
interface = public
# anonymous requests (a TempURL) go on to tempurl and keystoneauth
delay_auth_decision = true
include_service_catalog = false
service_token_roles_required = true

[filter:keystoneauth]
use = egg:swift#keystoneauth
operator_roles = admin, member
reseller_prefix = AUTH_

[filter:tempurl]
use = egg:swift#tempurl

[filter:slo]
use = egg:swift#slo

[filter:dlo]
use = egg:swift#dlo

[filter:bulk]
use = egg:swift#bulk

[filter:catch_errors]
use = egg:swift#catch_errors

[filter:gatekeeper]
use = egg:swift#gatekeeper

[filter:healthcheck]
use = egg:swift#healthcheck

[filter:proxy-logging]
use = egg:swift#proxy_logging

[filter:listing_formats]
use = egg:swift#listing_formats

[filter:copy]
use = egg:swift#copy

[filter:container-quotas]
use = egg:swift#container_quotas

[filter:account-quotas]
use = egg:swift#account_quotas
`;
}

/**
 * Configs and rings, before Keystone is even up (the rings are the slow part: about 0.6 CPU-s
 * per swift-ring-builder call, three rings built side by side).
 */
export async function prepareObjectStore(
  stateDir: string,
  host: string,
  o: ObjectStoreInfo,
  keystoneUrl: string,
): Promise<void> {
  const dir = swiftDir(stateDir);
  mkdirSync(join(dir, 'node', 'd1'), { recursive: true });
  writeFileSync(
    join(dir, 'swift.conf'),
    `[swift-hash]\nswift_hash_path_prefix = ${randomBytes(16).toString('hex')}\n` +
      `swift_hash_path_suffix = ${randomBytes(16).toString('hex')}\n\n` +
      '[storage-policy:0]\nname = Policy-0\ndefault = yes\n',
  );
  writeFileSync(join(dir, 'object-server.conf'), backendConf(dir, host, o.ports.object, 'object'));
  writeFileSync(join(dir, 'container-server.conf'), backendConf(dir, host, o.ports.container, 'container'));
  writeFileSync(join(dir, 'account-server.conf'), backendConf(dir, host, o.ports.account, 'account'));
  writeFileSync(join(dir, 'proxy-server.conf'), proxyConf(dir, host, o, keystoneUrl));
  const logFile = join(stateDir, 'logs', 'swift-rings.out');
  const ring = async (name: string, port: number): Promise<void> => {
    const builder = join(dir, `${name}.builder`);
    await run('swift-ring-builder', [builder, 'create', '10', '1', '1'], { logFile });
    await run(
      'swift-ring-builder',
      [
        builder,
        'add',
        '--region',
        '1',
        '--zone',
        '1',
        '--ip',
        host,
        '--port',
        String(port),
        '--device',
        'd1',
        '--weight',
        '100',
      ],
      { logFile },
    );
    // exit 1 is a warning only ("the balance is..."): the ring file is what counts
    await run('swift-ring-builder', [builder, 'rebalance'], { logFile }).catch((e: unknown) => {
      if (!existsSync(join(dir, `${name}.ring.gz`))) throw e;
    });
  };
  await Promise.all([
    ring('object', o.ports.object),
    ring('container', o.ports.container),
    ring('account', o.ports.account),
  ]);
}

export function startSwiftServer(stateDir: string, name: SwiftServer): void {
  const dir = swiftDir(stateDir);
  startDetached(
    `swift-${name}`,
    PY,
    [join(import.meta.dirname, 'swift-server.py'), name, join(dir, `${name}.conf`), dir],
    { pids: join(stateDir, 'pids'), logs: join(stateDir, 'logs') },
  );
}

export async function waitObjectStore(stateDir: string, o: ObjectStoreInfo, timeoutMs: number): Promise<void> {
  const port: Record<SwiftServer, number> = {
    'object-server': o.ports.object,
    'container-server': o.ports.container,
    'account-server': o.ports.account,
    'proxy-server': o.ports.proxy,
  };
  await Promise.all(
    SWIFT_SERVERS.map((s) =>
      waitHttp(`http://127.0.0.1:${port[s]}/healthcheck`, 200, {
        name: `swift-${s}`,
        pidsDir: join(stateDir, 'pids'),
        stateDir,
        logFile: join(stateDir, 'logs', `swift-${s}.out`),
        timeoutMs,
      }),
    ),
  );
}
