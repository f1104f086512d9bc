/**
 * Whether a browser page at `origin` (Horizon in direct upload mode) may PUT image data to a
 * Glance endpoint: the preflight a browser sends before the upload, and a simple request, each
 * answer's Access-Control-* headers judged as a browser would (oslo.middleware's behaviour is in
 * ../shared/reference: a refused preflight is still 200, only without the headers).
 */
import type { HttpClient } from '../openstack/http-client';
import { toErrorInfo } from '../io/errors';
import type { DoctorCheck } from './report';
import { corsFix } from './fixes';

/** What Horizon's direct upload sends with its PUT (and so asks in the preflight). */
export const HORIZON_UPLOAD_HEADERS = ['content-type', 'x-auth-token', 'x-openstack-image-size'];

function list(v: string | undefined): string[] {
  return (v ?? '')
    .split(',')
    .map((x) => x.trim().toLowerCase())
    .filter(Boolean);
}

/** The checks of the preflight and of a simple request (`token` for the latter; without, it is skipped). */
export async function corsChecks(
  http: HttpClient,
  o: { endpoint: string; origin: string; region: string; token?: string },
): Promise<DoctorCheck[]> {
  const root = o.endpoint.replace(/\/+$/, '').replace(/\/v2(\.\d+)?$/, '');
  const url = `${root}/v2/images/00000000-0000-4000-8000-000000000000/file`;
  const checks: DoctorCheck[] = [];
  const id = (s: string): string => `horizon.${s}:${o.region}`;
  const fix = corsFix(o.origin, HORIZON_UPLOAD_HEADERS);
  let h: Record<string, string>;
  try {
    const res = await http.send({
      method: 'OPTIONS',
      url,
      headers: {
        origin: o.origin,
        'access-control-request-method': 'PUT',
        'access-control-request-headers': HORIZON_UPLOAD_HEADERS.join(','),
      },
    });
    h = res.headers;
  } catch (e) {
    const info = toErrorInfo(e);
    return [
      {
        id: id('preflight'),
        region: o.region,
        title: `CORS preflight to ${root}`,
        status: 'fail',
        detail: info.message,
        why: 'The browser sends this request before every upload; without an answer it never uploads.',
        fixes: [],
      },
    ];
  }
  const allowOrigin = h['access-control-allow-origin'];
  const credentials = (h['access-control-allow-credentials'] ?? '').toLowerCase() === 'true';
  if (allowOrigin === undefined) {
    checks.push({
      id: id('origin'),
      region: o.region,
      title: `Glance allows the origin ${o.origin}`,
      status: 'fail',
      detail: `The preflight from ${o.origin} came back without Access-Control-Allow-Origin: this origin (or the method or a header it asked for) is not allowed.`,
      why: 'The browser blocks the upload; Horizon shows a generic error and the image stays queued.',
      fixes: [fix],
    });
    return checks;
  }
  if (allowOrigin === '*' && credentials) {
    checks.push({
      id: id('origin'),
      region: o.region,
      title: `Glance allows the origin ${o.origin}`,
      status: 'fail',
      detail: 'The answer is Access-Control-Allow-Origin: * together with Access-Control-Allow-Credentials: true.',
      why: 'Browsers refuse a wildcard origin on a request with credentials: the upload is blocked.',
      fixes: [fix],
    });
  } else if (allowOrigin !== o.origin && allowOrigin !== '*') {
    checks.push({
      id: id('origin'),
      region: o.region,
      title: `Glance allows the origin ${o.origin}`,
      status: 'fail',
      detail: `Access-Control-Allow-Origin is ${allowOrigin}, not ${o.origin}.`,
      why: 'The browser blocks the upload when the allowed origin is not its own.',
      fixes: [fix],
    });
  } else
    checks.push({
      id: id('origin'),
      region: o.region,
      title: `Glance allows the origin ${o.origin}`,
      status: 'pass',
      detail: `Access-Control-Allow-Origin: ${allowOrigin}`,
    });
  const methods = list(h['access-control-allow-methods']);
  checks.push(
    methods.includes('put')
      ? {
          id: id('method'),
          region: o.region,
          title: 'PUT allowed',
          status: 'pass',
          detail: `Access-Control-Allow-Methods: ${h['access-control-allow-methods']}`,
        }
      : {
          id: id('method'),
          region: o.region,
          title: 'PUT allowed',
          status: 'fail',
          detail: `Access-Control-Allow-Methods is "${h['access-control-allow-methods'] ?? ''}": no PUT.`,
          why: 'The image data is sent with PUT.',
          fixes: [fix],
        },
  );
  const allowed = list(h['access-control-allow-headers']);
  const missing = HORIZON_UPLOAD_HEADERS.filter((x) => !allowed.includes(x));
  checks.push(
    missing.length === 0
      ? {
          id: id('headers'),
          region: o.region,
          title: 'The upload headers are allowed',
          status: 'pass',
          detail: `Access-Control-Allow-Headers: ${h['access-control-allow-headers']}`,
        }
      : {
          id: id('headers'),
          region: o.region,
          title: 'The upload headers are allowed',
          status: 'fail',
          detail: `Not allowed: ${missing.join(', ')}.`,
          why: 'The browser refuses to send a request with a header the preflight did not allow.',
          fixes: [fix],
        },
  );
  const maxAge = Number(h['access-control-max-age'] ?? 0);
  checks.push(
    maxAge >= 600
      ? {
          id: id('max-age'),
          region: o.region,
          title: 'Preflights are cached',
          status: 'pass',
          detail: `Access-Control-Max-Age: ${maxAge} s`,
        }
      : {
          id: id('max-age'),
          region: o.region,
          title: 'Preflights are cached',
          status: 'warn',
          detail:
            maxAge > 0
              ? `Access-Control-Max-Age: ${maxAge} s.`
              : 'No Access-Control-Max-Age: the browser asks again before every request.',
          why: 'Each upload then costs an extra round trip; not an error.',
          fixes: [fix],
        },
  );
  if (o.token === undefined) return checks;
  // A simple request: the answer the page reads must carry the headers too.
  try {
    const res = await http.send({
      method: 'GET',
      url: `${root}/v2/images?limit=1`,
      headers: { origin: o.origin, 'x-auth-token': o.token, accept: 'application/json' },
    });
    const echoed = res.headers['access-control-allow-origin'];
    const exposed = list(res.headers['access-control-expose-headers']);
    checks.push(
      echoed === o.origin || (echoed === '*' && !credentials)
        ? {
            id: id('simple'),
            region: o.region,
            title: 'Answers carry the CORS headers',
            status: exposed.includes('x-openstack-request-id') ? 'pass' : 'warn',
            detail: exposed.includes('x-openstack-request-id')
              ? `Access-Control-Allow-Origin: ${echoed}; exposed: ${res.headers['access-control-expose-headers']}`
              : 'X-OpenStack-Request-ID is not exposed: error reports in the browser lose their request id.',
            ...(exposed.includes('x-openstack-request-id') ? {} : { fixes: [fix] }),
          }
        : {
            id: id('simple'),
            region: o.region,
            title: 'Answers carry the CORS headers',
            status: 'fail',
            detail: `GET /v2/images from ${o.origin} came back with Access-Control-Allow-Origin: ${echoed ?? '(none)'}.`,
            why: 'The page cannot read Glance’s answers (the image list, errors).',
            fixes: [fix],
          },
    );
  } catch (e) {
    checks.push({
      id: id('simple'),
      region: o.region,
      title: 'Answers carry the CORS headers',
      status: 'fail',
      detail: toErrorInfo(e).message,
    });
  }
  return checks;
}
