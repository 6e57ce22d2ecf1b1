import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ChangeMessageVisibilityBatchCommand,
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { localSqsClient } from '../../../lib/local/clients';
import { type Emulators, startEmulators } from '../../../lib/local/emulators';
import { markReadAheadHold, markUndeliveredHandBack } from '../../../lib/local/fauxqs-fixes';

const dirs: string[] = [];
const running: Emulators[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  for (const e of running.splice(0)) await e.stop();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function start(dataDir?: string): Promise<{ sqs: SQSClient; emulators: Emulators }> {
  const emulators = await startEmulators(dataDir ? { dataDir } : {});
  running.push(emulators);
  return { sqs: localSqsClient(emulators), emulators };
}

async function counts(sqs: SQSClient, QueueUrl: string) {
  const answer = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['All'] }));
  return {
    visible: Number(answer.Attributes?.ApproximateNumberOfMessages),
    inFlight: Number(answer.Attributes?.ApproximateNumberOfMessagesNotVisible),
  };
}

const release = (
  sqs: SQSClient,
  QueueUrl: string,
  receiptHandles: (string | undefined)[],
  undelivered: boolean,
) => {
  const command = new ChangeMessageVisibilityBatchCommand({
    QueueUrl,
    Entries: receiptHandles.map((ReceiptHandle, n) => ({
      Id: String(n),
      ReceiptHandle,
      VisibilityTimeout: 0,
    })),
  });
  if (undelivered) markUndeliveredHandBack(command);
  return sqs.send(command);
};

const receive = (sqs: SQSClient, QueueUrl: string, VisibilityTimeout: number) =>
  sqs
    .send(
      new ReceiveMessageCommand({
        QueueUrl,
        VisibilityTimeout,
        MaxNumberOfMessages: 10,
        MessageSystemAttributeNames: ['All'],
      }),
    )
    .then((a) => a.Messages ?? []);

/** Moves the emulator's clock (it runs in this process) `ms` ahead of the real one. */
const clockAhead = (ms: number) => {
  vi.restoreAllMocks();
  const real = Date.now.bind(Date);
  vi.spyOn(Date, 'now').mockImplementation(() => real() + ms);
};

describe.each([
  ['in memory', false],
  ['on a data directory', true],
])('the local SQS emulator %s', (_, persisted) => {
  it('puts a released message (visibility 0) back at once, keeping its receive count, across a restart', async () => {
    const dataDir = persisted ? mkdtempSync(join(tmpdir(), 'hookline-fauxqs-')) : undefined;
    if (dataDir) dirs.push(dataDir);
    const { sqs, emulators } = await start(dataDir);
    const { QueueUrl = '' } = await sqs.send(new CreateQueueCommand({ QueueName: 'released' }));
    await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'one' }));
    const [held] = await receive(sqs, QueueUrl, 60);
    const answer = await sqs.send(
      new ChangeMessageVisibilityBatchCommand({
        QueueUrl,
        Entries: [{ Id: '0', ReceiptHandle: held?.ReceiptHandle, VisibilityTimeout: 0 }],
      }),
    );
    expect(answer.Failed ?? []).toEqual([]);
    expect(await counts(sqs, QueueUrl)).toEqual({ visible: 1, inFlight: 0 });
    const [again] = await receive(sqs, QueueUrl, 0);
    expect(again?.Attributes?.ApproximateReceiveCount).toBe('2');
    if (!dataDir) return;
    sqs.destroy();
    await emulators.stop();
    const restarted = await start(dataDir);
    const [afterRestart] = await receive(restarted.sqs, QueueUrl, 60);
    expect(afterRestart?.Body).toBe('one');
    expect(afterRestart?.Attributes?.ApproximateReceiveCount).toBe('3');
    restarted.sqs.destroy();
  });

  it('takes back the receive of messages handed back undelivered, keeping every other receive and first-receive time, across a restart', async () => {
    const dataDir = persisted ? mkdtempSync(join(tmpdir(), 'hookline-fauxqs-')) : undefined;
    if (dataDir) dirs.push(dataDir);
    const { sqs, emulators } = await start(dataDir);
    const { QueueUrl = '' } = await sqs.send(new CreateQueueCommand({ QueueName: 'handed-back' }));
    await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'delivered once' }));
    // Received and released as usual (a delivery that failed): that receive counts.
    const [delivered] = await receive(sqs, QueueUrl, 60);
    await release(sqs, QueueUrl, [delivered?.ReceiptHandle], false);
    await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'never delivered' }));
    // Both read ahead, then handed back undelivered: those receives are taken back.
    const readAhead = await receive(sqs, QueueUrl, 60);
    expect(readAhead.map((m) => m.Attributes?.ApproximateReceiveCount).sort()).toEqual(['1', '2']);
    const answer = await release(
      sqs,
      QueueUrl,
      readAhead.map((m) => m.ReceiptHandle),
      true,
    );
    expect(answer.Failed ?? []).toEqual([]);
    expect(await counts(sqs, QueueUrl)).toEqual({ visible: 2, inFlight: 0 });
    let client = sqs;
    if (dataDir) {
      sqs.destroy();
      await emulators.stop();
      client = (await start(dataDir)).sqs;
    }
    const beforeReceive = Date.now();
    const again = await receive(client, QueueUrl, 60);
    const byBody = Object.fromEntries(again.map((m) => [m.Body, m.Attributes]));
    expect(byBody['delivered once']?.ApproximateReceiveCount).toBe('2');
    expect(byBody['never delivered']?.ApproximateReceiveCount).toBe('1');
    // A message the function did get keeps the time of that first receive, as SQS reports it.
    expect(byBody['delivered once']?.ApproximateFirstReceiveTimestamp).toBe(
      delivered?.Attributes?.ApproximateFirstReceiveTimestamp,
    );
    // Never read before this receive, as far as the emulator can tell.
    expect(Number(byBody['never delivered']?.ApproximateFirstReceiveTimestamp)).toBeGreaterThanOrEqual(
      beforeReceive,
    );
    client.destroy();
  });

  it('counts a message whose hold expired as visible again', async () => {
    const dataDir = persisted ? mkdtempSync(join(tmpdir(), 'hookline-fauxqs-')) : undefined;
    if (dataDir) dirs.push(dataDir);
    const { sqs } = await start(dataDir);
    const { QueueUrl = '' } = await sqs.send(new CreateQueueCommand({ QueueName: 'expired' }));
    await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'one' }));
    await receive(sqs, QueueUrl, 1);
    expect(await counts(sqs, QueueUrl)).toEqual({ visible: 0, inFlight: 1 });
    await new Promise((r) => setTimeout(r, 1_100));
    expect(await counts(sqs, QueueUrl)).toEqual({ visible: 1, inFlight: 0 });
    sqs.destroy();
  });
});

describe('FIFO receives', () => {
  it("hands over a group's waiting messages together, in order, and none of them again while they are held", async () => {
    const { sqs } = await start();
    const { QueueUrl = '' } = await sqs.send(
      new CreateQueueCommand({ QueueName: 'groups.fifo', Attributes: { FifoQueue: 'true' } }),
    );
    const sent = ['a1', 'b1', 'a2', 'a3', 'b2'];
    await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl,
        Entries: sent.map((body) => ({
          Id: body,
          MessageBody: body,
          MessageGroupId: body.slice(0, 1),
          MessageDeduplicationId: body,
        })),
      }),
    );
    const got = (await receive(sqs, QueueUrl, 30)).map((m) => [m.Body, m.Attributes?.MessageGroupId]);
    // SQS returns as many messages of a group as it can (each group's in order), not one per group.
    expect(got).toEqual([
      ['a1', 'a'],
      ['a2', 'a'],
      ['a3', 'a'],
      ['b1', 'b'],
      ['b2', 'b'],
    ]);
    expect(await receive(sqs, QueueUrl, 30)).toEqual([]);
    expect(await counts(sqs, QueueUrl)).toEqual({ visible: 0, inFlight: 5 });
    sqs.destroy();
  });

  it('keeps a group held while any of its messages is, and hands the rest over once they are all back', async () => {
    const { sqs } = await start();
    const { QueueUrl = '' } = await sqs.send(
      new CreateQueueCommand({ QueueName: 'held.fifo', Attributes: { FifoQueue: 'true' } }),
    );
    for (const body of ['x1', 'x2', 'x3'])
      await sqs.send(
        new SendMessageCommand({
          QueueUrl,
          MessageBody: body,
          MessageGroupId: 'x',
          MessageDeduplicationId: body,
        }),
      );
    const first = await receive(sqs, QueueUrl, 30);
    expect(first.map((m) => m.Body)).toEqual(['x1', 'x2', 'x3']);
    // The first one back while the others are still held: the group stays held.
    await release(sqs, QueueUrl, [first[0]?.ReceiptHandle], false);
    expect(await receive(sqs, QueueUrl, 30)).toEqual([]);
    await release(sqs, QueueUrl, [first[1]?.ReceiptHandle, first[2]?.ReceiptHandle], false);
    expect(
      (await receive(sqs, QueueUrl, 30)).map((m) => [m.Body, m.Attributes?.ApproximateReceiveCount]),
    ).toEqual([
      ['x1', '2'],
      ['x2', '2'],
      ['x3', '2'],
    ]);
    sqs.destroy();
  });
});

describe('sends SQS refuses', () => {
  const eleven = Object.fromEntries(
    Array.from({ length: 11 }, (_, i) => [`a${i}`, { DataType: 'String', StringValue: 'v' }]),
  );

  it('refuses a send with 11 attributes or a delay beyond 15 minutes, and enqueues nothing', async () => {
    const { sqs } = await start();
    const QueueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: 'send-rules' }))).QueueUrl ?? '';
    await expect(
      sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'x', MessageAttributes: eleven })),
    ).rejects.toMatchObject({
      name: expect.stringMatching(/InvalidParameterValue$/),
      message: 'Number of message attributes [11] exceeds the allowed maximum [10].',
    });
    await expect(
      sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'x', DelaySeconds: 901 })),
    ).rejects.toMatchObject({ name: expect.stringMatching(/InvalidParameterValue$/) });
    expect(await counts(sqs, QueueUrl)).toEqual({ visible: 0, inFlight: 0 });
  });

  it('lists a bad batch entry as failed and sends the others', async () => {
    const { sqs } = await start();
    const QueueUrl =
      (await sqs.send(new CreateQueueCommand({ QueueName: 'send-rules-batch' }))).QueueUrl ?? '';
    const answer = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl,
        Entries: [
          { Id: 'good', MessageBody: 'x' },
          {
            Id: 'reserved',
            MessageBody: 'x',
            MessageAttributes: { 'AWS.trace': { DataType: 'String', StringValue: 'v' } },
          },
          { Id: 'late', MessageBody: 'x', DelaySeconds: 1_000 },
        ],
      }),
    );
    expect(answer.Successful?.map((s) => s.Id)).toEqual(['good']);
    expect(answer.Failed?.map((f) => [f.Id, f.Code, f.SenderFault])).toEqual([
      ['reserved', 'InvalidParameterValue', true],
      ['late', 'InvalidParameterValue', true],
    ]);
    expect(await counts(sqs, QueueUrl)).toEqual({ visible: 1, inFlight: 0 });
  });

  it('refuses a deduplication id on a standard queue, alone or in a batch, and takes it on a FIFO queue', async () => {
    const { sqs } = await start();
    const standard = (await sqs.send(new CreateQueueCommand({ QueueName: 'send-dedupe' }))).QueueUrl ?? '';
    const fifo =
      (
        await sqs.send(
          new CreateQueueCommand({ QueueName: 'send-dedupe.fifo', Attributes: { FifoQueue: 'true' } }),
        )
      ).QueueUrl ?? '';
    await expect(
      sqs.send(
        new SendMessageCommand({ QueueUrl: standard, MessageBody: 'x', MessageDeduplicationId: 'd-1' }),
      ),
    ).rejects.toMatchObject({
      name: expect.stringMatching(/InvalidParameterValue$/),
      message:
        'Value d-1 for parameter MessageDeduplicationId is invalid. Reason: The request include parameter that is not valid for this queue type.',
    });
    const batch = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: standard,
        Entries: [
          { Id: 'plain', MessageBody: 'x' },
          { Id: 'tenant', MessageBody: 'x', MessageGroupId: 'acme' },
          { Id: 'deduped', MessageBody: 'x', MessageDeduplicationId: 'd-2' },
        ],
      }),
    );
    expect(batch.Successful?.map((s) => s.Id).sort()).toEqual(['plain', 'tenant']);
    expect(batch.Failed?.map((f) => [f.Id, f.Code])).toEqual([['deduped', 'InvalidParameterValue']]);
    expect(await counts(sqs, standard)).toEqual({ visible: 2, inFlight: 0 });
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: fifo,
        MessageBody: 'x',
        MessageGroupId: 'g',
        MessageDeduplicationId: 'd-3',
      }),
    );
    expect(await counts(sqs, fifo)).toEqual({ visible: 1, inFlight: 0 });
  });
  it("refuses a FIFO send whose message group is a customer's name, and enqueues nothing", async () => {
    const { sqs } = await start();
    const QueueUrl =
      (
        await sqs.send(
          new CreateQueueCommand({
            QueueName: 'send-group.fifo',
            Attributes: { FifoQueue: 'true', ContentBasedDeduplication: 'true' },
          }),
        )
      ).QueueUrl ?? '';
    await expect(
      sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'x', MessageGroupId: 'Zoë Smith' })),
    ).rejects.toMatchObject({
      name: expect.stringMatching(/InvalidParameterValue$/),
      message:
        'Value Zoë Smith for parameter MessageGroupId is invalid. Reason: MessageGroupId can only include alphanumeric and punctuation characters. 1 to 128 in length.',
    });
    expect(await counts(sqs, QueueUrl)).toEqual({ visible: 0, inFlight: 0 });
  });
  it('takes a body holding an emoji, as SQS does, and still refuses U+FFFE and a lone surrogate', async () => {
    const { sqs } = await start();
    const QueueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: 'send-body' }))).QueueUrl ?? '';
    await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'order 🎉 paid' }));
    const batch = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl,
        Entries: [
          { Id: 'emoji', MessageBody: '🎉' },
          { Id: 'nonCharacter', MessageBody: 'a\ufffe' },
        ],
      }),
    );
    expect(batch.Successful?.map((e) => e.Id)).toEqual(['emoji']);
    expect(batch.Failed?.map((e) => e.Id)).toEqual(['nonCharacter']);
    await expect(
      sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'a\ud800b' })),
    ).rejects.toMatchObject({ name: expect.stringMatching(/InvalidMessageContents$/) });
    expect((await receive(sqs, QueueUrl, 30)).map((m) => m.Body).sort()).toEqual(
      ['order 🎉 paid', '🎉'].sort(),
    );
  });
});

describe('the 12-hour limit on a hold', () => {
  const TWELVE_HOURS = 43_200;
  const beyondLimit =
    'Value 43200 for parameter VisibilityTimeout is invalid. Reason: Total VisibilityTimeout for the message is beyond the limit [43200 seconds].';

  it('refuses to hold a message longer than 12 hours from its receive, alone or in a batch, and takes a hold within it', async () => {
    const { sqs } = await start();
    const QueueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: 'hold-limit' }))).QueueUrl ?? '';
    for (const body of ['a', 'b']) await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: body }));
    const [first, second] = await receive(sqs, QueueUrl, 300);
    clockAhead(60_000);
    await expect(
      sqs.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl,
          ReceiptHandle: first?.ReceiptHandle,
          VisibilityTimeout: TWELVE_HOURS,
        }),
      ),
    ).rejects.toMatchObject({ name: expect.stringMatching(/InvalidParameterValue$/), message: beyondLimit });
    const batch = await sqs.send(
      new ChangeMessageVisibilityBatchCommand({
        QueueUrl,
        Entries: [
          { Id: 'late', ReceiptHandle: first?.ReceiptHandle, VisibilityTimeout: TWELVE_HOURS },
          { Id: 'within', ReceiptHandle: second?.ReceiptHandle, VisibilityTimeout: TWELVE_HOURS - 120 },
        ],
      }),
    );
    expect(batch.Successful?.map((e) => e.Id)).toEqual(['within']);
    expect(batch.Failed?.map((e) => [e.Id, e.Code, e.Message])).toEqual([
      ['late', 'InvalidParameterValue', beyondLimit],
    ]);
    await sqs.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl,
        ReceiptHandle: first?.ReceiptHandle,
        VisibilityTimeout: TWELVE_HOURS - 120,
      }),
    );
    expect(await counts(sqs, QueueUrl)).toEqual({ visible: 0, inFlight: 2 });
  });

  it("counts the limit from local mode's read-ahead hold, the receive it stands for", async () => {
    const { sqs } = await start();
    const QueueUrl =
      (await sqs.send(new CreateQueueCommand({ QueueName: 'hold-read-ahead' }))).QueueUrl ?? '';
    await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'a' }));
    const [message] = await receive(sqs, QueueUrl, 3 * 3_600);
    clockAhead(2 * 3_600_000);
    const hold = new ChangeMessageVisibilityBatchCommand({
      QueueUrl,
      Entries: [{ Id: '0', ReceiptHandle: message?.ReceiptHandle, VisibilityTimeout: 30 }],
    });
    markReadAheadHold(hold);
    expect((await sqs.send(hold)).Successful).toHaveLength(1);
    await sqs.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl,
        ReceiptHandle: message?.ReceiptHandle,
        VisibilityTimeout: TWELVE_HOURS - 60,
      }),
    );
    expect(await counts(sqs, QueueUrl)).toEqual({ visible: 0, inFlight: 1 });
  });
});

describe('retention', () => {
  const bodies = (messages: { Body?: string }[]) => messages.map((m) => m.Body);

  it('drops a message waiting, or back from a hold, once it is older than its queue keeps messages', async () => {
    const { sqs } = await start();
    const QueueUrl =
      (
        await sqs.send(
          new CreateQueueCommand({ QueueName: 'retention', Attributes: { MessageRetentionPeriod: '60' } }),
        )
      ).QueueUrl ?? '';
    await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'held' }));
    expect(bodies(await receive(sqs, QueueUrl, 30))).toEqual(['held']);
    await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'waiting' }));
    clockAhead(61_000);
    await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'fresh' }));
    expect(await counts(sqs, QueueUrl)).toEqual({ visible: 1, inFlight: 0 });
    expect(bodies(await receive(sqs, QueueUrl, 30))).toEqual(['fresh']);
  });

  it.each([
    ['a standard', 'first enqueue', false, [], false],
    ['a FIFO', 'move', true, ['moved'], false],
    ['a FIFO', 'move, across a restart on a data directory,', true, ['moved'], true],
  ])('counts %s dead-letter queue retention from the %s', async (_, _from, fifo, kept, restarted) => {
    const dataDir = restarted ? mkdtempSync(join(tmpdir(), 'hookline-fauxqs-')) : undefined;
    if (dataDir) dirs.push(dataDir);
    const first = await start(dataDir);
    let { sqs } = first;
    const suffix = fifo ? '.fifo' : '';
    const fifoAttributes: Record<string, string> = fifo
      ? { FifoQueue: 'true', ContentBasedDeduplication: 'true' }
      : {};
    const create = async (QueueName: string, Attributes: Record<string, string>) =>
      (
        await sqs.send(
          new CreateQueueCommand({ QueueName, Attributes: { ...fifoAttributes, ...Attributes } }),
        )
      ).QueueUrl ?? '';
    const dlq = await create(`retention-dlq${suffix}`, { MessageRetentionPeriod: '120' });
    const dlqArn = (
      await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlq, AttributeNames: ['QueueArn'] }))
    ).Attributes?.QueueArn;
    const source = await create(`retention-source${suffix}`, {
      MessageRetentionPeriod: '100',
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: 1 }),
    });
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: source,
        MessageBody: 'moved',
        ...(fifo ? { MessageGroupId: 'g' } : {}),
      }),
    );
    expect(bodies(await receive(sqs, source, 30))).toEqual(['moved']);
    clockAhead(90_000);
    // Its second receive moves it to the dead-letter queue, 90 s after it was sent.
    expect(await receive(sqs, source, 30)).toEqual([]);
    expect(await counts(sqs, dlq)).toEqual({ visible: 1, inFlight: 0 });
    if (dataDir) {
      sqs.destroy();
      await first.emulators.stop();
      ({ sqs } = await start(dataDir));
    }
    clockAhead(130_000);
    // 130 s after its send, 40 s after its move: past 120 s only counted from the send.
    expect(bodies(await receive(sqs, dlq, 30))).toEqual(kept);
  });
});
