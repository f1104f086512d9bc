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

export function exitCodeFor(code: ErrorCode): number {
  const family = code.split('.')[0];
  switch (family) {
    case 'usage':
      return EXIT.usage;
    case 'config':
    case 'catalog':
    case 'catalogfile':
    case 'secrets':
    case 'setup':
      return EXIT.config;
    case 'auth':
      return EXIT.auth;
    case 'net':
      return EXIT.network;
    case 'glance':
    case 'objectstore':
      return EXIT.glance;
    case 'source':
    case 'transfer':
    case 'inspect':
    case 'shrink':
      return EXIT.source;
    case 'queue':
    case 'db':
      return EXIT.queue;
    case 'local':
    case 'staged':
      return EXIT.staging;
    default:
      return EXIT.internal;
  }
}
