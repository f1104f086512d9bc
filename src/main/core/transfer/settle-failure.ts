/**
 * A try that threw (not a pause, a cancel or a stop): the retry policy decides from the error,
 * the attempts, the time the target has been failing and the error before it. A retry waits in
 * `retrying` until its time; a final failure is `failed`, with the policy's reason.
 */
import { toErrorInfo } from '../io/errors';
import type { JobRepository, TargetRecord } from '../queue/job-repository';
import { decide, type RetryPolicy } from './retry-policy';

export function settleFailure(
  repo: JobRepository,
  current: TargetRecord,
  error: unknown,
  policy: RetryPolicy,
): 'retrying' | 'failed' {
  const info = toErrorInfo(error);
  const now = Date.now();
  const decision = decide(
    info,
    current.attempt,
    current.failingSince,
    now,
    policy,
    undefined,
    repo.previousFailure(current.id),
  );
  if (decision.retry) {
    repo.transition(current.id, 'retrying', { error: info, nextAttemptAt: now + decision.delayMs });
    return 'retrying';
  }
  repo.transition(current.id, 'failed', { error: info, detail: { reason: decision.reason } });
  return 'failed';
}
