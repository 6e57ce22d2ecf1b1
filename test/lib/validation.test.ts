import { Duration, Token } from 'aws-cdk-lib/core';
import { describe, expect, it } from 'vitest';
import {
  alarmTopicRegionViolations,
  breakerQueueNameViolations,
  type ConsumerRuleInput,
  consumerViolations,
  defaultDeadlineMargin,
  environmentSizeViolations,
  ingestViolations,
  memoryViolations,
  type QueueRuleInput,
  queueViolations,
  retentionViolations,
  retryViolations,
  retryWithinVisibilityViolations,
  stackNameViolations,
  topicArnViolations,
  visibilityExtensionViolations,
  visibilityViolations,
} from '../../lib/validation';
import type { Violation } from '../../lib/violations';

const s = Duration.seconds;
const paths = (violations: readonly Violation[]) => violations.map((v) => v.path);

const consumer = (over: Partial<ConsumerRuleInput> = {}): ConsumerRuleInput => ({
  fifo: false,
  timeout: s(30),
  batchSize: 10,
  maxBatchingWindow: s(0),
  ...over,
});
const queue = (over: Partial<QueueRuleInput> = {}): QueueRuleInput => ({
  fifo: false,
  maxReceiveCount: 5,
  retentionPeriod: Duration.days(4),
  deadLetterRetentionPeriod: Duration.days(14),
  ...over,
});
const ingest = (over: Partial<Parameters<typeof ingestViolations>[0]> = {}) =>
  ingestViolations({ rateLimit: 100, burstLimit: 200, timeout: s(10), memorySize: 256, ...over });

/** Each case: the violations for a value on a limit's own edge (none) and one step past it (the field). */
const edges: [string, () => Violation[], () => Violation[], string[]][] = [
  ['memory, lowest', () => memoryViolations('m', 128), () => memoryViolations('m', 127), ['m']],
  ['memory, highest', () => memoryViolations('m', 10_240), () => memoryViolations('m', 10_241), ['m']],
  [
    'retention, shortest',
    () => retentionViolations('r', s(60)),
    () => retentionViolations('r', s(59)),
    ['r'],
  ],
  [
    'retention, longest',
    () => retentionViolations('r', s(1_209_600)),
    () => retentionViolations('r', s(1_209_601)),
    ['r'],
  ],
  [
    'visibility extension, shortest',
    () => visibilityExtensionViolations('e', s(1)),
    () => visibilityExtensionViolations('e', Duration.millis(999)),
    ['e'],
  ],
  [
    'visibility extension, longest',
    () => visibilityExtensionViolations('e', s(43_200)),
    () => visibilityExtensionViolations('e', s(43_201)),
    ['e'],
  ],
  [
    'backoff factor, lowest',
    () => retryViolations({ base: s(1), factor: 1, max: s(60) }),
    () => retryViolations({ base: s(1), factor: 0.9, max: s(60) }),
    ['retry.factor'],
  ],
  [
    'backoff factor, highest',
    () => retryViolations({ base: s(1), factor: 10, max: s(60) }),
    () => retryViolations({ base: s(1), factor: 10.1, max: s(60) }),
    ['retry.factor'],
  ],
  [
    'backoff base, at most the maximum',
    () => retryViolations({ base: s(60), factor: 2, max: s(60) }),
    () => retryViolations({ base: s(61), factor: 2, max: s(60) }),
    ['retry.base'],
  ],
  [
    'backoff within what SQS still grants after the visibility timeout',
    () => retryWithinVisibilityViolations('retry.max', s(43_000), s(200)),
    () => retryWithinVisibilityViolations('retry.max', s(43_001), s(200)),
    ['retry.max'],
  ],
  [
    'maxReceiveCount, lowest',
    () => queueViolations(queue({ maxReceiveCount: 1 })),
    () => queueViolations(queue({ maxReceiveCount: 0 })),
    ['maxReceiveCount'],
  ],
  [
    'maxReceiveCount, highest',
    () => queueViolations(queue({ maxReceiveCount: 1000 })),
    () => queueViolations(queue({ maxReceiveCount: 1001 })),
    ['maxReceiveCount'],
  ],
  [
    'dead-letter retention outlives the queue',
    () => queueViolations(queue({ retentionPeriod: s(600), deadLetterRetentionPeriod: s(601) })),
    () => queueViolations(queue({ retentionPeriod: s(600), deadLetterRetentionPeriod: s(600) })),
    ['deadLetterRetentionPeriod'],
  ],
  [
    'consumer timeout, shortest',
    () => consumerViolations(consumer({ timeout: s(1) })),
    () => consumerViolations(consumer({ timeout: Duration.millis(999) })),
    ['timeout'],
  ],
  [
    'consumer timeout, longest',
    () => consumerViolations(consumer({ timeout: s(900) })),
    () => consumerViolations(consumer({ timeout: s(901) })),
    ['timeout'],
  ],
  [
    'batching window, longest',
    () => consumerViolations(consumer({ maxBatchingWindow: s(300) })),
    () => consumerViolations(consumer({ maxBatchingWindow: s(301) })),
    ['maxBatchingWindow'],
  ],
  [
    'batch size, lowest',
    () => consumerViolations(consumer({ batchSize: 1 })),
    () => consumerViolations(consumer({ batchSize: 0 })),
    ['batchSize'],
  ],
  [
    'batch size of a FIFO queue, highest',
    () => consumerViolations(consumer({ fifo: true, batchSize: 10 })),
    () => consumerViolations(consumer({ fifo: true, batchSize: 11 })),
    ['batchSize'],
  ],
  [
    'batch size above 10 with a batching window of at least a second',
    () => consumerViolations(consumer({ batchSize: 11, maxBatchingWindow: s(1) })),
    () => consumerViolations(consumer({ batchSize: 11, maxBatchingWindow: Duration.millis(999) })),
    ['batchSize'],
  ],
  [
    'maxConcurrency, lowest',
    () => consumerViolations(consumer({ maxConcurrency: 2 })),
    () => consumerViolations(consumer({ maxConcurrency: 1 })),
    ['maxConcurrency'],
  ],
  [
    'maxConcurrency, highest',
    () => consumerViolations(consumer({ maxConcurrency: 1000 })),
    () => consumerViolations(consumer({ maxConcurrency: 1001 })),
    ['maxConcurrency'],
  ],
  [
    'minimumPollers, lowest',
    () => consumerViolations(consumer({ minimumPollers: 2 })),
    () => consumerViolations(consumer({ minimumPollers: 1 })),
    ['minimumPollers'],
  ],
  [
    'minimumPollers, highest',
    () => consumerViolations(consumer({ minimumPollers: 200, maximumPollers: 2000 })),
    () => consumerViolations(consumer({ minimumPollers: 201, maximumPollers: 2000 })),
    ['minimumPollers'],
  ],
  [
    'maximumPollers, lowest',
    () => consumerViolations(consumer({ maximumPollers: 2 })),
    () => consumerViolations(consumer({ maximumPollers: 1 })),
    ['maximumPollers'],
  ],
  [
    'maximumPollers, highest',
    () => consumerViolations(consumer({ maximumPollers: 2000 })),
    () => consumerViolations(consumer({ maximumPollers: 2001 })),
    ['maximumPollers'],
  ],
  [
    'minimumPollers at most maximumPollers',
    () => consumerViolations(consumer({ minimumPollers: 5, maximumPollers: 5 })),
    () => consumerViolations(consumer({ minimumPollers: 6, maximumPollers: 5 })),
    ['minimumPollers'],
  ],
  [
    'maxConcurrency at most reservedConcurrency',
    () => consumerViolations(consumer({ maxConcurrency: 5, reservedConcurrency: 5 })),
    () => consumerViolations(consumer({ maxConcurrency: 6, reservedConcurrency: 5 })),
    ['maxConcurrency'],
  ],
  [
    'reservedConcurrency, a whole number',
    () => consumerViolations(consumer({ maxConcurrency: 2, reservedConcurrency: 2 })),
    () => consumerViolations(consumer({ maxConcurrency: 2, reservedConcurrency: 2.5 })),
    ['reservedConcurrency'],
  ],
  [
    'visibility timeout covers 6 x the timeout + the batching window',
    () => visibilityViolations(s(190), s(30), s(10)),
    () => visibilityViolations(s(189), s(30), s(10)),
    ['visibilityTimeout'],
  ],
  [
    'ingest burst, lowest',
    () => ingest({ rateLimit: 1, burstLimit: 1 }),
    () => ingest({ rateLimit: 1, burstLimit: 0 }),
    ['burstLimit'],
  ],
  [
    'ingest burst, highest',
    () => ingest({ burstLimit: 5000 }),
    () => ingest({ burstLimit: 5001 }),
    ['burstLimit'],
  ],
  [
    'ingest burst, at least one second of the rate',
    () => ingest({ rateLimit: 300, burstLimit: 300 }),
    () => ingest({ rateLimit: 300, burstLimit: 299 }),
    ['burstLimit'],
  ],
  [
    'ingest timeout, shortest',
    () => ingest({ timeout: s(1) }),
    () => ingest({ timeout: Duration.millis(999) }),
    ['timeout'],
  ],
  [
    'ingest timeout, longest',
    () => ingest({ timeout: s(29) }),
    () => ingest({ timeout: s(30) }),
    ['timeout'],
  ],
  [
    'environment size',
    () => environmentSizeViolations('environment', 4096, 'fix'),
    () => environmentSizeViolations('environment', 4097, 'fix'),
    ['environment'],
  ],
  [
    'stack name length',
    () => stackNameViolations('stackName', `A${'b'.repeat(127)}`),
    () => stackNameViolations('stackName', `A${'b'.repeat(128)}`),
    ['stackName'],
  ],
  [
    "breaker queue name length (its alarm's name)",
    () => breakerQueueNameViolations('name', `q${'x'.repeat(39)}`),
    () => breakerQueueNameViolations('name', `q${'x'.repeat(40)}`),
    ['name'],
  ],
  [
    "breaker queue name holding the alarm name's separator",
    () => breakerQueueNameViolations('name', 'billing-jobs'),
    () => breakerQueueNameViolations('name', 'billing/jobs'),
    ['name'],
  ],
];

describe('validation rules', () => {
  it.each(edges)(
    '%s: accepts the edge and refuses one step past it, with the value and a fix',
    (_, edge, past, expected) => {
      expect(edge()).toEqual([]);
      const refused = past();
      expect(paths(refused)).toEqual(expected);
      for (const v of refused) {
        expect(v.value).not.toBe('nothing');
        expect(v.fix).not.toBe('');
      }
    },
  );

  it('reports every broken consumer rule together, not the first one only', () => {
    const refused = consumerViolations({
      fifo: true,
      timeout: s(901),
      batchSize: 11,
      maxBatchingWindow: s(5),
      maxConcurrency: 1,
      minimumPollers: 1,
      maximumPollers: 2001,
      memorySize: 64,
    });
    expect(paths(refused).sort()).toEqual(
      [
        'timeout',
        'maxBatchingWindow',
        'batchSize',
        'maxConcurrency',
        'minimumPollers',
        'maximumPollers',
        'maxConcurrency',
        'memorySize',
      ].sort(),
    );
  });

  it('says how to reserve concurrency for an event source that does not limit itself to it', () => {
    expect(consumerViolations(consumer({ reservedConcurrency: 2 }))[0]?.fix).toBe(
      'add maxConcurrency: 2 (at most reservedConcurrency), or remove reservedConcurrency',
    );
    expect(consumerViolations(consumer({ reservedConcurrency: 1 }))[0]?.fix).toBe(
      'reserve at least 2 and set maxConcurrency to the same number, or remove reservedConcurrency',
    );
    // With provisioned pollers the fix is theirs, not maxConcurrency (which they exclude).
    expect(consumerViolations(consumer({ reservedConcurrency: 2, minimumPollers: 2 }))[0]?.fix).toMatch(
      /^reserve at least 20 with maximumPollers: 2, scale on demand instead/,
    );
    expect(
      paths(consumerViolations(consumer({ reservedConcurrency: 20, minimumPollers: 2, maximumPollers: 2 }))),
    ).toEqual([]);
  });

  it('tells an ingest rate above the largest burst to come down, not the burst to go past 5000', () => {
    const rate = (rateLimit: number) => ingest({ rateLimit, burstLimit: 5000 });
    expect(rate(5000)).toEqual([]);
    expect(ingest({ rateLimit: 5000, burstLimit: 4000 })[0]?.fix).toBe(
      'raise it to 5000 or more, or lower rateLimit',
    );
    expect(rate(10_000)).toEqual([
      expect.objectContaining({
        path: 'burstLimit',
        value: '5000',
        fix: 'lower rateLimit to at most 5000 (no burst can hold one second of more), and raise burstLimit to match',
      }),
    ]);
    expect(paths(rate(10_001))).toEqual(['rateLimit', 'burstLimit']);
    expect(
      ingestViolations({ rateLimit: 300, burstLimit: 299, timeout: s(10), memorySize: 256 }, 'ingest.')[0]
        ?.fix,
    ).toBe('raise it to 300 or more, or lower ingest.rateLimit');
  });

  it('refuses a longest backoff under a second for being too short, not for passing 12 hours', () => {
    expect(retryViolations({ base: s(0), factor: 2, max: s(0) })).toEqual([
      expect.objectContaining({
        path: 'retry.max',
        message: 'SQS visibility is extended by whole seconds, so the longest wait is at least 1 second',
        fix: 'use at least Duration.seconds(1)',
      }),
      expect.objectContaining({
        path: 'retry.base',
        message: expect.stringMatching(/^must be at least 1 second/),
      }),
    ]);
  });

  it('names a visibility timeout that leaves no room for any backoff as the fix, never a backoff it would refuse too', () => {
    const [atTheLimit] = retryWithinVisibilityViolations('retry.max', s(900), s(43_200));
    expect(atTheLimit?.fix).toBe(
      "lower the queue's visibilityTimeout to at most Duration.seconds(42300), which leaves room for this backoff",
    );
    // The backoff that fix leaves room for is accepted.
    expect(retryWithinVisibilityViolations('retry.max', s(900), s(42_300))).toEqual([]);
    // One past 12 hours is refused by the visibility timeout's own rule, not again as a backoff.
    expect(retryWithinVisibilityViolations('retry.max', s(900), s(46_800))).toEqual([]);
  });

  it('skips every value that is an unresolved token: it is only known at deploy time', () => {
    const n = Token.asNumber({ Ref: 'Param' });
    const d = s(n);
    expect([
      ...memoryViolations('m', n),
      ...retentionViolations('r', d),
      ...visibilityExtensionViolations('e', d),
      ...retryViolations({ base: d, factor: n, max: d }),
      ...retryWithinVisibilityViolations('retry.max', d, d),
      ...queueViolations({
        fifo: false,
        maxReceiveCount: n,
        retentionPeriod: d,
        deadLetterRetentionPeriod: d,
      }),
      ...consumerViolations({
        fifo: true,
        timeout: d,
        batchSize: n,
        maxBatchingWindow: d,
        minimumPollers: n,
        maximumPollers: n,
        reservedConcurrency: n,
        memorySize: n,
      }),
      ...visibilityViolations(d, d, d),
      ...ingestViolations({ rateLimit: n, burstLimit: n, timeout: d, memorySize: n }),
      ...stackNameViolations('stackName', Token.asString({ Ref: 'Name' })),
      ...topicArnViolations('t', Token.asString({ Ref: 'Topic' })),
      ...alarmTopicRegionViolations(
        't',
        'arn:aws:sns:us-east-1:123456789012:alarms',
        Token.asString({ Ref: 'AWS::Region' }),
      ),
    ]).toEqual([]);
  });

  it.each([
    [0, false, 'use at least 1'],
    [-3, true, 'use at least 1'],
    [10_001, false, 'use at most 10000'],
    [11, true, 'use at most 10'],
  ])('fixes a batch size of %d (FIFO %s) towards the bound it is beyond: %s', (batchSize, fifo, fix) => {
    expect(consumerViolations(consumer({ fifo, batchSize })).map((v) => v.fix)).toEqual([fix]);
  });

  it('refuses on-demand maxConcurrency beside either provisioned poller bound', () => {
    for (const pollers of [{ minimumPollers: 2 }, { maximumPollers: 2 }]) {
      expect(paths(consumerViolations(consumer({ maxConcurrency: 5, ...pollers })))).toEqual([
        'maxConcurrency',
      ]);
    }
  });

  it('refuses a FIFO topic for alarms, which takes no alarm notification and no email subscription', () => {
    expect(
      topicArnViolations('alarms.existingTopicArn', 'arn:aws:sns:us-east-1:123456789012:alarms.fifo'),
    ).toEqual([
      expect.objectContaining({
        path: 'alarms.existingTopicArn',
        message: expect.stringContaining('is a FIFO topic'),
        fix: expect.stringContaining('use a standard topic'),
      }),
    ]);
  });

  it('suggests a stack name CloudFormation accepts, made from the one given', () => {
    expect(stackNameViolations('stackName', '12 my  app!')[0]?.fix).toBe('use e.g. "my-app-"');
    expect(stackNameViolations('stackName', '42')[0]?.fix).toBe('use e.g. "Webhooks"');
  });

  it('takes only a whole SNS topic ARN, and only one in the stack region for alarms', () => {
    const arn = 'arn:aws:sns:us-east-1:123456789012:alarms';
    expect(topicArnViolations('alarms.existingTopicArn', arn)).toEqual([]);
    for (const bad of [`x${arn}`, `${arn}/extra`, 'alarms']) {
      expect(paths(topicArnViolations('alarms.existingTopicArn', bad))).toEqual(['alarms.existingTopicArn']);
    }
    expect(alarmTopicRegionViolations('alarms.existingTopicArn', arn, 'us-east-1')).toEqual([]);
    expect(alarmTopicRegionViolations('alarms.existingTopicArn', arn, 'eu-west-1')).toEqual([
      expect.objectContaining({
        path: 'alarms.existingTopicArn',
        message: expect.stringContaining('is a topic in us-east-1'),
        fix: expect.stringContaining('use a topic in eu-west-1'),
      }),
    ]);
  });

  it("gives a consumer's deadline the margin, but never more than its share of the timeout", () => {
    expect(defaultDeadlineMargin(s(10), s(2), 0.1).toMilliseconds()).toBe(1000);
    expect(defaultDeadlineMargin(s(60), s(2), 0.1).toMilliseconds()).toBe(2000);
  });
});
