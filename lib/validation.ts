/**
 * The pipeline's validation rules, as pure functions.
 *
 * Constructs call them on their props (and throw), `resolveConfig` calls them on the configuration (and prefixes
 * each field with its path), so one rule is written once. Values that are unresolved CDK tokens are skipped:
 * they are only known at deploy time.
 */
import { Duration, Token } from 'aws-cdk-lib';

/** One broken rule: the field (relative to the object checked), what is wrong, the value given and the fix. */
export interface RuleViolation {
  readonly field: string;
  readonly message: string;
  readonly value: unknown;
  readonly fix: string;
}

const known = (value: number | Duration | undefined): boolean =>
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
  maxRetentionSeconds: 1_209_600,
  maxVisibilitySeconds: 43_200,
  maxReceiveCount: 1000,
} as const;

/** Settings of a queue and its dead-letter queue. */
export interface QueueRuleInput {
  readonly fifo: boolean;
  readonly maxReceiveCount: number;
  readonly retentionPeriod: Duration;
  readonly deadLetterRetentionPeriod: Duration;
  readonly contentBasedDeduplication?: boolean;
  readonly visibilityTimeout?: Duration;
}

/** Rules for a queue pair: redrive count, retention ranges, DLQ outliving its source, FIFO-only settings. */
export function queueViolations(q: QueueRuleInput): RuleViolation[] {
  const out: RuleViolation[] = [];
  if (known(q.maxReceiveCount) && (q.maxReceiveCount < 1 || q.maxReceiveCount > SQS_LIMITS.maxReceiveCount)) {
    out.push({
      field: 'maxReceiveCount',
      message: 'must be between 1 and 1000',
      value: q.maxReceiveCount,
      fix: 'use 5 (AWS recommends at least 5 so throttling does not dead-letter good messages)',
    });
  }
  for (const field of ['retentionPeriod', 'deadLetterRetentionPeriod'] as const) {
    const value = q[field];
    if (known(value)) {
      const s = secondsOf(value);
      if (s < SQS_LIMITS.minRetentionSeconds || s > SQS_LIMITS.maxRetentionSeconds) {
        out.push({
          field,
          message: 'SQS keeps messages between 60 seconds and 14 days',
          value,
          fix: 'use a Duration between Duration.minutes(1) and Duration.days(14)',
        });
      }
    }
  }
  if (known(q.retentionPeriod) && known(q.deadLetterRetentionPeriod)) {
    if (secondsOf(q.deadLetterRetentionPeriod) <= secondsOf(q.retentionPeriod)) {
      out.push({
        field: 'deadLetterRetentionPeriod',
        message: `must be longer than the queue's retentionPeriod (${q.retentionPeriod.toHumanString()}): a dead-lettered message keeps its original enqueue time, so a shorter DLQ retention deletes it early`,
        value: q.deadLetterRetentionPeriod,
        fix: 'use Duration.days(14), or shorten retentionPeriod',
      });
    }
  }
  if (!q.fifo && q.contentBasedDeduplication !== undefined) {
    out.push({
      field: 'contentBasedDeduplication',
      message: 'content-based deduplication exists only on FIFO queues',
      value: q.contentBasedDeduplication,
      fix: 'remove it, or make the queue FIFO',
    });
  }
  if (
    known(q.visibilityTimeout) &&
    q.visibilityTimeout &&
    secondsOf(q.visibilityTimeout) > SQS_LIMITS.maxVisibilitySeconds
  ) {
    out.push({
      field: 'visibilityTimeout',
      message: 'SQS visibility timeout is at most 12 hours',
      value: q.visibilityTimeout,
      fix: 'lower the consumer timeout or the visibility timeout',
    });
  }
  return out;
}

/** Settings of a consumer's function and event source mapping. */
export interface ConsumerRuleInput {
  readonly fifo: boolean;
  readonly timeout: Duration;
  readonly batchSize: number;
  readonly maxBatchingWindow: Duration;
  readonly maxConcurrency?: number;
  readonly memorySize?: number;
}

/** Rules for a consumer: Lambda timeout/memory ranges and the SQS event source mapping's limits. */
export function consumerViolations(c: ConsumerRuleInput): RuleViolation[] {
  const out: RuleViolation[] = [];
  if (known(c.timeout) && (secondsOf(c.timeout) < 1 || secondsOf(c.timeout) > 900)) {
    out.push({
      field: 'timeout',
      message: 'a Lambda function timeout is between 1 second and 15 minutes',
      value: c.timeout,
      fix: 'use e.g. Duration.seconds(30)',
    });
  }
  const window = known(c.maxBatchingWindow) ? secondsOf(c.maxBatchingWindow) : undefined;
  if (window !== undefined && (window < 0 || window > 300)) {
    out.push({
      field: 'maxBatchingWindow',
      message: 'the batching window is between 0 and 300 seconds',
      value: c.maxBatchingWindow,
      fix: 'use at most Duration.minutes(5)',
    });
  }
  if (c.fifo && window !== undefined && window > 0) {
    out.push({
      field: 'maxBatchingWindow',
      message: 'FIFO queues do not support a batching window',
      value: c.maxBatchingWindow,
      fix: 'remove maxBatchingWindow for this FIFO queue',
    });
  }
  if (known(c.batchSize)) {
    const max = c.fifo ? 10 : 10_000;
    if (c.batchSize < 1 || c.batchSize > max) {
      out.push({
        field: 'batchSize',
        message: `must be between 1 and ${max} for a ${c.fifo ? 'FIFO' : 'standard'} queue`,
        value: c.batchSize,
        fix: `use at most ${max}`,
      });
    } else if (c.batchSize > 10 && window !== undefined && window < 1) {
      out.push({
        field: 'batchSize',
        message: 'a batch size above 10 needs a batching window of at least 1 second',
        value: c.batchSize,
        fix: 'set maxBatchingWindow: Duration.seconds(1) or more, or use batchSize 10',
      });
    }
  }
  if (
    c.maxConcurrency !== undefined &&
    known(c.maxConcurrency) &&
    (c.maxConcurrency < 2 || c.maxConcurrency > 1000)
  ) {
    out.push({
      field: 'maxConcurrency',
      message: 'the event source mapping maximum concurrency is between 2 and 1000',
      value: c.maxConcurrency,
      fix: 'use a value from 2 to 1000, or remove it for no limit',
    });
  }
  if (c.memorySize !== undefined && known(c.memorySize) && (c.memorySize < 128 || c.memorySize > 10_240)) {
    out.push({
      field: 'memorySize',
      message: 'Lambda memory is between 128 and 10240 MB',
      value: c.memorySize,
      fix: 'use e.g. 512',
    });
  }
  return out;
}

/**
 * The smallest visibility timeout for a queue read by a function: 6 x its timeout + the batching window.
 *
 * @see https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html
 */
export function minimumVisibilityTimeout(timeout: Duration, maxBatchingWindow: Duration): Duration {
  return Duration.seconds(Math.ceil(6 * secondsOf(timeout) + secondsOf(maxBatchingWindow)));
}

/** Rule: a set visibility timeout must cover 6 x the consumer timeout + the batching window. */
export function visibilityViolations(
  visibilityTimeout: Duration | undefined,
  timeout: Duration,
  maxBatchingWindow: Duration,
): RuleViolation[] {
  if (!visibilityTimeout || !known(visibilityTimeout) || !known(timeout) || !known(maxBatchingWindow))
    return [];
  const minimum = secondsOf(minimumVisibilityTimeout(timeout, maxBatchingWindow));
  if (secondsOf(visibilityTimeout) >= minimum) return [];
  return [
    {
      field: 'visibilityTimeout',
      message: `must be at least 6 x the consumer timeout + the batching window (${minimum} seconds), or a batch can be processed twice while Lambda retries a throttled invoke`,
      value: visibilityTimeout,
      fix: `remove it to derive ${minimum} seconds, or raise it`,
    },
  ];
}

/** Renders a value for an error message. */
export function renderValue(value: unknown): string {
  if (value instanceof Duration)
    return Token.isUnresolved(value.toMilliseconds({ integral: false })) ? '<token>' : value.toHumanString();
  if (value === undefined) return 'nothing';
  try {
    const text = JSON.stringify(value);
    return text.length > 80 ? `${text.slice(0, 77)}...` : text;
  } catch {
    return String(value);
  }
}

/** Throws one error listing every violation, for construct props. */
export function throwIfViolations(what: string, violations: readonly RuleViolation[]): void {
  if (violations.length === 0) return;
  throw new Error(
    `Invalid ${what}:\n${violations.map((v) => `  - ${v.field}: ${v.message} (got ${renderValue(v.value)}). Fix: ${v.fix}`).join('\n')}`,
  );
}

// Rules and derived values for the constructs used on their own (WebhookIngest, QueueConsumer).

/** The consumer's default deadline margin: DEFAULTS' margin, but never more than a tenth of its timeout. */
export function defaultDeadlineMargin(timeout: Duration, margin: Duration): Duration {
  return Duration.millis(Math.min(margin.toMilliseconds(), timeout.toMilliseconds() / 10));
}

/** Settings of the ingest function and its API stage. */
export interface IngestRuleInput {
  readonly rateLimit: number;
  readonly burstLimit: number;
  readonly timeout: Duration;
  readonly memorySize: number;
}

/**
 * Rules for ingest: stage throttling, and a function timeout shorter than the API's 29-second limit.
 * `at` is how messages name a sibling field (`ingest.` in a configuration, nothing on construct props).
 */
export function ingestViolations(i: IngestRuleInput, at = ''): RuleViolation[] {
  const out: RuleViolation[] = [];
  if (known(i.rateLimit) && (i.rateLimit <= 0 || i.rateLimit > 10_000)) {
    out.push({
      field: 'rateLimit',
      message: 'requests per second must be above 0 and at most 10000 (the account limit)',
      value: i.rateLimit,
      fix: 'use e.g. 1000',
    });
  }
  if (known(i.burstLimit) && (i.burstLimit < 1 || i.burstLimit > 5000)) {
    out.push({
      field: 'burstLimit',
      message: 'the burst is between 1 and 5000 requests',
      value: i.burstLimit,
      fix: 'use e.g. 1000',
    });
  } else if (known(i.rateLimit) && known(i.burstLimit) && i.rateLimit > 0 && i.burstLimit < i.rateLimit) {
    out.push({
      field: 'burstLimit',
      message: `must be at least ${at}rateLimit (${i.rateLimit}): a bucket smaller than one second of the rate answers 429 to traffic that merely arrives unevenly within a second`,
      value: i.burstLimit,
      fix: `raise it to ${Math.ceil(i.rateLimit)} or more, or lower ${at}rateLimit`,
    });
  }
  if (known(i.timeout) && (secondsOf(i.timeout) < 1 || secondsOf(i.timeout) > 29)) {
    out.push({
      field: 'timeout',
      message: 'between 1 and 29 seconds (senders give up after 3 to 10 seconds)',
      value: i.timeout,
      fix: 'use Duration.seconds(10)',
    });
  }
  if (known(i.memorySize) && (i.memorySize < 128 || i.memorySize > 10_240)) {
    out.push({
      field: 'memorySize',
      message: 'Lambda memory is between 128 and 10240 MB',
      value: i.memorySize,
      fix: 'use e.g. 512',
    });
  }
  return out;
}
