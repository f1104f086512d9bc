import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { pickDigest, redactTempUrl, tempUrl, tempUrlSignature } from './temp-url';

describe('TempURL', () => {
  it('signs as Swift checks it: HMAC of METHOD, expires and path (the README recipe, byte for byte)', () => {
    // python3 -c 'import hmac,hashlib; print(hmac.new(b"k", b"GET\n1700000000\n/v1/AUTH_a/c/o", hashlib.sha256).hexdigest())'
    const py = execFileSync('/usr/bin/python3', [
      '-c',
      'import hmac,hashlib,base64\n' +
        'm=b"GET\\n1700000000\\n/v1/AUTH_a/c/o"\n' +
        'print(hmac.new(b"k", m, hashlib.sha256).hexdigest())\n' +
        'print("sha512:"+base64.urlsafe_b64encode(hmac.new(b"k", m, hashlib.sha512).digest()).decode().rstrip("="))',
    ])
      .toString()
      .trim()
      .split('\n');
    expect(tempUrlSignature('k', 'GET', 1700000000, '/v1/AUTH_a/c/o', 'sha256')).toBe(py[0]);
    expect(tempUrlSignature('k', 'GET', 1700000000, '/v1/AUTH_a/c/o', 'sha512')).toBe(py[1]);
  });

  it('builds the URL on the path it signed, and hides the signature for logs', () => {
    const url = tempUrl({
      origin: 'http://s:8080',
      path: '/v1/AUTH_a/c/o%20x',
      key: 'k',
      expires: 5,
      digest: 'sha256',
    });
    expect(url).toMatch(/^http:\/\/s:8080\/v1\/AUTH_a\/c\/o%20x\?temp_url_sig=[0-9a-f]{64}&temp_url_expires=5$/);
    expect(redactTempUrl(url)).toBe('http://s:8080/v1/AUTH_a/c/o%20x?temp_url_sig=…&temp_url_expires=5');
  });

  it('prefers sha256, then sha512, over the deprecated sha1', () => {
    expect(pickDigest(['sha1', 'sha256', 'sha512'])).toBe('sha256');
    expect(pickDigest(['sha1', 'sha512'])).toBe('sha512');
    expect(pickDigest(['sha1'])).toBe('sha1');
    expect(pickDigest(undefined)).toBe('sha256');
  });
});

describe('redactTempUrl', () => {
  it('hides every signature, also percent-encoded, in any text', () => {
    const text =
      'fetch of http://s/v1/a/c/o?temp_url_sig=abc123&temp_url_expires=5 failed; retry http://s/v1/a/c/o%3Ftemp_url_sig%3Ddef456%26x';
    expect(redactTempUrl(text)).toBe(
      'fetch of http://s/v1/a/c/o?temp_url_sig=…&temp_url_expires=5 failed; retry http://s/v1/a/c/o%3Ftemp_url_sig%3D…',
    );
  });
});
