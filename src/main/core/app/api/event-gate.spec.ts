import { describe, expect, it } from 'vitest';
import type { JobUpdate } from '../../../../shared/dto';
import type { ApiEvent } from '../../../../shared/ipc/contract';
import { EventGate } from './event-gate';

const job = (jobId: string, seq: number): ApiEvent => ({
  kind: 'jobUpdated',
  update: { jobId, seq, name: jobId, size: 1, sha512: null, targets: [] } satisfies JobUpdate,
});

describe('EventGate', () => {
  it('holds events until the page is ready, keeping the latest snapshot of each job in order, then passes them through', () => {
    const gate = new EventGate();
    gate.push(job('a', 1));
    gate.push({ kind: 'notice', message: 'n1' });
    gate.push(job('b', 1));
    gate.push(job('a', 2));
    const got: ApiEvent[] = [];
    gate.open((e) => got.push(e));
    expect(got).toEqual([job('a', 2), { kind: 'notice', message: 'n1' }, job('b', 1)]);
    gate.push(job('a', 3));
    gate.push(job('a', 4));
    expect(got.slice(3)).toEqual([job('a', 3), job('a', 4)]);
  });

  it('waits again after the page goes away, and caps the notices it keeps meanwhile', () => {
    const gate = new EventGate(2);
    const first: ApiEvent[] = [];
    gate.open((e) => first.push(e));
    gate.close();
    expect(gate.isOpen).toBe(false);
    for (const m of ['n1', 'n2', 'n3']) gate.push({ kind: 'notice', message: m });
    expect(first).toEqual([]);
    const second: ApiEvent[] = [];
    gate.open((e) => second.push(e));
    expect(second).toEqual([
      { kind: 'notice', message: 'n2' },
      { kind: 'notice', message: 'n3' },
    ]);
  });
});
