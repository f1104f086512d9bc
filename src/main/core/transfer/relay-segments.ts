/**
 * The relay's first half: the file as fixed-size segments in the region's object store. Each
 * segment is read from its own range of the file, throttled by the bandwidth buckets, hashed
 * (md5) as it goes out, and confirmed only when the ETag Swift computed of what it stored equals
 * that md5; then it is recorded in the queue. A segment already confirmed by an earlier attempt
 * is not sent again: a crash, a pause or a broken link costs at most the segments in flight.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { EngineError } from '../io/errors';
import type { ObjectStoreClient, SloSegment } from '../openstack/object-store-client';
import type { ConfirmedSegment, RelayRecord } from '../queue/relay-store';
import type { TokenBucket } from './token-bucket';

export interface SegmentPlan {
  idx: number;
  offset: number;
  size: number;
}

/** Swift's default limit of segments in one SLO manifest, when /info does not say. */
export const DEFAULT_MAX_SEGMENTS = 1000;

/**
 * The segment size of a file: the wanted size, grown (to whole MiB) when the file would need
 * more segments than the manifest may list.
 */
export function segmentSizeFor(size: number, wanted: number, maxSegments = DEFAULT_MAX_SEGMENTS): number {
  const MiB = 1024 * 1024;
  const least = Math.ceil(size / maxSegments / MiB) * MiB;
  return Math.max(wanted, least);
}

export function segmentsOf(size: number, segmentSize: number): SegmentPlan[] {
  const out: SegmentPlan[] = [];
  for (let offset = 0, idx = 0; offset < size; offset += segmentSize, idx++)
    out.push({ idx, offset, size: Math.min(segmentSize, size - offset) });
  return out;
}

export function segmentName(relay: Pick<RelayRecord, 'prefix'>, idx: number): string {
  return `${relay.prefix}/seg/${String(idx).padStart(6, '0')}`;
}

export function manifestName(relay: Pick<RelayRecord, 'prefix'>): string {
  return `${relay.prefix}/manifest`;
}

/** The manifest of the confirmed segments (all of them, in order). */
export function manifestOf(relay: RelayRecord, segments: readonly ConfirmedSegment[]): SloSegment[] {
  return segments.map((s) => ({
    path: `/${relay.container}/${segmentName(relay, s.idx)}`,
    etag: s.md5,
    size_bytes: s.size,
  }));
}

export interface SendSegmentsOptions {
  store: ObjectStoreClient;
  relay: RelayRecord;
  path: string;
  size: number;
  buckets: TokenBucket[];
  signal: AbortSignal;
  parallel: number;
  /** Segments confirmed before this call (not sent again). */
  confirmed: readonly ConfirmedSegment[];
  /** A segment Swift stored with our md5: record it before the next one counts on it. */
  onConfirmed: (seg: ConfirmedSegment) => void;
  /** Bytes of the file in the store or on their way there (confirmed + in flight). */
  onBytes?: (bytes: number) => void;
}

/** How often one segment is sent again after Swift stored other bytes than went out. */
const ETAG_TRIES = 3;

/** Sends every segment not yet confirmed, `parallel` at a time, in file order. */
export async function sendSegments(o: SendSegmentsOptions): Promise<void> {
  const done = new Set(o.confirmed.map((s) => s.idx));
  const todo = segmentsOf(o.size, o.relay.segmentSize).filter((s) => !done.has(s.idx));
  let settled = o.confirmed.reduce((n, s) => n + s.size, 0);
  const inFlight = new Map<number, number>();
  const report = (): void => o.onBytes?.(settled + [...inFlight.values()].reduce((a, b) => a + b, 0));
  let next = 0;
  // The first failure stops the other workers too (their segments would outlive the attempt).
  const failed = new AbortController();
  const own = { ...o, signal: AbortSignal.any([o.signal, failed.signal]) };
  const worker = async (): Promise<void> => {
    for (let seg = todo[next++]; seg !== undefined && !own.signal.aborted; seg = todo[next++]) {
      const md5 = await sendOne(own, seg, (n) => {
        inFlight.set(seg.idx, n);
        report();
      });
      inFlight.delete(seg.idx);
      settled += seg.size;
      o.onConfirmed({ idx: seg.idx, size: seg.size, md5 });
      report();
    }
  };
  const workers = Array.from({ length: Math.max(1, Math.min(o.parallel, todo.length)) }, () =>
    worker().catch((e: unknown) => {
      failed.abort(e);
      throw e;
    }),
  );
  const results = await Promise.allSettled(workers);
  const first = results.find((r) => r.status === 'rejected');
  if (first !== undefined) throw failed.signal.reason ?? first.reason;
}

/** One segment until Swift holds exactly its bytes; returns their md5. */
async function sendOne(o: SendSegmentsOptions, seg: SegmentPlan, onBytes: (n: number) => void): Promise<string> {
  const name = segmentName(o.relay, seg.idx);
  for (let attempt = 1; ; attempt++) {
    const read = segmentBody(o, seg, onBytes);
    let etag: string;
    try {
      etag = await o.store.putObject(o.relay.container, name, read.open, seg.size, o.signal);
    } catch (e) {
      // Our container went away (an empty one is removed when a relay ends): make it again.
      if (!(e instanceof EngineError && e.info.status === 404) || attempt >= ETAG_TRIES) throw e;
      await o.store.ensureContainer(o.relay.container);
      continue;
    }
    const md5 = read.md5();
    if (etag === md5) return md5;
    if (attempt >= ETAG_TRIES)
      throw new EngineError(
        'objectstore.etag_mismatch',
        `The object store kept other bytes than were sent for segment ${seg.idx} (${ETAG_TRIES} times: md5 ${md5}, ETag ${etag || 'none'}).`,
        { hint: 'Something between here and the object store changes data; the relay is tried again.' },
      );
  }
}

/** A segment's bytes from the file, each opening a fresh read (a resend starts at its first byte). */
function segmentBody(
  o: SendSegmentsOptions,
  seg: SegmentPlan,
  onBytes: (n: number) => void,
): { open: () => AsyncIterable<Uint8Array>; md5: () => string } {
  let digest = '';
  async function* open(): AsyncGenerator<Uint8Array> {
    const hash = createHash('md5');
    let sent = 0;
    const file = createReadStream(o.path, {
      start: seg.offset,
      end: seg.offset + seg.size - 1,
      highWaterMark: 1024 * 1024,
    });
    for await (const chunk of file as AsyncIterable<Buffer>) {
      o.signal.throwIfAborted();
      for (const b of o.buckets) await b.take(chunk.length, o.signal);
      hash.update(chunk);
      sent += chunk.length;
      onBytes(sent);
      yield chunk;
    }
    if (sent !== seg.size)
      throw new EngineError('source.changed', `${o.path} ended at byte ${seg.offset + sent} while it was sent.`, {
        hint: 'The file changed while it was uploaded; queue it again once it is complete.',
      });
    digest = hash.digest('hex');
  }
  return { open, md5: () => digest };
}
