/** Network failures become coded errors: against real loopback servers that refuse, stall or reset. */
import { createServer as createTcpServer, type Server as TcpServer } from 'node:net';
import { createServer, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { HttpClient } from './http-client';
import { engineError } from '../../../../test/support/engine-error';

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
});

async function listen(server: Server | TcpServer): Promise<number> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  closers.push(() => new Promise((r) => server.close(() => r())));
  return (server.address() as { port: number }).port;
}

describe('HttpClient', () => {
  it('reads a whole answer with lower-case headers', async () => {
    const port = await listen(
      createServer((_q, s) => s.writeHead(200, { 'X-OpenStack-Request-ID': 'req-1' }).end('hello')),
    );
    const http = new HttpClient();
    const res = await http.send({ method: 'GET', url: `http://127.0.0.1:${port}/` });
    expect(res).toMatchObject({ status: 200, headers: { 'x-openstack-request-id': 'req-1' } });
    expect(res.body.toString()).toBe('hello');
    await http.close();
  });

  it('a refused connection is net.unreachable naming the origin', async () => {
    const probe = createTcpServer();
    const port = await listen(probe);
    await closers.pop()?.(); // closed again: nothing listens there now
    const http = new HttpClient();
    const e = await engineError(http.send({ method: 'GET', url: `http://127.0.0.1:${port}/x` }));
    expect(e.code).toBe('net.unreachable');
    expect(e.message).toContain(`127.0.0.1:${port}`);
    await http.close();
  });

  it('a server that never answers is net.timeout after the headers timeout', async () => {
    const port = await listen(createServer(() => undefined));
    const http = new HttpClient({ connectMs: 1000, headersMs: 300, bodyMs: 1000 });
    expect((await engineError(http.send({ method: 'GET', url: `http://127.0.0.1:${port}/` }))).code).toBe(
      'net.timeout',
    );
    await http.close();
  });

  it('a connection reset mid-answer is net.unreachable', async () => {
    const port = await listen(createTcpServer((sock) => sock.once('data', () => sock.resetAndDestroy())));
    const http = new HttpClient();
    expect((await engineError(http.send({ method: 'GET', url: `http://127.0.0.1:${port}/` }))).code).toBe(
      'net.unreachable',
    );
    await http.close();
  });

  it('reports when verification is off', () => {
    expect(new HttpClient(undefined, { verify: false }).insecure).toBe(true);
    expect(new HttpClient().insecure).toBe(false);
  });
});
