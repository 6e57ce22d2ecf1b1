import { Duration, Lazy, RemovalPolicy } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { PipelineQueue } from '../../lib/pipeline-queue';
import { testStack } from '../helpers/cdk';

describe('PipelineQueue', () => {
  it('creates a queue and a DLQ with redrive, retention and SSE-SQS by default', () => {
    // GIVEN
    const stack = testStack();
    // WHEN
    new PipelineQueue(stack, 'Jobs');
    // THEN
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::SQS::Queue', 2);
    template.hasResourceProperties('AWS::SQS::Queue', {
      MessageRetentionPeriod: 1_209_600,
      SqsManagedSseEnabled: true,
      RedrivePolicy: Match.absent(),
    });
    template.hasResourceProperties('AWS::SQS::Queue', {
      MessageRetentionPeriod: 345_600,
      VisibilityTimeout: 30,
      SqsManagedSseEnabled: true,
      RedrivePolicy: {
        deadLetterTargetArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('DeadLetterQueue'), 'Arn'] },
        maxReceiveCount: 5,
      },
    });
  });

  it('denies every request without TLS on both queues', () => {
    const stack = testStack();
    new PipelineQueue(stack, 'Jobs');
    const template = Template.fromStack(stack);
    const policies = template.findResources('AWS::SQS::QueuePolicy');
    expect(Object.keys(policies)).toHaveLength(2);
    for (const policy of Object.values(policies)) {
      expect(policy.Properties.PolicyDocument.Statement).toContainEqual(
        expect.objectContaining({
          Effect: 'Deny',
          Action: 'sqs:*',
          Condition: { Bool: { 'aws:SecureTransport': 'false' } },
        }),
      );
    }
  });

  it('makes both queues FIFO with content-based deduplication off by default', () => {
    const stack = testStack();
    new PipelineQueue(stack, 'Orders', { fifo: true });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::SQS::Queue', {
      FifoQueue: true,
      ContentBasedDeduplication: false,
      RedrivePolicy: Match.anyValue(),
    });
    template.hasResourceProperties('AWS::SQS::Queue', { FifoQueue: true, RedrivePolicy: Match.absent() });
  });

  it('leaves FifoQueue unset on standard queues (CloudFormation rejects false)', () => {
    const stack = testStack();
    new PipelineQueue(stack, 'Jobs');
    const queues = Template.fromStack(stack).findResources('AWS::SQS::Queue');
    for (const q of Object.values(queues)) expect(q.Properties.FifoQueue).toBeUndefined();
  });

  it('applies custom redrive count, retention and visibility', () => {
    const stack = testStack();
    new PipelineQueue(stack, 'Jobs', {
      maxReceiveCount: 8,
      retentionPeriod: Duration.days(2),
      deadLetterRetentionPeriod: Duration.days(10),
      visibilityTimeout: Duration.minutes(3),
    });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::SQS::Queue', {
      MessageRetentionPeriod: 172_800,
      VisibilityTimeout: 180,
      RedrivePolicy: Match.objectLike({ maxReceiveCount: 8 }),
    });
    template.hasResourceProperties('AWS::SQS::Queue', { MessageRetentionPeriod: 864_000 });
  });

  it('deduplicates a FIFO queue by content when asked', () => {
    const stack = testStack();
    new PipelineQueue(stack, 'Orders', { fifo: true, contentBasedDeduplication: true });
    Template.fromStack(stack).hasResourceProperties('AWS::SQS::Queue', {
      FifoQueue: true,
      ContentBasedDeduplication: true,
      RedrivePolicy: Match.anyValue(),
    });
  });

  it('puts a FIFO queue in SQS high throughput mode when asked: quota and deduplication per message group', () => {
    const stack = testStack();
    new PipelineQueue(stack, 'Orders', { fifo: true, highThroughput: true });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::SQS::Queue', {
      FifoQueue: true,
      DeduplicationScope: 'messageGroup',
      FifoThroughputLimit: 'perMessageGroupId',
      RedrivePolicy: Match.anyValue(),
    });
    // The dead-letter queue takes the consumer's dead letters one at a time: the queue's quota is plenty.
    template.hasResourceProperties('AWS::SQS::Queue', {
      FifoQueue: true,
      DeduplicationScope: Match.absent(),
      RedrivePolicy: Match.absent(),
    });
  });

  it('leaves a FIFO queue at the queue-wide quota by default', () => {
    const stack = testStack();
    new PipelineQueue(stack, 'Orders', { fifo: true });
    Template.fromStack(stack).hasResourceProperties('AWS::SQS::Queue', {
      FifoQueue: true,
      DeduplicationScope: Match.absent(),
      FifoThroughputLimit: Match.absent(),
      RedrivePolicy: Match.anyValue(),
    });
  });

  it('refuses high throughput mode on a standard queue, which has no such quota', () => {
    expect(() => new PipelineQueue(testStack(), 'Jobs', { highThroughput: true })).toThrow(
      /highThroughput: high throughput mode exists only on FIFO queues/,
    );
  });

  it('deletes both queues with the stack by default (DEFAULTS.queueRemovalPolicy)', () => {
    const stack = testStack();
    new PipelineQueue(stack, 'Jobs');
    const queues = Object.values(Template.fromStack(stack).findResources('AWS::SQS::Queue'));
    expect(queues.map((q) => [q.DeletionPolicy, q.UpdateReplacePolicy])).toEqual([
      ['Delete', 'Delete'],
      ['Delete', 'Delete'],
    ]);
  });

  it('keeps both queues and their messages when the stack is deleted, if told to retain them', () => {
    const stack = testStack();
    new PipelineQueue(stack, 'Jobs', { removalPolicy: RemovalPolicy.RETAIN });
    const queues = Object.values(Template.fromStack(stack).findResources('AWS::SQS::Queue'));
    expect(queues.map((q) => [q.DeletionPolicy, q.UpdateReplacePolicy])).toEqual([
      ['Retain', 'Retain'],
      ['Retain', 'Retain'],
    ]);
  });

  it('throws when the visibility timeout is beyond the 12 hours SQS allows', () => {
    expect(() => new PipelineQueue(testStack(), 'Jobs', { visibilityTimeout: Duration.hours(13) })).toThrow(
      /visibilityTimeout: SQS visibility timeout is at most 12 hours \(got 13 hours\)/,
    );
  });

  it('throws when maxReceiveCount is below 1', () => {
    expect(() => new PipelineQueue(testStack(), 'Jobs', { maxReceiveCount: 0 })).toThrow(
      /maxReceiveCount: must be between 1 and 1000 \(got 0\)/,
    );
  });

  it('throws when the DLQ retention is not longer than the queue retention', () => {
    expect(
      () =>
        new PipelineQueue(testStack(), 'Jobs', {
          retentionPeriod: Duration.days(14),
          deadLetterRetentionPeriod: Duration.days(7),
        }),
    ).toThrow(/deadLetterRetentionPeriod: must be longer than the queue's retentionPeriod \(14 days\)/);
  });

  it('throws when content-based deduplication is set on a standard queue', () => {
    expect(() => new PipelineQueue(testStack(), 'Jobs', { contentBasedDeduplication: true })).toThrow(
      /contentBasedDeduplication: content-based deduplication exists only on FIFO queues/,
    );
  });

  it('skips checks on values that are only known at deploy time', () => {
    const stack = testStack();
    const count = Lazy.number({ produce: () => 7 });
    expect(() => new PipelineQueue(stack, 'Jobs', { maxReceiveCount: count })).not.toThrow();
  });
});

describe('PipelineQueue read by a consumer', () => {
  it('throws naming the field, the value and the fix when the visibility timeout is under 6 x the consumer timeout', () => {
    expect(
      () =>
        new PipelineQueue(testStack(), 'Q', {
          consumerTimeout: Duration.minutes(5),
          visibilityTimeout: Duration.minutes(1),
        }),
    ).toThrow(
      /visibilityTimeout: must be at least 6 x the consumer timeout \+ the batching window \(1800 seconds\).*\(got 1 minute\)\. Fix: remove it to derive 1800 seconds, or raise it/,
    );
  });

  it('counts the batching window in the minimum', () => {
    expect(
      () =>
        new PipelineQueue(testStack(), 'Q', {
          consumerTimeout: Duration.seconds(30),
          consumerBatchingWindow: Duration.seconds(20),
          visibilityTimeout: Duration.seconds(190),
        }),
    ).toThrow(/\(200 seconds\)/);
  });

  it('lists every problem in one error', () => {
    expect(
      () =>
        new PipelineQueue(testStack(), 'Q', {
          maxReceiveCount: 0,
          consumerTimeout: Duration.minutes(5),
          visibilityTimeout: Duration.minutes(1),
        }),
    ).toThrow(/maxReceiveCount: .*\n.*visibilityTimeout: /);
  });

  it('derives the visibility timeout from the consumer timeout when none is given', () => {
    const stack = testStack();
    new PipelineQueue(stack, 'Q', {
      consumerTimeout: Duration.seconds(40),
      consumerBatchingWindow: Duration.seconds(5),
    });
    Template.fromStack(stack).hasResourceProperties('AWS::SQS::Queue', {
      VisibilityTimeout: 245,
      RedrivePolicy: Match.anyValue(),
    });
  });

  it('accepts a visibility timeout only known at deploy time', () => {
    const visibility = Duration.seconds(Lazy.number({ produce: () => 60 }));
    expect(
      () =>
        new PipelineQueue(testStack(), 'Q', {
          consumerTimeout: Duration.minutes(5),
          visibilityTimeout: visibility,
        }),
    ).not.toThrow();
  });
});
