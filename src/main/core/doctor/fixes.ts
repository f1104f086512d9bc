/**
 * The exact changes the doctor proposes, with the user's origin and URLs filled in: Glance's
 * [cors], the web server in front of Glance (body size, timeouts, buffering), Horizon's
 * settings, Keystone's token lifetime, the clouds.yaml CA bundle.
 */
import type { Fix } from './report';

export function corsFix(origin: string, headers: string[]): Fix {
  return {
    where: 'glance-api.conf (every Glance API node; restart glance-api)',
    snippet: `[cors]
allowed_origin = ${origin}
allow_credentials = true
max_age = 3600
allow_methods = GET,PUT,POST,DELETE,PATCH
allow_headers = ${[
      'Content-Type',
      'X-Auth-Token',
      'X-OpenStack-Image-Size',
      'X-OpenStack-Request-ID',
      'X-Image-Meta-Checksum',
      'Content-MD5',
    ]
      .concat(headers.filter((h) => !['content-type', 'x-auth-token', 'x-openstack-image-size'].includes(h)))
      .join(',')}
expose_headers = X-OpenStack-Request-ID,X-Image-Meta-Checksum,Location,OpenStack-image-import-methods`,
  };
}

/** A proxy in front of Glance that limits, times out or buffers request bodies. */
export function proxyFixes(): Fix[] {
  return [
    {
      where: 'nginx (the server block that proxies to Glance)',
      snippet: `client_max_body_size 0;          # no limit on image size
proxy_request_buffering off;     # stream the upload to Glance, do not spool it to disk first
proxy_read_timeout 3600s;
proxy_send_timeout 3600s;`,
    },
    {
      where: 'Apache httpd (the VirtualHost that proxies to Glance)',
      snippet: `LimitRequestBody 0
TimeOut 3600
ProxyTimeout 3600
SetEnv proxy-sendchunked 1`,
    },
    {
      where: 'HAProxy (the Glance backend)',
      snippet: `timeout client 1h
timeout server 1h`,
    },
  ];
}

export function horizonFix(): Fix {
  return {
    where: 'Horizon local_settings.py',
    snippet: `HORIZON_IMAGES_UPLOAD_MODE = 'direct'
OPENSTACK_ENDPOINT_TYPE = 'publicURL'   # the browser talks to the public Glance endpoint`,
  };
}

export function tokenFix(seconds: number): Fix {
  return {
    where: 'keystone.conf (every Keystone node; restart keystone)',
    snippet: `[token]
expiration = ${seconds}`,
  };
}

export function cacertFix(cloud: string): Fix {
  return {
    where: `clouds.yaml (the "${cloud}" entry)`,
    snippet: `clouds:
  ${cloud}:
    cacert: /path/to/ca-bundle.pem   # the CA that signed the cloud's certificate (and its intermediates)`,
  };
}
