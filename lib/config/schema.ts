/**
 * What a user writes in `hookline.config.ts`: the public input types (documented here, so an editor shows each
 * field's summary and default on hover) and the zod schema that checks them. The schema is asserted at compile
 * time to accept exactly these types. Each sender's source fields live with the sender (`lib/senders/<type>.ts`).
 */
import type { Duration } from 'aws-cdk-lib';
import { Token } from 'aws-cdk-lib/core';
import { z } from 'zod';
import { sourceConfigSchema as sourceSchema } from '../senders';
import { duration, headerName, wholeDays, wholeSeconds } from '../senders/config-sender';

/**
 * A type inferred from a schema as a configuration holds it: every member readonly, nested objects and arrays too,
 * as the interfaces below are written.
 */
export type ReadonlyConfig<T> = T extends Duration
  ? T
  : T extends readonly (infer E)[]
    ? readonly ReadonlyConfig<E>[]
    : T extends object
      ? { readonly [K in keyof T]: ReadonlyConfig<T[K]> }
      : T;

/** A webhook source as written in the configuration (fields documented in `lib/senders/<type>.ts`). */
export type SourceConfig = ReadonlyConfig<z.input<typeof sourceSchema>>;

/**
 * How a FIFO queue groups messages: by source, by event type, by a path in the body (a dot path in JSON, a field's
 * name in a form body such as a Twilio callback's `From`) or by a request header.
 */
export type FifoGrouping = 'source' | 'type' | { readonly path: string } | { readonly header: string };

/**
 * Where a source's events name their tenant: a dot path into the JSON body (Stripe Connect `account`, GitHub
 * `installation.id`), a field of a form body (Twilio `AccountSid`, Slack slash command `team_id`; a repeated field
 * gives its last value) or a request header (Shopify `x-shopify-shop-domain`).
 */
export type TenantKey = { readonly path: string } | { readonly header: string };

/** A consumer's rate limit: how many records may start per interval, counted across its invocations. */
export interface RateLimitConfig {
  /** Most records started per interval, at least 1. */
  readonly limit: number;
  /** The window the limit counts in, at least 1 second (fixed windows aligned to the clock). */
  readonly interval: Duration;
}

/**
 * A consumer's circuit breaker: when at least `minimumRecords` records ended within `window` and the share that
 * failed reached `failureRatio`, the consumer is paused as `hookline pause` does (its event source mapping is
 * disabled; the messages wait in the queue). Resuming is manual (`hookline resume <queue>`) unless `halfOpenAfter`
 * is set.
 */
export interface CircuitBreakerConfig {
  /**
   * Share of the records that ended in the window which failed (retried or dead-lettered), above 0 and at most 1,
   * at or above which the breaker trips. A poison record (dead-lettered at once by a `PermanentError`) is not counted:
   * it is a bad event, not a failing dependency; nor is a copy of an event retried because another execution held its
   * idempotency key (its handler did not run).
   * @default 0.5
   */
  readonly failureRatio?: number;
  /**
   * Fewest records that must have ended in the window before the breaker may trip, a whole number from 1.
   * @default 20
   */
  readonly minimumRecords?: number;
  /**
   * How far back records are counted: whole minutes, from 1 minute to 1 day (the alarm's period).
   * @default Duration.minutes(5)
   */
  readonly window?: Duration;
  /**
   * Recover on its own: this long after a trip the consumer runs again at a probe concurrency (2 deployed, the
   * lowest an SQS event source's maximum concurrency allows; 1 locally) for one `window`. No trip in that window
   * closes the circuit (full concurrency back); a trip re-opens it, each consecutive re-open doubling the wait up
   * to 1 hour (or `halfOpenAfter`, when longer). Whole minutes from `window` to 1 day. An operator's `pause` or
   * `resume` always wins over a probe.
   * @default - no probe: the consumer stays paused until `hookline resume`
   */
  readonly halfOpenAfter?: Duration;
}

/** How a consumer retries a failed record: `base x factor^(attempt - 1)`, capped at `max`. */
export interface RetryConfig {
  /**
   * Wait before the first retry, at least 1 second (without a wait a failing record spends its receives at once).
   * @default Duration.seconds(10)
   */
  readonly base?: Duration;
  /**
   * Growth of the wait per retry, from 1 to 10.
   * @default 2
   */
  readonly factor?: number;
  /**
   * Longest wait between two retries: at most 12 hours less the queue's visibility timeout (SQS hides a message
   * at most 12 hours after its receive, and the wait is set while the record is still hidden from it).
   * @default Duration.minutes(15)
   */
  readonly max?: Duration;
}

/** Whether and how long a consumer remembers the records it has handled, so a redelivery runs once. */
export interface IdempotencyConfig {
  /**
   * Whether records are deduplicated by envelope id.
   * @default true
   */
  readonly enabled?: boolean;
  /**
   * How long a handled record is remembered; at least a minute, and at least the queue's visibility timeout (a record
   * whose invocation died after its handler returned comes back after it).
   * @default Duration.days(3)
   */
  readonly expiry?: Duration;
}

/**
 * A built-in consumer that posts each event to an HTTP endpoint you already run, signed as Standard Webhooks, with
 * the queue's retries (honouring `Retry-After`) and its dead-letter queue.
 */
export interface ForwardConfig {
  /** The destination, `https://` on a public host, e.g. `https://app.example.com/webhooks/hookline`. */
  readonly url: string;
  /**
   * Where local mode posts instead, which may be a loopback `http://` URL, e.g. `http://localhost:3000/webhooks`.
   * @default - `url`
   */
  readonly localUrl?: string;
  /**
   * One HTTP attempt's limit: aborted after it and retried. It must leave the consumer's `deadlineMargin` within its
   * `timeout`.
   * @default Duration.seconds(10)
   */
  readonly timeout?: Duration;
  /**
   * The Standard Webhooks signing secret (`whsec_...`) the destination verifies with, as an existing Secrets Manager
   * secret.
   * @default - a secret the stack generates, retained on deletion as `removalPolicy` says
   */
  readonly secret?: { readonly existingSecretName: string };
}

/** A consumer (a Lambda function reading the queue) as written in the configuration. */
export interface ConsumerConfig {
  /**
   * Path of the handler file relative to the project root, e.g. `lambda/consumers/events.ts`. Exactly one of
   * `entry` and `forward`.
   * @default - none: `forward` is set instead
   */
  readonly entry?: string;
  /**
   * Forward each event to an HTTP endpoint instead of running a handler of yours. Exactly one of `entry` and
   * `forward`.
   * @default - none: `entry` is set instead
   */
  readonly forward?: ForwardConfig;
  /**
   * Name of the exported handler function in `entry`.
   * @default 'handler'
   */
  readonly handler?: string;
  /**
   * Lambda timeout, from 1 second to 15 minutes; the queue's visibility timeout must cover 6 times it and the
   * batching window.
   * @default Duration.seconds(30)
   */
  readonly timeout?: Duration;
  /**
   * Lambda memory in MB, from 128 to 10240.
   * @default 512
   */
  readonly memorySize?: number;
  /**
   * Records per invocation: at most 10 on a FIFO queue, 10000 on a standard one (above 10 needs a batching window).
   * @default 10
   */
  readonly batchSize?: number;
  /**
   * How long the event source mapping gathers a batch, up to 5 minutes (none on FIFO queues); 0 is no window, the
   * function invoked as soon as records arrive.
   * @default Duration.seconds(0)
   */
  readonly maxBatchingWindow?: Duration;
  /**
   * Most concurrent invocations the event source mapping starts, from 2 to 1000.
   * @default - no limit
   */
  readonly maxConcurrency?: number;
  /**
   * Provisioned mode: event pollers Lambda keeps ready, from 2 to 200 (excludes `maxConcurrency`).
   * @default - on-demand scaling (no provisioned pollers)
   */
  readonly minimumPollers?: number;
  /**
   * Provisioned mode: most event pollers, from 2 to 2000 (excludes `maxConcurrency`).
   * @default - on-demand scaling; 200 when only `minimumPollers` is set
   */
  readonly maximumPollers?: number;
  /**
   * Concurrent executions reserved for the function, which are also the most it may run; `maxConcurrency` must
   * not exceed it, and below 1,000 it is required with it: an SQS event source does not limit itself to the
   * reserved concurrency, and its throttled batches count towards `maxReceiveCount`. With provisioned pollers it
   * must hold 10 invocations per poller (`maximumPollers` x 10, 2000 when that is unset).
   * @default - none reserved (the account's unreserved pool)
   */
  readonly reservedConcurrency?: number;
  /**
   * Records of one batch handled at once, from 1 to 1000 (FIFO groups stay in order).
   * @default 10
   */
  readonly parallelism?: number;
  /**
   * Backoff between retries of a failed record.
   * @default - { base: Duration.seconds(10), factor: 2, max: Duration.minutes(15) }
   */
  readonly retry?: RetryConfig;
  /**
   * Time kept back before the Lambda deadline to return unfinished records for a retry: at least 100 ms, and shorter
   * than `timeout`.
   * @default Duration.seconds(3), or a tenth of a shorter timeout
   */
  readonly deadlineMargin?: Duration;
  /**
   * Deduplication of redelivered records.
   * @default - enabled, records remembered 3 days
   */
  readonly idempotency?: IdempotencyConfig;
  /**
   * At most `limit` records started per `interval`, across every concurrent invocation (BullMQ's `limiter`).
   * Records wait for a slot inside their invocation; requires `maxConcurrency`.
   * @default - no rate limit
   */
  readonly rateLimit?: RateLimitConfig;
  /**
   * Pauses the consumer when most of its records fail (a dependency is down), rather than letting every record
   * burn its attempts into the dead-letter queue. `{}` turns it on with the defaults.
   * @default - no circuit breaker
   */
  readonly circuitBreaker?: CircuitBreakerConfig;
  /**
   * Which event types get their own metrics. The consumer writes its per-batch counts (`Processed`, `Failed`,
   * `Retried`, `DeadLettered`...) and `EndToEndLatency` under `service` (the queue) and `type`, and CloudWatch bills
   * each `type` value as further custom metrics ($0.30 a month each, up to 10 a type): `'each'` writes every type
   * under its own (`github.push`), so the senders' types set the bill; a list of types (`<source>.<type>`, as
   * `['shopify.orders/create', 'job.email.welcome']`) writes those under their own and every other type under
   * `other`; `'none'` writes every record under `other`, one set of metrics per queue. The dashboard and the alarms
   * read every type summed, so they show the same whichever you choose; the `record outcome` log line keeps each
   * record's full type.
   * @default 'none'
   */
  readonly metricTypes?: 'each' | 'none' | readonly string[];
  /**
   * Extra environment variables of the function: names Lambda accepts (a letter, then letters, digits and `_`),
   * none it sets itself (`AWS_REGION`, `_HANDLER`...) and none hookline sets (`POWERTOOLS_SERVICE_NAME`,
   * `POWERTOOLS_METRICS_NAMESPACE`, `HOOKLINE_CONSUMER_CONFIG`, `HOOKLINE_FORWARD_CONFIG`).
   * @default {}
   */
  readonly environment?: Readonly<Record<string, string>>;
}

/** A queue (and its optional consumer) as written in the configuration. */
export interface QueueConfig {
  /**
   * A FIFO queue (ordered per message group, exactly-once within the deduplication window).
   * @default false
   */
  readonly fifo?: boolean;
  /**
   * FIFO deduplication by body hash; FIFO queues only. Everything hookline sends (webhooks, jobs, replays,
   * redrives, dead letters) carries its own deduplication id, which SQS uses instead, so this applies only to
   * messages your own code sends to the queue without one.
   * @default false
   */
  readonly contentBasedDeduplication?: boolean;
  /**
   * SQS high throughput mode for a FIFO queue: its throughput quota applies per message group rather than to the
   * queue (300 calls a second per API action otherwise, beyond which SQS throttles the ingest's sends and the
   * consumer's deletes), and deduplication is per message group, as hookline's deduplication ids already are.
   * FIFO queues only.
   * @default false
   */
  readonly highThroughput?: boolean;
  /**
   * How messages are grouped for ordering; FIFO queues only.
   * @default 'source'
   */
  readonly fifoGrouping?: FifoGrouping;
  /**
   * Standard queues only: tenant fairness. Each listed source's tenant (per event) becomes the SQS message group
   * id, so SQS fair queues serve quiet tenants first while one tenant has a backlog; a source not listed, or an
   * event without the value, is one tenant named after its source. Adds alarms on the quiet tenants' backlog age.
   * @default - no fairness (messages are served in arrival order)
   */
  readonly tenants?: Readonly<Record<string, TenantKey>>;
  /**
   * Receives before a message moves to the dead-letter queue, from 1 to 1000.
   * @default 5
   */
  readonly maxReceiveCount?: number;
  /**
   * How long the queue keeps a message, from 1 minute to 14 days. With a consumer, longer than the shortest waits of
   * a failing record's retries (each half its backoff): a record whose retry would come after it is dead-lettered
   * with `RetentionEndsError`, so a shorter one cuts every failing record short of `maxReceiveCount`.
   * @default Duration.days(4)
   */
  readonly retentionPeriod?: Duration;
  /**
   * How long the dead-letter queue keeps a message; longer than `retentionPeriod`.
   * @default Duration.days(14)
   */
  readonly deadLetterRetentionPeriod?: Duration;
  /**
   * Visibility timeout; at least 6 x the consumer timeout + the batching window (1 second without a consumer), at
   * most 12 hours.
   * @default 6 x the consumer timeout + the batching window (Duration.seconds(30) without a consumer)
   */
  readonly visibilityTimeout?: Duration;
  /**
   * Age of the oldest message above which this queue's alarm fires, at least 1 minute; with the alarm's 5 minutes,
   * below the queue's `retentionPeriod`, after which SQS deletes the message.
   * @default alarms.oldestMessageAge
   */
  readonly oldestMessageAgeAlarm?: Duration;
  /**
   * The Lambda function that reads the queue.
   * @default - no consumer (something outside the stack reads the queue)
   */
  readonly consumer?: ConsumerConfig;
}

/** A routing rule as written in the configuration; the first matching rule wins. */
export interface RouteConfig {
  /**
   * Source name the rule matches, or `'*'` for any.
   * @default '*'
   */
  readonly source?: string;
  /**
   * Event type pattern: an exact type, `*` for one dot-separated segment, `**` for anything; a pattern that is
   * exactly `*` matches every type.
   * @default '*' (every type)
   */
  readonly type?: string;
  /**
   * Queues that receive the matching events (required unless `ignore`).
   * @default []
   */
  readonly queues?: readonly string[];
  /**
   * Accept and drop the matching events.
   * @default false
   */
  readonly ignore?: boolean;
}

/** A scheduled job as written in the configuration. */
export interface ScheduleConfig {
  /** Unique name: lower-case letters, digits and dashes. */
  readonly name: string;
  /** `rate(5 minutes)`, `cron(0 9 * * ? *)` or `at(2030-01-31T09:00:00)` (EventBridge Scheduler syntax). */
  readonly expression: string;
  /**
   * IANA time zone in which cron and at expressions are evaluated.
   * @default 'UTC'
   */
  readonly timezone?: string;
  /** Standard (not FIFO) queue the job's envelope is sent to. */
  readonly queue: string;
  /** Event type of the job's envelope, written like a job type: dot-separated segments of letters, digits, `-`, `_` (`report.nightly`). */
  readonly type: string;
  /**
   * JSON body of the job's envelope.
   * @default {}
   */
  readonly payload?: unknown;
}

/** Where an event no route matches goes. */
export type DefaultRouteConfig = 'ignore' | { readonly queues: readonly string[] };

/** The ingest function and its API. */
export interface IngestConfig {
  /**
   * Sustained requests per second the API accepts, above 0 and at most `burstLimit` (so at most 5000).
   * @default 1000
   */
  readonly rateLimit?: number;
  /**
   * Requests accepted at once, from `rateLimit` to 5000.
   * @default 1000
   */
  readonly burstLimit?: number;
  /**
   * Lambda timeout of the ingest function, from 1 to 29 seconds.
   * @default Duration.seconds(10)
   */
  readonly timeout?: Duration;
  /**
   * Lambda memory of the ingest function in MB, from 128 to 10240.
   * @default 512
   */
  readonly memorySize?: number;
  /**
   * Request headers kept in the envelope (case-insensitive). The header a `fifoGrouping` or `tenants` rule reads
   * is kept as well, so `hookline replay` sends an event back to its group. A credential header is never kept, and
   * listing one is a configuration error: `authorization`, `cookie`, `proxy-authorization`, `x-api-key`, every
   * signature header and every `hmac` or `token` source's own `header`.
   * @default - content-type, user-agent and each sender's event headers
   */
  readonly keepHeaders?: readonly string[];
  /**
   * How long the ingest function caches a signing secret (the jobs endpoint its tokens, a forwarding consumer its
   * signing secret), from 1 second to 1 hour: a replaced secret stays in use that long.
   * @default Duration.minutes(5)
   */
  readonly secretCache?: Duration;
}

/** Deduplication of webhook deliveries by the sender's delivery id. */
export interface DedupeConfig {
  /**
   * Whether repeated deliveries are dropped at ingest.
   * @default true
   */
  readonly enabled?: boolean;
  /**
   * How long a delivery id is remembered; at least 3 days, the longest sender retry window.
   * @default Duration.days(3)
   */
  readonly ttl?: Duration;
}

/** Large bodies, kept in S3 and passed by reference (claim check). */
export interface PayloadsConfig {
  /**
   * Largest envelope sent inline, from 1024 to 1032192 bytes (the SQS limit less 16 KiB, room for the reason a
   * consumer adds to a message it dead-letters); a larger body goes to S3.
   * @default 1032192 (the most)
   */
  readonly inlineLimitBytes?: number;
  /**
   * How long a stored body is kept; at least the longest a message can live: its queue's retention, then the
   * dead-letter retention of the copy a consumer sends to the DLQ (a new message, whose retention starts then).
   * @default - that longest lifetime in whole days, at least 14 (18 days with the default retentions)
   */
  readonly expiry?: Duration;
}

/** The event archive: every accepted event kept in S3 for replay. */
export interface ArchiveConfig {
  /**
   * Whether every accepted event (and every scheduled job) is archived.
   * @default true
   */
  readonly enabled?: boolean;
  /**
   * How long archived events are kept (the archive bucket's lifecycle expiry), at least one day.
   * @default Duration.days(90)
   */
  readonly retention?: Duration;
}

/** Jobs from application code. */
export interface JobsConfig {
  /**
   * The jobs endpoint, `POST /jobs/{queue}` on the pipeline's HTTP API, so any language can enqueue jobs with a
   * bearer token kept in a Secrets Manager secret the stack creates (and keeps on deletion).
   * @default - no jobs endpoint
   */
  readonly endpoint?: JobsEndpointConfig;
}

/** The jobs endpoint. */
export interface JobsEndpointConfig {
  /**
   * The configured queues it may send to; any other queue is answered 404. Each adds its queue's name (and, with
   * delays, its scheduler role's name) to the function's environment, which Lambda caps at 4 KB: synth refuses an
   * endpoint that could outgrow it (about 17 to 21 queues with delays, each name counted at its longest).
   */
  readonly queues: readonly string[];
  /**
   * Allow delays beyond SQS's 15 minutes (one-time EventBridge Scheduler schedules).
   * @default true
   */
  readonly delays?: boolean;
}

/** Alarm notifications. */
export interface AlarmsConfig {
  /**
   * Email address subscribed to a new alarm topic.
   * @default - no subscription
   */
  readonly email?: string;
  /**
   * ARN of an existing SNS topic for the alarms instead of a new one, in the stack's region (CloudWatch alarms
   * notify only a topic of their own region; synth refuses another region when the stack's is known). Its access
   * policy must allow `cloudwatch.amazonaws.com` to `sns:Publish` (a new topic gets that grant; an existing one
   * cannot be changed from this stack), or every alarm notification is refused.
   * @default - a new topic
   */
  readonly existingTopicArn?: string;
  /**
   * Age of a queue's oldest message above which its alarm fires, at least 1 minute (per queue:
   * `oldestMessageAgeAlarm`).
   * @default Duration.minutes(15)
   */
  readonly oldestMessageAge?: Duration;
}

/** The whole configuration as written by a user. */
export interface HooklineConfig {
  /**
   * CloudFormation stack name.
   * @default 'Hookline'
   */
  readonly stackName?: string;
  /** Webhook sources by name (`POST /webhooks/<name>`); at least one. */
  readonly sources: Readonly<Record<string, SourceConfig>>;
  /** Queues by name; at least one. */
  readonly queues: Readonly<Record<string, QueueConfig>>;
  /**
   * Routing rules, first match wins.
   * @default []
   */
  readonly routes?: readonly RouteConfig[];
  /**
   * Where unrouted events go: queues, or `'ignore'` to drop them.
   * @default - the first queue
   */
  readonly defaultRoute?: DefaultRouteConfig;
  /**
   * The ingest function and API.
   * @default - every field's default
   */
  readonly ingest?: IngestConfig;
  /**
   * Deduplication of deliveries.
   * @default - enabled for 3 days
   */
  readonly dedupe?: DedupeConfig;
  /**
   * Large-body handling.
   * @default - every field's default
   */
  readonly payloads?: PayloadsConfig;
  /**
   * The event archive (S3, through a Firehose delivery stream) that `hookline replay` reads.
   * @default - enabled, kept 90 days
   */
  readonly archive?: ArchiveConfig;
  /**
   * Alarm notifications.
   * @default - a new topic without subscription
   */
  readonly alarms?: AlarmsConfig;
  /**
   * CloudWatch Logs retention of every function, in days (one of the values CloudWatch accepts).
   * @default 30
   */
  readonly logRetentionDays?: number;
  /**
   * What deleting the stack (or replacing the resource) does to the data it holds: the signing secrets it
   * created, the jobs endpoint's token secret and the dedupe and idempotency tables. `'retain'` keeps them (delete them by hand once sure);
   * `'destroy'` deletes them with the stack, for throwaway stacks. The claim-check and archive buckets are always
   * kept: CloudFormation deletes only an empty bucket, so deleting the stack would fail.
   * @default 'retain'
   */
  readonly removalPolicy?: 'retain' | 'destroy';
  /**
   * Active X-Ray tracing on the ingest, consumer and jobs endpoint functions (HTTP APIs do not support X-Ray themselves).
   * @default false
   */
  readonly tracing?: boolean;
  /**
   * Scheduled jobs.
   * @default []
   */
  readonly schedules?: readonly ScheduleConfig[];
  /**
   * Jobs from application code (the HTTP jobs endpoint).
   * @default - no jobs endpoint
   */
  readonly jobs?: JobsConfig;
}

/**
 * What deleting the stack does to the data it holds: the configuration's `removalPolicy` options, and the removal
 * policies the constructs take (the values of CDK's `RemovalPolicy.RETAIN` and `RemovalPolicy.DESTROY`). Snapshot
 * applies only to resources that keep snapshots (databases, volumes), none of which hookline creates.
 */
export const REMOVAL_POLICIES = ['retain', 'destroy'] as const;

/**
 * The retention periods CloudWatch Logs accepts, in days (`AWS::Logs::LogGroup`): the configuration's
 * `logRetentionDays`, and a construct's `logRetention` (which may also be `RetentionDays.INFINITE`).
 */
export const LOG_RETENTION_DAYS: readonly number[] = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];

/**
 * A count or size: a whole number. Its range is its field's own rule, which says the range; zod's `int()` would
 * first refuse a number past 2^53 with its own bound instead.
 */
export const wholeNumber = z.number().refine(Number.isInteger, { params: { expects: 'whole number' } });

const tenantKey = z.union([
  z.object({ path: z.string().min(1) }).strict(),
  z.object({ header: headerName }).strict(),
]);

const fifoGrouping = z.union([z.literal('source'), z.literal('type'), tenantKey]);

const rateLimitSchema = z.object({ limit: z.number(), interval: duration }).strict();

const circuitBreakerSchema = z
  .object({
    failureRatio: z.number().optional(),
    minimumRecords: z.number().optional(),
    window: duration.optional(),
    halfOpenAfter: duration.optional(),
  })
  .strict();

const retrySchema = z
  .object({ base: wholeSeconds.optional(), factor: z.number().optional(), max: wholeSeconds.optional() })
  .strict();

const idempotencySchema = z
  .object({ enabled: z.boolean().optional(), expiry: wholeSeconds.optional() })
  .strict();

const dedupeSchema = z.object({ enabled: z.boolean().optional(), ttl: wholeSeconds.optional() }).strict();

const payloadsSchema = z
  .object({ inlineLimitBytes: wholeNumber.optional(), expiry: wholeSeconds.optional() })
  .strict();

const archiveSchema = z.object({ enabled: z.boolean().optional(), retention: wholeDays.optional() }).strict();

const jobsEndpointSchema = z.object({ queues: z.array(z.string()), delays: z.boolean().optional() }).strict();
const jobsSchema = z.object({ endpoint: jobsEndpointSchema.optional() }).strict();

const forwardSchema = z
  .object({
    url: z.string().min(1),
    localUrl: z.string().min(1).optional(),
    timeout: duration.optional(),
    secret: z
      // Its rules (an empty name too) are checkExistingSecretName's, which shows the name: it is no secret.
      .object({ existingSecretName: z.string() })
      .strict()
      .optional(),
  })
  .strict();

const consumerSchema = z
  .object({
    entry: z.string().min(1).optional(),
    forward: forwardSchema.optional(),
    handler: z.string().min(1).optional(),
    timeout: wholeSeconds.optional(),
    memorySize: wholeNumber.optional(),
    batchSize: wholeNumber.optional(),
    maxBatchingWindow: wholeSeconds.optional(),
    maxConcurrency: wholeNumber.optional(),
    minimumPollers: wholeNumber.optional(),
    maximumPollers: wholeNumber.optional(),
    reservedConcurrency: wholeNumber.optional(),
    parallelism: wholeNumber.optional(),
    retry: retrySchema.optional(),
    deadlineMargin: duration.optional(),
    idempotency: idempotencySchema.optional(),
    rateLimit: rateLimitSchema.optional(),
    circuitBreaker: circuitBreakerSchema.optional(),
    // Its rules (a `<source>.<type>`, no pattern, no repeat) are metricTypesViolations', which show the list.
    metricTypes: z.union([z.literal('each'), z.literal('none'), z.array(z.string())]).optional(),
    environment: z.record(z.string(), z.string()).optional(),
  })
  .strict();

/** A consumer's own settings: one written on its queue instead is pointed to its place. */
export const CONSUMER_SETTING_KEYS: ReadonlySet<string> = new Set(Object.keys(consumerSchema.shape));

/** A consumer's circuit breaker's settings: written on the consumer or its queue, the problem says where they go. */
export const BREAKER_SETTING_KEYS: ReadonlySet<string> = new Set(Object.keys(circuitBreakerSchema.shape));

const queueSchema = z
  .object({
    fifo: z.boolean().optional(),
    contentBasedDeduplication: z.boolean().optional(),
    highThroughput: z.boolean().optional(),
    fifoGrouping: fifoGrouping.optional(),
    tenants: z.record(z.string(), tenantKey).optional(),
    maxReceiveCount: wholeNumber.optional(),
    retentionPeriod: wholeSeconds.optional(),
    deadLetterRetentionPeriod: wholeSeconds.optional(),
    visibilityTimeout: wholeSeconds.optional(),
    oldestMessageAgeAlarm: wholeSeconds.optional(),
    consumer: consumerSchema.optional(),
  })
  .strict();

const routeSchema = z
  .object({
    source: z.string().min(1).optional(),
    type: z.string().min(1).optional(),
    queues: z.array(z.string().min(1)).optional(),
    ignore: z.boolean().optional(),
  })
  .strict();

const scheduleSchema = z
  .object({
    name: z.string().min(1),
    expression: z.string().min(1),
    timezone: z.string().min(1).optional(),
    queue: z.string().min(1),
    type: z.string().min(1),
    payload: z.unknown().optional(),
  })
  .strict();

const ingestSchema = z
  .object({
    rateLimit: z.number().optional(),
    burstLimit: wholeNumber.optional(),
    timeout: wholeSeconds.optional(),
    memorySize: wholeNumber.optional(),
    keepHeaders: z.array(headerName).optional(),
    secretCache: wholeSeconds.optional(),
  })
  .strict();

const alarmsSchema = z
  .object({
    // A token (an address known only at deploy) is taken as it is.
    email: z
      .string()
      .refine((email) => Token.isUnresolved(email) || z.email().safeParse(email).success, {
        message: 'is not an email address',
        params: { fix: 'use the address that should receive the alarms, e.g. "ops@example.com"' },
      })
      .optional(),
    existingTopicArn: z.string().min(1).optional(),
    oldestMessageAge: wholeSeconds.optional(),
  })
  .strict();

/** The schema of {@link HooklineConfig}; unknown keys are reported (strict). */
export const configSchema = z
  .object({
    stackName: z.string().min(1).optional(),
    sources: z.record(z.string(), sourceSchema),
    queues: z.record(z.string(), queueSchema),
    routes: z.array(routeSchema).optional(),
    defaultRoute: z
      .union([z.literal('ignore'), z.object({ queues: z.array(z.string().min(1)) }).strict()])
      .optional(),
    ingest: ingestSchema.optional(),
    dedupe: dedupeSchema.optional(),
    payloads: payloadsSchema.optional(),
    archive: archiveSchema.optional(),
    alarms: alarmsSchema.optional(),
    logRetentionDays: wholeNumber.optional(),
    removalPolicy: z.enum(REMOVAL_POLICIES).optional(),
    tracing: z.boolean().optional(),
    schedules: z.array(scheduleSchema).optional(),
    jobs: jobsSchema.optional(),
  })
  .strict();

/** The configuration after the shape check. */
export type ParsedConfig = z.output<typeof configSchema>;
/** A source after the shape check. */
export type ParsedSource = z.output<typeof sourceSchema>;
/** A queue after the shape check. */
export type ParsedQueue = z.output<typeof queueSchema>;
/** A consumer after the shape check. */
export type ParsedConsumer = z.output<typeof consumerSchema>;

/** True when A and B are assignable to each other. */
type MutuallyAssignable<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
/** True when A and B are mutually assignable and name the same fields (an optional field is otherwise missed). */
type Same<A, B> = MutuallyAssignable<A, B> extends true ? MutuallyAssignable<keyof A, keyof B> : false;

// The documented interfaces and the schema describe the same input (as a configuration takes it, readonly): a
// field added to one and not the other fails to compile here.
const schemaMatchesTypes: [
  Same<ReadonlyConfig<z.input<typeof configSchema>>, HooklineConfig>,
  Same<ReadonlyConfig<z.input<typeof queueSchema>>, QueueConfig>,
  Same<ReadonlyConfig<z.input<typeof consumerSchema>>, ConsumerConfig>,
  Same<ReadonlyConfig<z.input<typeof forwardSchema>>, ForwardConfig>,
  Same<ReadonlyConfig<z.input<typeof retrySchema>>, RetryConfig>,
  Same<ReadonlyConfig<z.input<typeof rateLimitSchema>>, RateLimitConfig>,
  Same<ReadonlyConfig<z.input<typeof circuitBreakerSchema>>, CircuitBreakerConfig>,
  Same<ReadonlyConfig<z.input<typeof idempotencySchema>>, IdempotencyConfig>,
  Same<ReadonlyConfig<z.input<typeof routeSchema>>, RouteConfig>,
  Same<ReadonlyConfig<z.input<typeof scheduleSchema>>, ScheduleConfig>,
  Same<ReadonlyConfig<z.input<typeof ingestSchema>>, IngestConfig>,
  Same<ReadonlyConfig<z.input<typeof dedupeSchema>>, DedupeConfig>,
  Same<ReadonlyConfig<z.input<typeof payloadsSchema>>, PayloadsConfig>,
  Same<ReadonlyConfig<z.input<typeof alarmsSchema>>, AlarmsConfig>,
  Same<ReadonlyConfig<z.input<typeof archiveSchema>>, ArchiveConfig>,
  Same<ReadonlyConfig<z.input<typeof jobsSchema>>, JobsConfig>,
  Same<ReadonlyConfig<z.input<typeof jobsEndpointSchema>>, JobsEndpointConfig>,
] = [true, true, true, true, true, true, true, true, true, true, true, true, true, true, true, true, true];
void schemaMatchesTypes;
