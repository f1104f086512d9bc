/**
 * Horizon's direct upload from a browser at the user's origin: a public image endpoint to
 * upload to, no mixed content, an endpoint the browser can reach, and CORS (cors.ts).
 */
import type { Engine } from '../clouds/engine';
import { corsChecks } from './cors';
import type { DoctorOptions } from './doctor';
import { horizonFix, proxyFixes } from './fixes';
import type { DoctorCheck } from './report';

const PRIVATE_HOST = /^(localhost|127\.|10\.|192\.168\.|172\.(1[6-9]|2\d|3[01])\.|\[::1\]|::1)/;

export async function horizonChecks(
  engine: Engine,
  o: DoctorOptions,
  region: string,
  publicUrl: string | undefined,
  token: string,
  checks: DoctorCheck[],
  iface: string,
): Promise<void> {
  const origin = o.horizonOrigin as string;
  if (publicUrl === undefined) {
    checks.push({
      id: `horizon.endpoint:${region}`,
      region,
      title: 'A public image endpoint for the browser',
      status: 'fail',
      detail: `${region} has no public image endpoint: a browser has nothing to upload to.`,
    });
    return;
  }
  const page = new URL(origin);
  const ep = new URL(publicUrl);
  if (page.protocol === 'https:' && ep.protocol === 'http:')
    checks.push({
      id: `horizon.mixed-content:${region}`,
      region,
      title: 'No mixed content',
      status: 'fail',
      detail: `Horizon is served over https (${origin}) and the public image endpoint is http (${publicUrl}).`,
      why: 'Browsers block requests from an https page to an http URL: the upload never starts.',
      fixes: [
        {
          where: 'the public image endpoint (a TLS-terminating proxy in front of Glance, then the catalog)',
          snippet: `openstack endpoint set --url https://${ep.hostname}${ep.port ? `:${ep.port}` : ''}${ep.pathname === '/' ? '' : ep.pathname} \\
  $(openstack endpoint list --service image --interface public --region ${region} -f value -c ID)`,
        },
      ],
    });
  else
    checks.push({
      id: `horizon.mixed-content:${region}`,
      region,
      title: 'No mixed content',
      status: 'pass',
      detail: `${page.protocol.slice(0, -1)} page, ${ep.protocol.slice(0, -1)} endpoint.`,
    });
  const privateEp = PRIVATE_HOST.test(ep.hostname) && !PRIVATE_HOST.test(page.hostname);
  checks.push({
    id: `horizon.endpoint:${region}`,
    region,
    title: 'The endpoint the browser uses',
    status: privateEp || iface !== 'public' ? 'warn' : 'pass',
    detail: `The browser uploads to the public endpoint ${publicUrl}${iface !== 'public' ? ` (this cloud entry uses the ${iface} one)` : ''}${privateEp ? '; its host is a private address that browsers outside may not reach' : ''}.`,
    ...(privateEp ? { fixes: [horizonFix()] } : {}),
  });
  const session = engine.session(o.cloud);
  checks.push(...(await corsChecks(session.http, { endpoint: publicUrl, origin, region, token })));
  if (checks.filter((c) => c.region === region && c.id.startsWith('horizon.')).every((c) => c.status !== 'fail'))
    checks.push({
      id: `horizon.settings:${region}`,
      region,
      title: 'Horizon settings for direct upload',
      status: 'pass',
      detail: 'Glance takes direct uploads from this origin; Horizon needs these settings.',
      fixes: [horizonFix(), ...proxyFixes()],
    });
}
