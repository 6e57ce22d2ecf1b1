import type { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { DEFAULTS } from './config';
import { propShapeViolations, propsWithout } from './config/parse-shape';
import { propTokenViolations } from './config/tokens';
import { FAIR_QUEUE_METRICS } from './fair-queue-metrics';
import {
  minimumVisibilityTimeout,
  queueViolations,
  throwIfViolations,
  visibilityViolations,
} from './validation';

/** Properties for a {@link PipelineQueue}. */
export interface PipelineQueueProps {
  /**
   * Make the queue (and its dead-letter queue) FIFO: ordered per message group, deduplicated for 5 minutes.
   * SQS cannot convert a queue: changing this on a deployed queue replaces both queues, and deletes their
   * messages unless `removalPolicy` retains them.
   *
   * @default DEFAULTS.fifo (false)
   */
  readonly fifo?: boolean;

  /**
   * Deduplicate FIFO messages by a SHA-256 of the body. hookline sets an explicit deduplication id per
   * delivery, so this is rarely needed. FIFO only.
   *
   * @default DEFAULTS.contentBasedDeduplication (false)
   */
  readonly contentBasedDeduplication?: boolean;

  /**
   * SQS high throughput mode: the FIFO throughput quota applies per message group, not to the queue (300 calls a
   * second per API action), and deduplication is per message group. FIFO only.
   *
   * @see https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/high-throughput-fifo.html
   * @default DEFAULTS.highThroughput (false)
   */
  readonly highThroughput?: boolean;

  /**
   * Receives before SQS moves a message to the dead-letter queue (1 to 1000).
   *
   * AWS recommends at least 5 for queues read by Lambda, so a throttled batch is not dead-lettered.
   *
   * @see https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html
   * @default DEFAULTS.maxReceiveCount (5)
   */
  readonly maxReceiveCount?: number;

  /**
   * How long the queue keeps a message (60 seconds to 14 days).
   *
   * @default DEFAULTS.retentionPeriod (4 days)
   */
  readonly retentionPeriod?: Duration;

  /**
   * How long the dead-letter queue keeps a message; must be longer than `retentionPeriod`, because a
   * dead-lettered message keeps its original enqueue time on standard queues.
   *
   * @default DEFAULTS.deadLetterRetentionPeriod (14 days)
   */
  readonly deadLetterRetentionPeriod?: Duration;

  /**
   * Visibility timeout of the queue, at least 1 second. When a function reads the queue, it must cover 6 x the
   * function's timeout + its batching window (give `consumerTimeout` and this is checked, or derived when left out).
   *
   * @default - 6 x `consumerTimeout` + `consumerBatchingWindow` when `consumerTimeout` is given, else
   * DEFAULTS.visibilityTimeout (30 seconds)
   */
  readonly visibilityTimeout?: Duration;

  /**
   * Timeout of the function that reads this queue, so the visibility timeout can be checked against it
   * (a shorter one lets a batch be processed twice while Lambda retries a throttled invoke).
   *
   * @default - no consumer: the visibility timeout is not checked against one
   */
  readonly consumerTimeout?: Duration;

  /**
   * Batching window of the event source that reads this queue; it adds to the minimum visibility timeout.
   * Only used with `consumerTimeout`.
   *
   * @default DEFAULTS.maxBatchingWindow (none)
   */
  readonly consumerBatchingWindow?: Duration;

  /**
   * What happens to the queues when the stack is deleted: RETAIN or DESTROY (the configuration's `removalPolicy`
   * options) or RETAIN_ON_UPDATE_OR_DELETE.
   *
   * @default DEFAULTS.queueRemovalPolicy (RemovalPolicy.DESTROY)
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * A queue and its dead-letter queue, secure by default:
 * SSE-SQS encryption, a deny on any request without TLS (on both), a redrive policy, a DLQ that outlives its
 * source.
 */
export class PipelineQueue extends Construct {
  /** The queue producers send to and the consumer reads. */
  public readonly queue: sqs.Queue;
  /** Where messages go after `maxReceiveCount` receives, or when a consumer dead-letters them with a reason. */
  public readonly deadLetterQueue: sqs.Queue;
  /** The effective redrive count. */
  public readonly maxReceiveCount: number;
  /** Whether both queues are FIFO. */
  public readonly fifo: boolean;

  constructor(scope: Construct, id: string, given: PipelineQueueProps = {}) {
    super(scope, id);
    // A prop of the wrong kind is reported and left out, so the rules below compute with the rest.
    const shape = propShapeViolations({
      maxReceiveCount: ['count', given.maxReceiveCount],
      retentionPeriod: ['seconds', given.retentionPeriod],
      deadLetterRetentionPeriod: ['seconds', given.deadLetterRetentionPeriod],
      visibilityTimeout: ['seconds', given.visibilityTimeout],
      consumerTimeout: ['seconds', given.consumerTimeout],
      consumerBatchingWindow: ['seconds', given.consumerBatchingWindow],
      removalPolicy: ['removalPolicy', given.removalPolicy],
    });
    const props = propsWithout(given, shape);
    const fifo = props.fifo ?? DEFAULTS.fifo;
    const maxReceiveCount = props.maxReceiveCount ?? DEFAULTS.maxReceiveCount;
    const retentionPeriod = props.retentionPeriod ?? DEFAULTS.retentionPeriod;
    const deadLetterRetentionPeriod = props.deadLetterRetentionPeriod ?? DEFAULTS.deadLetterRetentionPeriod;
    throwIfViolations(`PipelineQueue ${this.node.path}`, [
      ...shape,
      ...propTokenViolations(
        { consumerTimeout: props.consumerTimeout, consumerBatchingWindow: props.consumerBatchingWindow },
        {
          retentionPeriod: props.retentionPeriod,
          deadLetterRetentionPeriod: props.deadLetterRetentionPeriod,
          visibilityTimeout: props.visibilityTimeout,
        },
      ),
      ...queueViolations({
        fifo,
        maxReceiveCount,
        retentionPeriod,
        deadLetterRetentionPeriod,
        ...(props.contentBasedDeduplication !== undefined
          ? { contentBasedDeduplication: props.contentBasedDeduplication }
          : {}),
        ...(props.highThroughput !== undefined ? { highThroughput: props.highThroughput } : {}),
        ...(props.visibilityTimeout ? { visibilityTimeout: props.visibilityTimeout } : {}),
      }),
      ...(props.consumerTimeout
        ? visibilityViolations(props.visibilityTimeout, props.consumerTimeout, batchingWindowOf(props))
        : []),
    ]);
    const removalPolicy = props.removalPolicy ?? DEFAULTS.queueRemovalPolicy;
    // CloudFormation rejects `FifoQueue: false`, so standard queues leave it unset.
    const fifoProps = fifo ? { fifo: true } : {};

    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      ...fifoProps,
      retentionPeriod: deadLetterRetentionPeriod,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      removalPolicy,
    });
    this.queue = new sqs.Queue(this, 'Queue', {
      ...fifoProps,
      ...(fifo
        ? { contentBasedDeduplication: props.contentBasedDeduplication ?? DEFAULTS.contentBasedDeduplication }
        : {}),
      ...(fifo && (props.highThroughput ?? DEFAULTS.highThroughput) ? HIGH_THROUGHPUT : {}),
      retentionPeriod,
      visibilityTimeout: visibilityTimeoutOf(props),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount },
      removalPolicy,
    });
    this.maxReceiveCount = maxReceiveCount;
    this.fifo = fifo;
  }
}

/** What SQS calls high throughput for FIFO queues: both settings, or neither takes effect. */
const HIGH_THROUGHPUT = {
  deduplicationScope: sqs.DeduplicationScope.MESSAGE_GROUP,
  fifoThroughputLimit: sqs.FifoThroughputLimit.PER_MESSAGE_GROUP_ID,
};

const batchingWindowOf = (props: PipelineQueueProps): Duration =>
  props.consumerBatchingWindow ?? DEFAULTS.maxBatchingWindow;

/** The given visibility timeout, else the smallest one the consumer allows, else the default. */
function visibilityTimeoutOf(props: PipelineQueueProps): Duration {
  if (props.visibilityTimeout) return props.visibilityTimeout;
  if (props.consumerTimeout) return minimumVisibilityTimeout(props.consumerTimeout, batchingWindowOf(props));
  return DEFAULTS.visibilityTimeout;
}

/** One of a fair queue's metrics, Maximum by default (like the other queue gauges). */
export function fairQueueMetric(
  queue: sqs.IQueue,
  which: keyof typeof FAIR_QUEUE_METRICS,
  options: cloudwatch.MetricOptions = {},
): cloudwatch.Metric {
  return queue.metric(FAIR_QUEUE_METRICS[which], { statistic: 'Maximum', ...options });
}
