import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Duration, Fn } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import exampleConfig from '../../hookline.config';
import {
  type CircuitBreakerConfig,
  DEFAULTS,
  type HooklineConfig,
  HooklineConfigError,
  resolveConfig,
} from '../../lib/config';
import { HIDDEN_VALUE } from '../../lib/config/parse-shape';
import { ingestRuntimeConfig } from '../../lib/runtime-wiring';
import type { Violation } from '../../lib/violations';

const minimal = (overrides: Partial<HooklineConfig> = {}): HooklineConfig => ({
  sources: { github: { type: 'github' } },
  queues: { events: { consumer: { entry: 'lambda/consumers/events.ts' } } },
  ...overrides,
});

/** Resolves and returns the single issue reported, failing when there is none or more than one. */
function issueOf(config: HooklineConfig) {
  try {
    resolveConfig(config);
  } catch (error) {
    expect(error).toBeInstanceOf(HooklineConfigError);
    const issues = (error as HooklineConfigError).issues;
    expect(issues, JSON.stringify(issues)).toHaveLength(1);
    return { issue: issues[0], message: (error as Error).message };
  }
  throw new Error('expected resolveConfig to throw');
}

describe('resolveConfig defaults', () => {
  it('keeps claim-checked payloads as long as a message and then its dead-lettered copy can live', () => {
    // 4 days in the queue at most, then a dead-lettered copy kept 14 days from when the consumer sent it.
    expect(resolveConfig(minimal()).payloads.expiry.toDays()).toBe(18);
    const longer = resolveConfig(
      minimal({
        queues: {
          events: {
            retentionPeriod: Duration.days(10),
            deadLetterRetentionPeriod: Duration.days(14),
            consumer: { entry: 'lambda/consumers/events.ts' },
          },
        },
      }),
    );
    expect(longer.payloads.expiry.toDays()).toBe(24);
  });

  it('fills every queue and consumer default', () => {
    // WHEN
    const config = resolveConfig(minimal());
    // THEN
    const queue = config.queues[0];
    expect(queue).toMatchObject({
      name: 'events',
      fifo: false,
      maxReceiveCount: 5,
      contentBasedDeduplication: false,
    });
    expect(queue?.retentionPeriod.toDays()).toBe(4);
    expect(queue?.deadLetterRetentionPeriod.toDays()).toBe(14);
    expect(queue?.consumer?.timeout.toSeconds()).toBe(30);
    expect(queue?.consumer?.batchSize).toBe(10);
    expect(queue?.consumer?.idempotency?.expiry.toDays()).toBe(3);
    expect(queue?.consumer?.retry.base.toSeconds()).toBe(DEFAULTS.retryBase.toSeconds());
    expect(config.dedupe?.ttl.toDays()).toBe(3);
    expect(config.stackName).toBe('Hookline');
    expect(config.defaultRoute).toEqual({ source: '*', type: '**', queues: ['events'], ignore: false });
  });

  it('fills the documented defaults of the handler export, deadline margin, grouping, secret cache and routes', () => {
    const config = resolveConfig(
      minimal({
        queues: {
          events: { consumer: { entry: 'lambda/consumers/events.ts', timeout: Duration.minutes(1) } },
          quick: {
            fifo: true,
            consumer: { entry: 'lambda/consumers/quick.ts', timeout: Duration.seconds(10) },
          },
        },
        routes: [{ queues: ['events'] }],
      }),
    );
    const [events, quick] = config.queues;
    expect(events?.consumer?.handler).toBe('handler');
    expect(events?.consumer?.deadlineMargin.toSeconds()).toBe(3);
    // A tenth of a timeout shorter than 30 seconds.
    expect(quick?.consumer?.deadlineMargin.toSeconds()).toBe(1);
    expect(quick?.fifoGrouping).toBe('source');
    expect(config.ingest.secretCache.toMinutes()).toBe(5);
    expect(config.routes).toEqual([{ source: '*', type: '*', queues: ['events'], ignore: false }]);
  });

  it('keeps data when the stack is deleted and leaves tracing off unless asked', () => {
    expect(resolveConfig(minimal())).toMatchObject({ removalPolicy: DEFAULTS.removalPolicy, tracing: false });
    expect(DEFAULTS.removalPolicy).toBe('retain');
    expect(resolveConfig(minimal({ removalPolicy: 'destroy', tracing: true }))).toMatchObject({
      removalPolicy: 'destroy',
      tracing: true,
    });
  });

  it('derives the visibility timeout as 6 x the consumer timeout + the batching window', () => {
    // GIVEN a 20 s consumer with a 7 s batching window
    const config = resolveConfig(
      minimal({
        queues: {
          events: {
            consumer: {
              entry: 'x.ts',
              timeout: Duration.seconds(20),
              maxBatchingWindow: Duration.seconds(7),
              batchSize: 100,
            },
          },
        },
      }),
    );
    // THEN
    expect(config.queues[0]?.visibilityTimeout.toSeconds()).toBe(127);
  });

  it('keeps a queue without a consumer at the SQS default visibility', () => {
    const config = resolveConfig(minimal({ queues: { jobs: {} } }));
    expect(config.queues[0]?.visibilityTimeout.toSeconds()).toBe(30);
    expect(config.queues[0]?.consumer).toBeUndefined();
  });

  it('resolves the shipped example configuration', () => {
    const config = resolveConfig(exampleConfig);
    expect(config.sources.map((s) => s.name)).toEqual([
      'github',
      'stripe',
      'slack',
      'shopify',
      'standard',
      'generic',
    ]);
    expect(config.queues.map((q) => [q.name, q.fifo])).toEqual([
      ['events', false],
      ['orders', true],
    ]);
  });

  it('reports every problem at once', () => {
    try {
      resolveConfig(
        minimal({
          queues: { events: { maxReceiveCount: 0, consumer: { entry: 'x.ts', batchSize: 0 } } },
        }),
      );
      expect.unreachable();
    } catch (error) {
      expect((error as HooklineConfigError).issues.map((i) => i.path)).toEqual([
        'queues.events.maxReceiveCount',
        'queues.events.consumer.batchSize',
      ]);
    }
  });
});

describe('resolveConfig: pipeline-wide settings', () => {
  it('turns deduplication and the event archive off when disabled', () => {
    const config = resolveConfig(minimal({ dedupe: { enabled: false }, archive: { enabled: false } }));
    expect(config.dedupe).toBeUndefined();
    expect(config.archive).toBeUndefined();
  });

  it('keeps the event archive 90 days unless set, and refuses less than a day', () => {
    expect(resolveConfig(minimal()).archive?.retention.toDays()).toBe(90);
    expect(
      resolveConfig(minimal({ archive: { retention: Duration.days(1) } })).archive?.retention.toDays(),
    ).toBe(1);
    expect(issueOf(minimal({ archive: { retention: Duration.hours(23) } })).issue).toMatchObject({
      path: 'archive.retention',
      value: '23 hours',
      fix: 'use Duration.days(1) or more',
    });
  });

  it('keeps the headers named in any case, lower-cased as the HTTP API hands them to the function', () => {
    expect(resolveConfig(minimal({ ingest: { keepHeaders: ['X-Request-Id'] } })).ingest.keepHeaders).toEqual([
      'x-request-id',
    ]);
  });

  it('refuses a credential header in keepHeaders, naming each and why it is never kept, rather than dropping it silently', () => {
    // GIVEN a generic source whose signature is in x-signature, and keepHeaders naming it with the scheme's and generic ones
    const config = minimal({
      sources: {
        github: { type: 'github' },
        generic: { type: 'hmac', header: 'X-Signature', algorithm: 'sha256', encoding: 'hex' },
      },
      ingest: {
        keepHeaders: ['x-request-id', 'Authorization', 'x-hub-signature-256', 'x-signature', 'Cookie'],
      },
    });
    let violations: readonly Violation[] = [];
    try {
      resolveConfig(config);
    } catch (error) {
      violations = (error as HooklineConfigError).violations;
    }
    // THEN every credential header is listed at once, by its place in the list, and the ordinary one is not
    expect(violations.map((v) => [v.path, v.value])).toEqual([
      ['ingest.keepHeaders.1', '"Authorization"'],
      ['ingest.keepHeaders.2', '"x-hub-signature-256"'],
      ['ingest.keepHeaders.3', '"x-signature"'],
      ['ingest.keepHeaders.4', '"Cookie"'],
    ]);
    expect(violations[0]).toMatchObject({
      message:
        'is a credential header (a signature, session, API key or token): hookline never keeps one, or the envelope, the archive, dead letters and every view of them would hold the secret',
      fix: 'remove it: the ingest verifies the request with it before the event is queued',
    });
  });

  it("accepts an inline limit from 1024 bytes to the SQS limit less a dead letter's reason, and refuses a byte outside", () => {
    for (const inlineLimitBytes of [1024, 1_032_192]) {
      expect(resolveConfig(minimal({ payloads: { inlineLimitBytes } })).payloads.inlineLimitBytes).toBe(
        inlineLimitBytes,
      );
    }
    for (const inlineLimitBytes of [1023, 1_032_193, 1_048_576]) {
      expect(issueOf(minimal({ payloads: { inlineLimitBytes } })).issue?.path).toBe(
        'payloads.inlineLimitBytes',
      );
    }
  });

  it('keeps payloads for the longest-lived queue, wherever it is listed', () => {
    const long = { retentionPeriod: Duration.days(10) };
    for (const queues of [
      { long, short: {} },
      { short: {}, long },
    ]) {
      expect(resolveConfig(minimal({ queues })).payloads.expiry.toDays()).toBe(24);
    }
  });

  it('keeps the alarm email or topic given, and alarms on a 15-minute-old message unless set, on every queue', () => {
    const arn = 'arn:aws:sns:eu-west-1:123456789012:ops-alarms';
    const byEmail = resolveConfig(minimal({ alarms: { email: 'ops@example.com' } })).alarms;
    expect(byEmail).toEqual({ email: 'ops@example.com', oldestMessageAge: DEFAULTS.oldestMessageAgeAlarm });
    expect(DEFAULTS.oldestMessageAgeAlarm.toMinutes()).toBe(15);
    const byTopic = resolveConfig(
      minimal({ alarms: { existingTopicArn: arn, oldestMessageAge: Duration.minutes(5) } }),
    ).alarms;
    expect(byTopic.existingTopicArn).toBe(arn);
    expect(byTopic.oldestMessageAge.toMinutes()).toBe(5);
    const queues = resolveConfig(minimal({ alarms: { oldestMessageAge: Duration.minutes(5) } })).queues;
    expect(queues[0]?.oldestMessageAgeAlarm.toMinutes()).toBe(5);
  });
});

describe('resolveConfig: routes, schedules and the jobs endpoint', () => {
  it('sends unrouted events to the first queue only, or nowhere with defaultRoute "ignore"', () => {
    const queues = { events: {}, orders: {} };
    expect(resolveConfig(minimal({ queues })).defaultRoute.queues).toEqual(['events']);
    expect(resolveConfig(minimal({ queues, defaultRoute: 'ignore' })).defaultRoute).toEqual({
      source: '*',
      type: '**',
      queues: [],
      ignore: true,
    });
  });

  it('refuses a route type with an empty segment, which no event type has', () => {
    expect(issueOf(minimal({ routes: [{ type: 'invoice..paid', queues: ['events'] }] })).issue).toMatchObject(
      {
        path: 'routes.0.type',
        value: '"invoice..paid"',
        fix: 'use an exact type, "*" for one segment or "**" for anything',
      },
    );
  });

  it("keeps a schedule's payload, and sends {} when it has none", () => {
    const job = { expression: 'rate(1 day)', queue: 'events', type: 'report.nightly' };
    const config = resolveConfig(
      minimal({
        schedules: [
          { name: 'a', ...job, payload: { scope: 'all' } },
          { name: 'b', ...job },
        ],
      }),
    );
    expect(config.schedules.map((s) => s.payload)).toEqual([{ scope: 'all' }, {}]);
  });

  it('opens the jobs endpoint to the queues listed, once each, with delays unless turned off', () => {
    const queues = { events: {}, orders: {} };
    expect(
      resolveConfig(minimal({ queues, jobs: { endpoint: { queues: ['orders'] } } })).jobsEndpoint,
    ).toEqual({
      queues: ['orders'],
      delays: true,
    });
    expect(
      resolveConfig(minimal({ queues, jobs: { endpoint: { queues: ['events'], delays: false } } }))
        .jobsEndpoint?.delays,
    ).toBe(false);
    expect(resolveConfig(minimal({ queues })).jobsEndpoint).toBeUndefined();
  });

  it('lists every jobs endpoint problem: no queue, an unknown queue, a queue named twice', () => {
    expect(issueOf(minimal({ jobs: { endpoint: { queues: [] } } })).issue).toMatchObject({
      path: 'jobs.endpoint.queues',
      message: 'the jobs endpoint needs at least one queue',
    });
    try {
      resolveConfig(minimal({ jobs: { endpoint: { queues: ['events', 'nope', 'events'] } } }));
      expect.unreachable('expected resolveConfig to throw');
    } catch (error) {
      expect((error as HooklineConfigError).issues).toMatchObject([
        { path: 'jobs.endpoint.queues.1', message: 'names a queue that is not configured', value: '"nope"' },
        { path: 'jobs.endpoint.queues.2', message: 'names a queue twice', value: '"events"' },
      ]);
    }
  });
});

describe('resolveConfig: a queue and its consumer as configured', () => {
  const consumerOf = (consumer: Record<string, unknown>) =>
    resolveConfig(minimal({ queues: { events: { consumer: { entry: 'x.ts', ...consumer } } } })).queues[0]
      ?.consumer;

  it("keeps the consumer's parallelism, environment and idempotency setting, and the queue's own alarm age", () => {
    expect(consumerOf({ parallelism: 5 })?.parallelism).toBe(5);
    expect(consumerOf({ environment: { API_BASE: 'https://example.com' } })?.environment).toEqual({
      API_BASE: 'https://example.com',
    });
    expect(consumerOf({ idempotency: { enabled: false } })?.idempotency).toBeUndefined();
    const queue = resolveConfig(
      minimal({
        queues: { events: { oldestMessageAgeAlarm: Duration.minutes(3) } },
        alarms: { email: 'o@example.com' },
      }),
    ).queues[0];
    expect(queue?.oldestMessageAgeAlarm.toMinutes()).toBe(3);
  });

  it('accepts 1 to 1000 records at once and an idempotency record of exactly a minute, as long as its visibility timeout', () => {
    expect(consumerOf({ parallelism: 1 })?.parallelism).toBe(1);
    expect(consumerOf({ parallelism: 1000 })?.parallelism).toBe(1000);
    // A 10-second timeout derives a visibility timeout of 60 seconds.
    expect(
      consumerOf({
        timeout: Duration.seconds(10),
        idempotency: { expiry: Duration.minutes(1) },
      })?.idempotency?.expiry.toMinutes(),
    ).toBe(1);
    expect(
      issueOf(minimal({ queues: { events: { consumer: { entry: 'x.ts', parallelism: 1001 } } } })).issue,
    ).toMatchObject({ path: 'queues.events.consumer.parallelism', value: '1001', fix: 'use 10' });
  });
});

describe('resolveConfig: the shape of every section', () => {
  const consumer = (fields: Record<string, unknown>) =>
    minimal({ queues: { events: { consumer: { entry: 'x.ts', ...fields } } } } as never);
  const events = (fields: Record<string, unknown>) => minimal({ queues: { events: fields } } as never);

  it.each([
    [events({ tenants: { github: { path: 'a', typo: 1 } } }), 'queues.events.tenants.github.typo'],
    [events({ fifo: true, fifoGrouping: { header: 'x', typo: 1 } }), 'queues.events.fifoGrouping.typo'],
    [consumer({ retry: { typo: 1 } }), 'queues.events.consumer.retry.typo'],
    [consumer({ idempotency: { typo: 1 } }), 'queues.events.consumer.idempotency.typo'],
    [consumer({ typo: 1 }), 'queues.events.consumer.typo'],
    [minimal({ dedupe: { typo: 1 } as never }), 'dedupe.typo'],
    [minimal({ payloads: { typo: 1 } as never }), 'payloads.typo'],
    [minimal({ archive: { typo: 1 } as never }), 'archive.typo'],
    [minimal({ jobs: { endpoint: { queues: ['events'], typo: 1 } } as never }), 'jobs.endpoint.typo'],
    [minimal({ jobs: { typo: 1 } as never }), 'jobs.typo'],
    [minimal({ ingest: { typo: 1 } as never }), 'ingest.typo'],
    [minimal({ alarms: { typo: 1 } as never }), 'alarms.typo'],
    [minimal({ defaultRoute: { queues: ['events'], typo: 1 } as never }), 'defaultRoute.typo'],
  ])('refuses an unknown key in a section instead of ignoring it (%#: %s)', (config, path) => {
    expect(issueOf(config).issue?.path).toBe(path);
  });

  it.each([
    [consumer({ memorySize: 512.5 }), 'queues.events.consumer.memorySize'],
    [consumer({ batchSize: 9.5 }), 'queues.events.consumer.batchSize'],
    [consumer({ maxConcurrency: 2.5 }), 'queues.events.consumer.maxConcurrency'],
    [consumer({ minimumPollers: 2.5, maximumPollers: 20 }), 'queues.events.consumer.minimumPollers'],
    [consumer({ minimumPollers: 2, maximumPollers: 20.5 }), 'queues.events.consumer.maximumPollers'],
    [
      consumer({ reservedConcurrency: 50.5, maxConcurrency: 50 }),
      'queues.events.consumer.reservedConcurrency',
    ],
    [consumer({ parallelism: 2.5 }), 'queues.events.consumer.parallelism'],
    [events({ maxReceiveCount: 5.5 }), 'queues.events.maxReceiveCount'],
    [minimal({ payloads: { inlineLimitBytes: 2048.5 } }), 'payloads.inlineLimitBytes'],
    [minimal({ ingest: { burstLimit: 1000.5 } }), 'ingest.burstLimit'],
    [minimal({ ingest: { memorySize: 512.5 } }), 'ingest.memorySize'],
    [minimal({ logRetentionDays: 30.5 }), 'logRetentionDays'],
  ])('refuses a fraction where a whole number is meant (%#: %s)', (config, path) => {
    const { issue } = issueOf(config);
    expect(issue?.path).toBe(path);
    // Said in words, with the whole numbers on either side, not zod's "expected int, received number".
    expect(issue?.message).toBe('must be a whole number');
    const given = Number(issue?.value);
    expect(issue?.fix).toBe(`use ${Math.floor(given)} or ${Math.ceil(given)}`);
  });

  it.each([
    [consumer({ entry: 2.5 }), 'queues.events.consumer.entry'],
    [consumer({ memorySize: Number.POSITIVE_INFINITY }), 'queues.events.consumer.memorySize'],
    [minimal({ ingest: { memorySize: Number.NaN } }), 'ingest.memorySize'],
  ])(
    'says a number is a fraction only where a whole number is meant and the number is one (%#: %s)',
    (config, path) => {
      const { issue } = issueOf(config);
      expect(issue?.path).toBe(path);
      expect(issue?.message).not.toBe('must be a whole number');
      expect(issue?.fix).not.toMatch(/^use \S+ or \S+$/);
    },
  );

  it.each([
    [consumer({ entry: '' }), 'queues.events.consumer.entry'],
    [consumer({ handler: '' }), 'queues.events.consumer.handler'],
    [events({ tenants: { github: { path: '' } } }), 'queues.events.tenants.github.path'],
    [events({ tenants: { github: { header: '' } } }), 'queues.events.tenants.github.header'],
    [minimal({ alarms: { existingTopicArn: '' } }), 'alarms.existingTopicArn'],
    [minimal({ stackName: '' }), 'stackName'],
    [minimal({ removalPolicy: 'delete' as never }), 'removalPolicy'],
  ])('refuses an empty or unknown word where one is required (%#: %s)', (config, path) => {
    expect(issueOf(config).issue?.path).toBe(path);
  });
});

describe('resolveConfig: durations', () => {
  const consumer = (fields: Record<string, unknown>) =>
    minimal({ queues: { events: { consumer: { entry: 'x.ts', ...fields } } } } as never);
  const events = (fields: Record<string, unknown>) => minimal({ queues: { events: fields } } as never);
  const halfSecond = Duration.millis(1500);

  it.each([
    [consumer({ timeout: halfSecond }), 'queues.events.consumer.timeout'],
    [consumer({ maxBatchingWindow: halfSecond }), 'queues.events.consumer.maxBatchingWindow'],
    [consumer({ retry: { base: halfSecond } }), 'queues.events.consumer.retry.base'],
    [consumer({ retry: { max: Duration.millis(60_500) } }), 'queues.events.consumer.retry.max'],
    [
      consumer({ idempotency: { expiry: Duration.millis(90_500) } }),
      'queues.events.consumer.idempotency.expiry',
    ],
    [events({ retentionPeriod: Duration.millis(90_500) }), 'queues.events.retentionPeriod'],
    [
      events({ deadLetterRetentionPeriod: Duration.millis(1_209_599_500) }),
      'queues.events.deadLetterRetentionPeriod',
    ],
    [events({ visibilityTimeout: Duration.millis(200_500) }), 'queues.events.visibilityTimeout'],
    [events({ oldestMessageAgeAlarm: Duration.millis(60_500) }), 'queues.events.oldestMessageAgeAlarm'],
    [minimal({ ingest: { timeout: Duration.millis(2500) } }), 'ingest.timeout'],
    [minimal({ ingest: { secretCache: Duration.millis(2500) } }), 'ingest.secretCache'],
    [minimal({ dedupe: { ttl: Duration.millis(259_200_500) } }), 'dedupe.ttl'],
    [minimal({ payloads: { expiry: Duration.millis(1_641_600_500) } }), 'payloads.expiry'],
    [minimal({ alarms: { oldestMessageAge: Duration.millis(60_500) } }), 'alarms.oldestMessageAge'],
    [minimal({ sources: { s: { type: 'stripe', tolerance: halfSecond } } }), 'sources.s.tolerance'],
  ])(
    'refuses, with the fix, a duration CloudFormation or a function takes in whole seconds (%#: %s)',
    (config, path) => {
      const { issue, message } = issueOf(config);
      expect(issue?.path).toBe(path);
      expect(message).toContain('must be a whole number of seconds');
      expect(issue?.fix).toContain('Duration.seconds(2) rather than Duration.millis(1500)');
    },
  );

  it('refuses, with the fix, an archive retention that is not a whole number of days (an S3 lifecycle expiry)', () => {
    const { issue, message } = issueOf(minimal({ archive: { retention: Duration.hours(36) } }));
    expect(issue?.path).toBe('archive.retention');
    expect(message).toContain('must be a whole number of days');
    expect(issue?.fix).toContain('Duration.days(2) rather than Duration.hours(36)');
  });

  it('accepts a deadline margin in milliseconds, which the consumer reads in milliseconds', () => {
    const config = resolveConfig(consumer({ deadlineMargin: Duration.millis(1500) }));
    expect(config.queues[0]?.consumer?.deadlineMargin.toMilliseconds()).toBe(1500);
  });

  it('accepts a signature tolerance of exactly one hour', () => {
    const tolerance = Duration.hours(1);
    expect(
      resolveConfig(minimal({ sources: { s: { type: 'stripe', tolerance } } })).sources[0],
    ).toMatchObject({
      tolerance,
    });
  });
});

describe('resolveConfig: an existing signing secret', () => {
  it('accepts a name of 512 characters and every character Secrets Manager takes in one', () => {
    for (const existingSecretName of ['prod/stripe+key=v1.0@team_a-b', 'a'.repeat(512)]) {
      const [source] = resolveConfig(
        minimal({ sources: { s: { type: 'stripe', secret: { existingSecretName } } } }),
      ).sources;
      expect(source).toMatchObject({ secret: { existingSecretName } });
    }
  });
});

describe("resolveConfig: a consumer's environment", () => {
  const withEnvironment = (environment: Record<string, string>) =>
    minimal({ queues: { events: { consumer: { entry: 'lambda/consumers/events.ts', environment } } } });

  it.each([
    ['api-base', 'rename it, e.g. api_base'],
    ['1ST_KEY', 'rename it, e.g. ST_KEY'],
    ['X', 'rename it, e.g. X_VALUE'],
  ])('refuses %s, a name Lambda refuses at deploy, with a name it accepts as the fix', (name, fix) => {
    const { issue } = issueOf(withEnvironment({ [name]: 'x' }));
    expect(issue).toMatchObject({ path: `queues.events.consumer.environment.${name}`, fix });
    expect(issue?.message).toMatch(/not a name Lambda accepts/);
  });

  it.each(['AWS_REGION', '_HANDLER', 'AWS_LAMBDA_FUNCTION_NAME', 'LAMBDA_TASK_ROOT'])(
    'refuses %s, which Lambda sets itself and refuses in a function configuration',
    (name) => {
      const { issue } = issueOf(withEnvironment({ [name]: 'x' }));
      expect(issue?.path).toBe(`queues.events.consumer.environment.${name}`);
      expect(issue?.message).toMatch(/set by Lambda itself/);
    },
  );

  it.each([
    'POWERTOOLS_METRICS_NAMESPACE',
    'POWERTOOLS_SERVICE_NAME',
    'HOOKLINE_CONSUMER_CONFIG',
    'HOOKLINE_FORWARD_CONFIG',
  ])('refuses %s, which hookline sets and the dashboard, alarms or the consumer read', (name) => {
    const { issue } = issueOf(withEnvironment({ [name]: 'x' }));
    expect(issue?.path).toBe(`queues.events.consumer.environment.${name}`);
    expect(issue?.message).toMatch(/set by hookline/);
  });

  it('accepts names of its own, NODE_OPTIONS and TZ included', () => {
    const environment = {
      API_BASE: 'https://example.com',
      NODE_OPTIONS: '--max-old-space-size=400',
      TZ: 'UTC',
    };
    expect(resolveConfig(withEnvironment(environment)).queues[0]?.consumer?.environment).toEqual(environment);
  });
});

describe('resolveConfig validation', () => {
  const cases: Array<[string, HooklineConfig, RegExp]> = [
    [
      'unknown field',
      minimal({ queues: { events: { maxRecieveCount: 3 } as never } }),
      /queues\.events.*did you mean maxReceiveCount\?.*rename maxRecieveCount to maxReceiveCount/,
    ],
    [
      'unknown source type',
      minimal({ sources: { x: { type: 'gitlab' } as never } }),
      /sources\.x\.type.*one of the documented source types/,
    ],
    [
      'no sources, saying how a pipeline of jobs alone has one',
      minimal({ sources: {} }),
      /sources: at least one source is required .*for a pipeline of jobs alone, add one and set defaultRoute: "ignore"/,
    ],
    ['no queues', minimal({ queues: {} }), /queues: at least one queue is required \(got \{\}\)/],
    [
      'bad source name',
      minimal({ sources: { GitHub: { type: 'github' } } }),
      /sources\.GitHub: source names are lower-case.*got "GitHub"/,
    ],
    [
      'an oldest-message alarm that could fire only after SQS deleted the message it watches',
      minimal({
        queues: {
          events: { retentionPeriod: Duration.hours(1), oldestMessageAgeAlarm: Duration.hours(2) },
        },
      }),
      /queues\.events\.oldestMessageAgeAlarm: .* could never fire.*\(got 2 hours\)\. Fix: lower it to at most Duration\.minutes\(54\), or raise retentionPeriod/,
    ],
    [
      'the default oldest-message alarm on a queue that keeps messages a shorter time, naming where it came from',
      minimal({ queues: { events: { retentionPeriod: Duration.minutes(10) } } }),
      /queues\.events\.oldestMessageAgeAlarm: .*\(alarms\.oldestMessageAge, or its default\) .* could never fire.*\(got 15 minutes\)\. Fix: set it to at most Duration\.minutes\(4\)/,
    ],
    [
      'an oldest-message alarm whose age and 5 minutes reach the retention exactly (SQS deletes the message as it would fire)',
      minimal({
        queues: {
          events: { retentionPeriod: Duration.hours(1), oldestMessageAgeAlarm: Duration.minutes(55) },
        },
      }),
      /queues\.events\.oldestMessageAgeAlarm: .* could never fire.*\(got 55 minutes\)\. Fix: lower it to at most Duration\.minutes\(54\)/,
    ],
    [
      "an oldest-message alarm below the retention that its 5 minutes' window takes past it",
      minimal({
        queues: {
          events: { retentionPeriod: Duration.hours(1), oldestMessageAgeAlarm: Duration.minutes(58) },
        },
      }),
      /queues\.events\.oldestMessageAgeAlarm: .* could never fire.*\(got 58 minutes\)/,
    ],
    [
      'an oldest-message alarm on a retention with no whole minute of room beside the window, with raising the retention as the fix',
      minimal({ queues: { events: { retentionPeriod: Duration.minutes(6) } } }),
      /queues\.events\.oldestMessageAgeAlarm: .* could never fire.*\. Fix: raise retentionPeriod above 5 minutes and a minute/,
    ],
    [
      "a source named job, which would share the jobs' dedupe keys, job records and handlers",
      minimal({ sources: { job: { type: 'github' } } }),
      /sources\.job: is the source of every job a producer sends, so a webhook source cannot take it \(got "job"\)\. Fix: rename the source, e\.g\. "job-hooks"/,
    ],
    [
      'a source named schedule, the source of scheduled events',
      minimal({ sources: { schedule: { type: 'github' } } }),
      /sources\.schedule: is the source of every scheduled event/,
    ],
    ['bad queue name', minimal({ queues: { my_queue: {} } }), /queues\.my_queue: queue names are lower-case/],
    [
      'an existing secret named with a space, which Secrets Manager cannot hold',
      minimal({ sources: { s: { type: 'stripe', secret: { existingSecretName: 'prod stripe' } } } }),
      /sources\.s\.secret\.existingSecretName: a Secrets Manager secret name is 1 to 512 ASCII letters, digits and \/_\+=\.@- \(no spaces\) \(got "prod stripe"\)\. Fix: /,
    ],
    [
      'an existing secret named longer than Secrets Manager allows',
      minimal({ sources: { s: { type: 'stripe', secret: { existingSecretName: 'a'.repeat(513) } } } }),
      /sources\.s\.secret\.existingSecretName: a Secrets Manager secret name is 1 to 512/,
    ],
    [
      'an existing secret given by its ARN',
      minimal({
        sources: {
          s: {
            type: 'stripe',
            secret: {
              existingSecretName:
                'arn:aws:secretsmanager:eu-central-1:123456789012:secret:prod/stripe-AbC123',
            },
          },
        },
      }),
      /sources\.s\.secret\.existingSecretName: is a secret's ARN, and this field takes its name .*Fix: give the name alone, e\.g\. "prod\/stripe"/,
    ],
    [
      'tolerance 0',
      minimal({ sources: { s: { type: 'stripe', tolerance: Duration.seconds(0) } } }),
      /sources\.s\.tolerance: a tolerance of 0 disables replay protection and is refused \(got 0 seconds\)/,
    ],
    [
      'tolerance above an hour',
      minimal({ sources: { s: { type: 'slack', tolerance: Duration.hours(2) } } }),
      /sources\.s\.tolerance: tolerance above 1 hour/,
    ],
    [
      'unverified without opt-in',
      minimal({ sources: { open: { type: 'unverified', dangerouslyAcceptUnverifiedRequests: false } } }),
      /dangerouslyAcceptUnverifiedRequests: .*must be opted into explicitly \(got false\)\. Fix: set dangerouslyAcceptUnverifiedRequests: true/,
    ],
    [
      'hmac without body in signed content',
      minimal({
        sources: {
          g: { type: 'hmac', header: 'x-sig', signedContent: '{timestamp}', timestampHeader: 'x-ts' },
        },
      }),
      /sources\.g\.signedContent: the signed content must include \{body\}/,
    ],
    [
      'hmac timestamp without header',
      minimal({ sources: { g: { type: 'hmac', header: 'x-sig', signedContent: '{timestamp}.{body}' } } }),
      /sources\.g\.timestampHeader: signedContent uses \{timestamp\}/,
    ],
    [
      'hmac timestamp header whose timestamp is not signed',
      minimal({
        sources: { g: { type: 'hmac', header: 'x-sig', signedContent: '{body}', timestampHeader: 'x-ts' } },
      }),
      /sources\.g\.signedContent: timestampHeader is set but signedContent does not sign \{timestamp\}.*\(got "\{body\}"\)\. Fix: include \{timestamp\}/,
    ],
    [
      'hmac tolerance without timestamp header',
      minimal({ sources: { g: { type: 'hmac', header: 'x-sig', tolerance: Duration.minutes(5) } } }),
      /sources\.g\.tolerance: a tolerance without a timestampHeader checks nothing.*\(got 5 minutes\)\. Fix: set timestampHeader/,
    ],
    [
      'hmac id without header',
      minimal({
        sources: { g: { type: 'hmac', header: 'x-sig', signedContent: '{id}.{body}', idPath: 'id' } },
      }),
      /sources\.g\.idHeader: signedContent uses \{id\} but no idHeader says where it comes from.*Fix: set idHeader/,
    ],
    [
      'maxReceiveCount 0',
      minimal({ queues: { events: { maxReceiveCount: 0 } } }),
      /queues\.events\.maxReceiveCount: must be between 1 and 1000 \(got 0\)\. Fix: use 5/,
    ],
    [
      'retention too short',
      minimal({ queues: { events: { retentionPeriod: Duration.seconds(30) } } }),
      /queues\.events\.retentionPeriod: SQS keeps messages between 60 seconds and 14 days \(got 30 seconds\)/,
    ],
    [
      'DLQ retention not longer',
      minimal({
        queues: {
          events: { retentionPeriod: Duration.days(14), deadLetterRetentionPeriod: Duration.days(14) },
        },
      }),
      /queues\.events\.deadLetterRetentionPeriod: must be longer than the queue's retentionPeriod \(14 days\)/,
    ],
    [
      'content dedup on standard queue',
      minimal({ queues: { events: { contentBasedDeduplication: true } } }),
      /queues\.events\.contentBasedDeduplication: content-based deduplication exists only on FIFO queues/,
    ],
    [
      'high throughput on standard queue',
      minimal({ queues: { events: { highThroughput: true } } }),
      /queues\.events\.highThroughput: high throughput mode exists only on FIFO queues/,
    ],
    [
      'grouping on standard queue',
      minimal({ queues: { events: { fifoGrouping: 'type' } } }),
      /queues\.events\.fifoGrouping: message groups exist only on FIFO queues/,
    ],
    [
      'visibility below 6 x timeout',
      minimal({
        queues: {
          events: {
            visibilityTimeout: Duration.seconds(60),
            consumer: { entry: 'x.ts', timeout: Duration.seconds(30) },
          },
        },
      }),
      /queues\.events\.visibilityTimeout: must be at least 6 x the consumer timeout \+ the batching window \(180 seconds\).*\(got 1 minute\)\. Fix: remove it to derive 180 seconds/,
    ],
    [
      'visibility above 12 hours',
      minimal({ queues: { events: { visibilityTimeout: Duration.hours(13) } } }),
      /queues\.events\.visibilityTimeout: SQS visibility timeout is at most 12 hours/,
    ],
    [
      'timeout above 15 minutes',
      minimal({ queues: { events: { consumer: { entry: 'x.ts', timeout: Duration.minutes(16) } } } }),
      /consumer\.timeout: a Lambda function timeout is between 1 second and 15 minutes/,
    ],
    [
      'batching window above 5 minutes',
      minimal({
        queues: { events: { consumer: { entry: 'x.ts', maxBatchingWindow: Duration.minutes(6) } } },
      }),
      /consumer\.maxBatchingWindow: the batching window is between 0 and 300 seconds/,
    ],
    [
      'batching window on FIFO',
      minimal({
        queues: { jobs: { fifo: true, consumer: { entry: 'x.ts', maxBatchingWindow: Duration.seconds(2) } } },
      }),
      /queues\.jobs\.consumer\.maxBatchingWindow: FIFO queues do not support a batching window/,
    ],
    [
      'FIFO batch above 10',
      minimal({ queues: { jobs: { fifo: true, consumer: { entry: 'x.ts', batchSize: 11 } } } }),
      /consumer\.batchSize: must be between 1 and 10 for a FIFO queue \(got 11\)/,
    ],
    [
      'batch above 10 without window',
      minimal({ queues: { events: { consumer: { entry: 'x.ts', batchSize: 50 } } } }),
      /consumer\.batchSize: a batch size above 10 needs a batching window of at least 1 second \(got 50\)/,
    ],
    [
      'batch above 10000',
      minimal({
        queues: {
          events: { consumer: { entry: 'x.ts', batchSize: 10_001, maxBatchingWindow: Duration.seconds(1) } },
        },
      }),
      /consumer\.batchSize: must be between 1 and 10000 for a standard queue/,
    ],
    [
      'maxConcurrency 1',
      minimal({ queues: { events: { consumer: { entry: 'x.ts', maxConcurrency: 1 } } } }),
      /consumer\.maxConcurrency: the event source mapping maximum concurrency is between 2 and 1000 \(got 1\)/,
    ],
    [
      'memory too small',
      minimal({ queues: { events: { consumer: { entry: 'x.ts', memorySize: 64 } } } }),
      /consumer\.memorySize: Lambda memory is between 128 and 10240 MB \(got 64\)/,
    ],
    [
      'parallelism 0',
      minimal({ queues: { events: { consumer: { entry: 'x.ts', parallelism: 0 } } } }),
      /consumer\.parallelism: must be between 1 and 1000/,
    ],
    [
      'backoff factor 0.5',
      minimal({ queues: { events: { consumer: { entry: 'x.ts', retry: { factor: 0.5 } } } } }),
      /consumer\.retry\.factor: the backoff factor is between 1 and 10/,
    ],
    [
      'backoff cap above 12 hours',
      minimal({ queues: { events: { consumer: { entry: 'x.ts', retry: { max: Duration.hours(13) } } } } }),
      /consumer\.retry\.max: SQS visibility can be extended by at most 12 hours/,
    ],
    [
      'backoff cap of exactly 12 hours, which SQS refuses once the record has been hidden for its visibility timeout',
      minimal({ queues: { events: { consumer: { entry: 'x.ts', retry: { max: Duration.hours(12) } } } } }),
      /consumer\.retry\.max: SQS keeps a message hidden at most 12 hours after its receive.*visibility timeout \(3 minutes\).*use at most Duration\.seconds\(43020\)/,
    ],
    [
      'backoff cap that leaves less room than a visibility timeout set on the queue',
      minimal({
        queues: {
          events: {
            visibilityTimeout: Duration.hours(1),
            consumer: { entry: 'x.ts', retry: { max: Duration.minutes(11 * 60 + 1) } },
          },
        },
      }),
      /consumer\.retry\.max: .*use at most Duration\.seconds\(39600\)/,
    ],
    [
      'backoff base above cap',
      minimal({
        queues: {
          events: {
            consumer: { entry: 'x.ts', retry: { base: Duration.minutes(20), max: Duration.minutes(10) } },
          },
        },
      }),
      /consumer\.retry\.base: must not exceed retry\.max \(10 minutes\)/,
    ],
    [
      'deadline margin >= timeout',
      minimal({
        queues: {
          events: {
            consumer: { entry: 'x.ts', timeout: Duration.seconds(5), deadlineMargin: Duration.seconds(5) },
          },
        },
      }),
      /consumer\.deadlineMargin: must be shorter than the consumer timeout/,
    ],
    [
      'idempotency expiry under a minute',
      minimal({
        queues: { events: { consumer: { entry: 'x.ts', idempotency: { expiry: Duration.seconds(10) } } } },
      }),
      /consumer\.idempotency\.expiry: an idempotency record must live at least a minute/,
    ],
    [
      'idempotency expiry shorter than the queue visibility timeout a processed record comes back after',
      minimal({
        queues: { events: { consumer: { entry: 'x.ts', idempotency: { expiry: Duration.minutes(2) } } } },
      }),
      /queues\.events\.consumer\.idempotency\.expiry: .*visibility timeout \(3 minutes\).*\(got 2 minutes\)\. Fix: use at least Duration\.seconds\(180\)/,
    ],
    [
      'idempotency expiry shorter than a visibility timeout set on the queue',
      minimal({
        queues: {
          events: {
            visibilityTimeout: Duration.hours(1),
            consumer: { entry: 'x.ts', idempotency: { expiry: Duration.minutes(30) } },
          },
        },
      }),
      /queues\.events\.consumer\.idempotency\.expiry: .*visibility timeout \(1 hour\).*Fix: use at least Duration\.seconds\(3600\)/,
    ],
    [
      'route to unknown source',
      minimal({ routes: [{ source: 'gitlab', queues: ['events'] }] }),
      /routes\.0\.source: names a source that is not configured \(got "gitlab"\)\. Fix: use one of: github, or "\*"/,
    ],
    [
      'route to unknown queue',
      minimal({ routes: [{ source: 'github', queues: ['nope'] }] }),
      /routes\.0\.queues\.0: names a queue that is not configured \(got "nope"\)\. Fix: use one of: events/,
    ],
    [
      'route with queues and ignore',
      minimal({ routes: [{ source: 'github', queues: ['events'], ignore: true }] }),
      /routes\.0: a route either ignores events or sends them to queues, not both/,
    ],
    [
      'route without target',
      minimal({ routes: [{ source: 'github', type: 'ping' }] }),
      /routes\.0\.queues: a route needs at least one target queue/,
    ],
    [
      'default route to unknown queue',
      minimal({ defaultRoute: { queues: ['nope'] } }),
      /defaultRoute\.queues\.0: names a queue that is not configured/,
    ],
    [
      'default route without queues',
      minimal({ defaultRoute: { queues: [] } }),
      /defaultRoute\.queues: needs at least one queue/,
    ],
    [
      'rate limit 0',
      minimal({ ingest: { rateLimit: 0 } }),
      /ingest\.rateLimit: requests per second must be above 0/,
    ],
    [
      'burst limit above 5000',
      minimal({ ingest: { burstLimit: 6000 } }),
      /ingest\.burstLimit: the burst is between 1 and 5000 requests/,
    ],
    [
      'burst limit below the rate',
      minimal({ ingest: { rateLimit: 500, burstLimit: 100 } }),
      /ingest\.burstLimit: must be at least ingest\.rateLimit \(500\).*Fix: raise it to 500 or more/s,
    ],
    [
      'ingest timeout 30 s',
      minimal({ ingest: { timeout: Duration.seconds(30) } }),
      /ingest\.timeout: between 1 and 29 seconds/,
    ],
    [
      'ingest memory',
      minimal({ ingest: { memorySize: 100 } }),
      /ingest\.memorySize: Lambda memory is between 128 and 10240 MB/,
    ],
    [
      "tenant read from a token source's own header, which would make the token the tenant",
      minimal({
        sources: { keyed: { type: 'token', header: 'X-Partner-Key' } },
        queues: {
          events: {
            tenants: { keyed: { header: 'x-partner-key' } },
            consumer: { entry: 'lambda/consumers/events.ts' },
          },
        },
      }),
      /queues\.events\.tenants\.keyed\.header: carries a credential.*\(got "x-partner-key"\)\. Fix: group by a header or \{ path \}/,
    ],
    [
      'FIFO group read from a signature header',
      minimal({
        queues: {
          orders: {
            fifo: true,
            fifoGrouping: { header: 'X-Hub-Signature-256' },
            consumer: { entry: 'lambda/consumers/events.ts' },
          },
        },
      }),
      /queues\.orders\.fifoGrouping\.header: carries a credential/,
    ],
    [
      'secret cache above an hour, which keeps a replaced secret accepted that long',
      minimal({ ingest: { secretCache: Duration.days(30) } }),
      /ingest\.secretCache: at most 1 hour: a replaced .* stays accepted that long.*Fix: use Duration\.minutes\(5\)/s,
    ],
    [
      'dedupe ttl shorter than retries',
      minimal({ dedupe: { ttl: Duration.hours(1) } }),
      /dedupe\.ttl: must be at least 3 days, the longest sender retry window/,
    ],
    [
      'inline limit above SQS',
      minimal({ payloads: { inlineLimitBytes: 2_000_000 } }),
      /payloads\.inlineLimitBytes: between 1024 and 1032192 bytes: the SQS limit of 1048576 bytes less 16384 for the reason a consumer adds to a message it dead-letters.*\(got 2000000\)\. Fix: use 1032192/,
    ],
    [
      'payload expiry shorter than DLQ retention',
      minimal({ payloads: { expiry: Duration.days(7) } }),
      /payloads\.expiry: must outlast the longest a message can live.*queue events: 4 days \+ 14 days.*Duration\.days\(18\)/,
    ],
    [
      // The consumer's dead-letter copy is a new message: its DLQ retention starts when it is sent, after up to
      // the queue's retention spent retrying, so a body kept only as long as the DLQ retention can be gone first.
      'payload expiry as long as the DLQ retention but shorter than the queue retention plus it',
      minimal({
        queues: {
          events: {
            retentionPeriod: Duration.days(7),
            deadLetterRetentionPeriod: Duration.days(14),
            consumer: { entry: 'lambda/consumers/events.ts' },
          },
        },
        payloads: { expiry: Duration.days(14) },
      }),
      /payloads\.expiry: .*queue events: 7 days \+ 14 days.*use Duration\.days\(21\) or more/,
    ],
    [
      'log retention not allowed',
      minimal({ logRetentionDays: 10 }),
      /logRetentionDays: CloudWatch Logs accepts only certain retention periods \(got 10\)/,
    ],
    [
      'email and topic',
      minimal({
        alarms: { email: 'ops@example.com', existingTopicArn: 'arn:aws:sns:us-east-1:123456789012:t' },
      }),
      /alarms: give either an email.*not both/,
    ],
    ['bad email', minimal({ alarms: { email: 'not-an-email' } }), /alarms\.email: .*\(got "not-an-email"\)/],
    [
      'bad schedule expression',
      minimal({ schedules: [{ name: 'nightly', expression: 'every day', queue: 'events', type: 'x' }] }),
      /schedules\.0\.expression: expected rate\(<n> <unit>\), cron\(<6 fields>\) or at/,
    ],
    [
      'schedule to unknown queue',
      minimal({ schedules: [{ name: 'nightly', expression: 'rate(1 day)', queue: 'nope', type: 'x' }] }),
      /schedules\.0\.queue: names a queue that is not configured \(got "nope"\)\. Fix: use one of: events/,
    ],
    [
      'duplicate schedule names',
      minimal({
        schedules: [
          { name: 'a', expression: 'rate(1 day)', queue: 'events', type: 'x' },
          { name: 'a', expression: 'rate(2 days)', queue: 'events', type: 'y' },
        ],
      }),
      /schedules\.1\.name: schedule names must be unique/,
    ],
    [
      'schedule to FIFO queue',
      minimal({
        queues: { jobs: { fifo: true } },
        schedules: [{ name: 'a', expression: 'rate(1 day)', queue: 'jobs', type: 'x' }],
      }),
      /schedules\.0\.queue: schedules send to standard queues only/,
    ],
    [
      // A payload JSON writes as nothing would leave every delivery without a body, which the consumer dead-letters.
      'schedule payload JSON cannot write',
      minimal({
        schedules: [
          { name: 'nightly', expression: 'rate(1 day)', queue: 'events', type: 'x', payload: () => 1 },
        ],
      }),
      /schedules\.0\.payload: is not JSON-serializable, so a delivery would carry no body \(got \(\) => 1\)\. Fix: use plain objects/,
    ],
    [
      'schedule payload JSON cannot write, shown as written',
      minimal({
        schedules: [
          { name: 'nightly', expression: 'rate(1 day)', queue: 'events', type: 'x', payload: { count: 1n } },
        ],
      }),
      /schedules\.0\.payload: is not JSON-serializable: payload\.count is a BigInt, which JSON cannot write, so a delivery would carry no body \(got \{ count: 1n \}\)\. Fix: send it as a string \(String\(n\)\) or a number/,
    ],
    [
      // `npm start` would send it; EventBridge Scheduler takes no target input over 8,192 characters.
      'schedule payload over the Scheduler input limit',
      minimal({
        schedules: [
          {
            name: 'nightly',
            expression: 'rate(1 day)',
            queue: 'events',
            type: 'x',
            payload: 'y'.repeat(8100),
          },
        ],
      }),
      /schedules\.0\.payload: makes an envelope of 8\d{3} characters; EventBridge Scheduler accepts at most 8192 .*Fix: send a small payload/,
    ],
    [
      'bad schedule name',
      minimal({
        schedules: [{ name: 'Nightly Job', expression: 'rate(1 day)', queue: 'events', type: 'x' }],
      }),
      /schedules\.0\.name: schedule names are lower-case/,
    ],
    [
      'schedule name over 40 characters, which reads as well-formed unless the limit is said',
      minimal({
        schedules: [{ name: `n${'b'.repeat(40)}`, expression: 'rate(1 day)', queue: 'events', type: 'x' }],
      }),
      /schedules\.0\.name: schedule names are lower-case letters, digits and dashes, starting with a letter, at most 40 characters \(got "nb+"\)/,
    ],
    [
      'schedule type of spaces',
      minimal({
        schedules: [{ name: 'nightly', expression: 'rate(1 day)', queue: 'events', type: '   ' }],
      }),
      /schedules\.0\.type: a schedule's type is what consumers route on: up to 256 letters, digits/,
    ],
    [
      'schedule type with a space inside',
      minimal({
        schedules: [{ name: 'nightly', expression: 'rate(1 day)', queue: 'events', type: 'report nightly' }],
      }),
      /schedules\.0\.type: .*\(got "report nightly"\)/,
    ],
  ];

  it.each(cases)('fails on %s, naming the field, the value and the fix', (_name, config, expected) => {
    const { message, issue } = issueOf(config);
    expect(message).toMatch(expected);
    expect(issue?.fix.length).toBeGreaterThan(5);
    expect(message).toContain('Fix: ');
    expect(message).toContain('(got ');
  });

  it('accepts the largest oldest-message alarm its refusal offers as the fix', () => {
    const config = resolveConfig(
      minimal({
        queues: {
          events: { retentionPeriod: Duration.hours(1), oldestMessageAgeAlarm: Duration.minutes(54) },
        },
      }),
    );
    expect(config.queues[0]?.oldestMessageAgeAlarm.toMinutes()).toBe(54);
  });
});

describe('resolveConfig: schedules', () => {
  const schedule = (expression: string, timezone?: string) =>
    minimal({
      schedules: [
        { name: 'nightly', expression, queue: 'events', type: 'x', ...(timezone ? { timezone } : {}) },
      ],
    });

  const withPayload = (payload: unknown) =>
    minimal({
      schedules: [{ name: 'nightly', expression: 'rate(1 hour)', queue: 'events', type: 'x', payload }],
    });

  it("refuses a payload whose envelope is over Scheduler's 8,192-character input, as the deploy would, at the schedule's path", () => {
    const { issue } = issueOf(withPayload({ blob: 'x'.repeat(8192) }));
    expect(issue?.path).toBe('schedules.0.payload');
    expect(issue?.message).toMatch(
      /^makes an envelope of \d+ characters; EventBridge Scheduler accepts at most 8192$/,
    );
    expect(issue?.fix).toMatch(/points at the data/);
    expect(resolveConfig(withPayload({ blob: 'x'.repeat(7000) })).schedules[0]?.payload).toEqual({
      blob: 'x'.repeat(7000),
    });
  });

  it.each([
    ['cron(99 3 * * ? *)', /minutes field \(0-59\)/],
    ['cron(0 24 * * ? *)', /hours field \(0-23\)/],
    ['cron(0 3 32 * ? *)', /day-of-month field \(1-31\)/],
    ['cron(0 3 * 13 ? *)', /month field \(1-12 or JAN-DEC\)/],
    ['cron(0 3 ? * 8 *)', /day-of-week field \(1-7 or SUN-SAT\)/],
    ['cron(0 3 * * ? 1969)', /year field \(1970-2199\)/],
    ['cron(0 3 * * MON *)', /exactly one of day-of-month and day-of-week must be "\?"/],
    ['cron(0 3 ? * ? *)', /exactly one of day-of-month and day-of-week must be "\?"/],
    ['cron(0 3 * * ?)', /6 fields, got 5/],
    ['cron(0 9 1,LW * ? *)', /"1,LW": \?, # and W cannot be combined/],
    ['cron(0 9 15W,20 * ? *)', /"15W,20": \?, # and W cannot be combined/],
    ['cron(0 22-2 * * ? *)', /"22-2" runs backwards in the hours field.*write "22-23,0-2"/],
    ['cron(0 9 ? * FRI-MON *)', /"FRI-MON" runs backwards in the day-of-week field.*write "FRI-SAT,SUN-MON"/],
    ['cron(0 9 1 DEC-FEB ? *)', /"DEC-FEB" runs backwards in the month field.*write "DEC,JAN-FEB"/],
    ['cron(0 9 1 1 ? 2031-2029)', /"2031-2029" runs backwards in the year field.*write "2029-2031"/],
    ['cron(0 1-2-3 * * ? *)', /"1-2-3" is out of range in the hours field/],
    ['cron(*/60 * * * ? *)', /increment is at most 59 in the minutes field/],
    ['cron(0 0/24 * * ? *)', /increment is at most 23 in the hours field/],
    ['rate(0 minutes)', /at least 1/],
    ['rate(1 hours)', /singular/],
    ['rate(5 minute)', /plural/],
    ['rate(5 weeks)', /expected rate/],
    ['at(2030-02-30T09:00:00)', /does not exist/],
    ['at(2030-01-31 09:00)', /expected rate/],
    ['at(2030-01-01T24:00:00)', /does not exist/],
    ['at(2030-13-01T09:00:00)', /does not exist/],
    ['xat(2030-01-31T09:00:00)', /expected rate/],
    ['at(2030-01-31T09:00:00)x', /expected rate/],
    ['xrate(1 day)', /expected rate/],
    ['rate(1 day)x', /expected rate/],
    ['xcron(0 9 * * ? *)', /expected rate/],
    ['cron(0 9 * * ? *)x', /expected rate/],
    ['cron(1e1 9 * * ? *)', /"1e1" is out of range in the minutes field/],
    ['cron(0 9-99 * * ? *)', /"9-99" is out of range in the hours field/],
    ['cron(0 9 32W * ? *)', /"32W" is out of range in the day-of-month field \(1-31\)/],
    ['cron(0 9 115W * ? *)', /"115W" is out of range in the day-of-month field/],
    ['cron(0 9 15WX * ? *)', /"15WX" is out of range in the day-of-month field/],
    ['cron(0 9 ? * 8L *)', /"8L" is out of range in the day-of-week field/],
    ['cron(0 9 ? * -6L *)', /"-6L" is out of range in the day-of-week field/],
    ['cron(0 9 ? * 6LX *)', /"6LX" is out of range in the day-of-week field/],
    ['cron(0 9 ? * 2/2 *)', /"2\/2" is not a valid day-of-week value \(increments are not allowed here\)/],
    ['cron(0/5/5 9 * * ? *)', /"0\/5\/5" is not a valid minutes value$/],
    ['cron(0/x 9 * * ? *)', /"0\/x" is not a valid minutes value/],
    ['cron(0/x1 9 * * ? *)', /"0\/x1" is not a valid minutes value/],
    ['cron(0/1x 9 * * ? *)', /"0\/1x" is not a valid minutes value/],
    ['cron(0/0 9 * * ? *)', /"0\/0" is not a valid minutes value/],
    ['cron(0 9 ? * ?,MON *)', /"\?,MON": \?, # and W cannot be combined/],
    ['cron(0 9 ? * 6#3,2 *)', /"6#3,2": \?, # and W cannot be combined/],
    ['cron(0 9 ? * 6-2 *)', /"6-2" runs backwards in the day-of-week field.*write "6-7,1-2"/],
    ['cron(0 9 1 10-2 ? *)', /"10-2" runs backwards in the month field.*write "10-12,1-2"/],
    ['cron(0 9 ? * FRI-SUN *)', /"FRI-SUN" runs backwards in the day-of-week field.*write "FRI-SAT,SUN"/],
  ])('refuses the expression %s, naming the field, the value and the fix', (expression, message) => {
    const { issue, message: text } = issueOf(schedule(expression));
    expect(issue?.path).toBe('schedules.0.expression');
    expect(issue?.message).toMatch(message);
    expect(issue?.value).toBe(JSON.stringify(expression));
    expect(issue?.fix).toMatch(/\w/);
    expect(text).toContain(`schedules.0.expression: ${issue?.message} (got "${expression}"). Fix: `);
  });

  it.each([
    ['rate( 5 minutes )', 'rate(5 minutes)'],
    ['rate(5  minutes)', 'rate(5 minutes)'],
    ['cron( 0 9 * * ? * )', 'cron(0 9 * * ? *)'],
    ['cron(0  9 * * ?\t*)', 'cron(0 9 * * ? *)'],
    [' rate(5 minutes)', 'rate(5 minutes)'],
    ['rate (5 minutes)', 'rate(5 minutes)'],
    ['cron(0 9 * * ? *)\n', 'cron(0 9 * * ? *)'],
    ['at( 2030-01-31T09:00:00 )', 'at(2030-01-31T09:00:00)'],
  ])(
    'refuses %s, spaced as Scheduler does not document, at start and synth alike, with the spelling it documents',
    (expression, spelled) => {
      const { issue } = issueOf(schedule(expression));
      expect(issue?.path).toBe('schedules.0.expression');
      expect(issue?.message).toMatch(/one space between fields and none inside the parentheses/);
      expect(issue?.value).toBe(JSON.stringify(expression));
      expect(issue?.fix).toBe(`write "${spelled}"`);
      expect(resolveConfig(schedule(spelled)).schedules[0]?.expression).toBe(spelled);
    },
  );

  it('names a spacing problem and the problems of the expression spelled right, all at once', () => {
    expect(() => resolveConfig(schedule('rate( 1 minutes )'))).toThrow(
      /none inside the parentheses \(got "rate\( 1 minutes \)"\)\. Fix: write "rate\(1 minutes\)"[\s\S]*singular unit for 1[\s\S]*write "rate\(1 minute\)"/,
    );
  });

  it.each([
    'rate(1 minute)',
    'rate(15 minutes)',
    'rate(1 day)',
    'cron(0 9 ? * MON-FRI *)',
    'cron(0/15 8-18 ? * 2-6 *)',
    'cron(0 0 L * ? *)',
    'cron(0 9 15W * ? *)',
    'cron(0 9 ? * 6#3 *)',
    'cron(0 9 ? * 6L *)',
    'cron(0 9 ? * L *)',
    'cron(0/59 0/23 1/31 1/12 ? 1970/229)',
    'cron(30 6 1 JAN,JUL ? 2028-2030)',
    'at(2030-01-31T09:00:00)',
    'cron(59 23 31 12 ? 2199)',
    'cron(0 9 ? * 7 *)',
    'cron(0/1 9 * * ? *)',
    'cron(0 9 LW * ? *)',
    'cron(0 9 ? * FRI#2 *)',
    'cron(0 9 ? * WED,FRI *)',
    'cron(0 9 1 JAN,FEB,MAR,APR,MAY,JUN,JUL,AUG,SEP,OCT,NOV,DEC ? *)',
    'cron(0 9 ? * SUN,MON,TUE,WED,THU,FRI,SAT *)',
  ])('accepts %s', (expression) => {
    expect(resolveConfig(schedule(expression)).schedules[0]?.expression).toBe(expression);
  });

  it.each([
    ['rate(1 hours)', 'write "rate(1 hour)"'],
    ['rate(5 minute)', 'write "rate(5 minutes)"'],
  ])('refuses %s with the spelling Scheduler wants as the fix', (expression, fix) => {
    expect(issueOf(schedule(expression)).issue?.fix).toBe(fix);
  });

  it.each(['Mars/Olympus', '+02:00', 'utc+2'])('refuses the time zone %s', (timezone) => {
    const { issue } = issueOf(schedule('cron(0 9 * * ? *)', timezone));
    expect(issue).toMatchObject({
      path: 'schedules.0.timezone',
      value: JSON.stringify(timezone),
      message: 'is not an IANA time zone name',
    });
    expect(issue?.fix).toMatch(/Europe\/Paris/);
  });

  it.each([
    ['europe/paris', 'Europe/Paris'],
    ['utc', 'UTC'],
    ['AMERICA/NEW_YORK', 'America/New_York'],
  ])(
    'refuses the time zone %s, which Scheduler does not match, naming its spelling %s',
    (timezone, spelling) => {
      const { issue } = issueOf(schedule('cron(0 9 * * ? *)', timezone));
      expect(issue).toMatchObject({ path: 'schedules.0.timezone', value: JSON.stringify(timezone) });
      expect(issue?.message).toMatch(/wrong case/);
      expect(issue?.fix).toBe(`write "${spelling}"`);
    },
  );

  it.each(['US/Eastern', 'Etc/UTC', 'Asia/Calcutta'])(
    'accepts the time zone alias %s as written',
    (timezone) => {
      expect(resolveConfig(schedule('cron(0 9 * * ? *)', timezone)).schedules[0]?.timezone).toBe(timezone);
    },
  );

  it('accepts IANA time zones and defaults to UTC', () => {
    expect(resolveConfig(schedule('cron(0 9 * * ? *)', 'America/New_York')).schedules[0]?.timezone).toBe(
      'America/New_York',
    );
    expect(resolveConfig(schedule('cron(0 9 * * ? *)')).schedules[0]?.timezone).toBe('UTC');
  });

  it('takes a one-time schedule whose time has passed: synth and local start warn of it, they do not refuse it', () => {
    expect(resolveConfig(schedule('at(2020-01-31T09:00:00)')).schedules[0]?.expression).toBe(
      'at(2020-01-31T09:00:00)',
    );
    expect(resolveConfig(schedule('cron(0 9 * * ? 2020-2025)')).schedules[0]?.expression).toBe(
      'cron(0 9 * * ? 2020-2025)',
    );
  });
});

describe('resolveConfig: every problem in one listing', () => {
  const problemsOf = (config: HooklineConfig, options?: Parameters<typeof resolveConfig>[1]) => {
    try {
      resolveConfig(config, options);
    } catch (error) {
      expect(error).toBeInstanceOf(HooklineConfigError);
      return error as HooklineConfigError;
    }
    throw new Error('expected resolveConfig to throw');
  };

  it('lists durations that are not whole seconds or days together with the other problems', () => {
    const error = problemsOf(
      minimal({
        queues: {
          events: { consumer: { entry: 'lambda/consumers/events.ts', timeout: Duration.millis(1500) } },
        },
        archive: { retention: Duration.hours(36) },
        logRetentionDays: 31,
      }),
    );
    expect(error.issues.map((i) => i.path).sort()).toEqual(
      ['archive.retention', 'logRetentionDays', 'queues.events.consumer.timeout'].sort(),
    );
  });

  it('lists unknown keys together with range, reference and schedule problems', () => {
    const error = problemsOf({
      sources: { github: { type: 'github', secrett: {} } as never },
      queues: { events: { maxRecieveCount: 3, consumer: { entry: 'x.ts', batchSize: 0 } } as never },
      routes: [{ source: 'gitlab', queues: ['events'] }],
      schedules: [{ name: 'nightly', expression: 'cron(99 3 * * ? *)', queue: 'events', type: 'x' }],
      colour: 'blue',
    } as never);
    expect(error.issues.map((i) => i.path).sort()).toEqual(
      [
        'colour',
        'sources.github.secrett',
        'queues.events.maxRecieveCount',
        'queues.events.consumer.batchSize',
        'routes.0.source',
        'schedules.0.expression',
      ].sort(),
    );
    for (const issue of error.issues) {
      expect(error.message).toContain(
        `${issue.path}: ${issue.message} (got ${issue.value}). Fix: ${issue.fix}`,
      );
    }
    expect(error.message).toContain(
      'colour: is not a known setting here (got "blue"). Fix: remove or rename colour',
    );
    expect(error.message).toMatch(/rename maxRecieveCount to maxReceiveCount/);
  });

  it('says how to write what was given when it is of the wrong kind: quoted, NaN, null, a number or text for a Duration, an option in another case', () => {
    const error = problemsOf({
      ...minimal(),
      stackName: '',
      removalPolicy: 'RETAIN',
      tracing: 'true',
      logRetentionDays: '30',
      queues: {
        events: {
          fifo: 'yes',
          maxReceiveCount: Number.NaN,
          retentionPeriod: 345600,
          deadLetterRetentionPeriod: '14 days',
          consumer: { entry: 'x.ts' },
        },
      },
      ingest: null,
    } as never);
    expect(Object.fromEntries(error.issues.map((i) => [i.path, i.fix]))).toEqual({
      stackName: 'give a value, or leave the field out if it is optional (for its default)',
      removalPolicy: 'use one of "retain", "destroy" (spelt exactly so)',
      tracing: 'write it without quotes: true',
      logRetentionDays: 'write it as a number, without quotes: 30',
      'queues.events.fifo': 'use true or false',
      'queues.events.maxReceiveCount':
        'give a finite number (NaN often comes from Number(process.env.X) with X unset or not a number)',
      'queues.events.retentionPeriod':
        "use a Duration, e.g. Duration.seconds(345600) if 345600 is seconds (import { Duration } from 'aws-cdk-lib')",
      'queues.events.deadLetterRetentionPeriod':
        "use a Duration, not text: e.g. Duration.seconds(30), Duration.minutes(5) or Duration.days(4) (import { Duration } from 'aws-cdk-lib')",
      ingest: 'give a value (null is none), or leave the field out where it is optional',
    });
    expect(error.issues.find((i) => i.path === 'stackName')?.message).toBe('is empty');
  });

  it("tells a queue kept SQS's 14 days to shorten its retention, since no dead-letter queue can outlive it, and one kept less to lengthen its DLQ's", () => {
    const fixOf = (retentionPeriod: Duration) =>
      problemsOf(
        minimal({ queues: { events: { retentionPeriod, deadLetterRetentionPeriod: Duration.days(4) } } }),
      ).issues[0]?.fix;
    expect(fixOf(Duration.days(14))).toBe(
      'shorten retentionPeriod to at most Duration.days(13): a dead-letter queue keeps a message at most 14 days, so it can outlive a queue kept 14 days by nothing',
    );
    expect(fixOf(Duration.days(5))).toBe('use Duration.days(14), or shorten retentionPeriod');
  });

  it('refuses a Duration of NaN or Infinity in any Duration field, listed with the rest, where CDK threw mid-way or it was called not whole', () => {
    const nan = Duration.seconds(Number.NaN);
    const error = problemsOf(
      minimal({
        queues: {
          events: {
            retentionPeriod: Duration.days(Number.POSITIVE_INFINITY),
            consumer: { entry: 'x.ts', timeout: nan, deadlineMargin: Duration.millis(Number.NaN) },
          },
        },
        dedupe: { ttl: nan },
      }),
    );
    expect(error.issues.map((i) => [i.path, i.message, i.value, i.fix])).toEqual(
      [
        'queues.events.retentionPeriod',
        'queues.events.consumer.timeout',
        'queues.events.consumer.deadlineMargin',
        'dedupe.ttl',
      ].map((path) => [
        path,
        'is a Duration of NaN or Infinity: AWS takes a finite amount',
        path.endsWith('retentionPeriod') ? 'a Duration of Infinity' : 'a Duration of NaN',
        'give a finite number (NaN often comes from Number(process.env.X) with X unset or not a number)',
      ]),
    );
  });

  it('tells a configuration that is a function, a promise or no object at all to be the object itself', () => {
    const rootOf = (config: unknown) => problemsOf(config as HooklineConfig).issues;
    const fix = 'export default defineConfig({ sources: { ... }, queues: { ... } })';
    expect(rootOf(() => minimal())).toEqual([
      {
        path: '(root)',
        message: 'is a function, and the configuration is an object',
        value: '() => minimal()',
        fix: `give the object the function returns: ${fix}`,
      },
    ]);
    // Zod read a promise as an object with neither sources nor queues.
    expect(rootOf(Promise.resolve(minimal()))).toEqual([
      {
        path: '(root)',
        message: 'is a Promise, and the configuration is read as it is, without waiting',
        value: 'a Promise',
        fix: `give the configuration object itself: in a configuration file, await what it needs at the top level and ${fix}`,
      },
    ]);
    expect(rootOf([])).toEqual([
      { path: '(root)', message: 'the configuration is an object of settings', value: '[]', fix },
    ]);
  });

  it('tells the module of a configuration file (import * as config, or CommonJS read from an ES module) to give its default export', () => {
    const rootOf = (config: unknown) => problemsOf(config as HooklineConfig).issues;
    const moduleProblem = {
      path: '(root)',
      message: 'is the module of a configuration file, whose default export is the configuration',
      value: 'a module with only a default export',
      fix: "give its default export: import config from './hookline.config' (not import * as config), or config.default where an ES module imports a CommonJS one",
    };
    // It was told sources and queues are missing, and to remove the unknown setting default, which holds them.
    expect(rootOf({ default: minimal() })).toEqual([moduleProblem]);
    expect(rootOf({ __esModule: true, default: minimal() })).toEqual([moduleProblem]);
    const namespace = Object.freeze(Object.assign(Object.create(null), { default: minimal() }));
    expect(rootOf(namespace)).toEqual([moduleProblem]);
  });

  it('refuses a header name no request can carry (a space, a colon, nothing) wherever a header is named', () => {
    const error = problemsOf(
      minimal({
        sources: {
          github: { type: 'github' },
          partner: { type: 'token', header: 'X Partner Key' },
          shop: { type: 'hmac', header: 'x-sig:', idHeader: 'request id', typeHeader: 'x-type' },
        },
        queues: { events: { consumer: { entry: 'x.ts', environment: { RETRIES: 5 as never } } } },
        ingest: { keepHeaders: ['x-ok', 'user agent'] },
      }),
    );
    expect(error.issues.map((i) => [i.path, i.fix])).toEqual([
      ['sources.partner.header', 'use the header name as the sender sends it, e.g. "x-request-id"'],
      ['sources.shop.header', 'use the header name as the sender sends it, e.g. "x-request-id"'],
      ['sources.shop.idHeader', 'use the header name as the sender sends it, e.g. "x-request-id"'],
      ['queues.events.consumer.environment.RETRIES', 'write it as text, in quotes: "5"'],
      ['ingest.keepHeaders.1', 'use the header name as the sender sends it, e.g. "x-request-id"'],
    ]);
  });

  it("says the field's own range for a count past 2^53, and reports a retention SQS refuses once, not also its DLQ's", () => {
    const error = problemsOf(
      minimal({
        queues: {
          events: {
            maxReceiveCount: 1e20,
            retentionPeriod: Duration.days(15),
            consumer: { entry: 'x.ts', memorySize: 2 ** 60 },
          },
        },
      }),
    );
    expect(error.issues.map((i) => [i.path, i.message])).toEqual([
      ['queues.events.maxReceiveCount', 'must be between 1 and 1000'],
      ['queues.events.retentionPeriod', 'SQS keeps messages between 60 seconds and 14 days'],
      ['queues.events.consumer.memorySize', 'Lambda memory is between 128 and 10240 MB'],
    ]);
  });

  it('reports a queue or source given as null once, not also as a missing one', () => {
    const error = problemsOf({ sources: { github: null }, queues: { events: null } } as never);
    expect(error.issues.map((i) => i.path)).toEqual(['sources.github', 'queues.events']);
  });

  it('reports a name that differs from another only in case once, by the name rule, whose fix also ends the clash', () => {
    const error = problemsOf(minimal({ queues: { events: {}, Events: {} } }));
    expect(error.issues.map((i) => [i.path, i.message])).toEqual([
      ['queues.Events', expect.stringMatching(/^queue names are lower-case letters/)],
    ]);
  });

  it('suggests a stack name CloudFormation accepts for one that is too long', () => {
    const error = problemsOf(minimal({ stackName: `Hooks_${'x'.repeat(130)}` }));
    const suggested = /use e\.g\. "([^"]*)"/.exec(error.issues[0]?.fix ?? '')?.[1] ?? '';
    expect(suggested).toMatch(/^Hooks-x+$/);
    expect(suggested).toHaveLength(128);
  });

  it('names the setting a misspelt key most likely meant, at every level and for the source type given', () => {
    const error = problemsOf({
      ...minimal(),
      stackNmae: 'Hooks',
      queues: {
        events: {
          maxRecieveCount: 3,
          consumer: { entry: 'x.ts', timout: Duration.seconds(3), retry: { bse: Duration.seconds(1) } },
        },
      },
      sources: {
        billing: { type: 'stripe', tolerence: Duration.minutes(1) },
        github: { type: 'github', tolerance: Duration.minutes(1) },
      },
      ingest: { ratelimit: 5 },
    } as never);
    expect(error.issues.map((i) => [i.path, i.message, i.fix])).toEqual(
      expect.arrayContaining([
        [
          'stackNmae',
          'is not a known setting here: did you mean stackName?',
          'rename stackNmae to stackName',
        ],
        [
          'queues.events.maxRecieveCount',
          'is not a known setting here: did you mean maxReceiveCount?',
          'rename maxRecieveCount to maxReceiveCount',
        ],
        [
          'queues.events.consumer.timout',
          'is not a known setting here: did you mean timeout?',
          'rename timout to timeout',
        ],
        [
          'queues.events.consumer.retry.bse',
          'is not a known setting here: did you mean base?',
          'rename bse to base',
        ],
        [
          'sources.billing.tolerence',
          'is not a known setting here: did you mean tolerance?',
          'rename tolerence to tolerance',
        ],
        [
          'ingest.ratelimit',
          'is not a known setting here: did you mean rateLimit?',
          'rename ratelimit to rateLimit',
        ],
        // A GitHub source has no tolerance: another sender's field is not offered.
        [
          'sources.github.tolerance',
          'is not a known setting here',
          'remove or rename tolerance; see the configuration reference in README.md',
        ],
      ]),
    );
    expect(error.issues).toHaveLength(7);
  });

  it('names the configured name or option a misspelt reference most likely meant, still listing every one', () => {
    const error = problemsOf({
      ...minimal(),
      removalPolicy: 'retian',
      sources: {
        github: { type: 'github' },
        gh: { type: 'githb' },
        signed: { type: 'hmac', header: 'x-signature', algorithm: 'sha265' },
      },
      queues: {
        events: {
          tenants: { gthub: { header: 'x-tenant-id' } },
          consumer: { entry: 'x.ts', metricTypes: ['gthub.push'] },
        },
      },
      routes: [
        { source: 'githb', queues: ['event'] },
        { source: 'gitlab', queues: ['events'] },
      ],
      defaultRoute: { queues: ['Events'] },
      jobs: { endpoint: { queues: ['billing'] } },
      schedules: [{ name: 'nightly', expression: 'rate(1 day)', queue: 'evnts', type: 'report.nightly' }],
    } as never);
    expect(error.issues.map((i) => [i.path, i.message, i.value, i.fix])).toEqual(
      expect.arrayContaining([
        [
          'removalPolicy',
          'is not one of its options: did you mean retain?',
          '"retian"',
          expect.stringMatching(/^use one of "retain", "destroy"/),
        ],
        [
          'sources.gh.type',
          'is not a source type hookline has a sender for: did you mean github?',
          '"githb"',
          expect.stringMatching(/^use one of the documented source types: github, stripe, /),
        ],
        [
          'sources.signed.algorithm',
          'is not one of its options: did you mean sha256?',
          '"sha265"',
          'use one of "sha1", "sha256", "sha512" (spelt exactly so)',
        ],
        [
          'queues.events.tenants.gthub',
          'names no configured source: did you mean github?',
          '"gthub"',
          'use one of the sources: github, gh, signed',
        ],
        [
          'queues.events.consumer.metricTypes.0',
          `names no configured source ("gthub"): did you mean github? A type is <source>.<type>, a job's job.<type>`,
          '"gthub.push"',
          'begin it with one of: github, gh, signed, job, schedule',
        ],
        [
          'routes.0.source',
          'names a source that is not configured: did you mean github?',
          '"githb"',
          'use one of: github, gh, signed, or "*"',
        ],
        [
          'routes.0.queues.0',
          'names a queue that is not configured: did you mean events?',
          '"event"',
          'use one of: events',
        ],
        [
          'defaultRoute.queues.0',
          'names a queue that is not configured: did you mean events?',
          '"Events"',
          'use one of: events',
        ],
        // Nothing configured is close (two letters of six differ from github's): the list alone, no guess.
        [
          'routes.1.source',
          'names a source that is not configured',
          '"gitlab"',
          'use one of: github, gh, signed, or "*"',
        ],
        ['jobs.endpoint.queues.0', 'names a queue that is not configured', '"billing"', 'use one of: events'],
        [
          'schedules.0.queue',
          'names a queue that is not configured: did you mean events?',
          '"evnts"',
          'use one of: events',
        ],
      ]),
    );
    expect(error.issues).toHaveLength(11);
  });

  it("never shows a value that may be a secret: a source's secret given as its value, or a field named like a credential", () => {
    const error = problemsOf(
      minimal({
        sources: {
          github: { type: 'github', secret: 'gh-s3cr3t' as never },
          stripe: { type: 'stripe', secret: { value: 'whsec_s3cr3t' } as never },
          internal: {
            type: 'token',
            scheme: 'header',
            header: 'authorization',
            token: 'tok-s3cr3t',
          } as never,
        },
        colour: 'blue',
      } as never),
    );
    expect(error.issues.map((i) => [i.path, i.value])).toEqual([
      ['sources.github.secret', HIDDEN_VALUE],
      ['sources.stripe.secret.value', HIDDEN_VALUE],
      ['sources.internal.token', HIDDEN_VALUE],
      ['colour', '"blue"'],
    ]);
    expect(error.message).not.toMatch(/s3cr3t/);
    expect(error.issues[0]?.fix).toContain('hookline secrets set github');
  });

  it('lists a wrongly typed optional field together with the other problems', () => {
    const error = problemsOf(
      minimal({
        queues: { events: { maxReceiveCount: 'five' as never, consumer: { entry: 'x.ts', batchSize: 0 } } },
      }),
    );
    expect(error.issues.map((i) => i.path)).toEqual([
      'queues.events.maxReceiveCount',
      'queues.events.consumer.batchSize',
    ]);
    expect(error.issues[0]?.value).toBe('"five"');
  });

  it('lists the problems after a source of unknown type, without a false one for the routes naming it', () => {
    const error = problemsOf(
      minimal({
        sources: { github: { type: 'githb' } as never, stripe: { type: 'stripe' } },
        queues: { events: { consumer: { entry: 'x.ts', batchSize: 0 } } },
        routes: [
          { source: 'github', queues: ['evnts'] },
          { source: 'stripe', queues: ['events'] },
        ],
        stackName: 'Bad One',
        alarms: { existingTopicArn: 'arn:aws:sns:x' },
      }),
    );
    expect(error.issues.map((i) => i.path)).toEqual([
      'sources.github.type',
      'stackName',
      'queues.events.consumer.batchSize',
      'routes.0.queues.0',
      'alarms.existingTopicArn',
    ]);
    expect(error.issues[0]?.fix).toMatch(/use one of the documented source types: github, stripe/);
  });

  it('lists an unknown key inside a route or a schedule together with the problems after it', () => {
    const error = problemsOf(
      minimal({
        routes: [{ source: 'gitlab', queues: ['events'], queus: ['events'] } as never],
        schedules: [
          {
            name: 'nightly',
            expression: 'rate(1 day)',
            queue: 'events',
            type: 'report.nightly',
            when: 1,
          } as never,
        ],
        logRetentionDays: 31,
      }),
    );
    expect(error.issues.map((i) => i.path)).toEqual([
      'routes.0.queus',
      'schedules.0.when',
      'routes.0.source',
      'logRetentionDays',
    ]);
    expect(error.message).toMatch(/^Invalid hookline configuration \(4 problems\)/);
  });

  it.each([
    [
      { queues: { events: { fifo: true, fifoGrouping: 'tenant' as never } } },
      'queues.events.fifoGrouping',
      /"source", "type", \{ path/,
    ],
    [
      { queues: { events: { tenants: { github: { pat: 'account' } as never } } } },
      'queues.events.tenants.github',
      /^use \{ path: .* or \{ header: /,
    ],
    [{ defaultRoute: 'nowhere' as never }, 'defaultRoute', /use "ignore" or \{ queues: /],
  ])(
    'tells a value matching none of its forms the forms of its own field, not the source types (%#)',
    (overrides, path, fix) => {
      const { issue } = issueOf(minimal(overrides));
      expect(issue?.path).toBe(path);
      expect(issue?.fix).toMatch(fix);
      expect(issue?.fix).not.toMatch(/source types/);
    },
  );

  it('lists a missing required field or a refused list item with the problems after it, and no false one', () => {
    const error = problemsOf(
      minimal({
        sources: { github: { type: 'github' }, signed: { type: 'hmac' } as never },
        queues: { events: { consumer: {} as never } },
        routes: [{ source: 'signed', queues: ['events'] }],
        defaultRoute: { queues: [''] },
        ingest: { keepHeaders: [''] },
        schedules: [{ name: 'nightly', queue: 'events', type: 'report.nightly' } as never],
        logRetentionDays: 31,
      }),
    );
    expect(error.issues.map((i) => i.path)).toEqual([
      'sources.signed.header',
      'defaultRoute.queues.0',
      'ingest.keepHeaders.0',
      'schedules.0.expression',
      // A consumer runs entry or forward: which one is missing is the consumer's rule, checked after the shape.
      'queues.events.consumer',
      'logRetentionDays',
    ]);
  });

  it('reports a missing required field once, under its path, and counts one problem', () => {
    const { issue, message } = issueOf(
      minimal({ schedules: [{ name: 'nightly', queue: 'events', type: 'report.nightly' } as never] }),
    );
    expect(issue).toMatchObject({ path: 'schedules.0.expression', value: 'nothing' });
    expect(message).toMatch(/^Invalid hookline configuration \(1 problem\):/);
  });

  it('says a missing required field is required and names the field to add, rather than asking to correct a value never given', () => {
    const { issue } = issueOf(minimal({ sources: { play: { type: 'unverified' } as never } }));
    expect(issue).toEqual({
      path: 'sources.play.dangerouslyAcceptUnverifiedRequests',
      message: 'is required (a boolean)',
      value: 'nothing',
      fix: 'add dangerouslyAcceptUnverifiedRequests; see the configuration reference in README.md',
    });
    expect(issueOf(minimal({ sources: { signed: { type: 'hmac' } as never } })).issue).toMatchObject({
      path: 'sources.signed.header',
      message: 'is required (a string)',
      fix: 'add header; see the configuration reference in README.md',
    });
  });

  it('reports a configuration that is not an object at (root)', () => {
    expect(issueOf([] as never).issue?.path).toBe('(root)');
  });

  it('refuses a stack name CloudFormation refuses, and an alarm topic that is not an SNS topic ARN', () => {
    expect(issueOf(minimal({ stackName: 'my_stack' })).message).toContain(
      'stackName: a CloudFormation stack name starts with a letter and holds only letters, digits and hyphens (at most 128) (got "my_stack"). Fix: use e.g. "my-stack"',
    );
    expect(issueOf(minimal({ stackName: '1st' })).issue?.path).toBe('stackName');
    expect(issueOf(minimal({ alarms: { existingTopicArn: 'alarms' } })).issue).toMatchObject({
      path: 'alarms.existingTopicArn',
      message: 'is not an SNS topic ARN',
    });
    for (const accepted of [
      minimal({ stackName: 'Prod-Webhooks2' }),
      minimal({ alarms: { existingTopicArn: 'arn:aws:sns:eu-west-1:123456789012:ops-alarms' } }),
      minimal({ alarms: { existingTopicArn: 'arn:aws-us-gov:sns:us-gov-west-1:123456789012:a_b-1' } }),
      minimal({ alarms: { existingTopicArn: Fn.importValue('SharedAlarmTopicArn') } }),
    ])
      expect(() => resolveConfig(accepted)).not.toThrow();
  });

  it('refuses names that differ only by dashes, which would share a resource id', () => {
    const error = problemsOf(
      minimal({
        sources: { 'gh-1': { type: 'github' }, gh1: { type: 'github' } },
        queues: { 'q-2': {}, q2: {} },
      }),
    );
    expect(error.issues.map((i) => [i.path, i.fix])).toEqual([
      ['sources.gh1', 'rename one of "gh-1" and "gh1"'],
      ['queues.q2', 'rename one of "q-2" and "q2"'],
    ]);
    expect(error.issues[1]?.message).toBe(
      'becomes the same resource id (Q2) as queue "q-2": names may not differ only by dashes',
    );
  });

  it("refuses schedule names that differ only by dashes, which would share their dead-letter queue's outputs", () => {
    const schedule = (name: string) => ({ name, expression: 'rate(1 hour)', queue: 'events', type: 'tick' });
    const error = problemsOf(minimal({ schedules: [schedule('report-2'), schedule('report2')] }));
    expect(error.issues.map((i) => [i.path, i.message, i.fix])).toEqual([
      [
        'schedules.1.name',
        'becomes the same resource id (Report2) as schedule "report-2": names may not differ only by dashes',
        'rename one of "report-2" and "report2"',
      ],
    ]);
  });

  it('reports a consumer entry file that does not exist, with the path given and the fix', () => {
    const existing = new Set(['lambda/consumers/events.ts']);
    const error = problemsOf(
      minimal({
        queues: {
          events: { consumer: { entry: 'lambda/consumers/events.ts' } },
          orders: { consumer: { entry: 'lambda/consumers/missing.ts', batchSize: 0 } },
        },
      }),
      { entryExists: (entry) => existing.has(entry) },
    );
    expect(error.issues.map((i) => i.path)).toEqual([
      'queues.orders.consumer.entry',
      'queues.orders.consumer.batchSize',
    ]);
    expect(error.issues[0]).toMatchObject({
      message: 'the consumer entry file does not exist',
      value: '"lambda/consumers/missing.ts"',
    });
    expect(error.issues[0]?.fix).toMatch(/relative to the project root/);
  });

  /** The fix for a missing entry of the queue `orders`, in a project whose files and folders are `existing`. */
  const missingEntryFix = (existing: readonly string[], queues: HooklineConfig['queues']) =>
    problemsOf(minimal({ queues }), { entryExists: (entry) => existing.includes(entry) }).issues.find(
      (i) => i.path === 'queues.orders.consumer.entry',
    )?.fix;

  it("suggests a missing entry's path in the folder of the configuration's other consumer entries", () => {
    const fix = missingEntryFix(['handlers', 'handlers/events.ts', 'consumers', 'lambda/consumers'], {
      events: { consumer: { entry: 'handlers/events.ts' } },
      orders: { consumer: { entry: 'lambda/consumers/orders.ts' } },
    });
    expect(fix).toBe(
      'create the file, or give its path relative to the project root, e.g. "handlers/orders.ts"',
    );
  });

  it('suggests the consumers/ folder hookline init makes, not one the project does not have', () => {
    const fix = missingEntryFix(['consumers'], {
      orders: { consumer: { entry: 'lambda/consumers/orders.ts' } },
    });
    expect(fix).toBe(
      'create the file, or give its path relative to the project root, e.g. "consumers/orders.ts"',
    );
  });

  it("suggests the folder most of the configuration's consumer entries are in", () => {
    const fix = missingEntryFix(['other', 'other/c.ts', 'handlers', 'handlers/a.ts', 'handlers/b.ts'], {
      c: { consumer: { entry: 'other/c.ts' } },
      a: { consumer: { entry: 'handlers/a.ts' } },
      b: { consumer: { entry: 'handlers/b.ts' } },
      orders: { consumer: { entry: 'lambda/consumers/orders.ts' } },
    });
    expect(fix).toBe(
      'create the file, or give its path relative to the project root, e.g. "handlers/orders.ts"',
    );
  });

  it('suggests the consumers/ folder hookline init makes before lambda/consumers/ when the project has both', () => {
    const fix = missingEntryFix(['lambda/consumers', 'consumers'], {
      orders: { consumer: { entry: 'src/orders.ts' } },
    });
    expect(fix).toBe(
      'create the file, or give its path relative to the project root, e.g. "consumers/orders.ts"',
    );
  });

  it('suggests a consumers folder for a missing entry at the project root, not the root it was given in', () => {
    const fix = missingEntryFix(['.', 'consumers'], { orders: { consumer: { entry: 'orders.ts' } } });
    expect(fix).toBe(
      'create the file, or give its path relative to the project root, e.g. "consumers/orders.ts"',
    );
  });

  it('suggests no example that is the missing path itself', () => {
    const fix = missingEntryFix(['consumers'], { orders: { consumer: { entry: 'consumers/orders.ts' } } });
    expect(fix).toBe('create the file, or give the path of your handler file relative to the project root');
  });

  it('suggests no folder for a missing entry when the project has none of the consumer folders', () => {
    const fix = missingEntryFix([], { orders: { consumer: { entry: 'lambda/consumers/orders.ts' } } });
    expect(fix).toBe('create the file, or give the path of your handler file relative to the project root');
  });

  it('suggests an entry in the folder of the other consumers for a queue whose consumer has neither entry nor forward', () => {
    const error = problemsOf(
      minimal({
        queues: { events: { consumer: { entry: 'consumers/events.ts' } }, orders: { consumer: {} } },
      }),
      { entryExists: (entry) => ['consumers', 'consumers/events.ts'].includes(entry) },
    );
    expect(error.issues.find((i) => i.path === 'queues.orders.consumer')?.fix).toBe(
      "add entry: 'consumers/orders.ts', or forward: { url: 'https://app.example.com/webhooks' }",
    );
  });
});

describe('resolveConfig: the consumer scaling choice', () => {
  const consumerWith = (scaling: Partial<NonNullable<HooklineConfig['queues'][string]['consumer']>>) =>
    minimal({ queues: { events: { consumer: { entry: 'lambda/consumers/events.ts', ...scaling } } } });

  it('accepts on-demand scaling within the reserved concurrency, and provisioned pollers alone', () => {
    const onDemand = resolveConfig(consumerWith({ maxConcurrency: 20, reservedConcurrency: 20 }));
    expect(onDemand.queues[0]?.consumer).toMatchObject({ maxConcurrency: 20, reservedConcurrency: 20 });
    // At 1,000 the event source cannot outgrow the reservation.
    const reservedOnly = resolveConfig(consumerWith({ reservedConcurrency: 1000 }));
    expect(reservedOnly.queues[0]?.consumer).toMatchObject({ reservedConcurrency: 1000 });
    const provisioned = resolveConfig(consumerWith({ minimumPollers: 2, maximumPollers: 20 }));
    expect(provisioned.queues[0]?.consumer).toMatchObject({ minimumPollers: 2, maximumPollers: 20 });
    // 10 pollers run at most 100 invocations: a reservation of 100 holds them all.
    const reservedPollers = resolveConfig(
      consumerWith({ minimumPollers: 2, maximumPollers: 10, reservedConcurrency: 100 }),
    );
    expect(reservedPollers.queues[0]?.consumer).toMatchObject({
      maximumPollers: 10,
      reservedConcurrency: 100,
    });
  });

  it.each([
    [
      'maxConcurrency together with provisioned pollers',
      { maxConcurrency: 10, minimumPollers: 2 },
      /consumer\.maxConcurrency: maximum concurrency \(on-demand scaling\) and provisioned pollers .* are mutually exclusive.*\(got 10\)\. Fix: keep maxConcurrency and remove minimumPollers\/maximumPollers/s,
    ],
    [
      'maxConcurrency above the reserved concurrency',
      { maxConcurrency: 50, reservedConcurrency: 10 },
      /consumer\.maxConcurrency: must not exceed reservedConcurrency \(10\): the event source would start invocations the function cannot run.*\(got 50\)\. Fix: lower maxConcurrency to at most 10/s,
    ],
    [
      'a reserved concurrency of 1 under a maxConcurrency of 2, where lowering maxConcurrency is no fix',
      { maxConcurrency: 2, reservedConcurrency: 1 },
      /consumer\.maxConcurrency: must not exceed reservedConcurrency \(1\).*\(got 2\)\. Fix: raise reservedConcurrency to at least 2 \(maxConcurrency cannot go below 2\)/s,
    ],
    [
      'a reserved concurrency without maxConcurrency, which the event source would exceed',
      { reservedConcurrency: 10 },
      /consumer\.reservedConcurrency: an SQS event source does not limit itself to the reserved concurrency: it starts 5 batches at once.*\(got 10\)\. Fix: add maxConcurrency: 10/s,
    ],
    [
      'a reserved concurrency of 1, below the smallest maxConcurrency',
      { reservedConcurrency: 1 },
      /consumer\.reservedConcurrency: .*\(got 1\)\. Fix: reserve at least 2 and set maxConcurrency to the same number/s,
    ],
    [
      'a reserved concurrency of 0, with which the consumer never runs',
      { reservedConcurrency: 0 },
      /consumer\.reservedConcurrency: a consumer with no concurrency never runs.*\(got 0\)\. Fix: remove reservedConcurrency \(pause a consumer with `hookline pause` instead\)/s,
    ],
    [
      'a reserved concurrency below what its provisioned pollers run (10 invocations each)',
      { minimumPollers: 2, maximumPollers: 10, reservedConcurrency: 50 },
      /consumer\.reservedConcurrency: provisioned pollers run up to 10 invocations each, 100 with 10 pollers.*count towards maxReceiveCount \(got 50\)\. Fix: set maximumPollers to at most 5 \(and minimumPollers no higher\), reserve at least 100/s,
    ],
    [
      'a reserved concurrency below what the default maximum of 200 pollers runs',
      { minimumPollers: 2, reservedConcurrency: 1000 },
      /consumer\.reservedConcurrency: .*2000 with 200 pollers \(the default maximum\).*\(got 1000\)\. Fix: set maximumPollers to at most 100/s,
    ],
    [
      'a reservation too small for the fewest pollers',
      { minimumPollers: 2, maximumPollers: 2, reservedConcurrency: 5 },
      /consumer\.reservedConcurrency: .*\(got 5\)\. Fix: reserve at least 20 with maximumPollers: 2, scale on demand instead/s,
    ],
    [
      'minimumPollers below 2',
      { minimumPollers: 1 },
      /consumer\.minimumPollers: an SQS event source keeps 2 to 200 pollers ready in provisioned mode \(got 1\)/,
    ],
    [
      'maximumPollers above 2000',
      { maximumPollers: 2001 },
      /consumer\.maximumPollers: CloudFormation accepts 2 to 2000 maximum pollers for an SQS event source in provisioned mode \(got 2001\)/,
    ],
    [
      'minimumPollers above maximumPollers',
      { minimumPollers: 50, maximumPollers: 10 },
      /consumer\.minimumPollers: must not exceed maximumPollers \(10\): Lambda cannot keep more pollers ready than it may run \(got 50\)/,
    ],
  ])('refuses %s, with the reason and the fix', (_name, scaling, expected) => {
    const { message } = issueOf(consumerWith(scaling));
    expect(message).toMatch(expected);
  });

  it('lists every scaling problem of a consumer at once', () => {
    try {
      resolveConfig(consumerWith({ maxConcurrency: 50, reservedConcurrency: 10, minimumPollers: 300 }));
      throw new Error('expected resolveConfig to throw');
    } catch (error) {
      const paths = (error as HooklineConfigError).issues.map((i) => i.path);
      expect(paths).toEqual([
        'queues.events.consumer.minimumPollers',
        'queues.events.consumer.maxConcurrency',
        'queues.events.consumer.maxConcurrency',
      ]);
    }
  });
});

describe("resolveConfig: a consumer's metricTypes", () => {
  const withMetricTypes = (metricTypes: unknown) =>
    minimal({
      sources: { github: { type: 'github' }, shop: { type: 'shopify' } },
      queues: { events: { consumer: { entry: 'lambda/consumers/events.ts', metricTypes } } },
    } as Partial<HooklineConfig>);

  /** Every problem resolving `config` reports, as its error says them. */
  const messageOf = (config: HooklineConfig): string => {
    try {
      resolveConfig(config);
    } catch (error) {
      expect(error).toBeInstanceOf(HooklineConfigError);
      return (error as Error).message;
    }
    throw new Error('expected resolveConfig to throw');
  };

  it("is 'none' by default, and takes 'each' or a list of types of its sources, jobs and schedules", () => {
    expect(resolveConfig(minimal()).queues[0]?.consumer?.metricTypes).toBe('none');
    const list = ['github.push', 'shop.orders/create', 'job.email.welcome', 'schedule.heartbeat'];
    expect(resolveConfig(withMetricTypes(list)).queues[0]?.consumer?.metricTypes).toStrictEqual(list);
    expect(resolveConfig(withMetricTypes('each')).queues[0]?.consumer?.metricTypes).toBe('each');
  });

  it('refuses a pattern, a type without its source, a repeat and a type of no configured source, each at its path with a fix', () => {
    const message = messageOf(
      withMetricTypes(['github.*', 'push', 'gitub.push', 'github.push', 'github.push']),
    );
    expect(message).toMatch(
      /queues\.events\.consumer\.metricTypes\.0: is an exact event type.*Fix: list each type/,
    );
    expect(message).toMatch(
      /queues\.events\.consumer\.metricTypes\.1: .*\(got "push"\)\. Fix: write it as <source>\.<type>, e\.g\. "github\.push"/,
    );
    expect(message).toMatch(
      /queues\.events\.consumer\.metricTypes\.2: names no configured source \("gitub"\).*Fix: begin it with one of: github, shop, job, schedule/,
    );
    expect(message).toMatch(/queues\.events\.consumer\.metricTypes\.4: repeats a type listed before it/);
    expect(issueOf(withMetricTypes('all')).message).toMatch(/queues\.events\.consumer\.metricTypes: /);
  });
});

describe('resolveConfig: tenant fairness', () => {
  const withTenants = (queue: HooklineConfig['queues'][string]) =>
    minimal({
      sources: { github: { type: 'github' }, shop: { type: 'shopify' } },
      queues: { events: queue },
    });

  it('hands each source tenant rule to the ingest function, header names lower-case', () => {
    const config = resolveConfig(
      withTenants({
        tenants: { github: { path: 'installation.id' }, shop: { header: 'X-Shopify-Shop-Domain' } },
      }),
    );
    const runtime = ingestRuntimeConfig(config, {
      location: { partition: 'aws', region: 'eu-west-1', account: '1', urlSuffix: 'amazonaws.com' },
      queueUrls: { events: 'u' },
      queueNames: { events: 'q' },
      deadLetterQueueUrls: {},
      secretIds: { github: 's', shop: 's' },
    });
    expect(runtime.queues.events?.tenants).toEqual({
      github: { by: 'path', path: 'installation.id' },
      shop: { by: 'header', header: 'x-shopify-shop-domain' },
    });
  });

  it('refuses tenants on a FIFO queue, pointing at fifoGrouping', () => {
    const { message } = issueOf(
      withTenants({ fifo: true, tenants: { github: { path: 'installation.id' } } }),
    );
    expect(message).toMatch(
      /queues\.events\.tenants: tenant fairness is for standard queues.*Fix: remove it and group by tenant with fifoGrouping/s,
    );
  });

  it('refuses a tenant rule for a source that does not exist', () => {
    const { message } = issueOf(withTenants({ tenants: { gitub: { path: 'installation.id' } } }));
    expect(message).toMatch(
      /queues\.events\.tenants\.gitub: names no configured source.*Fix: use one of the sources: github, shop/s,
    );
  });

  it('groups a FIFO queue by a request header', () => {
    const config = resolveConfig(
      withTenants({ fifo: true, fifoGrouping: { header: 'X-Shopify-Shop-Domain' } }),
    );
    const runtime = ingestRuntimeConfig(config, {
      location: { partition: 'aws', region: 'eu-west-1', account: '1', urlSuffix: 'amazonaws.com' },
      queueUrls: { events: 'u' },
      queueNames: { events: 'q' },
      deadLetterQueueUrls: {},
      secretIds: { github: 's', shop: 's' },
    });
    expect(runtime.queues.events?.grouping).toEqual({ by: 'header', header: 'x-shopify-shop-domain' });
  });
});

/**
 * The Duration class of a second aws-cdk-lib copy, as an app has when hookline is installed as a linked folder:
 * aws-cdk-lib's own duration module, loaded again so that its class is not the one hookline imported.
 */
function durationOfAnotherCopy(): typeof Duration {
  const require = createRequire(import.meta.url);
  const file = join(dirname(require.resolve('aws-cdk-lib')), 'core/lib/duration.js');
  const loaded = require.cache[file];
  delete require.cache[file];
  try {
    return (require(file) as { Duration: typeof Duration }).Duration;
  } finally {
    if (loaded) require.cache[file] = loaded;
  }
}

describe('resolveConfig: a Duration of another aws-cdk-lib copy', () => {
  it('names the second aws-cdk-lib copy and how to share one, instead of asking for the Duration it was given', () => {
    const Other = durationOfAnotherCopy();
    expect(Other.seconds(30)).not.toBeInstanceOf(Duration);
    const { issue } = issueOf(
      minimal({
        queues: { events: { consumer: { entry: 'lambda/consumers/events.ts', timeout: Other.seconds(30) } } },
      }),
    );
    expect(issue).toEqual({
      path: 'queues.events.consumer.timeout',
      message: "is a Duration from another copy of aws-cdk-lib than hookline's, so hookline cannot read it",
      value: '30 seconds',
      fix: expect.stringMatching(
        /^install hookline from the registry or a packed tarball \(npm pack\), not a linked folder .*npm ls aws-cdk-lib lists the copies$/,
      ),
    });
  });

  it('still asks for a Duration when given something else', () => {
    const { issue } = issueOf(
      minimal({
        queues: { events: { consumer: { entry: 'lambda/consumers/events.ts', timeout: 30 as never } } },
      }),
    );
    expect(issue?.message).toBe('expected a Duration, e.g. Duration.seconds(30)');
    expect(issue?.fix).toBe(
      "use a Duration, e.g. Duration.seconds(30) if 30 is seconds (import { Duration } from 'aws-cdk-lib')",
    );
  });
});

describe('a route to a queue when no queue is configured', () => {
  it('is fixed by configuring that queue, not by a choice among none', () => {
    let error: unknown;
    try {
      resolveConfig(minimal({ queues: {}, routes: [{ source: 'github', queues: ['nope'] }] }));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(HooklineConfigError);
    expect((error as HooklineConfigError).issues).toContainEqual(
      expect.objectContaining({
        path: 'routes.0.queues.0',
        fix: 'configure it under queues (queues: { "nope": {} })',
      }),
    );
  });
});

describe('resolveConfig: a consumer rate limit', () => {
  const limited = (consumer: Partial<NonNullable<HooklineConfig['queues'][string]['consumer']>>) =>
    minimal({ queues: { events: { consumer: { entry: 'lambda/consumers/events.ts', ...consumer } } } });
  const issuesOf = (config: HooklineConfig) => {
    try {
      resolveConfig(config);
    } catch (error) {
      expect(error).toBeInstanceOf(HooklineConfigError);
      return (error as HooklineConfigError).issues;
    }
    throw new Error('expected resolveConfig to throw');
  };

  it('resolves a limit and interval, and none by default', () => {
    const config = resolveConfig(
      limited({ maxConcurrency: 2, rateLimit: { limit: 2, interval: Duration.seconds(1) } }),
    );
    expect(config.queues[0]?.consumer?.rateLimit).toEqual({ limit: 2, interval: Duration.seconds(1) });
    expect(resolveConfig(minimal()).queues[0]?.consumer?.rateLimit).toBeUndefined();
  });

  it('reports a bad limit, a sub-second interval and a missing maxConcurrency at once, each with its path, value and fix', () => {
    const issues = issuesOf(limited({ rateLimit: { limit: 0.5, interval: Duration.millis(500) } }));
    expect(issues).toEqual([
      expect.objectContaining({
        path: 'queues.events.consumer.rateLimit.limit',
        value: '0.5',
        fix: 'use e.g. 2',
      }),
      expect.objectContaining({ path: 'queues.events.consumer.rateLimit.interval', value: '500 millis' }),
      expect.objectContaining({
        path: 'queues.events.consumer.maxConcurrency',
        fix: expect.stringContaining('add maxConcurrency: 2'),
      }),
    ]);
  });

  it('refuses a limit whose longest wait for a slot would take more than half of what an invocation can use, with the settings that fit', () => {
    // 10 invocations x 10 records at 2 per second: the last waits 49 s, the 30 s timeout leaves 27 s.
    const issues = issuesOf(
      limited({ maxConcurrency: 10, rateLimit: { limit: 2, interval: Duration.seconds(1) } }),
    );
    expect(issues).toEqual([
      expect.objectContaining({
        path: 'queues.events.consumer.rateLimit',
        value: '"2 per 1 second"',
        message: expect.stringContaining(
          '100 records (maxConcurrency x batchSize) may wait for a slot at once, up to 49 s',
        ),
        fix: 'raise timeout to at least 101 seconds, or lower maxConcurrency to 2',
      }),
    ]);
    // Two invocations of ten records: 9 s of waiting, within half of 27 s.
    expect(() =>
      resolveConfig(limited({ maxConcurrency: 2, rateLimit: { limit: 2, interval: Duration.seconds(1) } })),
    ).not.toThrow();
  });
});

describe('resolveConfig: a consumer circuit breaker', () => {
  const withBreaker = (circuitBreaker: unknown) =>
    minimal({
      queues: {
        events: {
          consumer: {
            entry: 'lambda/consumers/events.ts',
            circuitBreaker: circuitBreaker as CircuitBreakerConfig,
          },
        },
      },
    });
  const issuesOf = (config: HooklineConfig) => {
    try {
      resolveConfig(config);
    } catch (error) {
      expect(error).toBeInstanceOf(HooklineConfigError);
      return (error as HooklineConfigError).issues;
    }
    throw new Error('expected resolveConfig to throw');
  };

  it('is off unless configured, and {} turns it on with the defaults', () => {
    expect(resolveConfig(minimal()).queues[0]?.consumer?.circuitBreaker).toBeUndefined();
    expect(resolveConfig(withBreaker({})).queues[0]?.consumer?.circuitBreaker).toEqual({
      failureRatio: DEFAULTS.circuitBreakerFailureRatio,
      minimumRecords: DEFAULTS.circuitBreakerMinimumRecords,
      window: DEFAULTS.circuitBreakerWindow,
    });
  });

  it('keeps the settings given', () => {
    const breaker = { failureRatio: 1, minimumRecords: 3, window: Duration.minutes(1) };
    expect(resolveConfig(withBreaker(breaker)).queues[0]?.consumer?.circuitBreaker).toEqual(breaker);
  });

  it('reports a ratio out of (0, 1], a fractional record count and a window CloudWatch cannot alarm on at once, each with its path, value and fix', () => {
    const issues = issuesOf(
      withBreaker({ failureRatio: 0, minimumRecords: 2.5, window: Duration.seconds(90) }),
    );
    expect(issues).toEqual([
      expect.objectContaining({
        path: 'queues.events.consumer.circuitBreaker.failureRatio',
        value: '0',
        fix: 'use e.g. 0.5 (half of the records failed)',
      }),
      expect.objectContaining({
        path: 'queues.events.consumer.circuitBreaker.minimumRecords',
        value: '2.5',
        fix: 'use e.g. 20',
      }),
      expect.objectContaining({
        path: 'queues.events.consumer.circuitBreaker.window',
        value: '1 minute 30 seconds',
        fix: 'use e.g. Duration.minutes(5)',
      }),
    ]);
  });

  it.each([
    ['a ratio above 1', { failureRatio: 1.5 }, 'failureRatio'],
    ['no records', { minimumRecords: 0 }, 'minimumRecords'],
    ['a window under a minute', { window: Duration.seconds(30) }, 'window'],
    ['a window over a day', { window: Duration.hours(25) }, 'window'],
  ])('refuses %s', (_name, breaker, field) => {
    expect(issuesOf(withBreaker(breaker))).toEqual([
      expect.objectContaining({ path: `queues.events.consumer.circuitBreaker.${field}` }),
    ]);
  });

  it('has no probe unless halfOpenAfter is set, and keeps the one given', () => {
    expect(resolveConfig(withBreaker({})).queues[0]?.consumer?.circuitBreaker?.halfOpenAfter).toBeUndefined();
    const breaker = { window: Duration.minutes(5), halfOpenAfter: Duration.minutes(5) };
    expect(resolveConfig(withBreaker(breaker)).queues[0]?.consumer?.circuitBreaker).toMatchObject(breaker);
  });

  it.each([
    [
      'shorter than the window',
      { window: Duration.minutes(10), halfOpenAfter: Duration.minutes(5) },
      '10 minutes',
    ],
    ['shorter than the default window', { halfOpenAfter: Duration.minutes(2) }, '5 minutes'],
    ['in seconds', { window: Duration.minutes(1), halfOpenAfter: Duration.seconds(90) }, '1 minute'],
    ['over a day', { window: Duration.minutes(1), halfOpenAfter: Duration.hours(25) }, '1 minute'],
  ])('refuses a halfOpenAfter %s, saying the window is its floor and why', (_name, breaker, floor) => {
    const issues = issuesOf(withBreaker(breaker));
    expect(issues).toEqual([
      expect.objectContaining({
        path: 'queues.events.consumer.circuitBreaker.halfOpenAfter',
        message: expect.stringContaining(`from the window (${floor}) to 1440 (1 day)`),
        fix: expect.stringMatching(/^use e\.g\. Duration\.minutes\(\d+\)$/),
      }),
    ]);
    expect(issues[0]?.message).toMatch(/reads ALARM until a window passes without failures/);
  });

  it('reports a bad halfOpenAfter together with the other breaker settings', () => {
    const issues = issuesOf(withBreaker({ failureRatio: 2, halfOpenAfter: Duration.seconds(30) }));
    expect(issues.map((i) => i.path)).toEqual([
      'queues.events.consumer.circuitBreaker.failureRatio',
      'queues.events.consumer.circuitBreaker.halfOpenAfter',
    ]);
  });

  it('refuses an unknown setting', () => {
    expect(() => resolveConfig(withBreaker({ ratio: 0.5 }))).toThrow(/circuitBreaker/);
  });

  it('points a breaker written on a queue, with or without a consumer, to the consumer it belongs to', () => {
    for (const queue of [{ circuitBreaker: {} }, { consumer: { entry: 'x.ts' }, circuitBreaker: {} }]) {
      expect(issueOf(minimal({ queues: { events: queue } } as never)).issue).toEqual({
        path: 'queues.events.circuitBreaker',
        message: "is a setting of the queue's consumer, not of the queue",
        value: '{}',
        fix: "move circuitBreaker into queues.events.consumer (a queue without a consumer needs one first: consumer: { entry: '<your handler file, relative to the project root>' })",
      });
    }
    // Where the project's files are checked, the entry it suggests is in the project's own consumers folder.
    expect(() =>
      resolveConfig(minimal({ queues: { events: { circuitBreaker: {} } } } as never), {
        entryExists: (path) => path === 'consumers',
      }),
    ).toThrow(
      "Fix: move circuitBreaker into queues.events.consumer (a queue without a consumer needs one first: consumer: { entry: 'consumers/events.ts' })",
    );
    expect(issueOf(minimal({ queues: { events: { typo: 1 } } } as never)).issue?.message).toBe(
      'is not a known setting here',
    );
  });

  it("suggests the entry of a breaker's missing consumer in the folder of the configuration's other consumers", () => {
    expect(() =>
      resolveConfig(
        minimal({
          queues: { events: { consumer: { entry: 'handlers/events.ts' } }, orders: { circuitBreaker: {} } },
        } as never),
        { entryExists: (path) => ['handlers', 'handlers/events.ts', 'consumers'].includes(path) },
      ),
    ).toThrow(
      "Fix: move circuitBreaker into queues.orders.consumer (a queue without a consumer needs one first: consumer: { entry: 'handlers/orders.ts' })",
    );
  });

  it('points halfOpenAfter written on the consumer or on its queue to the circuit breaker it belongs to', () => {
    const queues = [
      { consumer: { entry: 'x.ts', halfOpenAfter: Duration.minutes(15) } },
      { consumer: { entry: 'x.ts' }, halfOpenAfter: Duration.minutes(15) },
    ];
    const paths = ['queues.events.consumer.halfOpenAfter', 'queues.events.halfOpenAfter'];
    queues.forEach((queue, i) => {
      expect(issueOf(minimal({ queues: { events: queue } } as never)).issue).toEqual({
        path: paths[i],
        message: "is a setting of the consumer's circuit breaker",
        value: '15 minutes',
        fix: 'move halfOpenAfter into queues.events.consumer.circuitBreaker (e.g. circuitBreaker: { halfOpenAfter: ... }; {} enables the breaker with its defaults)',
      });
    });
  });

  it("points a queue's setting written on its consumer, or misspelt there, to the queue", () => {
    const onConsumer = (setting: Record<string, unknown>) =>
      issueOf(minimal({ queues: { events: { consumer: { entry: 'x.ts', ...setting } } } } as never)).issue;
    expect(onConsumer({ maxReceiveCount: 3 })).toEqual({
      path: 'queues.events.consumer.maxReceiveCount',
      message: 'is a setting of queues.events, not of queues.events.consumer',
      value: '3',
      fix: 'move it to queues.events.maxReceiveCount',
    });
    expect(onConsumer({ maxRecieveCount: 3 })).toEqual({
      path: 'queues.events.consumer.maxRecieveCount',
      message: 'is not a known setting here: did you mean maxReceiveCount, a setting of queues.events?',
      value: '3',
      fix: 'move it to queues.events.maxReceiveCount',
    });
  });

  it("points a setting of a consumer's own object written on the consumer to that object", () => {
    const issue = issueOf(
      minimal({ queues: { events: { consumer: { entry: 'x.ts', base: Duration.seconds(2) } } } } as never),
    ).issue;
    expect(issue).toMatchObject({
      path: 'queues.events.consumer.base',
      message: 'is a setting of queues.events.consumer.retry, not of queues.events.consumer',
      fix: 'move it to queues.events.consumer.retry.base',
    });
  });

  it("points a source's secret setting written on the source to its secret", () => {
    expect(
      issueOf(minimal({ sources: { github: { type: 'github', existingSecretName: 'app/github' } } } as never))
        .issue?.message,
    ).toBe('is a setting of sources.github.secret, not of sources.github');
  });

  it('renames a misspelt key in place where its own level has it, and says nothing of other levels for an unknown one', () => {
    expect(issueOf(minimal({ queues: { events: { maxRecieveCount: 3 } } } as never)).issue?.fix).toBe(
      'rename maxRecieveCount to maxReceiveCount',
    );
    expect(
      issueOf(minimal({ queues: { events: { consumer: { entry: 'x.ts', nothingLikeIt: 1 } } } } as never))
        .issue,
    ).toMatchObject({
      message: 'is not a known setting here',
      fix: 'remove or rename nothingLikeIt; see the configuration reference in README.md',
    });
  });
});

describe("resolveConfig: a consumer's retries within its queue's retention", () => {
  const withRetry = (retry: { base: Duration; max: Duration }) =>
    minimal({
      queues: {
        events: {
          retentionPeriod: Duration.hours(1),
          consumer: { entry: 'lambda/consumers/events.ts', retry },
        },
      },
    });

  it("refuses a retention that ends before the shortest waits of a failing record's retries, with what fits", () => {
    // 4 retries wait at least 300 + 600 + 1200 + 1800 seconds: each half its backoff of 10, 20, 40 and 60 minutes.
    const { issue, message } = issueOf(withRetry({ base: Duration.minutes(10), max: Duration.hours(1) }));
    expect(issue?.path).toBe('queues.events.retentionPeriod');
    expect(message).toContain(
      "queues.events.retentionPeriod: ends before a failing record's last receive: its 4 retries wait at least 3900 seconds in all (retry base 10 minutes, factor 2, max 1 hour; each wait at least half its backoff), so the consumer dead-letters every record that keeps failing with RetentionEndsError after at most 4 of its maxReceiveCount (5) receives (got 1 hour). Fix: raise retentionPeriod to at least Duration.minutes(66), lower maxReceiveCount to 4, or shorten the consumer's retry (base or max)",
    );
  });

  it('counts a single retry in the singular', () => {
    const { message } = issueOf(
      minimal({
        queues: {
          events: {
            retentionPeriod: Duration.minutes(30),
            maxReceiveCount: 2,
            consumer: {
              entry: 'lambda/consumers/events.ts',
              retry: { base: Duration.minutes(90), max: Duration.hours(2) },
            },
          },
        },
      }),
    );
    expect(message).toContain(
      "ends before a failing record's last receive: its 1 retry waits at least 2700 seconds in all",
    );
  });

  it('takes a retention its retries fit in at their shortest, though their longest waits would not', () => {
    // At most 300 + 600 + 1200 + 2400 seconds, at least half that: jitter decides, so it is not refused.
    expect(() =>
      resolveConfig(withRetry({ base: Duration.minutes(5), max: Duration.hours(1) })),
    ).not.toThrow();
  });

  it('names no longer retention when none SQS keeps would fit, only the other fixes', () => {
    const { message } = issueOf(
      minimal({
        queues: {
          events: {
            retentionPeriod: Duration.days(13),
            maxReceiveCount: 1000,
            consumer: { entry: 'lambda/consumers/events.ts', retry: { max: Duration.hours(1) } },
          },
        },
      }),
    );
    expect(message).toMatch(
      /Fix: lower maxReceiveCount to \d+, or shorten the consumer's retry \(base or max\)/,
    );
  });
});
