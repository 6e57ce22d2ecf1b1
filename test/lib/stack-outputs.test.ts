/**
 * The outputs through which the CLI finds a deployed pipeline, walked in the synthesized template: only what no
 * other output derives is declared, and the ARN the CLI derives for each queue is the one CloudFormation gives it,
 * as the ARN outputs of a stack deployed by an earlier version said.
 */
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { otherDeadLetterQueues } from '../../lib/cli/target';
import type { ResolvedConfig } from '../../lib/config';
import { WebhookPipelineStack } from '../../lib/webhook-pipeline-stack';
import { type DeployedAt, exampleResolved, resolveAsDeployed, testApp } from '../helpers/cdk';
import { deployedTarget, US_EAST_1 } from '../helpers/deployed-target';

type Outputs = Record<string, { Value: unknown }>;
type Resources = Record<string, { Type: string }>;

/** The example pipeline with a schedule and delayed jobs: every kind of queue the CLI reads. */
function everyQueue(): {
  config: ResolvedConfig;
  stack: WebhookPipelineStack;
  template: ReturnType<Template['toJSON']>;
  stackName: string;
} {
  const config = exampleResolved({
    jobs: { endpoint: { queues: ['events'], delays: true } },
    schedules: [
      { name: 'nightly', expression: 'cron(0 3 * * ? *)', queue: 'events', type: 'report.nightly' },
    ],
  });
  const stack = new WebhookPipelineStack(testApp(), config.stackName, { config });
  return { config, stack, template: Template.fromStack(stack).toJSON(), stackName: stack.stackName };
}

const { config, stack, template, stackName } = everyQueue();
const outputs = template.Outputs as Outputs;
const resources = template.Resources as Resources;

/** The queue a URL output names (`{ Ref: <queue> }`), by output key. */
const queueUrlOutputs = Object.entries(outputs).flatMap(([key, o]) => {
  const id = (o.Value as { Ref?: string }).Ref;
  return id && resources[id]?.Type === 'AWS::SQS::Queue' ? [{ key, id }] : [];
});

/** Every queue the CLI reads, with its URL and ARN, by the CLI's name. */
function queuesRead(target: Awaited<ReturnType<typeof deployedTarget>>) {
  return [
    ...Object.values(target.queues).flatMap((q) => [
      { url: q.url, arn: q.arn },
      { url: q.deadLetterUrl, arn: q.deadLetterArn },
    ]),
    ...otherDeadLetterQueues(target).map((d) => ({ url: d.deadLetterUrl, arn: d.deadLetterArn })),
  ];
}

describe('the outputs the CLI finds a deployed pipeline through', () => {
  it("declare no queue's ARN, which its URL output derives", () => {
    const arnOutputs = Object.entries(outputs).filter(([, o]) => {
      const [id, attribute] = (o.Value as { 'Fn::GetAtt'?: string[] })['Fn::GetAtt'] ?? [];
      return id !== undefined && resources[id]?.Type === 'AWS::SQS::Queue' && attribute === 'Arn';
    });
    expect(arnOutputs.map(([key]) => key)).toEqual([]);
    // Two queues, their dead-letter queues, the schedule's and the job schedules' one.
    expect(queueUrlOutputs).toHaveLength(6);
  });

  it.each<DeployedAt>([
    { partition: 'aws', region: 'eu-west-1', account: '123456789012', urlSuffix: 'amazonaws.com' },
    { partition: 'aws-cn', region: 'cn-north-1', account: '123456789012', urlSuffix: 'amazonaws.com.cn' },
  ])(
    "lead the CLI to each queue's ARN as CloudFormation gives it ($partition)",
    { timeout: 60_000 },
    async (at) => {
      const deployed = (value: unknown) => resolveAsDeployed(value, template, stackName, at);
      const target = await deployedTarget(template, stackName, config, at);
      const read = queuesRead(target);
      expect(read).toHaveLength(queueUrlOutputs.length);
      for (const { key, id } of queueUrlOutputs) {
        const url = deployed({ Ref: id });
        expect(
          read.find((q) => q.url === url),
          key,
        ).toEqual({
          url,
          arn: deployed({ 'Fn::GetAtt': [id, 'Arn'] }),
        });
      }
      expect(target.queuesMissingOutputs).toEqual([]);
      expect(target.schedulesMissingOutputs).toBeUndefined();
    },
  );

  it("lead the CLI to each consumer's function, event source mapping and log group, the ingest's, the jobs endpoint's log group, the archive bucket and the job records' table", {
    timeout: 60_000,
  }, async () => {
    const deployed = (value: unknown) =>
      resolveAsDeployed(stack.resolve(value), template, stackName, US_EAST_1);
    const target = await deployedTarget(template, stackName, config);
    const names = Object.keys(stack.consumers);
    expect(names.length).toBeGreaterThan(1);
    for (const name of names) {
      const consumer = stack.consumers[name];
      expect(target.queues[name], name).toMatchObject({
        consumerFunctionName: deployed(consumer?.consumerFunction.functionName),
        eventSourceMappingId: deployed(consumer?.eventSourceMappingId),
      });
      expect(target.logGroups?.consumers[name], name).toBe(
        deployed(consumer?.consumerFunction.logGroup.logGroupName),
      );
    }
    expect(target.ingestFunctionName).toBe(deployed(stack.ingest.ingestFunction.functionName));
    expect(target.logGroups?.ingest).toBe(deployed(stack.ingest.ingestFunction.logGroup.logGroupName));
    expect(target.logGroups?.jobsEndpoint).toBe(
      deployed(stack.pipeline.jobsEndpoint?.jobsFunction.logGroup.logGroupName),
    );
    expect(target.archiveBucket).toBe(deployed(stack.pipeline.archive?.bucket.bucketName));
    // `hookline jobs` reads job records from the table this output names: the dedupe table, not the idempotency one.
    expect(deployed(outputs.DedupeTableName?.Value)).toBe(deployed(stack.dedupeTable?.tableName));
  });

  it('lead the CLI of a stack an earlier version deployed to the ARNs its outputs give', {
    timeout: 60_000,
  }, async () => {
    // The earlier version's ARN outputs, each to a stand-in the CLI could not have derived.
    const former = (name: string) => `arn:aws:sqs:us-east-1:123456789012:from-output-${name}`;
    const extra = {
      QueueArnEvents: former('events'),
      DeadLetterQueueArnEvents: former('events-dlq'),
      ScheduleDeadLetterQueueArnNightly: former('nightly'),
      JobSchedulesDeadLetterQueueArn: former('job-schedules'),
    };
    const target = await deployedTarget(template, stackName, config, undefined, extra);
    expect(target.queues.events).toMatchObject({
      arn: former('events'),
      deadLetterArn: former('events-dlq'),
    });
    expect(otherDeadLetterQueues(target).map((d) => d.deadLetterArn)).toEqual([
      former('job-schedules'),
      former('nightly'),
    ]);
    // A queue without them in that stack is derived as in a stack of this version.
    expect(target.queues.orders?.arn).toMatch(/^arn:aws:sqs:us-east-1:123456789012:.*\.fifo$/);
  });
});
