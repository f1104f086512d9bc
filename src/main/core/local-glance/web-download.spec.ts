import { describe, expect, it } from 'vitest';
import { checkUri } from './web-download';

const strict = { enabled: true };

describe('web-download filtering', () => {
  it.each([
    'http://127.0.0.1/x',
    'http://127.5.6.7:8080/x',
    'http://localhost/x',
    'http://[::1]/x',
    'http://10.1.2.3/x',
    'http://172.16.0.1/x',
    'http://172.31.255.255/x',
    'http://192.168.1.1/x',
    'http://169.254.169.254/latest/meta-data',
    'http://[fd00::1]/x',
    'http://0.0.0.0/x',
    'ftp://example.org/x',
    'file:///etc/passwd',
    'not a url',
  ])('refuses %s unless local addresses are allowed', (uri) => {
    expect(() => checkUri(uri, strict)).toThrow(/does not pass filtering/);
  });

  it('passes public addresses and names (names are checked again where the socket connects)', () => {
    for (const uri of ['https://cloud-images.ubuntu.com/x.img', 'http://8.8.8.8/x', 'http://172.32.0.1/x'])
      expect(checkUri(uri, strict).href).toBe(new URL(uri).href);
  });

  it('lets local addresses through when allowed, but never another scheme', () => {
    expect(checkUri('http://127.0.0.1:9/x', { enabled: true, allowLocal: true }).port).toBe('9');
    expect(() => checkUri('file:///etc/passwd', { enabled: true, allowLocal: true })).toThrow(/filtering/);
  });
});
