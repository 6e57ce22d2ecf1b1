/**
 * Retry delay for a failed record, applied with ChangeMessageVisibility.
 *
 * The ceiling for attempt `n` (the record's ApproximateReceiveCount) is
 * `min(maxSeconds, baseSeconds * factor^(n-1), 42000)` (`MAX_RETRY_DELAY_SECONDS`: SQS refuses more, counting its
 * 12-hour limit from the receive). "Equal jitter" then picks the delay uniformly in `[ceiling/2, ceiling]`, rounded to whole seconds (the API takes integers): half the delay is guaranteed, so a
 * broken dependency is never hammered, and the other half spreads records that failed together.
 */

import { MAX_RETRY_DELAY_SECONDS, MAX_VISIBILITY_SECONDS } from '../shared/job-retry';

export { MAX_VISIBILITY_SECONDS };

/** Backoff settings (seconds), as in the consumer's runtime configuration. */
export interface RetryPolicy {
  readonly baseSeconds: number;
  readonly factor: number;
  readonly maxSeconds: number;
}

/** The un-jittered delay ceiling for an attempt (1-based). */
export function backoffCeilingSeconds(policy: RetryPolicy, attempt: number): number {
  const exponent = Math.max(0, attempt - 1);
  // factor^exponent overflows to Infinity on a late attempt, and 0 × Infinity is NaN: a zero base stays 0.
  const raw = policy.baseSeconds === 0 ? 0 : policy.baseSeconds * policy.factor ** exponent;
  const capped = Math.min(policy.maxSeconds, MAX_RETRY_DELAY_SECONDS, Number.isFinite(raw) ? raw : Infinity);
  return Math.max(0, capped);
}

/** The jittered delay in whole seconds; `random` returns a number in [0, 1). */
export function backoffDelaySeconds(policy: RetryPolicy, attempt: number, random: () => number): number {
  const ceiling = backoffCeilingSeconds(policy, attempt);
  const half = ceiling / 2;
  const delay = Math.round(half + random() * half);
  return Math.min(Math.max(0, delay), Math.floor(ceiling));
}
