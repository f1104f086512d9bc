/**
 * What the queue holds, as the engine sees it: a job (one source, its metadata and policy) and
 * its targets (one cloud, region and store each, with its state), and the audit events. The
 * database's rows and their mapping to these are in job-rows.ts.
 */
import type { ActivityEvent } from '../../../shared/dto';
import type { ErrorInfo } from '../../../shared/errors';
import type { TargetState } from './target-state';

export interface NewTarget {
  cloud: string;
  region: string;
  store?: string;
  method?: string;
  /** Why the planner chose this method (shown with the target). */
  planReason?: string;
  /** Send a compressed copy in this format (qcow2) instead of the file (shrink). */
  sendFormat?: string;
  /**
   * Create the image with this id (a catalog's id of the version in this region). Another
   * machine's image with it is never uploaded into while that machine may still be sending.
   */
  imageId?: string;
}

/** Where a replicate job's image already is. */
export interface SourceImage {
  cloud: string;
  region: string;
  id: string;
}

export interface NewJob {
  source:
    | { kind: 'file'; path: string; size: number; mtimeMs: number; ino: number; dev: number }
    /**
     * An image of the local server (sync): its data file, and the digests the server computed
     * when it was staged, which the bytes read now must still have.
     */
    | {
        kind: 'staged';
        imageId: string;
        path: string;
        size: number;
        mtimeMs: number;
        ino: number;
        dev: number;
        md5: string;
        sha512: string;
      }
    /**
     * An image already in a cloud (replicate): other regions pull it (glance-download). The job
     * gets a target for the source region that is done from the start, with that image (adopted:
     * never deleted by us).
     */
    | (SourceImage & { kind: 'image'; size: number; md5: string; sha512: string })
    /** Glance fetches it (web-download); size and digests, when given, are what the result must have. */
    | { kind: 'url'; url: string; size?: number; sha512?: string; md5?: string };
  name: string;
  metadata?: Record<string, unknown>;
  targets: NewTarget[];
  priority?: number;
  bwlimit?: number;
  /** 'reuse': adopt an active image with the same sha512 in a target instead of uploading. */
  onDuplicate?: 'upload' | 'reuse';
  /** What inspection found when the job was queued (kept for display and the audit log). */
  inspection?: Record<string, unknown>;
  /** Send it under its declared disk_format even where the content says otherwise. */
  allowFormatMismatch?: boolean;
  /** Sync: delete the staged image once every target is verified. */
  removeStagedAfter?: boolean;
  /** Create every target's image with this id (one id in every region), instead of Glance's. */
  sameImageId?: string;
}

export interface JobRecord {
  id: string;
  createdAt: number;
  updatedAt: number;
  sourceKind: 'file' | 'staged' | 'url' | 'image';
  sourceImage: SourceImage | null;
  sourcePath: string | null;
  sourceUrl: string | null;
  sourceSize: number | null;
  sourceMtimeMs: number | null;
  sourceIno: number | null;
  sourceDev: number | null;
  stagedImageId: string | null;
  name: string;
  metadata: Record<string, unknown>;
  priority: number;
  position: number;
  md5: string | null;
  sha512: string | null;
  bwlimit: number | null;
  onDuplicate: 'upload' | 'reuse';
  inspection: Record<string, unknown> | null;
  allowFormatMismatch: boolean;
  removeStagedAfter: boolean;
  sameImageId: string | null;
}

export interface TargetRecord {
  id: string;
  jobId: string;
  cloud: string;
  region: string;
  store: string;
  method: string;
  state: TargetState;
  pausedFrom: TargetState | null;
  remoteImageId: string | null;
  /** False for an image we adopted (duplicate check): never deleted by us. */
  imageOwned: boolean;
  /**
   * Tries made: a try that was interrupted without failing (a crash, a kill, a pause, a lost
   * lease) is continued by the next start, not counted again.
   */
  attempt: number;
  nextAttemptAt: number | null;
  bytesAccepted: number;
  error: ErrorInfo | null;
  planReason: string | null;
  /** Sent as a compressed copy in this format (qcow2) instead of the file; null: the file itself. */
  sendFormat: string | null;
  /** The id the image must be created with (NewTarget.imageId), or null: any. */
  fixedImageId: string | null;
  /** The last try was interrupted without failing: the next start continues it. */
  interrupted: boolean;
  /** Start of the current run of transient failures (the retry budget's clock), or null. */
  failingSince: number | null;
  createdAt: number;
  updatedAt: number;
}

/** One audit event: the same shape the app's activity view receives. */
export type EventRecord = ActivityEvent;

export interface TransitionOptions {
  /** Refuse unless the target is in one of these states (optimistic check against races). */
  from?: TargetState[];
  error?: ErrorInfo;
  nextAttemptAt?: number;
  /**
   * Count this as a new attempt (entering a working phase from retrying/pending), unless the
   * last try was interrupted without failing: then this start continues it.
   */
  newAttempt?: boolean;
  /**
   * The try in progress stops without having failed (recovery after a crash or a lost lease, a
   * pause): it is logged apart (`target.interrupted`), and the retry budget's clock moves forward
   * by `downtimeMs` (the time no engine worked on it).
   */
  interrupted?: { downtimeMs?: number };
  detail?: Record<string, unknown>;
}
