import { App, Validations } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import exampleConfig from '../../hookline.config';
import {
  CONSUMER_CONFIG_ENV,
  consumerRuntimeSchema,
  INGEST_CONFIG_ENV,
  readIngestConfig,
  readRuntimeConfig,
} from '../../lambda/shared/runtime-config';
import { resolveConfig } from '../../lib/config';
import { NAG_ACKNOWLEDGEMENTS, WebhookPipelineStack } from '../../lib/webhook-pipeline-stack';
import {
  exampleResolved,
  pipelineTemplate,
  renderIntrinsics as render,
  resolveAsDeployed,
} from '../helpers/cdk';

const EU_WEST_1 = {
  partition: 'aws',
  region: 'eu-west-1',
  account: '123456789012',
  urlSuffix: 'amazonaws.com',
};

describe('WebhookPipelineStack', () => {
  const { template, stack } = pipelineTemplate();

  it('derives each queue visibility timeout as 6 x its consumer timeout', () => {
    // The example consumers time out after 30 s.
    const queues = Object.values(
      template.findResources('AWS::SQS::Queue', { Properties: { RedrivePolicy: Match.anyValue() } }),
    );
    expect(queues).toHaveLength(2);
    for (const q of queues) expect(q.Properties.VisibilityTimeout).toBe(180);
  });

  it('creates a FIFO queue pair for the orders queue and standard ones for events', () => {
    // events and orders pairs, plus the heartbeat schedule's DLQ
    template.resourceCountIs('AWS::SQS::Queue', 5);
    expect(
      Object.keys(template.findResources('AWS::SQS::Queue', { Properties: { FifoQueue: true } })),
    ).toHaveLength(2);
  });

  it('puts a FIFO queue configured with highThroughput in SQS high throughput mode, and no other queue', () => {
    const base = exampleConfig;
    const { template: fast } = pipelineTemplate(
      resolveConfig({
        ...base,
        queues: { ...base.queues, orders: { ...base.queues.orders, highThroughput: true } },
      }),
    );
    const highThroughput = fast.findResources('AWS::SQS::Queue', {
      Properties: { DeduplicationScope: 'messageGroup', FifoThroughputLimit: 'perMessageGroupId' },
    });
    expect(Object.keys(highThroughput)).toEqual([expect.stringMatching(/^QueueOrdersQueue/)]);
    expect(
      template.findResources('AWS::SQS::Queue', { Properties: { FifoThroughputLimit: Match.anyValue() } }),
    ).toEqual({});
  });

  it('keeps delivery ids and idempotency records in TTL tables with point-in-time recovery', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
    });
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      TimeToLiveSpecification: { AttributeName: 'expiration', Enabled: true },
    });
  });

  it('stores large bodies in an encrypted, TLS-only, private bucket that expires them', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      LifecycleConfiguration: {
        // 4 days of queue retention, then 14 of dead-letter retention for the copy a consumer sends there.
        Rules: [Match.objectLike({ ExpirationInDays: 18, Prefix: 'payloads/', Status: 'Enabled' })],
      },
    });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  it('omits the dedupe table when deduplication is disabled', () => {
    const { template: t } = pipelineTemplate(exampleResolved({ dedupe: { enabled: false } }));
    t.resourceCountIs('AWS::DynamoDB::Table', 1);
    expect(t.findOutputs('DedupeTableName')).toEqual({});
  });

  it('turns each configured job into a schedule and shows the pipeline on one dashboard', () => {
    template.resourceCountIs('AWS::Scheduler::Schedule', 1);
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'rate(1 hour)',
      Target: Match.objectLike({ Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('QueueEvents'), 'Arn'] } }),
    });
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    const { template: none } = pipelineTemplate(exampleResolved({ schedules: [] }));
    none.resourceCountIs('AWS::Scheduler::Schedule', 0);
  });

  it('hands every function an environment its runtime schema accepts once the tokens resolve', () => {
    const functions = Object.values(template.findResources('AWS::Lambda::Function'));
    const ingest = functions
      .map((f) => f.Properties.Environment.Variables[INGEST_CONFIG_ENV])
      .filter(Boolean);
    const consumers = functions
      .map((f) => f.Properties.Environment.Variables[CONSUMER_CONFIG_ENV])
      .filter(Boolean);
    expect(ingest).toHaveLength(1);
    expect(consumers).toHaveLength(2);
    const deployed = resolveAsDeployed(
      stack.resolve(ingest[0]),
      template.toJSON(),
      stack.stackName,
      EU_WEST_1,
    );
    const ingestConfig = readIngestConfig({ [INGEST_CONFIG_ENV]: deployed });
    expect(ingestConfig.sources.github).toEqual({
      type: 'github',
      secretId: expect.stringMatching(
        /^arn:aws:secretsmanager:eu-west-1:123456789012:secret:SecretGithub\w+-RANDOMRANDOM-AbCdEf$/,
      ),
    });
    expect(ingestConfig.queues.orders).toEqual({
      url: expect.stringMatching(
        /^https:\/\/sqs\.eu-west-1\.amazonaws\.com\/123456789012\/Hookline-QueueOrders\w+-RANDOM\.fifo$/,
      ),
      fifo: true,
      grouping: { by: 'path', path: 'id' },
    });
    for (const consumer of consumers) {
      const config = readRuntimeConfig(consumerRuntimeSchema, 'X', { X: render(stack.resolve(consumer)) });
      expect(config.deadLetterQueueUrl).toMatch(/^resolved-Queue.+DeadLetterQueue/);
      expect(config.idempotency?.tableName).toMatch(/^resolved-IdempotencyTable/);
    }
  });

  it('exposes the outputs the CLI reads', () => {
    // A small tripwire: renaming an output breaks `hookline` against deployed stacks.
    expect(Object.keys(template.findOutputs('*')).sort()).toMatchInlineSnapshot(`
      [
        "AlarmTopicArn",
        "ApiUrl",
        "ArchiveBucketName",
        "ArchiveStreamName",
        "ConsumerFunctionNameEvents",
        "ConsumerFunctionNameOrders",
        "ConsumerLogGroupNameEvents",
        "ConsumerLogGroupNameOrders",
        "DashboardName",
        "DeadLetterQueueUrlEvents",
        "DeadLetterQueueUrlOrders",
        "DedupeTableName",
        "EventSourceMappingIdEvents",
        "EventSourceMappingIdOrders",
        "IdempotencyTableName",
        "IngestFunctionName",
        "IngestLogGroupName",
        "PayloadBucketName",
        "QueueUrlEvents",
        "QueueUrlOrders",
        "ScheduleDeadLetterQueueUrlHeartbeat",
        "SigningSecretIdGeneric",
        "SigningSecretIdGithub",
        "SigningSecretIdShopify",
        "SigningSecretIdSlack",
        "SigningSecretIdStandard",
        "SigningSecretIdStripe",
        "WebhookUrlGeneric",
        "WebhookUrlGithub",
        "WebhookUrlShopify",
        "WebhookUrlSlack",
        "WebhookUrlStandard",
        "WebhookUrlStripe",
      ]
    `);
    expect(
      stack.resolve(template.findOutputs('EventSourceMappingIdEvents').EventSourceMappingIdEvents?.Value),
    ).toEqual({
      Ref: expect.stringMatching(/ConsumerEventsFunctionSqsEventSource/),
    });
  });
});

describe('signing secret outputs', () => {
  it('publishes the secret of each verifying source, the one the ingest function reads, and none for unverified', () => {
    // GIVEN a created secret, a referenced existing one and an unverified source
    const { stack, template } = pipelineTemplate(
      exampleResolved({
        sources: {
          github: { type: 'github' },
          stripe: { type: 'stripe', secret: { existingSecretName: 'prod/stripe-signing' } },
          open: { type: 'unverified', dangerouslyAcceptUnverifiedRequests: true },
        },
        routes: [],
      }),
    );
    const outputs = Object.fromEntries(
      Object.entries(template.findOutputs('*')).filter(([key]) => key.startsWith('SigningSecretId')),
    );
    // THEN
    expect(Object.keys(outputs).sort()).toEqual(['SigningSecretIdGithub', 'SigningSecretIdStripe']);
    const github = stack.resolve(outputs.SigningSecretIdGithub?.Value) as { Ref: string };
    expect(template.findResources('AWS::SecretsManager::Secret')).toHaveProperty(github.Ref);
    expect(stack.resolve(outputs.SigningSecretIdStripe?.Value)).toBe('prod/stripe-signing');
    const policies = JSON.stringify(template.findResources('AWS::IAM::Policy'));
    expect(policies).toContain(`{"Ref":"${github.Ref}"}`);
  });

  it('reads an existing secret by its name, which Secrets Manager cannot mistake for a complete ARN', () => {
    // GIVEN an existing secret whose name ends in a dash and six characters, like the suffix of a full ARN:
    // its partial ARN would be read as the full ARN of a secret named "prod/stripe" and never be found.
    const name = 'prod/stripe-secret';
    const { stack, template } = pipelineTemplate(
      exampleResolved({
        sources: { stripe: { type: 'stripe', secret: { existingSecretName: name } } },
        routes: [],
      }),
    );
    const ingest = Object.values(template.findResources('AWS::Lambda::Function'))
      .map((f) => f.Properties.Environment.Variables[INGEST_CONFIG_ENV])
      .find(Boolean);
    const config = readIngestConfig({ [INGEST_CONFIG_ENV]: render(stack.resolve(ingest)) });
    // THEN the ingest asks for it by name, and its role may read the secret of that name, whatever its suffix
    expect(config.sources.stripe).toMatchObject({ type: 'stripe', secretId: name });
    const readable = Object.values(template.findResources('AWS::IAM::Policy'))
      .flatMap((p) => p.Properties.PolicyDocument.Statement as { Action: unknown; Resource: unknown }[])
      .filter((s) => [s.Action].flat().includes('secretsmanager:GetSecretValue'))
      .flatMap((s) => [s.Resource].flat().map(render));
    expect(readable).toEqual([
      `arn:aws:secretsmanager:resolved-AWS::Region:resolved-AWS::AccountId:secret:${name}-??????`,
    ]);
  });
});

describe('cdk-nag AwsSolutions', () => {
  it('reports nothing unacknowledged on the example stack, bundled as it deploys', () => {
    // GIVEN the real app: bundling on, checks on
    const app = new App();
    const config = exampleResolved();
    new WebhookPipelineStack(app, config.stackName, { config });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    // WHEN / THEN: synthesis throws ValidationFailed on any unacknowledged error
    expect(() => app.synth()).not.toThrow();
  });

  it('gives a reason for every acknowledged finding', () => {
    for (const [id, reason] of Object.entries(NAG_ACKNOWLEDGEMENTS)) {
      expect(id).toMatch(/^AwsSolutions-/);
      expect(reason.length, id).toBeGreaterThan(60);
    }
  });

  it('says, in the acknowledgements that cover them, why each generated secret has no rotation and each route no authorizer', () => {
    // GIVEN every kind of generated secret and every route: sources, a forwarding queue, the jobs endpoint
    const config = resolveConfig({
      ...exampleConfig,
      queues: {
        ...exampleConfig.queues,
        app: { consumer: { forward: { url: 'https://app.example.com/hooks' } } },
      },
      jobs: { endpoint: { queues: ['events'] } },
    });
    const resources = pipelineTemplate(config).template.toJSON().Resources as Record<
      string,
      { Type: string; Properties: { Description?: string; RouteKey?: string } }
    >;
    const of = (type: string) => Object.values(resources).filter((r) => r.Type === type);
    // WHEN the secrets (AwsSolutions-SMG4: no rotation) and routes (AwsSolutions-APIG4: no authorizer) are listed
    const who: Record<string, RegExp> = {
      'webhook source': /a source's signing secret with its sender/,
      "queue's forwarding consumer": /a forwarding queue's signing secret with its destination/,
      'jobs endpoint': /the jobs endpoint's token with the app's callers/,
    };
    const secretKinds = of('AWS::SecretsManager::Secret').map(
      (r) => Object.keys(who).find((k) => r.Properties.Description?.includes(k)) ?? r.Properties.Description,
    );
    expect(new Set(secretKinds)).toEqual(new Set(Object.keys(who)));
    const routes = of('AWS::ApiGatewayV2::Route').map((r) => r.Properties.RouteKey);
    expect(routes.sort()).toEqual(['ANY /webhooks/{source}', 'POST /jobs/{queue}']);
    // THEN each reason names every party and door it covers
    for (const kind of Object.keys(who))
      expect(NAG_ACKNOWLEDGEMENTS['AwsSolutions-SMG4']).toMatch(who[kind] as RegExp);
    expect(NAG_ACKNOWLEDGEMENTS['AwsSolutions-APIG4']).toMatch(/webhook .*HMAC signature/);
    expect(NAG_ACKNOWLEDGEMENTS['AwsSolutions-APIG4']).toMatch(/jobs endpoint.*bearer token/);
  });

  it('still fails on a finding the design does not accept', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const config = exampleResolved();
    const stack = new WebhookPipelineStack(app, config.stackName, { config });
    new sqs.Queue(stack, 'StrayQueueWithoutDlq');
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    expect(() => app.synth()).toThrow(/AwsSolutions-SQS3/);
  });

  it('is clean when every optional resource is on (email alarms, unverified source, no dedupe)', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const config = exampleResolved({
      sources: {
        open: { type: 'unverified', dangerouslyAcceptUnverifiedRequests: true },
        github: { type: 'github' },
      },
      routes: [],
      dedupe: { enabled: false },
      alarms: { email: 'ops@example.com' },
    });
    new WebhookPipelineStack(app, config.stackName, { config });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    expect(() => app.synth()).not.toThrow();
  });
});
