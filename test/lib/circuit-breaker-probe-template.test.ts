/**
 * The deployed circuit breaker's probe (`halfOpenAfter`), walked through the template from the alarm to the function
 * to every grant the probe adds: tags and scaling on the probed consumer's mapping only, its breaker alarm's state,
 * schedules in the stack's own group only, the scheduler's role handed to Scheduler only, and that role invoking the
 * breaker function only. Nothing on "*". A breaker without a probe adds none of it.
 */
import { Duration } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import exampleConfig from '../../hookline.config';
import { BREAKER_CONFIG_ENV, breakerAlarmName } from '../../lambda/shared/circuit-breaker';
import { type HooklineConfig, resolveConfig } from '../../lib/config';
import { BREAKER_SCHEDULES, STACK_OUTPUTS } from '../../lib/stack-outputs';
import { type Resources as AlarmResources, walkAlarmsToPublishGrants } from '../helpers/alarms';
import { pipelineTemplate, renderIntrinsics } from '../helpers/cdk';

type Resource = { Type: string; Properties: Record<string, unknown> };
type Resources = Record<string, Resource>;
type Statement = { Action: string | string[]; Resource: unknown; Condition?: unknown; Effect: string };

const breaker = { failureRatio: 0.8, minimumRecords: 30, window: Duration.minutes(3) };
const configWith = (probe: boolean): HooklineConfig => ({
  ...exampleConfig,
  queues: {
    events: {
      consumer: {
        entry: 'lambda/consumers/events.ts',
        maxConcurrency: 40,
        circuitBreaker: { ...breaker, ...(probe ? { halfOpenAfter: Duration.minutes(10) } : {}) },
      },
    },
    orders: {
      ...exampleConfig.queues.orders,
      consumer: {
        entry: 'lambda/consumers/orders.ts',
        minimumPollers: 3,
        circuitBreaker: breaker,
      },
    },
  },
});

function walk(config: HooklineConfig) {
  const { template, stack } = pipelineTemplate(resolveConfig(config));
  const json = template.toJSON();
  const resources = json.Resources as Resources;
  const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
  const getAttId = (value: unknown): string | undefined =>
    (value as { 'Fn::GetAtt'?: [string, string] })?.['Fn::GetAtt']?.[0];
  const refId = (value: unknown): string | undefined => (value as { Ref?: string })?.Ref;
  const statementsOf = (roleId: string): Statement[] =>
    ofType('AWS::IAM::Policy')
      .filter(([, r]) => (r.Properties.Roles as unknown[]).some((role) => refId(role) === roleId))
      .flatMap(([, r]) => (r.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
  const mappingOf = (queue: string) => {
    const queueUrl = renderIntrinsics(
      json.Outputs[`QueueUrl${queue[0]?.toUpperCase()}${queue.slice(1)}`].Value,
    );
    const queueId = queueUrl.replace(/^resolved-/, '');
    return (
      ofType('AWS::Lambda::EventSourceMapping').find(
        ([, r]) => getAttId(r.Properties.EventSourceArn) === queueId,
      )?.[0] ?? ''
    );
  };
  const alarm = (queue: string) =>
    ofType('AWS::CloudWatch::Alarm').find(
      ([, r]) => r.Properties.AlarmName === breakerAlarmName(stack.stackName, queue),
    )?.[1];
  const fnId = getAttId(((alarm('events')?.Properties.AlarmActions ?? []) as unknown[]).find(getAttId)) ?? '';
  return {
    outputs: json.Outputs as Record<string, { Value: unknown }>,
    resources,
    ofType,
    getAttId,
    refId,
    statementsOf,
    mappingOf,
    alarm,
    fnId,
    stackName: stack.stackName,
  };
}

const withAction = (statements: Statement[], action: string) =>
  statements.filter((s) => [s.Action].flat().includes(action));
const resourcesOf = (statements: Statement[]) =>
  statements.flatMap((s) => [s.Resource].flat().map(renderIntrinsics));

describe('the circuit breaker probe, deployed', () => {
  const t = walk(configWith(true));
  const fnRoleId = t.getAttId(t.resources[t.fnId]?.Properties.Role) ?? '';
  const fnStatements = t.statementsOf(fnRoleId);
  const config = JSON.parse(
    renderIntrinsics(
      (
        (t.resources[t.fnId]?.Properties.Environment ?? { Variables: {} }) as {
          Variables: Record<string, unknown>;
        }
      ).Variables[BREAKER_CONFIG_ENV],
    ),
  );
  // The function's configuration names the queue its CreateSchedule calls give as Target.DeadLetterConfig.Arn.
  const deadLetterQueueId = /^resolved-(.+)\.Arn$/.exec(config.scheduler.deadLetterQueueArn)?.[1] ?? '';
  const getAttIdOf = t.getAttId;

  it('tells the function the probed breaker, its timing and the scaling a close restores, the group, the role and the dead-letter queue', () => {
    expect(config.alarms[breakerAlarmName(t.stackName, 'events')]).toEqual({
      queue: 'events',
      mappingId: `resolved-${t.mappingOf('events')}`,
      probe: {
        halfOpenAfterMinutes: 10,
        windowMinutes: 3,
        scaling: { mode: 'on-demand', maximumConcurrency: 40 },
      },
    });
    // The breaker without halfOpenAfter has no probe.
    expect(config.alarms[breakerAlarmName(t.stackName, 'orders')]).toEqual({
      queue: 'orders',
      mappingId: `resolved-${t.mappingOf('orders')}`,
    });
    const [groupId, group] = t.ofType('AWS::Scheduler::ScheduleGroup')[0] ?? [];
    expect(t.ofType('AWS::Scheduler::ScheduleGroup')).toHaveLength(1);
    expect(config.scheduler.groupName).toBe(group?.Properties.Name);
    expect(groupId).toBeDefined();
    expect(config.scheduler.roleArn).toMatch(/^resolved-.*ProbeSchedulerRole.*\.Arn$/);
    expect(t.resources[deadLetterQueueId]?.Type).toBe('AWS::SQS::Queue');
  });

  it("names as its schedules' dead-letter queue a standard queue encrypted by SQS and reachable over TLS only", () => {
    const queue = t.resources[deadLetterQueueId];
    expect(queue?.Properties.FifoQueue).toBeUndefined();
    expect(queue?.Properties.SqsManagedSseEnabled).toBe(true);
    expect(queue?.Properties.KmsMasterKeyId).toBeUndefined();
    const policies = t
      .ofType('AWS::SQS::QueuePolicy')
      .filter(([, r]) => (r.Properties.Queues as unknown[]).some((q) => t.refId(q) === deadLetterQueueId));
    const statements = policies.flatMap(
      ([, r]) => (r.Properties.PolicyDocument as { Statement: Record<string, unknown>[] }).Statement,
    );
    expect(statements).toEqual([
      expect.objectContaining({
        Effect: 'Deny',
        Action: 'sqs:*',
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      }),
    ]);
  });

  it('lets the scheduler role send to that dead-letter queue and to no other queue', () => {
    const roleId = config.scheduler.roleArn.replace(/^resolved-/, '').replace(/\.Arn$/, '');
    const sends = withAction(t.statementsOf(roleId), 'sqs:SendMessage');
    expect(sends.flatMap((s) => [s.Action].flat())).toEqual(['sqs:SendMessage']);
    expect(resourcesOf(sends)).toEqual([`resolved-${deadLetterQueueId}.Arn`]);
  });

  it('alarms on that dead-letter queue to the alarm topic, which CloudWatch may publish to', () => {
    const alarms = t
      .ofType('AWS::CloudWatch::Alarm')
      .filter(([, r]) =>
        ((r.Properties.Dimensions ?? []) as { Name: string; Value: unknown }[]).some(
          (d) => d.Name === 'QueueName' && getAttIdOf(d.Value) === deadLetterQueueId,
        ),
      );
    expect(alarms).toHaveLength(1);
    const [alarmId, alarm] = alarms[0] ?? [];
    expect(alarm?.Properties.MetricName).toBe('ApproximateNumberOfMessagesVisible');
    expect(renderIntrinsics(alarm?.Properties.AlarmDescription)).toContain(
      `hookline failed list ${BREAKER_SCHEDULES}`,
    );
    const others = Object.fromEntries(
      Object.entries(t.resources).filter(([, r]) => r.Type !== 'AWS::CloudWatch::Alarm'),
    );
    expect(
      walkAlarmsToPublishGrants({ ...others, [alarmId as string]: alarm } as unknown as AlarmResources),
    ).toBe(1);
  });

  it('publishes that dead-letter queue as the output the CLI reads it by', () => {
    expect(t.outputs[STACK_OUTPUTS.breakerSchedulesDeadLetterQueueUrl]?.Value).toEqual({
      Ref: deadLetterQueueId,
    });
  });

  it('may tag the probed mapping only, and read only its breaker alarm', () => {
    for (const action of ['lambda:ListTags', 'lambda:TagResource', 'lambda:UntagResource']) {
      expect(resourcesOf(withAction(fnStatements, action))).toEqual([
        `arn:aws:lambda:resolved-AWS::Region:resolved-AWS::AccountId:event-source-mapping:resolved-${t.mappingOf('events')}`,
      ]);
    }
    expect(resourcesOf(withAction(fnStatements, 'cloudwatch:DescribeAlarms'))).toEqual([
      `arn:aws:cloudwatch:resolved-AWS::Region:resolved-AWS::AccountId:alarm:${breakerAlarmName(t.stackName, 'events')}`,
    ]);
  });

  it("creates schedules in the stack's own group only, and hands Scheduler only the probe role", () => {
    const group = t.ofType('AWS::Scheduler::ScheduleGroup')[0]?.[1].Properties.Name;
    const schedules = withAction(fnStatements, 'scheduler:CreateSchedule');
    expect(schedules.flatMap((s) => [s.Action].flat())).toEqual(['scheduler:CreateSchedule']);
    expect(resourcesOf(schedules)).toEqual([
      `arn:aws:scheduler:resolved-AWS::Region:resolved-AWS::AccountId:schedule/${group}/*`,
    ]);
    const passRole = withAction(fnStatements, 'iam:PassRole');
    expect(passRole).toHaveLength(1);
    expect(resourcesOf(passRole)).toEqual([config.scheduler.roleArn]);
    expect(passRole[0]?.Condition).toEqual({
      StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' },
    });
  });

  it("gives Scheduler a role of this account's probe group that may invoke the breaker function and nothing else", () => {
    const [groupId] = t.ofType('AWS::Scheduler::ScheduleGroup')[0] ?? [];
    const roleId = config.scheduler.roleArn.replace(/^resolved-/, '').replace(/\.Arn$/, '');
    const role = t.resources[roleId];
    expect(role?.Type).toBe('AWS::IAM::Role');
    expect(
      (role?.Properties.AssumeRolePolicyDocument as { Statement: unknown[] } | undefined)?.Statement,
    ).toEqual([
      expect.objectContaining({
        Action: 'sts:AssumeRole',
        Principal: { Service: 'scheduler.amazonaws.com' },
        Condition: {
          StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
          ArnEquals: { 'aws:SourceArn': { 'Fn::GetAtt': [groupId, 'Arn'] } },
        },
      }),
    ]);
    const statements = t.statementsOf(roleId);
    expect(statements.map((s) => s.Action).sort()).toEqual(['lambda:InvokeFunction', 'sqs:SendMessage']);
    expect(withAction(statements, 'lambda:InvokeFunction').map((s) => t.getAttId(s.Resource))).toEqual([
      t.fnId,
    ]);
    expect(role?.Properties.ManagedPolicyArns).toBeUndefined();
  });

  it('grants nothing on "*"', () => {
    expect(resourcesOf(fnStatements)).not.toContain('*');
  });

  it('says in the alarm that the breaker probes on its own, and in the other that it does not', () => {
    expect(renderIntrinsics(t.alarm('events')?.Properties.AlarmDescription)).toMatch(
      /it probes after 10 min at low concurrency/,
    );
    expect(renderIntrinsics(t.alarm('orders')?.Properties.AlarmDescription)).toMatch(
      /The breaker never resumes on its own\.$/,
    );
  });
});

describe('a circuit breaker without a probe, deployed', () => {
  it('adds no schedule group, dead-letter queue, scheduler role, tag, alarm-reading or scheduling grant', () => {
    const t = walk(configWith(false));
    expect(t.ofType('AWS::Scheduler::ScheduleGroup')).toEqual([]);
    expect(t.ofType('AWS::SQS::Queue').filter(([id]) => id.includes('CircuitBreakers'))).toEqual([]);
    expect(t.outputs[STACK_OUTPUTS.breakerSchedulesDeadLetterQueueUrl]).toBeUndefined();
    expect(
      t
        .ofType('AWS::IAM::Role')
        .filter(([, r]) =>
          JSON.stringify(r.Properties.AssumeRolePolicyDocument).includes('scheduler.amazonaws.com'),
        )
        .filter(([id]) => id.includes('CircuitBreakers')),
    ).toEqual([]);
    const actions = t
      .statementsOf(t.getAttId(t.resources[t.fnId]?.Properties.Role) ?? '')
      .flatMap((s) => [s.Action].flat());
    expect(actions.sort()).toEqual([
      'lambda:GetEventSourceMapping',
      'lambda:UpdateEventSourceMapping',
      'logs:CreateLogStream',
      'logs:PutLogEvents',
    ]);
  });
});
