/**
 * What the queue keeps of a relay (an upload through the region's object store): where its
 * objects are, its segment size, and each segment Swift confirmed, so a restart, a pause or a
 * broken link continues at the first segment not confirmed. Rows are written before the work
 * they describe (a relay row before the first segment is sent), and removed only once the
 * objects are gone from the store.
 */
import { randomUUID } from 'node:crypto';
import type { Db } from './database';
import { Settings } from './settings';

export interface RelayRecord {
  targetId: string;
  relayId: string;
  container: string;
  /** Every object of this relay is named <prefix>/...: the manifest and seg/<index>. */
  prefix: string;
  segmentSize: number;
  manifestAt: number | null;
  createdAt: number;
}

/** The relay's settings (Settings screen, `settings set`), with their defaults. */
export interface RelayOptions {
  segmentSize: number;
  parallel: number;
  /** --method auto relays files from this many bytes on. */
  autoFrom: number;
  allowAccountKey: boolean;
}

export const DEFAULT_RELAY_SEGMENT_MIB = 64;
export const DEFAULT_RELAY_AUTO_GIB = 2;

export interface ConfirmedSegment {
  idx: number;
  size: number;
  md5: string;
}

interface RelayRow {
  target_id: string;
  relay_id: string;
  container: string;
  prefix: string;
  segment_size: number;
  manifest_at: number | null;
  created_at: number;
}

function toRelay(r: RelayRow): RelayRecord {
  return {
    targetId: r.target_id,
    relayId: r.relay_id,
    container: r.container,
    prefix: r.prefix,
    segmentSize: r.segment_size,
    manifestAt: r.manifest_at,
    createdAt: r.created_at,
  };
}

export class RelayStore {
  constructor(
    private readonly db: Db,
    private readonly now: () => number = Date.now,
  ) {}

  /** This data folder's id, made once: the first part of every object name it writes. */
  installId(): string {
    const settings = new Settings(this.db);
    const known = settings.get('installId');
    if (typeof known === 'string' && known !== '') return known;
    const id = randomUUID();
    settings.set('installId', id);
    return id;
  }

  options(): RelayOptions {
    const s = new Settings(this.db);
    return {
      segmentSize: (s.get('relaySegmentMiB') ?? DEFAULT_RELAY_SEGMENT_MIB) * 1024 * 1024,
      parallel: s.get('relayParallel') ?? 1,
      autoFrom: (s.get('relayAutoGiB') ?? DEFAULT_RELAY_AUTO_GIB) * 1024 ** 3,
      allowAccountKey: s.get('relayAccountKey') ?? false,
    };
  }

  get(targetId: string): RelayRecord | undefined {
    const row = this.db.prepare('SELECT * FROM relays WHERE target_id = ?').get(targetId) as RelayRow | undefined;
    return row === undefined ? undefined : toRelay(row);
  }

  /** The target's relay, made (and recorded) on first use with this container and segment size. */
  ensure(targetId: string, container: string, segmentSize: number): RelayRecord {
    return this.db
      .transaction(() => {
        const known = this.get(targetId);
        if (known !== undefined) return known;
        const relayId = randomUUID();
        this.db
          .prepare(
            'INSERT INTO relays (target_id, relay_id, container, prefix, segment_size, created_at) VALUES (?, ?, ?, ?, ?, ?)',
          )
          .run(targetId, relayId, container, `${this.installId()}/${relayId}`, segmentSize, this.now());
        return this.get(targetId) as RelayRecord;
      })
      .immediate();
  }

  confirmed(targetId: string): ConfirmedSegment[] {
    return this.db
      .prepare('SELECT idx, size, md5 FROM relay_segments WHERE target_id = ? ORDER BY idx')
      .all(targetId) as ConfirmedSegment[];
  }

  confirm(targetId: string, seg: ConfirmedSegment): void {
    this.db
      .prepare(
        `INSERT INTO relay_segments (target_id, idx, size, md5, confirmed_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (target_id, idx) DO UPDATE SET size = excluded.size, md5 = excluded.md5, confirmed_at = excluded.confirmed_at`,
      )
      .run(targetId, seg.idx, seg.size, seg.md5, this.now());
  }

  /** A segment found missing or different in the store: it is sent again. */
  unconfirm(targetId: string, idx: number): void {
    this.db.prepare('DELETE FROM relay_segments WHERE target_id = ? AND idx = ?').run(targetId, idx);
    this.db.prepare('UPDATE relays SET manifest_at = NULL WHERE target_id = ?').run(targetId);
  }

  /**
   * Every segment of the target is to be sent again: what the store holds was cut from another
   * file (a new compressed copy: qemu-img writes its clusters in the order they finish, so two
   * copies of one disk differ byte for byte).
   */
  forgetSegments(targetId: string): void {
    this.db.prepare('DELETE FROM relay_segments WHERE target_id = ?').run(targetId);
    this.db.prepare('UPDATE relays SET manifest_at = NULL WHERE target_id = ?').run(targetId);
  }

  markManifest(targetId: string): void {
    this.db.prepare('UPDATE relays SET manifest_at = ? WHERE target_id = ?').run(this.now(), targetId);
  }

  /** Once its objects are gone from the store. */
  drop(targetId: string): void {
    this.db.prepare('DELETE FROM relays WHERE target_id = ?').run(targetId);
  }

  /** Every relay recorded, with its target's state (the sweep keeps the objects of live ones). */
  all(): (RelayRecord & { state: string; cloud: string; region: string })[] {
    const rows = this.db
      .prepare('SELECT r.*, t.state, t.cloud, t.region FROM relays r JOIN targets t ON t.id = r.target_id')
      .all() as (RelayRow & { state: string; cloud: string; region: string })[];
    return rows.map((r) => ({ ...toRelay(r), state: r.state, cloud: r.cloud, region: r.region }));
  }
}
