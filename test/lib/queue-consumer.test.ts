import { Duration } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { describe, expect, it } from 'vitest';
import { type HooklineConfig, resolveConfig } from '../../lib/config';
import { PipelineQueue } from '../../lib/pipeline-queue';
import { QueueConsumer } from '../../lib/queue-consumer';
import { queueConsumerSettings } from '../../lib/webhook-pipeline-stack';
import { testStack } from '../helpers/cdk';

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
  const bucket = new s3.Bucket(stack, 'Payloads');
  const consumer = new QueueConsumer(stack, 'Consumer', {
    queue: pair.queue,
    deadLetterQueue: pair.deadLetterQueue,
    ...queueConsumerSettings(settings),
    ...(withResources ? { idempotencyTable: table, payloadBucket: bucket } : {}),
  });
  return { template: Template.fromStack(stack), consumer, stack };
}

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

  it('grants exactly: consume the queue, send to the DLQ, item access on the table, GetObject on payloads, write its logs', () => {
    const { template } = consumerTemplate({ consumer: { entry: 'lambda/consumers/events.ts' } });
    const policies = Object.values(template.findResources('AWS::IAM::Policy'));
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
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        's3:GetObject',
        'sqs:ChangeMessageVisibility',
        'sqs:DeleteMessage',
        'sqs:GetQueueAttributes',
        'sqs:GetQueueUrl',
        'sqs:ReceiveMessage',
        'sqs:GetQueueAttributes',
        'sqs:GetQueueUrl',
        'sqs:SendMessage',
      ].sort(),
    );
    const sendStatement = statements.find((s) => JSON.stringify(s.Action).includes('sqs:SendMessage'));
    expect(JSON.stringify(sendStatement?.Resource)).toContain('DeadLetterQueue');
    const s3Statement = statements.find((s) => s.Action === 's3:GetObject');
    expect(JSON.stringify(s3Statement?.Resource)).toContain('/payloads/*');
  });

  it('grants nothing on a table or bucket it was not given', () => {
    const { template } = consumerTemplate({ consumer: { entry: 'lambda/consumers/events.ts' } }, false);
    const rendered = JSON.stringify(template.findResources('AWS::IAM::Policy'));
    expect(rendered).not.toContain('dynamodb:');
    expect(rendered).not.toContain('s3:');
  });

  it('throws when the queue has no consumer', () => {
    const stack = testStack();
    const pair = new PipelineQueue(stack, 'Jobs');
    expect(
      () =>
        new QueueConsumer(stack, 'Consumer', {
          queue: pair.queue,
          deadLetterQueue: pair.deadLetterQueue,
          ...queueConsumerSettings(settingsFor({})),
        }),
    ).toThrow(/queue "jobs" has no consumer configured/);
  });

  it('throws on a FIFO batch above 10', () => {
    const stack = testStack();
    const pair = new PipelineQueue(stack, 'Jobs', { fifo: true });
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
    const pair = new PipelineQueue(stack, 'Jobs', {});
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
