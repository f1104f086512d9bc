/** The object store's HTTP errors as coded EngineErrors, with Swift's text and transaction id. */
import type { ErrorCode } from '../../../shared/errors';
import { EngineError } from '../io/errors';
import type { HttpResponse } from './http-client';

const BY_STATUS: Record<number, { code: ErrorCode; hint: string }> = {
  401: { code: 'auth.expired', hint: 'The object store refused the token; log in again.' },
  403: {
    code: 'objectstore.forbidden',
    hint: 'Your role may not write to the object store of this project (Swift needs an operator role, or a container ACL that lets you write); ask the cloud operator, or use --method direct.',
  },
  413: {
    code: 'objectstore.over_quota',
    hint: 'The object store quota of the project (or of the container) is used up, or an object is larger than the store allows; free space there or ask for a larger quota, or use --method direct.',
  },
  503: { code: 'objectstore.unavailable', hint: 'The object store is unavailable; it is tried again.' },
  502: { code: 'objectstore.unavailable', hint: 'A proxy in front of the object store failed; it is tried again.' },
  504: { code: 'objectstore.unavailable', hint: 'A proxy in front of the object store timed out; it is tried again.' },
};

export function objectStoreError(res: HttpResponse, what: string): EngineError {
  const known = BY_STATUS[res.status];
  const text = res.body
    .toString('utf8')
    .replace(/<[^>]+>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, 300);
  return new EngineError(known?.code ?? 'objectstore.http', `${what}: HTTP ${res.status}${text ? `: ${text}` : ''}`, {
    status: res.status,
    requestId: res.headers['x-openstack-request-id'] ?? res.headers['x-trans-id'],
    hint: known?.hint ?? 'The object store answered with an unexpected error; its transaction id helps the operator.',
  });
}
