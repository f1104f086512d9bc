import { createHash, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HttpClient } from '../openstack/http-client';
import { HashedRead, hashFile } from './hashed-read';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'gu-hashed-read-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, data: Buffer): string {
  const p = join(dir, name);
  writeFileSync(p, data);
  return p;
}

const md5 = (b: Buffer): string => createHash('md5').update(b).digest('hex');
const sha512 = (b: Buffer): string => createHash('sha512').update(b).digest('hex');

describe('HashedRead (one read: a worker reads into a ring, hashes, hands over)', () => {
  it('hands over every byte once, in order, and hashes exactly those', async () => {
    const data = randomBytes(3 * 1024 * 1024 + 7);
    const read = HashedRead.start(file('a.raw', data), data.length, { chunkSize: 256 * 1024, slots: 3 });
    const got: Buffer[] = [];
    for await (const c of read) got.push(Buffer.from(c)); // kept past the next chunk: copied
    expect(Buffer.concat(got).equals(data)).toBe(true);
    expect(read.complete).toBe(true);
    expect(await read.digests()).toEqual({ md5: md5(data), sha512: sha512(data) });
  });

  it('hashes the bytes before `from` without handing them over (a resumed upload)', async () => {
    const data = randomBytes(2 * 1024 * 1024 + 5);
    const from = 700_001;
    const read = HashedRead.start(file('r.raw', data), data.length, { from, chunkSize: 256 * 1024 });
    const got: Buffer[] = [];
    for await (const c of read) got.push(Buffer.from(c));
    expect(Buffer.concat(got).equals(data.subarray(from))).toBe(true);
    expect(await read.digests()).toEqual({ md5: md5(data), sha512: sha512(data) });
  });

  it('has no digests for a read stopped half-way, and stops its worker', async () => {
    const data = randomBytes(4 * 1024 * 1024);
    const read = HashedRead.start(file('h.raw', data), data.length, { chunkSize: 256 * 1024 });
    for await (const c of read) if (c.length > 0) break;
    expect(read.complete).toBe(false);
    await expect(read.digests()).rejects.toThrow(/not read to the end/);
  });

  it('fails, rather than hand over less, when the file is shorter than its recorded size', async () => {
    const read = HashedRead.start(file('s.raw', randomBytes(1000)), 5000);
    const reading = (async () => {
      for await (const c of read) void c;
    })();
    await expect(reading).rejects.toThrow(/shorter than expected/);
  });

  it('hashFile gives the digests of the whole file, empty or not', async () => {
    const data = randomBytes(9 * 1024 * 1024 + 3);
    expect(await hashFile(file('w.raw', data), data.length)).toEqual({ md5: md5(data), sha512: sha512(data) });
    expect(await hashFile(file('e.raw', Buffer.alloc(0)), 0)).toEqual({
      md5: md5(Buffer.alloc(0)),
      sha512: sha512(Buffer.alloc(0)),
    });
  });

  // The ring is reused only once the HTTP client asked for the next chunk, that is once the
  // socket took the last one. A server that reads slowly keeps chunks in the socket's buffers for
  // a long time; what it receives must still be the file, with the digests the read reports.
  // Fails when a slot is freed as it is handed over (the Atomics.add before the yield in
  // hashed-read.ts), or when the body goes through a Readable that reads ahead (Readable.from in
  // send-watchdog.ts): the server then receives bytes of later chunks.
  it('sends through a slow socket exactly the bytes it hashed (the ring is reused only once the socket took a chunk)', async () => {
    const data = randomBytes(6 * 1024 * 1024 + 11);
    const received = createHash('sha512');
    let bytes = 0;
    const server = createServer((req, res) => {
      req.on('data', (c: Buffer) => {
        received.update(c);
        bytes += c.length;
        req.pause(); // a slow reader: the client's socket fills and waits
        setTimeout(() => req.resume(), 1);
      });
      req.on('end', () => res.writeHead(204).end());
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const http = new HttpClient();
    const read = HashedRead.start(file('slow.raw', data), data.length, { chunkSize: 256 * 1024, slots: 2 });
    try {
      const res = await http.send({
        method: 'PUT',
        url: `http://127.0.0.1:${port}/`,
        headers: { 'content-length': String(data.length) },
        body: read,
      });
      expect(res.status).toBe(204);
      await sleep(10);
      expect(bytes).toBe(data.length);
      expect(received.digest('hex')).toBe(sha512(data));
      expect((await read.digests()).sha512).toBe(sha512(data));
    } finally {
      await read.dispose();
      await http.close();
      await new Promise((r) => server.close(r));
    }
  });
});
