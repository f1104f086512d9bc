/**
 * Whether a region's imports convert (Glance's image_conversion plugin), found by the probe
 * (openstack/conversion-probe.ts) and remembered per region with its date: the planner sends a
 * raw file there as a compressed qcow2 only when this says the region converts it back. Without
 * the probe (probe size 0), what was remembered is shown.
 */
import { toErrorInfo } from '../io/errors';
import type { GlanceClient } from '../openstack/glance-client';
import { probeConversion } from '../openstack/conversion-probe';
import type { ConversionFact } from '../../../shared/dto';
import { describeConversion, type Known } from '../queue/region-facts';
import type { DoctorCheck } from './report';

/** Where the doctor keeps what it found (the queue's region facts). */
export interface ConversionMemory {
  conversion(cloud: string, region: string): Known<ConversionFact> | undefined;
  rememberConversion(cloud: string, region: string, fact: ConversionFact): Known<ConversionFact>;
}

export interface ConversionCheckOptions {
  cloud: string;
  region: string;
  probe: boolean;
  memory?: ConversionMemory;
}

function check(region: string, status: DoctorCheck['status'], detail: string, why?: string): DoctorCheck {
  return {
    id: `conversion:${region}`,
    region,
    title: `What ${region} does with an import (format conversion)`,
    status,
    detail,
    ...(why !== undefined ? { why } : {}),
  };
}

function consequence(fact: ConversionFact): string {
  return fact.converts
    ? `A raw file is sent there as a compressed qcow2 (only its data crosses the wire) and Glance stores it as ${fact.storedFormat}.`
    : 'Files are stored in the format sent: raw stays raw unless you ask for --shrink qcow2.';
}

export async function conversionCheck(glance: GlanceClient, o: ConversionCheckOptions): Promise<DoctorCheck> {
  if (!o.probe) {
    const known = o.memory?.conversion(o.cloud, o.region);
    return check(
      o.region,
      'pass',
      `Imports: ${describeConversion(known)}.${known !== undefined ? ` ${consequence(known.value)}` : ''}`,
    );
  }
  try {
    const fact = await probeConversion(glance, o.region);
    const known = o.memory?.rememberConversion(o.cloud, o.region, fact) ?? { value: fact, checkedAt: Date.now() };
    return check(
      o.region,
      'pass',
      `A 1 MiB qcow2 imported with glance-direct was stored as ${fact.storedFormat}; imports: ${describeConversion(known)}. ${consequence(fact)}`,
    );
  } catch (e) {
    const info = toErrorInfo(e);
    return check(o.region, 'warn', `${info.message} (${info.code})`, info.hint);
  }
}
