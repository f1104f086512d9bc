import { describe, expect, it } from 'vitest';
import type { TargetRecord } from '../queue/job-repository';
import { pickGroups } from './admission';

function target(
  id: string,
  jobId: string,
  region: string,
  method = 'direct',
  sendFormat: string | null = null,
): TargetRecord {
  return { id, jobId, cloud: 'c', region, method, sendFormat } as TargetRecord;
}

const ids = (groups: TargetRecord[][]): string[][] => groups.map((g) => g.map((t) => t.id));

describe('admission (which targets start now)', () => {
  it('groups a job’s file targets so the file is read once, within the global limit', () => {
    const runnable = [
      target('a1', 'A', 'R1'),
      target('a2', 'A', 'R2'),
      target('a3', 'A', 'R3'),
      target('b1', 'B', 'R1'),
    ];
    expect(ids(pickGroups(runnable, [], { limit: 2, perRegion: 2 }))).toEqual([['a1', 'a2']]);
    expect(ids(pickGroups(runnable, [], { limit: 5, perRegion: 2 }))).toEqual([['a1', 'a2', 'a3'], ['b1']]);
  });

  // Fails if the per-region count ignored what already runs (two uploads into R1 become three).
  it('counts what already runs against the region limit and the global one', () => {
    const running = [target('x', 'X', 'R1'), target('y', 'Y', 'R1')];
    const runnable = [target('a1', 'A', 'R1'), target('b1', 'B', 'R2')];
    expect(ids(pickGroups(runnable, running, { limit: 4, perRegion: 2 }))).toEqual([['b1']]);
    expect(ids(pickGroups(runnable, running, { limit: 2, perRegion: 2 }))).toEqual([]);
  });

  it('never groups a copy that does not read the file (copy-image, glance-download)', () => {
    const runnable = [target('a1', 'A', 'R1'), target('a2', 'A', 'R2', 'copy-image')];
    expect(ids(pickGroups(runnable, [], { limit: 4, perRegion: 2 }))).toEqual([['a1'], ['a2']]);
  });

  // Fails if a target sent the compressed copy joined the file's read (it would send the raw file).
  it('never groups a target sent a compressed copy (shrink) with those sent the file', () => {
    const runnable = [
      target('a1', 'A', 'R1'),
      target('a2', 'A', 'R2', 'glance-direct', 'qcow2'),
      target('a3', 'A', 'R3', 'glance-direct', 'qcow2'),
      target('a4', 'A', 'R4'),
    ];
    expect(ids(pickGroups(runnable, [], { limit: 4, perRegion: 2 }))).toEqual([['a1', 'a4'], ['a2'], ['a3']]);
  });
});
