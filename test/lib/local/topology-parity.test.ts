import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { Duration, Stack } from 'aws-cdk-lib';
import type { CfnQueue } from 'aws-cdk-lib/aws-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import exampleConfig from '../../../hookline.config';
import { type ResolvedConfig, resolveConfig } from '../../../lib/config';
import { localSqsClient } from '../../../lib/local/clients';
import { type Emulators, startEmulators } from '../../../lib/local/emulators';
import { createTopology, type LocalTopology } from '../../../lib/local/topology';
import { pipelineTemplate } from '../../helpers/cdk';

/** The settings both sides must agree on, in SQS attribute spelling (CloudFormation defaults filled in). */
interface QueueSettings {
  VisibilityTimeout: string;
  MessageRetentionPeriod: string;
  FifoQueue: string;
  ContentBasedDeduplication: string;
  SqsManagedSseEnabled: string;
  maxReceiveCount?: number;
}

function fromTemplate(properties: Record<string, unknown>): QueueSettings {
  const redrive = properties.RedrivePolicy as { maxReceiveCount?: number } | undefined;
  return {
    VisibilityTimeout: String(properties.VisibilityTimeout ?? 30),
    MessageRetentionPeriod: String(properties.MessageRetentionPeriod ?? 345_600),
    FifoQueue: String(properties.FifoQueue ?? false),
    ContentBasedDeduplication: String(properties.ContentBasedDeduplication ?? false),
    SqsManagedSseEnabled: String(properties.SqsManagedSseEnabled ?? true),
    ...(redrive ? { maxReceiveCount: redrive.maxReceiveCount } : {}),
  };
}

async function fromEmulator(
  sqs: SQSClient,
  url: string,
): Promise<QueueSettings & { deadLetterTargetArn?: string }> {
  const { Attributes: a = {} } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['All'] }),
  );
  const redrive = a.RedrivePolicy
    ? (JSON.parse(a.RedrivePolicy) as { maxReceiveCount: number | string; deadLetterTargetArn: string })
    : undefined;
  return {
    VisibilityTimeout: a.VisibilityTimeout ?? '30',
    MessageRetentionPeriod: a.MessageRetentionPeriod ?? '345600',
    FifoQueue: a.FifoQueue ?? 'false',
    ContentBasedDeduplication: a.ContentBasedDeduplication ?? 'false',
    SqsManagedSseEnabled: a.SqsManagedSseEnabled ?? 'false',
    ...(redrive
      ? { maxReceiveCount: Number(redrive.maxReceiveCount), deadLetterTargetArn: redrive.deadLetterTargetArn }
      : {}),
  };
}

const variants: Record<string, ResolvedConfig> = {
  'hookline.config.ts': resolveConfig(exampleConfig),
  'non-default settings': resolveConfig({
    ...exampleConfig,
    stackName: 'Parity',
    queues: {
      jobs: {
        maxReceiveCount: 3,
        retentionPeriod: Duration.hours(6),
        deadLetterRetentionPeriod: Duration.days(10),
        consumer: {
          entry: 'lambda/consumers/events.ts',
          timeout: Duration.seconds(5),
          maxBatchingWindow: Duration.seconds(2),
        },
      },
      ledger: {
        fifo: true,
        contentBasedDeduplication: true,
        maxReceiveCount: 7,
        visibilityTimeout: Duration.minutes(10),
        consumer: { entry: 'lambda/consumers/orders.ts', timeout: Duration.seconds(20) },
      },
      archive: {},
    },
    routes: [],
    defaultRoute: { queues: ['jobs'] },
    schedules: [],
  }),
};

describe.each(Object.entries(variants))('local topology matches the synthesized stack (%s)', (_, config) => {
  let emulators: Emulators;
  let sqs: SQSClient;
  let topology: LocalTopology;
  let template: ReturnType<typeof pipelineTemplate>;

  beforeAll(async () => {
    emulators = await startEmulators();
    sqs = localSqsClient(emulators);
    topology = await createTopology(config, emulators);
    template = pipelineTemplate(config);
  });
  afterAll(async () => {
    sqs?.destroy();
    await emulators?.stop();
  });

  const resource = (queue: CfnQueue) => {
    const resources = template.template.toJSON().Resources as Record<
      string,
      { Properties?: Record<string, unknown> }
    >;
    const found = resources[Stack.of(queue).getLogicalId(queue)];
    if (!found) throw new Error('queue resource not in the template');
    return found.Properties ?? {};
  };

  it('has every configured queue on both sides', () => {
    expect(Object.keys(topology.queues).sort()).toEqual(config.queues.map((q) => q.name).sort());
    expect(Object.keys(template.stack.queues).sort()).toEqual(config.queues.map((q) => q.name).sort());
  });

  it.each(config.queues.map((q) => q.name))(
    'queue %s: same visibility, retention, redrive, FIFO and SSE',
    async (name) => {
      const local = topology.queues[name];
      const cdk = template.stack.queues[name];
      if (!local || !cdk) throw new Error(`queue ${name} missing`);
      const templateQueue = resource(cdk.queue.node.defaultChild as CfnQueue);
      const { deadLetterTargetArn, ...localQueue } = await fromEmulator(sqs, local.url);
      expect(localQueue).toEqual(fromTemplate(templateQueue));
      // The redrive policy points at this queue's own dead-letter queue on both sides.
      expect(deadLetterTargetArn).toBe(local.deadLetterArn);
      const dlqLogicalId = Stack.of(cdk.deadLetterQueue).getLogicalId(
        cdk.deadLetterQueue.node.defaultChild as CfnQueue,
      );
      expect(JSON.stringify(templateQueue.RedrivePolicy)).toContain(dlqLogicalId);
    },
  );

  it.each(config.queues.map((q) => q.name))(
    'dead-letter queue of %s: same retention, FIFO and SSE',
    async (name) => {
      const local = topology.queues[name];
      const cdk = template.stack.queues[name];
      if (!local || !cdk) throw new Error(`queue ${name} missing`);
      const { deadLetterTargetArn, ...localDlq } = await fromEmulator(sqs, local.deadLetterUrl);
      expect(deadLetterTargetArn).toBeUndefined();
      expect(localDlq).toEqual(fromTemplate(resource(cdk.deadLetterQueue.node.defaultChild as CfnQueue)));
    },
  );
});
