/**
 * The constructs used on their own refuse a prop of the wrong kind or range the way the configuration does: one
 * error listing the prop, the value given and the fix, never a TypeError or CDK's own error mid-synthesis, and never
 * a silent synthesis of a value AWS or the runtime would refuse.
 */
import { Duration, Lazy, Stack } from 'aws-cdk-lib';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../lib/config';
import { PipelineQueue } from '../../lib/pipeline-queue';
import { QueueConsumer } from '../../lib/queue-consumer';
import { formatViolation, ViolationsError } from '../../lib/violations';
import { WebhookIngest } from '../../lib/webhook-ingest';
import { testApp } from '../helpers/cdk';

type Props = Record<string, unknown>;

/** A wrong value of a prop, and whether the construct must refuse it (a wide value may be valid). */
type WrongValue = readonly [name: string, value: unknown, refused: boolean];

/** Counts and sizes: whole, finite, given as numbers. */
const count = (): WrongValue[] => [
  ['NaN', Number.NaN, true],
  ['a fraction', 2.5, true],
  ['a number in quotes', '10', true],
  ['negative', -1, true],
];
/** A rate: finite, given as a number (a fraction is one). */
const rate = (): WrongValue[] => [
  ['NaN', Number.NaN, true],
  ['a number in quotes', '10', true],
  ['negative', -1, true],
];
/** A Duration CloudFormation or the runtime takes in whole seconds. */
const seconds = (): WrongValue[] => [
  ['a number', 30, true],
  ['NaN', Duration.seconds(Number.NaN), true],
  ['a fraction of a second', Duration.millis(1500), true],
];
/** A Duration the runtime takes in milliseconds. */
const anyDuration = (): WrongValue[] => [
  ['a number', 30, true],
  ['NaN', Duration.seconds(Number.NaN), true],
];

/** A consumer's deadline margin, which must leave some of its 30-second timeout. */
const margin = (): WrongValue[] => [...anyDuration(), ['as long as the timeout', Duration.seconds(30), true]];

const settings = resolveConfig({
  sources: { github: { type: 'github' } },
  queues: { events: {} },
  routes: [{ source: 'github', type: '*', queues: ['events'] }],
});

const CONSTRUCTS: Readonly<
  Record<string, { build: (stack: Stack, props: Props) => void; props: Record<string, () => WrongValue[]> }>
> = {
  QueueConsumer: {
    build: (stack, props) => {
      const jobs = new PipelineQueue(stack, 'Jobs', { consumerTimeout: Duration.seconds(30) });
      new QueueConsumer(stack, 'Worker', {
        queue: jobs.queue,
        deadLetterQueue: jobs.deadLetterQueue,
        name: 'jobs',
        entry: 'lambda/consumers/events.ts',
        ...props,
      });
    },
    props: {
      timeout: seconds,
      memorySize: count,
      batchSize: count,
      maxBatchingWindow: seconds,
      maxConcurrency: count,
      minimumPollers: count,
      maximumPollers: count,
      reservedConcurrency: count,
      parallelism: count,
      deadlineMargin: margin,
      maxReceiveCount: count,
      retentionPeriod: seconds,
      deadLetterRetentionPeriod: seconds,
      idempotencyExpiry: seconds,
    },
  },
  PipelineQueue: {
    build: (stack, props) => new PipelineQueue(stack, 'Jobs', props),
    props: {
      maxReceiveCount: count,
      retentionPeriod: seconds,
      deadLetterRetentionPeriod: seconds,
      visibilityTimeout: seconds,
      consumerTimeout: seconds,
      consumerBatchingWindow: seconds,
    },
  },
  WebhookIngest: {
    build: (stack, props) =>
      new WebhookIngest(stack, 'Ingest', {
        settings,
        queues: { events: new PipelineQueue(stack, 'Events').queue },
        secrets: { github: new secretsmanager.Secret(stack, 'GithubSecret') },
        ...props,
      }),
    props: { timeout: seconds, memorySize: count, rateLimit: rate, burstLimit: count },
  },
};

const cases = Object.entries(CONSTRUCTS).flatMap(([construct, { build, props }]) =>
  Object.entries(props).flatMap(([prop, values]) =>
    values().map(([name, value, refused]) => ({
      name: `${construct}.${prop}: ${name}`,
      build,
      prop,
      value,
      refused,
    })),
  ),
);

describe('construct props of the wrong kind or range', () => {
  it.each(cases.map((c) => [c.name, c] as const))('%s', (_, c) => {
    let thrown: unknown;
    try {
      c.build(new Stack(testApp(), 'Standalone'), { [c.prop]: c.value });
    } catch (error) {
      thrown = error;
    }
    if (!thrown) {
      expect(c.refused, 'accepted').toBe(false);
      return;
    }
    expect(thrown, String((thrown as Error).stack)).toBeInstanceOf(ViolationsError);
    const problems = (thrown as ViolationsError).violations;
    const listing = problems.map(formatViolation).join('\n');
    const mine = problems.filter((v) => v.path === c.prop || v.path.startsWith(`${c.prop}.`));
    expect(mine, listing).not.toEqual([]);
    for (const v of mine) {
      expect(v.message, listing).not.toMatch(/Invalid input|expected \w+, received|invalid_type/);
      expect(v.fix.trim(), listing).not.toBe('');
      expect(v.value.trim(), listing).not.toBe('');
    }
  });

  it('lists a prop of the wrong kind with the out-of-range ones, in one error', () => {
    expect(() =>
      CONSTRUCTS.QueueConsumer?.build(new Stack(testApp(), 'Standalone'), {
        timeout: 30,
        memorySize: 64,
        parallelism: 0,
      }),
    ).toThrow(
      /Invalid QueueConsumer Standalone\/Worker:\n {2}- timeout: expected a Duration.*\(got 30\)\. Fix: use a Duration, e\.g\. Duration\.seconds\(30\).*\n {2}- memorySize: .*\(got 64\).*\n {2}- parallelism: must be between 1 and 1000 records at once \(got 0\)\. Fix: use 10/,
    );
  });

  it('still takes a token where CloudFormation does', () => {
    expect(() =>
      CONSTRUCTS.WebhookIngest?.build(new Stack(testApp(), 'Standalone'), {
        memorySize: Lazy.number({ produce: () => 512 }),
      }),
    ).not.toThrow();
  });
});
