import { describe, expect, it } from 'vitest';
import type { ConversionFact } from '../../../shared/dto';
import type { NewJob } from '../queue/job-repository';
import { planShrink, type ShrinkPlanInput } from './shrink-plan';

const GiB = 1024 ** 3;

function job(o: {
  format?: string;
  declared?: string;
  size?: number;
  data?: number | null;
  methods?: string[];
  scanned?: { dataSize: number };
}): NewJob {
  return {
    source: { kind: 'file', path: '/img/disk.raw', size: o.size ?? 4 * GiB, mtimeMs: 1, ino: 1, dev: 1 },
    name: 'disk',
    metadata: { disk_format: o.declared ?? 'raw', container_format: 'bare' },
    targets: (o.methods ?? ['direct', 'direct']).map((method, i) => ({ cloud: 'c', region: `R${i + 1}`, method })),
    inspection: { format: o.format ?? 'raw', allocatedSize: o.data === undefined ? 0.3 * GiB : o.data, ...o.scanned },
  } as NewJob;
}

const converts: ConversionFact = { converts: true, storedFormat: 'raw', via: 'glance-direct' };
const keeps: ConversionFact = { converts: false, storedFormat: 'qcow2', via: 'glance-direct' };

function input(o: Partial<ShrinkPlanInput> & { facts?: Record<string, ConversionFact> }): ShrinkPlanInput {
  return {
    mode: 'auto',
    methodChosen: false,
    conversion: (_c, r) => o.facts?.[r],
    offers: () => ['glance-direct', 'web-download'],
    ...o,
  };
}

const sent = (j: NewJob, i: ShrinkPlanInput) =>
  planShrink(j, i).targets.map((t) => `${t.region}:${t.method ?? 'direct'}:${t.sendFormat ?? 'file'}`);

describe('planShrink (which targets of a raw file are sent a compressed qcow2)', () => {
  // Fails if auto shrank where the region keeps what it is sent (the image would silently become qcow2).
  it('auto: only where the region converts imports, moving a planned PUT to glance-direct, with the reason', () => {
    const plan = planShrink(job({}), input({ facts: { R1: converts, R2: keeps } }));
    expect(plan.targets.map((t) => [t.region, t.method, t.sendFormat])).toEqual([
      ['R1', 'glance-direct', 'qcow2'],
      ['R2', 'direct', undefined],
    ]);
    expect(plan.targets[0]?.planReason).toMatch(/R1 converts imports to raw: 0\.3 GiB of data in 4\.0 GiB/);
    expect(plan.warnings).toEqual([]);
  });

  it('auto: not a file that is mostly data, not an unprobed region, not a method the user named', () => {
    expect(sent(job({ data: 3 * GiB }), input({ facts: { R1: converts } }))).toEqual([
      'R1:direct:file',
      'R2:direct:file',
    ]);
    expect(sent(job({}), input({}))).toEqual(['R1:direct:file', 'R2:direct:file']);
    expect(sent(job({}), input({ methodChosen: true, facts: { R1: converts } }))).toEqual([
      'R1:direct:file',
      'R2:direct:file',
    ]);
    // a named import method is kept: the relay's web-download converts too
    expect(sent(job({ methods: ['relay'] }), input({ methodChosen: true, facts: { R1: converts } }))).toEqual([
      'R1:relay:qcow2',
    ]);
  });

  // Fails if a non-raw file were shrunk (the format the user asked for would change), or one
  // whose size is not whole sectors (tried by hand without the % 512 check: shrunk).
  it('never: a file that is not raw, by content or by declaration; off; a copy that does not send the file', () => {
    const facts = { R1: converts, R2: converts };
    expect(sent(job({ format: 'qcow2', declared: 'qcow2' }), input({ mode: 'qcow2', facts }))).toEqual([
      'R1:direct:file',
      'R2:direct:file',
    ]);
    expect(sent(job({ declared: 'iso' }), input({ mode: 'qcow2', facts }))).toEqual([
      'R1:direct:file',
      'R2:direct:file',
    ]);
    expect(sent(job({}), input({ mode: 'off', facts }))).toEqual(['R1:direct:file', 'R2:direct:file']);
    // Not whole 512-byte sectors: qemu-img would pad it, and Glance's image could never be the file.
    expect(sent(job({ size: 4 * GiB + 100 }), input({ mode: 'qcow2', facts }))).toEqual([
      'R1:direct:file',
      'R2:direct:file',
    ]);
    expect(sent(job({ methods: ['direct', 'glance-download'] }), input({ facts }))).toEqual([
      'R1:glance-direct:qcow2',
      'R2:glance-download:file',
    ]);
  });

  // Fails if the plan read st_blocks only (dataOf ignoring dataSize): a disk written out in full
  // with little data would be sent whole.
  it('auto: decides by the data scan when there was one (zeros written as data count as empty)', () => {
    const facts = { R1: converts, R2: converts };
    const full = { data: 4 * GiB };
    expect(sent(job(full), input({ facts }))).toEqual(['R1:direct:file', 'R2:direct:file']);
    expect(sent(job({ ...full, scanned: { dataSize: 0.2 * GiB } }), input({ facts }))).toEqual([
      'R1:glance-direct:qcow2',
      'R2:glance-direct:qcow2',
    ]);
  });

  it('qcow2: everywhere, with a warning where the image will be stored as qcow2 (a stronger one on Ceph)', () => {
    const plan = planShrink(job({ data: 3 * GiB }), input({ mode: 'qcow2', facts: { R1: converts, R2: keeps } }));
    expect(plan.targets.map((t) => [t.region, t.method, t.sendFormat])).toEqual([
      ['R1', 'glance-direct', 'qcow2'],
      ['R2', 'direct', 'qcow2'],
    ]);
    expect(plan.warnings).toEqual([
      expect.stringMatching(/^R2 keeps what it is sent: the image is stored as qcow2, not raw/),
    ]);
    const unprobed = planShrink(job({}), input({ mode: 'qcow2' }));
    expect(unprobed.warnings[0]).toMatch(
      /R1: whether it converts imports is not known \(glance-uploader clouds show c --probe\)/,
    );
    // Where the probe learnt the store is Ceph, the warning says what qcow2 costs there.
    const ceph = planShrink(
      job({}),
      input({ mode: 'qcow2', facts: { R1: converts, R2: { ...keeps, storeTypes: ['rbd'] } } }),
    );
    expect(ceph.warnings).toEqual([
      expect.stringMatching(/^R2 keeps what it is sent and stores images in Ceph \(rbd\), which prefers raw/),
    ]);
    const put = planShrink(job({}), input({ mode: 'qcow2', methodChosen: true, facts: { R1: converts } }));
    expect(put.warnings[0]).toMatch(/R1: sent with PUT as you asked, which Glance never converts/);
  });
});
