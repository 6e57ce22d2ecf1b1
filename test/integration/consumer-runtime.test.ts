/**
 * The real consumer runtime (`defineConsumer` with its SDK clients and Powertools utilities) against the embedded
 * emulators: fauxqs for SQS and S3, dynalite for the idempotency table. Queues, DLQs, table and bucket come from
 * the local topology, and the runtime configuration from the same wiring the stack uses. Lambda's event source
 * mapping is played by `deliver` below: receive, invoke, delete what succeeded.
 */
import { randomUUID } from 'node:crypto';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { Duration } from 'aws-cdk-lib';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { defineConsumer, PermanentError } from '../../lambda/consumer';
import type { ConsumerDefinition } from '../../lambda/consumer/types';
import {
  ENVELOPE_VERSION,
  FAILURE_ATTRIBUTES,
  MESSAGE_ATTRIBUTES,
  type WebhookEnvelope,
} from '../../lambda/shared/envelope';
import { CONSUMER_CONFIG_ENV } from '../../lambda/shared/runtime-config';
import { defineConfig, resolveConfig } from '../../lib/config';
import { localDynamoClient, localS3Client, localSqsClient } from '../../lib/local/clients';
import { type Emulators, startEmulators } from '../../lib/local/emulators';
import { createTopology, type LocalTopology } from '../../lib/local/topology';
import { consumerRuntimeConfig } from '../../lib/runtime-wiring';

const config = resolveConfig(
  defineConfig({
    stackName: 'ConsumerIt',
    sources: { github: { type: 'github' }, shopify: { type: 'shopify' } },
    queues: {
      events: {
        maxReceiveCount: 5,
        consumer: {
          entry: 'lambda/consumers/events.ts',
          timeout: Duration.seconds(30),
          // One-second backoff, so a retried record visibly comes back long before the 180 s visibility timeout.
          retry: { base: Duration.seconds(1), factor: 1, max: Duration.seconds(1) },
        },
      },
      orders: {
        fifo: true,
        fifoGrouping: { path: 'id' },
        consumer: {
          entry: 'lambda/consumers/orders.ts',
          timeout: Duration.seconds(30),
          retry: { base: Duration.seconds(1), factor: 1, max: Duration.seconds(1) },
        },
      },
    },
    defaultRoute: { queues: ['events'] },
  }),
);

let emulators: Emulators;
let topology: LocalTopology;
let sqs: SQSClient;

const lambdaContext = {
  getRemainingTimeInMillis: () => 25_000,
  awsRequestId: 'it',
  functionName: 'it',
} as Context;

function queueOf(name: string) {
  const queue = config.queues.find((q) => q.name === name);
  const local = topology.queues[name];
  if (!queue || !local) throw new Error(`no queue ${name}`);
  return { queue, local };
}

/** A consumer module as Lambda would load it, configured for `queueName` like the stack configures it. */
function consumerFor(queueName: string, definition: ConsumerDefinition) {
  vi.stubEnv(
    CONSUMER_CONFIG_ENV,
    JSON.stringify(consumerRuntimeConfig(queueOf(queueName).queue, topology.resources)),
  );
  return defineConsumer(definition);
}

function envelopeOf(overrides: Partial<WebhookEnvelope> = {}): WebhookEnvelope {
  return {
    v: ENVELOPE_VERSION,
    id: `delivery-${randomUUID()}`,
    source: 'github',
    type: 'push',
    receivedAt: new Date().toISOString(),
    headers: {},
    contentType: 'application/json',
    body: JSON.stringify({ ref: 'refs/heads/main' }),
    bodyEncoding: 'utf8',
    ...overrides,
  };
}

async function send(queueName: string, env: WebhookEnvelope, groupId?: string) {
  const { local } = queueOf(queueName);
  await sqs.send(
    new SendMessageCommand({
      QueueUrl: local.url,
      MessageBody: JSON.stringify(env),
      MessageAttributes: {
        [MESSAGE_ATTRIBUTES.source]: { DataType: 'String', StringValue: env.source },
        [MESSAGE_ATTRIBUTES.type]: { DataType: 'String', StringValue: env.type },
        [MESSAGE_ATTRIBUTES.eventId]: { DataType: 'String', StringValue: env.id },
      },
      ...(groupId ? { MessageGroupId: groupId, MessageDeduplicationId: env.id } : {}),
    }),
  );
}

/** Receives until `max` messages or `waitSeconds` pass; with `fill: false`, returns after the first non-empty receive. */
async function receive(url: string, max: number, waitSeconds: number, fill = true): Promise<Message[]> {
  const messages: Message[] = [];
  const deadline = Date.now() + waitSeconds * 1_000;
  do {
    const response = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: url,
        MaxNumberOfMessages: Math.min(10, max - messages.length),
        WaitTimeSeconds: Math.max(0, Math.min(20, Math.ceil((deadline - Date.now()) / 1_000))),
        MessageSystemAttributeNames: ['All'],
        MessageAttributeNames: ['All'],
      }),
    );
    messages.push(...(response.Messages ?? []));
  } while ((fill || messages.length === 0) && messages.length < max && Date.now() < deadline);
  return messages;
}

function toRecord(message: Message, queueArn: string): SQSRecord {
  const attributes = message.Attributes ?? {};
  return {
    messageId: message.MessageId ?? '',
    receiptHandle: message.ReceiptHandle ?? '',
    body: message.Body ?? '',
    attributes: attributes as unknown as SQSRecord['attributes'],
    messageAttributes: Object.fromEntries(
      Object.entries(message.MessageAttributes ?? {}).map(([name, value]) => [
        name,
        {
          dataType: value.DataType ?? 'String',
          ...(value.StringValue ? { stringValue: value.StringValue } : {}),
        },
      ]),
    ),
    md5OfBody: message.MD5OfBody ?? '',
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: emulators.region,
  };
}

/** One event-source-mapping cycle: receive up to `max`, invoke, delete the records that did not fail. */
async function deliver(
  queueName: string,
  handler: (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>,
  max = 10,
  waitSeconds = 5,
  fill = true,
  context: Context = lambdaContext,
): Promise<{ records: SQSRecord[]; response: SQSBatchResponse }> {
  const { local } = queueOf(queueName);
  const messages = await receive(local.url, max, waitSeconds, fill);
  const records = messages.map((m) => toRecord(m, local.arn));
  const response = await handler({ Records: records }, context);
  const failed = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
  const done = records.filter((r) => !failed.has(r.messageId));
  if (done.length > 0) {
    await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: local.url,
        Entries: done.map((r, i) => ({ Id: String(i), ReceiptHandle: r.receiptHandle })),
      }),
    );
  }
  return { records, response };
}

async function drain(url: string) {
  for (;;) {
    const messages = await receive(url, 10, 0);
    if (messages.length === 0) return;
    await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: url,
        Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle ?? '' })),
      }),
    );
  }
}

/** Polls `condition` every 100 ms for up to `ms`; resolves whether it held (the caller asserts what matters). */
async function waitFor(condition: () => Promise<boolean> | boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await condition()) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function queueDepth(url: string): Promise<{ visible: number; inFlight: number }> {
  const { Attributes: a = {} } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: url,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return {
    visible: Number(a.ApproximateNumberOfMessages ?? 0),
    inFlight: Number(a.ApproximateNumberOfMessagesNotVisible ?? 0),
  };
}

/**
 * What the end of a timed-out invocation does to its batch: Lambda never got a response, so every record it
 * still holds becomes visible again (here at once instead of after the queue's visibility timeout). A record
 * the runtime already deleted has nothing to come back.
 */
async function expireInvocation(url: string, messages: readonly Message[]) {
  for (const message of messages) {
    try {
      await sqs.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: url,
          ReceiptHandle: message.ReceiptHandle,
          VisibilityTimeout: 0,
        }),
      );
    } catch {
      // Deleted already: not in flight any more.
    }
  }
}

const envelopeIdOf = (message: Message): string => JSON.parse(message.Body ?? '{}').id;

/** Deletes messages a test received and holds in flight, so later tests (and FIFO groups) start clean. */
async function release(url: string, messages: readonly Message[]) {
  if (messages.length === 0) return;
  await sqs.send(
    new DeleteMessageBatchCommand({
      QueueUrl: url,
      Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle ?? '' })),
    }),
  );
}

beforeAll(async () => {
  emulators = await startEmulators();
  topology = await createTopology(config, emulators);
  sqs = localSqsClient(emulators);
}, 60_000);

afterAll(async () => {
  sqs?.destroy();
  await emulators?.stop();
});

describe('consumer runtime on the emulators', () => {
  const stubbed = () => {
    vi.stubEnv('AWS_REGION', emulators.region);
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'hookline-local');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'hookline-local');
    vi.stubEnv('AWS_ENDPOINT_URL_SQS', emulators.endpoints.sqs);
    vi.stubEnv('AWS_ENDPOINT_URL_S3', emulators.endpoints.s3);
    vi.stubEnv('AWS_ENDPOINT_URL_DYNAMODB', emulators.endpoints.dynamodb);
    // Keep the test output readable; the log and EMF lines are asserted in the unit tests.
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  };

  afterEach(async () => {
    vi.unstubAllEnvs();
    vi.restoreAllMocks();
    for (const q of Object.values(topology.queues)) {
      await drain(q.url);
      await drain(q.deadLetterUrl);
    }
  });

  it('only the failing record of a batch comes back, after the backoff, with receive count 2', async () => {
    stubbed();
    const handler = consumerFor('events', {
      handlers: {
        'github.push': async (event, ctx) => {
          if (event.id.endsWith('-3') && ctx.attempt === 1) throw new Error('message 3 fails once');
        },
      },
    });
    const envelopes = Array.from({ length: 10 }, (_, i) =>
      envelopeOf({ id: `c19-${randomUUID()}-${i + 1}` }),
    );
    for (const env of envelopes) await send('events', env);

    const first = await deliver('events', handler, 10);
    expect(first.records).toHaveLength(10);
    const failedRecord = first.records.find((r) => JSON.parse(r.body).id.endsWith('-3'));
    expect(first.response.batchItemFailures).toStrictEqual([{ itemIdentifier: failedRecord?.messageId }]);

    // The 180 s queue visibility timeout would hold it for minutes; the 1 s backoff brings it back now.
    const again = await receive(queueOf('events').local.url, 10, 8, false);
    expect(again.map((m) => m.MessageId)).toStrictEqual([failedRecord?.messageId]);
    expect(again[0]?.Attributes?.ApproximateReceiveCount).toBe('2');
  });

  it.each([
    ['POWERTOOLS_LOG_LEVEL', { POWERTOOLS_LOG_LEVEL: 'WARN' }],
    // Lambda's advanced logging controls set it (applicationLogLevel); Powertools lets it win over its own.
    ['AWS_LAMBDA_LOG_LEVEL', { POWERTOOLS_LOG_LEVEL: 'INFO', AWS_LAMBDA_LOG_LEVEL: 'WARN' }],
  ])(
    'at log level WARN (%s), a retried and a dead-lettered record still write their one outcome line, a processed one none',
    async (_, level) => {
      stubbed();
      for (const [name, value] of Object.entries(level)) vi.stubEnv(name, value);
      const written: string[] = [];
      for (const stream of [process.stdout, process.stderr]) {
        vi.spyOn(stream, 'write').mockImplementation((chunk) => {
          written.push(String(chunk));
          return true;
        });
      }
      const handler = consumerFor('events', {
        handlers: {
          'github.push': async (event) => {
            if (event.id.endsWith('-flaky')) throw new Error('downstream 503');
            if (event.id.endsWith('-poison')) throw new PermanentError('repository no longer exists');
          },
        },
      });
      const run = randomUUID();
      for (const name of ['done', 'flaky', 'poison'])
        await send('events', envelopeOf({ id: `${run}-${name}` }));

      const { records } = await deliver('events', handler, 3);
      expect(records).toHaveLength(3);

      const outcomes = written
        .flatMap((chunk) => chunk.split('\n'))
        .filter((line) => line.includes('"record outcome"'))
        .map((line) => JSON.parse(line) as Record<string, unknown>);
      expect(outcomes.map((o) => [o.id, o.outcome, o.level]).sort()).toStrictEqual([
        [`${run}-flaky`, 'retried', 'WARN'],
        [`${run}-poison`, 'dead-lettered', 'ERROR'],
      ]);
      const { local } = queueOf('events');
      const dead = await receive(local.deadLetterUrl, 1, 5);
      expect(dead).toHaveLength(1);
      // Taken off both queues (the retried one after its 1 s backoff), so the next test starts clean.
      await release(local.deadLetterUrl, dead);
      const again = await receive(local.url, 1, 8, false);
      expect(again.map(envelopeIdOf)).toStrictEqual([`${run}-flaky`]);
      await release(local.url, again);
    },
  );

  it('a permanent failure: the DLQ receives the message with its reason attributes and the original ones', async () => {
    stubbed();
    const handler = consumerFor('events', {
      handlers: {
        'github.push': async () => {
          throw new PermanentError('repository no longer exists');
        },
      },
    });
    const env = envelopeOf();
    await send('events', env);

    const { response } = await deliver('events', handler, 1);
    expect(response.batchItemFailures).toStrictEqual([]);

    const { local } = queueOf('events');
    const dead = await receive(local.deadLetterUrl, 1, 5);
    expect(dead).toHaveLength(1);
    expect(JSON.parse(dead[0]?.Body ?? '{}')).toStrictEqual(env);
    const attrs = dead[0]?.MessageAttributes ?? {};
    expect(attrs[FAILURE_ATTRIBUTES.errorName]?.StringValue).toBe('PermanentError');
    expect(attrs[FAILURE_ATTRIBUTES.errorMessage]?.StringValue).toBe('repository no longer exists');
    expect(attrs[FAILURE_ATTRIBUTES.attempt]?.StringValue).toBe('1');
    expect(attrs[FAILURE_ATTRIBUTES.consumer]?.StringValue).toBe('events');
    expect(attrs[FAILURE_ATTRIBUTES.failedAt]?.StringValue).toMatch(/^\d{4}-\d{2}-\d{2}T/);
    expect(attrs[MESSAGE_ATTRIBUTES.eventId]?.StringValue).toBe(env.id);
    expect(await receive(local.url, 1, 0)).toHaveLength(0);
  });

  it('a poison message is dead-lettered by the consumer on attempt maxReceiveCount, with its reason', async () => {
    stubbed();
    let calls = 0;
    const handler = consumerFor('events', {
      handlers: {
        'github.push': async () => {
          calls++;
          throw new Error('always broken');
        },
      },
    });
    await send('events', envelopeOf());

    for (let attempt = 1; attempt <= 5; attempt++) {
      const { records, response } = await deliver('events', handler, 1, 8);
      expect(records.map((r) => r.attributes.ApproximateReceiveCount)).toStrictEqual([String(attempt)]);
      expect(response.batchItemFailures).toHaveLength(attempt < 5 ? 1 : 0);
    }

    expect(calls).toBe(5);
    const dead = await receive(queueOf('events').local.deadLetterUrl, 1, 5);
    expect(dead[0]?.MessageAttributes?.[FAILURE_ATTRIBUTES.errorMessage]?.StringValue).toBe('always broken');
    expect(dead[0]?.MessageAttributes?.[FAILURE_ATTRIBUTES.attempt]?.StringValue).toBe('5');
  }, 60_000);

  it('a handler that throws a value with no text is retried, then dead-lettered with a readable reason', async () => {
    stubbed();
    const handler = consumerFor('events', {
      handlers: {
        'github.push': async () => {
          const cyclic = Object.create(null) as Record<string, unknown>;
          cyclic.self = cyclic;
          throw cyclic;
        },
      },
    });
    await send('events', envelopeOf());

    for (let attempt = 1; attempt <= 5; attempt++) {
      const { response } = await deliver('events', handler, 1, 8);
      expect(response.batchItemFailures).toHaveLength(attempt < 5 ? 1 : 0);
    }

    const dead = await receive(queueOf('events').local.deadLetterUrl, 1, 5);
    const attrs = dead[0]?.MessageAttributes ?? {};
    expect(attrs[FAILURE_ATTRIBUTES.errorName]?.StringValue).toBe('NonErrorThrown');
    expect(attrs[FAILURE_ATTRIBUTES.errorMessage]?.StringValue).toBe(
      '(a thrown object that cannot be written as text)',
    );
    expect(attrs[FAILURE_ATTRIBUTES.attempt]?.StringValue).toBe('5');
  }, 60_000);

  it('duplicates of one delivery id cause one side effect; the idempotency record is in DynamoDB', async () => {
    stubbed();
    const effects: string[] = [];
    const handler = consumerFor('events', {
      handlers: {
        'github.push': async (event) => {
          effects.push(event.id);
        },
      },
    });
    const env = envelopeOf();
    await send('events', env);
    await deliver('events', handler, 1);
    await send('events', env);
    const second = await deliver('events', handler, 1);

    expect(second.response.batchItemFailures).toStrictEqual([]);
    expect(effects).toStrictEqual([env.id]);
    const dynamo = localDynamoClient(emulators);
    try {
      const items = await dynamo.send(new ScanCommand({ TableName: topology.idempotencyTableName }));
      const statuses = (items.Items ?? []).map((item) => ({ id: item.id?.S, status: item.status?.S }));
      expect(statuses).toContainEqual({ id: expect.stringMatching(/^events#/), status: 'COMPLETED' });
    } finally {
      dynamo.destroy();
    }
  });

  it('an in-flight duplicate in the same batch is reported as a failure, not dropped', async () => {
    stubbed();
    let calls = 0;
    const handler = consumerFor('events', {
      handlers: {
        'github.push': async () => {
          calls++;
          await new Promise((resolve) => setTimeout(resolve, 300));
        },
      },
    });
    const env = envelopeOf();
    await send('events', env);
    await send('events', env);

    const { records, response } = await deliver('events', handler, 2);

    expect(records).toHaveLength(2);
    expect(calls).toBe(1);
    expect(response.batchItemFailures).toHaveLength(1);
    // It comes back after the backoff, and is then recognised as done.
    const retried = await deliver('events', handler, 1, 8);
    expect(retried.response.batchItemFailures).toStrictEqual([]);
    expect(calls).toBe(1);
  });

  it('an invocation that dies mid-record blocks retries only until its timeout, then the retry runs', async () => {
    stubbed();
    const effects: string[] = [];
    const hang = new Promise<void>(() => {});
    // The handler runs only once the record's in-progress lock is saved: when it starts, the lock is held.
    let started: () => void = () => {};
    const locked = new Promise<number>((resolve) => {
      started = () => resolve(Date.now());
    });
    const dying = consumerFor('events', {
      handlers: {
        'github.push': async () => {
          started();
          await hang;
        },
      },
    });
    const env = envelopeOf();
    await send('events', env);
    const { local } = queueOf('events');
    const [message] = await receive(local.url, 1, 5);
    if (!message) throw new Error('no message');
    // 5 s left: above the 3 s deadline margin, so the record starts, and its in-progress lock expires with it.
    const dyingContext = { ...lambdaContext, getRemainingTimeInMillis: () => 5_000 };
    void dying({ Records: [toRecord(message, local.arn)] }, dyingContext);
    // The lock expires 5 s after it was saved, which is no later than the handler started.
    const lockedAt = await locked;
    await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: local.url,
        Entries: [{ Id: '0', ReceiptHandle: message.ReceiptHandle }],
      }),
    );

    const fresh = consumerFor('events', {
      handlers: {
        'github.push': async (event) => {
          effects.push(event.id);
        },
      },
    });
    await send('events', env);
    // Lambda gives every invocation of the function the same timeout: the copy that finds the key held is handed
    // back for that long, the longest the other invocation's lock can last.
    const whileLocked = await deliver('events', fresh, 1, 5, true, dyingContext);
    expect(whileLocked.response.batchItemFailures).toHaveLength(1);
    expect(effects).toStrictEqual([]);

    await new Promise((resolve) => setTimeout(resolve, Math.max(0, lockedAt + 5_100 - Date.now())));
    const afterTimeout = await deliver('events', fresh, 1, 8, true, dyingContext);
    expect(afterTimeout.response.batchItemFailures).toStrictEqual([]);
    expect(effects).toStrictEqual([env.id]);
  }, 30_000);

  /** Puts a claim-checked body into the payload bucket, as ingest does for a large one. */
  async function storePayload(key: string, body: string | Buffer): Promise<{ bucket: string; key: string }> {
    const s3 = localS3Client(emulators);
    const bucket = topology.payloadBucketName;
    try {
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
    } finally {
      s3.destroy();
    }
    return { bucket, key };
  }

  it('claim check: a payload stored in S3 is fetched before the handler runs', async () => {
    stubbed();
    const { bucket, key } = await storePayload(`payloads/${randomUUID()}`, JSON.stringify({ ref: 'big' }));
    const seen: unknown[] = [];
    const handler = consumerFor('events', {
      handlers: {
        'github.push': async (event) => {
          seen.push(event.payload);
        },
      },
    });
    await send('events', envelopeOf({ body: undefined, payloadRef: { bucket, key, sizeBytes: 13 } }));

    const { response } = await deliver('events', handler, 1);

    expect(response.batchItemFailures).toStrictEqual([]);
    expect(seen).toStrictEqual([{ ref: 'big' }]);
  });

  it('claim check: a body gone from the bucket is dead-lettered on its first receive, naming the object', async () => {
    stubbed();
    const { bucket } = await storePayload(`payloads/${randomUUID()}`, '{}');
    const key = `payloads/${randomUUID()}`;
    let calls = 0;
    const handler = consumerFor('events', {
      handlers: {
        'github.push': async () => {
          calls++;
        },
      },
    });
    await send('events', envelopeOf({ body: undefined, payloadRef: { bucket, key, sizeBytes: 13 } }));

    const { response } = await deliver('events', handler, 1);

    expect(response.batchItemFailures).toStrictEqual([]);
    expect(calls).toBe(0);
    const dead = await receive(queueOf('events').local.deadLetterUrl, 1, 5);
    const attrs = dead[0]?.MessageAttributes ?? {};
    expect(attrs[FAILURE_ATTRIBUTES.errorName]?.StringValue).toBe('PayloadGoneError');
    expect(attrs[FAILURE_ATTRIBUTES.errorMessage]?.StringValue).toContain(`s3://${bucket}/${key} (13 bytes)`);
    expect(attrs[FAILURE_ATTRIBUTES.attempt]?.StringValue).toBe('1');
  });

  it('a record dead-lettered in a batch whose invocation then times out reaches the DLQ exactly once', async () => {
    stubbed();
    const hang = new Promise<void>(() => {});
    const definition: ConsumerDefinition = {
      handlers: {
        'github.push': async () => {
          throw new PermanentError('repository no longer exists');
        },
        'github.slow': async () => {
          await hang;
        },
      },
    };
    const dying = consumerFor('events', definition);
    const dead = envelopeOf({ id: `dead-${randomUUID()}` });
    const slow = envelopeOf({ id: `slow-${randomUUID()}`, type: 'slow' });
    await send('events', dead);
    await send('events', slow);
    const { local } = queueOf('events');
    const batch = await receive(local.url, 2, 5);
    expect(batch.map(envelopeIdOf).sort()).toStrictEqual([dead.id, slow.id].sort());

    // The slow record never finishes: like a Lambda timeout, the batch response is never returned.
    void dying({ Records: batch.map((m) => toRecord(m, local.arn)) }, lambdaContext);
    expect(await waitFor(async () => (await queueDepth(local.deadLetterUrl)).visible === 1, 5_000)).toBe(
      true,
    );
    await waitFor(async () => (await queueDepth(local.url)).inFlight === 1, 2_000);
    await expireInvocation(local.url, batch);

    const redelivered = await deliver('events', consumerFor('events', definition), 10, 2);
    expect(redelivered.records.map((r) => JSON.parse(r.body).id)).toStrictEqual([slow.id]);
    const dlq = await receive(local.deadLetterUrl, 10, 2);
    await release(local.deadLetterUrl, dlq);
    expect(dlq.map(envelopeIdOf)).toStrictEqual([dead.id]);
    expect(dlq[0]?.MessageAttributes?.[FAILURE_ATTRIBUTES.errorName]?.StringValue).toBe('PermanentError');
  }, 30_000);

  it('FIFO: records processed before the invocation times out are not redelivered', async () => {
    stubbed();
    const hang = new Promise<void>(() => {});
    const processed: string[] = [];
    const dying = consumerFor('orders', {
      handlers: {
        'shopify.**': async (event) => {
          if (event.type === 'orders/slow') await hang;
          processed.push(event.id);
        },
      },
    });
    const layout = [
      ['a1', 'timeout-A', 'orders/create'],
      ['b1', 'timeout-B', 'orders/create'],
      ['c1', 'timeout-C', 'orders/slow'],
    ] as const;
    const ids = new Map<string, string>();
    for (const [name, group, type] of layout) {
      const env = envelopeOf({ id: `${name}-${randomUUID()}`, source: 'shopify', type });
      ids.set(name, env.id);
      await send('orders', env, group);
    }
    const { local } = queueOf('orders');
    const received = await receive(local.url, 3, 5);
    expect(received).toHaveLength(3);
    // Batch order a1, b1, c1: the slow record runs last, after the other two finished.
    const rank = (m: Message) => [...ids.values()].indexOf(envelopeIdOf(m));
    const batch = [...received].sort((x, y) => rank(x) - rank(y));

    void dying({ Records: batch.map((m) => toRecord(m, local.arn)) }, lambdaContext);
    expect(await waitFor(() => processed.length === 2, 5_000)).toBe(true);
    await waitFor(async () => (await queueDepth(local.url)).inFlight === 1, 2_000);
    await expireInvocation(local.url, batch);

    const again = await receive(local.url, 3, 2);
    await release(local.url, again);
    expect(again.map(envelopeIdOf)).toStrictEqual([ids.get('c1')]);
    expect(again[0]?.Attributes?.ApproximateReceiveCount).toBe('2');
  }, 30_000);

  it('claim check: the handler gets the same event, body included, as for the inline envelope', async () => {
    stubbed();
    const bytes = Buffer.from(JSON.stringify({ ref: 'big', note: 'Zoë' }));
    const { bucket, key } = await storePayload(`payloads/github/${randomUUID()}`, bytes);
    const seen: unknown[] = [];
    const handler = consumerFor('events', {
      handlers: {
        'github.push': async (event) => {
          seen.push(event);
        },
      },
    });
    const inline = envelopeOf({ body: bytes.toString('utf8') });
    const payloadRef = { bucket, key, sizeBytes: bytes.length };
    await send('events', inline);
    await deliver('events', handler, 1);
    // A second delivery id: the idempotency layer would otherwise skip the handler.
    const { body: _body, ...withoutBody } = { ...inline, id: `${inline.id}-claim-checked` };
    await send('events', { ...withoutBody, payloadRef });
    await deliver('events', handler, 1);

    expect(seen).toStrictEqual([
      { ...inline, payload: { ref: 'big', note: 'Zoë' } },
      { ...inline, id: `${inline.id}-claim-checked`, payloadRef, payload: { ref: 'big', note: 'Zoë' } },
    ]);
  });

  it('FIFO: a failure in group A holds back the rest of A; group B goes on; order survives the retry', async () => {
    stubbed();
    const order: string[] = [];
    let failOnce = true;
    const handler = consumerFor('orders', {
      handlers: {
        'shopify.**': async (event) => {
          if (event.id.startsWith('a2') && failOnce) {
            failOnce = false;
            throw new Error('A2 fails once');
          }
          order.push(event.id.slice(0, 2));
        },
      },
    });
    for (const [id, group] of [
      ['a1', 'A'],
      ['b1', 'B'],
      ['a2', 'A'],
      ['b2', 'B'],
      ['a3', 'A'],
    ] as const) {
      await send(
        'orders',
        envelopeOf({ id: `${id}-${randomUUID()}`, source: 'shopify', type: 'orders/create' }),
        group,
      );
    }

    // fauxqs hands out one in-flight message per group at a time; SQS may return several. Either way the
    // observable result must be the same: A in order after its retry, B never held back by A.
    const failedGroups: string[] = [];
    for (let cycle = 0; cycle < 10 && order.length < 5; cycle++) {
      const { records, response } = await deliver('orders', handler, 5, 5, false);
      const failed = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
      failedGroups.push(
        ...records.filter((r) => failed.has(r.messageId)).map((r) => r.attributes.MessageGroupId ?? ''),
      );
    }

    expect(order).toStrictEqual(['a1', 'b1', 'b2', 'a2', 'a3']);
    expect(failedGroups.length).toBeGreaterThan(0);
    expect(new Set(failedGroups)).toStrictEqual(new Set(['A']));
  });
});
