import { describe, expect, it } from 'vitest';
import { failureCause, retryingText } from './retry-text';

describe('retryingText', () => {
  const now = 1_000_000;
  it('says when, which attempt and why', () => {
    expect(
      retryingText(
        {
          state: 'retrying',
          attempt: 5,
          nextAttemptAt: now + 40_000,
          error: { code: 'glance.unavailable', message: 'Reading image x: HTTP 503: Service Unavailable' },
        },
        now,
      ),
    ).toBe('retrying in 40 s (attempt 5, 503 from Glance)');
    expect(
      retryingText(
        { state: 'retrying', attempt: 2, nextAttemptAt: now + 300_000, error: { code: 'net.timeout', message: 'x' } },
        now,
      ),
    ).toBe('retrying in 5 min (attempt 2, timed out)');
    expect(retryingText({ state: 'retrying', attempt: 1, nextAttemptAt: now - 5, error: null }, now)).toBe(
      'retrying now (attempt 1)',
    );
    expect(retryingText({ state: 'uploading', attempt: 1, nextAttemptAt: null, error: null }, now)).toBeUndefined();
  });

  it('names causes without a status', () => {
    expect(failureCause({ code: 'transfer.hash_mismatch', message: 'sha512 differs' })).toBe(
      'the stored bytes did not match',
    );
    expect(failureCause({ code: 'something.else', message: 'no status' })).toBe('something.else');
  });
});
