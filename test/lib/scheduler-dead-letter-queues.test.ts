/**
 * The dead-letter queues EventBridge Scheduler fills (each configured schedule's, and the one-time job schedules'
 * one), walked in the synthesized template: from each schedule to the queue its DeadLetterConfig names, to the
 * dashboard's "Dead-lettered now" tile, and to the outputs through which `hookline status` and `failed` find it.
 */
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { Template } from 'aws-cdk-lib/assertions';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { describeStackTarget, otherDeadLetterQueues } from '../../lib/cli/target';
import type { ResolvedConfig } from '../../lib/config';
import { WebhookPipelineStack } from '../../lib/webhook-pipeline-stack';
import { exampleResolved, renderIntrinsics, testApp } from '../helpers/cdk';

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

describe('the dead-letter queues EventBridge Scheduler fills', () => {
  it('are each counted once on the "Dead-lettered now" tile, with every queue\'s own', {
    timeout: 90_000,
  }, () => {
    const { stack } = everyDeadLetterQueue();
    const resources = Template.fromStack(stack).toJSON().Resources as Record<string, Resource>;
    // Every dead-letter queue of the template: named by a queue's redrive policy or a schedule's DeadLetterConfig.
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
    // The one-time job schedules' one is named by the requests the producers make, not by the template.
    const jobSchedules = stack.getLogicalId(
      stack.jobProducers?.schedulerDeadLetterQueue?.node.defaultChild as never,
    );
    const expected = [...new Set([...byRedrivePolicy, ...bySchedule, jobSchedules])].sort();

    const dashboard = Object.values(resources).find((r) => r.Type === 'AWS::CloudWatch::Dashboard');
    const body = JSON.parse(renderIntrinsics(dashboard?.Properties.DashboardBody)) as {
      widgets: { properties: { title?: string; metrics?: unknown[][] } }[];
    };
    const tiles = body.widgets.filter((w) => w.properties.title === 'Dead-lettered now');
    expect(tiles).toHaveLength(1);
    const counted = (tiles[0]?.properties.metrics ?? []).map((m) => {
      expect(m.slice(0, 3)).toEqual(['AWS/SQS', 'ApproximateNumberOfMessagesVisible', 'QueueName']);
      return String(m[3])
        .replace(/^resolved-/, '')
        .replace(/\.QueueName$/, '');
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
    const outputs = template.Outputs as Record<string, { Value: unknown }>;
    const cloudformation = mockClient(CloudFormationClient);
    cloudformation.on(DescribeStacksCommand).resolves({
      Stacks: [
        {
          StackName: stack.stackName,
          CreationTime: new Date(),
          StackStatus: 'CREATE_COMPLETE',
          Outputs: Object.entries(outputs).map(([key, output]) => ({
            OutputKey: key,
            OutputValue: renderIntrinsics(output.Value),
          })),
        },
      ],
    });
    try {
      const target = await describeStackTarget(
        new CloudFormationClient({
          region: 'us-east-1',
          credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
        }),
        stack.stackName,
        'us-east-1',
        config,
      );
      const schedules = otherDeadLetterQueues(target).filter((d) => d.name.startsWith('schedule:'));
      expect(schedules).toEqual(
        ['heartbeat', 'nightly-report'].map((name) => {
          const id = scheduleDeadLetterQueue(name);
          return expect.objectContaining({
            name: `schedule:${name}`,
            deadLetterUrl: `resolved-${id}`,
            deadLetterArn: `resolved-${id}.Arn`,
            redriveTo: 'events',
          });
        }),
      );
      expect(target.kind === 'stack' && target.schedulesMissingOutputs).toBeFalsy();
    } finally {
      cloudformation.restore();
    }
  });
});
