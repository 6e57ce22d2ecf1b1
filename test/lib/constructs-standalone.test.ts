import { Duration, Lazy, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { describe, expect, it } from 'vitest';
import { DEFAULTS, resolveConfig } from '../../lib/config';
import * as hookline from '../../lib/index';
import { PipelineQueue } from '../../lib/pipeline-queue';
import { QueueConsumer } from '../../lib/queue-consumer';
import { WebhookIngest, type WebhookIngestProps } from '../../lib/webhook-ingest';
import { testApp } from '../helpers/cdk';

const freshStack = () => new Stack(testApp(), 'Standalone');

describe('QueueConsumer used on its own', () => {
  it('synthesizes from an entry alone, with the defaults of DEFAULTS', () => {
    const stack = freshStack();
    const jobs = new PipelineQueue(stack, 'Jobs', { consumerTimeout: DEFAULTS.consumerTimeout });
    new QueueConsumer(stack, 'Worker', {
      queue: jobs.queue,
      deadLetterQueue: jobs.deadLetterQueue,
      name: 'jobs',
      entry: 'lambda/consumers/events.ts',
    });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Timeout: DEFAULTS.consumerTimeout.toSeconds(),
      MemorySize: DEFAULTS.consumerMemorySize,
      Environment: { Variables: Match.objectLike({ HOOKLINE_CONSUMER_CONFIG: Match.anyValue() }) },
    });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: DEFAULTS.batchSize,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: DEFAULTS.logRetentionDays });
  });

  it('throws one error naming every out-of-range prop, its value and the fix', () => {
    const stack = freshStack();
    const jobs = new PipelineQueue(stack, 'Jobs');
    expect(
      () =>
        new QueueConsumer(stack, 'Worker', {
          queue: jobs.queue,
          deadLetterQueue: jobs.deadLetterQueue,
          name: 'jobs',
          entry: 'lambda/consumers/events.ts',
          memorySize: 64,
          timeout: Duration.minutes(20),
        }),
    ).toThrow(
      /Invalid QueueConsumer Standalone\/Worker:\n {2}- timeout: .*\(got 20 minutes\)\. Fix: .*\n {2}- memorySize: .*\(got 64\)\. Fix: use e\.g\. 512/,
    );
  });
});

describe('WebhookIngest used on its own', () => {
  const settings = resolveConfig({
    sources: { github: { type: 'github' } },
    queues: { events: {} },
    routes: [{ source: 'github', type: '*', queues: ['events'] }],
  });

  /** An ingest with one queue and one secret, plus the props a test sets. */
  const ingestIn = (stack: Stack, props: Partial<WebhookIngestProps> = {}) =>
    new WebhookIngest(stack, 'Ingest', {
      settings,
      queues: { events: new PipelineQueue(stack, 'Events').queue },
      secrets: { github: new secretsmanager.Secret(stack, 'GithubSecret') },
      ...props,
    });

  it('synthesizes with a queue and a secret, with the defaults of DEFAULTS', () => {
    const stack = freshStack();
    ingestIn(stack);
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Timeout: DEFAULTS.ingestTimeout.toSeconds(),
      MemorySize: DEFAULTS.ingestMemorySize,
    });
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      DefaultRouteSettings: {
        ThrottlingRateLimit: DEFAULTS.ingestRateLimit,
        ThrottlingBurstLimit: DEFAULTS.ingestBurstLimit,
      },
    });
    template.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: 'ANY /webhooks/{source}' });
  });

  it('throws one error naming every out-of-range prop, its value and the fix', () => {
    const stack = freshStack();
    expect(() => ingestIn(stack, { timeout: Duration.seconds(60), rateLimit: 500, burstLimit: 100 })).toThrow(
      /Invalid WebhookIngest Standalone\/Ingest:\n {2}- burstLimit: must be at least rateLimit \(500\).*\(got 100\)\. Fix: raise it to 500.*\n {2}- timeout: .*\(got 1 minute\)\. Fix: use Duration\.seconds\(10\)/,
    );
  });

  it('accepts limits only known at deploy time', () => {
    const stack = freshStack();
    expect(() => ingestIn(stack, { memorySize: Lazy.number({ produce: () => 64 }) })).not.toThrow();
  });
});

describe('EventArchive used on its own', () => {
  it('is a construct of the package entry, and refuses a retention under a day and a buffering interval outside 60 to 900 s at once', () => {
    const stack = freshStack();
    expect(
      () =>
        new hookline.EventArchive(stack, 'Archive', {
          retention: Duration.hours(12),
          bufferingInterval: Duration.seconds(30),
        }),
    ).toThrow(/retention[\s\S]*bufferingInterval|bufferingInterval[\s\S]*retention/);
  });
});
