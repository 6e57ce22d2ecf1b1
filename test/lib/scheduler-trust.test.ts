/**
 * Every role EventBridge Scheduler assumes for hookline is trusted for the schedule group its schedules are in, and
 * no other: walked in the synthesized template from each schedule, and from each function that creates schedules
 * (a job producer, the circuit breaker) to the group its CreateSchedule calls name and the role they pass, to that
 * role's trust policy. AWS scopes `aws:SourceArn` for Scheduler to a schedule group's ARN.
 */
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { describe, expect, it } from 'vitest';
import { BREAKER_CONFIG_ENV } from '../../lambda/shared/circuit-breaker';
import { PRODUCER_CONFIG_ENV, PRODUCER_QUEUES_ENV } from '../../lambda/shared/producer-config';
import { resolveConfig } from '../../lib/config';
import { PipelineSchedules } from '../../lib/pipeline-schedules';
import { WebhookPipelineStack } from '../../lib/webhook-pipeline-stack';
import { renderIntrinsics, testApp } from '../helpers/cdk';
import { maximalConfig } from '../helpers/maximal-config';

type Resource = { Type: string; Properties: Record<string, unknown> };
type Resources = Record<string, Resource>;
type Statement = {
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, Record<string, unknown>>;
};

/** The ARN of the group Scheduler puts a schedule without a group in, as a deploy renders it. */
const DEFAULT_GROUP_ARN =
  'arn:aws:scheduler:resolved-AWS::Region:resolved-AWS::AccountId:schedule-group/default';

const refId = (value: unknown) => (value as { Ref?: string } | undefined)?.Ref;
const getAttId = (value: unknown) =>
  (value as { 'Fn::GetAtt'?: [string, string] } | undefined)?.['Fn::GetAtt']?.[0];

/**
 * The ARN of the group a schedule's `GroupName` (or a function's group name) names: a group of the template, by its
 * name or its name's Ref, or `default` when there is none.
 */
function groupArnOf(resources: Resources, groupName: unknown): string {
  if (groupName === undefined) return DEFAULT_GROUP_ARN;
  const [id] =
    Object.entries(resources).find(
      ([id, r]) =>
        r.Type === 'AWS::Scheduler::ScheduleGroup' &&
        (refId(groupName) === id || r.Properties.Name === groupName),
    ) ?? [];
  expect(id, `no schedule group ${JSON.stringify(groupName)} in the template`).toBeDefined();
  return `resolved-${id}.Arn`;
}

/** The one statement of a role's trust policy: Scheduler's, with the source ARN it is trusted for rendered. */
function trustOf(resources: Resources, roleId: string): { sourceArn: string; sourceAccount: unknown } {
  const role = resources[roleId];
  expect(role?.Type, roleId).toBe('AWS::IAM::Role');
  const document = role?.Properties.AssumeRolePolicyDocument as { Statement: Statement[] } | undefined;
  const statements = document?.Statement ?? [];
  expect(statements, roleId).toEqual([
    expect.objectContaining({ Action: 'sts:AssumeRole', Principal: { Service: 'scheduler.amazonaws.com' } }),
  ]);
  const condition = statements[0]?.Condition ?? {};
  expect(Object.keys(condition).sort(), roleId).toEqual(['ArnEquals', 'StringEquals']);
  return {
    sourceArn: renderIntrinsics(condition.ArnEquals?.['aws:SourceArn']),
    sourceAccount: condition.StringEquals?.['aws:SourceAccount'],
  };
}

function environmentOf(resources: Resources, fnId: string): Record<string, unknown> {
  return (
    (resources[fnId]?.Properties.Environment ?? { Variables: {} }) as { Variables: Record<string, unknown> }
  ).Variables;
}

/** The maximal pipeline, with the jobs endpoint allowed delays: every kind of Scheduler role there is. */
function maximal(): Resources {
  const config = resolveConfig(maximalConfig({ jobs: { endpoint: { queues: ['jobs'], delays: true } } }));
  const stack = new WebhookPipelineStack(testApp(), config.stackName, { config });
  return Template.fromStack(stack).toJSON().Resources as Resources;
}

describe("the roles EventBridge Scheduler assumes for hookline's schedules", () => {
  const resources = maximal();
  const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
  const functionsWith = (variable: string) =>
    ofType('AWS::Lambda::Function').filter(([id]) => environmentOf(resources, id)[variable]);

  /** Each configured schedule's role, checked against the schedule's group; the roles walked. */
  function walkSchedules(): string[] {
    const schedules = ofType('AWS::Scheduler::Schedule');
    expect(schedules).toHaveLength(2);
    return schedules.map(([id, schedule]) => {
      const roleId = getAttId((schedule.Properties.Target as { RoleArn: unknown }).RoleArn) ?? '';
      const trust = trustOf(resources, roleId);
      expect(trust.sourceArn, id).toBe(groupArnOf(resources, schedule.Properties.GroupName));
      expect(trust.sourceAccount, id).toEqual({ Ref: 'AWS::AccountId' });
      return roleId;
    });
  }

  /** Each job producer's scheduler roles, checked against the group its CreateSchedule calls use; the roles walked. */
  function walkProducers(): string[] {
    const producers = functionsWith(PRODUCER_QUEUES_ENV);
    expect(producers).toHaveLength(1);
    return producers.flatMap(([fnId]) => {
      const env = environmentOf(resources, fnId);
      const settings = JSON.parse(renderIntrinsics(env[PRODUCER_CONFIG_ENV]));
      // No group in the settings: the producer's CreateSchedule names none, so Scheduler uses `default`.
      const group = groupArnOf(resources, settings.scheduler.groupName);
      const { queues } = JSON.parse(renderIntrinsics(env[PRODUCER_QUEUES_ENV])) as {
        queues: Record<string, { role?: string }>;
      };
      const roleIds = Object.values(queues).flatMap((q) =>
        q.role ? [q.role.replace(/^resolved-/, '')] : [],
      );
      expect(roleIds).toHaveLength(1);
      for (const roleId of roleIds) expect(trustOf(resources, roleId).sourceArn, roleId).toBe(group);
      return roleIds;
    });
  }

  /** The breaker's probe role, checked against the group its CreateSchedule calls name; the roles walked. */
  function walkBreaker(): string[] {
    const breakers = functionsWith(BREAKER_CONFIG_ENV);
    expect(breakers).toHaveLength(1);
    return breakers.map(([fnId]) => {
      const config = JSON.parse(renderIntrinsics(environmentOf(resources, fnId)[BREAKER_CONFIG_ENV]));
      const roleId = String(config.scheduler.roleArn)
        .replace(/^resolved-/, '')
        .replace(/\.Arn$/, '');
      expect(trustOf(resources, roleId).sourceArn).toBe(groupArnOf(resources, config.scheduler.groupName));
      return roleId;
    });
  }

  it("trust each configured schedule's role for that schedule's group, in this account only", () => {
    walkSchedules();
  });

  it("trust a job producer's scheduler role for the default group, where its CreateSchedule calls put schedules", () => {
    expect(walkProducers().map((roleId) => trustOf(resources, roleId).sourceArn)).toEqual([
      DEFAULT_GROUP_ARN,
    ]);
  });

  it("trust the circuit breaker's probe role for the probe group its CreateSchedule calls name", () => {
    expect(walkBreaker().map((roleId) => trustOf(resources, roleId).sourceArn)).toEqual([
      expect.stringMatching(/^resolved-CircuitBreakersProbeSchedules.*\.Arn$/),
    ]);
  });

  it('leave no Scheduler role unwalked: each is trusted for the group of the schedules that name it', () => {
    const schedulerRoles = ofType('AWS::IAM::Role')
      .filter(([, r]) =>
        JSON.stringify(r.Properties.AssumeRolePolicyDocument).includes('scheduler.amazonaws.com'),
      )
      .map(([id]) => id);
    expect(schedulerRoles.sort()).toEqual([...walkSchedules(), ...walkProducers(), ...walkBreaker()].sort());
  });
});

describe('PipelineSchedules in a schedule group of its own', () => {
  it("trusts each schedule's role for that group, not the default one", () => {
    const stack = new Stack(new App(), 'Schedules', {
      env: { account: '123456789012', region: 'us-east-1' },
    });
    const group = new scheduler.ScheduleGroup(stack, 'Group', { scheduleGroupName: 'nightly-jobs' });
    new PipelineSchedules(stack, 'Schedules', {
      schedules: resolveConfig(
        maximalConfig({
          schedules: [
            { name: 'heartbeat', expression: 'rate(1 hour)', queue: 'events', type: 'schedule.heartbeat' },
          ],
        }),
      ).schedules,
      queues: { events: new sqs.Queue(stack, 'Events') },
      scheduleGroup: group,
      deadLetterRetentionPeriod: Duration.days(14),
    });
    const resources = Template.fromStack(stack).toJSON().Resources as Resources;
    const schedules = Object.values(resources).filter((r) => r.Type === 'AWS::Scheduler::Schedule');
    expect(schedules).toHaveLength(1);
    for (const schedule of schedules) {
      const roleId = getAttId((schedule.Properties.Target as { RoleArn: unknown }).RoleArn) ?? '';
      const expected = groupArnOf(resources, schedule.Properties.GroupName);
      expect(expected).not.toBe(DEFAULT_GROUP_ARN);
      expect(trustOf(resources, roleId).sourceArn).toBe(expected);
    }
  });
});
