import { Duration } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kms from 'aws-cdk-lib/aws-kms';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { describe, expect, it } from 'vitest';
import { FORWARD_CONFIG_ENV } from '../../lambda/shared/forward-config';
import {
  CONSUMER_CONFIG_ENV,
  consumerRuntimeSchema,
  readRuntimeConfig,
} from '../../lambda/shared/runtime-config';
import { DEFAULTS, type HooklineConfig, resolveConfig } from '../../lib/config';
import { EventArchive } from '../../lib/event-archive';
import { PipelineQueue } from '../../lib/pipeline-queue';
import { QueueConsumer } from '../../lib/queue-consumer';
import { queueConsumerSettings } from '../../lib/webhook-pipeline-stack';
import { pipelineTemplate, renderIntrinsics, testStack } from '../helpers/cdk';

type Statement = { Action: string | string[]; Resource: unknown; Condition?: unknown };
const list = <T>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);

const settingsFor = (queue: HooklineConfig['queues'][string]) => {
  const config = resolveConfig({ sources: { github: { type: 'github' } }, queues: { jobs: queue } });
  const settings = config.queues[0];
  if (!settings) throw new Error('no queue');
  return settings;
};

function consumerTemplate(queue: HooklineConfig['queues'][string], withResources = true) {
  const stack = testStack();
  const settings = settingsFor(queue);
  const pair = new PipelineQueue(stack, 'Jobs', {
    fifo: settings.fifo,
    visibilityTimeout: settings.visibilityTimeout,
  });
  const table = new dynamodb.Table(stack, 'Idem', {
    partitionKey: { name: 'id', type: dynamodb.AttributeType.STRING },
  });
  const dedupe = new dynamodb.Table(stack, 'Dedupe', {
    partitionKey: { name: 'id', type: dynamodb.AttributeType.STRING },
  });
  const bucket = new s3.Bucket(stack, 'Payloads');
  const archive = new EventArchive(stack, 'Archive');
  const consumer = new QueueConsumer(stack, 'Consumer', {
    queue: pair.queue,
    deadLetterQueue: pair.deadLetterQueue,
    ...queueConsumerSettings(settings),
    ...(withResources
      ? { idempotencyTable: table, jobRecordTable: dedupe, payloadBucket: bucket, archive }
      : {}),
  });
  return { template: Template.fromStack(stack), consumer, stack };
}

/** The configuration a consumer function reads at cold start, parsed by its own runtime's reader. */
function runtimeConfigOf(template: Template, stack: ReturnType<typeof testStack>, fnId: RegExp) {
  const [fn] = Object.entries(template.findResources('AWS::Lambda::Function')).filter(([id]) =>
    fnId.test(id),
  );
  const value = stack.resolve(fn?.[1].Properties.Environment.Variables[CONSUMER_CONFIG_ENV]);
  return readRuntimeConfig(consumerRuntimeSchema, CONSUMER_CONFIG_ENV, {
    [CONSUMER_CONFIG_ENV]: renderIntrinsics(value),
  });
}

/** The props a consumer needs on its own: its queue pair, its name and its code. */
const standaloneProps = (pair: PipelineQueue, name: string) => ({
  queue: pair.queue,
  deadLetterQueue: pair.deadLetterQueue,
  name,
  entry: 'lambda/consumers/events.ts',
});

/** The policies attached to the consumer function's role (the archive's delivery role has its own). */
const consumerPolicies = (template: Template) =>
  Object.values(
    template.findResources('AWS::IAM::Policy', {
      Properties: { Roles: [{ Ref: Match.stringLikeRegexp('ConsumerFunctionServiceRole') }] },
    }),
  );

/** The logical id a rendered Ref (`resolved-<id>`) names. */
const logicalIdOf = (rendered: string | undefined) => rendered?.replace(/^resolved-/, '') ?? '';

describe('QueueConsumer', () => {
  it('reads the queue with ReportBatchItemFailures and the configured batching', () => {
    const { template } = consumerTemplate({
      consumer: {
        entry: 'lambda/consumers/events.ts',
        batchSize: 50,
        maxBatchingWindow: Duration.seconds(5),
        maxConcurrency: 20,
      },
    });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BatchSize: 50,
      MaximumBatchingWindowInSeconds: 5,
      ScalingConfig: { MaximumConcurrency: 20 },
      EventSourceArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('JobsQueue'), 'Arn'] },
    });
  });

  it('runs nodejs24.x on arm64 with an explicit log group and retention', () => {
    const { template } = consumerTemplate({
      consumer: { entry: 'lambda/consumers/events.ts', timeout: Duration.seconds(20) },
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Timeout: 20,
      MemorySize: 512,
      LoggingConfig: { LogFormat: 'JSON', LogGroup: { Ref: Match.stringLikeRegexp('FunctionLogs') } },
    });
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
  });

  it('hands its runtime settings to the function through HOOKLINE_CONSUMER_CONFIG', () => {
    const { template, stack } = consumerTemplate({
      consumer: {
        entry: 'lambda/consumers/events.ts',
        retry: { base: Duration.seconds(4), factor: 3, max: Duration.minutes(2) },
      },
    });
    const fns = template.findResources('AWS::Lambda::Function');
    const env = Object.values(fns)[0]?.Properties.Environment.Variables;
    const json = stack.resolve(env.HOOKLINE_CONSUMER_CONFIG);
    const rendered = JSON.stringify(json);
    expect(rendered).toContain('\\"retry\\":{\\"baseSeconds\\":4,\\"factor\\":3,\\"maxSeconds\\":120}');
    expect(rendered).toContain('\\"maxReceiveCount\\":5');
    expect(rendered).toContain('idempotency');
  });

  it('grants exactly: consume the queue, send to the DLQ, idempotency records, reads and updates of job records, GetObject on payloads, records to the archive, write its logs', () => {
    const { template } = consumerTemplate({ consumer: { entry: 'lambda/consumers/events.ts' } });
    const policies = consumerPolicies(template);
    expect(policies).toHaveLength(1);
    const statements = policies[0]?.Properties.PolicyDocument.Statement as Array<{
      Action: string | string[];
      Resource: unknown;
    }>;
    const actions = statements.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action])).sort();
    expect(actions).toEqual(
      [
        'dynamodb:DeleteItem',
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:UpdateItem',
        'dynamodb:GetItem',
        'dynamodb:UpdateItem',
        'firehose:PutRecordBatch',
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        's3:GetObject',
        'sqs:ChangeMessageVisibility',
        'sqs:DeleteMessage',
        'sqs:GetQueueAttributes',
        'sqs:GetQueueUrl',
        'sqs:ReceiveMessage',
        'sqs:SendMessage',
      ].sort(),
    );
    const sendStatement = statements.find((s) => JSON.stringify(s.Action).includes('sqs:SendMessage'));
    expect(JSON.stringify(sendStatement?.Resource)).toContain('DeadLetterQueue');
    const s3Statement = statements.find((s) => s.Action === 's3:GetObject');
    expect(JSON.stringify(s3Statement?.Resource)).toContain('/payloads/*');
  });

  it('may make every call its runtime makes on each resource its configuration names, on exactly that resource', () => {
    const { template, stack } = consumerTemplate({ consumer: { entry: 'lambda/consumers/events.ts' } });
    const config = runtimeConfigOf(template, stack, /ConsumerFunction/);
    const [policy] = consumerPolicies(template);
    const statements = policy?.Properties.PolicyDocument.Statement as Statement[];
    /** The statements whose every resource is the resource `logicalId`, or an ARN built on it. */
    const on = (logicalId: string) =>
      statements.filter((s) => list(s.Resource).every((r) => JSON.stringify(r).includes(`"${logicalId}"`)));
    const actionsOn = (logicalId: string) => on(logicalId).flatMap((s) => list(s.Action));
    const queue = logicalIdOf(config.queueUrl);
    const dlq = logicalIdOf(config.deadLetterQueueUrl);
    const idempotency = logicalIdOf(config.idempotency?.tableName);
    const jobRecords = logicalIdOf(config.jobRecords?.tableName);
    const bucket = logicalIdOf(config.payloadBucket);
    const stream = logicalIdOf(config.archive?.deliveryStream);
    for (const id of [queue, dlq, idempotency, jobRecords, bucket, stream])
      expect(id).toMatch(/^[A-Za-z0-9]+$/);

    // Lambda's poller receives and reads attributes; the runtime deletes and backs off (visibility) on the queue.
    expect(actionsOn(queue)).toEqual(
      expect.arrayContaining([
        'sqs:ReceiveMessage',
        'sqs:GetQueueAttributes',
        'sqs:DeleteMessage',
        'sqs:ChangeMessageVisibility',
      ]),
    );
    expect(on(queue).flatMap((s) => list(s.Resource))).toEqual([{ 'Fn::GetAtt': [queue, 'Arn'] }]);
    expect(actionsOn(dlq)).toContain('sqs:SendMessage');
    expect(on(dlq).flatMap((s) => list(s.Resource))).toEqual([{ 'Fn::GetAtt': [dlq, 'Arn'] }]);
    // Powertools idempotency and the job records read and write single items, each under its own prefix.
    expect(on(idempotency).map((s) => s.Condition)).toEqual([
      { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['jobs#*'] } },
    ]);
    expect(actionsOn(idempotency)).toEqual(
      expect.arrayContaining([
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:UpdateItem',
        'dynamodb:DeleteItem',
      ]),
    );
    expect(on(jobRecords).map((s) => s.Condition)).toEqual([
      { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['job#*', 'job.held#*'] } },
    ]);
    expect(actionsOn(jobRecords)).toEqual(
      expect.arrayContaining(['dynamodb:GetItem', 'dynamodb:UpdateItem']),
    );
    expect(on(bucket)).toEqual([
      expect.objectContaining({ Action: 's3:GetObject', Resource: expect.anything() }),
    ]);
    expect(renderIntrinsics(on(bucket)[0]?.Resource)).toBe(`resolved-${bucket}.Arn/payloads/*`);
    expect(actionsOn(stream)).toContain('firehose:PutRecordBatch');
  });

  it('grants nothing on a table, bucket or stream it was not given, and names none in its configuration', () => {
    const { template, stack } = consumerTemplate(
      { consumer: { entry: 'lambda/consumers/events.ts' } },
      false,
    );
    const rendered = JSON.stringify(consumerPolicies(template));
    expect(rendered).toContain('sqs:ReceiveMessage');
    expect(rendered).not.toContain('dynamodb:');
    expect(rendered).not.toContain('s3:');
    expect(rendered).not.toContain('firehose:');
    const config = runtimeConfigOf(template, stack, /ConsumerFunction/);
    expect([config.idempotency, config.jobRecords, config.payloadBucket, config.archive]).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
  });

  it('throws when the queue has no consumer', () => {
    const stack = testStack();
    const pair = new PipelineQueue(stack, 'Jobs', { consumerTimeout: DEFAULTS.consumerTimeout });
    expect(
      () =>
        new QueueConsumer(stack, 'Consumer', {
          queue: pair.queue,
          deadLetterQueue: pair.deadLetterQueue,
          ...queueConsumerSettings(settingsFor({})),
        }),
    ).toThrow(/queue "jobs" has no consumer configured/);
  });

  it("on a FIFO and a standard queue alike may also count a job's held receives in the job-record table", () => {
    const leadingKeys = (queue: HooklineConfig['queues'][string]) => {
      const { template, stack } = consumerTemplate(queue);
      const table = logicalIdOf(runtimeConfigOf(template, stack, /ConsumerFunction/).jobRecords?.tableName);
      const [policy] = consumerPolicies(template);
      const statements = (policy?.Properties.PolicyDocument.Statement ?? []) as Statement[];
      return statements
        .filter((s) => JSON.stringify(s.Resource).includes(`"${table}"`))
        .map((s) => s.Condition);
    };
    const entry = 'lambda/consumers/events.ts';
    expect(leadingKeys({ fifo: true, consumer: { entry } })).toEqual([
      { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['job#*', 'job.held#*'] } },
    ]);
    expect(leadingKeys({ consumer: { entry } })).toEqual([
      { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['job#*', 'job.held#*'] } },
    ]);
  });

  it('throws on a FIFO batch above 10', () => {
    const stack = testStack();
    const pair = new PipelineQueue(stack, 'Jobs', { fifo: true, consumerTimeout: DEFAULTS.consumerTimeout });
    const settings = { ...settingsFor({ fifo: true, consumer: { entry: 'x.ts' } }) };
    const consumer = settings.consumer;
    if (!consumer) throw new Error('no consumer');
    expect(
      () =>
        new QueueConsumer(stack, 'Consumer', {
          queue: pair.queue,
          deadLetterQueue: pair.deadLetterQueue,
          ...queueConsumerSettings({ ...settings, consumer: { ...consumer, batchSize: 20 } }),
        }),
    ).toThrow(/batchSize: must be between 1 and 10 for a FIFO queue \(got 20\)/);
  });
  it('provisions pollers on the event source mapping, with no maximum concurrency', () => {
    const { template } = consumerTemplate({
      consumer: { entry: 'lambda/consumers/events.ts', minimumPollers: 5, maximumPollers: 50 },
    });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      ProvisionedPollerConfig: { MinimumPollers: 5, MaximumPollers: 50 },
      ScalingConfig: Match.absent(),
    });
  });

  it('reserves the function concurrency that bounds its maximum concurrency', () => {
    const { template } = consumerTemplate({
      consumer: { entry: 'lambda/consumers/events.ts', maxConcurrency: 10, reservedConcurrency: 10 },
    });
    template.hasResourceProperties('AWS::Lambda::Function', { ReservedConcurrentExecutions: 10 });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      ScalingConfig: { MaximumConcurrency: 10 },
      ProvisionedPollerConfig: Match.absent(),
    });
  });

  it('used on its own with only the required props, runs with the documented defaults on a standard and a FIFO queue, in a configuration its runtime accepts', () => {
    const stack = testStack();
    const jobs = new PipelineQueue(stack, 'Jobs', { consumerTimeout: DEFAULTS.consumerTimeout });
    const orders = new PipelineQueue(stack, 'Orders', {
      fifo: true,
      consumerTimeout: DEFAULTS.consumerTimeout,
    });
    const table = new dynamodb.Table(stack, 'Idem', {
      partitionKey: { name: 'id', type: dynamodb.AttributeType.STRING },
    });
    new QueueConsumer(stack, 'JobsConsumer', {
      ...standaloneProps(jobs, 'jobs'),
      idempotencyTable: table,
    });
    new QueueConsumer(stack, 'OrdersConsumer', standaloneProps(orders, 'orders'));
    const template = Template.fromStack(stack);

    for (const queue of ['JobsQueue', 'OrdersQueue']) {
      template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        EventSourceArn: { 'Fn::GetAtt': [Match.stringLikeRegexp(queue), 'Arn'] },
        BatchSize: 10,
        // Lambda takes no batching window on a FIFO queue; a standard one is invoked at once.
        MaximumBatchingWindowInSeconds: Match.absent(),
        FunctionResponseTypes: ['ReportBatchItemFailures'],
      });
    }
    template.allResourcesProperties('AWS::Lambda::Function', { Timeout: 30, MemorySize: 512 });
    expect(runtimeConfigOf(template, stack, /^JobsConsumer/)).toEqual(
      expect.objectContaining({
        fifo: false,
        maxReceiveCount: 5,
        parallelism: 10,
        retry: { baseSeconds: 10, factor: 2, maxSeconds: 900 },
        deadlineMarginMs: 3000,
        idempotency: { tableName: expect.stringContaining('Idem'), expirySeconds: 259_200 },
      }),
    );
    expect(runtimeConfigOf(template, stack, /^OrdersConsumer/)).toEqual(
      expect.objectContaining({ fifo: true, maxReceiveCount: 5 }),
    );
  });

  it('used on its own, fills the retry and circuit breaker settings it is not given as the configuration does, and refuses what the configuration refuses', () => {
    const stack = testStack();
    const jobs = new PipelineQueue(stack, 'Jobs', { consumerTimeout: DEFAULTS.consumerTimeout });
    new QueueConsumer(stack, 'Consumer', {
      ...standaloneProps(jobs, 'jobs'),
      retry: { base: Duration.seconds(5) },
      circuitBreaker: {},
    });
    expect(runtimeConfigOf(Template.fromStack(stack), stack, /^Consumer/)).toEqual(
      expect.objectContaining({
        retry: { baseSeconds: 5, factor: 2, maxSeconds: 900 },
        circuitBreaker: true,
      }),
    );
    // A base above the default max, as `consumer.retry: { base: Duration.minutes(20) }` is.
    expect(
      () =>
        new QueueConsumer(stack, 'Slow', {
          ...standaloneProps(
            new PipelineQueue(stack, 'Other', { consumerTimeout: DEFAULTS.consumerTimeout }),
            'other',
          ),
          retry: { base: Duration.minutes(20) },
          circuitBreaker: { window: Duration.days(2) },
        }),
    ).toThrow(
      /- retry\.base: must not exceed retry\.max \(15 minutes\) \(got 20 minutes\).*\n {2}- circuitBreaker\.window: /s,
    );
  });

  it('used on its own, writes its metrics under other by default, keeps the types it lists, and refuses a metricTypes the configuration refuses, with path, value and fix', () => {
    const stack = testStack();
    const queue = (name: string) =>
      new PipelineQueue(stack, name, { consumerTimeout: DEFAULTS.consumerTimeout });
    new QueueConsumer(stack, 'Bounded', standaloneProps(queue('BoundedQ'), 'bounded'));
    new QueueConsumer(stack, 'Listed', {
      ...standaloneProps(queue('ListedQ'), 'listed'),
      metricTypes: ['github.push'],
    });
    new QueueConsumer(stack, 'Each', { ...standaloneProps(queue('EachQ'), 'each'), metricTypes: 'each' });
    const template = Template.fromStack(stack);
    expect(runtimeConfigOf(template, stack, /^Bounded/)).toMatchObject({ metricTypes: [] });
    expect(runtimeConfigOf(template, stack, /^Listed/)).toMatchObject({ metricTypes: ['github.push'] });
    expect(runtimeConfigOf(template, stack, /^Each/)).not.toHaveProperty('metricTypes');
    const refused = (metricTypes: unknown) => () =>
      new QueueConsumer(stack, `Bad${Math.random()}`, {
        ...standaloneProps(queue(`BadQ${Math.random()}`), 'bad'),
        metricTypes: metricTypes as 'each',
      });
    expect(refused('all')).toThrow(
      /metricTypes: is 'each' \(every event type its own metrics\), 'none' .* \(got "all"\)\. Fix: use 'none' \(the default\), 'each', or list the types/,
    );
    expect(refused(['github.*', 'push', 'github.push', 'github.push'])).toThrow(
      /metricTypes\[0\]: is an exact event type.*\(got "github\.\*"\)\. Fix: list each type of the pattern.*\n.*metricTypes\[1\]: .*\(got "push"\)\. Fix: write it as <source>\.<type>, e\.g\. "github\.push".*\n.*metricTypes\[3\]: repeats a type listed before it/s,
    );
  });

  it("used on its own, takes its queue's redrive count for a record's last attempt, and refuses another", () => {
    const stack = testStack();
    const jobs = new PipelineQueue(stack, 'Jobs', {
      maxReceiveCount: 8,
      consumerTimeout: DEFAULTS.consumerTimeout,
    });
    new QueueConsumer(stack, 'JobsConsumer', standaloneProps(jobs, 'jobs'));
    const imported = sqs.Queue.fromQueueArn(stack, 'Imported', 'arn:aws:sqs:eu-west-1:123456789012:imported');
    new QueueConsumer(stack, 'ImportedConsumer', {
      ...standaloneProps(jobs, 'imported'),
      queue: imported,
      maxReceiveCount: 3,
    });
    const template = Template.fromStack(stack);
    expect(runtimeConfigOf(template, stack, /^JobsConsumer/)).toMatchObject({ maxReceiveCount: 8 });
    // An imported queue's redrive policy is not known at synth: the given count is taken as it is.
    expect(runtimeConfigOf(template, stack, /^ImportedConsumer/)).toMatchObject({ maxReceiveCount: 3 });

    for (const given of [5, 12]) {
      const other = testStack();
      const queue = new PipelineQueue(other, 'Jobs', {
        maxReceiveCount: 8,
        consumerTimeout: DEFAULTS.consumerTimeout,
      });
      expect(
        () =>
          new QueueConsumer(other, 'Consumer', { ...standaloneProps(queue, 'jobs'), maxReceiveCount: given }),
      ).toThrow(
        new RegExp(
          `maxReceiveCount: must equal the queue's redrive policy \\(maxReceiveCount 8\\).*got ${given}`,
          's',
        ),
      );
    }
  });

  it('used on its own, refuses a queue that hides a batch for less than 6 x its timeout + batching window, and idempotency records that expire before it, at once', () => {
    const stack = testStack();
    // Derived for a 30-second consumer: 180 seconds, too short for a 60-second one with a 10-second window.
    const jobs = new PipelineQueue(stack, 'Jobs', { consumerTimeout: DEFAULTS.consumerTimeout });
    const table = new dynamodb.Table(stack, 'Idem', {
      partitionKey: { name: 'id', type: dynamodb.AttributeType.STRING },
    });
    expect(
      () =>
        new QueueConsumer(stack, 'Consumer', {
          ...standaloneProps(jobs, 'jobs'),
          timeout: Duration.seconds(60),
          maxBatchingWindow: Duration.seconds(10),
          idempotencyTable: table,
          idempotencyExpiry: Duration.minutes(2),
        }),
    ).toThrow(
      /- queue: its visibility timeout must be at least 6 x this consumer's timeout \+ its batching window \(6 minutes 10 seconds\).*\(got 3 minutes\)\. Fix: give its PipelineQueue consumerTimeout: Duration\.seconds\(60\).*at least Duration\.seconds\(370\)\n {2}- idempotencyExpiry: an idempotency record must outlive the queue's visibility timeout \(3 minutes\).*\(got 2 minutes\)/s,
    );
  });

  it("used on its own, refuses a retention its retries cannot fit in, reading the queue's redrive count", () => {
    const stack = testStack();
    const jobs = new PipelineQueue(stack, 'Jobs', {
      consumerTimeout: DEFAULTS.consumerTimeout,
      maxReceiveCount: 10,
      retentionPeriod: Duration.minutes(10),
    });
    // 9 retries of the default backoff wait at least 5 + 10 + 20 + 40 + 80 + 160 + 320 + 450 + 450 seconds.
    expect(
      () =>
        new QueueConsumer(stack, 'Consumer', {
          ...standaloneProps(jobs, 'jobs'),
          retentionPeriod: Duration.minutes(10),
        }),
    ).toThrow(
      /- retentionPeriod: ends before a failing record's last receive: its 9 retries wait at least 1535 seconds in all .* after at most 7 of its maxReceiveCount \(10\) receives \(got 10 minutes\)\. Fix: raise retentionPeriod to at least Duration\.minutes\(26\), lower maxReceiveCount to 7, or shorten the consumer's retry \(base or max\)/,
    );
  });

  it("used on its own, takes a queue's visibility as SQS does: 30 seconds where it sets none, and unchecked where synth cannot read it", () => {
    const stack = testStack();
    const plain = new sqs.Queue(stack, 'Plain');
    const dlq = new sqs.Queue(stack, 'PlainDlq');
    const props = { deadLetterQueue: dlq, name: 'plain', entry: 'lambda/consumers/events.ts' };
    expect(() => new QueueConsumer(stack, 'PlainConsumer', { ...props, queue: plain })).toThrow(
      /queue: its visibility timeout must be at least .*\(got 30 seconds\)/s,
    );
    const imported = sqs.Queue.fromQueueArn(stack, 'Imported', 'arn:aws:sqs:eu-west-1:123456789012:imported');
    expect(() => new QueueConsumer(stack, 'ImportedConsumer', { ...props, queue: imported })).not.toThrow();
    const derived = new PipelineQueue(stack, 'Derived', {
      consumerTimeout: Duration.seconds(60),
      consumerBatchingWindow: Duration.seconds(10),
    });
    expect(
      () =>
        new QueueConsumer(stack, 'DerivedConsumer', {
          ...standaloneProps(derived, 'derived'),
          timeout: Duration.seconds(60),
          maxBatchingWindow: Duration.seconds(10),
        }),
    ).not.toThrow();
  });

  it('used on its own, refuses environment variables Lambda would refuse at deploy or that replace what hookline sets', () => {
    const stack = testStack();
    const jobs = new PipelineQueue(stack, 'Jobs', { consumerTimeout: DEFAULTS.consumerTimeout });
    expect(
      () =>
        new QueueConsumer(stack, 'Consumer', {
          ...standaloneProps(jobs, 'jobs'),
          environment: { 'api-base': 'x', AWS_REGION: 'eu-west-1', POWERTOOLS_METRICS_NAMESPACE: 'Mine' },
        }),
    ).toThrow(
      /environment\.api-base: is not a name Lambda accepts.*environment\.AWS_REGION: is set by Lambda itself.*environment\.POWERTOOLS_METRICS_NAMESPACE: is set by hookline/s,
    );
  });

  it("used on its own, may use the customer managed keys of its dead-letter queue and its forwarding secret, through Secrets Manager for the secret's", () => {
    const stack = testStack();
    const queueKey = new kms.Key(stack, 'QueueKey');
    const secretKey = new kms.Key(stack, 'SecretKey');
    const deadLetterQueue = new sqs.Queue(stack, 'DeadLetters', {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: queueKey,
    });
    const queue = new sqs.Queue(stack, 'Jobs', {
      visibilityTimeout: Duration.minutes(6),
      deadLetterQueue: { queue: deadLetterQueue, maxReceiveCount: DEFAULTS.maxReceiveCount },
    });
    const secret = new secretsmanager.Secret(stack, 'ForwardSecret', { encryptionKey: secretKey });
    new QueueConsumer(stack, 'Consumer', {
      queue,
      deadLetterQueue,
      name: 'jobs',
      entry: 'lambda/consumers/events.ts',
      forward: {
        url: 'https://app.example.com/webhooks',
        timeout: Duration.seconds(10),
        secret,
        secretCache: Duration.minutes(5),
      },
    });
    const template = Template.fromStack(stack);
    const statements = consumerPolicies(template).flatMap(
      (p) => p.Properties.PolicyDocument.Statement as Statement[],
    );
    const onKey = (keyId: string) =>
      statements
        .filter((s) => JSON.stringify(s.Resource) === JSON.stringify({ 'Fn::GetAtt': [keyId, 'Arn'] }))
        .flatMap((s) => list(s.Action))
        .sort();
    const id = (construct: kms.Key) => stack.getLogicalId(construct.node.defaultChild as kms.CfnKey);
    // SQS needs a sender to make a data key under the queue's key, and to decrypt it when it reuses one.
    expect(onKey(id(queueKey))).toEqual(['kms:Decrypt', 'kms:GenerateDataKey']);
    // The secret's key decrypts for this function only when Secrets Manager asks (the key's policy says so).
    const keyPolicy = template.toJSON().Resources[id(secretKey)].Properties.KeyPolicy.Statement as Array<{
      Action: unknown;
      Principal?: { AWS?: unknown };
      Condition?: unknown;
    }>;
    const viaSecretsManager = keyPolicy.filter((s) =>
      JSON.stringify(s.Principal?.AWS).includes('ConsumerFunctionServiceRole'),
    );
    expect(viaSecretsManager.map((s) => [s.Action, s.Condition])).toEqual([
      [
        'kms:Decrypt',
        {
          StringEquals: {
            'kms:ViaService': {
              'Fn::Join': ['', ['secretsmanager.', { Ref: 'AWS::Region' }, '.amazonaws.com']],
            },
          },
        },
      ],
    ]);
    expect(onKey(id(secretKey))).toEqual([]);
  });

  it("used on its own, refuses a forwarding secret cache under a second or above an hour at synth, listed with the consumer's other problems", () => {
    const forwarding = (secretCache: Duration) => () => {
      const stack = testStack();
      new QueueConsumer(stack, 'Consumer', {
        ...standaloneProps(
          new PipelineQueue(stack, 'Jobs', { consumerTimeout: DEFAULTS.consumerTimeout }),
          'jobs',
        ),
        memorySize: 64,
        forward: {
          url: 'https://app.example.com/webhooks',
          timeout: Duration.seconds(10),
          secret: new secretsmanager.Secret(stack, 'Signing'),
          secretCache,
        },
      });
      Template.fromStack(stack);
    };
    // 0 would read the secret from Secrets Manager on every event; the configuration refuses it for ingest.secretCache.
    expect(forwarding(Duration.seconds(0))).toThrow(
      /^Invalid QueueConsumer Test\/Consumer:\n {2}- memorySize: .*\(got 64\).*\n {2}- forward\.secretCache: at least 1 second: .*every request.*\(got 0 seconds\)\. Fix: use Duration\.minutes\(5\) \(the default\), or at least Duration\.seconds\(1\)$/s,
    );
    expect(forwarding(Duration.hours(2))).toThrow(
      /- forward\.secretCache: at most 1 hour: .*\(got 2 hours\)\. Fix: use Duration\.minutes\(5\) \(the default\)/,
    );
    try {
      forwarding(Duration.seconds(0))();
    } catch (error) {
      // The listing alone, as the CLI prints it: no frames.
      expect(String((error as Error).stack)).not.toContain('    at ');
    }
  });

  it("used on its own, refuses a forwarding attempt's timeout the configuration refuses, with the configuration's fix", () => {
    const stack = testStack();
    expect(
      () =>
        new QueueConsumer(stack, 'Consumer', {
          ...standaloneProps(
            new PipelineQueue(stack, 'Jobs', { consumerTimeout: DEFAULTS.consumerTimeout }),
            'jobs',
          ),
          forward: {
            url: 'https://app.example.com/webhooks',
            timeout: Duration.seconds(28),
            secret: new secretsmanager.Secret(stack, 'Signing'),
          },
        }),
    ).toThrow(
      /- forward\.timeout: must leave the deadline margin \(3 seconds\) within the consumer timeout \(30 seconds\).*\(got 28 seconds\)\. Fix: use at most 27 seconds, or raise timeout to at least Duration\.seconds\(31\)/,
    );
  });

  it('used on its own, forwards with the default secret cache and attempt timeout when given neither, as the pipeline does', () => {
    const stack = testStack();
    new QueueConsumer(stack, 'Consumer', {
      ...standaloneProps(
        new PipelineQueue(stack, 'Jobs', { consumerTimeout: DEFAULTS.consumerTimeout }),
        'jobs',
      ),
      forward: {
        url: 'https://app.example.com/webhooks',
        secret: new secretsmanager.Secret(stack, 'Signing'),
      },
    });
    const [fn] = Object.values(Template.fromStack(stack).findResources('AWS::Lambda::Function'));
    const forward = stack.resolve(fn?.Properties.Environment.Variables[FORWARD_CONFIG_ENV]);
    expect(JSON.parse(renderIntrinsics(forward))).toMatchObject({
      timeoutMs: DEFAULTS.forwardTimeout.toMilliseconds(),
      secretCacheSeconds: DEFAULTS.secretCache.toSeconds(),
    });
  });

  it("used on its own, refuses a dead-letter queue other than its queue's redrive target", () => {
    const stack = testStack();
    const jobs = new PipelineQueue(stack, 'Jobs', { consumerTimeout: DEFAULTS.consumerTimeout });
    const other = new PipelineQueue(stack, 'Other', { consumerTimeout: DEFAULTS.consumerTimeout });
    expect(
      () =>
        new QueueConsumer(stack, 'Consumer', {
          ...standaloneProps(jobs, 'jobs'),
          deadLetterQueue: other.deadLetterQueue,
        }),
    ).toThrow(
      /deadLetterQueue: must be the queue's own dead-letter queue \(Test\/Jobs\/DeadLetterQueue\).*got "Test\/Other\/DeadLetterQueue"/s,
    );
  });

  it.each([
    ['only minimumPollers', { minimumPollers: 5 }, { MinimumPollers: 5 }],
    ['only maximumPollers', { maximumPollers: 50 }, { MaximumPollers: 50 }],
  ])('runs in provisioned mode given %s, Lambda choosing the other bound', (_name, pollers, expected) => {
    const stack = testStack();
    new QueueConsumer(stack, 'Consumer', {
      ...standaloneProps(
        new PipelineQueue(stack, 'Jobs', { consumerTimeout: DEFAULTS.consumerTimeout }),
        'jobs',
      ),
      ...pollers,
    });
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      ProvisionedPollerConfig: expected,
    });
  });

  it('runs the exported handler it names and keeps its logs as long as it is told', () => {
    const stack = testStack();
    new QueueConsumer(stack, 'Consumer', {
      ...standaloneProps(
        new PipelineQueue(stack, 'Jobs', { consumerTimeout: DEFAULTS.consumerTimeout }),
        'jobs',
      ),
      handler: 'consume',
      logRetention: RetentionDays.ONE_WEEK,
    });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::Lambda::Function', { Handler: 'index.consume' });
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 7 });
  });

  it.each([
    [
      'on-demand and provisioned scaling together',
      { maxConcurrency: 10, maximumPollers: 20 },
      /maxConcurrency: maximum concurrency \(on-demand scaling\) and provisioned pollers/,
    ],
    [
      'a maximum concurrency above the reserved concurrency',
      { maxConcurrency: 20, reservedConcurrency: 5 },
      /maxConcurrency: must not exceed reservedConcurrency \(5\)/,
    ],
    [
      'pollers outside the SQS range',
      { minimumPollers: 1, maximumPollers: 3000 },
      /minimumPollers: an SQS event source keeps 2 to 200.*maximumPollers: CloudFormation accepts 2 to 2000 maximum pollers/s,
    ],
    [
      // The function's own configuration schema refuses it: every invocation would fail, not the synth.
      'a backoff longer than SQS can hide a message',
      { retry: { base: Duration.seconds(10), factor: 2, max: Duration.hours(13) } },
      /retry\.max: SQS visibility can be extended by at most 12 hours \(got 13 hours\)\. Fix: use at most Duration\.hours\(12\)/,
    ],
    [
      'a backoff factor below 1 and a base above the maximum, both at once',
      { retry: { base: Duration.minutes(20), factor: 0.5, max: Duration.minutes(10) } },
      /retry\.factor: the backoff factor is between 1 and 10 \(got 0\.5\).*retry\.base: must not exceed retry\.max \(10 minutes\)/s,
    ],
  ])('refuses %s when used on its own', (_name, scaling, expected) => {
    const stack = testStack();
    const pair = new PipelineQueue(stack, 'Jobs', { consumerTimeout: DEFAULTS.consumerTimeout });
    expect(
      () =>
        new QueueConsumer(stack, 'Consumer', {
          queue: pair.queue,
          deadLetterQueue: pair.deadLetterQueue,
          name: 'jobs',
          entry: 'lambda/consumers/events.ts',
          ...scaling,
        }),
    ).toThrow(expected);
  });
});

describe('QueueConsumer rate limit', () => {
  /** A pipeline whose one consumer has a rate limit and no idempotency: the table exists for the limit alone. */
  function rateLimitedPipeline() {
    const config = resolveConfig({
      sources: { github: { type: 'github' } },
      queues: {
        jobs: {
          consumer: {
            entry: 'lambda/consumers/events.ts',
            idempotency: { enabled: false },
            maxConcurrency: 2,
            rateLimit: { limit: 2, interval: Duration.seconds(1) },
          },
        },
      },
    });
    return pipelineTemplate(config);
  }

  it('counts its windows in a table its function may only update, and only under its own rate-limit keys', () => {
    const { template, stack } = rateLimitedPipeline();
    const config = runtimeConfigOf(template, stack, /ConsumerJobs/);
    expect(config.idempotency).toBeUndefined();
    expect(config.rateLimit).toMatchObject({ limit: 2, intervalMs: 1_000 });
    const table = logicalIdOf(config.rateLimit?.tableName);
    expect(template.toJSON().Resources[table]).toMatchObject({
      Type: 'AWS::DynamoDB::Table',
      Properties: { TimeToLiveSpecification: { AttributeName: 'expiration', Enabled: true } },
    });
    const fn = Object.keys(template.findResources('AWS::Lambda::Function')).find((id) =>
      /ConsumerJobs/.test(id),
    );
    const role = template.toJSON().Resources[fn ?? ''].Properties.Role['Fn::GetAtt'][0] as string;
    const statements = Object.values(
      template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: role }] } }),
    ).flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[]);
    const onTable = statements.filter((s) => JSON.stringify(s.Resource).includes(`"${table}"`));
    expect(onTable).toEqual([
      expect.objectContaining({
        Action: 'dynamodb:UpdateItem',
        Resource: { 'Fn::GetAtt': [table, 'Arn'] },
        Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['jobs#rate-limit#*'] } },
      }),
    ]);
  });

  it('used on its own, refuses a rate limit without its table or without maxConcurrency, saying both at once', () => {
    const stack = testStack();
    const pair = new PipelineQueue(stack, 'Jobs', { consumerTimeout: DEFAULTS.consumerTimeout });
    expect(
      () =>
        new QueueConsumer(stack, 'Consumer', {
          ...standaloneProps(pair, 'jobs'),
          rateLimit: { limit: 2, interval: Duration.seconds(1) },
        }),
    ).toThrow(/maxConcurrency[\s\S]*rateLimitTable|rateLimitTable[\s\S]*maxConcurrency/);
  });
});
