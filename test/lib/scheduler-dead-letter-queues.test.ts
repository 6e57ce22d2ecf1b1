/**
 * The dead-letter queues EventBridge Scheduler fills (each configured schedule's, the one-time job schedules' one
 * and the circuit breakers' probe schedules' one), walked in the synthesized template: from each schedule to the
 * queue its DeadLetterConfig names, to the dashboard's "Dead-lettered now" tile, and to the outputs through which
 * `hookline status` and `failed` find it.
 */
import { Duration } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import exampleConfig from '../../hookline.config';
import { redriveSourceOf } from '../../lib/cli/redrive';
import { deadLetterQueueOf, otherDeadLetterQueues } from '../../lib/cli/target';
import type { ResolvedConfig } from '../../lib/config';
import {
  BREAKER_SCHEDULES,
  BREAKER_SCHEDULES_RECOVER,
  JOB_SCHEDULES,
  JOB_SCHEDULES_RESEND,
} from '../../lib/stack-outputs';
import { WebhookPipelineStack } from '../../lib/webhook-pipeline-stack';
import { type Resources, walkAlarmsToPublishGrants } from '../helpers/alarms';
import { exampleResolved, renderIntrinsics, resolveAsDeployed, testApp } from '../helpers/cdk';
import { summedSeriesOf } from '../helpers/dashboard';
import { deployedTarget, US_EAST_1 } from '../helpers/deployed-target';

type Resource = { Type: string; Properties: Record<string, unknown> };

/** What the CLI says to do with a dead-letter queue it cannot redrive, by its CLI name. */
const INSTEAD_OF_REDRIVE: Record<string, string> = {
  [JOB_SCHEDULES]: JOB_SCHEDULES_RESEND,
  [BREAKER_SCHEDULES]: BREAKER_SCHEDULES_RECOVER,
};

/**
 * The example pipeline with two schedules, delayed jobs and a circuit breaker that probes: every kind of
 * dead-letter queue there is.
 */
function everyDeadLetterQueue(): { config: ResolvedConfig; stack: WebhookPipelineStack } {
  const config = exampleResolved({
    queues: {
      ...exampleConfig.queues,
      events: {
        consumer: {
          entry: 'lambda/consumers/events.ts',
          circuitBreaker: {
            failureRatio: 0.8,
            minimumRecords: 30,
            window: Duration.minutes(3),
            halfOpenAfter: Duration.minutes(10),
          },
        },
      },
    },
    jobs: { endpoint: { queues: ['events'], delays: true } },
    schedules: [
      { name: 'heartbeat', expression: 'rate(1 hour)', queue: 'events', type: 'schedule.heartbeat' },
      { name: 'nightly-report', expression: 'cron(0 3 * * ? *)', queue: 'events', type: 'report.nightly' },
    ],
  });
  return { config, stack: new WebhookPipelineStack(testApp(), config.stackName, { config }) };
}

/** The logical id an SQS ARN or URL reference points at (`{ Fn::GetAtt: [id, 'Arn'] }` or `{ Ref: id }`). */
function queueIdOf(reference: unknown): string {
  const node = reference as { Ref?: string; 'Fn::GetAtt'?: [string, string] };
  const id = node.Ref ?? node['Fn::GetAtt']?.[0];
  if (!id) throw new Error(`not a queue reference: ${JSON.stringify(reference)}`);
  return id;
}

/**
 * Every dead-letter queue of the pipeline, by logical id: those a queue's redrive policy or a schedule's
 * DeadLetterConfig names, the one-time job schedules' one (named by the producers' requests, not the template) and
 * the breaker's probe schedules' one (named by the breaker function's configuration).
 */
function deadLetterQueueIds(stack: WebhookPipelineStack, resources: Record<string, Resource>): string[] {
  const byRedrivePolicy = Object.values(resources).flatMap((r) =>
    r.Type === 'AWS::SQS::Queue' && r.Properties.RedrivePolicy
      ? [queueIdOf((r.Properties.RedrivePolicy as { deadLetterTargetArn: unknown }).deadLetterTargetArn)]
      : [],
  );
  const bySchedule = Object.values(resources).flatMap((r) =>
    r.Type === 'AWS::Scheduler::Schedule'
      ? [queueIdOf((r.Properties.Target as { DeadLetterConfig: { Arn: unknown } }).DeadLetterConfig.Arn)]
      : [],
  );
  expect(bySchedule).toHaveLength(2);
  const jobSchedules = stack.getLogicalId(
    stack.jobProducers?.schedulerDeadLetterQueue?.node.defaultChild as never,
  );
  const breakerSchedules = stack.getLogicalId(
    stack.pipeline.circuitBreakers?.scheduleDeadLetterQueue?.node.defaultChild as never,
  );
  return [...new Set([...byRedrivePolicy, ...bySchedule, jobSchedules, breakerSchedules])].sort();
}

describe('the dead-letter queues EventBridge Scheduler fills', () => {
  it('are each counted once on the "Dead-lettered now" tile, with every queue\'s own', {
    timeout: 90_000,
  }, () => {
    const { stack } = everyDeadLetterQueue();
    const resources = Template.fromStack(stack).toJSON().Resources as Record<string, Resource>;
    const expected = deadLetterQueueIds(stack, resources);
    expect(expected).toHaveLength(6);

    const dashboard = Object.values(resources).find((r) => r.Type === 'AWS::CloudWatch::Dashboard');
    const body = JSON.parse(renderIntrinsics(dashboard?.Properties.DashboardBody)) as {
      widgets: { properties: { title?: string; metrics?: unknown[][] } }[];
    };
    const tiles = body.widgets.filter((w) => w.properties.title === 'Dead-lettered now');
    expect(tiles).toHaveLength(1);
    const counted = summedSeriesOf(tiles[0]?.properties.metrics ?? []).map((series) => {
      const queues = series.terms.map((t) =>
        t.dimension.replace(/^resolved-/, '').replace(/\.QueueName$/, ''),
      );
      // Visible and in flight, both of one queue: what it holds while an operator reads it.
      expect(series.terms.map((t) => t.metric)).toEqual([
        'ApproximateNumberOfMessagesVisible',
        'ApproximateNumberOfMessagesNotVisible',
      ]);
      expect(new Set(queues).size).toBe(1);
      return queues[0];
    });
    expect([...counted].sort()).toEqual(expected);
  });

  it("publish each schedule's dead-letter queue, which the CLI finds under schedule:<name>", {
    timeout: 90_000,
  }, async () => {
    const { config, stack } = everyDeadLetterQueue();
    const template = Template.fromStack(stack).toJSON();
    const resources = template.Resources as Record<string, Resource>;
    const scheduleDeadLetterQueue = (name: string) => {
      const schedule = Object.values(resources).find(
        (r) =>
          r.Type === 'AWS::Scheduler::Schedule' &&
          String(r.Properties.Description).startsWith(`hookline schedule ${name}:`),
      );
      if (!schedule) throw new Error(`no schedule ${name} in the template`);
      return queueIdOf(
        (schedule.Properties.Target as { DeadLetterConfig: { Arn: unknown } }).DeadLetterConfig.Arn,
      );
    };
    const target = await deployedTarget(template, stack.stackName, config);
    const deployed = (value: unknown) => resolveAsDeployed(value, template, stack.stackName, US_EAST_1);
    const schedules = otherDeadLetterQueues(target).filter((d) => d.name.startsWith('schedule:'));
    expect(schedules).toEqual(
      ['heartbeat', 'nightly-report'].map((name) => {
        const id = scheduleDeadLetterQueue(name);
        return expect.objectContaining({
          name: `schedule:${name}`,
          deadLetterUrl: deployed({ Ref: id }),
          deadLetterArn: deployed({ 'Fn::GetAtt': [id, 'Arn'] }),
          redriveTo: 'events',
        });
      }),
    );
    expect(target.kind === 'stack' && target.schedulesMissingOutputs).toBeFalsy();
  });

  it("publish the circuit breakers' probe schedules' dead-letter queue, which the CLI finds under breaker_schedules", {
    timeout: 90_000,
  }, async () => {
    const { config, stack } = everyDeadLetterQueue();
    const template = Template.fromStack(stack).toJSON();
    const id = stack.getLogicalId(
      stack.pipeline.circuitBreakers?.scheduleDeadLetterQueue?.node.defaultChild as never,
    );
    const target = await deployedTarget(template, stack.stackName, config);
    const deployed = (value: unknown) => resolveAsDeployed(value, template, stack.stackName, US_EAST_1);
    expect(deadLetterQueueOf(target, BREAKER_SCHEDULES)).toEqual({
      name: BREAKER_SCHEDULES,
      deadLetterUrl: deployed({ Ref: id }),
      deadLetterArn: deployed({ 'Fn::GetAtt': [id, 'Arn'] }),
      holds: 'circuit breaker probes and closes Scheduler could not deliver',
    });
    expect(() => redriveSourceOf(target, BREAKER_SCHEDULES)).toThrow(
      `the ${BREAKER_SCHEDULES} dead-letter queue cannot be redriven`,
    );
  });

  it('are each watched by one alarm, which names the queue as the CLI reads it and says what the CLI can do', {
    timeout: 90_000,
  }, async () => {
    const { config, stack } = everyDeadLetterQueue();
    const template = Template.fromStack(stack).toJSON();
    const resources = template.Resources as Record<string, Resource>;
    const target = await deployedTarget(template, stack.stackName, config);
    const deployed = (value: unknown) => resolveAsDeployed(value, template, stack.stackName, US_EAST_1);
    const alarms = Object.entries(resources).filter(
      ([, r]) =>
        r.Type === 'AWS::CloudWatch::Alarm' &&
        r.Properties.MetricName === 'ApproximateNumberOfMessagesVisible',
    );
    const watchedBy = new Map<string, string[]>();
    for (const [alarmId, alarm] of alarms) {
      const dimensions = alarm.Properties.Dimensions as { Name: string; Value: unknown }[];
      const queueId = queueIdOf(dimensions.find((d) => d.Name === 'QueueName')?.Value);
      watchedBy.set(queueId, [...(watchedBy.get(queueId) ?? []), alarmId]);
      // The operator paged by this alarm types the name it gives: the CLI must read this very queue under it.
      const description = deployed(alarm.Properties.AlarmDescription);
      const cliTarget = ` --stack ${stack.stackName} --region ${US_EAST_1.region}`;
      const name = new RegExp(`\`hookline failed list (\\S+)${cliTarget}\``).exec(description)?.[1];
      expect(name, `${alarmId}: ${description}`).toBeDefined();
      expect(deadLetterQueueOf(target, name as string).deadLetterUrl, alarmId).toBe(
        deployed({ Ref: queueId }),
      );
      // It offers a redrive exactly where the CLI makes one.
      const redrivable = (() => {
        try {
          redriveSourceOf(target, name as string);
          return true;
        } catch {
          return false;
        }
      })();
      expect(
        description.includes(`\`hookline redrive ${name}${cliTarget}\``),
        `${alarmId}: ${description}`,
      ).toBe(redrivable);
      // Where no redrive exists, it says what to do instead, as the CLI says it.
      if (!redrivable) expect(description, alarmId).toContain(INSTEAD_OF_REDRIVE[name as string]);
    }
    const expected = deadLetterQueueIds(stack, resources);
    expect([...watchedBy.keys()].sort()).toEqual(expected);
    for (const [queueId, alarmIds] of watchedBy) expect(alarmIds, queueId).toHaveLength(1);
    // And each notifies a topic that CloudWatch may publish to (the breaker's own alarms invoke its function too).
    const deadLetterAlarms = {
      ...Object.fromEntries(Object.entries(resources).filter(([, r]) => r.Type !== 'AWS::CloudWatch::Alarm')),
      ...Object.fromEntries(alarms),
    };
    expect(walkAlarmsToPublishGrants(deadLetterAlarms as Resources)).toBe(alarms.length);
  });
});
