/**
 * Which failures are worth another attempt, and when. Retryable: the network, Glance being
 * unavailable or answering 5xx, a 401 that survived one re-authentication, a transient 409, a
 * transfer whose hashes did not match. Final: what another attempt cannot change (bad request,
 * forbidden, over quota or size cap, bad credentials or configuration, a changed source).
 */
import type { ErrorInfo } from '../../../shared/errors';
import { DEFAULT_RETRY_BUDGET_HOURS } from '../queue/settings';

export interface RetryPolicy {
  /**
   * How long transient failures are retried, counted from the first of a run (the target's
   * `failingSince`, which does not run while no engine works on it). Past it, the next transient
   * failure is final (`reason: 'budget'`). A count would be used up by a flaky night; a time is not.
   */
  budgetMs: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /**
   * The longest wait between attempts while the cloud cannot be reached (net.unreachable): such
   * attempts are outside the budget, so a queue made offline (a site without a link, a laptop on
   * a plane) goes on by itself within this delay once the network is back. 0: no waiting,
   * unreachable counts like any other transient error.
   */
  offlineRetryMs?: number;
}

export const DEFAULT_RETRY_BUDGET_MS = DEFAULT_RETRY_BUDGET_HOURS * 3600_000;

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  budgetMs: DEFAULT_RETRY_BUDGET_MS,
  baseDelayMs: 2000,
  maxDelayMs: 5 * 60_000,
  offlineRetryMs: 30_000,
};

const RETRYABLE = new Set([
  'net.unreachable',
  'net.timeout',
  'glance.unavailable',
  'auth.expired',
  'transfer.hash_mismatch',
  'glance.wait_timeout',
  'glance.import_stalled',
  'db.unavailable',
  'local.not_running',
  'objectstore.unavailable',
  // Swift stored other bytes than were sent: the segment is sent again
  'objectstore.etag_mismatch',
  // the TempURL was refused (expired while Glance waited, or the key changed): a new one is made
  'objectstore.temp_url_rejected',
]);

export function isRetryable(e: ErrorInfo): boolean {
  if (RETRYABLE.has(e.code)) return true;
  if ((e.code === 'glance.http' || e.code === 'objectstore.http') && e.status !== undefined && e.status >= 500)
    return true;
  // 409 while Glance still settles an aborted upload (saving -> queued) passes; other 409s do not.
  // "continues at byte N": a resumable server saw another offset than ours; the next attempt asks it.
  if (
    e.code === 'glance.conflict' &&
    /saving to saving|saving to uploading|active task|continues at byte/i.test(e.message)
  )
    return true;
  return false;
}

/** Capped exponential backoff with full jitter in the upper half: base * 2^(n-1), between 50 and 100 %. */
export function backoffMs(
  attempt: number,
  policy: RetryPolicy = DEFAULT_RETRY_POLICY,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

export type RetryDecision = { retry: true; delayMs: number } | { retry: false; reason: 'final' | 'budget' };

/**
 * After a failure of try number `attempt` (1 for the first): retry, when, or stop. `failingSince`
 * is when the run of transient failures began (null: this is its first), `now` the clock,
 * `previous` the error of the try before (the target's recorded one).
 */
export function decide(
  e: ErrorInfo,
  attempt: number,
  failingSince: number | null,
  now: number,
  policy: RetryPolicy = DEFAULT_RETRY_POLICY,
  random?: () => number,
  previous?: ErrorInfo | null,
): RetryDecision {
  if (!isRetryable(e)) return { retry: false, reason: 'final' };
  // Wrong bytes once can be the wire; again after a whole re-upload, it is the cloud or the file.
  if (e.code === 'transfer.hash_mismatch' && previous?.code === 'transfer.hash_mismatch')
    return { retry: false, reason: 'final' };
  const offline = policy.offlineRetryMs ?? 0;
  if (e.code === 'net.unreachable' && offline > 0)
    return { retry: true, delayMs: Math.min(offline, backoffMs(attempt, policy, random)) };
  if (now - (failingSince ?? now) >= policy.budgetMs) return { retry: false, reason: 'budget' };
  return { retry: true, delayMs: backoffMs(attempt, policy, random) };
}
