/**
 * What the stack (and local mode) hand a consumer function through HOOKLINE_CONSUMER_CONFIG.
 *
 * Its own module, apart from the ingest configuration: that one builds the source schema from the whole sender
 * registry, and zod/mini's checks are side effects a bundler cannot drop, so importing it would put every
 * sender into every consumer bundle.
 */
// zod/mini, imported as a namespace: the same validation as zod, and the bundler keeps only the parts used
// (`import { z }` re-exports the whole namespace, locales included: ~400 KB more in every function bundle).
import * as z from 'zod/mini';
import { MAX_VISIBILITY_SECONDS } from './job-retry';

export const CONSUMER_CONFIG_ENV = 'HOOKLINE_CONSUMER_CONFIG';

export const consumerRuntimeSchema = z.object({
  /** Consumer (queue) name from the configuration, used in logs, metrics and dead-letter attributes. */
  name: z.string().check(z.minLength(1)),
  queueUrl: z.string().check(z.minLength(1)),
  deadLetterQueueUrl: z.string().check(z.minLength(1)),
  fifo: z.boolean(),
  maxReceiveCount: z.int().check(z.positive()),
  /**
   * How long the queue keeps a message from its send (`SentTimestamp`), when known: a failed record whose retry
   * would come after that is dead-lettered at once, since SQS would delete it unseen.
   */
  retentionSeconds: z.optional(z.int().check(z.positive())),
  /** Records handled at once within one batch on a standard queue. */
  parallelism: z.int().check(z.positive()),
  retry: z.object({
    baseSeconds: z.int().check(z.nonnegative()),
    factor: z.number().check(z.minimum(1)),
    maxSeconds: z.int().check(z.positive(), z.maximum(MAX_VISIBILITY_SECONDS)),
  }),
  /** Records not yet started are handed back when less than this remains of the invocation. */
  deadlineMarginMs: z.int().check(z.nonnegative()),
  /**
   * A record starts only while more than this remains of the invocation (default: `deadlineMarginMs`): the
   * forwarding consumer's is its margin plus its request timeout, so a request is never started that the deadline
   * would cut off part way, after the destination may have taken the event.
   */
  startMarginMs: z.optional(z.int().check(z.nonnegative())),
  idempotency: z.optional(
    z.object({ tableName: z.string().check(z.minLength(1)), expirySeconds: z.int().check(z.positive()) }),
  ),
  /** At most `limit` records start per `intervalMs`, across every invocation, counted in `tableName`. */
  rateLimit: z.optional(
    z.object({
      limit: z.int().check(z.positive()),
      intervalMs: z.int().check(z.positive()),
      tableName: z.string().check(z.minLength(1)),
    }),
  ),
  /**
   * The queue has a circuit breaker: each batch also publishes the breaker's per-queue totals (`BREAKER_METRICS`,
   * dimension `service` alone), the metrics its alarm reads.
   */
  circuitBreaker: z.optional(z.boolean()),
  /**
   * The event types (`<source>.<type>`) whose metrics are written under their own `type` dimension; every other type's
   * are written under `type` `other` (`OTHER_METRIC_TYPE`), so an empty list puts every record there. Absent: each
   * type under its own (the configuration's `metricTypes: 'each'`).
   */
  metricTypes: z.optional(z.array(z.string().check(z.minLength(1)))),
  payloadBucket: z.optional(z.string().check(z.minLength(1))),
  /** The table holding job records (`job#<id>` items of the dedupe table), when the pipeline has one. */
  jobRecords: z.optional(
    z.object({
      tableName: z.string().check(z.minLength(1)),
      /** How long the dead-letter queue keeps a message: a dead-lettered job's record is kept that long. */
      deadLetterRetentionSeconds: z.optional(z.int().check(z.positive())),
    }),
  ),
  /** The event archive: jobs and scheduled events are archived here on their first receive. */
  archive: z.optional(z.object({ deliveryStream: z.string().check(z.minLength(1)) })),
});
export type ConsumerRuntimeConfig = z.infer<typeof consumerRuntimeSchema>;

/**
 * A consumer's defaults, in the runtime's units: the configuration's `DEFAULTS` (lib/config/defaults.ts) and
 * `hookline/testing`, which runs a consumer as a default queue would without a configuration, read them here.
 */
export const CONSUMER_RUNTIME_DEFAULTS = {
  maxReceiveCount: 5,
  parallelism: 10,
  retry: { baseSeconds: 10, factor: 2, maxSeconds: 900 },
  timeoutSeconds: 30,
  deadlineMarginMs: 3_000,
} as const;
