/** Network failures become coded errors: against real loopback servers that refuse, stall or reset. */
import { createServer as createTcpServer, type Server as TcpServer } from 'node:net';
import { createServer, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { Readable } from 'node:stream';
import { HttpClient, primed } from './http-client';
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

  // The request is handed to undici only once the body has its first chunk (undici writes the
  // headers with that chunk; a keep-alive socket held idle meanwhile may be closed by the server
  // just as the chunk goes out). Fails if the wait consumed or lost data, or hung on an empty body.
  it('sends a streamed body once its first chunk is ready, every byte of it', async () => {
    let headersAt = 0;
    const received: Buffer[] = [];
    const port = await listen(
      createServer((req, res) => {
        headersAt = Date.now();
        req.on('data', (c: Buffer) => received.push(c));
        req.on('end', () => res.end('ok'));
      }),
    );
    const http = new HttpClient();
    let ready = 0;
    async function* slow(): AsyncGenerator<Buffer> {
      await new Promise((r) => setTimeout(r, 300));
      ready = Date.now();
      yield Buffer.from('first,');
      yield Buffer.from('second');
    }
    const res = await http.send({
      method: 'PUT',
      url: `http://127.0.0.1:${port}/`,
      body: slow(),
      headers: { 'content-length': '12' },
    });
    expect(res.status).toBe(200);
    expect(Buffer.concat(received).toString()).toBe('first,second');
    expect(headersAt).toBeGreaterThanOrEqual(ready);
    // The same through a Readable; an empty body is ready at once (it ends without a chunk).
    const again = await primed(Readable.from([Buffer.from('a'), Buffer.from('b')]));
    const got: Uint8Array[] = [];
    for await (const c of again) got.push(c);
    expect(Buffer.concat(got).toString()).toBe('ab');
    for await (const c of await primed(Readable.from([]))) got.push(c);
    expect(got).toHaveLength(2);
    await http.close();
  });
});
