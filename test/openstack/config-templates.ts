/**
 * Config files for the reference Keystone and Glance. Every value that mattered (and why) is in
 * ../../docs/reference-openstack.md; the short version sits beside each line.
 */

export interface GlanceLimits {
  /** Glance [DEFAULT] image_size_cap, bytes (Glance's default is 1 TiB). */
  imageSizeCap?: number;
  /** Glance [DEFAULT] user_storage_quota, e.g. "400MB" or bytes; 0 is off. */
  userStorageQuota?: string | number;
  /** [image_import_opts] image_import_plugins, e.g. ["image_conversion"]. */
  importPlugins?: string[];
  /** Let web-download and glance-download fetch from loopback on any port (tests need it). */
  importAllowLoopback?: boolean;
}

export interface GlanceConfigInput extends GlanceLimits {
  region: string;
  host: string;
  port: number;
  dir: string;
  logDir: string;
  keystoneUrl: string;
  corsOrigins: string[];
  debug: boolean;
}

export const GLANCE_CORS_ALLOW_HEADERS = [
  'Content-Type',
  'Content-Length',
  'Content-MD5',
  'Content-Range',
  'X-Auth-Token',
  'X-OpenStack-Request-ID',
  'X-Image-Meta-Checksum',
  'X-Service-Token',
  'X-Identity-Status',
  'X-Roles',
  'X-Service-Catalog',
  'X-User-Id',
  'X-Tenant-Id',
  'X-Storage-Token',
  'Accept-Encoding',
  'OpenStack-API-Version',
  'X-Image-Meta-Store',
  'X-Openstack-Append',
  'X-OpenStack-Image-Size',
];

export const GLANCE_CORS_EXPOSE_HEADERS = [
  'X-OpenStack-Request-ID',
  'X-Auth-Token',
  'X-Subject-Token',
  'X-Service-Token',
  'X-Image-Meta-Checksum',
  'Content-MD5',
  'Content-Length',
  'Content-Type',
  'Location',
  'ETag',
  'OpenStack-image-import-methods',
  'OpenStack-image-store-ids',
  'OpenStack-image-import-uri',
  'OpenStack-API-Version',
];

export const KEYSTONE_CORS_EXPOSE_HEADERS =
  'X-Auth-Token,X-Openstack-Request-Id,X-Subject-Token,Openstack-Auth-Receipt';

export function keystoneConf(o: { dir: string; logDir: string; tokenExpiration: number; debug: boolean }): string {
  return `[DEFAULT]
debug = ${o.debug}
log_file = ${o.logDir}/keystone.log
use_stderr = false

[database]
connection = sqlite:///${o.dir}/keystone.db

[token]
provider = fernet
expiration = ${o.tokenExpiration}

[fernet_tokens]
key_repository = ${o.dir}/fernet-keys/

[fernet_receipts]
key_repository = ${o.dir}/fernet-keys/

[credential]
key_repository = ${o.dir}/credential-keys/

# [cors] is NOT read from this file: Keystone's cors middleware builds its own oslo.config
# instance that only searches /etc/keystone. It gets OS_CORS__* environment variables instead.
`;
}

/** Upstream glance-api-paste.ini (python3-glance ships none), keystone flavor only. */
export function glancePasteIni(dir: string): string {
  return `[pipeline:glance-api-keystone]
pipeline = cors healthcheck http_proxy_to_wsgi versionnegotiation osprofiler authtoken context rootapp

[composite:rootapp]
paste.composite_factory = glance.api:root_app_factory
/: apiversions
/v2: apiv2app

[app:apiversions]
paste.app_factory = glance.api.versions:create_resource

[app:apiv2app]
paste.app_factory = glance.api.v2.router:API.factory

[filter:healthcheck]
paste.filter_factory = oslo_middleware:Healthcheck.factory
backends = disable_by_file
disable_by_file_path = /nonexistent/glance-uploader-healthcheck-disable

[filter:versionnegotiation]
paste.filter_factory = glance.api.middleware.version_negotiation:VersionNegotiationFilter.factory

[filter:context]
paste.filter_factory = glance.api.middleware.context:ContextMiddleware.factory

[filter:authtoken]
paste.filter_factory = keystonemiddleware.auth_token:filter_factory
delay_auth_decision = true

[filter:osprofiler]
paste.filter_factory = osprofiler.web:WsgiMiddleware.factory

# The cors filter reads [cors] through its own oslo.config instance: without oslo_config_file it
# reads /etc/glance and CORS is silently off (preflights answer 200 with no Access-Control-*).
[filter:cors]
paste.filter_factory = oslo_middleware.cors:filter_factory
oslo_config_project = glance
oslo_config_program = glance-api
oslo_config_file = ${dir}/glance-api.conf

[filter:http_proxy_to_wsgi]
paste.filter_factory = oslo_middleware:HTTPProxyToWSGI.factory
`;
}

export function glanceConf(o: GlanceConfigInput): string {
  const plugins = (o.importPlugins ?? []).join(',');
  // [import_filtering_opts] lists are ListOpt(bounds=True): they need the brackets, or every URI
  // "does not pass filtering". Glance's defaults refuse loopback, which this setup lives on.
  const filtering =
    (o.importAllowLoopback ?? true)
      ? '[import_filtering_opts]\nallowed_hosts = [127.0.0.1,localhost]\nallowed_ports = []\n'
      : '[import_filtering_opts]\n# Glance defaults\n';
  return `[DEFAULT]
bind_host = ${o.host}
bind_port = ${o.port}
workers = 1
debug = ${o.debug}
log_file = ${o.logDir}/glance-${o.region}.log
use_stderr = false
image_size_cap = ${o.imageSizeCap ?? 1099511627776}
user_storage_quota = ${o.userStorageQuota ?? 0}
# two file stores make copy-image possible
enabled_backends = fast:file, cold:file
enabled_import_methods = [glance-direct,web-download,copy-image,glance-download]
worker_self_reference_url = http://${o.host}:${o.port}

[database]
connection = sqlite:///${o.dir}/glance.db

[paste_deploy]
flavor = keystone
config_file = ${o.dir}/glance-api-paste.ini

[keystone_authtoken]
www_authenticate_uri = ${o.keystoneUrl}
auth_url = ${o.keystoneUrl}
auth_type = password
user_domain_id = default
project_domain_id = default
project_name = service
username = glance
password = glance
region_name = ${o.region}
interface = public

[glance_store]
default_backend = fast

[fast]
store_description = ${o.region} file store 'fast' (default)
filesystem_store_datadir = ${o.dir}/store-fast/

[cold]
store_description = ${o.region} file store 'cold'
filesystem_store_datadir = ${o.dir}/store-cold/

# reserved stores: the staging area of glance-direct/web-download/copy-image/glance-download
[os_glance_staging_store]
filesystem_store_datadir = ${o.dir}/staging/

[os_glance_tasks_store]
filesystem_store_datadir = ${o.dir}/tasks/

[image_import_opts]
image_import_plugins = [${plugins}]

[image_conversion]
output_format = raw

${filtering}
[cors]
allowed_origin = ${o.corsOrigins.join(',')}
allow_credentials = true
max_age = 3600
allow_methods = GET,PUT,POST,DELETE,PATCH,HEAD
allow_headers = ${GLANCE_CORS_ALLOW_HEADERS.join(',')}
expose_headers = ${GLANCE_CORS_EXPOSE_HEADERS.join(',')}

[oslo_concurrency]
lock_path = ${o.dir}/locks
`;
}

export interface CloudsYamlInput {
  keystoneUrl: string;
  adminPassword: string;
  demoPassword: string;
}

/** clouds.yaml for the suite: demo and admin, one entry per region. */
export function cloudsYaml(o: CloudsYamlInput): string {
  const entry = (user: string, password: string, project: string, region: string): string => `
    auth_type: password
    auth:
      auth_url: ${o.keystoneUrl}
      username: ${user}
      password: ${password}
      project_name: ${project}
      user_domain_id: default
      project_domain_id: default
    region_name: ${region}
    interface: public
    identity_api_version: 3
    image_api_version: 2`;
  return `clouds:
  ref-demo:${entry('demo', o.demoPassword, 'demo', 'RegionOne')}
  ref-demo-r2:${entry('demo', o.demoPassword, 'demo', 'RegionTwo')}
  ref-admin:${entry('admin', o.adminPassword, 'admin', 'RegionOne')}
  ref-admin-r2:${entry('admin', o.adminPassword, 'admin', 'RegionTwo')}
`;
}
