/**
 * Whether a browser page at `origin` (Horizon in direct upload mode) may PUT image data to a
 * Glance endpoint: the preflight a browser sends before the upload, and a simple request, each
 * answer's Access-Control-* headers judged as a browser would (oslo.middleware, in front of
 * Glance, answers a refused preflight 200, only without the headers).
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

/** Where and for whom the checks run. */
interface CorsTarget {
  endpoint: string;
  origin: string;
  region: string;
  /** For the simple request; without, it is skipped. */
  token?: string;
}

type Check = DoctorCheck;

/** The checks of the preflight and of a simple request (`token` for the latter; without, it is skipped). */
export async function corsChecks(http: HttpClient, o: CorsTarget): Promise<DoctorCheck[]> {
  const root = o.endpoint.replace(/\/+$/, '').replace(/\/v2(\.\d+)?$/, '');
  const url = `${root}/v2/images/00000000-0000-4000-8000-000000000000/file`;
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
        id: idOf('preflight', o),
        region: o.region,
        title: `CORS preflight to ${root}`,
        status: 'fail',
        detail: info.message,
        why: 'The browser sends this request before every upload; without an answer it never uploads.',
        fixes: [],
      },
    ];
  }
  const origin = originCheck(h, o);
  if (h['access-control-allow-origin'] === undefined) return [origin];
  const checks = [origin, methodCheck(h, o), headersCheck(h, o), maxAgeCheck(h, o)];
  if (o.token === undefined) return checks;
  const credentials = (h['access-control-allow-credentials'] ?? '').toLowerCase() === 'true';
  return [...checks, await simpleRequestCheck(http, root, o, o.token, credentials)];
}

const idOf = (s: string, o: CorsTarget): string => `horizon.${s}:${o.region}`;
const fixOf = (o: CorsTarget): ReturnType<typeof corsFix> => corsFix(o.origin, HORIZON_UPLOAD_HEADERS);

/** The allowed origin: none, a wildcard with credentials (browsers refuse it), another origin, or ours. */
function originCheck(h: Record<string, string>, o: CorsTarget): Check {
  const allowOrigin = h['access-control-allow-origin'];
  const credentials = (h['access-control-allow-credentials'] ?? '').toLowerCase() === 'true';
  const base = { id: idOf('origin', o), region: o.region, title: `Glance allows the origin ${o.origin}` };
  if (allowOrigin === undefined)
    return {
      ...base,
      status: 'fail',
      detail: `The preflight from ${o.origin} came back without Access-Control-Allow-Origin: this origin (or the method or a header it asked for) is not allowed.`,
      why: 'The browser blocks the upload; Horizon shows a generic error and the image stays queued.',
      fixes: [fixOf(o)],
    };
  if (allowOrigin === '*' && credentials)
    return {
      ...base,
      status: 'fail',
      detail: 'The answer is Access-Control-Allow-Origin: * together with Access-Control-Allow-Credentials: true.',
      why: 'Browsers refuse a wildcard origin on a request with credentials: the upload is blocked.',
      fixes: [fixOf(o)],
    };
  if (allowOrigin !== o.origin && allowOrigin !== '*')
    return {
      ...base,
      status: 'fail',
      detail: `Access-Control-Allow-Origin is ${allowOrigin}, not ${o.origin}.`,
      why: 'The browser blocks the upload when the allowed origin is not its own.',
      fixes: [fixOf(o)],
    };
  return { ...base, status: 'pass', detail: `Access-Control-Allow-Origin: ${allowOrigin}` };
}

function methodCheck(h: Record<string, string>, o: CorsTarget): Check {
  const base = { id: idOf('method', o), region: o.region, title: 'PUT allowed' };
  if (list(h['access-control-allow-methods']).includes('put'))
    return { ...base, status: 'pass', detail: `Access-Control-Allow-Methods: ${h['access-control-allow-methods']}` };
  return {
    ...base,
    status: 'fail',
    detail: `Access-Control-Allow-Methods is "${h['access-control-allow-methods'] ?? ''}": no PUT.`,
    why: 'The image data is sent with PUT.',
    fixes: [fixOf(o)],
  };
}

function headersCheck(h: Record<string, string>, o: CorsTarget): Check {
  const base = { id: idOf('headers', o), region: o.region, title: 'The upload headers are allowed' };
  const allowed = list(h['access-control-allow-headers']);
  const missing = HORIZON_UPLOAD_HEADERS.filter((x) => !allowed.includes(x));
  if (missing.length === 0)
    return { ...base, status: 'pass', detail: `Access-Control-Allow-Headers: ${h['access-control-allow-headers']}` };
  return {
    ...base,
    status: 'fail',
    detail: `Not allowed: ${missing.join(', ')}.`,
    why: 'The browser refuses to send a request with a header the preflight did not allow.',
    fixes: [fixOf(o)],
  };
}

function maxAgeCheck(h: Record<string, string>, o: CorsTarget): Check {
  const base = { id: idOf('max-age', o), region: o.region, title: 'Preflights are cached' };
  const maxAge = Number(h['access-control-max-age'] ?? 0);
  if (maxAge >= 600) return { ...base, status: 'pass', detail: `Access-Control-Max-Age: ${maxAge} s` };
  return {
    ...base,
    status: 'warn',
    detail:
      maxAge > 0
        ? `Access-Control-Max-Age: ${maxAge} s.`
        : 'No Access-Control-Max-Age: the browser asks again before every request.',
    why: 'Each upload then costs an extra round trip; not an error.',
    fixes: [fixOf(o)],
  };
}

/** A simple request: the answer the page reads must carry the headers too. */
async function simpleRequestCheck(
  http: HttpClient,
  root: string,
  o: CorsTarget,
  token: string,
  credentials: boolean,
): Promise<Check> {
  const base = { id: idOf('simple', o), region: o.region, title: 'Answers carry the CORS headers' };
  try {
    const res = await http.send({
      method: 'GET',
      url: `${root}/v2/images?limit=1`,
      headers: { origin: o.origin, 'x-auth-token': token, accept: 'application/json' },
    });
    const echoed = res.headers['access-control-allow-origin'];
    if (echoed !== o.origin && !(echoed === '*' && !credentials))
      return {
        ...base,
        status: 'fail',
        detail: `GET /v2/images from ${o.origin} came back with Access-Control-Allow-Origin: ${echoed ?? '(none)'}.`,
        why: 'The page cannot read Glance’s answers (the image list, errors).',
        fixes: [fixOf(o)],
      };
    if (list(res.headers['access-control-expose-headers']).includes('x-openstack-request-id'))
      return {
        ...base,
        status: 'pass',
        detail: `Access-Control-Allow-Origin: ${echoed}; exposed: ${res.headers['access-control-expose-headers']}`,
      };
    return {
      ...base,
      status: 'warn',
      detail: 'X-OpenStack-Request-ID is not exposed: error reports in the browser lose their request id.',
      fixes: [fixOf(o)],
    };
  } catch (e) {
    return { ...base, status: 'fail', detail: toErrorInfo(e).message };
  }
}
