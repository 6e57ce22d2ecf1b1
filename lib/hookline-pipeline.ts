/**
 * The whole pipeline as one construct, for any CDK app: `new HooklinePipeline(stack, 'Webhooks', { config })`.
 * {@link WebhookPipelineStack} is a stack around it.
 */
import {
  Annotations,
  CfnDeletionPolicy,
  CfnOutput,
  type CfnResource,
  Duration,
  RemovalPolicy,
  Stack,
  Validations,
} from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct, type IConstruct } from 'constructs';
import {
  DEDUPE_TABLE,
  IDEMPOTENCY_TABLE,
  metricsNamespaceOf,
  PAYLOAD_KEY_PREFIX,
} from '../lambda/shared/contracts';
import { jobScheduleNamePrefix } from '../lambda/shared/producer-config';
import { DELETE_FAILED_PERIOD, deadLetterLifetime } from './alarm-conditions';
import { ConsumerCircuitBreakers } from './circuit-breakers';
import { withDidYouMean } from './closest-name';
import {
  DEFAULTS,
  type HooklineConfig,
  HooklineConfigError,
  type ResolvedConfig,
  type ResolvedQueue,
  resolveConfig,
} from './config';
import { propShapeViolations } from './config/parse-shape';
import { archiveFailedMetric, EventArchive } from './event-archive';
import { grantSendMessage } from './grants';
import {
  type GrantSendOptions,
  JobProducers,
  type ProducerVariables,
  refuseOtherEnvironment,
} from './job-producers';
import { JobsEndpoint } from './jobs-endpoint';
import { entryExistsInProject } from './load-config';
import { acknowledgeWildcardResource } from './nag-acknowledgements';
import { hooklinePackageRoot } from './package-root';
import {
  hooklineCommand,
  type MonitoredFunction,
  PipelineAlarms,
  type PipelineAlarmsProps,
  stackLogsQuery,
} from './pipeline-alarms';
import { PipelineDashboard } from './pipeline-dashboard';
import { PipelineQueue } from './pipeline-queue';
import { PipelineSchedules } from './pipeline-schedules';
import { entryOutsideBundleRoot, lockFileMissing, projectRootOf } from './project-root';
import {
  deleteFailedMetric,
  mappingScalingOf,
  QueueConsumer,
  type QueueConsumerProps,
} from './queue-consumer';
import { sourceNeedsSecret, usesConsumerTable } from './runtime-wiring';
import {
  BREAKER_SCHEDULES,
  BREAKER_SCHEDULES_RECOVER,
  JOB_SCHEDULES,
  JOB_SCHEDULES_RESEND,
  outputKey,
  pascalCase,
  STACK_OUTPUTS,
  scheduleDeadLetterQueueName,
} from './stack-outputs';
import { checkTemplateLimits } from './template-limits';
import { alarmTopicRegionViolations } from './validation';
import { throwIfViolations, ViolationsError, violation } from './violations';
import { secretIdOf, WEBHOOK_AUTHORIZATION_REASON, WebhookIngest } from './webhook-ingest';

/** Properties for a {@link HooklinePipeline}. */
export interface HooklinePipelineProps {
  /**
   * The pipeline's configuration: what `defineConfig({...})` returns (validated here, every problem at once),
   * or an already resolved configuration (`resolveConfig(...)`, as local mode runs it).
   */
  readonly config: HooklineConfig | ResolvedConfig;

  /**
   * The app's root: relative consumer entries resolve against it, and bundling uses the nearest lockfile at or
   * above it. An empty path is refused (leave it out for the working directory).
   *
   * @default - the working directory (where cdk.json is)
   */
  readonly projectRoot?: string;
}

/**
 * The whole pipeline from one configuration: a webhook URL per source, a queue pair per queue, a consumer per
 * consumer, the dedupe and idempotency tables, the claim-check bucket, alarms, and outputs the CLI reads.
 * The outputs have fixed names (the CLI finds them by name), so a stack holds at most one pipeline.
 */
export class HooklinePipeline extends Construct {
  /** The resolved configuration the pipeline was built from. */
  public readonly config: ResolvedConfig;

  private readonly projectRoot: string | undefined;
  /** Queue pair per configured queue name. */
  public readonly queues: Readonly<Record<string, PipelineQueue>>;
  /** Consumer per configured queue that has one. */
  public readonly consumers: Readonly<Record<string, QueueConsumer>>;
  /** The ingest API and function. */
  public readonly ingest: WebhookIngest;
  /** The signing secret of each verifying source, by source name. */
  public readonly signingSecrets: Readonly<Record<string, secretsmanager.ISecret>>;
  /** The signing secret of each forwarding queue (`consumer.forward`), by queue name. */
  public readonly forwardSecrets: Readonly<Record<string, secretsmanager.ISecret>>;
  /** The alarms and their topic. */
  public readonly alarms: PipelineAlarms;
  /** The consumers' circuit breakers (their alarms and the function they invoke), when any queue has one. */
  public readonly circuitBreakers?: ConsumerCircuitBreakers;
  /** Delivery-id table for ingest deduplication, when enabled. */
  public readonly dedupeTable?: dynamodb.Table;
  /** Per-record idempotency table for consumers, when any consumer uses it. */
  public readonly idempotencyTable?: dynamodb.Table;
  /** Claim-check bucket for bodies too large for SQS. */
  public readonly payloadBucket: s3.Bucket;
  /** The event archive (bucket and delivery stream), unless disabled. */
  public readonly archive?: EventArchive;
  /** EventBridge Scheduler schedules for the configured jobs, when there are any. */
  public readonly schedules?: PipelineSchedules;
  /** The CloudWatch dashboard. */
  public readonly dashboard: PipelineDashboard;
  /** Grants of job producers, created by the first {@link grantSend}. */
  public jobProducers?: JobProducers;
  /** `POST /jobs/{queue}` on the HTTP API, when `jobs.endpoint` is configured. */
  public readonly jobsEndpoint?: JobsEndpoint;
  /** Whether the one-time job schedules' dead-letter queue has its alarm, its graph and its outputs. */
  #jobScheduleDeadLetterQueueShown = false;
  /** Queues granted with flows, whose consumers send flow parents to one another. */
  readonly #flowQueues = new Set<string>();
  /** Each grantee granted to send jobs, and whether a grant allowed it delays. */
  readonly #producers = new Map<iam.IGrantable, boolean>();

  constructor(scope: Construct, id: string, props: HooklinePipelineProps) {
    super(scope, id);
    refuseSecondPipelineIn(Stack.of(this), this);
    checkTemplateLimits(this);
    // The configuration's entries are looked for under the project root, so a root of the wrong kind comes first.
    throwIfViolations(
      `HooklinePipeline ${this.node.path}`,
      propShapeViolations({ projectRoot: ['filledText', props.projectRoot] }),
    );
    const config = resolvedConfigOf(props.config, projectRootOf(props.projectRoot));
    this.config = config;
    this.projectRoot = props.projectRoot;
    const dataRemovalPolicy =
      config.removalPolicy === 'destroy' ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN;
    this.queues = this.createQueues(config);
    this.signingSecrets = this.createSecrets(config, dataRemovalPolicy);
    this.forwardSecrets = this.createForwardSecrets(config, dataRemovalPolicy);
    if (config.dedupe)
      this.dedupeTable = this.ttlTable(
        'DedupeTable',
        DEDUPE_TABLE.partitionKey,
        DEDUPE_TABLE.ttlAttribute,
        dataRemovalPolicy,
      );
    if (config.queues.some((q) => usesConsumerTable(q.consumer))) {
      // Powertools idempotency's default key and expiry attribute names (rate-limit windows use them too).
      this.idempotencyTable = this.ttlTable(
        'IdempotencyTable',
        IDEMPOTENCY_TABLE.partitionKey,
        IDEMPOTENCY_TABLE.ttlAttribute,
        dataRemovalPolicy,
      );
    }
    this.payloadBucket = this.createPayloadBucket(config);
    if (config.archive) {
      // Kept whatever removalPolicy says, like the claim-check bucket: CloudFormation cannot delete a bucket that
      // holds objects, so a Delete policy would leave `cdk destroy` failed on the first archived event.
      this.archive = new EventArchive(this, 'Archive', { retention: config.archive.retention });
    }
    this.ingest = this.createIngest(config);
    this.consumers = this.createConsumers(config);
    if (config.jobsEndpoint)
      this.jobsEndpoint = this.createJobsEndpoint(config, config.jobsEndpoint, dataRemovalPolicy);
    if (config.schedules.length > 0) this.schedules = this.createSchedules(config);
    this.alarms = this.createAlarms(config);
    this.circuitBreakers = this.createCircuitBreakers(config);
    if (this.circuitBreakers) this.watchCircuitBreakers(this.circuitBreakers);
    this.dashboard = this.createDashboard(config);
    this.addOutputs(config);
    this.showJobScheduleDeadLetterQueue();
    this.addNagSuppressions(config);
    this.warnWhenKeptResourcesAreDeleted(config);
  }

  /**
   * What hookline keeps when its stack is deleted: the signing, forwarding and jobs token secrets and the tables
   * unless `removalPolicy: 'destroy'`, the buckets always. An app's Aspect (or an override) can set their deletion policy
   * after the pipeline is built, so they are checked once the app is prepared, and the app is told what a deleted
   * stack then takes with it.
   */
  private warnWhenKeptResourcesAreDeleted(config: ResolvedConfig): void {
    const data: IConstruct[] =
      config.removalPolicy === 'destroy'
        ? []
        : [
            ...Object.values(this.signingSecrets),
            ...Object.values(this.forwardSecrets),
            ...(this.jobsEndpoint ? [this.jobsEndpoint.tokenSecret] : []),
            ...(this.dedupeTable ? [this.dedupeTable] : []),
            ...(this.idempotencyTable ? [this.idempotencyTable] : []),
          ];
    const buckets: IConstruct[] = [this.payloadBucket, ...(this.archive ? [this.archive.bucket] : [])];
    const deleted = (constructs: IConstruct[]) =>
      constructs
        .map((c) => c.node.defaultChild as CfnResource | undefined)
        .filter((r) => r !== undefined && r.cfnOptions.deletionPolicy !== CfnDeletionPolicy.RETAIN)
        .map((r) => r?.node.path.slice(this.node.path.length + 1).replace(/\/Resource$/, ''));
    let warned = false;
    this.node.addValidation({
      validate: () => {
        const [lostData, lostBuckets] = [deleted(data), deleted(buckets)];
        if (warned || lostData.length + lostBuckets.length === 0) return [];
        warned = true;
        Annotations.of(this).addWarningV2(
          'hookline:keptResourceDeleted',
          [
            `An Aspect or override set DeletionPolicy Delete on what hookline keeps when the stack is deleted (got ${[...lostData, ...lostBuckets].join(', ')}).`,
            lostData.length > 0
              ? `Deleting the stack would delete ${lostData.join(', ')} with what they hold (signing secrets, delivery and idempotency records).`
              : '',
            lostBuckets.length > 0
              ? `CloudFormation cannot delete a bucket that holds objects: deleting the stack would fail on ${lostBuckets.join(', ')}.`
              : '',
            `Fix: leave the resources under ${this.node.path} out of the Aspect${lostData.length > 0 ? ", or set removalPolicy: 'destroy' in the configuration to delete the secrets and tables with the stack" : ''}.`,
          ]
            .filter(Boolean)
            .join(' '),
        );
        return [];
      },
    });
  }

  /** A queue pair per configured queue; a consumer's timeout lets the queue check its visibility timeout. */
  private createQueues(config: ResolvedConfig): Record<string, PipelineQueue> {
    const queues: Record<string, PipelineQueue> = {};
    for (const q of config.queues) {
      queues[q.name] = new PipelineQueue(this, `Queue${pascalCase(q.name)}`, {
        fifo: q.fifo,
        ...(q.fifo
          ? { contentBasedDeduplication: q.contentBasedDeduplication, highThroughput: q.highThroughput }
          : {}),
        maxReceiveCount: q.maxReceiveCount,
        retentionPeriod: q.retentionPeriod,
        deadLetterRetentionPeriod: q.deadLetterRetentionPeriod,
        visibilityTimeout: q.visibilityTimeout,
        ...(q.consumer
          ? { consumerTimeout: q.consumer.timeout, consumerBatchingWindow: q.consumer.maxBatchingWindow }
          : {}),
      });
    }
    return queues;
  }

  /** The signing secret of each verifying source: created, or referenced by name. */
  private createSecrets(
    config: ResolvedConfig,
    removalPolicy: RemovalPolicy,
  ): Record<string, secretsmanager.ISecret> {
    const secrets: Record<string, secretsmanager.ISecret> = {};
    for (const source of config.sources.filter(sourceNeedsSecret)) {
      const existing = 'secret' in source ? source.secret?.existingSecretName : undefined;
      secrets[source.name] = existing
        ? secretsmanager.Secret.fromSecretNameV2(this, `Secret${pascalCase(source.name)}`, existing)
        : new secretsmanager.Secret(this, `Secret${pascalCase(source.name)}`, {
            description: `Signing secret of the hookline "${source.name}" webhook source (${source.type}). Put the sender's secret here; JSON {"secrets":["new","old"]} while rotating.`,
            generateSecretString: { passwordLength: 48, excludePunctuation: true },
            removalPolicy,
          });
    }
    return secrets;
  }

  /**
   * Each forwarding queue's signing secret: referenced by name, or generated as 48 letters and digits, which are
   * themselves a valid base64 key of 36 bytes (Standard Webhooks keys are 24 to 64); Secrets Manager cannot add the
   * `whsec_` prefix, which the signer and `hookline forward secret` accept or add. Kept as `removalPolicy` says,
   * as the sources' secrets: a destination verifying with it would otherwise refuse every event after a redeploy.
   */
  private createForwardSecrets(
    config: ResolvedConfig,
    removalPolicy: RemovalPolicy,
  ): Record<string, secretsmanager.ISecret> {
    const secrets: Record<string, secretsmanager.ISecret> = {};
    for (const queue of config.queues) {
      const forward = queue.consumer?.forward;
      if (!forward) continue;
      const id = `ForwardSecret${pascalCase(queue.name)}`;
      secrets[queue.name] = forward.secret
        ? secretsmanager.Secret.fromSecretNameV2(this, id, forward.secret.existingSecretName)
        : new secretsmanager.Secret(this, id, {
            description: `Standard Webhooks signing secret of the hookline "${queue.name}" queue's forwarding consumer (the base64 key; whsec_ + it for your destination: hookline forward secret ${queue.name}).`,
            generateSecretString: { passwordLength: 48, excludePunctuation: true, includeSpace: false },
            removalPolicy,
          });
    }
    return secrets;
  }

  /** The claim-check bucket: private, encrypted, its payloads expiring after the configured time. */
  private createPayloadBucket(config: ResolvedConfig): s3.Bucket {
    return new s3.Bucket(this, 'PayloadBucket', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [
        {
          prefix: PAYLOAD_KEY_PREFIX,
          expiration: Duration.days(Math.ceil(config.payloads.expiry.toDays({ integral: false }))),
        },
      ],
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }

  private createIngest(config: ResolvedConfig): WebhookIngest {
    return new WebhookIngest(this, 'Ingest', {
      settings: config,
      queues: this.queuesByName(),
      secrets: this.signingSecrets,
      ...(this.dedupeTable ? { dedupeTable: this.dedupeTable } : {}),
      payloadBucket: this.payloadBucket,
      ...(this.archive ? { archive: this.archive } : {}),
      timeout: config.ingest.timeout,
      memorySize: config.ingest.memorySize,
      rateLimit: config.ingest.rateLimit,
      burstLimit: config.ingest.burstLimit,
      ...functionOptionsOf(config),
    });
  }

  private createJobsEndpoint(
    config: ResolvedConfig,
    endpoint: NonNullable<ResolvedConfig['jobsEndpoint']>,
    removalPolicy: RemovalPolicy,
  ): JobsEndpoint {
    const jobs = new JobsEndpoint(this, 'JobsEndpoint', {
      api: this.ingest.api,
      queues: Object.fromEntries(
        endpoint.queues.map((name) => [name, { fifo: this.queues[name]?.queue.fifo ?? false }]),
      ),
      grantSend: (fn, queue, options) => this.grantSend(fn, queue, options),
      delays: endpoint.delays,
      secretCache: config.ingest.secretCache,
      removalPolicy,
      ...functionOptionsOf(config),
    });
    new CfnOutput(this, 'JobsEndpointUrl', {
      key: 'JobsEndpointUrl',
      value: `${this.ingest.api.apiEndpoint}/jobs`,
      description: 'Jobs endpoint: POST <url>/<queue> with Authorization: Bearer <token>',
    });
    new CfnOutput(this, 'JobsTokenSecretId', {
      key: 'JobsTokenSecretId',
      value: jobs.tokenSecret.secretArn,
      description: 'Bearer token(s) of the jobs endpoint',
    });
    new CfnOutput(this, STACK_OUTPUTS.jobsEndpointLogGroupName, {
      key: STACK_OUTPUTS.jobsEndpointLogGroupName,
      value: jobs.jobsFunction.logGroup.logGroupName,
      description: 'Jobs endpoint log group (hookline trace)',
    });
    return jobs;
  }

  /**
   * The producer grant's two prefixes: one object and one schedule per job, named when the job is sent. Each is
   * acknowledged where the grant puts it, on the grantee (a function, a role, a user) and on its principal when
   * that lives elsewhere (a function's role made outside it), so an app's own producer stays cdk-nag clean as the
   * jobs endpoint does. cdk-nag names a finding after the ARN as the producer's stack renders it, which is known
   * only once the app is prepared: in a stack other than the pipeline's, the bucket's ARN is an import (an export,
   * or a stack output reference) that CDK adds then.
   */
  private acknowledgeProducerGrant(grantee: iam.IGrantable, delays: boolean): void {
    const known = this.#producers.has(grantee);
    this.#producers.set(grantee, delays || this.#producers.get(grantee) === true);
    const scopes = grantScopesOf(grantee);
    if (known || !scopes[0]) return;
    let acknowledged = false;
    scopes[0].node.addValidation({
      validate: () => {
        if (!acknowledged) this.acknowledgeProducerFindings(scopes, this.#producers.get(grantee) === true);
        acknowledged = true;
        return [];
      },
    });
  }

  private acknowledgeProducerFindings(scopes: readonly IConstruct[], delays: boolean): void {
    const producers = this.jobProducers;
    if (!producers) return;
    const findings: { resource: string | undefined; reason: string }[] = [
      {
        resource: producers.payloadObjectArns,
        reason:
          'A claim-checked job payload has one key per job, so a job producer may put any object under payloads/job/ and nothing else.',
      },
      ...(delays
        ? [
            {
              resource: producers.scheduleArns,
              reason:
                "A delayed job's one-time schedule is named per job, so a job producer may create and delete only schedules under the stack's job prefix.",
            },
          ]
        : []),
    ];
    for (const scope of scopes) {
      const stack = Stack.of(scope);
      for (const { resource, reason } of findings) {
        if (resource === undefined) continue;
        acknowledgeWildcardResource(scope, stack.resolve(resource), reason);
      }
    }
  }

  private createConsumers(config: ResolvedConfig): Record<string, QueueConsumer> {
    const consumers: Record<string, QueueConsumer> = {};
    for (const q of config.queues) {
      const pair = this.queues[q.name];
      if (!q.consumer || !pair) continue;
      consumers[q.name] = new QueueConsumer(this, `Consumer${pascalCase(q.name)}`, {
        queue: pair.queue,
        deadLetterQueue: pair.deadLetterQueue,
        ...queueConsumerSettings(q),
        ...(q.consumer.idempotency && this.idempotencyTable
          ? { idempotencyTable: this.idempotencyTable }
          : {}),
        ...(q.consumer.rateLimit && this.idempotencyTable ? { rateLimitTable: this.idempotencyTable } : {}),
        payloadBucket: this.payloadBucket,
        ...(this.dedupeTable ? { jobRecordTable: this.dedupeTable } : {}),
        ...(this.archive ? { archive: this.archive } : {}),
        ...(this.projectRoot ? { projectRoot: this.projectRoot } : {}),
        ...this.forwardOf(q),
        ...functionOptionsOf(config),
      });
    }
    return consumers;
  }

  /** A forwarding consumer's props: hookline's own entry, bundled from hookline's package, its URL and secret. */
  private forwardOf(queue: ResolvedQueue): Pick<QueueConsumerProps, 'forward' | 'projectRoot'> {
    const forward = queue.consumer?.forward;
    const secret = this.forwardSecrets[queue.name];
    if (!forward || !secret) return {};
    return {
      projectRoot: hooklinePackageRoot(),
      forward: {
        url: forward.url,
        timeout: forward.timeout,
        secret,
        secretCache: this.config.ingest.secretCache,
      },
    };
  }

  private createSchedules(config: ResolvedConfig): PipelineSchedules {
    return new PipelineSchedules(this, 'Schedules', {
      schedules: config.schedules,
      queues: this.queuesByName(),
    });
  }

  /** The schedules' dead-letter queues (deliveries the scheduler gave up on), by schedule name. */
  private scheduleDeadLetterQueues(): { name: string; queue: sqs.IQueue }[] {
    return this.schedules
      ? Object.entries(this.schedules.schedules).map(([name, s]) => ({ name, queue: s.deadLetterQueue }))
      : [];
  }

  /** The functions the alarms watch: the ingest, every consumer and the jobs endpoint, with their log groups. */
  private monitoredFunctions(): MonitoredFunction[] {
    return [
      // Upper-case ids: queue names are lower-case, so a queue named `ingest` keeps its own alarms.
      {
        name: 'ingest',
        id: 'Ingest',
        fn: this.ingest.ingestFunction,
        logGroup: this.ingest.ingestFunction.logGroup,
      },
      ...Object.entries(this.consumers).map(([name, c]) => ({
        name,
        fn: c.consumerFunction,
        logGroup: c.consumerFunction.logGroup,
        consumesQueue: true,
      })),
      // A space: never a queue's name, so its alarm ids cannot meet a consumer's.
      ...(this.jobsEndpoint
        ? [
            {
              name: 'jobs endpoint',
              fn: this.jobsEndpoint.jobsFunction,
              logGroup: this.jobsEndpoint.jobsFunction.logGroup,
            },
          ]
        : []),
    ];
  }

  private createAlarms(config: ResolvedConfig): PipelineAlarms {
    const existingTopicArn = config.alarms.existingTopicArn;
    if (existingTopicArn) {
      const problems = alarmTopicRegionViolations(
        'alarms.existingTopicArn',
        existingTopicArn,
        Stack.of(this).region,
      );
      if (problems.length > 0) throw new HooklineConfigError(problems);
    }
    return new PipelineAlarms(this, 'Alarms', {
      queues: config.queues.flatMap((q) => {
        const pair = this.queues[q.name];
        return pair
          ? [
              {
                name: q.name,
                queue: pair.queue,
                deadLetterQueue: pair.deadLetterQueue,
                oldestMessageAge: q.oldestMessageAgeAlarm,
                fair: q.tenants !== undefined,
                consumed: this.consumers[q.name] !== undefined,
                deadLetterLifetime: deadLetterLifetime(q),
              },
            ]
          : [];
      }),
      functions: this.monitoredFunctions(),
      api: this.ingest.api,
      ingestLogGroup: this.ingest.ingestFunction.logGroup,
      ...(this.jobsEndpoint ? { jobsEndpointLogGroup: this.jobsEndpoint.jobsFunction.logGroup } : {}),
      ...this.deleteFailureAlarmProps(),
      ...this.archiveAlarmProps(),
      deadLetterQueues: config.schedules.flatMap(({ name, queue: target }) => {
        const queue = this.schedules?.schedules[name]?.deadLetterQueue;
        const cliName = scheduleDeadLetterQueueName(name);
        return queue
          ? [
              {
                name: cliName,
                id: `Schedule-${name}`,
                queue,
                // Scheduler sends each dead letter afresh: it lives the queue's whole retention.
                lifetime: DEFAULTS.scheduleDeadLetterRetentionPeriod,
                description: `Deliveries of schedule "${name}" to the "${target}" queue are waiting in its dead-letter queue: EventBridge Scheduler gave up on them. Read why with ${hooklineCommand(this, `failed list ${cliName}`)}, fix the cause, then ${hooklineCommand(this, `redrive ${cliName}`)}.`,
              },
            ]
          : [];
      }),
      signingSources: {
        namespace: metricsNamespaceOf(Stack.of(this).stackName),
        names: config.sources.filter(sourceNeedsSecret).map((source) => source.name),
      },
      ...(config.alarms.existingTopicArn
        ? { topic: sns.Topic.fromTopicArn(this, 'ExistingAlarmTopic', config.alarms.existingTopicArn) }
        : {}),
      ...(config.alarms.email ? { email: config.alarms.email } : {}),
    });
  }

  /** The consumers' failed own deletes, summed over every consumer of the stack; nothing without a consumer. */
  private deleteFailureAlarmProps(): Pick<PipelineAlarmsProps, 'deleteFailures' | 'deleteFailuresCommand'> {
    if (Object.keys(this.consumers).length === 0) return {};
    return {
      deleteFailures: deleteFailedMetric(DELETE_FAILED_PERIOD, metricsNamespaceOf(Stack.of(this).stackName)),
      deleteFailuresCommand: stackLogsQuery(
        this,
        3_600,
        'filter @message like /DeleteMessage failed/ | stats count(*) by @log, error',
      ),
    };
  }

  /** The archive's failed puts (every function's, summed) and its stalled delivery; nothing without the archive. */
  private archiveAlarmProps(): Pick<
    PipelineAlarmsProps,
    'archiveFailures' | 'archiveDelivery' | 'archiveFailuresCommand'
  > {
    if (!this.archive) return {};
    return {
      archiveFailures: archiveFailedMetric(
        DEFAULTS.functionAlarmPeriod,
        metricsNamespaceOf(Stack.of(this).stackName),
      ),
      archiveDelivery: {
        ...this.archive.staleDelivery(DEFAULTS.functionAlarmPeriod),
        errorLogGroup: this.archive.deliveryErrors,
      },
      archiveFailuresCommand: stackLogsQuery(
        this,
        3_600,
        'filter @message like /archive (put failed|record too large)/ | fields @timestamp, @log, @message',
      ),
    };
  }

  /** One breaker alarm per consumer that has a circuit breaker, all invoking one function; none without. */
  private createCircuitBreakers(config: ResolvedConfig): ConsumerCircuitBreakers | undefined {
    const consumers = config.queues.flatMap((q) => {
      const consumer = this.consumers[q.name];
      const breaker = q.consumer?.circuitBreaker;
      return consumer && breaker && q.consumer
        ? [
            {
              name: q.name,
              eventSourceMappingId: consumer.eventSourceMappingId,
              ...breaker,
              scaling: mappingScalingOf(q.consumer),
            },
          ]
        : [];
    });
    if (consumers.length === 0) return undefined;
    return new ConsumerCircuitBreakers(this, 'CircuitBreakers', {
      consumers,
      topic: this.alarms.topic,
      ...functionOptionsOf(config),
    });
  }

  /**
   * The breaker function's errors and throttles. CloudWatch invokes it asynchronously once per trip: when every
   * attempt fails the event is dropped, the breaker alarm stays in ALARM (so it never invokes again) and its
   * notification said the consumer was paused while it still runs; a failed probe or close leaves the consumer
   * paused or at probe concurrency. And the dead-letter queue of the probe and close schedules, when a breaker
   * probes: what Scheduler could not deliver leaves the consumer so too.
   */
  private watchCircuitBreakers(breakers: ConsumerCircuitBreakers): void {
    const fn = breakers.breakerFunction;
    this.alarms.watchFunction({
      // A space and an upper-case id: never a queue's name, so its alarms cannot meet a consumer's.
      name: 'circuit breaker',
      id: 'CircuitBreaker',
      fn,
      logGroup: fn.logGroup,
      failureImpact: `It may not have paused, probed or closed a consumer as its breaker alarm said: run ${hooklineCommand(this, 'status')}, which says whether each consumer is paused, then pause or resume it by hand.`,
    });
    const deadLetterQueue = breakers.scheduleDeadLetterQueue;
    if (!deadLetterQueue) return;
    // A probe Scheduler could not deliver never invokes the function, so the function's own alarms stay quiet.
    this.alarms.watchDeadLetterQueue({
      name: BREAKER_SCHEDULES,
      id: 'BreakerSchedules',
      queue: deadLetterQueue,
      // Scheduler sends each dead letter afresh: it lives the queue's whole retention. A probe lost there leaves its
      // consumer paused with nothing left to say which.
      lifetime: DEFAULTS.scheduleDeadLetterRetentionPeriod,
      redrivable: false,
      description: `Circuit breaker probes or closes are waiting in the ${BREAKER_SCHEDULES} dead-letter queue: EventBridge Scheduler could not invoke the breaker function with them, so their consumers stay paused or at probe concurrency. Read why with ${hooklineCommand(this, `failed list ${BREAKER_SCHEDULES}`)}, fix the cause, then ${BREAKER_SCHEDULES_RECOVER} (this queue cannot be redriven).`,
    });
  }

  private createDashboard(config: ResolvedConfig): PipelineDashboard {
    const dashboard = new PipelineDashboard(this, 'Dashboard', {
      // The array itself, read at synthesis: the alarms a grant adds later are shown too.
      alarms: this.alarms.alarms,
      api: this.ingest.api,
      queues: config.queues.flatMap((q) => {
        const pair = this.queues[q.name];
        if (!pair) return [];
        const consumer = this.consumers[q.name];
        return [
          {
            name: q.name,
            queue: pair.queue,
            deadLetterQueue: pair.deadLetterQueue,
            ...(consumer ? { consumer: consumer.consumerFunction } : {}),
            fair: q.tenants !== undefined,
          },
        ];
      }),
      ingestFunction: this.ingest.ingestFunction,
      ...(this.jobsEndpoint ? { jobsFunction: this.jobsEndpoint.jobsFunction } : {}),
      ingestLogGroup: this.ingest.ingestFunction.logGroup,
      unverifiedSources: config.sources.filter((s) => s.type === 'unverified').map((s) => s.name),
      extraDeadLetterQueues: [
        ...this.scheduleDeadLetterQueues().map(({ name, queue }) => ({
          label: `schedule ${name} DLQ`,
          queue,
        })),
        ...(this.circuitBreakers?.scheduleDeadLetterQueue
          ? [{ label: 'breaker schedules DLQ', queue: this.circuitBreakers.scheduleDeadLetterQueue }]
          : []),
      ],
    });
    if (this.circuitBreakers) dashboard.showAlarms(Object.values(this.circuitBreakers.alarms));
    return dashboard;
  }

  /**
   * Lets a grantee send jobs (`hookline/producer`) to a configured queue: a Lambda function, an ECS task's role
   * (with `{ environment: container }`, the container that runs the producer), or any IAM principal (a role or a
   * user a script runs as). It gets exactly `sqs:SendMessage` there, its job records, claim-checked payloads under
   * `payloads/job/` and, with `{ delays: true }`, one-time schedules sent by a role that may only send to that
   * queue (and to their dead-letter queue, which gets an alarm, a graph on the dashboard and the output the CLI
   * finds it by, whether the grant comes before or after the pipeline is built). Sets the environment
   * `createProducer()` reads on the function or `options.environment`, and returns it, for a process CDK does not
   * configure (a stack output). That environment holds one pipeline's: a producer another pipeline granted is
   * refused.
   */
  grantSend(grantee: iam.IGrantable, queueName: string, options: GrantSendOptions = {}): ProducerVariables {
    const pair = this.queues[queueName];
    if (!pair) {
      throw new ViolationsError('Invalid grantSend', [
        violation(
          'queueName',
          withDidYouMean('is not a configured queue', queueName, Object.keys(this.queues)),
          queueName,
          `use one of: ${Object.keys(this.queues).join(', ')}`,
        ),
      ]);
    }
    refuseOtherEnvironment(grantee, this, queueName);
    this.jobProducers ??= new JobProducers(this, 'JobProducers', {
      ...(this.dedupeTable ? { dedupeTable: this.dedupeTable, dedupeTtl: this.config.dedupe?.ttl } : {}),
      payloadBucket: this.payloadBucket,
      inlineLimitBytes: this.config.payloads.inlineLimitBytes,
      payloadExpiry: this.config.payloads.expiry,
      scheduleNamePrefix: this.jobSchedulePrefix(),
    });
    const variables = this.jobProducers.grantSend(grantee, queueName, pair.queue, options);
    if (options.flows) this.grantFlows(queueName);
    this.acknowledgeProducerGrant(grantee, options.delays === true);
    // A grant made once the pipeline is built (an app's own producer) shows the queue now; one made during
    // construction (the jobs endpoint) is shown at the end of the constructor, when alarms and dashboard exist.
    if (this.dashboard) this.showJobScheduleDeadLetterQueue();
    return variables;
  }

  /**
   * A queue granted with flows: whoever completes a flow's last child sends its parent, so the consumer of each
   * such queue may send to every such queue (a parent's and its children's queues are all granted with flows: the
   * producer refuses a flow otherwise), and to no other. Its job records it already may update.
   */
  private grantFlows(queueName: string): void {
    if (this.#flowQueues.has(queueName)) return;
    this.#flowQueues.add(queueName);
    const sendTo = (consumerOf: string, queue: string) => {
      const target = this.queues[queue]?.queue;
      if (!target) return;
      const consumer = this.consumers[consumerOf]?.consumerFunction;
      if (consumer) grantSendMessage(target, consumer);
    };
    for (const other of this.#flowQueues) {
      sendTo(other, queueName);
      if (other !== queueName) sendTo(queueName, other);
    }
  }

  /**
   * Once the one-time job schedules' dead-letter queue exists: its alarm, its graph on the dashboard, and the
   * output through which `hookline status` and `hookline failed` find it. A dead letter nobody sees is lost.
   */
  private showJobScheduleDeadLetterQueue(): void {
    const queue = this.jobProducers?.schedulerDeadLetterQueue;
    if (!queue || this.#jobScheduleDeadLetterQueueShown) return;
    // An upper-case id: queue names are lower-case, so it never meets a queue's own DLQ alarm.
    this.alarms.watchDeadLetterQueue({
      name: JOB_SCHEDULES,
      id: 'JobSchedules',
      queue,
      // Scheduler sends each dead letter afresh: it lives the queue's whole retention. A letter lost there is a
      // delayed job lost.
      lifetime: DEFAULTS.scheduleDeadLetterRetentionPeriod,
      redrivable: false,
      description: `One-time jobs are waiting in the ${JOB_SCHEDULES} dead-letter queue: EventBridge Scheduler could not deliver them to their queue. Read why with ${hooklineCommand(this, `failed list ${JOB_SCHEDULES}`)}, fix the cause, then ${JOB_SCHEDULES_RESEND} (this queue cannot be redriven).`,
    });
    this.dashboard.chartDeadLetterQueue({ label: 'job schedules DLQ', queue });
    const description = 'one-time job schedules (jobs EventBridge Scheduler could not deliver)';
    new CfnOutput(this, STACK_OUTPUTS.jobSchedulesDeadLetterQueueUrl, {
      key: STACK_OUTPUTS.jobSchedulesDeadLetterQueueUrl,
      value: queue.queueUrl,
      description: `URL of the DLQ of the ${description}`,
    });
    this.#jobScheduleDeadLetterQueueShown = true;
  }

  /**
   * Job schedules of this pipeline are named under its stack's real name (unique in an account and region), not
   * the configuration's `stackName`: two stages of one app in one account must not reach each other's schedules.
   * A nested stack's name is only known once deployed (a token here, the same in two apps built alike): its
   * top-level stack's name and its path in it are as unique. The `/` never is in a stack name, so the prefix is a
   * hash no top-level stack's name gives.
   */
  private jobSchedulePrefix(): string {
    const stack = Stack.of(this);
    let root = stack;
    while (root.nestedStackParent) root = root.nestedStackParent;
    return jobScheduleNamePrefix(root === stack ? stack.stackName : `${root.stackName}/${stack.node.path}`);
  }

  private queuesByName(): Record<string, sqs.IQueue> {
    return Object.fromEntries(Object.entries(this.queues).map(([name, q]) => [name, q.queue as sqs.IQueue]));
  }

  /** An on-demand, encrypted, point-in-time-recoverable table whose items expire through a TTL attribute. */
  private ttlTable(
    id: string,
    partitionKey: string,
    timeToLiveAttribute: string,
    removalPolicy: RemovalPolicy,
  ): dynamodb.Table {
    return new dynamodb.Table(this, id, {
      partitionKey: { name: partitionKey, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      removalPolicy,
    });
  }

  private addOutputs(config: ResolvedConfig): void {
    const out = (key: string, value: string, description: string) =>
      new CfnOutput(this, key, { key, value, description });
    out(STACK_OUTPUTS.apiUrl, this.ingest.api.apiEndpoint, 'Base URL of the webhook API');
    out(STACK_OUTPUTS.ingestFunctionName, this.ingest.ingestFunction.functionName, 'Ingest function');
    out(
      STACK_OUTPUTS.ingestLogGroupName,
      this.ingest.ingestFunction.logGroup.logGroupName,
      'Ingest log group (hookline trace)',
    );
    out(STACK_OUTPUTS.alarmTopicArn, this.alarms.topic.topicArn, 'SNS topic every alarm notifies');
    out(
      STACK_OUTPUTS.payloadBucketName,
      this.payloadBucket.bucketName,
      'Claim-check bucket for large bodies',
    );
    out(STACK_OUTPUTS.dashboardName, this.dashboard.dashboard.dashboardName, 'CloudWatch dashboard');
    if (this.archive) {
      out(STACK_OUTPUTS.archiveBucketName, this.archive.bucket.bucketName, 'Event archive bucket (replay)');
      out(STACK_OUTPUTS.archiveStreamName, this.archive.deliveryStreamName, 'Event archive delivery stream');
    }
    if (this.dedupeTable)
      out(STACK_OUTPUTS.dedupeTableName, this.dedupeTable.tableName, 'Ingest delivery-id table');
    if (this.idempotencyTable) {
      out(STACK_OUTPUTS.idempotencyTableName, this.idempotencyTable.tableName, 'Consumer idempotency table');
    }
    for (const source of config.sources) {
      out(
        outputKey('WebhookUrl', source.name),
        this.ingest.webhookUrl(source.name),
        `Webhook URL of "${source.name}" (${source.type})`,
      );
    }
    for (const source of config.sources) {
      const secret = this.signingSecrets[source.name];
      if (!secret) continue;
      out(
        outputKey('SigningSecretId', source.name),
        secretIdOf(secret),
        `Signing secret of "${source.name}": set it with hookline secrets set ${source.name}`,
      );
    }
    for (const [queue, secret] of Object.entries(this.forwardSecrets)) {
      out(
        outputKey('ForwardSecretId', queue),
        secretIdOf(secret),
        `Signing secret of queue "${queue}"'s forwarding: print it with hookline forward secret ${queue}`,
      );
    }
    for (const [name, pair] of Object.entries(this.queues)) {
      // No ARN outputs: the CLI derives each queue's ARN from its URL, and outputs are what limits queues.
      out(outputKey('QueueUrl', name), pair.queue.queueUrl, `URL of queue "${name}"`);
      out(
        outputKey('DeadLetterQueueUrl', name),
        pair.deadLetterQueue.queueUrl,
        `URL of the DLQ of "${name}"`,
      );
    }
    this.addScheduleDeadLetterOutputs();
    for (const [name, consumer] of Object.entries(this.consumers)) {
      out(
        outputKey('ConsumerFunctionName', name),
        consumer.consumerFunction.functionName,
        `Consumer of "${name}"`,
      );
      out(
        outputKey('EventSourceMappingId', name),
        consumer.eventSourceMappingId,
        `Event source mapping of "${name}"`,
      );
      out(
        outputKey('ConsumerLogGroupName', name),
        consumer.consumerFunction.logGroup.logGroupName,
        `Log group of the consumer of "${name}" (hookline trace)`,
      );
    }
  }

  /**
   * Each schedule's dead-letter queue, and the circuit breakers' probe schedules' one, through which `hookline
   * status` and `hookline failed` find them.
   */
  private addScheduleDeadLetterOutputs(): void {
    for (const { name, queue } of this.scheduleDeadLetterQueues()) {
      const url = outputKey('ScheduleDeadLetterQueueUrl', name);
      new CfnOutput(this, url, {
        key: url,
        value: queue.queueUrl,
        description: `URL of the DLQ of schedule "${name}" (deliveries EventBridge Scheduler gave up on)`,
      });
    }
    const breakerDeadLetters = this.circuitBreakers?.scheduleDeadLetterQueue;
    if (breakerDeadLetters) {
      new CfnOutput(this, STACK_OUTPUTS.breakerSchedulesDeadLetterQueueUrl, {
        key: STACK_OUTPUTS.breakerSchedulesDeadLetterQueueUrl,
        value: breakerDeadLetters.queueUrl,
        description:
          "URL of the DLQ of the circuit breakers' probe and close schedules (those EventBridge Scheduler could not deliver)",
      });
    }
  }

  /** Every cdk-nag finding this design accepts, each with its reason (cdk-nag v3: one acknowledgement per finding). */
  private addNagSuppressions(config: ResolvedConfig): void {
    const validations = Validations.of(this);
    for (const [id, reason] of Object.entries(NAG_ACKNOWLEDGEMENTS)) validations.acknowledge({ id, reason });
    if (config.tracing) {
      validations.acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'Active tracing grants xray:PutTraceSegments and xray:PutTelemetryRecords, which X-Ray accepts only on "*"; a template test keeps every other action off "*".',
      });
    }
  }
}

/** A resolved configuration is passed through; a declared one is validated, its entries under `projectRoot`. */
function resolvedConfigOf(config: HooklineConfig | ResolvedConfig, projectRoot: string): ResolvedConfig {
  if (isResolved(config)) return config;
  return resolveConfig(config, {
    entryExists: (entry) => entryExistsInProject(entry, projectRoot),
    entryOutsideBundleRoot: (entry) => entryOutsideBundleRoot(entry, projectRoot),
    lockFileMissing: () => lockFileMissing(projectRoot),
    forDeploy: true,
  });
}

/** Resolved sources are a list; declared ones are a record by name. */
function isResolved(config: HooklineConfig | ResolvedConfig): config is ResolvedConfig {
  // A configuration that is no object at all is resolveConfig's to report.
  return Array.isArray((config as Partial<ResolvedConfig> | undefined)?.sources);
}

/**
 * The cdk-nag AwsSolutions findings this design accepts, each with its reason. A test asserts that nothing
 * else is reported, so a new finding fails the build until it is fixed or explained here.
 */
export const NAG_ACKNOWLEDGEMENTS: Readonly<Record<string, string>> = {
  'AwsSolutions-APIG4': `${WEBHOOK_AUTHORIZATION_REASON} The jobs endpoint's callers send a bearer token, checked inside the jobs endpoint's function against the tokens its secret holds (several during a rotation), so no authorizer adds a check.`,
  'AwsSolutions-SMG4':
    "Each secret is shared with a party a rotation function cannot update: a source's signing secret with its sender (which issues or stores it), a forwarding queue's signing secret with its destination (which verifies with it), the jobs endpoint's token with the app's callers. They are rotated by storing the new value beside the old one (several active secrets) until that party has switched.",
  'AwsSolutions-S1':
    'The claim-check and archive buckets are written and read only by the pipeline roles (and the archive by its delivery stream); access is audited through CloudTrail rather than a second logging bucket.',
  'AwsSolutions-SNS2':
    'Alarm notifications carry no event data; the AWS-managed SNS key would block CloudWatch from publishing, and a customer key adds cost for no protected content.',
};

/** Log retention and tracing, which every function of the pipeline shares. */
function functionOptionsOf(config: ResolvedConfig): {
  logRetention: logs.RetentionDays;
  tracing?: lambda.Tracing;
} {
  return {
    logRetention: config.logRetentionDays as logs.RetentionDays,
    ...(config.tracing ? { tracing: lambda.Tracing.ACTIVE } : {}),
  };
}

/**
 * A configured queue's consumer, as {@link QueueConsumer} props (everything but the resources).
 * Throws when the queue has no consumer.
 */
export function queueConsumerSettings(
  queue: ResolvedQueue,
): Omit<
  QueueConsumerProps,
  'queue' | 'deadLetterQueue' | 'idempotencyTable' | 'rateLimitTable' | 'payloadBucket'
> {
  const consumer = queue.consumer;
  if (!consumer) throw new Error(`queue "${queue.name}" has no consumer configured`);
  return {
    name: queue.name,
    entry: consumer.entry,
    handler: consumer.handler,
    timeout: consumer.timeout,
    memorySize: consumer.memorySize,
    batchSize: consumer.batchSize,
    maxBatchingWindow: consumer.maxBatchingWindow,
    ...(consumer.maxConcurrency !== undefined ? { maxConcurrency: consumer.maxConcurrency } : {}),
    ...(consumer.minimumPollers !== undefined ? { minimumPollers: consumer.minimumPollers } : {}),
    ...(consumer.maximumPollers !== undefined ? { maximumPollers: consumer.maximumPollers } : {}),
    ...(consumer.reservedConcurrency !== undefined
      ? { reservedConcurrency: consumer.reservedConcurrency }
      : {}),
    parallelism: consumer.parallelism,
    retry: consumer.retry,
    deadlineMargin: consumer.deadlineMargin,
    maxReceiveCount: queue.maxReceiveCount,
    retentionPeriod: queue.retentionPeriod,
    deadLetterRetentionPeriod: queue.deadLetterRetentionPeriod,
    environment: consumer.environment,
    ...(consumer.idempotency ? { idempotencyExpiry: consumer.idempotency.expiry } : {}),
    ...(consumer.rateLimit ? { rateLimit: consumer.rateLimit } : {}),
    ...(consumer.circuitBreaker ? { circuitBreaker: consumer.circuitBreaker } : {}),
    metricTypes: consumer.metricTypes,
  };
}

/** The stacks that already hold a pipeline (its outputs, which the CLI reads, are named once per stack). */
const pipelineOfStack = new WeakMap<Stack, HooklinePipeline>();

function refuseSecondPipelineIn(stack: Stack, pipeline: HooklinePipeline): void {
  const first = pipelineOfStack.get(stack);
  if (first) {
    // A mistake in the app, not a bug: listed as a configuration error is, without hookline's stack frames.
    throwIfViolations(`HooklinePipeline ${pipeline.node.path}`, [
      violation(
        pipeline.node.path,
        `stack ${stack.stackName} already has one (${first.node.path}). A stack holds one pipeline: its outputs (ApiUrl, the queue URLs) are what the CLI reads`,
        pipeline.node.id,
        'put the second pipeline in a stack of its own, or add its sources and queues to the first',
      ),
    ]);
  }
  pipelineOfStack.set(stack, pipeline);
}

/**
 * Where a grant to `grantee` puts its statements, as constructs to acknowledge cdk-nag findings on: the grantee (a
 * function, a role, a user), and its principal when that lives outside it (a function's role made elsewhere).
 */
function grantScopesOf(grantee: iam.IGrantable): IConstruct[] {
  const scopes: IConstruct[] = [];
  if (Construct.isConstruct(grantee)) scopes.push(grantee);
  const principal: unknown = grantee.grantPrincipal;
  if (!Construct.isConstruct(principal)) return scopes;
  const inside = (scope: IConstruct) =>
    principal === scope || principal.node.path.startsWith(`${scope.node.path}/`);
  if (!scopes.some(inside)) scopes.push(principal);
  return scopes;
}
