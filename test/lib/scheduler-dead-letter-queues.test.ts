/**
 * The dead-letter queues EventBridge Scheduler fills (each configured schedule's, and the one-time job schedules'
 * one), walked in the synthesized template: from each schedule to the queue its DeadLetterConfig names, to the
 * dashboard's "Dead-lettered now" tile, and to the outputs through which `hookline status` and `failed` find it.
 */
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { redriveSourceOf } from '../../lib/cli/redrive';
import { deadLetterQueueOf, otherDeadLetterQueues } from '../../lib/cli/target';
import type { ResolvedConfig } from '../../lib/config';
import { JOB_SCHEDULES_RESEND } from '../../lib/stack-outputs';
import { WebhookPipelineStack } from '../../lib/webhook-pipeline-stack';
import { type Resources, walkAlarmsToPublishGrants } from '../helpers/alarms';
import { exampleResolved, renderIntrinsics, resolveAsDeployed, testApp } from '../helpers/cdk';
import { summedSeriesOf } from '../helpers/dashboard';
import { deployedTarget, US_EAST_1 } from '../helpers/deployed-target';

type Resource = { Type: string; Properties: Record<string, unknown> };

/** The example pipeline with two schedules and delayed jobs: every kind of dead-letter queue there is. */
function everyDeadLetterQueue(): { config: ResolvedConfig; stack: WebhookPipelineStack } {
  const config = exampleResolved({
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
 * DeadLetterConfig names, and the one-time job schedules' one (named by the producers' requests, not the template).
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
  return [...new Set([...byRedrivePolicy, ...bySchedule, jobSchedules])].sort();
}

describe('the dead-letter queues EventBridge Scheduler fills', () => {
  it('are each counted once on the "Dead-lettered now" tile, with every queue\'s own', {
    timeout: 90_000,
  }, () => {
    const { stack } = everyDeadLetterQueue();
    const resources = Template.fromStack(stack).toJSON().Resources as Record<string, Resource>;
    const expected = deadLetterQueueIds(stack, resources);
    expect(expected).toHaveLength(5);

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
      // Where no redrive exists, it says how to send the jobs again: under a new id, as the CLI says.
      if (!redrivable) expect(description, alarmId).toContain(JOB_SCHEDULES_RESEND);
    }
    const expected = deadLetterQueueIds(stack, resources);
    expect([...watchedBy.keys()].sort()).toEqual(expected);
    for (const [queueId, alarmIds] of watchedBy) expect(alarmIds, queueId).toHaveLength(1);
    // And each notifies a topic that CloudWatch may publish to.
    expect(walkAlarmsToPublishGrants(resources as Resources)).toBeGreaterThanOrEqual(expected.length);
  });
});
