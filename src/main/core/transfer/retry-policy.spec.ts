import { describe, expect, it } from 'vitest';
import type { ErrorInfo } from '../../../shared/errors';
import { backoffMs, decide, isRetryable } from './retry-policy';

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
    const p = { maxAttempts: 8, baseDelayMs: 1000, maxDelayMs: 10_000 };
    expect(backoffMs(1, p, () => 0)).toBe(500);
    expect(backoffMs(1, p, () => 1)).toBe(1000);
    expect(backoffMs(3, p, () => 1)).toBe(4000);
    expect(backoffMs(10, p, () => 1)).toBe(10_000);
    expect(backoffMs(10, p, () => 0)).toBe(5000);
  });

  it('stops after the last attempt, and at once for a final error', () => {
    const p = { maxAttempts: 3, baseDelayMs: 1000, maxDelayMs: 10_000 };
    expect(decide(e('net.timeout'), 2, p, () => 1)).toEqual({ retry: true, delayMs: 2000 });
    expect(decide(e('net.timeout'), 3, p)).toEqual({ retry: false, reason: 'attempts' });
    expect(decide(e('glance.over_limit'), 1, p)).toEqual({ retry: false, reason: 'final' });
  });

  it('keeps waiting for an unreachable cloud without using up attempts, at most offlineRetryMs apart', () => {
    const offline = { maxAttempts: 3, baseDelayMs: 1000, maxDelayMs: 300_000, offlineRetryMs: 30_000 };
    expect(decide(e('net.unreachable'), 50, offline, () => 1)).toEqual({ retry: true, delayMs: 30_000 });
    expect(decide(e('net.unreachable'), 1, offline, () => 1)).toEqual({ retry: true, delayMs: 1000 });
    expect(decide(e('net.timeout'), 3, offline)).toEqual({ retry: false, reason: 'attempts' });
    expect(decide(e('net.unreachable'), 3, { ...offline, offlineRetryMs: 0 })).toEqual({
      retry: false,
      reason: 'attempts',
    });
  });
});
