import { describe, expect, it } from 'vitest';
import type { ErrorInfo } from '../../../shared/errors';
import { backoffMs, decide, DEFAULT_RETRY_POLICY, isRetryable } from './retry-policy';

const e = (code: ErrorInfo['code'], extra: Partial<ErrorInfo> = {}): ErrorInfo => ({ code, message: '', ...extra });

describe('retry policy', () => {
  it.each([
    [e('net.unreachable'), true],
    [e('net.timeout'), true],
    [e('glance.unavailable', { status: 503 }), true],
    [e('glance.http', { status: 500 }), true],
    [e('glance.http', { status: 418 }), false],
    [e('auth.expired', { status: 401 }), true],
    [e('transfer.hash_mismatch'), true],
    [e('glance.conflict', { message: 'Image status transition from saving to saving is not allowed' }), true],
    [e('glance.conflict', { message: 'Image status transition from active to saving is not allowed' }), false],
    [e('glance.over_limit', { status: 413 }), false],
    [e('glance.forbidden', { status: 403 }), false],
    [e('glance.bad_request', { status: 400 }), false],
    [e('auth.failed', { status: 401 }), false],
    [e('source.changed'), false],
    [e('config.invalid'), false],
  ])('%o retryable: %s', (err, expected) => {
    expect(isRetryable(err)).toBe(expected);
  });

  it('backs off exponentially, capped, with jitter between half and all of the ceiling', () => {
    const p = { budgetMs: 60_000, baseDelayMs: 1000, maxDelayMs: 10_000 };
    expect(backoffMs(1, p, () => 0)).toBe(500);
    expect(backoffMs(1, p, () => 1)).toBe(1000);
    expect(backoffMs(3, p, () => 1)).toBe(4000);
    expect(backoffMs(10, p, () => 1)).toBe(10_000);
    expect(backoffMs(10, p, () => 0)).toBe(5000);
  });

  // The error classes, each with what ends a target for good and what does not. Fails when a
  // transient cause is made final (a 503 ending a job) or a permanent one retried (a 413 sent
  // again for 24 h).
  const H = 3600_000;
  it.each([
    ['a 503 from Glance', e('glance.unavailable', { status: 503 }), 'retry'],
    ['a 500', e('glance.http', { status: 500 }), 'retry'],
    ['a 502 from a proxy', e('glance.http', { status: 502 }), 'retry'],
    ['a reset', e('net.unreachable'), 'retry'],
    ['a timeout or a stall', e('net.timeout'), 'retry'],
    ['a 401 after one re-authentication', e('auth.expired', { status: 401 }), 'retry'],
    ['an import that made no progress', e('glance.import_stalled'), 'retry'],
    ['a wait that took too long', e('glance.wait_timeout'), 'retry'],
    [
      'Glance settling an aborted upload',
      e('glance.conflict', { message: 'transition from saving to saving' }),
      'retry',
    ],
    ['wrong bytes, the first time', e('transfer.hash_mismatch'), 'retry'],
    ['the local server not running', e('local.not_running'), 'retry'],
    ['an inspection refusal', e('inspect.backing_file'), 'final'],
    ['over quota (413)', e('glance.over_limit', { status: 413 }), 'final'],
    ['forbidden (403)', e('glance.forbidden', { status: 403 }), 'final'],
    ['a bad request (400)', e('glance.bad_request', { status: 400 }), 'final'],
    ['a 418', e('glance.http', { status: 418 }), 'final'],
    ['another conflict', e('glance.conflict', { message: 'transition from active to saving' }), 'final'],
    ['bad credentials', e('auth.failed', { status: 401 }), 'final'],
    ['a source file that changed', e('source.changed'), 'final'],
    ['a configuration error', e('config.invalid'), 'final'],
    ['a method the region does not offer', e('glance.method_not_offered'), 'final'],
  ] as const)('%s: %s', (_what, err, expected) => {
    expect(isRetryable(err)).toBe(expected === 'retry');
    const d = decide(err, 7, 0, 23 * H, DEFAULT_RETRY_POLICY, () => 1);
    expect(d.retry ? 'retry' : 'final').toBe(expected);
  });

  it('retries transient failures within the time budget, not a count, and stops past it', () => {
    const p = { budgetMs: 24 * H, baseDelayMs: 1000, maxDelayMs: 300_000 };
    const t0 = 1_000_000;
    expect(decide(e('glance.unavailable'), 1, null, t0, p, () => 1)).toEqual({ retry: true, delayMs: 1000 });
    expect(decide(e('glance.unavailable'), 40, t0, t0 + 23 * H, p, () => 1)).toEqual({ retry: true, delayMs: 300_000 });
    expect(decide(e('glance.unavailable'), 41, t0, t0 + 24 * H, p)).toEqual({ retry: false, reason: 'budget' });
    expect(decide(e('glance.over_limit'), 1, null, t0, p)).toEqual({ retry: false, reason: 'final' });
  });

  it('ends a hash mismatch that repeats after a whole re-upload', () => {
    const mismatch = e('transfer.hash_mismatch');
    expect(decide(mismatch, 2, 0, 0, DEFAULT_RETRY_POLICY, () => 1, e('glance.unavailable')).retry).toBe(true);
    expect(decide(mismatch, 2, 0, 0, DEFAULT_RETRY_POLICY, () => 1, mismatch)).toEqual({
      retry: false,
      reason: 'final',
    });
  });

  it('keeps waiting for an unreachable cloud outside the budget, at most offlineRetryMs apart', () => {
    const offline = { budgetMs: 60_000, baseDelayMs: 1000, maxDelayMs: 300_000, offlineRetryMs: 30_000 };
    expect(decide(e('net.unreachable'), 50, 0, 10 * H, offline, () => 1)).toEqual({ retry: true, delayMs: 30_000 });
    expect(decide(e('net.unreachable'), 1, null, 0, offline, () => 1)).toEqual({ retry: true, delayMs: 1000 });
    expect(decide(e('net.timeout'), 3, 0, 60_000, offline)).toEqual({ retry: false, reason: 'budget' });
    expect(decide(e('net.unreachable'), 3, 0, 60_000, { ...offline, offlineRetryMs: 0 })).toEqual({
      retry: false,
      reason: 'budget',
    });
  });
});
