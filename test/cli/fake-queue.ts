/**
 * A minimal in-memory SQS queue behind aws-sdk-client-mock, for the cores that loop over a DLQ: receive hides
 * messages, ChangeMessageVisibility 0 shows them again, delete removes them. FIFO: one in-flight group at a time;
 * `headsOnly` returns only the first message of each group per receive, as local mode's emulator (fauxqs) does.
 * `emptyReceives`: the first receives come back empty though messages are visible, as SQS's short poll may (it
 * samples a subset of its servers). Batch calls without entries or with more than 10 are refused, as SQS refuses them.
 */
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  type SendMessageBatchCommandInput,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { AwsClientStub } from 'aws-sdk-client-mock';

export interface FakeQueue {
  readonly url: string;
  readonly messages: Message[];
  readonly hidden: Set<string>;
  readonly deleted: string[];
  readonly released: string[];
}

type SqsMock = AwsClientStub<SQSClient>;

export function installFakeQueue(
  mock: SqsMock,
  url: string,
  messages: Message[],
  options: { fifo?: boolean; headsOnly?: boolean; emptyReceives?: number; retentionSeconds?: number } = {},
): FakeQueue {
  const queue: FakeQueue = { url, messages: [...messages], hidden: new Set(), deleted: [], released: [] };
  let emptyReceives = options.emptyReceives ?? 0;
  mock.on(GetQueueAttributesCommand, { QueueUrl: url }).callsFake(() => ({
    Attributes: {
      ApproximateNumberOfMessages: String(
        queue.messages.filter((m) => !queue.hidden.has(m.ReceiptHandle ?? '')).length,
      ),
      ApproximateNumberOfMessagesNotVisible: String(queue.hidden.size),
      ApproximateNumberOfMessagesDelayed: '0',
      ...(options.retentionSeconds ? { MessageRetentionPeriod: String(options.retentionSeconds) } : {}),
    },
  }));
  mock.on(ReceiveMessageCommand, { QueueUrl: url }).callsFake((input: { MaxNumberOfMessages?: number }) => {
    if (emptyReceives > 0) {
      emptyReceives--;
      return { Messages: [] };
    }
    const lockedGroups = new Set(
      queue.messages
        .filter((m) => queue.hidden.has(m.ReceiptHandle ?? ''))
        .map((m) => m.Attributes?.MessageGroupId),
    );
    const out: Message[] = [];
    for (const m of queue.messages) {
      if (out.length >= (input.MaxNumberOfMessages ?? 1)) break;
      if (queue.hidden.has(m.ReceiptHandle ?? '')) continue;
      const group = m.Attributes?.MessageGroupId;
      if (options.fifo && lockedGroups.has(group)) continue;
      out.push(m);
      if (options.fifo && options.headsOnly) lockedGroups.add(group);
    }
    for (const m of out) queue.hidden.add(m.ReceiptHandle ?? '');
    return { Messages: out };
  });
  mock
    .on(ChangeMessageVisibilityBatchCommand, { QueueUrl: url })
    .callsFake((input: { Entries: { Id: string; ReceiptHandle: string; VisibilityTimeout: number }[] }) => {
      if (input.Entries.length === 0) throw emptyBatch();
      if (input.Entries.length > 10) throw tooManyEntries();
      for (const e of input.Entries) {
        if (e.VisibilityTimeout === 0) {
          queue.hidden.delete(e.ReceiptHandle);
          queue.released.push(e.ReceiptHandle);
        }
      }
      return { Successful: input.Entries.map((e) => ({ Id: e.Id })), Failed: [] };
    });
  mock
    .on(DeleteMessageBatchCommand, { QueueUrl: url })
    .callsFake((input: { Entries: { Id: string; ReceiptHandle: string }[] }) => {
      if (input.Entries.length === 0) throw emptyBatch();
      if (input.Entries.length > 10) throw tooManyEntries();
      for (const e of input.Entries) {
        const index = queue.messages.findIndex((m) => m.ReceiptHandle === e.ReceiptHandle);
        if (index >= 0) queue.messages.splice(index, 1);
        queue.hidden.delete(e.ReceiptHandle);
        queue.deleted.push(e.ReceiptHandle);
      }
      return { Successful: input.Entries.map((e) => ({ Id: e.Id })), Failed: [] };
    });
  return queue;
}

/** What SQS answers a batch call without entries. */
export function emptyBatch(): Error {
  return Object.assign(new Error('There should be at least one entry in the request.'), {
    name: 'AWS.SimpleQueueService.EmptyBatchRequest',
  });
}

/** What SQS answers a batch call with more than 10 entries. */
function tooManyEntries(): Error {
  return Object.assign(new Error('Maximum number of entries per request are 10.'), {
    name: 'AWS.SimpleQueueService.TooManyEntriesInBatchRequest',
  });
}

/** The bytes SQS counts for a `SendMessageBatch`: every entry's body, and each attribute's name, data type and value. */
export function sqsBatchBytes(input: SendMessageBatchCommandInput): number {
  let sum = 0;
  for (const entry of input.Entries ?? []) {
    sum += Buffer.byteLength(entry.MessageBody ?? '');
    for (const [name, value] of Object.entries(entry.MessageAttributes ?? {}))
      sum += Buffer.byteLength(name + (value.DataType ?? '') + (value.StringValue ?? ''));
  }
  return sum;
}

/** What SQS answers a `SendMessageBatch` whose entries together are above 1 MiB: the whole call is refused. */
export function batchRequestTooLong(): Error {
  return Object.assign(new Error('Batch requests cannot be longer than 1048576 bytes.'), {
    name: 'AWS.SimpleQueueService.BatchRequestTooLong',
    $metadata: { httpStatusCode: 400 },
  });
}
