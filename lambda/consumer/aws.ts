/**
 * The real collaborators of the consumer core: SQS, S3 and DynamoDB clients (through `clientOptions`, so local
 * mode's `AWS_ENDPOINT_URL_*` variables point them at the emulators; SQS and S3 loaded on first use) and the
 * Powertools logger, metrics and idempotency utilities. Region and credentials come from the standard SDK environment, nothing else.
 */
import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CONSUMER_BUDGET, clientOptions } from '../shared/aws-clients';
import { BREAKER_EXEMPT_RECORDS, BREAKER_METRICS, BREAKER_OUTCOMES } from '../shared/circuit-breaker';
import type { ConsumerRuntimeConfig } from '../shared/consumer-config';
import {
  ARCHIVE_FAILED_METRIC,
  CONSUMER_TYPE_COUNTS,
  IDEMPOTENCY_TABLE,
  METRIC_DIMENSIONS,
  metricDimensionValue,
  runtimeMetricsNamespace,
} from '../shared/contracts';
import { idempotencyKeyPrefix, rateLimitWindowKey } from '../shared/idempotency-key';
import { timerAlarm } from '../shared/invocation-deadline';
import { JobRecords, type ParentMessage } from '../shared/job-record';
import { onFirstUse } from '../shared/on-first-use';
import type { ArchiveBatchSink } from './archive-arrivals';
import type {
  ConsumerCollaborators,
  ConsumerQueueOperations,
  FlowParents,
  IdempotencyGate,
  InvocationContext,
  MetricsSink,
  RootLogger,
  TypeMetrics,
} from './core';
import { keyErrorInOurWords } from './errors';
import { DynamoHeldReceives } from './held-receives';
import { RateLimiter } from './rate-limit';
import { dynamoWindowStore } from './rate-limit-store';
import type { ConsumerLogger, LogExtra } from './types';

/** Powertools flushes a metric at 100 values and then forgets the dimensions; stay below that. */
const VALUES_PER_FLUSH = 90;

type PowertoolsLogMethod = (message: string, ...extra: never[]) => void;

function adaptLogger(logger: Logger): ConsumerLogger {
  const call =
    (method: PowertoolsLogMethod) =>
    (message: string, ...extra: LogExtra[]) =>
      method.call(logger, message, ...(extra as never[]));
  return {
    debug: call(logger.debug as PowertoolsLogMethod),
    info: call(logger.info as PowertoolsLogMethod),
    warn: call(logger.warn as PowertoolsLogMethod),
    error: call(logger.error as PowertoolsLogMethod),
  };
}

/** A Powertools logger for the consumer, as the core's root logger. */
export function powertoolsRootLogger(logger: Logger): RootLogger & { readonly powertools: Logger } {
  return {
    ...adaptLogger(logger),
    child: (keys) => adaptLogger(logger.createChild({ persistentKeys: keys })),
    powertools: logger,
  };
}

/**
 * Publishes one EMF document per event type (dimension `type`) per batch and, for a queue with a circuit breaker
 * (`breakerTotals`), one more with the breaker's totals of the batch under `service` alone.
 */
export function powertoolsMetricsSink(
  metrics: Metrics,
  options: { readonly breakerTotals?: boolean } = {},
): MetricsSink {
  return {
    publish(byType: ReadonlyMap<string, TypeMetrics>) {
      publishByType(metrics, byType);
      if (options.breakerTotals) publishBreakerTotals(metrics, byType);
    },
    archiveFailed(count: number) {
      // Its own document, with the service dimension only, as the ingest publishes it.
      metrics.addMetric(ARCHIVE_FAILED_METRIC, MetricUnit.Count, count);
      metrics.publishStoredMetrics();
    },
  };
}

/** One document per event type, its latency values in flushes Powertools keeps whole. */
function publishByType(metrics: Metrics, byType: ReadonlyMap<string, TypeMetrics>): void {
  for (const [type, counts] of byType) {
    const latencies = counts.endToEndLatencyMs;
    const flushes = Math.max(1, Math.ceil(latencies.length / VALUES_PER_FLUSH));
    for (let flush = 0; flush < flushes; flush++) {
      metrics.addDimension(METRIC_DIMENSIONS.type, metricDimensionValue(type));
      if (flush === 0) {
        for (const name of CONSUMER_TYPE_COUNTS) {
          if (counts[name] > 0) metrics.addMetric(name, MetricUnit.Count, counts[name]);
        }
      }
      for (const value of latencies.slice(flush * VALUES_PER_FLUSH, (flush + 1) * VALUES_PER_FLUSH)) {
        metrics.addMetric('EndToEndLatency', MetricUnit.Milliseconds, value);
      }
      if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
      else metrics.clearDimensions();
    }
  }
}

/**
 * The circuit breaker's counts of the batch, summed over its types, under `service` alone: the alarm that trips
 * the breaker reads them by name (an alarm cannot SEARCH the per-type metrics). Zeros are published too, so a
 * batch of successes lowers the failed share its alarm computes.
 */
function publishBreakerTotals(metrics: Metrics, byType: ReadonlyMap<string, TypeMetrics>): void {
  let ended = 0;
  let failed = 0;
  for (const counts of byType.values()) {
    for (const { metric, failed: isFailure } of Object.values(BREAKER_OUTCOMES)) {
      const n = counts[metric];
      ended += n;
      if (isFailure) failed += n;
    }
    // Poison records and copies whose key was held elsewhere are among the retried and dead-lettered ones: neither
    // says anything about the dependency, so they count neither as ended nor as failed.
    for (const { metric } of BREAKER_EXEMPT_RECORDS) {
      ended -= counts[metric];
      failed -= counts[metric];
    }
  }
  if (ended === 0) return;
  metrics.addMetric(BREAKER_METRICS.ended, MetricUnit.Count, ended);
  metrics.addMetric(BREAKER_METRICS.failed, MetricUnit.Count, failed);
  metrics.publishStoredMetrics();
}

/** Powertools idempotency over DynamoDB (the table's names in `IDEMPOTENCY_TABLE`), as the core's idempotency gate. */
export function powertoolsIdempotencyGate(
  settings: NonNullable<ConsumerRuntimeConfig['idempotency']>,
  consumerName: string,
  client: DynamoDBClient,
): IdempotencyGate {
  const persistenceStore = new DynamoDBPersistenceLayer({
    tableName: settings.tableName,
    keyAttr: IDEMPOTENCY_TABLE.partitionKey,
    expiryAttr: IDEMPOTENCY_TABLE.ttlAttribute,
    awsSdkV3Client: client,
  });
  const config = new IdempotencyConfig({
    eventKeyJmesPath: 'key',
    expiresAfterSeconds: settings.expirySeconds,
    // A missing key is a bug here, never a reason to run without protection.
    throwOnNoIdempotencyKey: true,
  });
  const once = makeIdempotent(
    async (_input: { key: string }, work: () => Promise<void>) => {
      await work();
      return true;
    },
    { persistenceStore, config, keyPrefix: idempotencyKeyPrefix(consumerName), dataIndexArgument: 0 },
  );
  return {
    async run(key, work, context: InvocationContext) {
      // In-progress records then expire with this invocation's timeout, so a crash never blocks a retry for long.
      config.registerLambdaContext(context as Parameters<IdempotencyConfig['registerLambdaContext']>[0]);
      let ran = false;
      let nonError: { readonly value: unknown; readonly carrier: Error } | undefined;
      try {
        await once({ key }, async () => {
          ran = true;
          try {
            await work();
          } catch (error) {
            if (error instanceof Error) throw error;
            // Powertools replaces a thrown non-Error with its own IdempotencyUnknownError, losing what was thrown.
            nonError = { value: error, carrier: new Error('a non-Error was thrown') };
            throw nonError.carrier;
          }
        });
      } catch (error) {
        throw nonError && error === nonError.carrier ? nonError.value : keyErrorInOurWords(error);
      }
      return ran ? 'ran' : 'duplicate';
    },
  };
}

/**
 * The SQS operations, loaded with their client on the first record that fails or finishes early
 * (`./queue-operations`); the options are read from the environment now, at the first invocation.
 */
function deferredQueueOperations(
  config: ConsumerRuntimeConfig,
): ConsumerQueueOperations & { sendParent(message: ParentMessage): Promise<void> } {
  const options = clientOptions('SQS', CONSUMER_BUDGET);
  const operations = onFirstUse(async () =>
    (await import('./queue-operations')).sqsQueueOperations(config, options),
  );
  return {
    changeVisibility: async (record, seconds) => (await operations()).changeVisibility(record, seconds),
    changeVisibilities: async (records, seconds) => (await operations()).changeVisibilities(records, seconds),
    sendToDeadLetter: async (message) => (await operations()).sendToDeadLetter(message),
    deleteMessage: async (record) => (await operations()).deleteMessage(record),
    sendParent: async (message) => (await operations()).sendParent(message),
  };
}

/** Flow parents on the job records, sent with the consumer's SQS operations. */
function flowParents(
  records: JobRecords,
  sqs: { sendParent(message: ParentMessage): Promise<void> },
): FlowParents {
  return {
    childCompleted: (parentId, childId, result, sendUntil) =>
      records.childCompleted(parentId, childId, result, sendUntil),
    parentSent: (parentId, sendToken) => records.parentSent(parentId, sendToken),
    parentSendFailed: (parentId, sendToken) => records.parentSendFailed(parentId, sendToken),
    childFailed: (parentId, childId, failure, sendUntil) =>
      records.childFailed(parentId, childId, failure, sendUntil),
    childOutcomes: (parentId) => records.childOutcomes(parentId),
    read: (id) => records.read(id),
    send: (message) => sqs.sendParent(message),
  };
}

/** The archive's batch put, its Firehose client loaded on the first batch with jobs or scheduled events. */
function firehoseArchive(deliveryStream: string): ArchiveBatchSink {
  const options = clientOptions('FIREHOSE', CONSUMER_BUDGET);
  const sink = onFirstUse(async () =>
    (await import('./archive-put')).firehoseBatchSink(options, deliveryStream),
  );
  return { putLines: async (lines) => (await sink()).putLines(lines) };
}

/** The rate limit over the consumer table, on the real clock. */
function dynamoRateLimiter(
  settings: NonNullable<ConsumerRuntimeConfig['rateLimit']>,
  consumerName: string,
  client: DynamoDBClient,
): RateLimiter {
  return new RateLimiter({
    limit: settings.limit,
    intervalMs: settings.intervalMs,
    keyOf: (window) => rateLimitWindowKey(consumerName, window),
    store: dynamoWindowStore(client, settings.tableName),
    now: Date.now,
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  });
}

/** Builds every collaborator from the runtime configuration. */
export function awsCollaborators(config: ConsumerRuntimeConfig): ConsumerCollaborators & {
  readonly logger: ReturnType<typeof powertoolsRootLogger>;
} {
  const s3Options = clientOptions('S3', CONSUMER_BUDGET);
  const download = onFirstUse(async () =>
    (await import('./payload-download')).s3PayloadDownloader(s3Options),
  );
  let dynamodb: DynamoDBClient | undefined;
  const dynamo = () => {
    dynamodb ??= new DynamoDBClient(clientOptions('DYNAMODB', CONSUMER_BUDGET));
    return dynamodb;
  };
  const archive = config.archive ? firehoseArchive(config.archive.deliveryStream) : undefined;
  const logger = powertoolsRootLogger(new Logger({ serviceName: config.name }));
  const metrics = new Metrics({ namespace: runtimeMetricsNamespace(process.env), serviceName: config.name });
  const sqs = deferredQueueOperations(config);
  const records = config.jobRecords
    ? new JobRecords(
        dynamo(),
        config.jobRecords.tableName,
        Date.now,
        config.jobRecords.deadLetterRetentionSeconds,
      )
    : undefined;
  return {
    sqs,
    loadPayload: async (ref) => (await download())(ref),
    ...(config.idempotency
      ? {
          idempotency: powertoolsIdempotencyGate(config.idempotency, config.name, dynamo()),
        }
      : {}),
    ...(config.rateLimit ? { rateLimiter: dynamoRateLimiter(config.rateLimit, config.name, dynamo()) } : {}),
    ...(records ? { jobs: records, flows: flowParents(records, sqs) } : {}),
    // A job handed back without running (not started in time, held behind a failing earlier job of its FIFO group,
    // or a copy whose key another execution held): those receives are not its attempts.
    ...(config.jobRecords
      ? { heldReceives: new DynamoHeldReceives(dynamo(), config.jobRecords.tableName) }
      : {}),
    ...(archive ? { archive } : {}),
    now: Date.now,
    random: Math.random,
    alarm: timerAlarm,
    logger,
    metrics: powertoolsMetricsSink(metrics, { breakerTotals: config.circuitBreaker === true }),
  };
}
