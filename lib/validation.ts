/**
 * The pipeline's validation rules, as pure functions.
 *
 * Constructs call them on their props (and throw), `resolveConfig` calls them on the configuration (and prefixes
 * each path), so one rule is written once. Values that are unresolved CDK tokens are skipped: they are only
 * known at deploy time.
 */
import { Duration, Token } from 'aws-cdk-lib/core';
import { backoffDelaySeconds, MAX_VISIBILITY_SECONDS } from '../lambda/consumer/backoff';
import { SQS_DEFAULT_POLLERS } from '../lambda/shared/circuit-breaker';
import {
  DEAD_LETTER_REASON_RESERVE_BYTES,
  MAX_INLINE_LIMIT_BYTES,
  SQS_MAX_MESSAGE_BYTES,
} from '../lambda/shared/claim-check';
import { CONSUMER_CONFIG_ENV } from '../lambda/shared/consumer-config';
import { OTHER_METRIC_TYPE } from '../lambda/shared/contracts';
import { MAX_SQS_RETENTION_SECONDS } from '../lambda/shared/envelope';
import { FORWARD_CONFIG_ENV } from '../lambda/shared/forward-config';
import { MAX_INVOCATION_MS } from '../lambda/shared/invocation-deadline';
import {
  brokenRetryRules,
  MIN_RETRY_BASE_SECONDS,
  RETRY_FACTOR_MAX,
  RETRY_FACTOR_MIN,
} from '../lambda/shared/job-retry';
import { plural } from '../lambda/shared/plural';
import { NAME_PATTERN, NAME_RULE } from './config/common';
import { DEFAULTS } from './config/defaults';
import { type Violation, violation } from './violations';

// Constructs import the thrower with the rules.
export { throwIfViolations } from './violations';

const known = (value: number | Duration | undefined): value is number | Duration =>
  value !== undefined && (value instanceof Duration ? knownDuration(value) : !Token.isUnresolved(value));

/** A token Duration in any unit but milliseconds cannot even be converted: it is as unknown as its token. */
function knownDuration(d: Duration): boolean {
  try {
    return !Token.isUnresolved(d.toMilliseconds({ integral: false }));
  } catch {
    return false;
  }
}

const secondsOf = (d: Duration): number => d.toSeconds({ integral: false });

/** SQS limits (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/quotas-queues.html). */
export const SQS_LIMITS = {
  minRetentionSeconds: 60,
  maxRetentionSeconds: MAX_SQS_RETENTION_SECONDS,
  /** The consumers' backoff caps at the same limit. */
  maxVisibilitySeconds: MAX_VISIBILITY_SECONDS,
  maxReceiveCount: 1000,
} as const;

/** Lambda limits (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html). */
export const LAMBDA_LIMITS = {
  minMemoryMb: 128,
  maxMemoryMb: 10_240,
  maxTimeoutSeconds: MAX_INVOCATION_MS / 1000,
  /** All of a function's environment variables together, measured as the JSON of the variable map. */
  maxEnvironmentBytes: 4096,
} as const;

const MAX_VISIBILITY_HOURS = SQS_LIMITS.maxVisibilitySeconds / 3600;

/** Below this a claim check would move ordinary webhooks to S3. */
const MIN_INLINE_LIMIT_BYTES = 1024;

/**
 * Rule: the largest envelope sent inline leaves room, under the SQS message limit, for the reason a consumer adds
 * to a message it dead-letters; without that room the message reaches its DLQ without one.
 */
export function inlineLimitViolations(path: string, inlineLimitBytes: number | undefined): Violation[] {
  if (inlineLimitBytes === undefined || Token.isUnresolved(inlineLimitBytes)) return [];
  if (
    Number.isInteger(inlineLimitBytes) &&
    inlineLimitBytes >= MIN_INLINE_LIMIT_BYTES &&
    inlineLimitBytes <= MAX_INLINE_LIMIT_BYTES
  ) {
    return [];
  }
  return [
    violation(
      path,
      `between ${MIN_INLINE_LIMIT_BYTES} and ${MAX_INLINE_LIMIT_BYTES} bytes: the SQS limit of ${SQS_MAX_MESSAGE_BYTES} bytes less ${DEAD_LETTER_REASON_RESERVE_BYTES} for the reason a consumer adds to a message it dead-letters, without which the message reaches its DLQ without one`,
      inlineLimitBytes,
      `use ${DEFAULTS.inlineLimitBytes}`,
    ),
  ];
}

/** Rule: a function's memory is within Lambda's range. */
export function memoryViolations(path: string, memorySize: number | undefined): Violation[] {
  if (!known(memorySize)) return [];
  if (memorySize >= LAMBDA_LIMITS.minMemoryMb && memorySize <= LAMBDA_LIMITS.maxMemoryMb) return [];
  const range = `between ${LAMBDA_LIMITS.minMemoryMb} and ${LAMBDA_LIMITS.maxMemoryMb} MB`;
  return [violation(path, `Lambda memory is ${range}`, memorySize, 'use e.g. 512')];
}

/**
 * Rule: a function's environment variables fit Lambda's 4 KB, all together. `bytes` is the most they can take
 * once deployed (`estimateEnvironmentBytes`, which counts each token at its longest value).
 */
export function environmentSizeViolations(path: string, bytes: number, fix: string): Violation[] {
  if (bytes <= LAMBDA_LIMITS.maxEnvironmentBytes) return [];
  return [
    violation(
      path,
      `its environment variables can take up to ${bytes} bytes once deployed (each token counted at its longest value), above Lambda's limit of ${LAMBDA_LIMITS.maxEnvironmentBytes} bytes for all of a function's variables together; CloudFormation would fail the deploy`,
      bytes,
      fix,
    ),
  ];
}

/** Rule: SQS keeps messages between 60 seconds and 14 days. */
export function retentionViolations(path: string, retention: Duration | undefined): Violation[] {
  if (!known(retention)) return [];
  const s = secondsOf(retention);
  if (s >= SQS_LIMITS.minRetentionSeconds && s <= SQS_LIMITS.maxRetentionSeconds) return [];
  return [
    violation(
      path,
      'SQS keeps messages between 60 seconds and 14 days',
      retention,
      'use a Duration between Duration.minutes(1) and Duration.days(14)',
    ),
  ];
}

/** The shortest archive retention: an S3 lifecycle expiry counts whole days, from one. */
const MIN_ARCHIVE_RETENTION = Duration.days(1);

/** Rule: archived events are kept at least a day, the shortest S3 lifecycle expiry (the configuration's and `EventArchive`'s). */
export function archiveRetentionViolations(path: string, retention: Duration): Violation[] {
  if (!known(retention) || secondsOf(retention) >= MIN_ARCHIVE_RETENTION.toSeconds()) return [];
  return [
    violation(
      path,
      'is below one day (an S3 lifecycle expiry counts whole days)',
      retention,
      `use Duration.days(${MIN_ARCHIVE_RETENTION.toDays()}) or more`,
    ),
  ];
}

/** True when a message cannot be kept invisible this long (the SQS visibility limit, 12 hours). */
function beyondVisibilityLimit(d: Duration): boolean {
  return known(d) && secondsOf(d) > SQS_LIMITS.maxVisibilitySeconds;
}

/**
 * Rule: a queue's visibility timeout is at least a second and at most 12 hours. At 0 a received message is visible
 * again at once: the next receive (the same reader's long poll, or another reader's) returns it while it is still
 * being handled, and each counts towards the queue's `maxReceiveCount`, so it is dead-lettered while being handled.
 */
export function visibilityTimeoutLimitViolations(
  path: string,
  visibility: Duration | undefined,
): Violation[] {
  if (visibility && known(visibility) && secondsOf(visibility) < 1) {
    return [
      violation(
        path,
        "at 0 a received message is visible again at once: every receive while it is being handled (the reader's next poll, another reader's) counts towards maxReceiveCount, so it is dead-lettered while being handled, and readers get duplicates",
        visibility,
        'use Duration.seconds(30) (the SQS default), or longer than your reader takes to handle and delete a message',
      ),
    ];
  }
  if (!visibility || !beyondVisibilityLimit(visibility)) return [];
  return [
    violation(
      path,
      `SQS visibility timeout is at most ${MAX_VISIBILITY_HOURS} hours`,
      visibility,
      'lower the consumer timeout or the visibility timeout',
    ),
  ];
}

/** Rule: a retry backoff extends a message's visibility, so it waits between 1 second and 12 hours. */
export function visibilityExtensionViolations(path: string, extension: Duration): Violation[] {
  if (!known(extension) || (!beyondVisibilityLimit(extension) && secondsOf(extension) >= 1)) return [];
  if (beyondVisibilityLimit(extension)) {
    return [
      violation(
        path,
        `SQS visibility can be extended by at most ${MAX_VISIBILITY_HOURS} hours`,
        extension,
        `use at most Duration.hours(${MAX_VISIBILITY_HOURS})`,
      ),
    ];
  }
  return [
    violation(
      path,
      'SQS visibility is extended by whole seconds, so the longest wait is at least 1 second',
      extension,
      'use at least Duration.seconds(1)',
    ),
  ];
}

/** A consumer's backoff, as the configuration and the `QueueConsumer` construct take it. */
export interface RetryRuleInput {
  readonly base: Duration;
  readonly factor: number;
  readonly max: Duration;
}

/** Rules of a backoff (paths relative to the consumer): a factor from 1 to 10, a maximum SQS can wait, a base below it. */
export function retryViolations(retry: RetryRuleInput): Violation[] {
  // The bounds are a job's own backoff's too: one rule, in `lambda/shared/job-retry.ts`.
  const broken = brokenRetryRules({
    ...(known(retry.factor) ? { factor: retry.factor } : {}),
    ...(known(retry.base) ? { baseSeconds: secondsOf(retry.base) } : {}),
    ...(known(retry.max) ? { maxSeconds: secondsOf(retry.max) } : {}),
  });
  const violations: Violation[] = [];
  if (broken.includes('factor')) {
    violations.push(
      violation(
        'retry.factor',
        `the backoff factor is between ${RETRY_FACTOR_MIN} and ${RETRY_FACTOR_MAX}`,
        retry.factor,
        'use 2 (each retry waits twice as long)',
      ),
    );
  }
  if (broken.includes('max')) violations.push(...visibilityExtensionViolations('retry.max', retry.max));
  if (broken.includes('base')) violations.push(retryBaseViolation(retry));
  return violations;
}

/** Why a backoff's base breaks its rule: under a second (no wait at all), or above the backoff's maximum. */
function retryBaseViolation(retry: RetryRuleInput): Violation {
  if (secondsOf(retry.base) < MIN_RETRY_BASE_SECONDS) {
    return violation(
      'retry.base',
      `must be at least ${MIN_RETRY_BASE_SECONDS} second: a retry without a wait is received again at once, so a failing record spends every receive (maxReceiveCount) within moments and is dead-lettered before a brief outage of what it calls can end`,
      retry.base,
      `use Duration.seconds(${DEFAULTS.retryBase.toSeconds()}) (the default), or at least Duration.seconds(${MIN_RETRY_BASE_SECONDS})`,
    );
  }
  return violation(
    'retry.base',
    `must not exceed retry.max (${retry.max.toHumanString()})`,
    retry.base,
    'lower retry.base or raise retry.max',
  );
}

/** A consumer's rate limit, with the settings that decide how long its records may wait for a slot. */
export interface RateLimitRuleInput {
  readonly rateLimit: { readonly limit: number; readonly interval: Duration };
  readonly timeout: Duration;
  readonly deadlineMargin: Duration;
  readonly batchSize: number;
  readonly maxConcurrency?: number;
}

/**
 * Rules of a rate limit: a whole number of starts per window of at least a second, and a bounded wait. Records
 * wait for a slot inside their invocation (a record handed back would spend a receive), and at most
 * maxConcurrency x batchSize of them wait at once; the longest wait, (that / limit - 1) windows, must leave at
 * least half of what an invocation can use (timeout - deadlineMargin) to the handlers, or records that waited
 * would run into the deadline margin and be retried as timed out.
 */
export function rateLimitViolations(c: RateLimitRuleInput): Violation[] {
  const { limit, interval } = c.rateLimit;
  const out: Violation[] = [];
  if (known(limit) && (!Number.isInteger(limit) || limit < 1)) {
    out.push(
      violation(
        'rateLimit.limit',
        'is a whole number of records started per interval, at least 1',
        limit,
        'use e.g. 2',
      ),
    );
  }
  if (known(interval) && secondsOf(interval) < 1) {
    out.push(
      violation(
        'rateLimit.interval',
        'must be at least 1 second',
        interval,
        'use Duration.seconds(1), and scale limit to it',
      ),
    );
  }
  if (c.maxConcurrency === undefined) {
    out.push(
      violation(
        'maxConcurrency',
        'a rate limit needs maxConcurrency: it bounds how many records wait for a slot at once (maxConcurrency x batchSize)',
        c.maxConcurrency,
        `add maxConcurrency: ${ESM_MIN_CONCURRENCY} (or more, as the wait allows), with on-demand scaling`,
      ),
    );
  }
  return out.length > 0 ? out : rateLimitWaitViolations(c);
}

/** The longest wait for a slot against half of what an invocation can use (see {@link rateLimitViolations}). */
function rateLimitWaitViolations(c: RateLimitRuleInput): Violation[] {
  const { limit, interval } = c.rateLimit;
  const { maxConcurrency, batchSize, timeout, deadlineMargin } = c;
  if (![limit, interval, maxConcurrency, batchSize, timeout, deadlineMargin].every(known)) return [];
  const concurrency = maxConcurrency as number;
  const intervalSeconds = secondsOf(interval);
  const waiting = concurrency * batchSize;
  const waitSeconds = (Math.ceil(waiting / limit) - 1) * intervalSeconds;
  const usable = secondsOf(timeout) - secondsOf(deadlineMargin);
  if (waitSeconds <= usable / 2) return [];
  // The most records that may wait at once within half of the usable time.
  const fitting = limit * (Math.floor(usable / 2 / intervalSeconds) + 1);
  // Only a timeout Lambda allows is offered: past 15 minutes, the wait is cut by fewer records or a larger limit.
  const timeoutFit = Math.ceil(2 * waitSeconds + secondsOf(deadlineMargin));
  const fixes =
    timeoutFit <= LAMBDA_LIMITS.maxTimeoutSeconds ? [`raise timeout to at least ${timeoutFit} seconds`] : [];
  const concurrencyFit = Math.floor(fitting / batchSize);
  if (concurrencyFit >= ESM_MIN_CONCURRENCY) fixes.push(`lower maxConcurrency to ${concurrencyFit}`);
  // Counted for the fewest invocations an event source runs, which maxConcurrency must then be.
  const batchFit = Math.floor(fitting / ESM_MIN_CONCURRENCY);
  if (batchFit >= 1 && batchFit < batchSize)
    fixes.push(
      concurrency > ESM_MIN_CONCURRENCY
        ? `lower batchSize to ${batchFit} with maxConcurrency: ${ESM_MIN_CONCURRENCY}`
        : `lower batchSize to ${batchFit}`,
    );
  if (timeoutFit > LAMBDA_LIMITS.maxTimeoutSeconds) fixes.push(`raise limit to ${waiting}`);
  return [
    violation(
      'rateLimit',
      `${waiting} records (maxConcurrency x batchSize) may wait for a slot at once, up to ${waitSeconds} s at ${limit} per ${interval.toHumanString()}: more than half of the ${usable} s an invocation can use (timeout - deadlineMargin), and records that wait longer would run into the deadline`,
      `${limit} per ${interval.toHumanString()}`,
      fixes.join(', or '),
    ),
  ];
}

/** A circuit breaker's settings, as the rule checks them. */
export interface CircuitBreakerRuleInput {
  readonly failureRatio: number;
  readonly minimumRecords: number;
  readonly window: Duration;
  readonly halfOpenAfter?: Duration;
}

/**
 * Rule: a circuit breaker's queue is named as a hookline queue is. Its alarm is named by the stack's name and the
 * queue's joined with `/` (`breakerAlarmName`): that name is one breaker's only while the queue's holds no `/`, and
 * fits CloudWatch's 255 characters while it has at most 40 (CDK holds a stack name to 128). A configuration's
 * queues are checked by the same pattern; this is for the construct used on its own.
 */
export function breakerQueueNameViolations(path: string, name: string): Violation[] {
  if (Token.isUnresolved(name) || NAME_PATTERN.test(name)) return [];
  const suggestion = name
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^[^a-z]+/, '')
    .slice(0, 40);
  return [
    violation(
      path,
      `names the breaker's alarm (<stack>/<queue>/circuit-breaker), so it is ${NAME_RULE}`,
      name,
      `use the queue's name in the pipeline, e.g. "${suggestion || 'events'}"`,
    ),
  ];
}

/** What a consumer's `metricTypes` takes, as the fix of a value of another kind. */
export const METRIC_TYPES_FIX = `use 'none' (the default), 'each', or list the types to keep, e.g. ['github.push']`;

/**
 * Rule: a consumer's `metricTypes` is `'each'`, `'none'` or a list of exact event types (`<source>.<type>`, as the
 * consumer names a record's type), each once: a pattern or a bare type would match no record, so its metrics would
 * silently go under `other`.
 */
export function metricTypesViolations(
  path: string,
  metricTypes: unknown,
  /** The path of one listed type: a construct prop's `metricTypes[0]`, the configuration's `metricTypes.0`. */
  itemPath: (index: number) => string = (index) => `${path}[${index}]`,
): Violation[] {
  if (metricTypes === 'each' || metricTypes === 'none') return [];
  if (!Array.isArray(metricTypes)) {
    return [
      violation(
        path,
        `is 'each' (every event type its own metrics), 'none' (every type under "${OTHER_METRIC_TYPE}") or a list of event types`,
        metricTypes,
        METRIC_TYPES_FIX,
      ),
    ];
  }
  return metricTypes.flatMap((type: unknown, i): Violation[] => {
    const at = itemPath(i);
    if (typeof type !== 'string' || !/^[^.*]+\.[^*]+$/.test(type)) {
      return [
        violation(
          at,
          `is an exact event type, <source>.<type> as the consumer names it (github.push, job.email.welcome): no pattern, no type without its source`,
          type,
          typeof type === 'string' && type.includes('*')
            ? `list each type of the pattern you want on its own; the others go under "${OTHER_METRIC_TYPE}"`
            : `write it as <source>.<type>, e.g. "github.${typeof type === 'string' && type !== '' ? type : 'push'}"`,
        ),
      ];
    }
    if (metricTypes.indexOf(type) !== i) {
      return [violation(at, 'repeats a type listed before it', type, 'remove the repeat')];
    }
    return [];
  });
}

/** CloudWatch alarms evaluate whole minutes, at most a day's worth (period x evaluation periods). */
export const BREAKER_WINDOW_MINUTES = { min: 1, max: 1440 } as const;

/**
 * Rules of a circuit breaker: a ratio in (0, 1], a whole number of records from 1, and a window CloudWatch can
 * alarm on (the deployed breaker is an alarm whose period is the window): whole minutes, from 1 to a day.
 */
export function circuitBreakerViolations(c: CircuitBreakerRuleInput): Violation[] {
  const out: Violation[] = [];
  const { failureRatio, minimumRecords, window } = c;
  if (known(failureRatio) && !(failureRatio > 0 && failureRatio <= 1)) {
    out.push(
      violation(
        'circuitBreaker.failureRatio',
        'is the share of records that failed, above 0 and at most 1',
        failureRatio,
        'use e.g. 0.5 (half of the records failed)',
      ),
    );
  }
  if (known(minimumRecords) && !(Number.isInteger(minimumRecords) && minimumRecords >= 1)) {
    out.push(
      violation(
        'circuitBreaker.minimumRecords',
        'is a whole number of records, at least 1',
        minimumRecords,
        'use e.g. 20',
      ),
    );
  }
  if (known(window)) {
    const minutes = secondsOf(window) / 60;
    const { min, max } = BREAKER_WINDOW_MINUTES;
    if (!Number.isInteger(minutes) || minutes < min || minutes > max) {
      out.push(
        violation(
          'circuitBreaker.window',
          `must be whole minutes from ${min} to ${max} (1 day): it is the period of the CloudWatch alarm that trips the deployed breaker`,
          window,
          'use e.g. Duration.minutes(5)',
        ),
      );
    }
  }
  out.push(...halfOpenAfterViolations(c));
  return out;
}

/**
 * Rule of a breaker's probe delay: whole minutes (a schedule's `at()` time), at most a day, and no shorter than
 * the window: deployed, the breaker's alarm reads ALARM until a period of `window` passes with no failure, and a
 * probe started while it does could never trip again (the alarm acts on a transition only), so an earlier probe
 * would only be postponed.
 */
function halfOpenAfterViolations(c: CircuitBreakerRuleInput): Violation[] {
  const { halfOpenAfter, window } = c;
  if (!known(halfOpenAfter)) return [];
  const minutes = secondsOf(halfOpenAfter) / 60;
  const windowMinutes = known(window) ? secondsOf(window) / 60 : BREAKER_WINDOW_MINUTES.min;
  const min = Number.isInteger(windowMinutes) ? Math.max(BREAKER_WINDOW_MINUTES.min, windowMinutes) : 1;
  const { max } = BREAKER_WINDOW_MINUTES;
  if (Number.isInteger(minutes) && minutes >= min && minutes <= max) return [];
  return [
    violation(
      'circuitBreaker.halfOpenAfter',
      `must be whole minutes from the window (${plural(min, 'minute')}) to ${max} (1 day): deployed, the breaker's alarm reads ALARM until a window passes without failures, and a probe cannot start before it returns to OK`,
      halfOpenAfter,
      `use e.g. Duration.minutes(${Math.max(min, Math.min(max, 15))})`,
    ),
  ];
}

/**
 * Rule: a retry backoff fits in what SQS still grants when it is set. SQS refuses to keep a message hidden more
 * than 12 hours after the receive that returned it, and the runtime sets the backoff while the record is still
 * hidden from that receive, up to the queue's visibility timeout later; a longer backoff is refused, and the
 * record comes back after the visibility timeout instead of waiting.
 */
export function retryWithinVisibilityViolations(
  path: string,
  retryMax: Duration,
  visibilityTimeout: Duration,
): Violation[] {
  // A visibility timeout past 12 hours is refused by its own rule; this one would only repeat it.
  const unknowable = [retryMax, visibilityTimeout].some((d) => !known(d) || beyondVisibilityLimit(d));
  if (unknowable) return [];
  const room = SQS_LIMITS.maxVisibilitySeconds - Math.ceil(secondsOf(visibilityTimeout));
  if (secondsOf(retryMax) <= room) return [];
  return [
    violation(
      path,
      `SQS keeps a message hidden at most ${MAX_VISIBILITY_HOURS} hours after its receive, and a backoff is set up to the visibility timeout (${visibilityTimeout.toHumanString()}) after it, so a longer wait is refused and the record comes back after the visibility timeout instead`,
      retryMax,
      // A backoff is at least a second: with less room than that, only a shorter visibility timeout makes room.
      room >= 1
        ? `use at most Duration.seconds(${room})`
        : `lower the queue's visibilityTimeout to at most Duration.seconds(${SQS_LIMITS.maxVisibilitySeconds - Math.ceil(secondsOf(retryMax))}), which leaves room for this backoff`,
    ),
  ];
}

/** What decides whether a failing record's retries fit in its queue's retention. */
export interface RetryScheduleRuleInput {
  readonly retry: RetryRuleInput;
  readonly maxReceiveCount: number;
  readonly retentionPeriod: Duration;
}

/** The shortest wait before each retry of a record that fails every receive (jitter at its least, half its backoff). */
function shortestRetryWaits(r: RetryScheduleRuleInput): number[] {
  const policy = {
    baseSeconds: secondsOf(r.retry.base),
    factor: r.retry.factor,
    maxSeconds: secondsOf(r.retry.max),
  };
  return Array.from({ length: r.maxReceiveCount - 1 }, (_, i) => backoffDelaySeconds(policy, i + 1, () => 0));
}

/** How many retries come before the retention ends, each after its wait (the ones before it added up). */
function retriesWithin(waits: readonly number[], retentionSeconds: number): number {
  let elapsed = 0;
  let fit = 0;
  for (const wait of waits) {
    elapsed += wait;
    if (elapsed >= retentionSeconds) break;
    fit++;
  }
  return fit;
}

/**
 * Rule: a failing record's retries can all come before its queue deletes it. The consumer dead-letters a record
 * whose retry would come after its queue's retention ends (`RetentionEndsError`, rather than let SQS delete it
 * unseen); when even the shortest waits (each half its backoff, the least jitter gives, with no time spent handling
 * it) add up to the retention, every record that keeps failing is dead-lettered so before its last receive, and
 * `maxReceiveCount` promises receives that never come. Longer waits (jitter, handling time, a visibility timeout
 * after a crash) may cut a record short sooner; that depends on the run, so it is not refused.
 */
export function retryScheduleViolations(path: string, r: RetryScheduleRuleInput): Violation[] {
  const values = [r.retry.base, r.retry.factor, r.retry.max, r.maxReceiveCount, r.retentionPeriod];
  if (!values.every(known) || retryViolations(r.retry).length > 0) return [];
  if (!(r.maxReceiveCount >= 2 && r.maxReceiveCount <= SQS_LIMITS.maxReceiveCount)) return [];
  if (retentionViolations(path, r.retentionPeriod).length > 0) return [];
  const waits = shortestRetryWaits(r);
  const total = waits.reduce((sum, w) => sum + w, 0);
  const retention = secondsOf(r.retentionPeriod);
  if (total < retention) return [];
  const fit = retriesWithin(waits, retention);
  const longer = Math.ceil((total + 1) / 60);
  const fixRetention =
    total + 1 <= SQS_LIMITS.maxRetentionSeconds
      ? `raise retentionPeriod to at least Duration.minutes(${longer}), `
      : '';
  return [
    violation(
      path,
      `ends before a failing record's last receive: its ${plural(waits.length, 'retry', 'retries')} wait${waits.length === 1 ? 's' : ''} at least ${total} seconds in all (retry base ${r.retry.base.toHumanString()}, factor ${r.retry.factor}, max ${r.retry.max.toHumanString()}; each wait at least half its backoff), so the consumer dead-letters every record that keeps failing with RetentionEndsError after at most ${fit + 1} of its maxReceiveCount (${r.maxReceiveCount}) receives`,
      r.retentionPeriod,
      `${fixRetention}lower maxReceiveCount to ${fit + 1}, or shorten the consumer's retry (base or max)`,
    ),
  ];
}

/** The shortest idempotency record, whatever the visibility timeout. */
const MIN_IDEMPOTENCY_EXPIRY_SECONDS = 60;

/**
 * Rule: a consumer's idempotency record lives at least a minute, and outlives its queue's visibility timeout. A
 * record whose handler returned but whose invocation then died (a crash, a thread blocked into the timeout) before
 * the batch response comes back that long after its receive: its key must still say done, or the handler runs a
 * second time.
 */
export function idempotencyExpiryViolations(
  path: string,
  expiry: Duration,
  visibilityTimeout: Duration | undefined,
): Violation[] {
  if (!known(expiry)) return [];
  if (secondsOf(expiry) < MIN_IDEMPOTENCY_EXPIRY_SECONDS) {
    return [
      violation(
        path,
        'an idempotency record must live at least a minute',
        expiry,
        `use ${DEFAULTS.idempotencyExpiry.toHumanString()}, which outlasts sender retries`,
      ),
    ];
  }
  if (!visibilityTimeout || !known(visibilityTimeout)) return [];
  const needed = Math.ceil(secondsOf(visibilityTimeout));
  if (secondsOf(expiry) >= needed) return [];
  return [
    violation(
      path,
      `an idempotency record must outlive the queue's visibility timeout (${visibilityTimeout.toHumanString()}): a record processed by an invocation that then died before its batch response comes back after it, and runs again once its key has expired`,
      expiry,
      `use at least Duration.seconds(${needed})`,
    ),
  ];
}

/** Settings of a queue and its dead-letter queue. */
export interface QueueRuleInput {
  readonly fifo: boolean;
  readonly maxReceiveCount: number;
  readonly retentionPeriod: Duration;
  readonly deadLetterRetentionPeriod: Duration;
  readonly contentBasedDeduplication?: boolean;
  readonly highThroughput?: boolean;
  readonly visibilityTimeout?: Duration;
}

/**
 * A consumer told another redrive count than its queue's redrive policy: it would take the wrong receive for a
 * record's last attempt, dead-lettering it early itself, or leaving SQS to dead-letter it without a reason.
 */
export function consumerReceiveCountViolations(
  given: number | undefined,
  queues: number | undefined,
): Violation[] {
  if (!known(given) || !known(queues) || given === queues) return [];
  return [
    violation(
      'maxReceiveCount',
      `must equal the queue's redrive policy (maxReceiveCount ${queues}): the consumer would dead-letter records ${given < queues ? 'before their last receive' : 'without a reason, SQS moving them first'}`,
      given,
      "leave maxReceiveCount out (the consumer reads the queue's), or change the queue's",
    ),
  ];
}

function maxReceiveCountViolations(count: number): Violation[] {
  if (!known(count) || (count >= 1 && count <= SQS_LIMITS.maxReceiveCount)) return [];
  return [
    violation(
      'maxReceiveCount',
      `must be between 1 and ${SQS_LIMITS.maxReceiveCount}`,
      count,
      'use 5 (AWS recommends at least 5 so throttling does not dead-letter good messages)',
    ),
  ];
}

function deadLetterOutlivesViolations(q: QueueRuleInput): Violation[] {
  if (!known(q.retentionPeriod) || !known(q.deadLetterRetentionPeriod)) return [];
  if (secondsOf(q.deadLetterRetentionPeriod) > secondsOf(q.retentionPeriod)) return [];
  // A retention SQS refuses is reported by its own rule, which is the one to fix.
  if (secondsOf(q.retentionPeriod) > SQS_LIMITS.maxRetentionSeconds) return [];
  // No dead-letter queue keeps a message longer than SQS's 14 days: a queue kept that long can only be shortened.
  const fix =
    secondsOf(q.retentionPeriod) >= SQS_LIMITS.maxRetentionSeconds
      ? 'shorten retentionPeriod to at most Duration.days(13): a dead-letter queue keeps a message at most 14 days, so it can outlive a queue kept 14 days by nothing'
      : 'use Duration.days(14), or shorten retentionPeriod';
  return [
    violation(
      'deadLetterRetentionPeriod',
      `must be longer than the queue's retentionPeriod (${q.retentionPeriod.toHumanString()}): a dead-lettered message keeps its original enqueue time, so a shorter DLQ retention deletes it early`,
      q.deadLetterRetentionPeriod,
      fix,
    ),
  ];
}

/**
 * Rule: a queue's oldest-message alarm can fire before SQS deletes the message it watches. It fires once the oldest
 * message has been older than `alarmAge` for `window`; SQS deletes a message once it is `retentionPeriod` old,
 * unprocessed and not dead-lettered, so a later alarm never fires and the messages of a stopped consumer expire
 * unseen. `inherited`: the age came from `alarms.oldestMessageAge` or its default, not the queue.
 */
export function oldestMessageAlarmViolations(
  alarmAge: Duration,
  retentionPeriod: Duration,
  window: Duration,
  inherited: boolean,
): Violation[] {
  if (!known(alarmAge) || !known(retentionPeriod) || !known(window)) return [];
  // A retention SQS refuses is reported by its own rule.
  if (retentionViolations('retentionPeriod', retentionPeriod).length > 0) return [];
  if (secondsOf(alarmAge) + secondsOf(window) < secondsOf(retentionPeriod)) return [];
  // A minute of margin: the alarm reads one-minute datapoints, published a little after each minute.
  const room = Math.floor((secondsOf(retentionPeriod) - secondsOf(window)) / 60) - 1;
  const from = inherited ? ' (alarms.oldestMessageAge, or its default)' : '';
  return [
    violation(
      'oldestMessageAgeAlarm',
      `the alarm${from} fires once the oldest message has waited longer than this for ${window.toHumanString()}, but SQS deletes a message once it has waited the queue's retentionPeriod (${retentionPeriod.toHumanString()}): it could never fire, and the messages of a stopped consumer would expire unseen`,
      alarmAge,
      room >= 1
        ? `${inherited ? 'set' : 'lower'} it to at most Duration.minutes(${room}), or raise retentionPeriod`
        : `raise retentionPeriod above ${window.toHumanString()} and a minute`,
    ),
  ];
}

/** The lowest oldest-message alarm threshold: one of the alarm's one-minute datapoints. */
export const MIN_OLDEST_MESSAGE_AGE = DEFAULTS.queueAlarmPeriod;

/**
 * Rule: an oldest-message alarm's threshold is at least a minute. Below it the alarm reads ordinary traffic as a
 * backlog: a message waits some seconds between its send and a poll, and every one of the alarm's one-minute
 * datapoints of a busy queue is above 0.
 */
export function oldestMessageAgeFloorViolations(path: string, age: Duration): Violation[] {
  if (!known(age) || secondsOf(age) >= MIN_OLDEST_MESSAGE_AGE.toSeconds()) return [];
  return [
    violation(
      path,
      `must be at least ${MIN_OLDEST_MESSAGE_AGE.toHumanString()}: the alarm would read ordinary traffic as a backlog (a busy queue always holds a message some seconds old) and stay in ALARM`,
      age,
      `use Duration.minutes(${DEFAULTS.oldestMessageAgeAlarm.toMinutes()}) (the default), or at least Duration.minutes(${MIN_OLDEST_MESSAGE_AGE.toMinutes()})`,
    ),
  ];
}

/** Rules for a queue pair: redrive count, retention ranges, DLQ outliving its source, FIFO-only settings. */
export function queueViolations(q: QueueRuleInput): Violation[] {
  return [
    ...maxReceiveCountViolations(q.maxReceiveCount),
    ...retentionViolations('retentionPeriod', q.retentionPeriod),
    ...retentionViolations('deadLetterRetentionPeriod', q.deadLetterRetentionPeriod),
    ...deadLetterOutlivesViolations(q),
    ...(!q.fifo && q.contentBasedDeduplication !== undefined
      ? [
          violation(
            'contentBasedDeduplication',
            'content-based deduplication exists only on FIFO queues',
            q.contentBasedDeduplication,
            'remove it, or make the queue FIFO',
          ),
        ]
      : []),
    ...(!q.fifo && q.highThroughput !== undefined
      ? [
          violation(
            'highThroughput',
            'high throughput mode exists only on FIFO queues (a standard queue has no such quota)',
            q.highThroughput,
            'remove it, or make the queue FIFO',
          ),
        ]
      : []),
    ...visibilityTimeoutLimitViolations('visibilityTimeout', q.visibilityTimeout),
  ];
}

/** Settings of a consumer's function and event source mapping. */
export interface ConsumerRuleInput {
  readonly fifo: boolean;
  readonly timeout: Duration;
  readonly batchSize: number;
  readonly maxBatchingWindow: Duration;
  readonly maxConcurrency?: number;
  readonly memorySize?: number;
  /** Provisioned mode: pollers kept ready. */
  readonly minimumPollers?: number;
  /** Provisioned mode: most pollers. */
  readonly maximumPollers?: number;
  /** Executions reserved for (and the most allowed to) the function. */
  readonly reservedConcurrency?: number;
  /** The function's own environment variables, beside hookline's. */
  readonly environment?: Readonly<Record<string, string>>;
}

function timeoutViolations(timeout: Duration): Violation[] {
  if (!known(timeout)) return [];
  const s = secondsOf(timeout);
  if (s >= 1 && s <= LAMBDA_LIMITS.maxTimeoutSeconds) return [];
  return [
    violation(
      'timeout',
      'a Lambda function timeout is between 1 second and 15 minutes',
      timeout,
      'use e.g. Duration.seconds(30)',
    ),
  ];
}

function batchingWindowViolations(fifo: boolean, window: Duration): Violation[] {
  if (!known(window)) return [];
  const s = secondsOf(window);
  const out: Violation[] = [];
  if (s < 0 || s > 300)
    out.push(
      violation(
        'maxBatchingWindow',
        'the batching window is between 0 and 300 seconds',
        window,
        'use at most Duration.minutes(5)',
      ),
    );
  if (fifo && s > 0)
    out.push(
      violation(
        'maxBatchingWindow',
        'FIFO queues do not support a batching window',
        window,
        'remove maxBatchingWindow for this FIFO queue',
      ),
    );
  return out;
}

function batchSizeViolations(c: ConsumerRuleInput): Violation[] {
  if (!known(c.batchSize)) return [];
  const max = c.fifo ? 10 : 10_000;
  if (c.batchSize < 1 || c.batchSize > max) {
    return [
      violation(
        'batchSize',
        `must be between 1 and ${max} for a ${c.fifo ? 'FIFO' : 'standard'} queue`,
        c.batchSize,
        // Said for the side the value is off: "at most" for a batch of 0 reads as if 0 were fine.
        c.batchSize < 1 ? 'use at least 1' : `use at most ${max}`,
      ),
    ];
  }
  const window = known(c.maxBatchingWindow) ? secondsOf(c.maxBatchingWindow) : undefined;
  if (c.batchSize > 10 && window !== undefined && window < 1) {
    return [
      violation(
        'batchSize',
        'a batch size above 10 needs a batching window of at least 1 second',
        c.batchSize,
        'set maxBatchingWindow: Duration.seconds(1) or more, or use batchSize 10',
      ),
    ];
  }
  return [];
}

/** The most batches an SQS event source runs at once in on-demand mode (and the largest `maxConcurrency`). */
const ESM_MAX_CONCURRENCY = 1000;
/** The smallest `maxConcurrency` Lambda accepts on an SQS event source. */
const ESM_MIN_CONCURRENCY = 2;

function maxConcurrencyViolations(maxConcurrency: number | undefined): Violation[] {
  if (
    !known(maxConcurrency) ||
    (maxConcurrency >= ESM_MIN_CONCURRENCY && maxConcurrency <= ESM_MAX_CONCURRENCY)
  )
    return [];
  return [
    violation(
      'maxConcurrency',
      'the event source mapping maximum concurrency is between 2 and 1000',
      maxConcurrency,
      'use a value from 2 to 1000, or remove it for no limit',
    ),
  ];
}

/**
 * Provisioned mode's poller ranges for SQS (minimum 2 to 200, maximum 2 to 2000, minimum at most maximum).
 * Lambda's API reference now accepts up to 10,000 maximum pollers for SQS, but CloudFormation's resource schema
 * for `AWS::Lambda::EventSourceMapping` still caps `MaximumPollers` at 2000 and a deploy goes through it.
 *
 * @see https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-lambda-eventsourcemapping-provisionedpollerconfig.html
 */
export const POLLER_LIMITS = { min: 2, maxMinimum: 200, maxMaximum: 2000 } as const;

/**
 * Provisioned mode for SQS: each event poller runs up to 10 invocations at once, and Lambda scales to 200 pollers
 * when no maximum is given.
 *
 * @see https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-parameters.html
 */
const POLLER_INVOCATIONS = 10;

/** Rule: each poller bound within Lambda's range for SQS, and the minimum not above the maximum. */
function pollerViolations(c: Pick<ConsumerRuleInput, 'minimumPollers' | 'maximumPollers'>): Violation[] {
  const out: Violation[] = [];
  const { min, maxMinimum, maxMaximum } = POLLER_LIMITS;
  const { minimumPollers, maximumPollers } = c;
  if (known(minimumPollers) && (minimumPollers < min || minimumPollers > maxMinimum)) {
    const why = `an SQS event source keeps ${min} to ${maxMinimum} pollers ready in provisioned mode`;
    out.push(violation('minimumPollers', why, minimumPollers, `use a value from ${min} to ${maxMinimum}`));
  }
  if (known(maximumPollers) && (maximumPollers < min || maximumPollers > maxMaximum)) {
    const why = `CloudFormation accepts ${min} to ${maxMaximum} maximum pollers for an SQS event source in provisioned mode`;
    out.push(violation('maximumPollers', why, maximumPollers, `use a value from ${min} to ${maxMaximum}`));
  }
  if (known(minimumPollers) && known(maximumPollers) && minimumPollers > maximumPollers) {
    out.push(
      violation(
        'minimumPollers',
        `must not exceed maximumPollers (${maximumPollers}): Lambda cannot keep more pollers ready than it may run`,
        minimumPollers,
        'lower minimumPollers or raise maximumPollers',
      ),
    );
  }
  return out;
}

/**
 * Rules of the scaling choice: on-demand (`maxConcurrency`) or provisioned pollers, never both; and no more
 * concurrent batches than the function's reserved concurrency allows.
 *
 * @see https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-scaling.html
 */
function scalingViolations(c: ConsumerRuleInput): Violation[] {
  const out = pollerViolations(c);
  const provisioned = c.minimumPollers !== undefined || c.maximumPollers !== undefined;
  if (c.maxConcurrency !== undefined && provisioned) {
    out.push(
      violation(
        'maxConcurrency',
        'maximum concurrency (on-demand scaling) and provisioned pollers (minimumPollers/maximumPollers) are mutually exclusive on an SQS event source: Lambda refuses the mapping',
        c.maxConcurrency,
        'keep maxConcurrency and remove minimumPollers/maximumPollers, or remove maxConcurrency',
      ),
    );
  }
  const reservation = reservedConcurrencyViolation(c, provisioned);
  if (reservation) out.push(reservation);
  return out;
}

/** Rules of a mapping's scaling as a circuit breaker's probe restores it: the consumer's own ranges. */
export function mappingScalingViolations(scaling: {
  readonly maximumConcurrency?: number;
  readonly minimumPollers?: number;
  readonly maximumPollers?: number;
}): Violation[] {
  return [
    ...maxConcurrencyViolations(scaling.maximumConcurrency).map((v) => ({
      ...v,
      path: 'maximumConcurrency',
    })),
    ...pollerViolations(scaling),
  ];
}

/** Rule: a function reserves a whole number of concurrent executions, from 0. */
export function reservedConcurrencyViolations(reserved: number | undefined): Violation[] {
  if (!known(reserved) || (reserved >= 0 && Number.isInteger(reserved))) return [];
  return [violation('reservedConcurrency', 'must be a whole number from 0', reserved, 'use e.g. 50')];
}

/** The one problem of the reserved concurrency against how the consumer scales, if any: the first that applies. */
function reservedConcurrencyViolation(c: ConsumerRuleInput, provisioned: boolean): Violation | undefined {
  const reserved = c.reservedConcurrency;
  const [outOfRange] = reservedConcurrencyViolations(reserved);
  if (outOfRange) return outOfRange;
  if (reserved === 0) {
    return violation(
      'reservedConcurrency',
      'a consumer with no concurrency never runs: every batch is throttled, and its messages go to the dead-letter queue after maxReceiveCount receives without a reason',
      reserved,
      'remove reservedConcurrency (pause a consumer with `hookline pause` instead), or reserve at least 2 and set maxConcurrency to the same number',
    );
  }
  if (!known(reserved)) return undefined;
  if (c.maxConcurrency === undefined) {
    return provisioned ? pollersOverReservation(c, reserved) : onDemandOverReservation(reserved);
  }
  if (known(c.maxConcurrency) && c.maxConcurrency > reserved) {
    return violation(
      'maxConcurrency',
      `must not exceed reservedConcurrency (${reserved}): the event source would start invocations the function cannot run, and throttled batches go back to the queue and count towards maxReceiveCount`,
      c.maxConcurrency,
      // Below the smallest maxConcurrency, lowering it is no fix: it would only break the range rule.
      reserved >= ESM_MIN_CONCURRENCY
        ? `lower maxConcurrency to at most ${reserved}, or raise reservedConcurrency`
        : `raise reservedConcurrency to at least ${Math.max(ESM_MIN_CONCURRENCY, Math.min(c.maxConcurrency, ESM_MAX_CONCURRENCY))} (maxConcurrency cannot go below ${ESM_MIN_CONCURRENCY}), or remove reservedConcurrency`,
    );
  }
  return undefined;
}

/** On-demand scaling without maxConcurrency outgrows any reservation below its ceiling. */
function onDemandOverReservation(reserved: number): Violation | undefined {
  if (reserved >= ESM_MAX_CONCURRENCY) return undefined;
  // AWS: "Event source mappings don't account for reserved concurrency" (knowledge-center/lambda-sqs-scaling);
  // on-demand polling starts five batches at once and scales up to 1,000 (services-sqs-scaling).
  return violation(
    'reservedConcurrency',
    `an SQS event source does not limit itself to the reserved concurrency: it starts 5 batches at once and scales up to ${ESM_MAX_CONCURRENCY}, and throttled batches go back to the queue and count towards maxReceiveCount`,
    reserved,
    reserved >= 2
      ? `add maxConcurrency: ${reserved} (at most reservedConcurrency), or remove reservedConcurrency`
      : 'reserve at least 2 and set maxConcurrency to the same number, or remove reservedConcurrency',
  );
}

/** Provisioned pollers do not see the reservation either: beyond it their invocations are throttled. */
function pollersOverReservation(c: ConsumerRuleInput, reserved: number): Violation | undefined {
  const maximumPollers = c.maximumPollers ?? SQS_DEFAULT_POLLERS.maximum;
  if (reserved >= POLLER_INVOCATIONS * maximumPollers) return undefined;
  const fitting = Math.floor(reserved / POLLER_INVOCATIONS);
  return violation(
    'reservedConcurrency',
    `provisioned pollers run up to ${POLLER_INVOCATIONS} invocations each, ${POLLER_INVOCATIONS * maximumPollers} with ${maximumPollers} pollers${c.maximumPollers === undefined ? ' (the default maximum)' : ''}, and do not limit themselves to the reserved concurrency: throttled batches go back to the queue and count towards maxReceiveCount`,
    reserved,
    fitting >= POLLER_LIMITS.min
      ? `set maximumPollers to at most ${fitting} (and minimumPollers no higher), reserve at least ${POLLER_INVOCATIONS * maximumPollers}, or remove reservedConcurrency`
      : `reserve at least ${POLLER_INVOCATIONS * POLLER_LIMITS.min} with maximumPollers: ${POLLER_LIMITS.min}, scale on demand instead (remove the pollers and set maxConcurrency to the reserved concurrency, 2 at least), or remove reservedConcurrency`,
  );
}

/**
 * The Powertools variables hookline sets on every function it creates: the metrics namespace and the `service`
 * dimension that the dashboard, the alarms and `hookline status` read.
 */
export const POWERTOOLS_ENV = {
  serviceName: 'POWERTOOLS_SERVICE_NAME',
  metricsNamespace: 'POWERTOOLS_METRICS_NAMESPACE',
} as const;

/**
 * What Lambda accepts as a variable name (letter, then letters, digits and `_`; two characters at least) and the
 * names it sets itself and refuses in a function's configuration. CloudFormation takes both to Lambda unchecked,
 * so a deploy fails on them.
 *
 * @see https://docs.aws.amazon.com/lambda/latest/api/API_Environment.html
 * @see https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html
 */
const LAMBDA_ENV_NAME = /^[a-zA-Z][a-zA-Z0-9_]+$/;
const LAMBDA_RESERVED_ENV = new Set([
  '_HANDLER',
  '_X_AMZN_TRACE_ID',
  'AWS_DEFAULT_REGION',
  'AWS_REGION',
  'AWS_EXECUTION_ENV',
  'AWS_LAMBDA_FUNCTION_NAME',
  'AWS_LAMBDA_FUNCTION_MEMORY_SIZE',
  'AWS_LAMBDA_FUNCTION_VERSION',
  'AWS_LAMBDA_INITIALIZATION_TYPE',
  'AWS_LAMBDA_LOG_GROUP_NAME',
  'AWS_LAMBDA_LOG_STREAM_NAME',
  'AWS_ACCESS_KEY',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_LAMBDA_RUNTIME_API',
  'LAMBDA_TASK_ROOT',
  'LAMBDA_RUNTIME_DIR',
]);
/** Set by hookline: a consumer's own value would be ignored (its configuration) or hide its metrics. */
const HOOKLINE_ENV = new Set<string>([
  POWERTOOLS_ENV.serviceName,
  POWERTOOLS_ENV.metricsNamespace,
  CONSUMER_CONFIG_ENV,
  FORWARD_CONFIG_ENV,
]);

/** The name written as Lambda accepts it (`1BAD-KEY` becomes `BAD_KEY`). */
function acceptedEnvName(name: string): string {
  const letters = name.replace(/[^a-zA-Z0-9_]/g, '_').replace(/^[^a-zA-Z]+/, '');
  return letters.length === 0 ? 'MY_SETTING' : letters.length === 1 ? `${letters}_VALUE` : letters;
}

/**
 * Rule: every variable name is one Lambda accepts in a function's configuration (checked on a consumer's own
 * variables, and by the template tests on every function hookline creates).
 */
export function lambdaEnvironmentViolations(
  environment: Readonly<Record<string, string>> | undefined,
): Violation[] {
  return Object.keys(environment ?? {}).flatMap((name) => {
    const path = `environment.${name}`;
    if (LAMBDA_RESERVED_ENV.has(name)) {
      return [
        violation(
          path,
          "is set by Lambda itself, which refuses it in a function's configuration: the deploy would fail",
          name,
          `remove it (Lambda provides ${name}), or use a name of your own`,
        ),
      ];
    }
    if (!LAMBDA_ENV_NAME.test(name)) {
      return [
        violation(
          path,
          'is not a name Lambda accepts for an environment variable (a letter, then letters, digits and _; two characters at least): the deploy would fail',
          name,
          `rename it, e.g. ${acceptedEnvName(name)}`,
        ),
      ];
    }
    return [];
  });
}

/** Rule: every variable a consumer adds is one Lambda accepts and none replaces what hookline sets. */
function environmentViolations(environment: Readonly<Record<string, string>> | undefined): Violation[] {
  const own = Object.keys(environment ?? {})
    .filter((name) => HOOKLINE_ENV.has(name))
    .map((name) =>
      violation(
        `environment.${name}`,
        "is set by hookline: the consumer's configuration, or the metrics namespace and service the dashboard and alarms read",
        name,
        'remove it, or use a name of your own',
      ),
    );
  return [...lambdaEnvironmentViolations(environment), ...own];
}

/** Rules for any function: Lambda's timeout and memory ranges and the variable names it accepts. */
export function functionViolations(f: {
  readonly timeout: Duration;
  readonly memorySize: number;
  readonly environment?: Readonly<Record<string, string>>;
}): Violation[] {
  return [
    ...lambdaEnvironmentViolations(f.environment),
    ...timeoutViolations(f.timeout),
    ...memoryViolations('memorySize', f.memorySize),
  ];
}

/** Rules for a consumer: Lambda timeout/memory ranges and the SQS event source mapping's limits. */
export function consumerViolations(c: ConsumerRuleInput): Violation[] {
  return [
    ...environmentViolations(c.environment),
    ...timeoutViolations(c.timeout),
    ...batchingWindowViolations(c.fifo, c.maxBatchingWindow),
    ...batchSizeViolations(c),
    ...maxConcurrencyViolations(c.maxConcurrency),
    ...scalingViolations(c),
    ...memoryViolations('memorySize', c.memorySize),
  ];
}

/**
 * The smallest visibility timeout for a queue read by a function: 6 x its timeout + the batching window.
 *
 * @see https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html
 */
export function minimumVisibilityTimeout(timeout: Duration, maxBatchingWindow: Duration): Duration {
  return Duration.seconds(Math.ceil(6 * secondsOf(timeout) + secondsOf(maxBatchingWindow)));
}

/**
 * The smallest visibility timeout a consumer allows, when `visibilityTimeout` is known and below it; else undefined.
 */
function visibilityShortOf(
  visibilityTimeout: Duration | undefined,
  timeout: Duration,
  maxBatchingWindow: Duration,
): Duration | undefined {
  if (!visibilityTimeout || !known(visibilityTimeout) || !known(timeout) || !known(maxBatchingWindow))
    return undefined;
  const minimum = minimumVisibilityTimeout(timeout, maxBatchingWindow);
  return secondsOf(visibilityTimeout) < secondsOf(minimum) ? minimum : undefined;
}

/** Rule: a set visibility timeout must cover 6 x the consumer timeout + the batching window. */
export function visibilityViolations(
  visibilityTimeout: Duration | undefined,
  timeout: Duration,
  maxBatchingWindow: Duration,
): Violation[] {
  const minimum = visibilityShortOf(visibilityTimeout, timeout, maxBatchingWindow)?.toSeconds();
  if (minimum === undefined) return [];
  return [
    violation(
      'visibilityTimeout',
      `must be at least 6 x the consumer timeout + the batching window (${minimum} seconds), or a batch can be processed twice while Lambda retries a throttled invoke`,
      visibilityTimeout,
      `remove it to derive ${minimum} seconds, or raise it`,
    ),
  ];
}

/**
 * Rule, from the consumer's side: the queue it reads hides a received batch for at least 6 x its timeout + its
 * batching window. For a consumer used on its own, whose queue was made apart from it; `visibilityTimeout` is
 * undefined where the queue's is not known at synth (an imported queue, a token).
 */
export function consumerQueueVisibilityViolations(
  visibilityTimeout: Duration | undefined,
  timeout: Duration,
  maxBatchingWindow: Duration,
): Violation[] {
  const minimum = visibilityShortOf(visibilityTimeout, timeout, maxBatchingWindow);
  if (minimum === undefined) return [];
  return [
    violation(
      'queue',
      `its visibility timeout must be at least 6 x this consumer's timeout + its batching window (${minimum.toHumanString()}), or a batch can be processed twice while Lambda retries a throttled invoke`,
      visibilityTimeout,
      `give its PipelineQueue consumerTimeout: Duration.seconds(${Math.ceil(secondsOf(timeout))}) and this consumer's batching window (consumerBatchingWindow) to derive it, or raise its visibilityTimeout to at least Duration.seconds(${minimum.toSeconds()})`,
    ),
  ];
}

// Rules and derived values for the constructs used on their own (WebhookIngest, QueueConsumer) and the configuration.

/** Rule: a record batch is handled 1 to 1000 records at once. */
export function parallelismViolations(parallelism: number): Violation[] {
  if (!known(parallelism) || (parallelism >= 1 && parallelism <= 1000)) return [];
  return [
    violation(
      'parallelism',
      'must be between 1 and 1000 records at once',
      parallelism,
      `use ${DEFAULTS.parallelism}`,
    ),
  ];
}

/**
 * The shortest deadline margin: the least the default ever keeps (its share of Lambda's shortest timeout, 1 second).
 * With less, the batch response, its metrics and the hand-back of records not started have no time left before
 * Lambda's timeout, which then returns the whole batch, records already handled included.
 */
export const MIN_DEADLINE_MARGIN = Duration.millis(1000 * DEFAULTS.deadlineMarginTimeoutShare);

/**
 * Rule: the time kept back before the deadline is at least {@link MIN_DEADLINE_MARGIN}, and shorter than the consumer
 * timeout, or nothing ever starts.
 */
export function deadlineMarginViolations(deadlineMargin: Duration, timeout: Duration): Violation[] {
  if (known(deadlineMargin) && deadlineMargin.toMilliseconds() < MIN_DEADLINE_MARGIN.toMilliseconds()) {
    return [
      violation(
        'deadlineMargin',
        `must be at least ${MIN_DEADLINE_MARGIN.toHumanString()} (the least the default keeps, a tenth of the shortest timeout): with less, the batch response, its metrics and the hand-back of records not started get no time before Lambda's timeout, which returns the whole batch, records already handled included`,
        deadlineMargin,
        `use Duration.seconds(${DEFAULTS.deadlineMargin.toSeconds()}) (the default), or at least Duration.millis(${MIN_DEADLINE_MARGIN.toMilliseconds()})`,
      ),
    ];
  }
  if (!known(deadlineMargin) || !known(timeout)) return [];
  if (deadlineMargin.toMilliseconds() < timeout.toMilliseconds()) return [];
  return [
    violation(
      'deadlineMargin',
      `must be shorter than the consumer timeout (${timeout.toHumanString()})`,
      deadlineMargin,
      'use a few seconds, e.g. Duration.seconds(3)',
    ),
  ];
}

/** The consumer's default deadline margin: `margin`, but never more than `share` of its timeout. */
export function defaultDeadlineMargin(timeout: Duration, margin: Duration, share: number): Duration {
  return Duration.millis(Math.min(margin.toMilliseconds(), timeout.toMilliseconds() * share));
}

/** Settings of the ingest function and its API stage. */
export interface IngestRuleInput {
  readonly rateLimit: number;
  readonly burstLimit: number;
  readonly timeout: Duration;
  readonly memorySize: number;
  /** How long a loaded signing secret or jobs token is used before it is read again (the configuration's). */
  readonly secretCache?: Duration;
}

/**
 * The longest a function may keep using a secret it read: a leaked secret replaced in Secrets Manager stays
 * accepted that long by every warm instance. One hour, the AWS Secrets Manager caching libraries' default.
 */
const MAX_SECRET_CACHE_SECONDS = 3600;

/** The largest stage burst API Gateway takes (the account's burst quota). */
const MAX_BURST = 5000;

/** Rules for the stage throttle: within the account limit, and a burst of at least one second of the rate. */
function throttleViolations(rateLimit: number, burstLimit: number, at: string): Violation[] {
  const out: Violation[] = [];
  if (known(rateLimit) && (rateLimit <= 0 || rateLimit > 10_000)) {
    const message = 'requests per second must be above 0 and at most 10000 (the account limit)';
    out.push(violation('rateLimit', message, rateLimit, 'use e.g. 1000'));
  }
  if (known(burstLimit) && (burstLimit < 1 || burstLimit > MAX_BURST)) {
    out.push(
      violation(
        'burstLimit',
        `the burst is between 1 and ${MAX_BURST} requests`,
        burstLimit,
        'use e.g. 1000',
      ),
    );
  } else if (known(rateLimit) && known(burstLimit) && rateLimit > 0 && burstLimit < rateLimit) {
    // Above the largest burst, raising the burst is no fix: it would only break the rule above.
    const fix =
      Math.ceil(rateLimit) > MAX_BURST
        ? `lower ${at}rateLimit to at most ${MAX_BURST} (no burst can hold one second of more), and raise burstLimit to match`
        : `raise it to ${Math.ceil(rateLimit)} or more, or lower ${at}rateLimit`;
    out.push(
      violation(
        'burstLimit',
        `must be at least ${at}rateLimit (${rateLimit}): a bucket smaller than one second of the rate answers 429 to traffic that merely arrives unevenly within a second`,
        burstLimit,
        fix,
      ),
    );
  }
  return out;
}

/**
 * Rules for ingest: stage throttling, a function timeout shorter than the API's 29-second limit, Lambda memory.
 * `at` is how messages name a sibling field (`ingest.` in a configuration, nothing on construct props).
 */
export function ingestViolations(i: IngestRuleInput, at = ''): Violation[] {
  const out = throttleViolations(i.rateLimit, i.burstLimit, at);
  if (known(i.timeout) && (secondsOf(i.timeout) < 1 || secondsOf(i.timeout) > 29)) {
    const message = 'between 1 and 29 seconds (senders give up after 3 to 10 seconds)';
    out.push(violation('timeout', message, i.timeout, 'use Duration.seconds(10)'));
  }
  out.push(...memoryViolations('memorySize', i.memorySize));
  out.push(...secretCacheViolations('secretCache', i.secretCache));
  return out;
}

/**
 * Rule: a function keeps a secret it read (a signing secret, the jobs tokens, a forwarding secret) from 1 second to
 * 1 hour before it reads it again. The ingest function takes whole seconds above 0 and fails to start on 0; the
 * forwarding function and the jobs endpoint would read Secrets Manager on every request (GetSecretValue is billed per
 * call and shares one quota per account and region, https://docs.aws.amazon.com/secretsmanager/latest/userguide/reference_limits.html).
 * Longer than an hour, a replaced secret stays in use that long.
 */
export function secretCacheViolations(path: string, secretCache: Duration | undefined): Violation[] {
  if (!known(secretCache)) return [];
  if (secondsOf(secretCache) < 1) {
    return [
      violation(
        path,
        "at least 1 second: the ingest function fails to start on 0, so it answers no webhook, and the forwarding function and the jobs endpoint would read the secret from Secrets Manager on every request (each call billed, and counted against the account's GetSecretValue quota)",
        secretCache,
        'use Duration.minutes(5) (the default), or at least Duration.seconds(1)',
      ),
    ];
  }
  if (secondsOf(secretCache) > MAX_SECRET_CACHE_SECONDS) {
    return [
      violation(
        path,
        'at most 1 hour: a replaced (leaked or rotated-out) signing secret or jobs token stays accepted that long, and a forwarding function goes on signing with a removed secret that long',
        secretCache,
        'use Duration.minutes(5) (the default)',
      ),
    ];
  }
  return [];
}

/** CloudFormation's rule for a stack name. */
const STACK_NAME = /^[A-Za-z][A-Za-z0-9-]{0,127}$/;

/** Rule: the stack name is one CloudFormation accepts (it also names the job schedules and local state). */
export function stackNameViolations(path: string, stackName: string | undefined): Violation[] {
  if (stackName === undefined || Token.isUnresolved(stackName) || STACK_NAME.test(stackName)) return [];
  return [
    violation(
      path,
      'a CloudFormation stack name starts with a letter and holds only letters, digits and hyphens (at most 128)',
      stackName,
      `use e.g. "${
        stackName
          .replace(/[^A-Za-z0-9-]+/g, '-')
          .replace(/^[^A-Za-z]+/, '')
          .slice(0, 128) || 'Webhooks'
      }"`,
    ),
  ];
}

/**
 * Rule: an existing alarm topic is in the region the stack deploys to. CloudWatch refuses an alarm whose action is
 * a topic of another region ("Invalid region ... specified"), so every alarm would fail the deployment. Checked
 * only when the stack's region is known at synth (an environment-agnostic stack learns it at deploy).
 */
export function alarmTopicRegionViolations(path: string, arn: string, stackRegion: string): Violation[] {
  if (Token.isUnresolved(arn) || Token.isUnresolved(stackRegion) || !TOPIC_ARN.test(arn)) return [];
  const topicRegion = arn.split(':')[3];
  if (topicRegion === stackRegion) return [];
  return [
    violation(
      path,
      `is a topic in ${topicRegion}, and the stack's alarms in ${stackRegion} can only notify a topic of their own region`,
      arn,
      `use a topic in ${stackRegion} (it may forward to the one in ${topicRegion}), or leave existingTopicArn out and subscribe to the topic the stack creates`,
    ),
  ];
}

/** An SNS topic ARN: `arn:<partition>:sns:<region>:<account>:<topic name>`. */
const TOPIC_ARN = /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$/;

/**
 * Rule: an existing alarm topic is named by a whole SNS topic ARN, of a standard topic: a FIFO topic takes only
 * messages with a message group, which a CloudWatch alarm's notification has none of, and delivers only to SQS
 * queues, so an email subscription to it fails the deploy.
 */
export function topicArnViolations(path: string, arn: string | undefined): Violation[] {
  if (arn === undefined || Token.isUnresolved(arn)) return [];
  if (TOPIC_ARN.test(arn) && arn.endsWith('.fifo')) {
    return [
      violation(
        path,
        'is a FIFO topic: alarm notifications carry no message group, which a FIFO topic requires, and it delivers to SQS queues only (no email)',
        arn,
        'use a standard topic (a name without .fifo), or leave existingTopicArn out and subscribe to the topic the stack creates',
      ),
    ];
  }
  if (TOPIC_ARN.test(arn)) return [];
  return [
    violation(
      path,
      'is not an SNS topic ARN',
      arn,
      'use the whole ARN, e.g. arn:aws:sns:us-east-1:123456789012:alarms (the topic’s ARN in the SNS console)',
    ),
  ];
}
