/**
 * Image members of the embedded server (the projects a `shared` image is shared with, and
 * each one's answer), in the image database beside the images. Rows only: the rules of who
 * may do what are in members-api.ts and image-access.ts.
 */
import type Database from 'better-sqlite3';
import { glanceTime } from './glance-time';

export const MEMBER_STATUSES = ['pending', 'accepted', 'rejected'] as const;
export type MemberStatus = (typeof MEMBER_STATUSES)[number];

export interface MemberRecord {
  image_id: string;
  member_id: string;
  status: MemberStatus;
  created_at: string;
  updated_at: string;
}

export const MEMBERS_DDL = `
  CREATE TABLE IF NOT EXISTS image_members (
    image_id TEXT NOT NULL, member_id TEXT NOT NULL, status TEXT NOT NULL,
    created_at TEXT NOT NULL, updated_at TEXT NOT NULL, seq INTEGER NOT NULL,
    PRIMARY KEY (image_id, member_id)
  );
  CREATE INDEX IF NOT EXISTS image_members_member ON image_members (member_id, status);
`;

const FIELDS = 'image_id, member_id, status, created_at, updated_at';

export class MemberStore {
  constructor(private readonly db: () => Database.Database) {}

  get(imageId: string, memberId: string): MemberRecord | undefined {
    return this.db()
      .prepare(`SELECT ${FIELDS} FROM image_members WHERE image_id = ? AND member_id = ?`)
      .get(imageId, memberId) as MemberRecord | undefined;
  }

  /** The members of an image, in the order they were added. */
  list(imageId: string): MemberRecord[] {
    return this.db()
      .prepare(`SELECT ${FIELDS} FROM image_members WHERE image_id = ? ORDER BY seq`)
      .all(imageId) as MemberRecord[];
  }

  count(imageId: string): number {
    return (
      this.db().prepare('SELECT COUNT(*) AS n FROM image_members WHERE image_id = ?').get(imageId) as { n: number }
    ).n;
  }

  add(imageId: string, memberId: string): MemberRecord {
    const now = glanceTime();
    const m: MemberRecord = {
      image_id: imageId,
      member_id: memberId,
      status: 'pending',
      created_at: now,
      updated_at: now,
    };
    const seq = (this.db().prepare('SELECT COALESCE(MAX(seq), 0) + 1 AS s FROM image_members').get() as { s: number })
      .s;
    this.db()
      .prepare(`INSERT INTO image_members (${FIELDS}, seq) VALUES (?, ?, ?, ?, ?, ?)`)
      .run(m.image_id, m.member_id, m.status, m.created_at, m.updated_at, seq);
    return m;
  }

  setStatus(m: MemberRecord, status: MemberStatus): MemberRecord {
    const next = { ...m, status, updated_at: glanceTime() };
    this.db()
      .prepare('UPDATE image_members SET status = ?, updated_at = ? WHERE image_id = ? AND member_id = ?')
      .run(next.status, next.updated_at, m.image_id, m.member_id);
    return next;
  }

  remove(imageId: string, memberId: string): void {
    this.db().prepare('DELETE FROM image_members WHERE image_id = ? AND member_id = ?').run(imageId, memberId);
  }

  removeAll(imageId: string): void {
    this.db().prepare('DELETE FROM image_members WHERE image_id = ?').run(imageId);
  }

  /** image id -> member status, for the images shared with a project. */
  sharedWith(projectId: string): Map<string, MemberStatus> {
    const rows = this.db().prepare('SELECT image_id, status FROM image_members WHERE member_id = ?').all(projectId) as {
      image_id: string;
      status: MemberStatus;
    }[];
    return new Map(rows.map((r) => [r.image_id, r.status]));
  }
}
