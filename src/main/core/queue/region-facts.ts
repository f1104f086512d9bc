/**
 * What probes found about a region, kept per cloud entry and region with the time of the probe
 * (migration 11's `region_facts`). A fact is never guessed: a region nobody probed has none, and
 * the planner treats it as unknown. The one fact today is `conversion`: whether an import
 * (glance-direct, web-download, glance-download) converts what it brings, and to which format.
 * `/v2/info/import` does not tell: only an import of a tiny qcow2 does (openstack/conversion-probe).
 */
import type { ConversionFact } from '../../../shared/dto';
import type { Db } from './database';

export type { ConversionFact };

export interface Known<T> {
  value: T;
  checkedAt: number;
}

interface FactRow {
  value: string;
  checked_at: number;
}

export class RegionFacts {
  constructor(
    private readonly db: Db,
    private readonly now: () => number = Date.now,
  ) {}

  conversion(cloud: string, region: string): Known<ConversionFact> | undefined {
    const row = this.db
      .prepare("SELECT value, checked_at FROM region_facts WHERE cloud = ? AND region = ? AND name = 'conversion'")
      .get(cloud, region) as FactRow | undefined;
    if (row === undefined) return undefined;
    try {
      return { value: JSON.parse(row.value) as ConversionFact, checkedAt: row.checked_at };
    } catch {
      return undefined; // written by a newer version in another shape: unknown, probe again
    }
  }

  rememberConversion(cloud: string, region: string, fact: ConversionFact): Known<ConversionFact> {
    const checkedAt = this.now();
    this.db
      .prepare(
        `INSERT INTO region_facts (cloud, region, name, value, checked_at) VALUES (?, ?, 'conversion', ?, ?)
         ON CONFLICT (cloud, region, name) DO UPDATE SET value = excluded.value, checked_at = excluded.checked_at`,
      )
      .run(cloud, region, JSON.stringify(fact), checkedAt);
    return { value: fact, checkedAt };
  }
}

/** What the region does with an import, for `imports: ...` (`clouds show`, the doctor). */
export function describeConversion(known: Known<ConversionFact> | undefined): string {
  if (known === undefined) return 'not probed yet (the doctor, or `clouds show --probe`, finds out)';
  const when = new Date(known.checkedAt).toISOString().slice(0, 16).replace('T', ' ');
  const stores = known.value.storeTypes?.length ? `; stores: ${known.value.storeTypes.join(', ')}` : '';
  return known.value.converts
    ? `converted to ${known.value.storedFormat} (probed ${when} UTC${stores})`
    : `kept as sent (probed ${when} UTC${stores})`;
}
