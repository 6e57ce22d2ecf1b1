import { Stack, type StackProps } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import type { HooklineConfig, ResolvedConfig } from './config';
import { HooklinePipeline } from './hookline-pipeline';
import type { GrantSendOptions, JobProducers, ProducerVariables } from './job-producers';
import type { PipelineAlarms } from './pipeline-alarms';
import type { PipelineDashboard } from './pipeline-dashboard';
import type { PipelineQueue } from './pipeline-queue';
import type { PipelineSchedules } from './pipeline-schedules';
import type { QueueConsumer } from './queue-consumer';
import type { WebhookIngest } from './webhook-ingest';

export { NAG_ACKNOWLEDGEMENTS, queueConsumerSettings } from './hookline-pipeline';

/** Properties for a {@link WebhookPipelineStack}. */
export interface WebhookPipelineStackProps extends StackProps {
  /**
   * The configuration: `defineConfig({...})`, or resolved (`resolveConfig(...)`), the same object local mode runs.
   */
  readonly config: HooklineConfig | ResolvedConfig;

  /**
   * The app's root, against which relative consumer entries resolve. An empty path is refused, as the pipeline
   * refuses it (leave it out for the working directory).
   *
   * @default - the working directory (where cdk.json is)
   */
  readonly projectRoot?: string;
}

/**
 * A stack holding one {@link HooklinePipeline}. The pipeline's id is `Default`, which CDK leaves out of logical
 * ids, so its resources keep the ids they had when the stack built them itself.
 */
export class WebhookPipelineStack extends Stack {
  /** The pipeline construct. */
  public readonly pipeline: HooklinePipeline;
  /** Queue pair per configured queue name. */
  public readonly queues: Readonly<Record<string, PipelineQueue>>;
  /** Consumer per configured queue that has one. */
  public readonly consumers: Readonly<Record<string, QueueConsumer>>;
  /** The ingest API and function. */
  public readonly ingest: WebhookIngest;
  /** The signing secret of each verifying source, by source name. */
  public readonly signingSecrets: Readonly<Record<string, secretsmanager.ISecret>>;
  /** The alarms and their topic. */
  public readonly alarms: PipelineAlarms;
  /** Delivery-id table for ingest deduplication, when enabled. */
  public readonly dedupeTable?: dynamodb.Table;
  /** Per-record idempotency table for consumers, when any consumer uses it. */
  public readonly idempotencyTable?: dynamodb.Table;
  /** Claim-check bucket for bodies too large for SQS. */
  public readonly payloadBucket: s3.Bucket;
  /** EventBridge Scheduler schedules for the configured jobs, when there are any. */
  public readonly schedules?: PipelineSchedules;
  /** The CloudWatch dashboard. */
  public readonly dashboard: PipelineDashboard;

  constructor(scope: Construct, id: string, props: WebhookPipelineStackProps) {
    const { config, projectRoot, ...stackProps } = props;
    super(scope, id, stackProps);
    // Any root given is the pipeline's to check (an empty one is refused there, not read as the working directory).
    const pipeline = new HooklinePipeline(this, 'Default', {
      config,
      ...(projectRoot !== undefined ? { projectRoot } : {}),
    });
    this.pipeline = pipeline;
    this.queues = pipeline.queues;
    this.consumers = pipeline.consumers;
    this.ingest = pipeline.ingest;
    this.signingSecrets = pipeline.signingSecrets;
    this.alarms = pipeline.alarms;
    if (pipeline.dedupeTable) this.dedupeTable = pipeline.dedupeTable;
    if (pipeline.idempotencyTable) this.idempotencyTable = pipeline.idempotencyTable;
    this.payloadBucket = pipeline.payloadBucket;
    if (pipeline.schedules) this.schedules = pipeline.schedules;
    this.dashboard = pipeline.dashboard;
  }

  /**
   * {@link HooklinePipeline.grantSend}: lets a function, an ECS task's role (with `{ environment: container }`) or any
   * IAM principal send jobs to a configured queue, and returns the variables `createProducer()` reads.
   */
  grantSend(grantee: iam.IGrantable, queueName: string, options: GrantSendOptions = {}): ProducerVariables {
    return this.pipeline.grantSend(grantee, queueName, options);
  }

  /** Grants of job producers, created by the first `grantSend`. */
  get jobProducers(): JobProducers | undefined {
    return this.pipeline.jobProducers;
  }
}
