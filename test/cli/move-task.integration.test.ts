/**
 * The move-task path of `redrive` against a real SQS-compatible server that implements StartMessageMoveTask
 * and ListMessageMoveTasks (local-aws-sqs; the local-mode emulator fauxqs 2.4.1 does not have them).
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { createSqsServer } from 'local-aws-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../lib/cli/backend';
import { redrive } from '../../lib/cli/redrive';
import type { StackTarget } from '../../lib/cli/target';
import { recordingOutput, testBackend } from './helpers';

let server: Server;
let sqs: SQSClient;

beforeAll(async () => {
  server = await createSqsServer({ port: 0, hostname: '127.0.0.1', emulateQueueCreationLifecycle: false });
  const { port } = server.address() as AddressInfo;
  sqs = new SQSClient({
    region: 'us-east-1',
    endpoint: `http://127.0.0.1:${port}`,
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
  });
});
afterAll(async () => {
  sqs?.destroy();
  await new Promise((done) => server?.close(done));
});

interface Queue {
  readonly url: string;
  readonly arn: string;
}

async function queue(name: string, attributes: Record<string, string> = {}): Promise<Queue> {
  const created = await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
  const url = created.QueueUrl ?? '';
  const answer = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }),
  );
  return { url, arn: answer.Attributes?.QueueArn ?? '' };
}

async function count(url: string): Promise<number> {
  const answer = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages'] }),
  );
  return Number(answer.Attributes?.ApproximateNumberOfMessages ?? 0);
}

/** A deployed stack `Test` with one queue and its dead-letter queue. */
function stackTargetOf(name: string, source: Queue, dlq: Queue, fifo: boolean): StackTarget {
  return {
    kind: 'stack',
    description: 'stack Test in us-east-1',
    stackName: 'Test',
    region: 'us-east-1',
    queuesMissingOutputs: [],
    webhookUrls: {},
    queues: {
      [name]: {
        name,
        url: source.url,
        arn: source.arn,
        deadLetterUrl: dlq.url,
        deadLetterArn: dlq.arn,
        fifo,
      },
    },
  };
}

describe('redrive with a real StartMessageMoveTask', () => {
  it('moves every dead-lettered message back with progress and loses none', async () => {
    const dlq = await queue('move-events-dlq');
    const source = await queue('move-events', {
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.arn, maxReceiveCount: 5 }),
    });
    const ids = Array.from({ length: 50 }, (_, i) => `evt-${i}`);
    for (let i = 0; i < ids.length; i += 10) {
      await sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: dlq.url,
          Entries: ids
            .slice(i, i + 10)
            .map((id, n) => ({ Id: String(n), MessageBody: JSON.stringify({ id }) })),
        }),
      );
    }
    const target = stackTargetOf('events', source, dlq, false);
    const output = recordingOutput();

    const result = await redrive(testBackend({ sqs, clock: systemClock, output }), target, {
      env: {},
      queue: 'events',
      rate: 100,
      pollIntervalMs: 100,
    });

    expect(result).toMatchObject({
      method: 'move-task',
      moved: 50,
      failed: 0,
      task: { status: 'COMPLETED' },
    });
    expect(result.task?.handle).toBeTruthy();
    expect(output.progressUpdates.at(-1)?.slice(1)).toEqual([50, 50]);
    expect(await count(dlq.url)).toBe(0);
    const back: string[] = [];
    for (let empty = 0; empty < 2; ) {
      const answer = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: source.url, MaxNumberOfMessages: 10, VisibilityTimeout: 60 }),
      );
      const messages = answer.Messages ?? [];
      if (messages.length === 0) empty++;
      for (const m of messages) back.push(JSON.parse(m.Body ?? '{}').id);
    }
    expect(back.sort()).toEqual([...ids].sort());
  });

  it('moves a FIFO dead-letter queue back in group order', async () => {
    const dlq = await queue('move-orders-dlq.fifo', { FifoQueue: 'true' });
    const source = await queue('move-orders.fifo', {
      FifoQueue: 'true',
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.arn, maxReceiveCount: 5 }),
    });
    const ids = Array.from({ length: 12 }, (_, i) => `order-${String(i).padStart(2, '0')}`);
    await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: dlq.url,
        Entries: ids.slice(0, 10).map((id, n) => ({
          Id: String(n),
          MessageBody: JSON.stringify({ id }),
          MessageGroupId: `g${n % 2}`,
          MessageDeduplicationId: id,
        })),
      }),
    );
    const target = stackTargetOf('orders', source, dlq, true);
    const result = await redrive(testBackend({ sqs, clock: systemClock }), target, {
      env: {},
      queue: 'orders',
      pollIntervalMs: 100,
    });
    expect(result).toMatchObject({ method: 'move-task', moved: 10, failed: 0 });
    const back: { id: string; group: string }[] = [];
    for (let empty = 0; empty < 2; ) {
      const answer = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: source.url,
          MaxNumberOfMessages: 10,
          VisibilityTimeout: 60,
          // local-aws-sqs answers only the legacy attribute parameter.
          AttributeNames: ['All'],
        }),
      );
      const messages = answer.Messages ?? [];
      if (messages.length === 0) empty++;
      for (const m of messages)
        back.push({ id: JSON.parse(m.Body ?? '{}').id, group: m.Attributes?.MessageGroupId ?? '' });
    }
    for (const group of ['g0', 'g1']) {
      const expected = ids.slice(0, 10).filter((_, i) => `g${i % 2}` === group);
      expect(back.filter((b) => b.group === group).map((b) => b.id)).toEqual(expected);
    }
  });
});
