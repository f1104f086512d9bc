import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EngineError } from '../io/errors';
import type { ObjectStoreClient } from '../openstack/object-store-client';
import type { ConfirmedSegment, RelayRecord } from '../queue/relay-store';
import { manifestOf, segmentSizeFor, segmentsOf, sendSegments } from './relay-segments';

const MiB = 1024 * 1024;
const dir = mkdtempSync(join(tmpdir(), 'gu-segments-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const relay: RelayRecord = {
  targetId: 't',
  relayId: 'r',
  container: 'c',
  prefix: 'inst/r',
  segmentSize: 1000,
  manifestAt: null,
  createdAt: 0,
};
const bytes = Buffer.from(Array.from({ length: 3500 }, (_, i) => i % 251));
const file = join(dir, 'f.raw');
writeFileSync(file, bytes);
const md5 = (b: Buffer): string => createHash('md5').update(b).digest('hex');

/** An object store that keeps what it is sent; `answer` may change its ETag or fail a PUT. */
function store(answer: (name: string, body: Buffer, n: number) => string | Promise<string> = (_, b) => md5(b)) {
  const puts: string[] = [];
  const fake = {
    putObject: async (_c: string, name: string, open: () => AsyncIterable<Uint8Array>): Promise<string> => {
      puts.push(name);
      const parts: Buffer[] = [];
      for await (const p of open()) parts.push(Buffer.from(p));
      return answer(name, Buffer.concat(parts), puts.filter((x) => x === name).length);
    },
    ensureContainer: async () => undefined,
  };
  return { client: fake as unknown as ObjectStoreClient, puts };
}

function send(client: ObjectStoreClient, confirmed: ConfirmedSegment[] = [], parallel = 1) {
  const got: ConfirmedSegment[] = [];
  const run = sendSegments({
    store: client,
    relay,
    path: file,
    size: bytes.length,
    buckets: [],
    signal: new AbortController().signal,
    parallel,
    confirmed,
    onConfirmed: (s) => got.push(s),
  });
  return { run, got };
}

describe('relay segments', () => {
  it('cuts a file into fixed segments, the last one short, and grows them to fit the manifest limit', () => {
    expect(segmentsOf(3500, 1000).map((s) => [s.offset, s.size])).toEqual([
      [0, 1000],
      [1000, 1000],
      [2000, 1000],
      [3000, 500],
    ]);
    expect(segmentSizeFor(10 * MiB, MiB, 1000)).toBe(MiB);
    expect(segmentSizeFor(2000 * MiB, MiB, 1000)).toBe(2 * MiB);
    expect(manifestOf(relay, [{ idx: 2, size: 5, md5: 'ab' }])).toEqual([
      { path: '/c/inst/r/seg/000002', etag: 'ab', size_bytes: 5 },
    ]);
  });

  it('sends only the segments not confirmed, each confirmed with the md5 of its bytes', async () => {
    const s = store();
    const { run, got } = send(s.client, [{ idx: 0, size: 1000, md5: md5(bytes.subarray(0, 1000)) }]);
    await run;
    expect(s.puts).toEqual(['inst/r/seg/000001', 'inst/r/seg/000002', 'inst/r/seg/000003']);
    expect(got.map((g) => [g.idx, g.size, g.md5])).toEqual([
      [1, 1000, md5(bytes.subarray(1000, 2000))],
      [2, 1000, md5(bytes.subarray(2000, 3000))],
      [3, 500, md5(bytes.subarray(3000))],
    ]);
  });

  // Fails when a segment is confirmed on any ETag (`etag === md5 || attempt > 0`: tried).
  it('sends a segment again when the store kept other bytes (its ETag is not our md5)', async () => {
    const s = store((name, b, n) => (name.endsWith('000002') && n === 1 ? 'not-the-md5' : md5(b)));
    const { run, got } = send(s.client);
    await run;
    expect(s.puts.filter((p) => p.endsWith('000002'))).toHaveLength(2);
    expect(got.find((g) => g.idx === 2)?.md5).toBe(md5(bytes.subarray(2000, 3000)));
  });

  // Fails when the other workers go on after a failure (their signal without the shared abort: tried).
  it('with segments in parallel, the first failure stops the others taking new segments', async () => {
    const s = store(async (name, b) => {
      if (name.endsWith('000000')) throw new EngineError('objectstore.over_quota', 'full', { hint: '' });
      await new Promise((r) => setTimeout(r, 30));
      return md5(b);
    });
    const { run } = send(s.client, [], 2);
    await expect(run).rejects.toMatchObject({ code: 'objectstore.over_quota' });
    await new Promise((r) => setTimeout(r, 100));
    expect(s.puts).toEqual(['inst/r/seg/000000', 'inst/r/seg/000001']); // 2 and 3 never started
  });
});
