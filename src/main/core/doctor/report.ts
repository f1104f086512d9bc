/** What the doctor says (the types are shared with the renderer's doctor panel). */
import type { DoctorCheck, DoctorReport } from '../../../shared/dto';

export type { DoctorCheck, DoctorReport };
export type CheckStatus = DoctorCheck['status'];
export type Fix = NonNullable<DoctorCheck['fixes']>[number];

export function summarize(r: Omit<DoctorReport, 'failed' | 'warned'>): DoctorReport {
  return {
    ...r,
    failed: r.checks.filter((c) => c.status === 'fail').length,
    warned: r.checks.filter((c) => c.status === 'warn').length,
  };
}
