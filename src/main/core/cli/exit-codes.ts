/** The CLI's exit status, by error family, so scripts can branch without parsing text. */
import type { ErrorCode } from '../../../shared/errors';

export const EXIT = {
  ok: 0,
  failed: 1, // some jobs failed (details in the output)
  usage: 2,
  config: 3,
  auth: 4,
  network: 5,
  glance: 6, // the cloud's services: Glance, and the object store the relay goes through
  source: 7,
  queue: 8,
  staging: 9, // the local server, staged images
  changes: 10, // plan --detailed-exitcode: there are changes to apply
  internal: 70,
  interrupted: 130,
} as const;

/** Each error family's exit status; a family not named here is an internal error (70). */
const BY_FAMILY: Record<string, number> = {
  usage: EXIT.usage,
  janitor: EXIT.usage, // a refused deletion: the request was wrong, nothing happened
  config: EXIT.config,
  catalog: EXIT.config,
  catalogfile: EXIT.config,
  metadata: EXIT.config,
  secrets: EXIT.config,
  setup: EXIT.config,
  auth: EXIT.auth,
  net: EXIT.network,
  glance: EXIT.glance,
  objectstore: EXIT.glance,
  source: EXIT.source,
  transfer: EXIT.source,
  inspect: EXIT.source,
  shrink: EXIT.source,
  queue: EXIT.queue,
  db: EXIT.queue,
  local: EXIT.staging,
  staged: EXIT.staging,
};

export function exitCodeFor(code: ErrorCode): number {
  return BY_FAMILY[code.split('.')[0] ?? ''] ?? EXIT.internal;
}
