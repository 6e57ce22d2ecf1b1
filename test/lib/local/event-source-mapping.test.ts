import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  PurgeQueueCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localSqsClient } from '../../../lib/local/clients';
import { type Emulators, startEmulators } from '../../../lib/local/emulators';
import {
  disposeBatch,
  EventSourceMapping,
  recordsWithinInvokeLimit,
  toLambdaRecord,
} from '../../../lib/local/event-source-mapping';
import type { InvokeResult } from '../../../lib/local/function-runtime';

const record = (messageId: string) => ({ messageId }) as SQSRecord;
const ok = (value: unknown): InvokeResult => ({ ok: true, value, durationMs: 1, coldStart: false });
const batch = ['a', 'b', 'c'].map(record);
const ids = (records: readonly SQSRecord[]) => records.map((r) => r.messageId);

describe('disposeBatch (ReportBatchItemFailures rules)', () => {
  it.each([
    ['null', null],
    ['undefined', undefined],
    ['an empty object', {}],
    ['an empty list', { batchItemFailures: [] }],
    ['a null list', { batchItemFailures: null }],
    ['a string', 'done'],
  ])('treats %s as complete success', (_, value) => {
    expect(disposeBatch(batch, ok(value))).toEqual({ succeeded: batch, failed: [], wholeBatchFailed: false });
  });

  it('keeps exactly the reported records', () => {
    const result = disposeBatch(batch, ok({ batchItemFailures: [{ itemIdentifier: 'b' }] }));
    expect({
      succeeded: ids(result.succeeded),
      failed: ids(result.failed),
      whole: result.wholeBatchFailed,
    }).toEqual({
      succeeded: ['a', 'c'],
      failed: ['b'],
      whole: false,
    });
  });

  it.each([
    ['an empty itemIdentifier', { batchItemFailures: [{ itemIdentifier: '' }] }],
    ['a null itemIdentifier', { batchItemFailures: [{ itemIdentifier: null }] }],
    ['a missing itemIdentifier', { batchItemFailures: [{}] }],
    [
      'an unknown itemIdentifier',
      { batchItemFailures: [{ itemIdentifier: 'b' }, { itemIdentifier: 'zzz' }] },
    ],
    ['a non-list', { batchItemFailures: 'b' }],
    ['an object instead of a list', { batchItemFailures: { itemIdentifier: 'b' } }],
    ['a null entry', { batchItemFailures: [{ itemIdentifier: 'b' }, null] }],
  ])('fails the whole batch for %s', (_, value) => {
    expect(disposeBatch(batch, ok(value))).toMatchObject({
      succeeded: [],
      failed: batch,
      wholeBatchFailed: true,
    });
  });

  it.each([
    [
      'an empty itemIdentifier',
      [{ itemIdentifier: '' }],
      'itemIdentifier "" is not the messageId of a record in the batch',
    ],
    [
      'a null itemIdentifier',
      [{ itemIdentifier: null }],
      'itemIdentifier null is not the messageId of a record in the batch',
    ],
    ['a missing itemIdentifier', [{ id: 'b' }], 'an entry of batchItemFailures has no itemIdentifier'],
    [
      'an unknown itemIdentifier',
      [{ itemIdentifier: 'b' }, { itemIdentifier: 'zzz' }],
      'itemIdentifier "zzz" is not the messageId of a record in the batch',
    ],
    ['a non-list', 'b', 'batchItemFailures is "b", not a list'],
    ['a bare id in the list', ['b'], 'an entry of batchItemFailures is "b", not { itemIdentifier }'],
  ])('says what made the response invalid for %s', (_, failures, why) => {
    expect(disposeBatch(batch, ok({ batchItemFailures: failures })).invalidResponse).toBe(
      `invalid batch response: ${why}, so Lambda fails the whole batch`,
    );
  });

  it('fails the whole batch on a function error or timeout', () => {
    for (const kind of ['error', 'timeout', 'crash'] as const) {
      const result = disposeBatch(batch, {
        ok: false,
        kind,
        error: { errorType: 'E', errorMessage: 'm' },
        durationMs: 1,
        coldStart: false,
      });
      expect(result.wholeBatchFailed).toBe(true);
      expect(ids(result.failed)).toEqual(['a', 'b', 'c']);
    }
  });
});

describe('recordsWithinInvokeLimit (the 6 MB invocation payload)', () => {
  const sized = (body: string, messageAttributes: SQSRecord['messageAttributes'] = {}) =>
    ({ messageId: 'm', receiptHandle: 'r', body, attributes: {}, messageAttributes }) as unknown as SQSRecord;
  const eventBytes = (records: readonly SQSRecord[]) =>
    Buffer.byteLength(JSON.stringify({ Records: records }));

  it('keeps a whole batch whose event is within the limit, however near', () => {
    const records = [sized('a'.repeat(40_000)), sized('b'.repeat(40_000))];
    expect(recordsWithinInvokeLimit(records, eventBytes(records))).toBe(2);
  });

  it('cuts the batch before the record that would take its event over the limit', () => {
    const records = [sized('a'.repeat(40_000)), sized('b'.repeat(40_000)), sized('c')];
    expect(recordsWithinInvokeLimit(records, eventBytes(records) - 1)).toBe(2);
    expect(recordsWithinInvokeLimit(records, eventBytes(records.slice(0, 2)) - 1)).toBe(1);
  });

  it('counts JSON escapes and multi-byte characters, and attribute values, as Lambda counts bytes', () => {
    const quoted = [sized('"'.repeat(30_000)), sized('é'.repeat(30_000))];
    expect(recordsWithinInvokeLimit(quoted, eventBytes(quoted) - 1)).toBe(1);
    const attributed = [
      sized('x', { big: { stringValue: 'v'.repeat(50_000), dataType: 'String' } as never }),
      sized('y'),
    ];
    expect(recordsWithinInvokeLimit(attributed, eventBytes(attributed) - 1)).toBe(1);
  });

  it('always lets one record through', () => {
    expect(recordsWithinInvokeLimit([sized('a'.repeat(50_000))], 10_000)).toBe(1);
  });
});

describe('with the SQS emulator', () => {
  let emulators: Emulators;
  let sqs: SQSClient;
  const queue = async (name: string, attributes: Record<string, string> = {}) => {
    const url =
      (await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }))).QueueUrl ?? '';
    const arn =
      (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] })))
        .Attributes?.QueueArn ?? '';
    return { url, arn };
  };
  const counts = async (url: string) => {
    const a =
      (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['All'] })))
        .Attributes ?? {};
    return {
      visible: Number(a.ApproximateNumberOfMessages),
      inFlight: Number(a.ApproximateNumberOfMessagesNotVisible),
    };
  };

  beforeAll(async () => {
    emulators = await startEmulators();
    sqs = localSqsClient(emulators);
  });
  afterAll(async () => {
    sqs?.destroy();
    await emulators?.stop();
  });

  it('shapes standard records exactly as Lambda delivers them', async () => {
    const { url, arn } = await queue('shape');
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: url,
        MessageBody: '{"x":1}',
        MessageAttributes: {
          'hookline.type': { DataType: 'String', StringValue: 'push' },
          count: { DataType: 'Number', StringValue: '3' },
          blob: { DataType: 'Binary', BinaryValue: Buffer.from([1, 2, 3]) },
        },
      }),
    );
    const [message] =
      (
        await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: url,
            MessageSystemAttributeNames: ['All'],
            MessageAttributeNames: ['All'],
          }),
        )
      ).Messages ?? [];
    if (!message) throw new Error('no message');
    const lambdaRecord = toLambdaRecord(message, arn, 'us-east-1');
    // Strict: Lambda's record has no key for an attribute it does not deliver (no FIFO keys, no stringValue
    // on a binary attribute), and a consumer may test for the key.
    expect(lambdaRecord).toStrictEqual({
      messageId: message.MessageId,
      receiptHandle: message.ReceiptHandle,
      body: '{"x":1}',
      attributes: {
        ApproximateReceiveCount: '1',
        SentTimestamp: expect.stringMatching(/^\d{13}$/),
        SenderId: expect.any(String),
        ApproximateFirstReceiveTimestamp: expect.stringMatching(/^\d{13}$/),
      },
      messageAttributes: {
        'hookline.type': {
          stringValue: 'push',
          stringListValues: [],
          binaryListValues: [],
          dataType: 'String',
        },
        count: { stringValue: '3', stringListValues: [], binaryListValues: [], dataType: 'Number' },
        blob: { binaryValue: 'AQID', stringListValues: [], binaryListValues: [], dataType: 'Binary' },
      },
      md5OfBody: message.MD5OfBody,
      md5OfMessageAttributes: message.MD5OfMessageAttributes,
      eventSource: 'aws:sqs',
      eventSourceARN: arn,
      awsRegion: 'us-east-1',
    });
  });

  it('adds the FIFO attributes on FIFO queues', async () => {
    const { url, arn } = await queue('shape.fifo', { FifoQueue: 'true' });
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: url,
        MessageBody: 'x',
        MessageGroupId: 'g1',
        MessageDeduplicationId: 'd1',
      }),
    );
    const [message] =
      (await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MessageSystemAttributeNames: ['All'] })))
        .Messages ?? [];
    if (!message) throw new Error('no message');
    const lambdaRecord = toLambdaRecord(message, arn, 'eu-west-1');
    expect(lambdaRecord.attributes).toMatchObject({
      MessageGroupId: 'g1',
      MessageDeduplicationId: 'd1',
      SequenceNumber: expect.any(String),
    });
    expect(lambdaRecord).not.toHaveProperty('md5OfMessageAttributes');
    expect(lambdaRecord.awsRegion).toBe('eu-west-1');
  });

  async function runMapping(
    name: string,
    messages: number,
    invoke: (event: SQSEvent) => Promise<InvokeResult>,
    batchSize = 10,
    maximumBatchingWindowMs = 0,
  ): Promise<{ url: string; batches: SQSEvent[] }> {
    const { url, arn } = await queue(name, { VisibilityTimeout: '60' });
    for (let first = 0; first < messages; first += 10) {
      await sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: url,
          Entries: Array.from({ length: Math.min(10, messages - first) }, (_, i) => ({
            Id: String(i),
            MessageBody: `m${first + i}`,
          })),
        }),
      );
    }
    const batches: SQSEvent[] = [];
    let reports = 0;
    const mapping = new EventSourceMapping({
      name,
      queueUrl: url,
      queueArn: arn,
      region: emulators.region,
      sqs,
      batchSize,
      maximumBatchingWindowMs,
      concurrency: 1,
      waitTimeSeconds: 1,
      invoke: async (event) => {
        batches.push(event);
        return invoke(event);
      },
      onBatch: () => {
        reports += 1;
      },
    });
    mapping.start();
    const until = Date.now() + 10_000;
    while (batches.flatMap((b) => b.Records).length < messages || reports < batches.length) {
      if (Date.now() > until) throw new Error('mapping did not deliver every message');
      await new Promise((r) => setTimeout(r, 20));
    }
    await mapping.stop();
    return { url, batches };
  }

  it('deletes only the records not reported in batchItemFailures', async () => {
    const { url, batches } = await runMapping('partial', 4, async (event) =>
      ok({
        batchItemFailures: event.Records.filter((r) => r.body === 'm1' || r.body === 'm3').map((r) => ({
          itemIdentifier: r.messageId,
        })),
      }),
    );
    expect(batches.flatMap((b) => b.Records.map((r) => r.body)).sort()).toEqual(['m0', 'm1', 'm2', 'm3']);
    expect(await counts(url)).toEqual({ visible: 0, inFlight: 2 });
  });

  it('leaves the whole batch when the function fails', async () => {
    const { url } = await runMapping('throws', 3, async () => ({
      ok: false,
      kind: 'error',
      error: { errorType: 'Error', errorMessage: 'boom' },
      durationMs: 1,
      coldStart: false,
    }));
    expect(await counts(url)).toEqual({ visible: 0, inFlight: 3 });
  });

  it('deletes everything on success and respects the batch size', async () => {
    const { url, batches } = await runMapping('sized', 7, async () => ok({ batchItemFailures: [] }), 3);
    expect(Math.max(...batches.map((b) => b.Records.length))).toBeLessThanOrEqual(3);
    expect(batches.flatMap((b) => b.Records)).toHaveLength(7);
    expect(await counts(url)).toEqual({ visible: 0, inFlight: 0 });
  });

  it('fills a batch above 10 records within the batching window, and deletes all of it', async () => {
    // The window is far longer than the receives need: the batch is complete once 25 records are in.
    const { url, batches } = await runMapping('window', 25, async () => ok(null), 25, 20_000);
    expect(batches.map((b) => b.Records.length)).toEqual([25]);
    expect(await counts(url)).toEqual({ visible: 0, inFlight: 0 });
  });

  it('invokes no batch over 6 MB: the records that do not fit come in the next batch, received once', async () => {
    const { url, arn } = await queue('six-megabytes');
    // 10 messages of 1,000,000 bytes: one batch of 10 would be a 10 MB event; Lambda invokes at most 6 of them.
    for (let n = 0; n < 10; n += 1) {
      await sqs.send(
        new SendMessageCommand({ QueueUrl: url, MessageBody: String(n).padEnd(1_000_000, '.') }),
      );
    }
    const batches: SQSEvent[] = [];
    const mapping = new EventSourceMapping({
      name: 'six-megabytes',
      queueUrl: url,
      queueArn: arn,
      region: emulators.region,
      sqs,
      batchSize: 10,
      maximumBatchingWindowMs: 2_000,
      concurrency: 1,
      waitTimeSeconds: 1,
      invoke: async (event) => {
        batches.push(event);
        return ok(null);
      },
    });
    mapping.start();
    const until = Date.now() + 15_000;
    while (batches.flatMap((b) => b.Records).length < 10 && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 20));
    }
    await mapping.stop();
    const bodies = batches.flatMap((b) => b.Records.map((r) => r.body.replace(/\.+$/, '')));
    expect(bodies.sort((a, b) => Number(a) - Number(b))).toEqual([
      '0',
      '1',
      '2',
      '3',
      '4',
      '5',
      '6',
      '7',
      '8',
      '9',
    ]);
    for (const event of batches) {
      expect(Buffer.byteLength(JSON.stringify(event))).toBeLessThanOrEqual(6 * 1024 * 1024);
    }
    expect(batches.length).toBeGreaterThan(1);
    expect(batches.flatMap((b) => b.Records.map((r) => r.attributes.ApproximateReceiveCount))).toEqual(
      Array(10).fill('1'),
    );
  });

  /** A mapping with two pollers that records the bodies it hands to the function. */
  async function recordingMapping(name: string, waitTimeSeconds: number) {
    const { url, arn } = await queue(name);
    const seen: string[] = [];
    const mapping = new EventSourceMapping({
      name,
      queueUrl: url,
      queueArn: arn,
      region: emulators.region,
      sqs,
      batchSize: 10,
      maximumBatchingWindowMs: 0,
      concurrency: 2,
      waitTimeSeconds,
      invoke: async (event) => {
        seen.push(...event.Records.map((r) => r.body));
        return ok(null);
      },
    });
    return { url, mapping, seen };
  }

  it('pauses and resumes (Disabled / Enabled)', async () => {
    const { url, mapping, seen } = await recordingMapping('paused', 1);
    mapping.start();
    await mapping.disable();
    expect(mapping.state).toBe('Disabled');
    await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'while paused' }));
    // Disabled pollers do not receive: the message stays visible in the queue.
    expect(await counts(url)).toEqual({ visible: 1, inFlight: 0 });
    mapping.enable();
    expect(mapping.state).toBe('Enabled');
    const until = Date.now() + 5_000;
    while (seen.length === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    await mapping.stop();
    expect(seen).toEqual(['while paused']);
  });

  it('enabled at a lower concurrency (a circuit breaker probe) runs that many batches at once, and all of them once enabled again', async () => {
    const { url, arn } = await queue('probe-concurrency');
    let running = 0;
    let most = 0;
    let release: () => void = () => undefined;
    let gate = new Promise<void>((r) => {
      release = r;
    });
    const mapping = new EventSourceMapping({
      name: 'probe-concurrency',
      queueUrl: url,
      queueArn: arn,
      region: emulators.region,
      sqs,
      batchSize: 1,
      maximumBatchingWindowMs: 0,
      concurrency: 3,
      waitTimeSeconds: 1,
      startDisabled: true,
      invoke: async () => {
        running += 1;
        most = Math.max(most, running);
        await gate;
        running -= 1;
        return ok(null);
      },
    });
    for (let i = 0; i < 6; i += 1)
      await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: `m${i}` }));
    mapping.start();
    mapping.enable(1);
    expect(mapping.concurrency).toBe(1);
    const waitFor = async (check: () => boolean) => {
      const until = Date.now() + 5_000;
      while (!check() && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    };
    await waitFor(() => running === 1);
    await new Promise((r) => setTimeout(r, 400));
    expect(most).toBe(1);

    mapping.enable();
    expect(mapping.concurrency).toBe(3);
    await waitFor(() => running === 3);
    expect(most).toBe(3);
    release();
    gate = Promise.resolve();
    await waitFor(() => running === 0);
    await mapping.stop();
  });

  it('once paused, hands nothing more to the function: a long poll still waiting gives its records back at once, without a receive', async () => {
    const { url, mapping, seen } = await recordingMapping('paused-mid-poll', 5);
    mapping.start();
    await new Promise((r) => setTimeout(r, 300)); // both pollers are now in a 5 s long poll
    const parked = mapping.disable();
    await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'after pause' }));
    await parked;
    expect(seen).toEqual([]);
    // Given back at once, not hidden for a visibility timeout, and without the receive of the poll that returned
    // it: this test's own receive is its first.
    expect(await counts(url)).toEqual({ visible: 1, inFlight: 0 });
    const [message] =
      (
        await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: url,
            VisibilityTimeout: 0,
            MessageSystemAttributeNames: ['All'],
          }),
        )
      ).Messages ?? [];
    expect(message?.Attributes?.ApproximateReceiveCount).toBe('1');
    await mapping.stop();
  });

  /**
   * A fair mapping over an existing queue, one slow batch slot (batches of 2), recording every record it
   * delivers; `fail` picks the records the function reports as failed.
   */
  function fairMappingOn(
    target: { name: string; url: string; arn: string },
    invokeMs: number,
    options: {
      visibilityTimeoutSeconds?: number;
      maximumBatchingWindowMs?: number;
      fail?: (record: SQSRecord) => boolean;
    } = {},
  ) {
    const delivered: SQSRecord[] = [];
    const seen: string[] = [];
    const mapping = new EventSourceMapping({
      name: target.name,
      queueUrl: target.url,
      queueArn: target.arn,
      region: emulators.region,
      sqs,
      batchSize: 2,
      maximumBatchingWindowMs: options.maximumBatchingWindowMs ?? 0,
      concurrency: 1,
      waitTimeSeconds: 1,
      fairness: { visibilityTimeoutSeconds: options.visibilityTimeoutSeconds ?? 3 },
      invoke: async (event) => {
        delivered.push(...event.Records);
        seen.push(...event.Records.map((r) => r.body));
        await new Promise((r) => setTimeout(r, invokeMs));
        const failed = event.Records.filter((r) => options.fail?.(r) ?? false);
        return ok({ batchItemFailures: failed.map((r) => ({ itemIdentifier: r.messageId })) });
      },
    });
    return { mapping, delivered, seen };
  }

  /** A fair mapping over a new queue with a 3 s visibility timeout, one slow batch slot (batches of 2). */
  async function fairMapping(name: string, invokeMs: number, attributes: Record<string, string> = {}) {
    const { url, arn } = await queue(name, { VisibilityTimeout: '3', ...attributes });
    const { mapping, seen, delivered } = fairMappingOn({ name, url, arn }, invokeMs);
    return { url, mapping, seen, delivered };
  }
  const tenantMessage = (body: string, tenant: string) => ({
    Id: body,
    MessageBody: body,
    MessageAttributes: { 'hookline.tenant': { DataType: 'String', StringValue: tenant } },
  });

  it('fair mode: delivers each waiting message once, though it waits longer than the visibility timeout', async () => {
    const { url, mapping, seen, delivered } = await fairMapping('fair-extend', 1_000);
    const bodies = Array.from({ length: 10 }, (_, i) => `m${i}`);
    await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: url,
        Entries: bodies.map((b, i) => tenantMessage(b, `t${i % 2}`)),
      }),
    );
    mapping.start();
    // 5 batches of 1 s: the last records wait ~4 s in their lanes, beyond the 3 s visibility timeout.
    const until = Date.now() + 20_000;
    while (seen.length < bodies.length && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 1_500));
    await mapping.stop();
    expect([...seen].sort()).toEqual([...bodies].sort());
    // Extended before their hold ran out: none came back to the emulator and was received again on the way.
    expect(new Set(delivered.map((r) => r.attributes.ApproximateReceiveCount))).toEqual(new Set(['1']));
    expect(await counts(url)).toEqual({ visible: 0, inFlight: 0 });
  });

  it('fair mode: a short poll that fails beside others loses nothing the others received', async () => {
    const name = 'fair-failed-poll';
    // A visibility timeout far longer than the test: a message read and dropped would not come back in time.
    const { url, arn } = await queue(name, { VisibilityTimeout: '120' });
    const bodies = Array.from({ length: 60 }, (_, i) => `m${i}`);
    for (let i = 0; i < bodies.length; i += 10) {
      await sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: url,
          Entries: bodies.slice(i, i + 10).map((b, n) => tenantMessage(b, `t${n % 3}`)),
        }),
      );
    }
    // Every fourth short poll fails before it reaches the emulator, so the three beside it did receive.
    const flaky = localSqsClient(emulators);
    let shortPolls = 0;
    flaky.middlewareStack.add(
      (next, context) => async (args) => {
        const input = args.input as { WaitTimeSeconds?: number };
        if (context.commandName === 'ReceiveMessageCommand' && input.WaitTimeSeconds === 0) {
          shortPolls += 1;
          if (shortPolls % 4 === 0)
            throw Object.assign(new Error('injected: connection reset'), { name: 'TimeoutError' });
        }
        return next(args);
      },
      { step: 'initialize', name: 'failEveryFourthShortPoll' },
    );
    const delivered: SQSRecord[] = [];
    const mapping = new EventSourceMapping({
      name,
      queueUrl: url,
      queueArn: arn,
      region: emulators.region,
      sqs: flaky,
      batchSize: 10,
      maximumBatchingWindowMs: 0,
      concurrency: 1,
      waitTimeSeconds: 1,
      fairness: { visibilityTimeoutSeconds: 120 },
      invoke: async (event) => {
        delivered.push(...event.Records);
        await new Promise((r) => setTimeout(r, 200));
        return ok(null);
      },
    });
    mapping.start();
    const until = Date.now() + 15_000;
    while (delivered.length < bodies.length && Date.now() < until)
      await new Promise((r) => setTimeout(r, 50));
    await mapping.stop();
    flaky.destroy();
    expect(shortPolls).toBeGreaterThanOrEqual(4);
    expect(delivered.map((r) => r.body).sort()).toEqual([...bodies].sort());
    expect(new Set(delivered.map((r) => r.attributes.ApproximateReceiveCount))).toEqual(new Set(['1']));
  });

  it('fair mode: messages a purge deleted while they waited their turn never run', async () => {
    const name = 'fair-purge-running';
    // A visibility timeout far longer than the test: no extension happens, only the check before the batch runs.
    const { url, arn } = await queue(name, { VisibilityTimeout: '120' });
    let open: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    const seen: string[] = [];
    const mapping = new EventSourceMapping({
      name,
      queueUrl: url,
      queueArn: arn,
      region: emulators.region,
      sqs,
      batchSize: 2,
      maximumBatchingWindowMs: 0,
      concurrency: 1,
      waitTimeSeconds: 1,
      fairness: { visibilityTimeoutSeconds: 120 },
      invoke: async (event) => {
        seen.push(...event.Records.map((r) => r.body));
        await gate;
        return ok(null);
      },
    });
    await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: url,
        Entries: Array.from({ length: 6 }, (_, i) => tenantMessage(`g${i}`, 'one')),
      }),
    );
    mapping.start();
    while (seen.length === 0 || mapping.waiting < 4) await new Promise((r) => setTimeout(r, 20));
    await sqs.send(new PurgeQueueCommand({ QueueUrl: url }));
    open();
    while (mapping.waiting > 0) await new Promise((r) => setTimeout(r, 20));
    await mapping.stop();
    expect(seen).toEqual(['g0', 'g1']);
  });

  /** A fair mapping started on 6 messages of one tenant, paused once its first batch (of 2) ran. */
  async function pausedWithReadAhead(name: string) {
    const fair = await fairMapping(name, 1_000);
    await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: fair.url,
        Entries: Array.from({ length: 6 }, (_, i) => tenantMessage(`p${i}`, 'one')),
      }),
    );
    fair.mapping.start();
    // The first batch runs for 1 s; meanwhile the reader reads the other 4 ahead into the lanes.
    const until = Date.now() + 5_000;
    while ((fair.seen.length === 0 || fair.mapping.waiting < 4) && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 20));
    }
    await fair.mapping.disable();
    return fair;
  }

  it('fair mode: a pause keeps holding the messages read ahead, past their visibility timeout, and hands none to the function', async () => {
    const { url, mapping, seen } = await pausedWithReadAhead('fair-pause');
    expect(seen).toHaveLength(2);
    expect(mapping.waiting).toBe(4);
    // Longer than the 3 s visibility timeout: the holds are extended, nothing is handed back or run.
    await new Promise((r) => setTimeout(r, 4_000));
    expect(seen).toHaveLength(2);
    expect(mapping.waiting).toBe(4);
    expect(await counts(url)).toEqual({ visible: 0, inFlight: 4 });
    // Stop hands them back at once, not hidden for a visibility timeout.
    await mapping.stop();
    expect(await counts(url)).toEqual({ visible: 4, inFlight: 0 });
  });

  it('fair mode: a pause while a batch slot waits out its batching window answers at once and runs nothing', async () => {
    const name = 'fair-window-pause';
    const { url, arn } = await queue(name, { VisibilityTimeout: '3' });
    // A window far beyond the test timeout: the pause must not wait for it to end.
    const { mapping, seen } = fairMappingOn({ name, url, arn }, 0, { maximumBatchingWindowMs: 300_000 });
    await sqs.send(new SendMessageBatchCommand({ QueueUrl: url, Entries: [tenantMessage('w0', 'one')] }));
    mapping.start();
    while (mapping.waiting === 0) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 200)); // the batch slot is now waiting for a second record
    await mapping.disable();
    expect(seen).toEqual([]);
    expect(mapping.waiting).toBe(1);
    await mapping.stop();
    expect(await counts(url)).toEqual({ visible: 1, inFlight: 0 });
  });

  it('fair mode: messages a purge deleted while paused leave the lanes and never run', async () => {
    const { url, mapping, seen } = await pausedWithReadAhead('fair-pause-purge');
    await sqs.send(new PurgeQueueCommand({ QueueUrl: url }));
    const until = Date.now() + 5_000;
    while (mapping.waiting > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    expect(mapping.waiting).toBe(0);
    mapping.enable();
    await new Promise((r) => setTimeout(r, 1_500));
    await mapping.stop();
    expect(seen).toHaveLength(2);
    expect(await counts(url)).toEqual({ visible: 0, inFlight: 0 });
  });

  it('fair mode: pausing and resuming more times than maxReceiveCount dead-letters nothing that never ran', async () => {
    const dlq = await queue('fair-cycles-dlq');
    const { url, mapping, seen } = await fairMapping('fair-cycles', 200, {
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.arn, maxReceiveCount: 5 }),
    });
    const bodies = Array.from({ length: 30 }, (_, i) => `c${i}`);
    for (let i = 0; i < bodies.length; i += 10) {
      await sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: url,
          Entries: bodies.slice(i, i + 10).map((b, n) => tenantMessage(b, `t${n % 2}`)),
        }),
      );
    }
    mapping.start();
    for (let cycle = 0; cycle < 6; cycle += 1) {
      // Each cycle: a batch runs while the reader holds the rest of the backlog, then the consumer is paused.
      const ran = seen.length;
      const until = Date.now() + 3_000;
      while ((seen.length === ran || mapping.waiting === 0) && Date.now() < until) {
        await new Promise((r) => setTimeout(r, 20));
      }
      if (mapping.waiting === 0) break; // nothing left to read ahead: the backlog is gone
      await mapping.disable();
      mapping.enable();
    }
    expect(seen.length).toBeLessThan(bodies.length / 2);
    const until = Date.now() + 10_000;
    while (seen.length < bodies.length && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    await mapping.stop();
    expect(await counts(dlq.url)).toEqual({ visible: 0, inFlight: 0 });
    expect([...seen].sort()).toEqual([...bodies].sort());
    expect(await counts(url)).toEqual({ visible: 0, inFlight: 0 });
  }, 60_000);

  /** A queue of `name` with a 3-receive redrive policy to its own DLQ, and `bodies` spread over two tenants. */
  async function redrivenQueue(name: string, visibilityTimeoutSeconds: number, bodies: readonly string[]) {
    const dlq = await queue(`${name}-dlq`);
    const created = await queue(name, {
      VisibilityTimeout: String(visibilityTimeoutSeconds),
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.arn, maxReceiveCount: 3 }),
    });
    for (let i = 0; i < bodies.length; i += 10) {
      await sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: created.url,
          Entries: bodies.slice(i, i + 10).map((b, n) => tenantMessage(b, `t${n % 2}`)),
        }),
      );
    }
    return { target: { name, ...created }, dlq };
  }

  it('fair mode: stopping with a backlog read ahead and starting again, more times than maxReceiveCount, dead-letters nothing and counts only deliveries', async () => {
    const bodies = Array.from({ length: 40 }, (_, i) => `r${i}`);
    const { target, dlq } = await redrivenQueue('fair-restarts', 3, bodies);
    const delivered: SQSRecord[] = [];
    let stopsWithReadAhead = 0;
    for (let cycle = 0; cycle < 6; cycle += 1) {
      // Each cycle: a batch runs while the reader holds the rest of the backlog, then local mode stops.
      const run = fairMappingOn(target, 200);
      run.mapping.start();
      const until = Date.now() + 3_000;
      while ((run.seen.length === 0 || run.mapping.waiting === 0) && Date.now() < until) {
        await new Promise((r) => setTimeout(r, 20));
      }
      const readAhead = run.mapping.waiting;
      await run.mapping.stop();
      delivered.push(...run.delivered);
      if (readAhead === 0) break; // nothing left to read ahead: the backlog is gone
      stopsWithReadAhead += 1;
    }
    expect(await counts(dlq.url)).toEqual({ visible: 0, inFlight: 0 });
    expect(stopsWithReadAhead).toBe(6);
    expect(delivered.length).toBeLessThan(30);
    const last = fairMappingOn(target, 0);
    last.mapping.start();
    const until = Date.now() + 15_000;
    while (delivered.length + last.delivered.length < bodies.length && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 50));
    }
    await last.mapping.stop();
    delivered.push(...last.delivered);
    expect(await counts(dlq.url)).toEqual({ visible: 0, inFlight: 0 });
    expect(delivered.map((r) => r.body).sort()).toEqual([...bodies].sort());
    // Each ran once, so each was received once, as SQS would count it: the stops cost no receive.
    expect(new Set(delivered.map((r) => r.attributes.ApproximateReceiveCount))).toEqual(new Set(['1']));
    expect(await counts(target.url)).toEqual({ visible: 0, inFlight: 0 });
  }, 60_000);

  it('fair mode: a stop in the middle of reading a backlog ahead hides nothing: every message not run is visible at once', async () => {
    const bodies = Array.from({ length: 300 }, (_, i) => `s${i}`);
    // A visibility timeout longer than the test: a message lost in transit would stay hidden throughout.
    const { target } = await redrivenQueue('fair-stop-reading', 60, bodies);
    let ran = 0;
    for (let cycle = 0; cycle < 3; cycle += 1) {
      const run = fairMappingOn(target, 200, { visibilityTimeoutSeconds: 60 });
      run.mapping.start();
      const until = Date.now() + 3_000;
      while (run.mapping.waiting < 30 && Date.now() < until) await new Promise((r) => setImmediate(r));
      await run.mapping.stop();
      ran += run.delivered.length;
      expect(await counts(target.url)).toEqual({ visible: bodies.length - ran, inFlight: 0 });
    }
  }, 30_000);

  it('fair mode: a record that keeps failing is dead-lettered after maxReceiveCount deliveries, stops in between', async () => {
    const { target, dlq } = await redrivenQueue('fair-poison', 1, ['poison']);
    const deliveries: string[] = [];
    const until = Date.now() + 20_000;
    while ((await counts(dlq.url)).visible === 0 && Date.now() < until) {
      const run = fairMappingOn(target, 0, { visibilityTimeoutSeconds: 1, fail: () => true });
      run.mapping.start();
      const runUntil = Date.now() + 3_000;
      while (run.delivered.length === 0 && Date.now() < runUntil) await new Promise((r) => setTimeout(r, 20));
      await run.mapping.stop();
      deliveries.push(...run.delivered.map((r) => r.attributes.ApproximateReceiveCount));
    }
    expect(deliveries).toEqual(['1', '2', '3']);
    expect(await counts(dlq.url)).toEqual({ visible: 1, inFlight: 0 });
    expect(await counts(target.url)).toEqual({ visible: 0, inFlight: 0 });
  }, 30_000);
});
