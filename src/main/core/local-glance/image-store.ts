/**
 * The embedded server's images: metadata in SQLite (WAL, in the data folder), data in files
 * named by the image id only (a UUID the server made or validated: no path is ever built from
 * request input). An upload writes a temp file, fsyncs it and renames it into place; a
 * start-up sweep removes the temp files a crash left.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import { openSqlite } from '../sqlite/open-sqlite';
import { glanceTime } from './glance-time';
import { MEMBERS_DDL, MemberStore } from './member-store';
import { TaskStore } from './task-store';

export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const DISK_FORMATS = ['ami', 'ari', 'aki', 'vhd', 'vhdx', 'vmdk', 'raw', 'qcow2', 'vdi', 'iso', 'ploop'];
export const CONTAINER_FORMATS = ['ami', 'ari', 'aki', 'bare', 'ovf', 'ova', 'docker', 'compressed'];

export interface ImageRecord {
  id: string;
  name: string | null;
  status: string;
  visibility: string;
  protected: boolean;
  os_hidden: boolean;
  owner: string | null;
  disk_format: string | null;
  container_format: string | null;
  size: number | null;
  virtual_size: number | null;
  checksum: string | null;
  os_hash_algo: string | null;
  os_hash_value: string | null;
  min_disk: number;
  min_ram: number;
  created_at: string;
  updated_at: string;
  tags: string[];
  properties: Record<string, string>;
  /** Resumable upload: bytes received so far (kept in `.part-<id>`), and the size announced. */
  partial_size: number | null;
  upload_total: number | null;
  /** The stores holding the data (multi-store servers show them as `stores`). */
  stores: string[];
  /**
   * The data is kept as a compressed qcow2 (`<id>.qcow2`, image-packing.ts) of the raw bytes the
   * image holds; every read serves those raw bytes (io/qcow2-reader.ts). Never in the API.
   */
  packed: boolean;
  /** Packing was tried and the raw form kept (it would not shrink, or cannot be packed): not tried again. */
  packKept: boolean;
}

interface Row extends Omit<
  ImageRecord,
  'protected' | 'os_hidden' | 'tags' | 'properties' | 'stores' | 'packed' | 'packKept'
> {
  protected: number;
  os_hidden: number;
  packed: number;
  tags: string;
  properties: string;
  stores: string;
}

export { glanceTime };

const COLUMNS = [
  'id',
  'name',
  'status',
  'visibility',
  'protected',
  'os_hidden',
  'owner',
  'disk_format',
  'container_format',
  'size',
  'virtual_size',
  'checksum',
  'os_hash_algo',
  'os_hash_value',
  'min_disk',
  'min_ram',
  'created_at',
  'updated_at',
  'tags',
  'properties',
  'partial_size',
  'upload_total',
  'stores',
  'packed',
] as const;

/** The `packed` column: 0 not tried yet, 1 packed, 2 tried and kept raw. */
const PACKED = 1;
const KEPT = 2;

function toRecord(r: Row): ImageRecord {
  return {
    ...r,
    protected: r.protected !== 0,
    os_hidden: r.os_hidden !== 0,
    tags: JSON.parse(r.tags) as string[],
    properties: JSON.parse(r.properties) as Record<string, string>,
    stores: JSON.parse(r.stores) as string[],
    packed: r.packed === PACKED,
    packKept: r.packed === KEPT,
  };
}

export class ImageStore {
  readonly imagesDir: string;
  readonly stagingDir: string;
  /** Packings under way (image-packing.ts): their temp files, none of them kept at a start. */
  readonly packingDir: string;
  /** Who each shared image is shared with (same database). */
  readonly members = new MemberStore(() => this.db);
  /** Import tasks (same database). */
  readonly tasks = new TaskStore(() => this.db);
  #db: Database.Database | undefined;

  constructor(
    readonly dataDir: string,
    /** Store names; the first is the default and keeps its data in `images/`, the others in `stores/<name>/`. */
    readonly storeNames: string[] = ['local'],
  ) {
    this.imagesDir = join(dataDir, 'images');
    this.stagingDir = join(dataDir, 'staging');
    this.packingDir = join(dataDir, 'packing');
  }

  /** The metadata database (after `open`). */
  get db(): Database.Database {
    if (this.#db === undefined) throw new Error('ImageStore used before open()');
    return this.#db;
  }

  /** Creates the folders (owner-only) and opens the metadata database, its tables made if missing. */
  open(): this {
    mkdirSync(this.imagesDir, { recursive: true, mode: 0o700 });
    mkdirSync(this.stagingDir, { recursive: true, mode: 0o700 });
    mkdirSync(this.packingDir, { recursive: true, mode: 0o700 });
    for (const name of this.storeNames.slice(1)) mkdirSync(this.storeDir(name), { recursive: true, mode: 0o700 });
    const db = openSqlite(join(this.dataDir, 'glance.sqlite3'));
    this.#db = db;
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('busy_timeout = 10000');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS images (
        id TEXT PRIMARY KEY, name TEXT, status TEXT NOT NULL, visibility TEXT NOT NULL,
        protected INTEGER NOT NULL DEFAULT 0, os_hidden INTEGER NOT NULL DEFAULT 0, owner TEXT,
        disk_format TEXT, container_format TEXT, size INTEGER, virtual_size INTEGER,
        checksum TEXT, os_hash_algo TEXT, os_hash_value TEXT,
        min_disk INTEGER NOT NULL DEFAULT 0, min_ram INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
        tags TEXT NOT NULL DEFAULT '[]', properties TEXT NOT NULL DEFAULT '{}',
        partial_size INTEGER, upload_total INTEGER, stores TEXT NOT NULL DEFAULT '[]',
        seq INTEGER NOT NULL, packed INTEGER NOT NULL DEFAULT 0
      );
      CREATE INDEX IF NOT EXISTS images_created ON images (created_at, seq);
      ${MEMBERS_DDL}
    `);
    // A data folder from before packing: its images are all unpacked.
    const columns = db.prepare('PRAGMA table_info(images)').all() as { name: string }[];
    if (!columns.some((c) => c.name === 'packed'))
      db.exec('ALTER TABLE images ADD COLUMN packed INTEGER NOT NULL DEFAULT 0');
    this.tasks.open();
    return this;
  }

  /**
   * What a crash left: temp files go; an image that was receiving data goes back to queued, as
   * Glance does after an aborted upload, keeping what it received (its `.part-` file, as long as
   * it is on disk) for a client that resumes; a partial file without its queued image goes.
   */
  sweep(): { removed: number; reset: number } {
    let removed = 0;
    for (const f of readdirSync(this.packingDir)) {
      rmSync(join(this.packingDir, f), { force: true }); // a packing a stop or a crash cut short
      removed++;
    }
    const dirs = [this.stagingDir, ...this.storeNames.map((s) => this.storeDir(s))];
    for (const dir of dirs)
      for (const f of readdirSync(dir))
        // A temp file, the data of an image whose row is gone (a crash during a delete), or the
        // half of a packing a crash left (image-packing.ts: the row says which form holds).
        if (f.startsWith('.tmp-') || this.#stale(f)) {
          rmSync(join(dir, f), { force: true });
          removed++;
        }
    const reset = this.db
      .prepare(`UPDATE images SET status = 'queued', size = NULL, updated_at = ? WHERE status = 'saving'`)
      .run(glanceTime()).changes;
    for (const f of readdirSync(this.imagesDir).filter((x) => x.startsWith('.part-'))) {
      const img = this.get(f.slice(6));
      const path = join(this.imagesDir, f);
      if (img === undefined || img.status !== 'queued' || img.upload_total === null) {
        rmSync(path, { force: true });
        removed++;
        continue;
      }
      img.partial_size = Math.min(statSync(path).size, img.upload_total);
      this.save(img);
    }
    return { removed, reset: reset + this.#sweepImports() };
  }

  /** A data file no row wants: an image gone, or the form (raw, packed) its row does not say. */
  #stale(file: string): boolean {
    const packed = file.endsWith('.qcow2');
    const id = packed ? file.slice(0, -6) : file;
    if (!UUID_RE.test(id)) return false;
    const img = this.get(id);
    if (img === undefined) return true;
    if (packed) return !img.packed;
    // The raw data of a packed image: only once its packed form is there (never the last copy).
    return img.packed && img.stores.some((s) => existsSync(this.packedPath(s, id)));
  }

  /**
   * Imports run in this process: at start none is running. Their tasks fail, their locks go, and
   * an image left importing is staged again (its data is still staged) or queued, for a retry;
   * Glance would keep the lock until it expires (an hour).
   */
  #sweepImports(): number {
    this.tasks.failUnfinished('Task failed due to Internal Error');
    let reset = 0;
    for (const img of this.all().filter((i) => i.properties.os_glance_import_task !== undefined)) {
      delete img.properties.os_glance_import_task;
      if (img.status === 'importing') {
        img.status = existsSync(this.stagePath(img.id)) ? 'uploading' : 'queued';
        reset++;
      }
      img.updated_at = glanceTime();
      this.save(img);
    }
    return reset;
  }

  partPath(id: string): string {
    if (!UUID_RE.test(id)) throw new Error(`not an image id: ${id}`);
    return join(this.imagesDir, `.part-${id.toLowerCase()}`);
  }

  get defaultStore(): string {
    return this.storeNames[0] ?? 'local';
  }

  /** The folder of a configured store (a name not configured is refused: no path from input). */
  storeDir(name: string): string {
    const i = this.storeNames.indexOf(name);
    if (i < 0) throw new Error(`not a store: ${name}`);
    return i === 0 ? this.imagesDir : join(this.dataDir, 'stores', `s${i}`);
  }

  /** Where a store keeps an image's data. */
  storePath(store: string, id: string): string {
    if (!UUID_RE.test(id)) throw new Error(`not an image id: ${id}`);
    return join(this.storeDir(store), id.toLowerCase());
  }

  /** Where a store keeps an image's data packed (a compressed qcow2 of it). */
  packedPath(store: string, id: string): string {
    return `${this.storePath(store, id)}.qcow2`;
  }

  /** The data of an image: in the first store that holds it (the default one first). */
  readPath(img: ImageRecord): string {
    const store = this.storeNames.find((s) => img.stores.includes(s)) ?? this.defaultStore;
    return img.packed ? this.packedPath(store, img.id) : this.storePath(store, img.id);
  }

  dataPath(id: string): string {
    if (!UUID_RE.test(id)) throw new Error(`not an image id: ${id}`);
    return join(this.imagesDir, id.toLowerCase());
  }

  stagePath(id: string): string {
    if (!UUID_RE.test(id)) throw new Error(`not an image id: ${id}`);
    return join(this.stagingDir, id.toLowerCase());
  }

  tempPath(dir: string, id: string): string {
    return join(dir, `.tmp-${id.toLowerCase()}-${randomUUID()}`);
  }

  get(id: string): ImageRecord | undefined {
    if (!UUID_RE.test(id)) return undefined;
    const r = this.db.prepare('SELECT * FROM images WHERE id = ?').get(id.toLowerCase()) as Row | undefined;
    return r ? toRecord(r) : undefined;
  }

  insert(img: ImageRecord): void {
    const seq = (this.db.prepare('SELECT COALESCE(MAX(seq), 0) + 1 AS s FROM images').get() as { s: number }).s;
    this.db
      .prepare(`INSERT INTO images (${COLUMNS.join(', ')}, seq) VALUES (${COLUMNS.map(() => '?').join(', ')}, ?)`)
      .run(...this.#values(img), seq);
  }

  save(img: ImageRecord): void {
    this.db
      .prepare(`UPDATE images SET ${COLUMNS.map((c) => `${c} = ?`).join(', ')} WHERE id = ?`)
      .run(...this.#values(img), img.id);
  }

  #values(img: ImageRecord): unknown[] {
    return COLUMNS.map((c) => {
      if (c === 'packed') return img.packed ? PACKED : img.packKept ? KEPT : 0;
      const v = img[c];
      if (c === 'tags' || c === 'properties' || c === 'stores') return JSON.stringify(v);
      if (typeof v === 'boolean') return v ? 1 : 0;
      return v;
    });
  }

  /**
   * The row goes first (the image is gone for every request from here on), then its files, off
   * the event loop: unlinking a multi-GB file takes a second. A crash in between leaves files
   * without a row, which the next start-up sweep removes.
   */
  async delete(id: string): Promise<void> {
    this.db.prepare('DELETE FROM images WHERE id = ?').run(id);
    this.members.removeAll(id);
    const paths = [this.dataPath(id), this.stagePath(id), this.partPath(id)];
    for (const name of this.storeNames.slice(1)) paths.push(this.storePath(name, id));
    for (const name of this.storeNames) paths.push(this.packedPath(name, id));
    await Promise.all(paths.map((p) => rm(p, { force: true })));
  }

  all(): ImageRecord[] {
    return (this.db.prepare('SELECT * FROM images ORDER BY created_at DESC, seq DESC').all() as Row[]).map(toRecord);
  }

  /**
   * Bytes held by images, those still receiving data included (no escaping a quota mid-upload:
   * an upload counts its announced size from its first byte, a paused resumable one too).
   */
  usage(): { bytes: number; count: number } {
    const r = this.db
      .prepare(
        `SELECT COALESCE(SUM(MAX(COALESCE(size, 0), COALESCE(upload_total, 0))), 0) AS bytes, COUNT(*) AS count FROM images`,
      )
      .get() as {
      bytes: number;
      count: number;
    };
    return r;
  }

  close(): void {
    this.#db?.close();
    this.#db = undefined;
  }
}
