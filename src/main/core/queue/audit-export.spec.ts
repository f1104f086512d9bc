import { describe, expect, it } from 'vitest';
import { auditCsv, auditJson, csvField } from './audit-export';
import type { EventRecord } from './job-repository';

const ev = (over: Partial<EventRecord>): EventRecord => ({
  id: 1,
  at: Date.UTC(2026, 10, 22, 3, 0, 0),
  actor: 'engine:1',
  kind: 'target.transition',
  jobId: 'j',
  targetId: 't',
  fromState: 'uploading',
  toState: 'verifying',
  cloud: 'prod',
  region: 'RegionOne',
  imageId: 'img',
  detail: { attempt: 1 },
  ...over,
});

describe('audit export', () => {
  it('writes RFC 4180 CSV with a header, quoting what needs it', () => {
    const csv = auditCsv([ev({}), ev({ id: 2, cloud: 'a,b', region: 'say "hi"', detail: { m: 'line\nbreak' } })]);
    const lines = csv.split('\r\n');
    expect(lines[0]).toBe('id,time,actor,kind,job_id,target_id,from_state,to_state,cloud,region,image_id,detail');
    expect(lines[1]).toBe(
      '1,2026-11-22T03:00:00.000Z,engine:1,target.transition,j,t,uploading,verifying,prod,RegionOne,img,"{""attempt"":1}"',
    );
    expect(csv).toContain('"a,b","say ""hi"""');
    expect(csv.endsWith('\r\n')).toBe(true);
  });

  it('never lets a cell start a spreadsheet formula', () => {
    expect(csvField('=HYPERLINK("x")')).toBe(`"'=HYPERLINK(""x"")"`);
    expect(csvField('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(csvField('plain')).toBe('plain');
  });

  it('writes JSON with ISO times that parses back', () => {
    const parsed = JSON.parse(auditJson([ev({})])) as { time: string; detail: unknown }[];
    expect(parsed[0]).toMatchObject({ time: '2026-11-22T03:00:00.000Z', detail: { attempt: 1 } });
  });
});
