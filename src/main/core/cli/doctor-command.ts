/** `glance-uploader doctor --cloud C [--region R] [--horizon-origin URL] [--probe-mib N] [--json]`. */
import { largestQueuedFor, runDoctor } from '../doctor/doctor';
import type { DoctorCheck, DoctorReport } from '../doctor/report';
import { JobRepository } from '../queue/job-repository';
import { UsageError } from './args';
import { EXIT } from './exit-codes';
import { out, parse, type CliIo } from './io';
import { withContext } from './cli-context';

export const DOCTOR_HELP = `Usage: glance-uploader doctor --cloud NAME [--region R] [--horizon-origin URL] [--probe-mib N] [--json]

Checks a cloud before you rely on it, and says exactly what to change when something is wrong:
Keystone reachable (TLS chain named when it fails), sign-in, the token's lifetime against the
largest upload queued for this cloud at the measured speed, the image endpoints per interface,
the Glance API version, import methods and stores, quotas where the cloud exposes them, and a
timed probe upload (8 MiB by default; --probe-mib 0 skips it) that is deleted at once.

  --horizon-origin URL   also check Horizon's direct upload mode from that origin
                         (https://horizon.example.com): the CORS preflight and answers, mixed
                         content, the endpoint the browser uses; fixes for glance-api.conf [cors],
                         the web server in front of Glance and Horizon's local_settings.py.

Exit status 0 when no check failed (warnings allowed), 1 otherwise.`;

const MARK = { pass: 'ok  ', warn: 'WARN', fail: 'FAIL', skip: 'skip' } as const;

function lines(c: DoctorCheck): string[] {
  const l = [`${MARK[c.status]}  ${c.title}: ${c.detail}`];
  if (c.status === 'fail' || c.status === 'warn') {
    if (c.why !== undefined) l.push(`      why: ${c.why}`);
    for (const f of c.fixes ?? []) {
      l.push(`      fix (${f.where}):`);
      for (const s of f.snippet.split('\n')) l.push(`        ${s}`);
    }
  }
  return l;
}

export function describeReport(r: DoctorReport): string {
  const head = `Doctor for ${r.cloud}${r.regions.length > 0 ? ` (${r.regions.join(', ')})` : ''}${r.horizonOrigin ? `, Horizon at ${r.horizonOrigin}` : ''}`;
  const tail = `${r.failed} failed, ${r.warned} warning(s), ${r.checks.length - r.failed - r.warned} other check(s)`;
  return [head, ...r.checks.flatMap(lines), tail].join('\n');
}

export async function doctorCommand(args: string[], io: CliIo): Promise<number> {
  const p = parse(args, {
    cloud: { type: 'string' },
    region: { type: 'string' },
    'horizon-origin': { type: 'string' },
    'probe-mib': { type: 'string' },
  });
  if (p.values.help === true) return (out(io, DOCTOR_HELP), EXIT.ok);
  const cloud = p.values.cloud ?? io.env.OS_CLOUD;
  if (cloud === undefined || cloud === '')
    throw new UsageError('doctor needs --cloud.', 'glance-uploader doctor --help');
  const origin = p.values['horizon-origin'];
  if (origin !== undefined) {
    let u: URL | undefined;
    try {
      u = new URL(origin);
    } catch {
      u = undefined;
    }
    if (u === undefined || !/^https?:$/.test(u.protocol) || u.origin !== origin.replace(/\/+$/, ''))
      throw new UsageError(
        `--horizon-origin "${origin}" is not an origin.`,
        'An origin is a scheme, a host and a port only, as the browser sends it: https://horizon.example.com',
      );
  }
  const probeText = p.values['probe-mib'];
  const probeMiB = probeText === undefined ? 8 : Number(probeText);
  if (!Number.isFinite(probeMiB) || probeMiB < 0 || probeMiB > 1024)
    throw new UsageError(
      `--probe-mib "${probeText ?? ''}" is not a size from 0 to 1024.`,
      'For example --probe-mib 32.',
    );
  return withContext(io, async ({ db, engine }) => {
    // The largest upload waiting for this cloud: what the token's life is compared with.
    const repo = new JobRepository(db, 'doctor');
    const largest = largestQueuedFor(repo, cloud);
    const report = await runDoctor(engine, {
      cloud,
      ...(p.values.region !== undefined ? { region: p.values.region } : {}),
      ...(origin !== undefined ? { horizonOrigin: origin.replace(/\/+$/, '') } : {}),
      largestQueuedBytes: largest,
      probeBytes: Math.round(probeMiB * 1024 * 1024),
      relayAccountKey: repo.relays.options().allowAccountKey,
      conversionMemory: repo.regionFacts,
    });
    out(io, p.values.json === true ? JSON.stringify(report) : describeReport(report));
    return report.failed > 0 ? EXIT.failed : EXIT.ok;
  });
}
