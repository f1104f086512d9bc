/**
 * web-download for the embedded server: off unless enabled, and, as Debian's patched Glance
 * does, never to a loopback, private or link-local address unless allowed. The address is
 * checked where the connection is made (the socket's own DNS lookup), so a name that resolves
 * elsewhere on a second lookup cannot slip through; every redirect is checked the same way.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import { HttpError } from './http-kit';

export interface WebDownloadOptions {
  enabled: boolean;
  /** Allow 127.0.0.0/8, ::1, private (10/8, 172.16/12, 192.168/16, fc00::/7) and link-local targets. */
  allowLocal?: boolean;
}

function isLocal(address: string): boolean {
  if (address === '::1' || address === '::' || address === '0.0.0.0') return true;
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address;
  if (isIP(v4) === 4) {
    const [a = 0, b = 0] = v4.split('.').map(Number);
    return (
      a === 127 ||
      a === 10 ||
      a === 0 ||
      (a === 172 && b >= 16 && b <= 31) ||
      (a === 192 && b === 168) ||
      (a === 169 && b === 254)
    );
  }
  const lower = address.toLowerCase();
  return lower.startsWith('fc') || lower.startsWith('fd') || lower.startsWith('fe80');
}

export function filtered(uri: string): HttpError {
  return new HttpError(400, `URI for web-download does not pass filtering: ${uri}`);
}

/** Check a URI before the import is accepted: scheme, and the literal address when there is one. */
export function checkUri(uri: string, o: WebDownloadOptions): URL {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw filtered(uri);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw filtered(uri);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (!o.allowLocal && (host === 'localhost' || (isIP(host) !== 0 && isLocal(host)))) throw filtered(uri);
  return url;
}

/** GET the URI (following up to 5 redirects, each checked), resolving with the response body. */
export function fetchImage(uri: string, o: WebDownloadOptions, redirects = 5): Promise<IncomingMessage> {
  const url = checkUri(uri, o);
  const lookup = (
    hostname: string,
    options: object,
    cb: (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void,
  ): void => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return cb(err, '');
      const list = addresses;
      if (!o.allowLocal && list.some((a) => isLocal(a.address)))
        return cb(Object.assign(new Error(`${hostname} resolves to a local address`), { code: 'EFILTERED' }), '');
      if ((options as { all?: boolean }).all) return cb(null, list);
      const first = list[0];
      cb(null, first?.address ?? '', first?.family);
    });
  };
  return new Promise((resolve, reject) => {
    const req = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, { method: 'GET', lookup }, (res) => {
      const status = res.statusCode ?? 0;
      if (status >= 300 && status < 400 && res.headers.location !== undefined) {
        res.resume();
        if (redirects <= 0) return reject(new Error(`too many redirects from ${uri}`));
        return resolve(fetchImage(new URL(res.headers.location, url).href, o, redirects - 1));
      }
      if (status !== 200) {
        res.resume();
        return reject(new Error(`HTTP Error ${status} from ${uri}`));
      }
      resolve(res);
    });
    req.on('error', reject);
    req.end();
  });
}
