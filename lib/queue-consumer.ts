import { Duration, Stack, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { SqsEventSource, type SqsEventSourceProps } from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { TypeMetrics } from '../lambda/consumer/core';
import type { MappingScaling } from '../lambda/shared/circuit-breaker';
import {
  HELD_RECEIVES_KEY_PREFIX,
  JOB_RECORD_KEY_PREFIX,
  METRIC_DIMENSIONS,
} from '../lambda/shared/contracts';
import { FORWARD_CONFIG_ENV, type ForwardRuntimeConfig } from '../lambda/shared/forward-config';
import { idempotencyKeyPattern, rateLimitKeyPattern } from '../lambda/shared/idempotency-key';
import { CONSUMER_CONFIG_ENV } from '../lambda/shared/runtime-config';
import {
  type CircuitBreakerConfig,
  type ConsumerConfig,
  DEFAULTS,
  type ForwardConfig,
  type RateLimitConfig,
  type RetryConfig,
} from './config';
import { circuitBreakerWithDefaults, retryWithDefaults } from './config/defaults';
import { propShapeViolations, propsWithout } from './config/parse-shape';
import { forwardTimeoutViolations, forwardUrlViolations } from './config/resolve-forward';
import { isTokenProp, propTokenViolations } from './config/tokens';
import type { EventArchive } from './event-archive';
import {
  grantItemAccessByKey,
  grantPayloadObjects,
  grantSecretValue,
  grantSendMessage,
  IDEMPOTENCY_ITEM_ACTIONS,
  JOB_RECORD_ACTIONS,
} from './grants';
import {
  HooklineFunction,
  type HooklineFunctionProps,
  LOG_RETENTION_PROP,
  TRACING_PROP,
} from './hookline-function';
import { type ConsumerSettings, consumerRuntimeConfig } from './runtime-wiring';
import {
  circuitBreakerViolations,
  consumerQueueVisibilityViolations,
  consumerReceiveCountViolations,
  consumerViolations,
  deadlineMarginViolations,
  defaultDeadlineMargin,
  idempotencyExpiryViolations,
  metricTypesViolations,
  parallelismViolations,
  type RetryScheduleRuleInput,
  rateLimitViolations,
  retentionViolations,
  retryScheduleViolations,
  retryViolations,
  secretCacheViolations,
  throwIfViolations,
} from './validation';
import { type Violation, violation } from './violations';

/**
 * How a consumer backs off a record that failed: the configuration's `consumer.retry` ({@link RetryConfig}), with its
 * ranges and defaults, a setting left out taking its default.
 */
export type ConsumerRetry = RetryConfig;

/** At most `limit` records started per `interval`: the configuration's `consumer.rateLimit` ({@link RateLimitConfig}). */
export type ConsumerRateLimit = RateLimitConfig;

/**
 * A consumer's circuit breaker settings: the configuration's `consumer.circuitBreaker` ({@link CircuitBreakerConfig}),
 * with its ranges and defaults, but for `halfOpenAfter` (the alarm and its probe are `ConsumerCircuitBreakers`').
 */
export type ConsumerCircuitBreaker = Omit<CircuitBreakerConfig, 'halfOpenAfter'>;

/**
 * The consumer's function, event source and retry settings, written once: the configuration's own (`ConsumerConfig`),
 * with their ranges and defaults, which the construct checks with the same rules.
 */
type ConsumerFunctionProps = Pick<
  ConsumerConfig,
  | 'timeout'
  | 'memorySize'
  | 'batchSize'
  | 'maxBatchingWindow'
  | 'maxConcurrency'
  | 'minimumPollers'
  | 'maximumPollers'
  | 'reservedConcurrency'
  | 'parallelism'
  | 'deadlineMargin'
  | 'retry'
  | 'rateLimit'
  | 'metricTypes'
>;

/**
 * Properties for a {@link QueueConsumer}. The function's `entry` (required), `handler`, `environment`,
 * `projectRoot`, `logRetention` and `tracing` are those of {@link HooklineFunctionProps}, with the same defaults;
 * its `timeout`, `memorySize`, `batchSize`, `maxBatchingWindow`, `maxConcurrency`, `minimumPollers`,
 * `maximumPollers`, `reservedConcurrency`, `parallelism`, `deadlineMargin`, `retry`, `rateLimit` and `metricTypes` are a configured
 * consumer's (`ConsumerConfig`), with the same ranges and defaults; a `rateLimit` also needs `rateLimitTable`.
 */
export interface QueueConsumerProps
  extends Pick<
      HooklineFunctionProps,
      'entry' | 'projectRoot' | 'handler' | 'environment' | 'logRetention' | 'tracing'
    >,
    ConsumerFunctionProps {
  /**
   * The queue to consume. A FIFO queue gets a FIFO consumer.
   */
  readonly queue: sqs.IQueue;

  /**
   * The queue's dead-letter queue: the consumer sends permanent failures there itself, with the reason. With a
   * queue created in the app, it must be that queue's redrive target.
   */
  readonly deadLetterQueue: sqs.IQueue;

  /**
   * The queue's name in the pipeline: the function's service name and its prefix in a shared idempotency table.
   */
  readonly name: string;

  /**
   * The queue's redrive count, so the consumer knows a record's last attempt (`PipelineQueue.maxReceiveCount`).
   * Given with a queue whose redrive policy this construct can read (a CDK `sqs.Queue` with a dead-letter queue,
   * as `PipelineQueue.queue` is), it must equal that policy's.
   *
   * @default - the queue's own redrive count when it can be read, else DEFAULTS.maxReceiveCount (5)
   */
  readonly maxReceiveCount?: number;

  /**
   * How long the dead-letter queue keeps a message (`PipelineQueue`'s `deadLetterRetentionPeriod`): a job the
   * consumer dead-letters keeps its record at least that long, so `hookline jobs show` finds it while
   * `hookline failed list` does.
   *
   * @default DEFAULTS.deadLetterRetentionPeriod (14 days, the longest SQS keeps a message)
   */
  readonly deadLetterRetentionPeriod?: Duration;
  /**
   * How long the queue keeps a message from its send (`PipelineQueue`'s `retentionPeriod`): a failed record whose
   * retry would come after that is dead-lettered at once with `RetentionEndsError`, since SQS would delete it
   * unseen. Refused when even the shortest waits of a failing record's retries (each half its backoff) add up to it.
   *
   * @default - not known: a retry is never weighed against the retention
   */
  readonly retentionPeriod?: Duration;

  /**
   * Table for per-record idempotency, keyed by the sender's delivery id. The table may be shared: this
   * consumer may only touch items whose key starts with its own prefix.
   *
   * @default - no idempotency
   */
  readonly idempotencyTable?: dynamodb.ITable;

  /**
   * How long an idempotency record lives. Only used with `idempotencyTable`. At least a minute, and at least the
   * queue's visibility timeout where synth can read it (a record whose invocation died after its handler returned
   * comes back after it, and must find its key still done).
   *
   * @default DEFAULTS.idempotencyExpiry (3 days)
   */
  readonly idempotencyExpiry?: Duration;

  /**
   * The consumer has a circuit breaker (`ConsumerCircuitBreakers`): it also publishes, per batch, the records that
   * ended and failed under its `service` dimension alone, the totals the breaker alarm reads. `{}` takes the
   * configuration's defaults, which the breaker's alarm should be given too.
   *
   * @default - no circuit breaker totals
   */
  readonly circuitBreaker?: ConsumerCircuitBreaker;

  /**
   * The table counting the rate limit's windows (partition key `id`, TTL attribute `expiration`, as the
   * idempotency table, which it may be): the consumer may only update its own `<name>#rate-limit#*` items.
   *
   * @default - none; required with `rateLimit`
   */
  readonly rateLimitTable?: dynamodb.ITable;

  /**
   * The dedupe table holding job records: the consumer records each job's start, result and dead-letter reason
   * there, and may touch only `job#*` items.
   *
   * @default - no job records
   */
  readonly jobRecordTable?: dynamodb.ITable;

  /**
   * Bucket holding bodies too large for SQS (claim checks), read before the handler runs.
   *
   * @default - claim-checked envelopes cannot be resolved
   */
  readonly payloadBucket?: s3.IBucket;

  /**
   * The event archive: the consumer archives jobs and scheduled events (which reach the queue without the
   * ingest function) on their first receive, and may only put records to its delivery stream.
   *
   * @default - nothing archived by the consumer
   */
  readonly archive?: EventArchive;

  /**
   * Forward each event to an HTTP endpoint (`consumer.forward`): the function then runs hookline's forwarding
   * consumer (give `entry` as `forwardEntry()` and `projectRoot` as hookline's package root), posts to `url` and
   * signs with `secret`, which it may read and nothing else of Secrets Manager.
   *
   * @default - the function runs `entry`'s handler
   */
  readonly forward?: ConsumerForward;
}

/**
 * A forwarding consumer's destination and signing secret: its `url` and `timeout` are the configuration's
 * `consumer.forward` ({@link ForwardConfig}), with the same rules and default.
 */
export interface ConsumerForward extends Pick<ForwardConfig, 'url' | 'timeout'> {
  /** The Standard Webhooks signing secret (`whsec_...`, or the bare base64 key a generated secret holds). */
  readonly secret: secretsmanager.ISecret;
  /**
   * How long the function uses a loaded secret before reading it again, from 1 second to 1 hour (the pipeline gives
   * `ingest.secretCache`).
   *
   * @default DEFAULTS.secretCache (5 minutes)
   */
  readonly secretCache?: Duration;
}

/** The function and event source settings of a consumer, defaults filled. */
interface ConsumerFunctionSettings {
  readonly fifo: boolean;
  readonly timeout: Duration;
  readonly memorySize: number;
  readonly batchSize: number;
  readonly maxBatchingWindow: Duration;
  readonly maxConcurrency?: number;
  readonly minimumPollers?: number;
  readonly maximumPollers?: number;
  readonly reservedConcurrency?: number;
}

/**
 * A consumer function reading one queue through an SQS event source mapping with
 * `ReportBatchItemFailures`, so only failed records come back. Its configuration (environment) and its
 * permissions are derived from the same props, so they cannot disagree:
 * - consume the queue (receive, delete, change visibility for backoff);
 * - send to the dead-letter queue (permanent failures with a reason);
 * - read/write its own items of the idempotency table, read claim-checked payloads.
 */
export class QueueConsumer extends Construct {
  /** The consumer function. */
  public readonly consumerFunction: HooklineFunction;
  /** The event source mapping (its id is what `hookline pause` disables). */
  public readonly eventSourceMappingId: string;

  constructor(scope: Construct, id: string, given: QueueConsumerProps) {
    super(scope, id);
    // A prop of the wrong kind is reported and left out, so the rules below compute with the rest.
    const shape = consumerShapeViolations(given);
    const props = propsWithout(given, shape);
    const settings = functionSettingsOf(props);
    throwIfViolations(`QueueConsumer ${this.node.path}`, [
      ...shape,
      ...consumerTokenViolations(props),
      ...consumerViolations(settings),
      ...parallelismViolations(props.parallelism ?? DEFAULTS.parallelism),
      ...metricTypesViolations('metricTypes', props.metricTypes ?? DEFAULTS.metricTypes),
      // The default margin is a share of the timeout, so only one given can reach it.
      ...(props.deadlineMargin ? deadlineMarginViolations(props.deadlineMargin, settings.timeout) : []),
      // Checked here, not only by the configuration: the function would otherwise refuse its own configuration
      // at its first invocation, and every batch would fail until SQS dead-lettered it without a reason.
      ...(props.retry ? retryViolations(retryWithDefaults(props.retry)) : []),
      ...(props.circuitBreaker
        ? circuitBreakerViolations(circuitBreakerWithDefaults(props.circuitBreaker))
        : []),
      // The queue's own rules (PipelineQueue's, the configuration's): a retry is weighed against these.
      ...retentionViolations('retentionPeriod', props.retentionPeriod),
      ...(props.retentionPeriod
        ? retryScheduleViolations('retentionPeriod', retryScheduleOf(props, props.retentionPeriod))
        : []),
      ...retentionViolations('deadLetterRetentionPeriod', props.deadLetterRetentionPeriod),
      ...consumerReceiveCountViolations(props.maxReceiveCount, queueReceiveCountOf(props.queue)),
      ...deadLetterTargetViolations(props),
      ...queueVisibilityViolations(props, settings),
      ...rateLimitPropsViolations(props, settings),
      // A resolved configuration handed to the pipeline skipped the deploy rules: a deployed function posts here.
      ...(props.forward ? forwardPropsViolations(props, props.forward, settings) : []),
    ]);
    this.consumerFunction = this.createFunction(props, settings);
    this.grantResources(props);
    const source = new SqsEventSource(props.queue, {
      batchSize: settings.batchSize,
      ...(settings.maxBatchingWindow.toSeconds() > 0
        ? { maxBatchingWindow: settings.maxBatchingWindow }
        : {}),
      ...(settings.maxConcurrency !== undefined ? { maxConcurrency: settings.maxConcurrency } : {}),
      ...provisionedPollersOf(settings),
      reportBatchItemFailures: true,
    });
    // The event source also grants receive, delete and change-visibility on the queue.
    this.consumerFunction.addEventSource(source);
    this.eventSourceMappingId = source.eventSourceMappingId;
  }

  /** The function, with its configuration built by the runtime wiring from the props' resources. */
  private createFunction(props: QueueConsumerProps, settings: ConsumerFunctionSettings): HooklineFunction {
    const runtime = consumerRuntimeConfig(runtimeSettingsOf(props, settings), {
      queueUrls: { [props.name]: props.queue.queueUrl },
      deadLetterQueueUrls: { [props.name]: props.deadLetterQueue.queueUrl },
      secretIds: {},
      // One consumer table in the wiring: the rate limit's windows live beside the idempotency records.
      ...(consumerTableOf(props) ? { idempotencyTableName: consumerTableOf(props)?.tableName } : {}),
      ...(props.jobRecordTable ? { dedupeTableName: props.jobRecordTable.tableName } : {}),
      ...(props.payloadBucket ? { payloadBucketName: props.payloadBucket.bucketName } : {}),
      ...(props.archive ? { archiveStreamName: props.archive.deliveryStreamName } : {}),
    });
    return new HooklineFunction(this, 'Function', {
      entry: props.entry,
      ...(props.projectRoot ? { projectRoot: props.projectRoot } : {}),
      ...(props.handler ? { handler: props.handler } : {}),
      timeout: settings.timeout,
      memorySize: settings.memorySize,
      serviceName: props.name,
      ...(props.logRetention ? { logRetention: props.logRetention } : {}),
      ...(props.tracing ? { tracing: props.tracing } : {}),
      ...(settings.reservedConcurrency !== undefined
        ? { reservedConcurrency: settings.reservedConcurrency }
        : {}),
      environment: {
        ...props.environment,
        [CONSUMER_CONFIG_ENV]: Stack.of(this).toJsonString(runtime),
        ...(props.forward
          ? { [FORWARD_CONFIG_ENV]: Stack.of(this).toJsonString(forwardRuntimeOf(props.forward)) }
          : {}),
      },
      environmentFix: `shorten the consumer's own variables (queues.${props.name}.consumer.environment), or read large values at start (SSM Parameter Store, Secrets Manager, S3)`,
    });
  }

  /** Exactly what the configuration built from the same props lets the function use (besides the queue). */
  private grantResources(props: QueueConsumerProps): void {
    grantSendMessage(props.deadLetterQueue, this.consumerFunction);
    if (props.idempotencyTable) {
      grantItemAccessByKey(
        props.idempotencyTable,
        this.consumerFunction,
        idempotencyKeyPattern(props.name),
        IDEMPOTENCY_ITEM_ACTIONS,
      );
    }
    if (props.rateLimit && props.rateLimitTable) {
      // One conditional update per start is all the limiter does.
      grantItemAccessByKey(props.rateLimitTable, this.consumerFunction, rateLimitKeyPattern(props.name), [
        'dynamodb:UpdateItem',
      ]);
    }
    if (props.payloadBucket) grantPayloadObjects(props.payloadBucket, this.consumerFunction, 's3:GetObject');
    if (props.jobRecordTable) {
      // A consumer only reads and updates job records; the producer that sent the job claimed and created them.
      // It also counts the receives it handed a job back without running it (`job.held#<message id>`).
      grantItemAccessByKey(
        props.jobRecordTable,
        this.consumerFunction,
        [`${JOB_RECORD_KEY_PREFIX}*`, `${HELD_RECEIVES_KEY_PREFIX}*`],
        JOB_RECORD_ACTIONS,
      );
    }
    props.archive?.grantPutRecords(this.consumerFunction, 'firehose:PutRecordBatch');
    // Its one secret, to sign with: the value is read at run time, never put in the environment.
    if (props.forward) grantSecretValue(props.forward.secret, this.consumerFunction);
  }
}

/**
 * The props of the wrong kind: a Duration that is none or not in whole seconds, a count that is no whole number,
 * nested settings (`retry.base`) too.
 */
function consumerShapeViolations(props: QueueConsumerProps): Violation[] {
  return propShapeViolations({
    timeout: ['seconds', props.timeout],
    memorySize: ['count', props.memorySize],
    batchSize: ['count', props.batchSize],
    maxBatchingWindow: ['seconds', props.maxBatchingWindow],
    maxConcurrency: ['count', props.maxConcurrency],
    minimumPollers: ['count', props.minimumPollers],
    maximumPollers: ['count', props.maximumPollers],
    reservedConcurrency: ['count', props.reservedConcurrency],
    parallelism: ['count', props.parallelism],
    deadlineMargin: ['duration', props.deadlineMargin],
    maxReceiveCount: ['count', props.maxReceiveCount],
    retentionPeriod: ['seconds', props.retentionPeriod],
    deadLetterRetentionPeriod: ['seconds', props.deadLetterRetentionPeriod],
    idempotencyExpiry: ['seconds', props.idempotencyExpiry],
    'retry.base': ['seconds', props.retry?.base],
    'retry.factor': ['number', props.retry?.factor],
    'retry.max': ['seconds', props.retry?.max],
    'rateLimit.limit': ['number', props.rateLimit?.limit],
    'rateLimit.interval': ['duration', props.rateLimit?.interval],
    'circuitBreaker.failureRatio': ['number', props.circuitBreaker?.failureRatio],
    'circuitBreaker.minimumRecords': ['number', props.circuitBreaker?.minimumRecords],
    'circuitBreaker.window': ['duration', props.circuitBreaker?.window],
    'forward.timeout': ['duration', props.forward?.timeout],
    'forward.secretCache': ['seconds', props.forward?.secretCache],
    logRetention: [LOG_RETENTION_PROP, props.logRetention],
    tracing: [TRACING_PROP, props.tracing],
  });
}

/**
 * The props given as CDK tokens that the consumer cannot take: its timeout, deadline margin, the rate limit's
 * interval and a forwarded attempt's timeout are computed with (the deadline and the limit's window, in milliseconds,
 * the queue's visibility timeout, the room an attempt has), a zero batching window is left out of the mapping; the
 * others reach its configuration as they are, in seconds.
 */
function consumerTokenViolations(props: QueueConsumerProps): Violation[] {
  return propTokenViolations(
    {
      timeout: props.timeout,
      deadlineMargin: props.deadlineMargin,
      maxBatchingWindow: props.maxBatchingWindow,
      'rateLimit.interval': props.rateLimit?.interval,
      'forward.timeout': props.forward?.timeout,
    },
    {
      retentionPeriod: props.retentionPeriod,
      deadLetterRetentionPeriod: props.deadLetterRetentionPeriod,
      idempotencyExpiry: props.idempotencyExpiry,
      'retry.base': props.retry?.base,
      'retry.max': props.retry?.max,
      'forward.secretCache': props.forward?.secretCache,
    },
  );
}

/**
 * The forwarding settings' rules, the configuration's: a resolved configuration handed to the pipeline skipped the
 * deploy rules, and a deployed function posts to this URL; an attempt's timeout fits the function's; the secret is
 * read again within ingest.secretCache's range.
 */
function forwardPropsViolations(
  props: QueueConsumerProps,
  forward: ConsumerForward,
  settings: ConsumerFunctionSettings,
): Violation[] {
  const function_ = {
    timeout: settings.timeout,
    deadlineMargin: deadlineMarginOf(props, settings),
    deadlineMarginAt: (timeout: Duration) => deadlineMarginOf(props, { ...settings, timeout }),
  };
  // A token is refused on its own (consumerTokenViolations): the timeouts are weighed when all three are known.
  const timeouts = [forward.timeout, settings.timeout, props.deadlineMargin];
  return [
    ...forwardUrlViolations('forward.url', forward.url, true),
    ...(timeouts.some(isTokenProp)
      ? []
      : forwardTimeoutViolations('forward.timeout', 'timeout', forwardTimeoutOf(forward), function_)),
    ...secretCacheViolations('forward.secretCache', forward.secretCache),
  ];
}

/** One forwarded attempt's limit: the one given, else the configuration's default. */
function forwardTimeoutOf(forward: ConsumerForward): Duration {
  return forward.timeout ?? DEFAULTS.forwardTimeout;
}

/** The forwarding function's configuration: the secret by id, never by value. */
function forwardRuntimeOf(forward: ConsumerForward): ForwardRuntimeConfig {
  return {
    url: forward.url,
    timeoutMs: forwardTimeoutOf(forward).toMilliseconds(),
    secretId: forward.secret.secretFullArn ?? forward.secret.secretName,
    secretCacheSeconds: (forward.secretCache ?? DEFAULTS.secretCache).toSeconds(),
  };
}

function functionSettingsOf(props: QueueConsumerProps): ConsumerFunctionSettings {
  return {
    fifo: props.queue.fifo,
    timeout: props.timeout ?? DEFAULTS.consumerTimeout,
    memorySize: props.memorySize ?? DEFAULTS.consumerMemorySize,
    batchSize: props.batchSize ?? DEFAULTS.batchSize,
    maxBatchingWindow: props.maxBatchingWindow ?? DEFAULTS.maxBatchingWindow,
    ...(props.maxConcurrency !== undefined ? { maxConcurrency: props.maxConcurrency } : {}),
    ...(props.minimumPollers !== undefined ? { minimumPollers: props.minimumPollers } : {}),
    ...(props.maximumPollers !== undefined ? { maximumPollers: props.maximumPollers } : {}),
    ...(props.reservedConcurrency !== undefined ? { reservedConcurrency: props.reservedConcurrency } : {}),
    ...(props.environment ? { environment: props.environment } : {}),
  };
}

/**
 * The redrive policy of a queue created in this app with a dead-letter queue (`sqs.Queue.deadLetterQueue`); an
 * imported queue's is not known at synth.
 */
function queueRedriveOf(queue: sqs.IQueue): sqs.DeadLetterQueue | undefined {
  return (queue as Partial<Pick<sqs.Queue, 'deadLetterQueue'>>).deadLetterQueue;
}

/**
 * The visibility timeout of a queue defined in this app (SQS's default where it sets none); undefined for an
 * imported queue or a token, which synth cannot read.
 */
function queueVisibilityTimeoutOf(queue: sqs.IQueue): Duration | undefined {
  const resource = queue.node.defaultChild;
  if (!(resource instanceof sqs.CfnQueue)) return undefined;
  const seconds = resource.visibilityTimeout;
  if (seconds === undefined) return DEFAULTS.visibilityTimeout;
  return Token.isUnresolved(seconds) ? undefined : Duration.seconds(seconds);
}

/**
 * The queue hides a batch long enough for this consumer's timeout, and its idempotency records outlive that: a
 * record whose invocation died after its handler returned comes back after the visibility timeout, and must find
 * its key still done.
 */
function queueVisibilityViolations(
  props: QueueConsumerProps,
  settings: ConsumerFunctionSettings,
): Violation[] {
  const visibilityTimeout = queueVisibilityTimeoutOf(props.queue);
  return [
    ...consumerQueueVisibilityViolations(visibilityTimeout, settings.timeout, settings.maxBatchingWindow),
    ...(props.idempotencyTable || props.idempotencyExpiry
      ? idempotencyExpiryViolations(
          'idempotencyExpiry',
          props.idempotencyExpiry ?? DEFAULTS.idempotencyExpiry,
          visibilityTimeout,
        )
      : []),
  ];
}

/** The receives a record gets: given, else the queue's redrive count when it can be read, else the default. */
function receiveCountOf(props: QueueConsumerProps): number {
  return props.maxReceiveCount ?? queueReceiveCountOf(props.queue) ?? DEFAULTS.maxReceiveCount;
}

/** A consumer's retries with its queue's retention, as the runtime weighs them. */
function retryScheduleOf(props: QueueConsumerProps, retentionPeriod: Duration): RetryScheduleRuleInput {
  return { retry: retryWithDefaults(props.retry), maxReceiveCount: receiveCountOf(props), retentionPeriod };
}

function queueReceiveCountOf(queue: sqs.IQueue): number | undefined {
  return queueRedriveOf(queue)?.maxReceiveCount;
}

/**
 * The consumer dead-letters permanent failures where SQS redrives the rest: another queue would split one queue's
 * failures over two dead-letter queues, and `hookline failed` and the DLQ alarm of the queue would miss some.
 */
function deadLetterTargetViolations(props: QueueConsumerProps): Violation[] {
  const redriveTarget = queueRedriveOf(props.queue)?.queue;
  if (redriveTarget === undefined || redriveTarget === props.deadLetterQueue) return [];
  return [
    violation(
      'deadLetterQueue',
      `must be the queue's own dead-letter queue (${redriveTarget.node.path}), where SQS moves the records the consumer does not`,
      props.deadLetterQueue.node.path,
      "pass the queue's dead-letter queue (PipelineQueue.deadLetterQueue)",
    ),
  ];
}

/** The rate limit's rules, and its table: without one, the configured limit could not be kept. */
function rateLimitPropsViolations(
  props: QueueConsumerProps,
  settings: ConsumerFunctionSettings,
): Violation[] {
  if (!props.rateLimit) return [];
  return [
    ...rateLimitViolations({
      rateLimit: props.rateLimit,
      timeout: settings.timeout,
      deadlineMargin: deadlineMarginOf(props, settings),
      batchSize: settings.batchSize,
      ...(settings.maxConcurrency !== undefined ? { maxConcurrency: settings.maxConcurrency } : {}),
    }),
    ...(props.rateLimitTable && props.idempotencyTable && props.rateLimitTable !== props.idempotencyTable
      ? [
          violation(
            'rateLimitTable',
            "must be the idempotencyTable when both are given: the consumer keeps its rate limit's windows beside its idempotency records",
            props.rateLimitTable.node.path,
            'pass the idempotency table as rateLimitTable too',
          ),
        ]
      : []),
    ...(props.rateLimitTable
      ? []
      : [
          violation(
            'rateLimitTable',
            'a rate limit counts its windows in a table shared by every invocation',
            props.rateLimitTable,
            'pass the idempotency table (or any table with partition key "id" and TTL attribute "expiration")',
          ),
        ]),
  ];
}

/** The consumer table: the idempotency table, else the rate limit's (the two are one when both are given). */
function consumerTableOf(props: QueueConsumerProps): dynamodb.ITable | undefined {
  return props.idempotencyTable ?? props.rateLimitTable;
}

function deadlineMarginOf(props: QueueConsumerProps, settings: ConsumerFunctionSettings): Duration {
  return (
    props.deadlineMargin ??
    defaultDeadlineMargin(settings.timeout, DEFAULTS.deadlineMargin, DEFAULTS.deadlineMarginTimeoutShare)
  );
}

/**
 * The mapping's scaling as configured, in the circuit breaker's terms: what closing its probe writes back (provisioned
 * mode when either poller bound is set, as {@link provisionedPollersOf} decides; else on demand).
 */
export function mappingScalingOf(settings: {
  readonly maxConcurrency?: number;
  readonly minimumPollers?: number;
  readonly maximumPollers?: number;
}): MappingScaling {
  const { minimumPollers, maximumPollers, maxConcurrency } = settings;
  if (minimumPollers === undefined && maximumPollers === undefined)
    return {
      mode: 'on-demand',
      ...(maxConcurrency !== undefined ? { maximumConcurrency: maxConcurrency } : {}),
    };
  return {
    mode: 'provisioned',
    ...(minimumPollers !== undefined ? { minimumPollers } : {}),
    ...(maximumPollers !== undefined ? { maximumPollers } : {}),
  };
}

/** Provisioned mode, when either poller bound is set (the other keeps Lambda's default). */
function provisionedPollersOf(
  settings: ConsumerFunctionSettings,
): Pick<SqsEventSourceProps, 'provisionedPollerConfig'> {
  const { minimumPollers, maximumPollers } = settings;
  if (minimumPollers === undefined && maximumPollers === undefined) return {};
  return {
    provisionedPollerConfig: {
      ...(minimumPollers !== undefined ? { minimumPollers } : {}),
      ...(maximumPollers !== undefined ? { maximumPollers } : {}),
    },
  };
}

/** What the runtime wiring builds the consumer's configuration from, defaults filled. */
function runtimeSettingsOf(props: QueueConsumerProps, settings: ConsumerFunctionSettings): ConsumerSettings {
  return {
    name: props.name,
    fifo: settings.fifo,
    maxReceiveCount: receiveCountOf(props),
    deadLetterRetentionPeriod: props.deadLetterRetentionPeriod ?? DEFAULTS.deadLetterRetentionPeriod,
    ...(props.retentionPeriod ? { retentionPeriod: props.retentionPeriod } : {}),
    consumer: {
      parallelism: props.parallelism ?? DEFAULTS.parallelism,
      retry: retryWithDefaults(props.retry),
      deadlineMargin: deadlineMarginOf(props, settings),
      ...(props.idempotencyTable
        ? { idempotency: { expiry: props.idempotencyExpiry ?? DEFAULTS.idempotencyExpiry } }
        : {}),
      ...(props.rateLimit ? { rateLimit: props.rateLimit } : {}),
      ...(props.circuitBreaker ? { circuitBreaker: circuitBreakerWithDefaults(props.circuitBreaker) } : {}),
      ...(props.forward ? { forward: { timeout: forwardTimeoutOf(props.forward) } } : {}),
      metricTypes: props.metricTypes ?? DEFAULTS.metricTypes,
    },
  };
}

/**
 * Records a consumer finished (or dead-lettered) whose own `DeleteMessage` failed, counted per batch by every consumer
 * of the stack under `service` (its queue) and `type`: one Metrics Insights query sums them all, so a consumer added
 * later is watched too. Each such record was reported done, and the batch response deletes it; only an invocation
 * that then times out brings it back.
 */
export function deleteFailedMetric(period: Duration, namespace: string): cloudwatch.IMetric {
  const metric = 'DeleteFailed' satisfies keyof TypeMetrics;
  return new cloudwatch.MathExpression({
    expression: `SELECT SUM(${metric}) FROM SCHEMA("${namespace}", ${METRIC_DIMENSIONS.service}, ${METRIC_DIMENSIONS.type})`,
    label: metric,
    period,
  });
}
