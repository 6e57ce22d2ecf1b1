/**
 * A job's own retries: how many attempts it gets and its backoff, asked for by its producer
 * (`send(job, payload, { attempts, backoff })`) and applied by the consumer runtime.
 *
 * They travel in the envelope's headers, as the job-record marker does, so a job delayed through a one-time
 * schedule (which delivers the envelope without message attributes) keeps them, and a consumer that does not know
 * them ignores them. The backoff's bounds are the ones `consumer.retry` is checked with (`lib/validation.ts`
 * calls {@link brokenRetryRules} too), so a job cannot ask for a curve its queue could not be configured with.
 */

/** SQS refuses visibility timeouts above 12 hours: a backoff waits at most that long. */
export const MAX_VISIBILITY_SECONDS = 43_200;

/**
 * The longest a record can have been held since the receive that returned it when its consumer sets its retry
 * delay: a batching window (at most 5 minutes) and then its invocation (at most 15 minutes).
 */
export const LONGEST_HOLD_BEFORE_RETRY_SECONDS = 1_200;

/**
 * The longest retry delay a consumer sets. SQS counts its 12-hour visibility limit from the receive and refuses a
 * ChangeMessageVisibility that would pass it (it does not shorten it), so a 12-hour delay set minutes after the
 * receive would be refused, and the record would come back after the visibility timeout instead, spending an
 * attempt long before it was asked to.
 */
export const MAX_RETRY_DELAY_SECONDS = MAX_VISIBILITY_SECONDS - LONGEST_HOLD_BEFORE_RETRY_SECONDS;

/**
 * The shortest first wait: SQS sets a visibility in whole seconds, and without a wait a failing record is received
 * again at once, spending every receive within moments.
 */
export const MIN_RETRY_BASE_SECONDS = 1;

/** The backoff factor's range. */
export const RETRY_FACTOR_MIN = 1;
export const RETRY_FACTOR_MAX = 10;

/** Envelope header: the most attempts a job gets (1 up to its queue's `maxReceiveCount`). */
export const JOB_ATTEMPTS_HEADER = 'x-hookline-job-attempts';
/** Envelope header: a job's own backoff, `{"baseSeconds":1,"factor":2,"maxSeconds":60}` (each field optional). */
export const JOB_BACKOFF_HEADER = 'x-hookline-job-backoff';

/** A backoff in whole seconds, as the consumer's runtime configuration holds `consumer.retry`. */
export interface BackoffSeconds {
  readonly baseSeconds?: number;
  readonly factor?: number;
  readonly maxSeconds?: number;
}

/** What a job asked for; a field it did not set is its queue's. */
export interface JobRetry {
  readonly attempts?: number;
  readonly backoff?: BackoffSeconds;
}

/**
 * A rule a backoff breaks, by the field that breaks it: a factor outside 1 to 10, a maximum outside 1 second to 12
 * hours, a base under 1 second or above the maximum.
 */
export type RetryRule = 'factor' | 'max' | 'base';

/** The rules `backoff` breaks; a field that is absent (or not known yet, a CDK token) is not checked. */
export function brokenRetryRules(backoff: BackoffSeconds): RetryRule[] {
  const { baseSeconds, factor, maxSeconds } = backoff;
  const broken: RetryRule[] = [];
  if (factor !== undefined && !(factor >= RETRY_FACTOR_MIN && factor <= RETRY_FACTOR_MAX))
    broken.push('factor');
  if (maxSeconds !== undefined && !(maxSeconds >= 1 && maxSeconds <= MAX_VISIBILITY_SECONDS))
    broken.push('max');
  const baseTooShort = baseSeconds !== undefined && !(baseSeconds >= MIN_RETRY_BASE_SECONDS);
  if (baseTooShort || (baseSeconds !== undefined && maxSeconds !== undefined && baseSeconds > maxSeconds))
    broken.push('base');
  return broken;
}

/**
 * Why `backoff` breaks each rule {@link brokenRetryRules} finds, one clause each with its fix, its fields named as the
 * caller's option names them (`field('base')`): the words a job's `backoff` and the test runner's `retry` are refused
 * with, as the configuration refuses `consumer.retry`.
 */
export function retryRuleReasons(
  backoff: BackoffSeconds,
  field: (name: RetryRule) => string = (name) => name,
): string[] {
  const { baseSeconds, factor, maxSeconds } = backoff;
  const reasons: Record<RetryRule, () => string> = {
    factor: () =>
      `${field('factor')} ${factor} is not between ${RETRY_FACTOR_MIN} and ${RETRY_FACTOR_MAX}: use 2 (each retry waits twice as long)`,
    max: () =>
      `${field('max')} (${maxSeconds} s) is not from 1 second to ${MAX_VISIBILITY_SECONDS / 3600} hours, the longest SQS keeps a message hidden`,
    base: () =>
      (baseSeconds ?? 0) < MIN_RETRY_BASE_SECONDS
        ? `${field('base')} (${baseSeconds} s) is under ${MIN_RETRY_BASE_SECONDS} second: a retry without a wait is received again at once and spends every attempt within moments; use at least { seconds: ${MIN_RETRY_BASE_SECONDS} }`
        : `${field('base')} (${baseSeconds} s) exceeds ${field('max')} (${maxSeconds} s): lower ${field('base')} or raise ${field('max')}`,
  };
  return brokenRetryRules(backoff).map((rule) => reasons[rule]());
}

/** The headers that carry a job's retries; none when it asked for nothing. */
export function jobRetryHeaders(retry: JobRetry): Record<string, string> {
  return {
    ...(retry.attempts !== undefined ? { [JOB_ATTEMPTS_HEADER]: String(retry.attempts) } : {}),
    ...(retry.backoff !== undefined ? { [JOB_BACKOFF_HEADER]: JSON.stringify(retry.backoff) } : {}),
  };
}

const isWholeSeconds = (value: unknown): value is number =>
  Number.isSafeInteger(value) && (value as number) >= 0 && (value as number) <= MAX_VISIBILITY_SECONDS;

/**
 * A job's retries from its envelope's headers. The producer checked them, so a value that does not parse (an
 * envelope written by hand) is left out rather than failing the job: its queue's setting applies instead.
 */
export function jobRetryOf(headers: Readonly<Record<string, string>>): JobRetry {
  const attempts = Number(headers[JOB_ATTEMPTS_HEADER]);
  return {
    ...(Number.isSafeInteger(attempts) && attempts >= 1 ? { attempts } : {}),
    ...backoffOf(headers[JOB_BACKOFF_HEADER]),
  };
}

function backoffOf(header: string | undefined): { backoff?: BackoffSeconds } {
  if (header === undefined) return {};
  let value: unknown;
  try {
    value = JSON.parse(header);
  } catch {
    return {};
  }
  if (typeof value !== 'object' || value === null) return {};
  const { baseSeconds, factor, maxSeconds } = value as Record<string, unknown>;
  const backoff: BackoffSeconds = {
    ...(isWholeSeconds(baseSeconds) ? { baseSeconds } : {}),
    ...(typeof factor === 'number' ? { factor } : {}),
    ...(isWholeSeconds(maxSeconds) ? { maxSeconds } : {}),
  };
  return brokenRetryRules(backoff).length === 0 && Object.keys(backoff).length > 0 ? { backoff } : {};
}
