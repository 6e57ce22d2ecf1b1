import * as path from 'node:path';
import { Arn, ArnFormat, AssetHashType, type Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { deliveryDedupeKeyPattern, INGEST_SERVICE } from '../lambda/shared/contracts';
import { INGEST_CONFIG_ENV, STACK_SECRET_PREFIX } from '../lambda/shared/runtime-config';
import { DEFAULTS } from './config';
import { propShapeViolations, propsWithout } from './config/parse-shape';
import { propTokenViolations } from './config/tokens';
import type { EventArchive } from './event-archive';
import {
  DEDUPE_CLAIM_ACTIONS,
  grantItemAccessByKey,
  grantPayloadObjects,
  grantSecretValue,
  grantSendMessage,
} from './grants';
import { defaultLogRetention, HooklineFunction, LOG_RETENTION_PROP, TRACING_PROP } from './hookline-function';
import { buildIngestAsset, INGEST_ENTRY } from './ingest-asset';
import { hooklinePackageRoot, prebuiltIngestDir } from './package-root';
import {
  type IngestSettings,
  ingestRuntimeConfig,
  type PipelineResources,
  routedQueues,
  STACK_LOCATION,
} from './runtime-wiring';
import { ingestViolations, throwIfViolations } from './validation';

export { INGEST_ENTRY } from './ingest-asset';

/**
 * hookline's own ingest code, split into an entry and chunks (see ingest-asset.ts): prebuilt in the installed
 * package (`npm run build`), else bundled from the sources of this repository at synth, with the same options.
 */
function ingestCode(): { entry: string; projectRoot: string; code: lambda.Code } {
  const projectRoot = hooklinePackageRoot();
  const prebuilt = prebuiltIngestDir();
  return {
    entry: INGEST_ENTRY,
    projectRoot,
    code: prebuilt ? lambda.Code.fromAsset(prebuilt) : bundledFromSources(projectRoot),
  };
}

/**
 * Local bundling of the sources (CDK skips it for stacks excluded from bundling, as it does NodejsFunction's);
 * the asset is hashed by its output, so an unchanged bundle is an unchanged asset.
 */
function bundledFromSources(root: string): lambda.Code {
  return lambda.Code.fromAsset(path.join(root, 'lambda'), {
    assetHashType: AssetHashType.OUTPUT,
    bundling: {
      image: lambda.Runtime.NODEJS_24_X.bundlingImage,
      local: {
        tryBundle(outputDir: string): boolean {
          buildIngestAsset(root, outputDir);
          return true;
        },
      },
    },
  });
}

/** Why the webhook route has no authorizer, for cdk-nag (AwsSolutions-APIG4). */
export const WEBHOOK_AUTHORIZATION_REASON =
  'Webhook senders cannot present IAM, JWT or Cognito credentials, and authorizers cannot see the body: every webhook is authenticated by its HMAC signature (or token) inside the ingest function.';

/** Properties for a {@link WebhookIngest}. */
export interface WebhookIngestProps {
  /**
   * What the ingest function verifies and routes: sources, routes, each queue's FIFO grouping, dedupe,
   * claim-check and kept-header settings. A resolved configuration (`resolveConfig(...)`) is one; the
   * function's environment is built from it by `ingestRuntimeConfig`, as local mode does.
   */
  readonly settings: IngestSettings;

  /**
   * The queue behind each queue name of `settings`. The function may send only to those a route or the default
   * route of `settings` enqueues to; the others (fed by jobs or schedules) are out of its reach.
   */
  readonly queues: Readonly<Record<string, sqs.IQueue>>;

  /**
   * The signing secret of each source that verifies signatures.
   */
  readonly secrets: Readonly<Record<string, secretsmanager.ISecret>>;

  /**
   * Table recording delivery ids, so a redelivered webhook is acknowledged but not enqueued twice.
   *
   * @default - no deduplication at ingest
   */
  readonly dedupeTable?: dynamodb.ITable;

  /**
   * Bucket for bodies too large to travel inline in SQS (claim checks).
   *
   * @default - bodies above the inline limit are answered 413
   */
  readonly payloadBucket?: s3.IBucket;

  /**
   * The event archive: every accepted event is put to its delivery stream beside the enqueue.
   *
   * @default - nothing is archived
   */
  readonly archive?: EventArchive;

  /**
   * Timeout of the ingest function (1 to 29 seconds: the API gives up at 29, senders after 3 to 10).
   *
   * @default DEFAULTS.ingestTimeout (10 seconds)
   */
  readonly timeout?: Duration;

  /**
   * Memory of the ingest function, in MB (128 to 10240).
   *
   * @default DEFAULTS.ingestMemorySize (512)
   */
  readonly memorySize?: number;

  /**
   * Sustained requests per second the API stage accepts before answering 429.
   *
   * @default DEFAULTS.ingestRateLimit (1000)
   */
  readonly rateLimit?: number;

  /**
   * Requests the API stage accepts at once (at least `rateLimit`).
   *
   * @default DEFAULTS.ingestBurstLimit (1000)
   */
  readonly burstLimit?: number;

  /**
   * X-Ray tracing mode of the ingest function.
   *
   * @default - DEFAULTS.tracing (disabled)
   */
  readonly tracing?: lambda.Tracing;

  /**
   * Retention of the function's and the API's log groups.
   *
   * @default DEFAULTS.logRetentionDays (30 days)
   */
  readonly logRetention?: logs.RetentionDays;
}

/** The JSON access log line of the stage. */
const ACCESS_LOG_FORMAT = {
  requestId: '$context.requestId',
  ip: '$context.identity.sourceIp',
  requestTime: '$context.requestTime',
  method: '$context.httpMethod',
  routeKey: '$context.routeKey',
  path: '$context.path',
  status: '$context.status',
  protocol: '$context.protocol',
  responseLength: '$context.responseLength',
  integrationLatency: '$context.integrationLatency',
  integrationError: '$context.integrationErrorMessage',
};

/**
 * The only door into the pipeline: an HTTP API with `ANY /webhooks/{source}` (non-POST methods reach the
 * function so it can answer 405), stage throttling, JSON access logs, and the ingest function, which verifies,
 * deduplicates, routes and enqueues. Its environment and its grants come from the same props.
 */
export class WebhookIngest extends Construct {
  /** The HTTP API. */
  public readonly api: apigw.HttpApi;
  /** The `$default` stage, throttled and access-logged. */
  public readonly stage: apigw.HttpStage;
  /** The ingest function. */
  public readonly ingestFunction: HooklineFunction;
  /** The access log group. */
  public readonly accessLogGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, given: WebhookIngestProps) {
    super(scope, id);
    // A prop of the wrong kind is reported and left out, so the rules below compute with the rest.
    const shape = propShapeViolations({
      timeout: ['seconds', given.timeout],
      memorySize: ['count', given.memorySize],
      rateLimit: ['number', given.rateLimit],
      burstLimit: ['count', given.burstLimit],
      logRetention: [LOG_RETENTION_PROP, given.logRetention],
      tracing: [TRACING_PROP, given.tracing],
    });
    const props = propsWithout(given, shape);
    const limits = {
      rateLimit: props.rateLimit ?? DEFAULTS.ingestRateLimit,
      burstLimit: props.burstLimit ?? DEFAULTS.ingestBurstLimit,
      timeout: props.timeout ?? DEFAULTS.ingestTimeout,
      memorySize: props.memorySize ?? DEFAULTS.ingestMemorySize,
    };
    throwIfViolations(`WebhookIngest ${this.node.path}`, [
      ...shape,
      ...propTokenViolations({}, { timeout: props.timeout }),
      ...ingestViolations(limits),
    ]);
    const retention = props.logRetention ?? defaultLogRetention();
    this.ingestFunction = this.createFunction(props, limits, retention);
    this.grantResources(props);
    this.accessLogGroup = new logs.LogGroup(this, 'AccessLogs', {
      retention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.api = new apigw.HttpApi(this, 'Api', {
      description: `hookline webhook ingest (${Stack.of(this).stackName})`,
      createDefaultStage: false,
    });
    this.stage = this.api.addStage('DefaultStage', {
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit: limits.rateLimit, burstLimit: limits.burstLimit },
      accessLogSettings: {
        destination: new apigw.LogGroupLogDestination(this.accessLogGroup),
        format: AccessLogFormat.custom(JSON.stringify(ACCESS_LOG_FORMAT)),
      },
    });
    const routes = this.api.addRoutes({
      path: '/webhooks/{source}',
      methods: [apigw.HttpMethod.ANY],
      integration: new HttpLambdaIntegration('Ingest', this.ingestFunction),
    });
    for (const route of routes)
      Validations.of(route).acknowledge({ id: 'AwsSolutions-APIG4', reason: WEBHOOK_AUTHORIZATION_REASON });
  }

  /** The public URL of one source's webhook endpoint. */
  public webhookUrl(source: string): string {
    return `${this.api.apiEndpoint}/webhooks/${source}`;
  }

  /** The function, with its configuration built by the runtime wiring from the props' resources. */
  private createFunction(
    props: WebhookIngestProps,
    limits: { readonly timeout: Duration; readonly memorySize: number },
    logRetention: logs.RetentionDays,
  ): HooklineFunction {
    const runtime = ingestRuntimeConfig(props.settings, resourcesOf(Stack.of(this), props));
    return new HooklineFunction(this, 'Function', {
      ...ingestCode(),
      timeout: limits.timeout,
      memorySize: limits.memorySize,
      serviceName: INGEST_SERVICE,
      logRetention,
      ...(props.tracing ? { tracing: props.tracing } : {}),
      environment: { [INGEST_CONFIG_ENV]: Stack.of(this).toJsonString(runtime) },
      environmentFix: environmentFixOf(props.settings),
    });
  }

  /** Exactly what the configuration built from the same props lets the function use. */
  private grantResources(props: WebhookIngestProps): void {
    for (const { name } of routedQueues(props.settings)) {
      const queue = props.queues[name];
      if (queue) grantSendMessage(queue, this.ingestFunction);
    }
    for (const secret of Object.values(props.secrets)) grantSecretValue(secret, this.ingestFunction);
    // Its sources' deliveries only: never a job record, which shares the table.
    if (props.dedupeTable)
      grantItemAccessByKey(
        props.dedupeTable,
        this.ingestFunction,
        props.settings.sources.map((source) => deliveryDedupeKeyPattern(source.name)),
        DEDUPE_CLAIM_ACTIONS,
      );
    if (props.payloadBucket) grantPayloadObjects(props.payloadBucket, this.ingestFunction, 's3:PutObject');
    props.archive?.grantPutRecords(this.ingestFunction, 'firehose:PutRecord');
  }
}

/**
 * How a function asks Secrets Manager for a secret: its full ARN when known (a secret the stack creates), else its
 * name. A secret referenced by name has only a partial ARN, and Secrets Manager reads a partial ARN whose name
 * ends in a dash and six characters (`prod/stripe-secret`) as a full one, of another secret that does not exist.
 */
export function secretIdOf(secret: secretsmanager.ISecret): string {
  return secret.secretFullArn ?? secret.secretName;
}

/**
 * A secret's id as the ingest function's variable holds it: a secret this stack creates is in the stack's account
 * and region, so only the tail of its ARN (`secret:<name>-<6 characters>`) is written and the function completes
 * it with where the stack is; any other (imported, maybe from another account) keeps its full ARN or its name.
 */
export function ingestSecretIdOf(secret: secretsmanager.ISecret, stack: Stack): string {
  const own = secret.node.defaultChild instanceof secretsmanager.CfnSecret && Stack.of(secret) === stack;
  if (!own) return secretIdOf(secret);
  return `${STACK_SECRET_PREFIX}${Arn.split(secret.secretArn, ArnFormat.COLON_RESOURCE_NAME).resourceName}`;
}

/**
 * What shrinks the ingest function's environment, with the counts that fill it. The costs are measured with
 * generated secrets and names (stack `Hookline`, sources `github-N`, queues `org-N`): longer names cost more.
 */
function environmentFixOf(settings: IngestSettings): string {
  return `its configuration grows with the sources (${settings.sources.length}), routed queues (${routedQueues(settings).length}) and routes (${settings.routes.length}): each source takes about 100 bytes (its secret's name), each routed queue about 75 (its name) and each route about 60, so about 20 sources fit with 10 routed queues and 30 with 3; split the sources over two stacks, or send several sources to one queue with one route (source "*" or none), or leave ingest.keepHeaders unset (its default takes no room)`;
}

/** Where the props' resources are, as the runtime wiring takes them. */
function resourcesOf(
  stack: Stack,
  props: Pick<WebhookIngestProps, 'queues' | 'secrets' | 'dedupeTable' | 'payloadBucket' | 'archive'>,
): PipelineResources {
  const queues = Object.entries(props.queues);
  return {
    location: STACK_LOCATION,
    queueUrls: Object.fromEntries(queues.map(([name, q]) => [name, q.queueUrl])),
    queueNames: Object.fromEntries(queues.map(([name, q]) => [name, q.queueName])),
    deadLetterQueueUrls: {},
    secretIds: Object.fromEntries(
      Object.entries(props.secrets).map(([name, s]) => [name, ingestSecretIdOf(s, stack)]),
    ),
    ...(props.dedupeTable ? { dedupeTableName: props.dedupeTable.tableName } : {}),
    ...(props.payloadBucket ? { payloadBucketName: props.payloadBucket.bucketName } : {}),
    ...(props.archive ? { archiveStreamName: props.archive.deliveryStreamName } : {}),
  };
}
