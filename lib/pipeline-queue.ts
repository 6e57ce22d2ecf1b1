import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { queueViolations, throwIfViolations } from './validation';

/** Properties for a {@link PipelineQueue}. */
export interface PipelineQueueProps {
  /**
   * Make the queue (and its dead-letter queue) FIFO: ordered per message group, deduplicated for 5 minutes.
   *
   * @default false
   */
  readonly fifo?: boolean;

  /**
   * Deduplicate FIFO messages by a SHA-256 of the body. hookline sets an explicit deduplication id per
   * delivery, so this is rarely needed. FIFO only.
   *
   * @default false
   */
  readonly contentBasedDeduplication?: boolean;

  /**
   * Receives before SQS moves a message to the dead-letter queue (1 to 1000).
   *
   * AWS recommends at least 5 for queues read by Lambda, so a throttled batch is not dead-lettered.
   *
   * @see https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html
   * @default 5
   */
  readonly maxReceiveCount?: number;

  /**
   * How long the queue keeps a message (60 seconds to 14 days).
   *
   * @default Duration.days(4)
   */
  readonly retentionPeriod?: Duration;

  /**
   * How long the dead-letter queue keeps a message; must be longer than `retentionPeriod`, because a
   * dead-lettered message keeps its original enqueue time on standard queues.
   *
   * @default Duration.days(14)
   */
  readonly deadLetterRetentionPeriod?: Duration;

  /**
   * Visibility timeout of the queue. When a consumer reads it, derive it with `minimumVisibilityTimeout`.
   *
   * @default Duration.seconds(30)
   */
  readonly visibilityTimeout?: Duration;

  /**
   * What happens to the queues when the stack is deleted.
   *
   * @default RemovalPolicy.DESTROY
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

  constructor(scope: Construct, id: string, props: PipelineQueueProps = {}) {
    super(scope, id);
    const fifo = props.fifo ?? false;
    const maxReceiveCount = props.maxReceiveCount ?? 5;
    const retentionPeriod = props.retentionPeriod ?? Duration.days(4);
    const deadLetterRetentionPeriod = props.deadLetterRetentionPeriod ?? Duration.days(14);
    throwIfViolations(
      `PipelineQueue ${this.node.path}`,
      queueViolations({
        fifo,
        maxReceiveCount,
        retentionPeriod,
        deadLetterRetentionPeriod,
        ...(props.contentBasedDeduplication !== undefined
          ? { contentBasedDeduplication: props.contentBasedDeduplication }
          : {}),
        ...(props.visibilityTimeout ? { visibilityTimeout: props.visibilityTimeout } : {}),
      }),
    );
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.DESTROY;
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
      ...(fifo ? { contentBasedDeduplication: props.contentBasedDeduplication ?? false } : {}),
      retentionPeriod,
      visibilityTimeout: props.visibilityTimeout ?? Duration.seconds(30),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount },
      removalPolicy,
    });
    this.maxReceiveCount = maxReceiveCount;
    this.fifo = fifo;
  }
}
