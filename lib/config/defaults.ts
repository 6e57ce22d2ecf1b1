/**
 * Every default of the pipeline, in one place: `resolveConfig`, the constructs, the runtime wiring and local
 * mode read them here. The README's Defaults table mirrors it.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib/core';
import { MAX_INLINE_LIMIT_BYTES } from '../../lambda/shared/claim-check';
import { CONSUMER_RUNTIME_DEFAULTS as CONSUMER } from '../../lambda/shared/consumer-config';
import { DEFAULT_KEEP_HEADERS } from '../../lambda/shared/ingest-config';
import { DEFAULT_TOLERANCE_SECONDS } from '../../lambda/shared/senders/verify-kit';
import type { ResolvedCircuitBreaker, ResolvedRetry } from './resolved';
import type { CircuitBreakerConfig, RetryConfig } from './schema';

/**
 * Every default value of the configuration and the constructs, in one place (the README's Defaults table lists the
 * main ones).
 */
export const DEFAULTS = {
  stackName: 'Hookline',
  fifo: false,
  contentBasedDeduplication: false,
  highThroughput: false,
  maxReceiveCount: CONSUMER.maxReceiveCount,
  retentionPeriod: Duration.days(4),
  deadLetterRetentionPeriod: Duration.days(14),
  /** A queue nobody in the stack consumes keeps SQS's own default; a consumer's queue derives its own. */
  visibilityTimeout: Duration.seconds(30),
  /** Queues a construct creates outside the configuration hold nothing that outlives the stack. */
  queueRemovalPolicy: RemovalPolicy.DESTROY,
  oldestMessageAgeAlarm: Duration.minutes(15),
  handler: 'handler',
  consumerTimeout: Duration.seconds(CONSUMER.timeoutSeconds),
  consumerMemorySize: 512,
  /** A HooklineFunction given no timeout or memory gets a consumer's. */
  functionTimeout: Duration.seconds(30),
  functionMemorySize: 512,
  batchSize: 10,
  maxBatchingWindow: Duration.seconds(0),
  parallelism: CONSUMER.parallelism,
  retryBase: Duration.seconds(CONSUMER.retry.baseSeconds),
  retryFactor: CONSUMER.retry.factor,
  retryMax: Duration.minutes(CONSUMER.retry.maxSeconds / 60),
  deadlineMargin: Duration.seconds(CONSUMER.deadlineMarginMs / 1000),
  /** One forwarded HTTP attempt's limit: a destination slower than this is retried with backoff. */
  forwardTimeout: Duration.seconds(10),
  /** A circuit breaker given no settings trips when half of at least 20 records failed within 5 minutes. */
  circuitBreakerFailureRatio: 0.5,
  circuitBreakerMinimumRecords: 20,
  circuitBreakerWindow: Duration.minutes(5),
  /** The deadline margin is at most this share of a short consumer timeout. */
  deadlineMarginTimeoutShare: 0.1,
  /**
   * A consumer's metrics are per queue, every event type under `type` `other`: a bill its configuration bounds, not
   * the types its senders send. The dashboard and the alarms read the types summed.
   */
  metricTypes: 'none' as const,
  idempotencyEnabled: true,
  idempotencyExpiry: Duration.days(3),
  fifoGrouping: 'source' as const,
  /** A route without `source` matches every source. */
  routeSource: '*',
  /** A route without `type` matches every type (a pattern of exactly `*` is the one that does). */
  routeType: '*',
  /** Sustained webhooks/s the API accepts; ~100 concurrent ingest executions at ~100 ms each. */
  ingestRateLimit: 1000,
  /**
   * Webhooks accepted at once: the documented burst of 1,000 simultaneous deliveries (GitHub never retries a
   * refused one), and Lambda's per-function scaling step (1,000 new environments per 10 s), so a larger burst
   * is answered 429 by the API rather than 500 by a throttled function.
   */
  ingestBurstLimit: 1000,
  ingestTimeout: Duration.seconds(10),
  ingestMemorySize: 512,
  secretCache: Duration.minutes(5),
  signatureTolerance: Duration.seconds(DEFAULT_TOLERANCE_SECONDS),
  dedupeEnabled: true,
  dedupeTtl: Duration.days(3),
  inlineLimitBytes: MAX_INLINE_LIMIT_BYTES,
  payloadExpiry: Duration.days(14),
  archiveEnabled: true,
  archiveRetention: Duration.days(90),
  logRetentionDays: 30,
  removalPolicy: 'retain' as const,
  tracing: false,
  /** The generic headers, then each sender's event headers (`keptHeaders` in its module); the runtime's too. */
  keepHeaders: DEFAULT_KEEP_HEADERS,
  scheduleTimezone: 'UTC',
  /** Scheduler's maximum: a failed delivery is retried as long as Scheduler allows. */
  scheduleRetryAttempts: 185,
  /** Scheduler's maximum. */
  scheduleMaxEventAge: Duration.hours(24),
  /** The SQS maximum, for a schedule's dead-letter queue. */
  scheduleDeadLetterRetentionPeriod: Duration.days(14),
  /** A schedule's dead-letter queue holds only failed deliveries of recurring jobs. */
  scheduleDeadLetterRemovalPolicy: RemovalPolicy.DESTROY,
  /** Period of the queue-depth and message-age alarms. */
  queueAlarmPeriod: Duration.minutes(1),
  /** Minutes the oldest message must stay too old before its alarm fires. */
  oldestMessageAgeAlarmPeriods: 5,
  /** Period of the function error/throttle and API 5xx alarms. */
  functionAlarmPeriod: Duration.minutes(5),
  dashboardPeriod: Duration.minutes(1),
  /** Time range shown when the dashboard opens: the last 3 hours. */
  dashboardStart: '-PT3H',
} as const;

/** How long a queue's oldest message must stay too old before its alarm fires (its periods of one minute). */
export const OLDEST_MESSAGE_ALARM_WINDOW = Duration.seconds(
  DEFAULTS.queueAlarmPeriod.toSeconds() * DEFAULTS.oldestMessageAgeAlarmPeriods,
);

/** Sender retry windows hookline must outlast when it deduplicates: Stripe and Standard Webhooks retry ~3 days. */
export const LONGEST_SENDER_RETRY_WINDOW = Duration.days(3);

/** A consumer's backoff with every setting left out at its default: the configuration's and `QueueConsumer`'s. */
export function retryWithDefaults(retry: RetryConfig | undefined): ResolvedRetry {
  return {
    base: retry?.base ?? DEFAULTS.retryBase,
    factor: retry?.factor ?? DEFAULTS.retryFactor,
    max: retry?.max ?? DEFAULTS.retryMax,
  };
}

/** A circuit breaker with every setting left out at its default: the configuration's and `QueueConsumer`'s. */
export function circuitBreakerWithDefaults(breaker: CircuitBreakerConfig): ResolvedCircuitBreaker {
  return {
    failureRatio: breaker.failureRatio ?? DEFAULTS.circuitBreakerFailureRatio,
    minimumRecords: breaker.minimumRecords ?? DEFAULTS.circuitBreakerMinimumRecords,
    window: breaker.window ?? DEFAULTS.circuitBreakerWindow,
    ...(breaker.halfOpenAfter ? { halfOpenAfter: breaker.halfOpenAfter } : {}),
  };
}
