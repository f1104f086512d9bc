/** What the doctor says: checks, each with its state and, when it failed, why and what to change. */
export type CheckStatus = 'pass' | 'warn' | 'fail' | 'skip';

export interface Fix {
  /** Where the change goes: "glance-api.conf", "nginx", "Horizon local_settings.py"... */
  where: string;
  snippet: string;
}

export interface DoctorCheck {
  /** Stable: "keystone.reachable", "glance.version:RegionOne", "horizon.origin:RegionOne"... */
  id: string;
  title: string;
  status: CheckStatus;
  /** What was found. */
  detail: string;
  /** Why it matters (failures and warnings). */
  why?: string;
  fixes?: Fix[];
  region?: string;
}

export interface DoctorReport {
  cloud: string;
  regions: string[];
  horizonOrigin: string | null;
  checks: DoctorCheck[];
  failed: number;
  warned: number;
  /** Measured by the probe upload, bytes per second, per region. */
  throughput: Record<string, number>;
}

export function summarize(r: Omit<DoctorReport, 'failed' | 'warned'>): DoctorReport {
  return {
    ...r,
    failed: r.checks.filter((c) => c.status === 'fail').length,
    warned: r.checks.filter((c) => c.status === 'warn').length,
  };
}
