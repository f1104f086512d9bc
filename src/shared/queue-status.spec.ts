import { describe, expect, it } from 'vitest';
import type { JobUpdate, TargetSnapshot } from './dto';
import { QueueStatusBoard } from './queue-status';

const t = (region: string, state: TargetSnapshot['state'], bytes = 0, message?: string): TargetSnapshot => ({
  id: region,
  cloud: 'c',
  region,
  store: '',
  state,
  attempt: 1,
  bytesAccepted: bytes,
  remoteImageId: null,
  error: message ? { code: 'glance.over_limit', message } : null,
  nextAttemptAt: null,
  method: 'direct',
  verified: false,
});
const job = (jobId: string, seq: number, targets: TargetSnapshot[], size = 100): JobUpdate => ({
  jobId,
  seq,
  name: jobId,
  sha512: null,
  size,
  targets,
});

describe('QueueStatusBoard', () => {
  it('sums progress over the running targets, and says it in one line', () => {
    const b = new QueueStatusBoard();
    expect(b.status()).toEqual({ open: 0, failed: 0, progress: -1, line: 'Glance Uploader: idle' });
    b.update(job('a', 1, [t('R1', 'uploading', 50), t('R2', 'retrying', 0)]));
    b.update(job('b', 1, [t('R1', 'uploading', 100)], 200));
    expect(b.status()).toMatchObject({ open: 3, progress: 150 / 400 });
    expect(b.status().line).toBe('Glance Uploader: 3 uploads running, 37 %');
    expect(b.quitQuestion()).toMatch(/^3 uploads are not finished/);
  });

  it('notifies once when a job ends: verified in its regions, or what failed', () => {
    const b = new QueueStatusBoard();
    expect(b.update(job('a', 1, [t('R1', 'uploading', 10)]))).toBeUndefined();
    expect(b.update(job('a', 2, [t('R1', 'done', 100)]))).toEqual({
      jobId: 'a',
      title: 'a is in R1',
      body: 'Active, with its sha512 verified.',
      failed: false,
      retry: [],
    });
    expect(b.update(job('a', 3, [t('R1', 'done', 100)]))).toBeUndefined(); // already said
    expect(b.update(job('a', 2, [t('R1', 'uploading', 10)]))).toBeUndefined(); // an older snapshot
    const failed = b.update(job('x', 1, [t('R1', 'done', 100), t('R2', 'failed', 0, 'over quota')]));
    expect(failed).toEqual({
      jobId: 'x',
      title: 'x: 1 of 2 failed',
      body: 'R2: over quota',
      failed: true,
      retry: ['R2'],
    });
    expect(b.status()).toMatchObject({ open: 0, failed: 1, line: 'Glance Uploader: 1 failed' });
    expect(b.quitQuestion()).toBeUndefined();
    expect(b.update(job('p', 1, [t('R1', 'paused')]))).toBeUndefined(); // paused by the user: no news
  });

  it('keeps the taskbar progress over the whole batch: a job that ends does not pull it back', () => {
    const b = new QueueStatusBoard();
    b.update(job('a', 1, [t('R1', 'uploading', 50)]));
    b.update(job('b', 1, [t('R1', 'pending', 0)]));
    expect(b.status().progress).toBe(50 / 200);
    b.update(job('a', 2, [t('R1', 'done', 100)]));
    expect(b.status().progress).toBe(100 / 200); // not 0 / 100
    b.update(job('b', 2, [t('R1', 'uploading', 50)]));
    expect(b.status().progress).toBe(150 / 200);
    b.update(job('b', 3, [t('R1', 'done', 100)]));
    expect(b.status().progress).toBe(-1); // idle: no bar
    b.update(job('c', 1, [t('R1', 'uploading', 25)]));
    expect(b.status().progress).toBe(25 / 100); // a new batch
  });
});
