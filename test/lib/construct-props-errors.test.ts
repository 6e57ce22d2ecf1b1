/**
 * The constructs used on their own refuse a prop of the wrong kind or range the way the configuration does: one
 * error listing the prop, the value given and the fix, never a TypeError or CDK's own error mid-synthesis, and never
 * a silent synthesis of a value AWS or the runtime would refuse.
 */
import { type App, Duration, Lazy, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import { describe, expect, it } from 'vitest';
import { ConsumerCircuitBreakers } from '../../lib/circuit-breakers';
import { resolveConfig } from '../../lib/config';
import { EventArchive } from '../../lib/event-archive';
import { HooklineFunction } from '../../lib/hookline-function';
import { HooklinePipeline } from '../../lib/hookline-pipeline';
import { PipelineAlarms } from '../../lib/pipeline-alarms';
import { PipelineDashboard } from '../../lib/pipeline-dashboard';
import { PipelineQueue } from '../../lib/pipeline-queue';
import { PipelineSchedules } from '../../lib/pipeline-schedules';
import { type ConsumerForward, QueueConsumer } from '../../lib/queue-consumer';
import { formatViolation, ViolationsError } from '../../lib/violations';
import { WebhookIngest } from '../../lib/webhook-ingest';
import { WebhookPipelineStack } from '../../lib/webhook-pipeline-stack';
import { testApp } from '../helpers/cdk';
import { auditCases } from '../helpers/config-audit';

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
/** A name, a path or an address. */
const text = (): WrongValue[] => [
  ['a number', 5, true],
  ['a list', ['events'], true],
];
/** A removal policy: the configuration's own options and CDK's retain-on-update-or-delete (snapshot applies to none of these resources). */
const removalPolicy = (): WrongValue[] => [
  ['not an option', 'keep', true],
  ['a number', 5, true],
  ['snapshot', 'snapshot', true],
];
/** A log group's retention: a period CloudWatch Logs accepts. */
const logRetention = (): WrongValue[] => [
  ['not a CloudWatch period', 45, true],
  ['a number in quotes', '30', true],
  ['zero', 0, true],
];
/** A Lambda tracing mode. */
const tracing = (): WrongValue[] => [
  ['not a mode', 'on', true],
  ['a boolean', true, true],
];
/** A path or a name that must say something: an empty one is no default. */
const filledText = (): WrongValue[] => [...text(), ['empty', '', true]];
/** A prop of one kind with values out of its range besides. */
const plus =
  (kind: () => WrongValue[], ...outOfRange: WrongValue[]) =>
  (): WrongValue[] => [...kind(), ...outOfRange];

/** A consumer's deadline margin: at least 100 ms, and leaving some of its 30-second timeout. */
const margin = plus(
  anyDuration,
  ['zero', Duration.seconds(0), true],
  ['as long as the timeout', Duration.seconds(30), true],
);
/** How long SQS keeps a message: 1 minute to 14 days. */
const retention = plus(
  seconds,
  ['under a minute', Duration.seconds(30), true],
  ['over 14 days', Duration.days(15), true],
);

/**
 * The wrong values the configuration audit tries on the configuration field a prop mirrors (`test/helpers/
 * config-audit.ts`), so the construct is held to every kind the configuration is; tokens are the token tests'.
 */
function asField(field: string): () => WrongValue[] {
  return () => {
    const tried = auditCases().filter((c) => c.field === field && !c.unknownKey && !c.token);
    if (tried.length === 0) throw new Error(`no configuration field ${field}`);
    return tried.map((c) => [c.name.slice(field.length + 2), c.value, c.refused] as const);
  };
}
const consumerField = (field: string) => asField(`queues.*.consumer.${field}`);

const settings = resolveConfig({
  sources: { github: { type: 'github' } },
  queues: { events: {} },
  routes: [{ source: 'github', type: '*', queues: ['events'] }],
});

/** The props with `value` at `path` (a nested one, `retry.base`, inside its holder's valid settings). */
function propsWith(c: ConstructCase, path: string, value: unknown): Props {
  const [head = '', nested] = path.split('.');
  const valid = c.valid ?? {};
  if (nested === undefined) return { ...valid, [head]: value };
  const holder = (valid[head] ?? c.holders?.[head] ?? {}) as Props;
  return { ...valid, [head]: { ...holder, [nested]: value } };
}

interface ConstructCase {
  /** Builds the construct in the stack with the props given (valid ones around them). */
  readonly build: (stack: Stack, props: Props) => void;
  /** Valid props a wrong one is set among. */
  readonly valid?: Props;
  /** The valid settings of an object a nested prop is tried in, given only with it. */
  readonly holders?: Props;
  /** The prop's path in the error, where it is not the prop's own. */
  readonly reportedAt?: (prop: string, props: Props) => string;
  readonly props: Record<string, () => WrongValue[]>;
}

const CONSTRUCTS: Readonly<Record<string, ConstructCase>> = {
  QueueConsumer: {
    build: (stack, { forward, ...props }) => {
      const jobs = new PipelineQueue(stack, 'Jobs', { consumerTimeout: Duration.seconds(30) });
      new QueueConsumer(stack, 'Worker', {
        queue: jobs.queue,
        deadLetterQueue: jobs.deadLetterQueue,
        name: 'jobs',
        entry: 'lambda/consumers/events.ts',
        // A rate limit counts in a table, across a bounded concurrency.
        ...(props.rateLimit
          ? {
              rateLimitTable: new dynamodb.Table(stack, 'Limits', {
                partitionKey: { name: 'id', type: dynamodb.AttributeType.STRING },
              }),
              maxConcurrency: 5,
            }
          : {}),
        // A forwarding consumer signs with a secret of the stack.
        ...(forward
          ? {
              forward: {
                secret: new secretsmanager.Secret(stack, 'Signing'),
                ...(forward as Omit<ConsumerForward, 'secret'>),
              },
            }
          : {}),
        ...props,
      });
    },
    holders: {
      retry: { base: Duration.seconds(10), factor: 2, max: Duration.minutes(15) },
      forward: { url: 'https://app.example.com/webhooks', timeout: Duration.seconds(10) },
      rateLimit: { limit: 10, interval: Duration.seconds(1) },
      circuitBreaker: { failureRatio: 0.5, minimumRecords: 20, window: Duration.minutes(5) },
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
      retentionPeriod: retention,
      deadLetterRetentionPeriod: retention,
      idempotencyExpiry: plus(seconds, ['under a minute', Duration.seconds(30), true]),
      'retry.base': consumerField('retry.base'),
      'retry.factor': consumerField('retry.factor'),
      'retry.max': consumerField('retry.max'),
      'rateLimit.limit': consumerField('rateLimit.limit'),
      'rateLimit.interval': consumerField('rateLimit.interval'),
      'circuitBreaker.failureRatio': consumerField('circuitBreaker.failureRatio'),
      'circuitBreaker.minimumRecords': consumerField('circuitBreaker.minimumRecords'),
      'circuitBreaker.window': consumerField('circuitBreaker.window'),
      // The configuration's rule: at least a second, and within the consumer's 30 seconds less its 3-second margin.
      'forward.timeout': plus(
        anyDuration,
        ['zero', Duration.seconds(0), true],
        ['beyond the timeout less the margin', Duration.seconds(28), true],
      ),
      // The ingest's rule (`ingest.secretCache`): the forwarding function reads its secret as often.
      'forward.secretCache': plus(
        seconds,
        ['zero', Duration.seconds(0), true],
        ['over an hour', Duration.hours(2), true],
      ),
      logRetention,
      tracing,
    },
  },
  PipelineQueue: {
    build: (stack, props) => new PipelineQueue(stack, 'Jobs', props),
    props: {
      maxReceiveCount: count,
      retentionPeriod: seconds,
      deadLetterRetentionPeriod: seconds,
      visibilityTimeout: plus(seconds, ['zero', Duration.seconds(0), true]),
      consumerTimeout: seconds,
      consumerBatchingWindow: seconds,
      removalPolicy,
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
    props: {
      timeout: seconds,
      memorySize: count,
      rateLimit: rate,
      burstLimit: count,
      logRetention,
      tracing,
    },
  },
  EventArchive: {
    build: (stack, props) => new EventArchive(stack, 'Archive', props),
    props: {
      retention: plus(asField('archive.retention'), ['not whole days', Duration.hours(36), true]),
      bufferingInterval: plus(anyDuration, ['under a minute', Duration.seconds(30), true]),
      removalPolicy,
    },
  },
  PipelineSchedules: {
    build: (stack, props) => {
      const { schedule = {}, ...rest } = props;
      new PipelineSchedules(stack, 'Schedules', {
        schedules: [
          {
            name: 'nightly',
            expression: 'cron(0 3 * * ? *)',
            timezone: 'UTC',
            queue: 'events',
            type: 'report.nightly',
            payload: {},
            ...(schedule as Props),
          },
        ],
        queues: { events: new PipelineQueue(stack, 'Events').queue },
        ...rest,
      });
    },
    reportedAt: (prop, props) => {
      const name = (props.schedule as Props | undefined)?.name ?? 'nightly';
      return prop.replace(/^schedule\./, `schedules[0]${typeof name === 'string' ? ` (${name})` : ''}.`);
    },
    props: {
      'schedule.name': text,
      'schedule.expression': plus(text, ['not an expression', 'hourly', true]),
      'schedule.timezone': plus(text, ['no time zone', 'Mars/Olympus', true]),
      'schedule.queue': plus(text, ['no queue of the props', 'orders', true]),
      'schedule.type': text,
      retryAttempts: plus(count, ['over 185', 186, true]),
      maxEventAge: plus(seconds, ['under a minute', Duration.seconds(30), true]),
      deadLetterRetentionPeriod: retention,
      deadLetterRemovalPolicy: removalPolicy,
    },
  },
  PipelineAlarms: {
    build: (stack, props) => {
      const events = new PipelineQueue(stack, 'Events');
      const { queue = {}, ...rest } = props;
      new PipelineAlarms(stack, 'Alarms', {
        queues: [
          {
            name: 'events',
            queue: events.queue,
            deadLetterQueue: events.deadLetterQueue,
            oldestMessageAge: Duration.minutes(15),
            ...(queue as Props),
          },
        ],
        functions: [],
        ...rest,
      });
    },
    reportedAt: (prop) => prop.replace(/^queue\./, 'queues[0].'),
    props: {
      'queue.name': text,
      'queue.oldestMessageAge': asField('queues.*.oldestMessageAgeAlarm'),
      email: text,
    },
  },
  PipelineDashboard: {
    build: (stack, props) => {
      const events = new PipelineQueue(stack, 'Events');
      const { queue = {}, ...rest } = props;
      new PipelineDashboard(stack, 'Dashboard', {
        queues: [
          {
            name: 'events',
            queue: events.queue,
            deadLetterQueue: events.deadLetterQueue,
            ...(queue as Props),
          },
        ],
        ...rest,
      });
    },
    reportedAt: (prop) => prop.replace(/^queue\./, 'queues[0].'),
    props: {
      'queue.name': plus(text, ['not a queue name', 'events queue', true]),
      period: plus(anyDuration, ['not a CloudWatch period', Duration.seconds(7), true]),
      dashboardName: plus(text, ['with a space', 'my dashboard', true]),
      start: text,
      metricsNamespace: text,
    },
  },
  ConsumerCircuitBreakers: {
    build: (stack, props) =>
      new ConsumerCircuitBreakers(stack, 'Breakers', {
        topic: new sns.Topic(stack, 'Alarms'),
        consumers: [props as never],
      }),
    valid: {
      name: 'events',
      eventSourceMappingId: 'a1b2c3',
      failureRatio: 0.5,
      minimumRecords: 20,
      window: Duration.minutes(5),
      scaling: { mode: 'provisioned', minimumPollers: 2, maximumPollers: 10 },
    },
    reportedAt: (prop, props) =>
      `consumers[0]${typeof props.name === 'string' ? ` (${props.name})` : ''}.${prop}`,
    props: {
      name: plus(text, ['not a queue name', 'Events Queue', true]),
      eventSourceMappingId: text,
      failureRatio: consumerField('circuitBreaker.failureRatio'),
      minimumRecords: consumerField('circuitBreaker.minimumRecords'),
      window: consumerField('circuitBreaker.window'),
      halfOpenAfter: consumerField('circuitBreaker.halfOpenAfter'),
      'scaling.mode': () => [
        ['not a mode', 'provisioned-ish', true],
        ['a number', 5, true],
      ],
      'scaling.minimumPollers': plus(count, ['over 200', 201, true]),
      'scaling.maximumPollers': plus(count, ['over 2000', 2001, true]),
    },
  },
  HooklineFunction: {
    build: (stack, props) =>
      new HooklineFunction(stack, 'Fn', { entry: 'lambda/consumers/events.ts', ...(props as object) }),
    props: {
      entry: filledText,
      handler: filledText,
      projectRoot: filledText,
      serviceName: text,
      timeout: plus(seconds, ['over 15 minutes', Duration.minutes(16), true]),
      memorySize: plus(count, ['under 128 MB', 64, true]),
      reservedConcurrency: count,
      logRetention,
      tracing,
    },
  },
  HooklinePipeline: {
    build: (stack, props) => new HooklinePipeline(stack, 'Pipeline', { config: settings, ...props }),
    props: { projectRoot: filledText },
  },
  WebhookPipelineStack: {
    build: (stack, props) =>
      new WebhookPipelineStack(stack.node.scope as App, 'Pipeline', { config: settings, ...props }),
    props: { projectRoot: filledText },
  },
};

const cases = Object.entries(CONSTRUCTS).flatMap(([construct, c]) =>
  Object.entries(c.props).flatMap(([prop, values]) =>
    values().map(([name, value, refused]) => {
      const props = propsWith(c, prop, value);
      return {
        name: `${construct}.${prop}: ${name}`,
        build: c.build,
        props,
        path: c.reportedAt ? c.reportedAt(prop, props) : prop,
        refused,
      };
    }),
  ),
);

describe('construct props of the wrong kind or range', () => {
  it.each(cases.map((c) => [c.name, c] as const))('%s', (_, c) => {
    let thrown: unknown;
    try {
      c.build(new Stack(testApp(), 'Standalone'), c.props);
    } catch (error) {
      thrown = error;
    }
    if (!thrown) {
      expect(c.refused, 'accepted').toBe(false);
      return;
    }
    expect(thrown, String((thrown as Error).stack)).toBeInstanceOf(ViolationsError);
    // Named by the construct's path, and printed as the listing alone, without frames.
    expect((thrown as Error).message.split('\n')[0]).toMatch(/^Invalid \w+ [\w/]+:$/);
    expect(String((thrown as Error).stack)).not.toContain('    at ');
    const problems = (thrown as ViolationsError).violations;
    const listing = problems.map(formatViolation).join('\n');
    // A nested prop's problem may be its holder's, a rule of its settings together (a rate limit's wait).
    const holder = c.path.includes('.') ? c.path.slice(0, c.path.lastIndexOf('.')) : undefined;
    const mine = problems.filter(
      (v) => v.path === c.path || v.path.startsWith(`${c.path}.`) || v.path === holder,
    );
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

  it("lists a nested setting of the wrong kind with its neighbours' out-of-range ones", () => {
    expect(() =>
      CONSTRUCTS.QueueConsumer?.build(new Stack(testApp(), 'Standalone'), {
        circuitBreaker: { failureRatio: 2, minimumRecords: 20, window: 5 },
      }),
    ).toThrow(
      /\n {2}- circuitBreaker\.window: expected a Duration.*\(got 5\).*\n {2}- circuitBreaker\.failureRatio: is the share of records that failed.*\(got 2\)/,
    );
    expect(() =>
      CONSTRUCTS.ConsumerCircuitBreakers?.build(new Stack(testApp(), 'Standalone'), {
        name: 'events',
        eventSourceMappingId: 'a1b2c3',
        failureRatio: 0.5,
        minimumRecords: 20,
        window: Duration.minutes(5),
        scaling: { mode: 'provisioned', minimumPollers: 1.5, maximumPollers: 3000 },
      }),
    ).toThrow(
      /\n {2}- consumers\[0\] \(events\)\.scaling\.minimumPollers: must be a whole number \(got 1\.5\)\. Fix: use 1 or 2\n {2}- consumers\[0\] \(events\)\.scaling\.maximumPollers: CloudFormation accepts 2 to 2000/,
    );
  });

  it("names the enum members a prop takes, the configuration's own removal policies among them", () => {
    const problem = (build: () => void) => {
      try {
        build();
      } catch (error) {
        return formatViolation((error as ViolationsError).violations[0] as never);
      }
    };
    const stack = () => new Stack(testApp(), 'Standalone');
    expect(problem(() => new EventArchive(stack(), 'Archive', { removalPolicy: 'keep' as never }))).toBe(
      'removalPolicy: is not a removal policy hookline takes (retain, destroy, or retain on update or delete, which CDK code may choose; snapshot applies to no resource it creates) (got "keep"). Fix: use RemovalPolicy.RETAIN, RemovalPolicy.DESTROY or RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE',
    );
    expect(
      problem(() => new HooklineFunction(stack(), 'Fn', { entry: 'x.ts', logRetention: 45 as never })),
    ).toBe(
      'logRetention: is not a retention CloudWatch Logs accepts (got 45). Fix: use RetentionDays.ONE_DAY, RetentionDays.THREE_DAYS ... RetentionDays.INFINITE',
    );
    expect(
      problem(
        () =>
          new ConsumerCircuitBreakers(stack(), 'Breakers', {
            topic: new sns.Topic(stack(), 'Alarms'),
            consumers: [],
            tracing: 'on' as never,
          }),
      ),
    ).toBe(
      'tracing: is not a Lambda tracing mode (got "on"). Fix: use Tracing.ACTIVE, Tracing.PASS_THROUGH or Tracing.DISABLED',
    );
  });

  it('offers the member a misspelt or miscased one most likely meant, and none for a value like no member', () => {
    const problem = (build: () => void) => {
      try {
        build();
      } catch (error) {
        return formatViolation((error as ViolationsError).violations[0] as never);
      }
    };
    const stack = () => new Stack(testApp(), 'Standalone');
    expect(problem(() => new EventArchive(stack(), 'Archive', { removalPolicy: 'retian' as never }))).toMatch(
      /^removalPolicy: is not a removal policy hookline takes \(.*\): did you mean RemovalPolicy\.RETAIN\? \(got "retian"\)\. Fix: use /,
    );
    expect(
      problem(
        () => new EventArchive(stack(), 'Archive', { removalPolicy: 'retain-on-update-or-delet' as never }),
      ),
    ).toContain(': did you mean RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE? (got "retain-on-update-or-delet")');
    expect(
      problem(
        () => new HooklineFunction(stack(), 'Fn', { entry: 'x.ts', logRetention: 'ONE_WEEK' as never }),
      ),
    ).toBe(
      'logRetention: is not a retention CloudWatch Logs accepts: did you mean RetentionDays.ONE_WEEK? (got "ONE_WEEK"). Fix: use RetentionDays.ONE_DAY, RetentionDays.THREE_DAYS ... RetentionDays.INFINITE',
    );
    expect(
      problem(() => new HooklineFunction(stack(), 'Fn', { entry: 'x.ts', tracing: 'ACTIVE' as never })),
    ).toBe(
      'tracing: is not a Lambda tracing mode: did you mean Tracing.ACTIVE? (got "ACTIVE"). Fix: use Tracing.ACTIVE, Tracing.PASS_THROUGH or Tracing.DISABLED',
    );
    expect(
      problem(() => new HooklineFunction(stack(), 'Fn', { entry: 'x.ts', tracing: 'Pasthrough' as never })),
    ).toContain(': did you mean Tracing.PASS_THROUGH? (got "Pasthrough")');
  });

  it("keeps CDK's retain-on-update-or-delete, which a CDK app's policy may give every stateful resource", () => {
    const stack = new Stack(testApp(), 'Standalone');
    new EventArchive(stack, 'Archive', { removalPolicy: RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE });
    new PipelineQueue(stack, 'Queue', { removalPolicy: RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE });
    const resources = Object.values(
      Template.fromStack(stack).toJSON().Resources as Record<
        string,
        { Type: string; DeletionPolicy?: string }
      >,
    );
    const policies = (type: string) => resources.filter((r) => r.Type === type).map((r) => r.DeletionPolicy);
    expect(policies('AWS::S3::Bucket')).toContain('RetainExceptOnCreate');
    expect(policies('AWS::SQS::Queue')).toEqual(['RetainExceptOnCreate', 'RetainExceptOnCreate']);
  });

  it('still takes a token where CloudFormation does', () => {
    expect(() =>
      CONSTRUCTS.WebhookIngest?.build(new Stack(testApp(), 'Standalone'), {
        memorySize: Lazy.number({ produce: () => 512 }),
      }),
    ).not.toThrow();
  });
});
