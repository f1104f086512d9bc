/**
 * The queue database's rows of jobs, targets and events, and their mapping to the records the
 * engine works with (job-types.ts): JSON columns parsed, flags as booleans, a job's source as the
 * union it was created from.
 */
import type { ErrorInfo } from '../../../shared/errors';
import type { EventRecord, JobRecord, NewJob, SourceImage, TargetRecord } from './job-types';
import type { TargetState } from './target-state';

export interface JobRow {
  id: string;
  created_at: number;
  updated_at: number;
  source_kind: 'file' | 'staged' | 'url' | 'image';
  source_image: string | null;
  image_id: string | null;
  source_path: string | null;
  source_url: string | null;
  source_size: number | null;
  source_mtime_ms: number | null;
  source_ino: number | null;
  source_dev: number | null;
  staged_image_id: string | null;
  name: string;
  metadata: string;
  priority: number;
  position: number;
  md5: string | null;
  sha512: string | null;
  bwlimit: number | null;
  on_duplicate: 'upload' | 'reuse';
  inspection: string | null;
  allow_format_mismatch: number;
  remove_staged_after: number;
}

export interface TargetRow {
  id: string;
  job_id: string;
  cloud: string;
  region: string;
  store: string;
  method: string;
  state: TargetState;
  paused_from: TargetState | null;
  remote_image_id: string | null;
  image_owned: number;
  attempt: number;
  next_attempt_at: number | null;
  bytes_accepted: number;
  error_code: string | null;
  error_message: string | null;
  error_hint: string | null;
  plan_reason: string | null;
  send_format: string | null;
  fixed_image_id: string | null;
  interrupted: number;
  failing_since: number | null;
  created_at: number;
  updated_at: number;
}

export interface EventRow {
  id: number;
  at: number;
  actor: string;
  kind: string;
  job_id: string | null;
  target_id: string | null;
  from_state: string | null;
  to_state: string | null;
  cloud: string | null;
  region: string | null;
  image_id: string | null;
  detail: string | null;
}

export function toJob(r: JobRow): JobRecord {
  return {
    id: r.id,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    sourceKind: r.source_kind,
    sourceImage: r.source_image === null ? null : (JSON.parse(r.source_image) as SourceImage),
    sourcePath: r.source_path,
    sourceUrl: r.source_url,
    sourceSize: r.source_size,
    sourceMtimeMs: r.source_mtime_ms,
    sourceIno: r.source_ino,
    sourceDev: r.source_dev,
    stagedImageId: r.staged_image_id,
    name: r.name,
    metadata: JSON.parse(r.metadata) as Record<string, unknown>,
    priority: r.priority,
    position: r.position,
    md5: r.md5,
    sha512: r.sha512,
    bwlimit: r.bwlimit,
    onDuplicate: r.on_duplicate === 'reuse' ? 'reuse' : 'upload',
    inspection: r.inspection === null ? null : (JSON.parse(r.inspection) as Record<string, unknown>),
    allowFormatMismatch: r.allow_format_mismatch !== 0,
    removeStagedAfter: r.remove_staged_after !== 0,
    sameImageId: r.image_id,
  };
}

export function toTarget(r: TargetRow): TargetRecord {
  return {
    id: r.id,
    jobId: r.job_id,
    cloud: r.cloud,
    region: r.region,
    store: r.store,
    method: r.method,
    state: r.state,
    pausedFrom: r.paused_from,
    remoteImageId: r.remote_image_id,
    imageOwned: r.image_owned !== 0,
    attempt: r.attempt,
    nextAttemptAt: r.next_attempt_at,
    bytesAccepted: r.bytes_accepted,
    error:
      r.error_code === null
        ? null
        : ({
            code: r.error_code,
            message: r.error_message ?? '',
            ...(r.error_hint ? { hint: r.error_hint } : {}),
          } as ErrorInfo),
    planReason: r.plan_reason,
    sendFormat: r.send_format,
    fixedImageId: r.fixed_image_id ?? null,
    interrupted: r.interrupted !== 0,
    failingSince: r.failing_since,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

export function toEvent(r: EventRow): EventRecord {
  return {
    id: r.id,
    at: r.at,
    actor: r.actor,
    kind: r.kind,
    jobId: r.job_id,
    targetId: r.target_id,
    fromState: r.from_state,
    toState: r.to_state,
    cloud: r.cloud,
    region: r.region,
    imageId: r.image_id,
    detail: r.detail === null ? null : (JSON.parse(r.detail) as Record<string, unknown>),
  };
}

/** A job's source as the columns of its row (the union flattened; what a kind lacks is null). */
export function sourceColumns(s: NewJob['source']): {
  path: string | null;
  size: number | null;
  mtimeMs: number | null;
  ino: number | null;
  dev: number | null;
  stagedImageId: string | null;
  url: string | null;
  md5: string | null;
  sha512: string | null;
  sourceImage: string | null;
} {
  const onDisk = s.kind === 'file' || s.kind === 'staged' ? s : undefined;
  return {
    path: onDisk?.path ?? null,
    size: s.size ?? null,
    mtimeMs: onDisk?.mtimeMs ?? null,
    ino: onDisk?.ino ?? null,
    dev: onDisk?.dev ?? null,
    stagedImageId: s.kind === 'staged' ? s.imageId : null,
    url: s.kind === 'url' ? s.url : null,
    // A file's digests are computed by the engine on the way; other sources may bring theirs.
    md5: s.kind === 'file' ? null : (s.md5 ?? null),
    sha512: s.kind === 'file' ? null : (s.sha512 ?? null),
    sourceImage: s.kind === 'image' ? JSON.stringify({ cloud: s.cloud, region: s.region, id: s.id }) : null,
  };
}
