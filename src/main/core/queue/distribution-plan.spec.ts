import { describe, expect, it } from 'vitest';
import { planDistribution, type PlanInput, type RegionOffer } from './distribution-plan';

const both: RegionOffer = { methods: ['glance-direct', 'glance-download', 'copy-image'], stores: ['fast', 'cold'] };
const plain: RegionOffer = { methods: ['glance-direct'], stores: [] };

function input(over: Partial<PlanInput>): PlanInput {
  return {
    cloud: 'c',
    regions: ['R1', 'R2', 'R3'],
    stores: [],
    offers: new Map<string, RegionOffer | undefined>([
      ['R1', both],
      ['R2', both],
      ['R3', plain],
    ]),
    admin: false,
    method: 'auto',
    ...over,
  };
}

const short = (ts: { region: string; store?: string; method?: string }[]): string[] =>
  ts.map((t) => `${t.region}${t.store ? `/${t.store}` : ''}:${t.method ?? ''}`);

describe('planDistribution', () => {
  it('pushes to the first region, lets the regions that offer glance-download pull, pushes to the rest', () => {
    const plan = planDistribution(input({}));
    expect(short(plan.targets)).toEqual(['R1:direct', 'R2:glance-download', 'R3:direct']);
    expect(plan.push).toEqual([]);
    expect(plan.targets[1]?.planReason).toMatch(/R2 offers glance-download and shares R1's Keystone/);
    expect(plan.targets[2]?.planReason).toMatch(/R3 does not offer glance-download/);
  });

  it('pushes everywhere when asked to, and treats a region it could not ask as a push', () => {
    expect(short(planDistribution(input({ method: 'push' })).targets)).toEqual(['R1:direct', 'R2:direct', 'R3:direct']);
    const unknown = planDistribution(
      input({
        offers: new Map<string, RegionOffer | undefined>([
          ['R1', both],
          ['R2', undefined],
        ]),
        regions: ['R1', 'R2'],
      }),
    );
    expect(short(unknown.targets)).toEqual(['R1:direct', 'R2:direct']);
    expect(unknown.targets[1]?.planReason).toMatch(/could not be asked/);
  });

  it('copies into the other stores with copy-image only for an admin, and says why not otherwise', () => {
    const member = planDistribution(input({ regions: ['R1'], stores: ['fast', 'cold'] }));
    expect(short(member.targets)).toEqual(['R1/fast:direct', 'R1/cold:direct']);
    expect(member.targets[1]?.planReason).toMatch(/needs the admin role/);
    const admin = planDistribution(input({ regions: ['R1'], stores: ['fast', 'cold'], admin: true }));
    expect(short(admin.targets)).toEqual(['R1/fast:direct', 'R1/cold:copy-image']);
  });

  it('replicates from the region that has the image: pulls where offered, pushes the others, copies its other stores', () => {
    const plan = planDistribution(
      input({ sourceRegion: 'R1', regions: ['R2', 'R3'], stores: ['fast', 'cold'], admin: true }),
    );
    expect(short(plan.targets)).toEqual(['R1/cold:copy-image', 'R2/fast:glance-download', 'R2/cold:copy-image']);
    expect(short(plan.push)).toEqual(['R3/fast:direct', 'R3/cold:direct']);
    expect(plan.push[1]?.planReason).toMatch(/R3 does not offer copy-image/);
  });

  it('replicates by push only when asked to', () => {
    const plan = planDistribution(input({ sourceRegion: 'R1', regions: ['R2'], method: 'push' }));
    expect(plan.targets).toEqual([]);
    expect(short(plan.push)).toEqual(['R2:direct']);
  });
});
