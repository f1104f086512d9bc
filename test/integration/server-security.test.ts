/**
 * The embedded server's guards, each tested where it is the one that answers, with raw HTTP
 * (Node's client does not normalise paths, so encoded traversals reach the router as sent):
 * - ids that are no image id (traversals that survive URL parsing) stop at the router's id check:
 *   404 with Glance's "No image found" on every route. Fails without the check (server.ts,
 *   `UUID_RE.test(id)`): the store's own guard then throws and the answer is a 500, or a route
 *   that reads by id answers 200;
 * - every route of the router without a token: 401, except version discovery and getting a
 *   token. Fails when the central token check is removed or a route is handled before it;
 * - a missing Host header, or one with another port: 400. Fails without `#hostAllowed`;
 * - an oversized JSON body: 413, and nothing stored. Fails without readJson's limit;
 * - CORS with `*` allowed and credentials on: `*` goes out without
 *   `Access-Control-Allow-Credentials`. Fails when cors.ts sends credentials with a wildcard.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StagingServer } from '../../src/main/core/local-glance/server';

let dir: string;
let server: StagingServer;

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function raw(
  s: StagingServer,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: Buffer,
  setHost = true,
): Promise<Answer> {
  const u = new URL(s.url);
  return new Promise((resolve, reject) => {
    // Glance negotiates its error bodies on Accept; these tests read them as JSON.
    const all = { accept: 'application/json', ...headers };
    const req = request({ host: u.hostname, port: u.port, method, path, headers: all, setHost }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts).toString('utf8') }),
      );
    });
    req.on('error', reject);
    req.end(body);
  });
}

function token(s: StagingServer): string {
  const t = s.identity.authenticate({
    auth: {
      identity: {
        methods: ['password'],
        password: { user: { name: 'local', domain: { id: 'default' }, password: s.creds.password } },
      },
    },
  });
  return t?.id ?? '';
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gu-security-'));
  server = new StagingServer({ dataDir: join(dir, 'server'), port: 0 });
  await server.start();
});

afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

const ID = '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';
/** Every route of the router under /v2 and /identity, with a method it answers. */
const ROUTES: [string, string][] = [
  ['GET', '/v2'],
  ['GET', '/v2/schemas/image'],
  ['GET', '/v2/schemas/images'],
  ['GET', '/v2/schemas/metadefs/namespace'],
  ['GET', '/v2/info/import'],
  ['GET', '/v2/info/stores'],
  ['GET', '/v2/info/usage'],
  ['GET', '/v2/info/upload'],
  ['GET', '/v2/images'],
  ['POST', '/v2/images'],
  ['GET', `/v2/images/${ID}`],
  ['PATCH', `/v2/images/${ID}`],
  ['DELETE', `/v2/images/${ID}`],
  ['PUT', `/v2/images/${ID}/file`],
  ['GET', `/v2/images/${ID}/file`],
  ['HEAD', `/v2/images/${ID}/file`],
  ['PUT', `/v2/images/${ID}/stage`],
  ['POST', `/v2/images/${ID}/import`],
  ['PUT', `/v2/images/${ID}/tags/golden`],
  ['DELETE', `/v2/images/${ID}/tags/golden`],
  ['POST', `/v2/images/${ID}/actions/deactivate`],
  ['GET', `/v2/images/${ID}/tasks`],
  ['GET', '/identity/v3/auth/tokens'],
  ['HEAD', '/identity/v3/auth/tokens'],
  ['DELETE', '/identity/v3/auth/tokens'],
  ['GET', '/identity/v3/auth/catalog'],
  ['GET', '/identity/v3/regions'],
];

const BODIES = new Map([
  [`PATCH /v2/images/${ID}`, Buffer.from('[]')],
  [`POST /v2/images/${ID}/import`, Buffer.from('{"method": {"name": "glance-direct"}}')],
]);

describe('the embedded server refuses what it must', () => {
  it('stops ids that are no image id at the id check, on every route that takes one', async () => {
    const t = token(server);
    const ids = [
      '..%2f..%2fcredentials.json',
      '..%2fglance.sqlite3',
      '%2e%2e%2f%2e%2e%2fx',
      '..%5c..%5cwin.ini',
      'a%00b',
    ];
    const routes = ROUTES.filter(([, p]) => p.includes(ID));
    for (const id of ids)
      for (const [method, path] of routes) {
        // A well-formed request otherwise: Glance reads the body before it looks the image up.
        const patch = method === 'PATCH';
        const r = await raw(
          server,
          method,
          path.replace(ID, id),
          {
            'x-auth-token': t,
            'content-type': patch ? 'application/openstack-images-v2.1-json-patch' : 'application/json',
          },
          BODIES.get(`${method} ${path}`),
        );
        expect({ route: `${method} ${path}`, id, status: r.status }).toEqual({
          route: `${method} ${path}`,
          id,
          status: 404,
        });
        // Glance's words: no route once the id's slashes are decoded, or the route's own 404.
        if (method !== 'HEAD')
          expect((JSON.parse(r.body) as { message: string }).message).toMatch(
            /^(The resource could not be found\.|No image found with ID |Image .* not found\.|Failed to find image )/,
          );
      }
    // Nothing was written anywhere: the data folder holds what the server made at start only.
    expect(readdirSync(join(dir, 'server', 'images'))).toEqual([]);
  });

  it('answers 401 on every route without a token, except version discovery and getting a token', async () => {
    for (const [method, path] of ROUTES) {
      const r = await raw(server, method, path, { 'content-type': 'application/json' });
      expect({ route: `${method} ${path}`, status: r.status }).toEqual({ route: `${method} ${path}`, status: 401 });
      // The same with a token that is not one.
      const forged = await raw(server, method, path, { 'x-auth-token': 'gAAAAAforged', 'x-subject-token': 'x' });
      expect({ route: `${method} ${path}`, status: forged.status }).toEqual({
        route: `${method} ${path}`,
        status: 401,
      });
    }
    for (const path of ['/', '/versions', '/identity', '/identity/v3'])
      expect((await raw(server, 'GET', path)).status, path).toBeLessThan(400);
    const auth = await raw(
      server,
      'POST',
      '/identity/v3/auth/tokens',
      { 'content-type': 'application/json' },
      Buffer.from(
        JSON.stringify({
          auth: {
            identity: {
              methods: ['password'],
              password: { user: { name: 'local', domain: { id: 'default' }, password: server.creds.password } },
            },
          },
        }),
      ),
    );
    expect(auth.status).toBe(201);
  });

  it('refuses a missing Host header and one with another port or name (400)', async () => {
    const t = token(server);
    const port = Number(new URL(server.url).port);
    expect((await raw(server, 'GET', '/v2/images', { 'x-auth-token': t })).status).toBe(200);
    expect((await raw(server, 'GET', '/v2/images', { 'x-auth-token': t }, undefined, false)).status).toBe(400);
    expect((await raw(server, 'GET', '/v2/images', { 'x-auth-token': t, host: `127.0.0.1:${port + 1}` })).status).toBe(
      400,
    );
    expect((await raw(server, 'GET', '/v2/images', { 'x-auth-token': t, host: '127.0.0.1' })).status).toBe(400); // port 80
    expect(
      (await raw(server, 'GET', '/v2/images', { 'x-auth-token': t, host: `attacker.example:${port}` })).status,
    ).toBe(400);
  });

  it('refuses an oversized JSON body with 413 and stores nothing', async () => {
    const t = token(server);
    const before = JSON.parse((await raw(server, 'GET', '/v2/images', { 'x-auth-token': t })).body) as {
      images: unknown[];
    };
    const huge = Buffer.from(
      JSON.stringify({ name: 'huge', disk_format: 'raw', container_format: 'bare', big: 'x'.repeat(2 * 1024 * 1024) }),
    );
    const r = await raw(server, 'POST', '/v2/images', { 'x-auth-token': t, 'content-type': 'application/json' }, huge);
    expect(r.status).toBe(413);
    // Without a Content-Length (chunked), the limit holds while reading.
    const chunked = await raw(
      server,
      'POST',
      '/v2/images',
      { 'x-auth-token': t, 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
      // Just over the limit (256 KiB): all of it is in the socket before the answer comes.
      Buffer.from(JSON.stringify({ name: 'big', big: 'x'.repeat(300 * 1024) })),
    );
    expect(chunked.status).toBe(413);
    const after = JSON.parse((await raw(server, 'GET', '/v2/images', { 'x-auth-token': t })).body) as {
      images: unknown[];
    };
    expect(after.images).toHaveLength(before.images.length);
  });

  it('with `*` allowed and credentials on, never sends Access-Control-Allow-Credentials with the wildcard', async () => {
    const open = new StagingServer({
      dataDir: join(dir, 'cors-star'),
      port: 0,
      cors: { allowedOrigins: ['*'], allowCredentials: true },
    });
    await open.start();
    try {
      const preflight = await raw(open, 'OPTIONS', '/v2/images', {
        origin: 'https://anywhere.example',
        'access-control-request-method': 'PUT',
        'access-control-request-headers': 'x-auth-token',
      });
      const actual = await raw(open, 'GET', '/v2/images', { origin: 'https://anywhere.example' });
      for (const r of [preflight, actual]) {
        expect(r.headers['access-control-allow-origin']).toBe('*');
        expect(r.headers['access-control-allow-credentials']).toBeUndefined();
      }
    } finally {
      await open.close();
    }
  });

  // Keystone's validate_token/revoke_token: an admin, or the token's own user. Fails if the
  // subject's owner is not checked (the member reads or revokes the admin's token: 200/204).
  it('lets a user validate and revoke its own tokens only, an admin any', async () => {
    const member = token(server);
    const admin =
      server.identity.authenticate({
        auth: {
          identity: {
            methods: ['password'],
            password: {
              user: { name: 'local-admin', domain: { id: 'default' }, password: server.creds.admin.password },
            },
          },
        },
      })?.id ?? '';
    const check = async (method: string, caller: string, subject: string): Promise<number> =>
      (await raw(server, method, '/identity/v3/auth/tokens', { 'x-auth-token': caller, 'x-subject-token': subject }))
        .status;
    expect(await check('GET', member, admin)).toBe(403);
    expect(await check('DELETE', member, admin)).toBe(403);
    expect(await check('GET', admin, admin)).toBe(200);
    expect(await check('GET', admin, member)).toBe(200);
    expect(await check('GET', member, member)).toBe(200);
    expect(server.identity.validate(admin)).toBeDefined();
  });
});
