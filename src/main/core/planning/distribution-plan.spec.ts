import { describe, expect, it } from 'vitest';
import type { EngineError } from '../io/errors';
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

const relaying: RegionOffer = { methods: ['relay', 'web-download', 'glance-direct'], stores: [] };
const GiB = 1024 ** 3;

describe('planDistribution', () => {
  it('auto relays a file from the relay size on where a region offers it, and says why', () => {
    const offers = new Map<string, RegionOffer | undefined>([
      ['R1', relaying],
      ['R2', plain],
    ]);
    const big = planDistribution(input({ regions: ['R1', 'R2'], offers, relay: { size: 5 * GiB, from: 2 * GiB } }));
    expect(short(big.targets)).toEqual(['R1:relay', 'R2:direct']);
    expect(big.targets[0]?.planReason).toMatch(/5\.0 GiB, from 2\.0 GiB on: through R1's object store/);
    const small = planDistribution(input({ regions: ['R1', 'R2'], offers, relay: { size: GiB, from: 2 * GiB } }));
    expect(short(small.targets)).toEqual(['R1:direct', 'R2:direct']);
  });

  it('relay asked for: every region relays, and one without an object store is refused before queuing', () => {
    const offers = new Map<string, RegionOffer | undefined>([
      ['R1', relaying],
      ['R2', relaying],
      ['R3', plain],
    ]);
    expect(short(planDistribution(input({ regions: ['R1', 'R2'], offers, method: 'relay' })).targets)).toEqual([
      'R1:relay',
      'R2:relay',
    ]);
    expect(() => planDistribution(input({ offers, method: 'relay' }))).toThrow(/R3 cannot take a relay/);
  });

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

  it('puts the image into more stores of a region with copy-image, and refuses a plan where it cannot run', () => {
    const admin = planDistribution(input({ regions: ['R1'], stores: ['fast', 'cold'], admin: true }));
    expect(short(admin.targets)).toEqual(['R1/fast:direct', 'R1/cold:copy-image']);
    const code = (f: () => unknown): string | undefined => {
      try {
        f();
        return undefined;
      } catch (e) {
        return (e as EngineError).code;
      }
    };
    expect(code(() => planDistribution(input({ regions: ['R1'], stores: ['fast', 'cold'] })))).toBe('glance.forbidden');
    expect(code(() => planDistribution(input({ regions: ['R3'], stores: ['fast', 'cold'], admin: true })))).toBe(
      'glance.method_not_offered',
    );
  });

  it('replicates from the region that has the image: pulls where offered, pushes the others, copies its other stores', () => {
    const copyOnly: RegionOffer = { methods: ['copy-image'], stores: ['fast', 'cold'] };
    const plan = planDistribution(
      input({
        sourceRegion: 'R1',
        regions: ['R2', 'R3'],
        stores: ['fast', 'cold'],
        admin: true,
        offers: new Map<string, RegionOffer | undefined>([
          ['R1', both],
          ['R2', both],
          ['R3', copyOnly],
        ]),
      }),
    );
    expect(short(plan.targets)).toEqual(['R1/cold:copy-image', 'R2/fast:glance-download', 'R2/cold:copy-image']);
    expect(short(plan.push)).toEqual(['R3/fast:direct', 'R3/cold:copy-image']);
    expect(plan.push[0]?.planReason).toMatch(/R3 does not offer glance-download/);
  });

  it('replicates by push only when asked to', () => {
    const plan = planDistribution(input({ sourceRegion: 'R1', regions: ['R2'], method: 'push' }));
    expect(plan.targets).toEqual([]);
    expect(short(plan.push)).toEqual(['R2:direct']);
  });
});
