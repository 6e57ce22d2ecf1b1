import { App, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { checkEnvelope } from '../../lambda/shared/envelope';
import type { ResolvedSchedule } from '../../lib/config';
import {
  PipelineSchedules,
  type PipelineSchedulesProps,
  SCHEDULER_CONTEXT,
  SCHEDULER_INPUT_LIMIT,
  scheduleEnvelope,
  validateSchedulesProps,
} from '../../lib/pipeline-schedules';

const heartbeat: ResolvedSchedule = {
  name: 'heartbeat',
  expression: 'rate(1 hour)',
  timezone: 'UTC',
  queue: 'events',
  type: 'schedule.heartbeat',
  payload: {},
};
const report: ResolvedSchedule = {
  name: 'nightly-report',
  expression: 'cron(0 9 * * ? *)',
  timezone: 'Europe/Paris',
  queue: 'events',
  type: 'report.nightly',
  payload: { format: 'csv', recipients: ['ops@example.com'] },
};

function synth(
  overrides: Partial<PipelineSchedulesProps> | ((stack: Stack) => Partial<PipelineSchedulesProps>) = {},
) {
  const app = new App();
  const stack = new Stack(app, 'Test', { env: { account: '123456789012', region: 'eu-west-1' } });
  const events = new sqs.Queue(stack, 'Events');
  const orders = new sqs.Queue(stack, 'Orders', { fifo: true });
  const construct = new PipelineSchedules(stack, 'Schedules', {
    schedules: [heartbeat, report],
    queues: { events, orders },
    ...(typeof overrides === 'function' ? overrides(stack) : overrides),
  });
  return { template: Template.fromStack(stack), stack, events, construct };
}

describe('PipelineSchedules', () => {
  it('synthesizes a schedule that will not fire again with a warning on it, naming it and what it means', () => {
    // GIVEN a one-time schedule that fired years ago and a cron whose years have all passed
    const launch = { ...heartbeat, name: 'launch', expression: 'at(2020-01-31T09:00:00)' };
    const old = { ...heartbeat, name: 'old', expression: 'cron(0 9 * * ? 2020-2025)' };
    const { template, stack } = synth({ schedules: [heartbeat, launch, old] });
    // THEN both are synthesized, each with a warning (which `cdk synth --strict` fails on), and the rate has none
    template.resourceCountIs('AWS::Scheduler::Schedule', 3);
    const warnings = Annotations.fromStack(stack).findWarning('*', Match.anyValue());
    expect(warnings.map((w) => [w.id, String(w.entry.data)])).toEqual([
      [
        '/Test/Schedules/launch/Schedule',
        expect.stringMatching(
          /^schedule launch \(schedules\.1\.expression\): the time of the one-time schedule at\(2020-01-31T09:00:00\) has passed, so it will not fire again: .* Remove the schedule from the configuration \[ack: hookline:scheduleNeverFires\]$/,
        ),
      ],
      [
        '/Test/Schedules/old/Schedule',
        expect.stringMatching(
          /^schedule old \(schedules\.2\.expression\): cron\(0 9 \* \* \? 2020-2025\) matches no time from now on .* so it will never fire, deployed or in local mode\. /,
        ),
      ],
    ]);
  });

  it('warns of no schedule that is off (enabled: false): it is deliberately off, whether or not it could fire', () => {
    const launch = { ...heartbeat, name: 'launch', expression: 'at(2020-01-31T09:00:00)' };
    const old = { ...heartbeat, name: 'old', expression: 'cron(0 9 * * ? 2020-2025)' };
    const { template, stack } = synth({ schedules: [heartbeat, launch, old], enabled: false });
    template.resourceCountIs('AWS::Scheduler::Schedule', 3);
    expect(Annotations.fromStack(stack).findWarning('*', Match.anyValue())).toEqual([]);
  });

  it('warns of no schedule that fires again: a rate, a cron, and a one-time schedule to come', () => {
    const later = { ...heartbeat, name: 'later', expression: 'at(2199-01-31T09:00:00)' };
    const { stack } = synth({ schedules: [heartbeat, report, later] });
    expect(Annotations.fromStack(stack).findWarning('*', Match.anyValue())).toEqual([]);
  });

  it('creates one schedule per configured job with its expression, time zone and no flexible window', () => {
    const { template } = synth();
    template.resourceCountIs('AWS::Scheduler::Schedule', 2);
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'rate(1 hour)',
      ScheduleExpressionTimezone: 'UTC',
      FlexibleTimeWindow: { Mode: 'OFF' },
      State: 'ENABLED',
    });
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'cron(0 9 * * ? *)',
      ScheduleExpressionTimezone: 'Europe/Paris',
    });
  });

  it('targets the configured queue with the retry policy and a dead-letter queue', () => {
    const { template, stack, events } = synth();
    const schedules = template.findResources('AWS::Scheduler::Schedule');
    for (const schedule of Object.values(schedules)) {
      const target = schedule.Properties.Target;
      expect(target.Arn).toEqual(stack.resolve(events.queueArn));
      expect(target.RetryPolicy).toEqual({ MaximumRetryAttempts: 185, MaximumEventAgeInSeconds: 86_400 });
      expect(target.DeadLetterConfig.Arn).toEqual({
        'Fn::GetAtt': [expect.stringMatching(/DeadLetterQueue/), 'Arn'],
      });
    }
  });

  it('honours a custom retry policy, schedule group, and dead-letter retention and removal policy', () => {
    const { template } = synth((stack) => ({
      retryAttempts: 3,
      maxEventAge: Duration.hours(1),
      scheduleGroup: scheduler.ScheduleGroup.fromScheduleGroupName(stack, 'Group', 'jobs'),
      deadLetterRetentionPeriod: Duration.days(4),
      deadLetterRemovalPolicy: RemovalPolicy.RETAIN,
    }));
    template.allResourcesProperties('AWS::Scheduler::Schedule', {
      GroupName: 'jobs',
      Target: Match.objectLike({ RetryPolicy: { MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: 3600 } }),
    });
    const dlqs = template.findResources('AWS::SQS::Queue', {
      Properties: { MessageRetentionPeriod: 345_600 },
    });
    expect(Object.values(dlqs).map((q) => q.DeletionPolicy)).toEqual(['Retain', 'Retain']);
  });

  it('sends a hookline envelope with the Scheduler context attributes', () => {
    const { template } = synth();
    const schedules = Object.values(template.findResources('AWS::Scheduler::Schedule'));
    const inputs = schedules.map((s) => JSON.parse(s.Properties.Target.Input));
    const nightly = inputs.find((i) => i.type === 'report.nightly');
    expect(checkEnvelope(nightly)).toBeTruthy();
    expect(nightly).toMatchObject({
      v: 1,
      id: `nightly-report:${SCHEDULER_CONTEXT.scheduledTime}`,
      source: 'schedule',
      receivedAt: SCHEDULER_CONTEXT.scheduledTime,
      headers: {
        'x-hookline-schedule': 'nightly-report',
        'x-hookline-schedule-execution-id': SCHEDULER_CONTEXT.executionId,
      },
      bodyEncoding: 'utf8',
    });
    expect(JSON.parse(nightly.body)).toEqual({ format: 'csv', recipients: ['ops@example.com'] });
  });

  it('gives each schedule an encrypted, TLS-only DLQ retained 14 days', () => {
    const { template } = synth();
    const dlqs = template.findResources('AWS::SQS::Queue', {
      Properties: { MessageRetentionPeriod: 1_209_600, SqsManagedSseEnabled: true },
    });
    expect(Object.keys(dlqs)).toHaveLength(2);
    for (const logicalId of Object.keys(dlqs)) {
      template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: logicalId }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          ]),
        },
      });
    }
  });

  it('gives each schedule a role that may only send to its queue and its DLQ, assumable by Scheduler only', () => {
    const { template, stack, events } = synth();
    const roles = template.findResources('AWS::IAM::Role');
    expect(Object.keys(roles)).toHaveLength(2);
    for (const role of Object.values(roles)) {
      expect(role.Properties.AssumeRolePolicyDocument.Statement).toEqual([
        {
          Action: 'sts:AssumeRole',
          Effect: 'Allow',
          Principal: { Service: 'scheduler.amazonaws.com' },
          Condition: {
            StringEquals: { 'aws:SourceAccount': '123456789012' },
            // Without a group of their own the schedules are in the default one.
            ArnEquals: {
              'aws:SourceArn': {
                'Fn::Join': [
                  '',
                  [
                    'arn:',
                    { Ref: 'AWS::Partition' },
                    ':scheduler:eu-west-1:123456789012:schedule-group/default',
                  ],
                ],
              },
            },
          },
        },
      ]);
    }
    const policies = Object.values(template.findResources('AWS::IAM::Policy'));
    expect(policies).toHaveLength(2);
    for (const policy of policies) {
      const statements = policy.Properties.PolicyDocument.Statement;
      expect(statements).toHaveLength(2);
      for (const s of statements) expect(s.Action).toBe('sqs:SendMessage');
      expect(statements[0].Resource).toEqual(stack.resolve(events.queueArn));
      expect(statements[1].Resource).toEqual({
        'Fn::GetAtt': [expect.stringMatching(/DeadLetterQueue/), 'Arn'],
      });
    }
  });

  it("lets each schedule's role send to its own dead-letter queue only, never another schedule's", () => {
    const { template, stack, construct } = synth();
    const policies = Object.values(template.findResources('AWS::IAM::Policy'));
    for (const { role, deadLetterQueue } of Object.values(construct.schedules)) {
      const roleRef = stack.resolve(role.roleName);
      const own = policies.filter((p) => JSON.stringify(p.Properties.Roles) === JSON.stringify([roleRef]));
      expect(own).toHaveLength(1);
      const resources = own[0]?.Properties.PolicyDocument.Statement.map(
        (s: { Resource: unknown }) => s.Resource,
      );
      expect(resources).toContainEqual(stack.resolve(deadLetterQueue.queueArn));
      const others = Object.values(construct.schedules).filter((s) => s.deadLetterQueue !== deadLetterQueue);
      for (const other of others)
        expect(resources).not.toContainEqual(stack.resolve(other.deadLetterQueue.queueArn));
    }
  });

  it('creates disabled schedules when enabled is false', () => {
    const { template } = synth({ enabled: false });
    template.allResourcesProperties('AWS::Scheduler::Schedule', { State: 'DISABLED' });
  });

  it('passes the cdk-nag AwsSolutions checks (its DLQs are recognised as DLQs)', () => {
    const app = new App();
    const stack = new Stack(app, 'Nag', { env: { account: '123456789012', region: 'eu-west-1' } });
    const dlq = new sqs.Queue(stack, 'Dlq', {
      enforceSSL: true,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
    });
    const events = new sqs.Queue(stack, 'Events', {
      enforceSSL: true,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      deadLetterQueue: { queue: dlq, maxReceiveCount: 5 },
    });
    new PipelineSchedules(stack, 'Schedules', { schedules: [heartbeat, report], queues: { events } });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    expect(() => app.synth()).not.toThrow();
  });

  it('exposes the dead-letter queues for alarms', () => {
    const { construct } = synth();
    expect(construct.deadLetterQueues).toEqual(
      Object.values(construct.schedules).map((s) => s.deadLetterQueue),
    );
    expect(construct.deadLetterQueues).toHaveLength(2);
    expect(Object.keys(construct.schedules)).toEqual(['heartbeat', 'nightly-report']);
  });
});

describe('validateSchedulesProps', () => {
  const queues = () => {
    const stack = new Stack();
    return { events: new sqs.Queue(stack, 'E'), orders: new sqs.Queue(stack, 'O', { fifo: true }) };
  };
  const problemsFor = (schedule: Partial<ResolvedSchedule>, extra: Partial<PipelineSchedulesProps> = {}) =>
    validateSchedulesProps({ schedules: [{ ...heartbeat, ...schedule }], queues: queues(), ...extra });

  it('accepts the example schedules', () => {
    expect(validateSchedulesProps({ schedules: [heartbeat, report], queues: queues() })).toEqual([]);
  });

  it.each([
    ['rate(5 minute)', /plural/],
    ['rate(1 hours)', /singular/],
    ['every 5 minutes', /expected rate\(<n> <unit>\), cron\(<6 fields>\) or at/],
    ['cron(0 9 * * *)', /6 fields, got 5/],
    ['cron(99 3 * * ? *)', /minutes field \(0-59\)/],
    ['cron(0 9 * * MON *)', /must be "\?"/],
  ])('rejects the expression %s', (expression, message) => {
    const problems = problemsFor({ expression });
    expect(problems).toHaveLength(1);
    expect(problems[0]?.message).toMatch(message);
  });

  it('rejects an unknown time zone, an unknown queue and a FIFO queue', () => {
    expect(problemsFor({ timezone: 'Mars/Olympus' })[0]?.fix).toMatch(/IANA|Europe/);
    expect(problemsFor({ queue: 'nope' })[0]?.fix).toBe('use one of: events, orders');
    expect(problemsFor({ queue: 'orders' })[0]?.message).toMatch(/FIFO/);
  });

  it('rejects an envelope above the Scheduler input limit', () => {
    const problems = problemsFor({ payload: { blob: 'x'.repeat(9000) } });
    expect(problems[0]?.message).toMatch(/at most 8192/);
  });

  it.each([
    ['0 retries', { retryAttempts: 0 }],
    ['185 retries', { retryAttempts: 185 }],
    ['a 1 minute event age', { maxEventAge: Duration.minutes(1) }],
    ['a 24 hour event age', { maxEventAge: Duration.hours(24) }],
  ])("accepts %s, Scheduler's limits", (_limit, extra) => {
    expect(problemsFor({}, extra)).toEqual([]);
  });

  it.each([
    [-1, 'retryAttempts', /whole number from 0 to 185/],
    [1.5, 'retryAttempts', /whole number from 0 to 185/],
    [Duration.seconds(59), 'maxEventAge', /between 1 minute and 24 hours/],
    [Duration.seconds(86_401), 'maxEventAge', /between 1 minute and 24 hours/],
    // Scheduler takes whole seconds; CDK would fail later with an error that names no field.
    [Duration.millis(90_500), 'maxEventAge', /whole seconds/],
  ])('rejects %s just beyond what Scheduler accepts', (value, path, message) => {
    const problems = problemsFor({}, { [path]: value });
    expect(problems.map((p) => p.path)).toEqual([path]);
    expect(problems[0]?.message).toMatch(message);
  });

  it('names each problem by the schedule, its field and the value given, and the queue a misspelt one meant', () => {
    const problems = validateSchedulesProps({
      schedules: [
        heartbeat,
        { ...heartbeat, timezone: 'Mars/Olympus', queue: 'orders' },
        { ...report, queue: 'nope' },
        { ...report, name: 'weekly-report', queue: 'event' },
      ],
      queues: queues(),
    });
    expect(problems.map(({ path, message, value }) => ({ path, message, value }))).toEqual([
      { path: 'schedules[1] (heartbeat)', message: 'schedule names must be unique', value: '"heartbeat"' },
      { path: 'schedules[1] (heartbeat).timezone', message: expect.any(String), value: '"Mars/Olympus"' },
      { path: 'schedules[1] (heartbeat).queue', message: expect.stringMatching(/FIFO/), value: '"orders"' },
      {
        path: 'schedules[2] (nightly-report).queue',
        message: 'names a queue that is not in props.queues',
        value: '"nope"',
      },
      {
        path: 'schedules[3] (weekly-report).queue',
        message: 'names a queue that is not in props.queues: did you mean events?',
        value: '"event"',
      },
    ]);
  });

  it('refuses a payload that cannot be sent as JSON, or that JSON writes as nothing, naming it', () => {
    const cycle: Record<string, unknown> = { n: 1 };
    cycle.self = cycle;
    const named: [unknown, string][] = [
      [
        { order: { lines: [{ total: 1n }] } },
        'is not JSON-serializable: payload.order.lines.0.total is a BigInt, which JSON cannot write, so a delivery would carry no body',
      ],
      [
        cycle,
        'is not JSON-serializable: payload.self is an object that contains itself (a cycle), which JSON cannot write, so a delivery would carry no body',
      ],
    ];
    for (const [payload, message] of named) {
      const problems = problemsFor({ payload: payload as never });
      expect(problems.map((p) => [p.path, p.message])).toEqual([
        ['schedules[0] (heartbeat).payload', message],
      ]);
    }
    for (const payload of [() => 1, Symbol('x')]) {
      const problems = problemsFor({ payload: payload as never });
      expect(problems.map((p) => [p.path, p.message])).toEqual([
        ['schedules[0] (heartbeat).payload', 'is not JSON-serializable, so a delivery would carry no body'],
      ]);
    }
  });

  it('accepts an envelope of exactly the Scheduler input limit, and refuses one character more', () => {
    const withBlob = (blob: string) => ({ ...heartbeat, payload: { blob } });
    const length = (blob: string) =>
      JSON.stringify(scheduleEnvelope(withBlob(blob), SCHEDULER_CONTEXT)).length;
    const fits = 'x'.repeat(SCHEDULER_INPUT_LIMIT - length(''));
    expect(length(fits)).toBe(SCHEDULER_INPUT_LIMIT);
    expect(problemsFor(withBlob(fits))).toEqual([]);
    expect(problemsFor(withBlob(`${fits}x`)).map((p) => p.path)).toEqual([
      'schedules[0] (heartbeat).payload',
    ]);
  });

  it('rejects out-of-range retry settings', () => {
    const problems = problemsFor(
      {},
      { retryAttempts: 186, maxEventAge: Duration.hours(25), deadLetterRetentionPeriod: Duration.days(15) },
    );
    expect(problems.map((p) => p.path)).toEqual([
      'retryAttempts',
      'maxEventAge',
      'deadLetterRetentionPeriod',
    ]);
  });

  it('makes the construct throw with every problem listed', () => {
    const stack = new Stack();
    const events = new sqs.Queue(stack, 'Events');
    expect(
      () =>
        new PipelineSchedules(stack, 'S', {
          schedules: [
            { ...heartbeat, expression: 'hourly' },
            { ...heartbeat, queue: 'missing' },
          ],
          queues: { events },
        }),
    ).toThrow(/hourly[\s\S]*unique[\s\S]*missing/);
  });
});

describe('scheduleEnvelope', () => {
  it('is stable across retries of one invocation and valid for the consumers', () => {
    const first = scheduleEnvelope(heartbeat, { scheduledTime: '2026-11-25T17:00:00Z', executionId: 'a1' });
    const retry = scheduleEnvelope(heartbeat, { scheduledTime: '2026-11-25T17:00:00Z', executionId: 'b2' });
    expect(first.id).toBe(retry.id);
    expect(checkEnvelope(first).body).toBe('{}');
  });
});
