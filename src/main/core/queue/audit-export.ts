/** The attempts/audit log as JSON or CSV, for the user's records and for support. */
import type { EventRecord } from './job-repository';

export const AUDIT_COLUMNS = [
  'id',
  'time',
  'actor',
  'kind',
  'job_id',
  'target_id',
  'from_state',
  'to_state',
  'cloud',
  'region',
  'image_id',
  'detail',
] as const;

function row(e: EventRecord): (string | number)[] {
  return [
    e.id,
    new Date(e.at).toISOString(),
    e.actor,
    e.kind,
    e.jobId ?? '',
    e.targetId ?? '',
    e.fromState ?? '',
    e.toState ?? '',
    e.cloud ?? '',
    e.region ?? '',
    e.imageId ?? '',
    e.detail ? JSON.stringify(e.detail) : '',
  ];
}

/** RFC 4180: quote a field holding a comma, quote or line break; double inner quotes. A leading
 * =, +, - or @ is prefixed with ' so that a spreadsheet never runs a cell as a formula. */
export function csvField(v: string | number): string {
  let s = String(v);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

export function auditCsv(events: EventRecord[]): string {
  const lines = [AUDIT_COLUMNS.join(','), ...events.map((e) => row(e).map(csvField).join(','))];
  return lines.join('\r\n') + '\r\n';
}

export function auditJson(events: EventRecord[]): string {
  return JSON.stringify(
    events.map((e) => ({ ...e, time: new Date(e.at).toISOString() })),
    null,
    2,
  );
}
