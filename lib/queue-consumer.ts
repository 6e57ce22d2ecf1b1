import { Stack } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { idempotencyKeyPattern } from '../lambda/shared/idempotency-key';
import { CONSUMER_CONFIG_ENV } from '../lambda/shared/runtime-config';
import type { ResolvedQueue } from './config';
import { grantItemAccessByKey, grantPayloadObjects } from './grants';
import { HooklineFunction } from './hookline-function';
import { consumerRuntimeConfig } from './runtime-wiring';
import { consumerViolations, throwIfViolations } from './validation';

/** Properties for a {@link QueueConsumer}. */
export interface QueueConsumerProps {
  /**
   * The queue to consume.
   */
  readonly queue: sqs.IQueue;

  /**
   * The queue's dead-letter queue: the consumer sends permanent failures there itself, with the reason.
   */
  readonly deadLetterQueue: sqs.IQueue;

  /**
   * The resolved queue settings, including its consumer (entry, timeout, batching, retry, idempotency).
   */
  readonly settings: ResolvedQueue;

  /**
   * Table for per-record idempotency, keyed by the sender's delivery id. The table may be shared: this
   * consumer may only touch items whose key starts with its own prefix.
   *
   * @default - no idempotency (only when the configuration disables it)
   */
  readonly idempotencyTable?: dynamodb.ITable;

  /**
   * Bucket holding bodies too large for SQS (claim checks), read before the handler runs.
   *
   * @default - claim-checked envelopes cannot be resolved
   */
  readonly payloadBucket?: s3.IBucket;

  /**
   * Retention of the function's log group.
   *
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;

  /**
   * X-Ray tracing mode of the consumer function.
   *
   * @default lambda.Tracing.DISABLED
   */
  readonly tracing?: lambda.Tracing;
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

  constructor(scope: Construct, id: string, props: QueueConsumerProps) {
    super(scope, id);
    const consumer = props.settings.consumer;
    if (!consumer)
      throw new Error(
        `QueueConsumer ${this.node.path}: queue "${props.settings.name}" has no consumer configured`,
      );
    throwIfViolations(
      `QueueConsumer ${this.node.path}`,
      consumerViolations({
        fifo: props.settings.fifo,
        timeout: consumer.timeout,
        batchSize: consumer.batchSize,
        maxBatchingWindow: consumer.maxBatchingWindow,
        memorySize: consumer.memorySize,
        ...(consumer.maxConcurrency !== undefined ? { maxConcurrency: consumer.maxConcurrency } : {}),
      }),
    );

    const runtime = consumerRuntimeConfig(props.settings, {
      queueUrls: { [props.settings.name]: props.queue.queueUrl },
      deadLetterQueueUrls: { [props.settings.name]: props.deadLetterQueue.queueUrl },
      secretIds: {},
      ...(props.idempotencyTable ? { idempotencyTableName: props.idempotencyTable.tableName } : {}),
      ...(props.payloadBucket ? { payloadBucketName: props.payloadBucket.bucketName } : {}),
    });

    this.consumerFunction = new HooklineFunction(this, 'Function', {
      entry: consumer.entry,
      handler: consumer.handler,
      timeout: consumer.timeout,
      memorySize: consumer.memorySize,
      serviceName: props.settings.name,
      ...(props.logRetention ? { logRetention: props.logRetention } : {}),
      ...(props.tracing ? { tracing: props.tracing } : {}),
      environment: { ...consumer.environment, [CONSUMER_CONFIG_ENV]: Stack.of(this).toJsonString(runtime) },
    });

    props.deadLetterQueue.grantSendMessages(this.consumerFunction);
    if (props.idempotencyTable) {
      const ownKeys = idempotencyKeyPattern(props.settings.name);
      grantItemAccessByKey(props.idempotencyTable, this.consumerFunction, ownKeys);
    }
    if (props.payloadBucket) grantPayloadObjects(props.payloadBucket, this.consumerFunction, 's3:GetObject');

    const source = new SqsEventSource(props.queue, {
      batchSize: consumer.batchSize,
      ...(consumer.maxBatchingWindow.toSeconds() > 0
        ? { maxBatchingWindow: consumer.maxBatchingWindow }
        : {}),
      ...(consumer.maxConcurrency !== undefined ? { maxConcurrency: consumer.maxConcurrency } : {}),
      reportBatchItemFailures: true,
    });
    // The event source also grants receive, delete and change-visibility on the queue.
    this.consumerFunction.addEventSource(source);
    this.eventSourceMappingId = source.eventSourceMappingId;
  }
}
