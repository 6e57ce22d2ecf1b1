import { createHash } from 'node:crypto';
import { Metrics } from '@aws-lambda-powertools/metrics';
import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { FirehoseClient, PutRecordBatchCommand } from '@aws-sdk/client-firehose';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, expectTypeOf, it, type MockInstance, vi } from 'vitest';
import { z } from 'zod';
import { powertoolsIdempotencyGate, powertoolsMetricsSink } from '../../../lambda/consumer/aws';
import { defineConsumer, PermanentError } from '../../../lambda/consumer/index';
import { BREAKER_METRICS } from '../../../lambda/shared/circuit-breaker';
import { CONSUMER_OUTCOME_MESSAGE } from '../../../lambda/shared/contracts';
import { FAILURE_ATTRIBUTES } from '../../../lambda/shared/envelope';
import { JOB_RECORD_HEADER, JOB_SOURCE } from '../../../lambda/shared/job';
import { CONSUMER_CONFIG_ENV } from '../../../lambda/shared/runtime-config';
import { envelope, record, runtimeConfig, sqsEvent, typeCounts } from './fakes';

const context = {
  getRemainingTimeInMillis: () => 20_000,
  awsRequestId: 'req-1',
  functionName: 'fn',
} as Context;

describe('defineConsumer wiring', () => {
  const sqs = mockClient(SQSClient);
  /** What the function wrote, stdout and stderr (Powertools writes WARN and ERROR lines there), in order. */
  let written: string[];
  let spies: MockInstance<typeof process.stdout.write>[];

  beforeEach(() => {
    sqs.reset();
    sqs.on(ChangeMessageVisibilityCommand).resolves({});
    sqs.on(SendMessageCommand).resolves({ MessageId: 'dlq-1' });
    vi.stubEnv('AWS_REGION', 'us-east-1');
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'test');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'test');
    written = [];
    spies = [process.stdout, process.stderr].map((stream) =>
      vi.spyOn(stream, 'write').mockImplementation((chunk) => {
        written.push(String(chunk));
        return true;
      }),
    );
  });

  afterEach(() => {
    vi.unstubAllEnvs();
    for (const spy of spies) spy.mockRestore();
  });

  const loggedJson = () =>
    written
      .flatMap((chunk) => chunk.split('\n'))
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);

  it('reads its configuration on the first invocation, not at import', async () => {
    const handler = defineConsumer({ handlers: { '**': async () => {} } });
    await expect(handler(sqsEvent([record(envelope())]), context)).rejects.toThrow(
      /HOOKLINE_CONSUMER_CONFIG is not set/,
    );

    vi.stubEnv(CONSUMER_CONFIG_ENV, JSON.stringify(runtimeConfig()));
    const fresh = defineConsumer({ handlers: { '**': async () => {} } });
    expect(await fresh(sqsEvent([record(envelope())]), context)).toStrictEqual({ batchItemFailures: [] });
  });

  it('runs without a Lambda context (no deadline) when called directly', async () => {
    vi.stubEnv(CONSUMER_CONFIG_ENV, JSON.stringify(runtimeConfig()));
    const handler = defineConsumer({ handlers: { '**': async () => {} } });
    const response = await handler(sqsEvent([record(envelope())]), undefined as unknown as Context);
    expect(response).toStrictEqual({ batchItemFailures: [] });
  });

  it('types a schema handler’s payload by its schema when plain handlers sit beside it (the README’s shape)', async () => {
    vi.stubEnv(CONSUMER_CONFIG_ENV, JSON.stringify(runtimeConfig()));
    const recorded: string[] = [];
    const handler = defineConsumer({
      handlers: {
        'github.push': async (event) => {
          recorded.push(`push ${event.id}`);
        },
        'stripe.invoice.*': {
          schema: z.object({ id: z.string(), type: z.string() }),
          handle: async (event) => {
            // Compiles only while the payload is typed by the schema, not `unknown`.
            expectTypeOf(event.payload).toEqualTypeOf<{ id: string; type: string }>();
            recorded.push(`invoice ${event.payload.id.toUpperCase()}`);
          },
        },
      },
    });
    const invoice = envelope({
      source: 'stripe',
      type: 'invoice.paid',
      body: JSON.stringify({ id: 'evt_1', type: 'invoice.paid' }),
    });
    const push = envelope({ id: 'push-1' });

    const response = await handler(sqsEvent([record(invoice), record(push)]), context);

    expect(response).toStrictEqual({ batchItemFailures: [] });
    expect(recorded.sort()).toStrictEqual(['invoice EVT_1', 'push push-1']);
  });

  it('hands a batch back unstarted when the Lambda context says the deadline is too near', async () => {
    vi.stubEnv(CONSUMER_CONFIG_ENV, JSON.stringify(runtimeConfig({ deadlineMarginMs: 3_000 })));
    let runs = 0;
    const handler = defineConsumer({ handlers: { '**': async () => void runs++ } });
    const late = record(envelope());
    const response = await handler(sqsEvent([late]), { ...context, getRemainingTimeInMillis: () => 1_000 });
    expect(response).toStrictEqual({ batchItemFailures: [{ itemIdentifier: late.messageId }] });
    expect(runs).toBe(0);
  });

  it("tags a handler's own log lines with the record's id, source, type and attempt, as its outcome line", async () => {
    vi.stubEnv(CONSUMER_CONFIG_ENV, JSON.stringify(runtimeConfig()));
    const handler = defineConsumer({ handlers: { '**': async (_event, ctx) => ctx.logger.info('handled') } });
    await handler(sqsEvent([record(envelope({ id: 'evt-9' }), { attempt: 2 })]), context);
    const line = loggedJson().find((l) => l.message === 'handled');
    expect(line).toMatchObject({ id: 'evt-9', source: 'github', type: 'push', attempt: 2 });
  });

  it('locks each record in the configured idempotency table and archives jobs to the configured stream', async () => {
    const dynamodb = mockClient(DynamoDBClient);
    const firehose = mockClient(FirehoseClient);
    dynamodb.resolves({});
    firehose.on(PutRecordBatchCommand).resolves({ FailedPutCount: 0, RequestResponses: [] });
    try {
      vi.stubEnv(
        CONSUMER_CONFIG_ENV,
        JSON.stringify(
          runtimeConfig({
            idempotency: { tableName: 'idempotency-table', expirySeconds: 60 },
            archive: { deliveryStream: 'archive-stream' },
          }),
        ),
      );
      const handler = defineConsumer({ handlers: { '**': async () => {} } });
      const job = envelope({ source: JOB_SOURCE, type: 'email.welcome' });
      expect(await handler(sqsEvent([record(job)]), context)).toStrictEqual({ batchItemFailures: [] });
      expect(dynamodb).toHaveReceivedCommandWith(PutItemCommand, { TableName: 'idempotency-table' });
      expect(firehose).toHaveReceivedCommandWith(PutRecordBatchCommand, {
        DeliveryStreamName: 'archive-stream',
      });
    } finally {
      dynamodb.restore();
      firehose.restore();
    }
  });

  it("reads a claim-checked payload from the envelope's bucket and hands the handler its parsed body", async () => {
    const s3 = mockClient(S3Client);
    s3.on(GetObjectCommand, { Bucket: 'payloads', Key: 'big/evt-1' }).resolves({
      Body: { transformToByteArray: async () => new TextEncoder().encode('{"order":7}') } as never,
    });
    try {
      vi.stubEnv(CONSUMER_CONFIG_ENV, JSON.stringify(runtimeConfig()));
      const seen: unknown[] = [];
      const handler = defineConsumer({ handlers: { '**': async (event) => void seen.push(event.payload) } });
      const claimChecked = envelope({
        body: undefined,
        payloadRef: { bucket: 'payloads', key: 'big/evt-1', sizeBytes: 11 },
      });
      expect(await handler(sqsEvent([record(claimChecked)]), context)).toStrictEqual({
        batchItemFailures: [],
      });
      expect(seen).toStrictEqual([{ order: 7 }]);
    } finally {
      s3.restore();
    }
  });

  it("sends each service's calls to its own AWS_ENDPOINT_URL_<SERVICE>, with path-style S3, as local mode's emulators need", async () => {
    const dynamodb = mockClient(DynamoDBClient);
    const firehose = mockClient(FirehoseClient);
    const s3 = mockClient(S3Client);
    dynamodb.resolves({});
    firehose.on(PutRecordBatchCommand).resolves({ FailedPutCount: 0, RequestResponses: [] });
    s3.on(GetObjectCommand).resolves({
      Body: { transformToByteArray: async () => new TextEncoder().encode('{}') } as never,
    });
    const endpoints = {
      SQS: 'http://127.0.0.1:4001/',
      S3: 'http://127.0.0.1:4002/',
      DYNAMODB: 'http://127.0.0.1:4003/',
      FIREHOSE: 'http://127.0.0.1:4004/',
    };
    for (const [service, url] of Object.entries(endpoints)) vi.stubEnv(`AWS_ENDPOINT_URL_${service}`, url);
    /** Where the clients that sent a mock's commands point. */
    const targets = async (mock: { send: { thisValues: unknown[] } }) =>
      new Set(
        await Promise.all(
          mock.send.thisValues.map(async (client) => {
            const endpoint = await (client as SQSClient).config.endpoint?.();
            return endpoint
              ? `${endpoint.protocol}//${endpoint.hostname}:${endpoint.port}${endpoint.path}`
              : 'default';
          }),
        ),
      );
    try {
      vi.stubEnv(
        CONSUMER_CONFIG_ENV,
        JSON.stringify(
          runtimeConfig({
            idempotency: { tableName: 'idempotency-table', expirySeconds: 60 },
            jobRecords: { tableName: 'jobs-table' },
            archive: { deliveryStream: 'archive-stream' },
          }),
        ),
      );
      const handler = defineConsumer({
        handlers: {
          'github.push': async () => {
            throw new Error('later');
          },
          '**': async () => {},
        },
      });
      const job = envelope({
        source: JOB_SOURCE,
        type: 'email.welcome',
        headers: { 'content-type': 'application/json', [JOB_RECORD_HEADER]: '1' },
        body: undefined,
        payloadRef: { bucket: 'payloads', key: 'job', sizeBytes: 2 },
      });
      const response = await handler(sqsEvent([record(job), record(envelope({ id: 'retry-me' }))]), context);

      expect(response.batchItemFailures).toHaveLength(1);
      expect(dynamodb).toHaveReceivedCommandWith(UpdateItemCommand, { TableName: 'jobs-table' });
      expect(dynamodb).toHaveReceivedCommandWith(PutItemCommand, { TableName: 'idempotency-table' });
      expect(await targets(sqs as never)).toStrictEqual(new Set([endpoints.SQS]));
      expect(await targets(s3 as never)).toStrictEqual(new Set([endpoints.S3]));
      expect(await targets(dynamodb as never)).toStrictEqual(new Set([endpoints.DYNAMODB]));
      expect(await targets(firehose as never)).toStrictEqual(new Set([endpoints.FIREHOSE]));
      expect(
        new Set(s3.send.thisValues.map((client) => (client as S3Client).config.forcePathStyle)),
      ).toStrictEqual(new Set([true]));
    } finally {
      dynamodb.restore();
      firehose.restore();
      s3.restore();
    }
  });

  it('rejects a malformed handler key at definition time', () => {
    expect(() => defineConsumer({ handlers: { 'a.***': async () => {} } })).toThrow(/\*\*\*/);
  });

  it('changes visibility on the configured queue, dead-letters to the configured DLQ and deletes the dead-lettered record from its queue', async () => {
    vi.stubEnv(CONSUMER_CONFIG_ENV, JSON.stringify(runtimeConfig({ name: 'events' })));
    const handler = defineConsumer({
      handlers: {
        'github.push': async (event) => {
          if (event.id === 'bad') throw new PermanentError('unfixable');
          throw new Error('later');
        },
      },
    });
    const retried = record(envelope({ id: 'retry-me' }), { attempt: 2 });
    const dead = record(envelope({ id: 'bad' }));

    const response = await handler(sqsEvent([retried, dead]), context);

    expect(response).toStrictEqual({ batchItemFailures: [{ itemIdentifier: retried.messageId }] });
    expect(sqs).toHaveReceivedCommandWith(ChangeMessageVisibilityCommand, {
      QueueUrl: 'http://sqs.local/000000000000/events',
      ReceiptHandle: retried.receiptHandle,
      VisibilityTimeout: expect.any(Number),
    });
    expect(sqs).toHaveReceivedCommandWith(SendMessageCommand, {
      QueueUrl: 'http://sqs.local/000000000000/events-dlq',
      MessageBody: dead.body,
      MessageAttributes: expect.objectContaining({
        [FAILURE_ATTRIBUTES.errorName]: { DataType: 'String', StringValue: 'PermanentError' },
      }),
    });
    expect(sqs).toHaveReceivedCommandWith(DeleteMessageCommand, {
      QueueUrl: 'http://sqs.local/000000000000/events',
      ReceiptHandle: dead.receiptHandle,
    });
    const outcomes = loggedJson().filter((line) => line.message === 'record outcome');
    expect(outcomes.map((o) => [o.id, o.outcome, o.level, o.service])).toStrictEqual(
      expect.arrayContaining([
        ['retry-me', 'retried', 'WARN', 'events'],
        ['bad', 'dead-lettered', 'ERROR', 'events'],
      ]),
    );
    expect(outcomes[0]).toMatchObject({ function_request_id: 'req-1' });
  });

  it('dead-letters a FIFO record into the FIFO DLQ with its message group and its message id as deduplication id', async () => {
    vi.stubEnv(
      CONSUMER_CONFIG_ENV,
      JSON.stringify(
        runtimeConfig({
          name: 'orders',
          fifo: true,
          queueUrl: 'http://sqs.local/000000000000/orders.fifo',
          deadLetterQueueUrl: 'http://sqs.local/000000000000/orders-dlq.fifo',
        }),
      ),
    );
    const handler = defineConsumer({
      handlers: {
        '**': async () => {
          throw new PermanentError('unfixable');
        },
      },
    });
    const dead = record(envelope({ id: 'bad' }), { groupId: 'customer-7' });

    await handler(sqsEvent([dead]), context);

    expect(sqs).toHaveReceivedCommandWith(SendMessageCommand, {
      QueueUrl: 'http://sqs.local/000000000000/orders-dlq.fifo',
      MessageGroupId: 'customer-7',
      MessageDeduplicationId: dead.messageId,
    });
  });

  it("logs a failed record's error with its stack in the outcome line, keeping the reason and the DLQ's reason short", async () => {
    vi.stubEnv(CONSUMER_CONFIG_ENV, JSON.stringify(runtimeConfig({ name: 'events', maxReceiveCount: 1 })));
    const handler = defineConsumer({
      handlers: {
        'github.push': async (event) => {
          const order = (event.payload as { order: { id: string } }).order;
          return order.id;
        },
      },
    });

    await handler(sqsEvent([record(envelope({ id: 'typo' }))]), context);

    const [outcome] = loggedJson().filter((line) => line.message === 'record outcome');
    const message = "Cannot read properties of undefined (reading 'id')";
    expect(outcome).toMatchObject({ outcome: 'dead-lettered', reason: `TypeError: ${message}` });
    expect(outcome?.error).toMatchObject({ name: 'TypeError', message });
    expect(String((outcome?.error as { stack?: unknown } | undefined)?.stack)).toMatch(
      /define-consumer\.test\.ts:\d+:\d+/,
    );
    expect(sqs).toHaveReceivedCommandWith(SendMessageCommand, {
      MessageAttributes: expect.objectContaining({
        [FAILURE_ATTRIBUTES.errorMessage]: { DataType: 'String', StringValue: message },
      }),
    });
  });

  it('dead-letters once, with its outcome line, an error whose cause loops back on itself (which the logger cannot format)', async () => {
    vi.stubEnv(CONSUMER_CONFIG_ENV, JSON.stringify(runtimeConfig({ name: 'events' })));
    const handler = defineConsumer({
      handlers: {
        'github.push': async () => {
          const error = new PermanentError('wrapped in itself');
          (error as { cause?: unknown }).cause = error;
          throw error;
        },
      },
    });
    const looped = record(envelope({ id: 'looped' }));

    const response = await handler(sqsEvent([looped]), context);

    expect(response).toStrictEqual({ batchItemFailures: [] });
    expect(sqs).toHaveReceivedCommandTimes(SendMessageCommand, 1);
    expect(sqs).toHaveReceivedCommandWith(DeleteMessageCommand, { ReceiptHandle: looped.receiptHandle });
    const outcomes = loggedJson().filter((line) => line.message === 'record outcome');
    expect(outcomes.map((o) => [o.id, o.outcome, o.reason])).toStrictEqual([
      ['looped', 'dead-lettered', 'PermanentError: wrapped in itself'],
    ]);
    expect(outcomes[0]?.error).toMatchObject({
      name: 'PermanentError',
      message: 'wrapped in itself',
      stack: expect.stringMatching(/define-consumer\.test\.ts:\d+:\d+/),
      cause: { name: 'PermanentError', message: 'wrapped in itself' },
    });
  });

  it.each([
    ['its cause', () => new Error('request failed', { cause: new Error('x'.repeat(1_000_000)) })],
    ['a field', () => Object.assign(new Error('request failed'), { responseBody: 'y'.repeat(1_000_000) })],
    ['a cause that is not an Error', () => new Error('request failed', { cause: 'z'.repeat(1_000_000) })],
  ])(
    'writes a short error that carries a megabyte in %s as an outcome line CloudWatch keeps whole',
    async (_, thrown) => {
      vi.stubEnv(CONSUMER_CONFIG_ENV, JSON.stringify(runtimeConfig({ name: 'events', maxReceiveCount: 1 })));
      const handler = defineConsumer({
        handlers: {
          'github.push': async () => {
            throw thrown();
          },
        },
      });

      await handler(sqsEvent([record(envelope({ id: 'heavy' }))]), context);

      const lines = written.filter((l) => l.includes('"record outcome"'));
      expect(lines).toHaveLength(1);
      expect(lines[0]?.length).toBeLessThan(32_000);
      const outcome = JSON.parse(lines[0] ?? '{}') as Record<string, unknown>;
      expect(outcome).toMatchObject({
        outcome: 'dead-lettered',
        reason: 'Error: request failed',
        error: { name: 'Error', message: 'request failed', stack: expect.stringContaining('request failed') },
      });
    },
  );

  it("names an AggregateError's inner errors in the reason, the outcome line and the dead letter", async () => {
    vi.stubEnv(CONSUMER_CONFIG_ENV, JSON.stringify(runtimeConfig({ name: 'events', maxReceiveCount: 1 })));
    const handler = defineConsumer({
      handlers: {
        'github.push': async (event) => {
          if (event.id === 'any') {
            await Promise.any([
              Promise.reject(new TypeError('mirror 1 down')),
              Promise.reject('mirror 2 refused'),
            ]);
          }
          throw new AggregateError([new Error('first'), new AggregateError([new Error('deeper')], 'inner')]);
        },
      },
    });

    await handler(sqsEvent([record(envelope({ id: 'any' })), record(envelope({ id: 'bare' }))]), context);

    const outcomes = loggedJson().filter((line) => line.message === 'record outcome');
    const reasons = Object.fromEntries(outcomes.map((o) => [o.id, o.reason]));
    expect(reasons).toStrictEqual({
      any: 'AggregateError: All promises were rejected (2 errors: TypeError: mirror 1 down; mirror 2 refused)',
      bare: 'AggregateError: 2 errors: Error: first; AggregateError: inner',
    });
    expect(sqs).toHaveReceivedCommandWith(SendMessageCommand, {
      MessageAttributes: expect.objectContaining({
        [FAILURE_ATTRIBUTES.errorMessage]: {
          DataType: 'String',
          StringValue: 'All promises were rejected (2 errors: TypeError: mirror 1 down; mirror 2 refused)',
        },
      }),
    });
  });

  it('logs a thrown string or object as its text', async () => {
    vi.stubEnv(CONSUMER_CONFIG_ENV, JSON.stringify(runtimeConfig({ name: 'events' })));
    const withoutIdempotency = defineConsumer({
      handlers: {
        'github.push': async (event) => {
          throw event.id === 'text' ? 'no luck' : { code: 42 };
        },
      },
    });
    await withoutIdempotency(
      sqsEvent([record(envelope({ id: 'text' })), record(envelope({ id: 'object' }))]),
      context,
    );
    const outcomes = loggedJson().filter((line) => line.message === 'record outcome');
    expect(outcomes.map((o) => [o.id, o.reason, o.error])).toStrictEqual(
      expect.arrayContaining([
        ['text', 'NonErrorThrown: no luck', { name: 'NonErrorThrown', message: 'no luck' }],
        ['object', 'NonErrorThrown: {"code":42}', { name: 'NonErrorThrown', message: '{"code":42}' }],
      ]),
    );
  });

  it('passes on a thrown string through the idempotency gate as thrown, not as an unknown idempotency error', async () => {
    const client = new DynamoDBClient({ region: 'us-east-1' });
    client.send = (async () => ({})) as never;
    const gate = powertoolsIdempotencyGate({ tableName: 'table', expirySeconds: 60 }, 'events', client);
    const thrown = gate.run(
      'key-1',
      async () => {
        throw 'no luck';
      },
      { getRemainingTimeInMillis: () => 10_000 },
    );
    await expect(thrown).rejects.toBe('no luck');
  });

  it('emits EMF metrics in the Hookline namespace with a type dimension, and no zero counts', async () => {
    vi.stubEnv(CONSUMER_CONFIG_ENV, JSON.stringify(runtimeConfig({ name: 'events' })));
    const handler = defineConsumer({ handlers: { '**': async () => {} } });
    await handler(sqsEvent([record(envelope()), record(envelope({ source: 'stripe', type: 'x' }))]), context);

    const emf = loggedJson().filter((line) => '_aws' in line);
    expect(emf).toHaveLength(2);
    expect(emf.map((doc) => doc.type).sort()).toStrictEqual(['github.push', 'stripe.x']);
    expect(emf[0]).toMatchObject({
      service: 'events',
      Processed: 1,
      EndToEndLatency: expect.any(Number),
      _aws: { CloudWatchMetrics: [{ Namespace: 'Hookline', Dimensions: [['service', 'type']] }] },
    });
    for (const name of ['Failed', 'Retried', 'DeadLettered', 'Duplicate', 'Deferred']) {
      expect(emf.filter((doc) => name in doc)).toStrictEqual([]);
    }
  });

  it("writes a listed type's metrics under its own type and every other type's under other, summed, with the outcome lines keeping each record's type", async () => {
    vi.stubEnv(
      CONSUMER_CONFIG_ENV,
      JSON.stringify(runtimeConfig({ name: 'events', metricTypes: ['github.push'] })),
    );
    const handler = defineConsumer({
      handlers: {
        'stripe.refused': async () => {
          throw new PermanentError('refused');
        },
        '**': async () => {},
      },
    });
    await handler(
      sqsEvent([
        record(envelope()),
        record(envelope({ source: 'stripe', type: 'x' })),
        record(envelope({ source: 'stripe', type: 'y' })),
        record(envelope({ source: 'stripe', type: 'refused' })),
      ]),
      context,
    );

    const emf = loggedJson().filter((line) => '_aws' in line);
    expect(emf.map((doc) => doc.type).sort()).toStrictEqual(['github.push', 'other']);
    for (const doc of emf)
      expect(doc).toMatchObject({
        service: 'events',
        _aws: { CloudWatchMetrics: [{ Dimensions: [['service', 'type']] }] },
      });
    const other = emf.find((doc) => doc.type === 'other');
    expect(other).toMatchObject({ Processed: 2, DeadLettered: 1, Failed: 1 });
    expect(other?.EndToEndLatency).toHaveLength(3);
    const outcomes = loggedJson().filter((line) => line.message === CONSUMER_OUTCOME_MESSAGE);
    expect(outcomes.map((line) => `${line.source}.${line.type}`).sort()).toStrictEqual([
      'github.push',
      'stripe.refused',
      'stripe.x',
      'stripe.y',
    ]);
  });

  it('writes every record under other when no type is kept (metricTypes none)', async () => {
    vi.stubEnv(CONSUMER_CONFIG_ENV, JSON.stringify(runtimeConfig({ name: 'events', metricTypes: [] })));
    const handler = defineConsumer({ handlers: { '**': async () => {} } });
    await handler(sqsEvent([record(envelope()), record(envelope({ source: 'stripe', type: 'x' }))]), context);

    const emf = loggedJson().filter((line) => '_aws' in line);
    expect(emf).toHaveLength(1);
    expect(emf[0]).toMatchObject({ service: 'events', type: 'other', Processed: 2 });
  });

  it('counts archive failures by consumer only (the dimensions the one ArchiveFailed alarm query sums)', () => {
    const sink = powertoolsMetricsSink(new Metrics({ namespace: 'Hookline', serviceName: 'events' }));
    sink.publish(new Map([['github.push', typeCounts({ Processed: 1, endToEndLatencyMs: [5] })]]));
    sink.archiveFailed(3);

    const failed = loggedJson().filter((line) => '_aws' in line && 'ArchiveFailed' in line);
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({
      ArchiveFailed: 3,
      service: 'events',
      _aws: { CloudWatchMetrics: [{ Namespace: 'Hookline', Dimensions: [['service']] }] },
    });
    expect(failed[0]).not.toHaveProperty('type');
  });

  it("publishes a breaker-enabled queue's ended and failed records of the batch, over every type, under service alone", () => {
    const sink = powertoolsMetricsSink(new Metrics({ namespace: 'Hookline', serviceName: 'events' }), {
      breakerTotals: true,
    });
    sink.publish(
      new Map([
        ['github.push', typeCounts({ Processed: 2, Retried: 1, Duplicate: 4, endToEndLatencyMs: [5, 6] })],
        ['stripe.x', typeCounts({ DeadLettered: 1, Deferred: 3, Cancelled: 1, Failed: 1 })],
      ]),
    );
    const totals = loggedJson().filter((line) => '_aws' in line && BREAKER_METRICS.ended in line);
    expect(totals).toHaveLength(1);
    expect(totals[0]).toMatchObject({
      [BREAKER_METRICS.ended]: 4,
      [BREAKER_METRICS.failed]: 2,
      service: 'events',
      _aws: { CloudWatchMetrics: [{ Namespace: 'Hookline', Dimensions: [['service']] }] },
    });
    expect(totals[0]).not.toHaveProperty('type');
  });

  it('leaves poison records (dead-lettered at once by a PermanentError) out of the breaker totals', () => {
    const sink = powertoolsMetricsSink(new Metrics({ namespace: 'Hookline', serviceName: 'events' }), {
      breakerTotals: true,
    });
    sink.publish(
      new Map([['github.push', typeCounts({ Processed: 1, Retried: 1, DeadLettered: 3, Permanent: 2 })]]),
    );
    sink.publish(new Map([['github.push', typeCounts({ DeadLettered: 4, Permanent: 4 })]]));
    const totals = loggedJson().filter((line) => '_aws' in line && BREAKER_METRICS.ended in line);
    // The second batch held only poison records: nothing ended for the breaker, so nothing is published.
    expect(totals).toHaveLength(1);
    expect(totals[0]).toMatchObject({ [BREAKER_METRICS.ended]: 3, [BREAKER_METRICS.failed]: 2 });
  });

  it('publishes the copies whose key was held elsewhere per type, and leaves them out of both breaker totals', () => {
    const sink = powertoolsMetricsSink(new Metrics({ namespace: 'Hookline', serviceName: 'events' }), {
      breakerTotals: true,
    });
    sink.publish(
      new Map([
        [
          'github.push',
          typeCounts({ Processed: 2, Retried: 3, DeadLettered: 1, Failed: 1, KeyHeldElsewhere: 3 }),
        ],
      ]),
    );
    // A batch of copies alone: nothing ended for the breaker, so no totals that would dilute or raise its share.
    sink.publish(new Map([['github.push', typeCounts({ Retried: 2, KeyHeldElsewhere: 2 })]]));

    const perType = loggedJson().filter((line) => '_aws' in line && line.type === 'github.push');
    expect(perType.map((doc) => doc.KeyHeldElsewhere)).toStrictEqual([3, 2]);
    const totals = loggedJson().filter((line) => '_aws' in line && BREAKER_METRICS.ended in line);
    expect(totals).toHaveLength(1);
    // Processed 2 and the one handler failure: 1 of 3, where counting the copies would have said 4 of 6.
    expect(totals[0]).toMatchObject({ [BREAKER_METRICS.ended]: 3, [BREAKER_METRICS.failed]: 1 });
  });

  it('publishes no breaker totals for a queue without a circuit breaker, nor for a batch where no record ended', () => {
    const plain = powertoolsMetricsSink(new Metrics({ namespace: 'Hookline', serviceName: 'events' }));
    plain.publish(new Map([['github.push', typeCounts({ Retried: 3 })]]));
    const breaker = powertoolsMetricsSink(new Metrics({ namespace: 'Hookline', serviceName: 'events' }), {
      breakerTotals: true,
    });
    breaker.publish(new Map([['github.push', typeCounts({ Duplicate: 3, Deferred: 2 })]]));
    expect(loggedJson().filter((line) => BREAKER_METRICS.ended in line)).toStrictEqual([]);
  });

  it('writes no document for a type with nothing to count, and leaves its type dimension off the ArchiveFailed count', () => {
    const sink = powertoolsMetricsSink(new Metrics({ namespace: 'Hookline', serviceName: 'events' }));
    sink.publish(new Map([['github.push', typeCounts({})]]));
    expect(loggedJson().filter((line) => '_aws' in line)).toStrictEqual([]);

    sink.archiveFailed(2);
    const emf = loggedJson().filter((line) => '_aws' in line);
    expect(emf).toHaveLength(1);
    expect(emf[0]).toMatchObject({
      ArchiveFailed: 2,
      _aws: { CloudWatchMetrics: [{ Dimensions: [['service']] }] },
    });
    expect(emf[0]).not.toHaveProperty('type');
  });

  it('writes a type dimension CloudWatch accepts (printable ASCII) for an event type a sender wrote in any script', async () => {
    vi.stubEnv(CONSUMER_CONFIG_ENV, JSON.stringify(runtimeConfig({ name: 'events' })));
    const handler = defineConsumer({ handlers: { '**': async () => {} } });
    await handler(
      sqsEvent([
        record(envelope({ source: 'generic', type: 'commande.créée' })),
        record(envelope({ source: 'generic', type: 'order\tpaid 🎉' })),
      ]),
      context,
    );

    const emf = loggedJson().filter((line) => '_aws' in line);
    const types = emf.map((doc) => String(doc.type)).sort();
    // CloudWatch drops every metric of a document whose dimension value holds a non-ASCII or control character.
    for (const type of types) expect(type).toMatch(/^[\x20-\x7e]{1,1024}$/);
    expect(types).toStrictEqual(['generic.commande.cr%C3%A9%C3%A9e', 'generic.order%09paid %F0%9F%8E%89']);
    expect(emf.map((doc) => doc.Processed)).toStrictEqual([1, 1]);
  });

  it('keeps the type dimension and counts each record once when one type has more latency values than Powertools buffers', () => {
    const sink = powertoolsMetricsSink(new Metrics({ namespace: 'Hookline', serviceName: 'events' }));
    const counts = typeCounts({
      Processed: 250,
      endToEndLatencyMs: Array.from({ length: 250 }, (_, i) => i),
    });
    sink.publish(new Map([['github.push', counts]]));

    const emf = loggedJson().filter((line) => '_aws' in line);
    expect(emf.length).toBeGreaterThan(1);
    for (const doc of emf) expect(doc.type).toBe('github.push');
    const values = emf.flatMap((doc) => {
      const v = doc.EndToEndLatency;
      return Array.isArray(v) ? v : [v];
    });
    expect(values).toHaveLength(250);
    expect(emf.filter((doc) => 'Processed' in doc).map((doc) => doc.Processed)).toStrictEqual([250]);
  });
});

describe('idempotency gate over DynamoDB', () => {
  const NOW = Date.parse('2026-12-01T00:00:00Z');

  /** DynamoDB's refusal of Powertools' conditional put, carrying the idempotency record already there. */
  function recordAlreadyThere(
    status: 'COMPLETED' | 'INPROGRESS',
    fields: Record<string, { N: string } | { BOOL: boolean }>,
  ): ConditionalCheckFailedException {
    return new ConditionalCheckFailedException({
      message: 'exists',
      $metadata: {},
      Item: {
        id: { S: 'events#hash' },
        status: { S: status },
        expiration: { N: String(NOW / 1000 + 100) },
        ...fields,
      },
    });
  }
  const invocation = { getRemainingTimeInMillis: () => 10_000 };

  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(NOW);
  });
  afterEach(() => vi.useRealTimers());

  /** A DynamoDB client that records each command; `put` decides what PutItem (the lock) answers. */
  function table(put: () => Promise<unknown> = async () => ({})) {
    const sent: { name: string; input: Record<string, unknown> }[] = [];
    const client = new DynamoDBClient({ region: 'us-east-1' });
    client.send = (async (command: { constructor: { name: string }; input: Record<string, unknown> }) => {
      sent.push({ name: command.constructor.name, input: command.input });
      return command.constructor.name === 'PutItemCommand' ? put() : {};
    }) as never;
    const gate = powertoolsIdempotencyGate({ tableName: 'table', expirySeconds: 259_200 }, 'events', client);
    return { gate, sent };
  }

  it('runs new work, locking its key for the invocation’s remaining time and keeping it for the configured expiry', async () => {
    const { gate, sent } = table();
    let runs = 0;
    const outcome = await gate.run('key-1', async () => void runs++, invocation);
    expect([outcome, runs]).toStrictEqual(['ran', 1]);
    const lock = sent.find((command) => command.name === 'PutItemCommand')?.input;
    expect(lock?.Item).toMatchObject({
      id: { S: expect.stringMatching(/^events#/) },
      status: { S: 'INPROGRESS' },
      expiration: { N: String(NOW / 1000 + 259_200) },
      in_progress_expiration: { N: String(NOW + 10_000) },
    });
  });

  it("records a key as the consumer's prefix and the hash of the key alone, so work done before an upgrade still counts as done", async () => {
    const { gate, sent } = table();
    await gate.run('events#github#evt-1', async () => {}, invocation);
    const md5 = createHash('md5').update(JSON.stringify('events#github#evt-1')).digest('base64');
    const ids = sent.map((command) => (command.input.Item as { id?: { S: string } } | undefined)?.id?.S);
    expect(ids.filter(Boolean)).toStrictEqual([`events#${md5}`]);
  });

  it('skips work whose key is already completed and says it was a duplicate', async () => {
    const { gate } = table(async () => {
      throw recordAlreadyThere('COMPLETED', { data: { BOOL: true } });
    });
    let runs = 0;
    const outcome = await gate.run('key-1', async () => void runs++, invocation);
    expect([outcome, runs]).toStrictEqual(['duplicate', 0]);
  });

  it('refuses an empty work key rather than locking every keyless record under one shared hash', async () => {
    const { gate, sent } = table();
    let runs = 0;
    await expect(gate.run('', async () => void runs++, invocation)).rejects.toMatchObject({
      cause: { name: 'IdempotencyKeyError' },
    });
    expect(runs).toBe(0);
    expect(sent).toStrictEqual([]);
  });

  it('fails, rather than skipping as a duplicate, work whose key another invocation still holds in progress', async () => {
    const { gate } = table(async () => {
      throw recordAlreadyThere('INPROGRESS', { in_progress_expiration: { N: String(NOW + 60_000) } });
    });
    let runs = 0;
    await expect(gate.run('key-1', async () => void runs++, invocation)).rejects.toMatchObject({
      name: 'IdempotencyAlreadyInProgressError',
    });
    expect(runs).toBe(0);
  });

  it('passes on what the work threw as that very error, so a PermanentError stays permanent', async () => {
    const { gate, sent } = table();
    const error = new PermanentError('unfixable');
    await expect(
      gate.run(
        'key-1',
        async () => {
          throw error;
        },
        invocation,
      ),
    ).rejects.toBe(error);
    // The key is released, so a retry runs again.
    expect(sent.map((command) => command.name)).toContain('DeleteItemCommand');
  });

  it('reports only the release’s fault, not what the work threw, when the failed key cannot be released (the core restores the work’s error)', async () => {
    const client = new DynamoDBClient({ region: 'us-east-1' });
    client.send = (async (command: { constructor: { name: string } }) => {
      if (command.constructor.name === 'DeleteItemCommand') throw new Error('ProvisionedThroughputExceeded');
      return {};
    }) as never;
    const gate = powertoolsIdempotencyGate({ tableName: 'table', expirySeconds: 259_200 }, 'events', client);
    const error = new PermanentError('unfixable');
    const run = gate.run(
      'key-1',
      async () => {
        throw error;
      },
      invocation,
    );
    await expect(run).rejects.toMatchObject({ name: 'IdempotencyPersistenceLayerError' });
    await expect(run).rejects.not.toBe(error);
  });
});
