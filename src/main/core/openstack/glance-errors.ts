/** Glance's HTTP errors as coded EngineErrors, carrying the status, Glance's message and the request id. */
import type { ErrorCode } from '../../../shared/errors';
import { EngineError } from '../io/errors';
import type { HttpResponse } from './http-client';

/** Glance's error text: webob's JSON ({"message": "...<br /><br />"}) or plain text/HTML. */
export function glanceMessage(res: HttpResponse): string {
  const text = res.body.toString('utf8');
  let msg = text;
  try {
    const j = JSON.parse(text) as { message?: unknown; error?: { message?: unknown } };
    if (typeof j.message === 'string') msg = j.message;
    else if (typeof j.error?.message === 'string') msg = j.error.message;
  } catch {
    /* plain text or HTML */
  }
  return msg
    .replace(/<br\s*\/?>/g, ' ')
    .replace(/<[^>]+>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, 500);
}

const BY_STATUS: Record<number, { code: ErrorCode; hint: string }> = {
  400: { code: 'glance.bad_request', hint: 'Glance refused the request as invalid; check the values sent.' },
  401: { code: 'auth.expired', hint: 'The token was refused; log in again.' },
  403: { code: 'glance.forbidden', hint: 'Your role does not allow this in that project; ask the cloud operator.' },
  404: {
    code: 'glance.not_found',
    hint: 'The image does not exist (any more) in that region, or is not visible to your project.',
  },
  409: { code: 'glance.conflict', hint: 'The image is in a state that does not allow this; look at its status.' },
  413: {
    code: 'glance.over_limit',
    hint: 'A size cap or quota of the cloud was hit; free space or ask for a larger quota.',
  },
  502: { code: 'glance.unavailable', hint: 'Glance (or a proxy in front of it) is unavailable; try again later.' },
  503: { code: 'glance.unavailable', hint: 'Glance is unavailable; try again later.' },
  504: { code: 'glance.unavailable', hint: 'A proxy in front of Glance timed out; try again later.' },
};

export function glanceError(res: HttpResponse, what: string): EngineError {
  const known = BY_STATUS[res.status];
  const message = glanceMessage(res);
  return new EngineError(known?.code ?? 'glance.http', `${what}: HTTP ${res.status}${message ? `: ${message}` : ''}`, {
    status: res.status,
    requestId: res.headers['x-openstack-request-id'],
    hint:
      known?.hint ?? 'Glance answered with an unexpected error; the request id helps the operator find it in the logs.',
  });
}
