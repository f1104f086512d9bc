/**
 * Swift TempURLs: a URL anyone may GET until it expires, signed with a temp-url key
 * (swift/common/middleware/tempurl.py). The HMAC covers "METHOD\nEXPIRES\nPATH", PATH being the
 * URL's path only (/v1/AUTH_x/container/object). sha1 and sha256 signatures are hex; sha512 is
 * "sha512:" and unpadded URL-safe base64. The digest is the best one /info allows (sha1 is
 * deprecated; 2.30 still allows it by default).
 */
import { createHmac } from 'node:crypto';

export type TempUrlDigest = 'sha256' | 'sha512' | 'sha1';

/** The digest to sign with, from /info's tempurl.allowed_digests (absent: Swift's own default, sha256). */
export function pickDigest(allowed: readonly string[] | undefined): TempUrlDigest {
  if (allowed === undefined || allowed.length === 0 || allowed.includes('sha256')) return 'sha256';
  if (allowed.includes('sha512')) return 'sha512';
  return 'sha1';
}

export function tempUrlSignature(
  key: string,
  method: string,
  expires: number,
  path: string,
  digest: TempUrlDigest,
): string {
  const mac = createHmac(digest, key).update(`${method}\n${expires}\n${path}`);
  return digest === 'sha512' ? `sha512:${mac.digest('base64url')}` : mac.digest('hex');
}

/** The absolute TempURL of an object for `method`, valid until `expires` (Unix seconds). */
export function tempUrl(o: {
  origin: string;
  path: string;
  key: string;
  method?: string;
  expires: number;
  digest: TempUrlDigest;
}): string {
  // Swift checks the signature against the decoded path (WSGI's PATH_INFO).
  const sig = tempUrlSignature(o.key, o.method ?? 'GET', o.expires, decodeURIComponent(o.path), o.digest);
  const q = new URLSearchParams({ temp_url_sig: sig, temp_url_expires: String(o.expires) });
  return `${o.origin}${o.path}?${q.toString()}`;
}

/** A TempURL with its signature hidden, for logs and the audit trail. */
export function redactTempUrl(text: string): string {
  return text.replace(/(temp_url_sig(?:=|%3D))[^&\s"']+/gi, '$1…');
}
