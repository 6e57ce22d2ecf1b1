/**
 * The real ingest handler module against the embedded emulators (fauxqs for SQS + S3, dynalite for DynamoDB):
 * catalogue cases A2-A13, B15 (partial fan-out) and B16 through the handler, with real queues and tables.
 */

import { type DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import {
  CreateQueueCommand,
  DeleteQueueCommand,
  PurgeQueueCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MESSAGE_ATTRIBUTES, parseEnvelope } from '../../lambda/shared/envelope';
import type { IngestConfigVariable } from '../../lambda/shared/runtime-config';
import { localDynamoClient, localS3Client, localSqsClient } from '../../lib/local/clients';
import { type Emulators, startEmulators } from '../../lib/local/emulators';
import { createTopology, type LocalTopology, localQueueNames } from '../../lib/local/topology';
import {
  drain,
  type Handler,
  handlerEnvironment,
  integrationConfig,
  invoke,
  runtimeFor,
  TEST_SECRETS,
  webhookEvent,
} from './ingest-helpers';

let emulators: Emulators;
let topology: LocalTopology;
let runtime: IngestConfigVariable;
let handler: Handler;
let sqs: SQSClient;
let s3: S3Client;
let dynamo: DynamoDBClient;
const config = integrationConfig();

const queueUrl = (name: string) => {
  const queue = topology.queues[name];
  if (!queue) throw new Error(`no queue ${name}`);
  return queue.url;
};
const call = (source: string, body: string | Buffer, options = {}) =>
  invoke(handler, webhookEvent(runtime, source, body, options));
let counter = 0;
const uniqueId = (prefix: string) => `${prefix}-${Date.now()}-${++counter}`;

beforeAll(async () => {
  emulators = await startEmulators();
  topology = await createTopology(config, emulators);
  runtime = runtimeFor(config, topology);
  handlerEnvironment(emulators, runtime);
  ({ handler } = await import('../../lambda/ingest/handler'));
  sqs = localSqsClient(emulators);
  s3 = localS3Client(emulators);
  dynamo = localDynamoClient(emulators);
});

afterAll(async () => {
  sqs?.destroy();
  s3?.destroy();
  dynamo?.destroy();
  await emulators?.stop();
});

beforeEach(async () => {
  for (const name of Object.keys(topology.queues))
    await sqs.send(new PurgeQueueCommand({ QueueUrl: queueUrl(name) }));
});

describe('accepted deliveries are really in SQS', () => {
  it('GitHub issues.opened: 202 with the delivery id; message body is the envelope, attributes set', async () => {
    const id = uniqueId('gh');
    const body = JSON.stringify({ action: 'opened', issue: { number: 1, title: 'é 😀' } });
    const response = await call('github', body, { id, headers: { 'x-github-event': 'issues' } });
    expect(response.statusCode).toBe(202);
    expect(JSON.parse(response.body)).toEqual({ id });
    const messages = await drain(sqs, queueUrl('events'));
    expect(messages).toHaveLength(1);
    const [message] = messages;
    expect(message?.MessageAttributes?.[MESSAGE_ATTRIBUTES.source]).toEqual({
      DataType: 'String',
      StringValue: 'github',
    });
    expect(message?.MessageAttributes?.[MESSAGE_ATTRIBUTES.type]?.StringValue).toBe('issues.opened');
    expect(message?.MessageAttributes?.[MESSAGE_ATTRIBUTES.eventId]?.StringValue).toBe(id);
    const envelope = parseEnvelope(message?.Body ?? '');
    expect(envelope).toMatchObject({
      v: 1,
      id,
      source: 'github',
      type: 'issues.opened',
      body,
      bodyEncoding: 'utf8',
    });
    expect(envelope.headers['x-hub-signature-256']).toBeUndefined();
    expect(envelope.headers['x-github-event']).toBe('issues');
  });

  it('Stripe invoice.paid fans out to both queues', async () => {
    const response = await call('stripe', JSON.stringify({ id: uniqueId('evt'), type: 'invoice.paid' }));
    expect(response.statusCode).toBe(202);
    expect(await drain(sqs, queueUrl('events'))).toHaveLength(1);
    expect(await drain(sqs, queueUrl('audit'))).toHaveLength(1);
  });

  it('Shopify orders/create goes to the FIFO queue grouped by customer id', async () => {
    const id = uniqueId('shop');
    const response = await call('shopify', JSON.stringify({ id: 1, customer: { id: 'cus_42' } }), {
      id,
      headers: { 'x-shopify-topic': 'orders/create' },
    });
    expect(response.statusCode).toBe(202);
    const [message, ...rest] = await drain(sqs, queueUrl('orders'));
    expect(rest).toEqual([]);
    expect(message?.Attributes?.MessageGroupId).toBe('cus_42');
    expect(parseEnvelope(message?.Body ?? '').type).toBe('orders/create');
  });

  it.each([
    [
      'slack',
      JSON.stringify({ type: 'event_callback', event_id: 'Ev-it', event: { type: 'app_mention' } }),
      'application/json',
      'app_mention',
    ],
    ['standard', JSON.stringify({ type: 'user.created' }), 'application/json', 'user.created'],
    [
      'twilio',
      'MessageSid=SM-it&SmsStatus=received&Body=hi',
      'application/x-www-form-urlencoded',
      'message.received',
    ],
    ['generic', JSON.stringify({ id: 'g-it', type: 'thing.done' }), 'application/json', 'thing.done'],
  ])('%s is verified and enqueued with its type', async (source, body, contentType, type) => {
    const response = await call(source, body, { contentType, id: uniqueId(source) });
    // Twilio reads the answer as TwiML (see "answers each sender reads" below).
    expect(response.statusCode).toBe(source === 'twilio' ? 200 : 202);
    const messages = await drain(sqs, queueUrl('events'));
    expect(messages.map((m) => m.MessageAttributes?.[MESSAGE_ATTRIBUTES.type]?.StringValue)).toEqual([type]);
  });

  it('ignore rule: 202, nothing enqueued', async () => {
    const response = await call('github', '{"action":"started"}', { headers: { 'x-github-event': 'watch' } });
    expect(response.statusCode).toBe(202);
    expect(await drain(sqs, queueUrl('events'))).toEqual([]);
  });

  it('Slack url_verification is answered with the challenge, not enqueued', async () => {
    const response = await call('slack', JSON.stringify({ type: 'url_verification', challenge: 'ch-1' }));
    expect(response).toMatchObject({ statusCode: 200, body: 'ch-1' });
    expect(await drain(sqs, queueUrl('events'))).toEqual([]);
  });

  it('Slack url_verification without a string challenge is a 400, not enqueued', async () => {
    for (const json of [{ type: 'url_verification' }, { type: 'url_verification', challenge: 7 }]) {
      const response = await call('slack', JSON.stringify(json));
      expect(response.statusCode).toBe(400);
      expect(JSON.parse(response.body)).toEqual({ message: 'bad request' });
    }
    expect(await drain(sqs, queueUrl('events'))).toEqual([]);
  });
});

const FORM = 'application/x-www-form-urlencoded';
const EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>';

describe('answers each sender reads, and its handshakes, through the handler', () => {
  it('Slack slash command and interactivity: an empty 200 (a body would be posted as a message), queued once', async () => {
    const command = 'command=%2Fdeploy&text=staging&team_id=T1&trigger_id=1.2.3';
    const action = `payload=${encodeURIComponent(JSON.stringify({ type: 'block_actions', team: { id: 'T1' } }))}`;
    // HTTP APIs hand a form body on base64-encoded.
    for (const body of [command, action]) {
      const response = await call('slack', body, { contentType: FORM, base64: true });
      expect(response).toMatchObject({ statusCode: 200, body: '' });
      expect(response.headers['x-hookline-id']).toMatch(/^[0-9A-Z]{26}$/);
    }
    const messages = await drain(sqs, queueUrl('events'));
    expect(messages.map((m) => m.MessageAttributes?.[MESSAGE_ATTRIBUTES.type]?.StringValue).sort()).toEqual([
      'block_actions',
      'slash_command',
    ]);
  });

  it('Slack Events API deliveries keep 202 with the event id', async () => {
    const id = uniqueId('Ev');
    const body = JSON.stringify({ type: 'event_callback', event_id: id, event: { type: 'app_mention' } });
    const response = await call('slack', body);
    expect(response.statusCode).toBe(202);
    expect(JSON.parse(response.body)).toEqual({ id });
  });

  it("Slack's unsigned ssl_check is answered 200 and queues nothing; another unsigned form is still a 401", async () => {
    const check = await call('slack', 'ssl_check=1&token=legacy-token', {
      contentType: FORM,
      unsigned: true,
      base64: true,
    });
    expect(check).toMatchObject({ statusCode: 200, body: '' });
    const forged = await call('slack', 'command=%2Fdeploy&text=prod', { contentType: FORM, unsigned: true });
    expect(forged.statusCode).toBe(401);
    expect(await drain(sqs, queueUrl('events'))).toEqual([]);
  });

  it('Twilio: an accepted callback and its retry are answered with empty TwiML, the id in x-hookline-id', async () => {
    const token = uniqueId('idem');
    const body = 'MessageSid=SMtwiml&SmsStatus=received&Body=hi';
    const options = { contentType: FORM, base64: true, headers: { 'i-twilio-idempotency-token': token } };
    for (const outcome of ['queued', 'duplicate']) {
      const response = await call('twilio', body, options);
      expect(response, outcome).toMatchObject({ statusCode: 200, body: EMPTY_TWIML });
      expect(response.headers).toMatchObject({ 'content-type': 'text/xml', 'x-hookline-id': token });
    }
    expect(await drain(sqs, queueUrl('events'))).toHaveLength(1);
  });

  it("GitHub's signed ping is answered 202 with its delivery id and queues nothing, with no route for it", async () => {
    const id = uniqueId('ping');
    const body = JSON.stringify({ zen: 'Keep it logically awesome.', hook_id: 1 });
    const response = await call('github', body, { id, headers: { 'x-github-event': 'ping' } });
    expect(response.statusCode).toBe(202);
    expect(JSON.parse(response.body)).toEqual({ id });
    expect(await drain(sqs, queueUrl('events'))).toEqual([]);
    const unsigned = await call('github', body, { unsigned: true, headers: { 'x-github-event': 'ping' } });
    expect(unsigned.statusCode).toBe(401);
  });
});

describe('forged or broken signatures through the handler', () => {
  it('missing signature -> 401, nothing enqueued; Slack gets x-slack-no-retry', async () => {
    for (const source of ['github', 'stripe', 'slack', 'shopify', 'standard', 'twilio', 'generic']) {
      const response = await call(source, '{"id":"x","type":"y"}', { unsigned: true });
      expect(response.statusCode, source).toBe(401);
      expect(JSON.parse(response.body)).toEqual({ message: 'unauthorized' });
      if (source === 'slack') expect(response.headers['x-slack-no-retry']).toBe('1');
    }
    expect(await drain(sqs, queueUrl('events'))).toEqual([]);
  });

  it('stale timestamp, tampered body and truncated signature -> 401', async () => {
    const stale = webhookEvent(runtime, 'stripe', '{"id":"evt_s","type":"a"}', {
      now: new Date(Date.now() - 600_000),
    });
    const tampered = webhookEvent(runtime, 'github', '{"a":1}', { headers: { 'x-github-event': 'push' } });
    tampered.body = '{"a":2}';
    const truncated = webhookEvent(runtime, 'shopify', '{}', {});
    truncated.headers['x-shopify-hmac-sha256'] = truncated.headers['x-shopify-hmac-sha256']?.slice(0, 10);
    for (const event of [stale, tampered, truncated])
      expect((await invoke(handler, event)).statusCode).toBe(401);
    expect(await drain(sqs, queueUrl('events'))).toEqual([]);
  });
});

describe('duplicate deliveries', () => {
  it('the same delivery twice and a manual redelivery -> all 202 with the same id, one message', async () => {
    const id = uniqueId('dup');
    const body = '{"ref":"main"}';
    const event = webhookEvent(runtime, 'github', body, { id, headers: { 'x-github-event': 'push' } });
    const first = await invoke(handler, event);
    const replay = await invoke(handler, event);
    const redelivery = await call('github', body, { id, headers: { 'x-github-event': 'push' } });
    for (const r of [first, replay, redelivery]) {
      expect(r.statusCode).toBe(202);
      expect(JSON.parse(r.body)).toEqual({ id });
    }
    expect(await drain(sqs, queueUrl('events'))).toHaveLength(1);
    const record = await dynamo.send(
      new GetItemCommand({ TableName: topology.dedupeTableName ?? '', Key: { pk: { S: `github#${id}` } } }),
    );
    expect(record.Item?.status?.S).toBe('queued');
    expect(Number(record.Item?.expiresAt?.N)).toBeGreaterThan(Date.now() / 1000 + 3 * 86_400 - 60);
  });

  it('concurrent identical deliveries never enqueue twice', async () => {
    const id = uniqueId('evt');
    const body = JSON.stringify({ id, type: 'customer.created' });
    const responses = await Promise.all(Array.from({ length: 8 }, () => call('stripe', body)));
    for (const r of responses) expect([202, 503]).toContain(r.statusCode);
    expect(responses.some((r) => r.statusCode === 202)).toBe(true);
    const retry = await call('stripe', body);
    expect(retry.statusCode).toBe(202);
    expect(await drain(sqs, queueUrl('events'))).toHaveLength(1);
  });

  it('Twilio status callbacks of one message are each queued; a retried callback is not', async () => {
    const sid = `SM${uniqueId('status').replaceAll('-', '')}`;
    const callback = (status: string) => `MessageSid=${sid}&MessageStatus=${status}&SmsStatus=${status}`;
    const form = { contentType: 'application/x-www-form-urlencoded' };
    const answers = [
      await call('twilio', callback('sent'), form),
      await call('twilio', callback('delivered'), form),
      await call('twilio', callback('delivered'), form),
    ];
    for (const r of answers) expect(r).toMatchObject({ statusCode: 200, body: EMPTY_TWIML });
    const messages = await drain(sqs, queueUrl('events'));
    expect(messages.map((m) => m.MessageAttributes?.[MESSAGE_ATTRIBUTES.type]?.StringValue).sort()).toEqual([
      'message.delivered',
      'message.sent',
    ]);
    const ids = messages.map((m) => m.MessageAttributes?.[MESSAGE_ATTRIBUTES.eventId]?.StringValue);
    expect(new Set(ids).size).toBe(2);
  });
});

describe('bytes, bodies, sizes, methods', () => {
  it('a base64-encoded body with mixed-case headers verifies', async () => {
    const event = webhookEvent(runtime, 'github', '{"zen":"é"}', {
      base64: true,
      headers: { 'x-github-event': 'star' },
    });
    event.headers = Object.fromEntries(
      Object.entries(event.headers).map(([k, v]) => [k.replace(/(^|-)([a-z])/g, (m) => m.toUpperCase()), v]),
    );
    expect((await invoke(handler, event)).statusCode).toBe(202);
    const [message] = await drain(sqs, queueUrl('events'));
    expect(parseEnvelope(message?.Body ?? '').body).toBe('{"zen":"é"}');
  });

  it('a valid signature over invalid JSON -> 400', async () => {
    const response = await call('stripe', '{"id": ');
    expect(response.statusCode).toBe(400);
    expect(await drain(sqs, queueUrl('events'))).toEqual([]);
  });

  it('inline up to the limit; above it the body is claim-checked in S3; empty -> 400; > 6 MB -> 413', async () => {
    const limit = runtime.payloads?.inlineLimitBytes ?? 0;
    expect(limit).toBeGreaterThan(0);
    const id = uniqueId('big');
    const big = JSON.stringify({ pad: 'x'.repeat(limit) });
    const response = await call('shopify', big, { id, headers: { 'x-shopify-topic': 'products/update' } });
    expect(response.statusCode).toBe(202);
    const [message] = await drain(sqs, queueUrl('events'));
    const envelope = parseEnvelope(message?.Body ?? '');
    expect(envelope.body).toBeUndefined();
    expect(envelope.payloadRef?.sizeBytes).toBe(Buffer.byteLength(big));
    const object = await s3.send(
      new GetObjectCommand({
        Bucket: envelope.payloadRef?.bucket ?? '',
        Key: envelope.payloadRef?.key ?? '',
      }),
    );
    expect(await object.Body?.transformToString()).toBe(big);

    const small = JSON.stringify({ pad: 'x'.repeat(limit - 2000) });
    expect(
      (await call('shopify', small, { headers: { 'x-shopify-topic': 'products/update' } })).statusCode,
    ).toBe(202);
    const [inline] = await drain(sqs, queueUrl('events'));
    expect(parseEnvelope(inline?.Body ?? '').body).toBe(small);

    expect((await call('github', '', { headers: { 'x-github-event': 'push' } })).statusCode).toBe(400);
    const huge = Buffer.alloc(6 * 1024 * 1024 + 1, 0x61);
    expect(
      (await call('shopify', huge, { base64: true, contentType: 'application/octet-stream' })).statusCode,
    ).toBe(413);
  });

  it('GET -> 405, unknown source -> 404, odd content type still 2xx or 4xx; never 410', async () => {
    const get = await call('github', '{}', { method: 'GET' });
    expect(get.statusCode).toBe(405);
    expect(get.headers.allow).toBe('POST');
    expect((await call('nope', '{}')).statusCode).toBe(404);
    const odd = await call('shopify', '{"a":1}', { contentType: 'application/x-unknown' });
    expect(odd.statusCode).toBe(202);
    const [message] = await drain(sqs, queueUrl('events'));
    expect(parseEnvelope(message?.Body ?? '').bodyEncoding).toBe('base64');
  });

  it('a correctly signed request by any method but POST is a 405 and reaches no queue', async () => {
    const invoice = JSON.stringify({ id: uniqueId('evt'), type: 'invoice.paid' });
    for (const method of ['GET', 'HEAD', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']) {
      for (const [source, headers] of [
        ['stripe', {}],
        ['github', { 'x-github-event': 'push' }],
        ['shopify', { 'x-shopify-topic': 'orders/create' }],
      ] as const) {
        const response = await call(source, invoice, { method, headers });
        expect({ method, source, status: response.statusCode }).toEqual({ method, source, status: 405 });
      }
    }
    for (const queue of Object.keys(topology.queues)) expect(await drain(sqs, queueUrl(queue))).toEqual([]);
  });
});

describe('enqueue failures and sender retries through the handler', () => {
  it('one fan-out target failing -> 503; after it recovers the retry reaches both queues', async () => {
    const audit = queueUrl('audit');
    const names = localQueueNames(config.stackName, { name: 'audit', fifo: false });
    await sqs.send(new DeleteQueueCommand({ QueueUrl: audit }));
    const body = JSON.stringify({ id: uniqueId('evt'), type: 'invoice.created' });
    const failed = await call('stripe', body);
    expect(failed.statusCode).toBe(503);
    expect(failed.headers['retry-after']).toBeDefined();
    await sqs.send(new CreateQueueCommand({ QueueName: names.queue }));
    await drain(sqs, queueUrl('events')); // the copy that did reach `events` during the failed attempt
    const retried = await call('stripe', body);
    expect(retried.statusCode).toBe(202);
    expect(await drain(sqs, queueUrl('events'))).toHaveLength(1);
    expect(await drain(sqs, audit)).toHaveLength(1);
  });

  it('a sender retry after a slow-but-successful first attempt is deduplicated', async () => {
    const body = JSON.stringify({
      type: 'event_callback',
      event_id: uniqueId('Ev'),
      event: { type: 'message' },
    });
    expect((await call('slack', body)).statusCode).toBe(202);
    const retry = await call('slack', body, {
      headers: { 'x-slack-retry-num': '1', 'x-slack-retry-reason': 'http_timeout' },
    });
    expect(retry.statusCode).toBe(202);
    expect(await drain(sqs, queueUrl('events'))).toHaveLength(1);
  });

  it('rotation: a JSON secret list in the environment accepts old and new secrets', async () => {
    const name = 'HOOKLINE_SECRET_GITHUB';
    const previous = process.env[name];
    process.env[name] = JSON.stringify({ secrets: ['brand-new', TEST_SECRETS.github] });
    try {
      await new Promise((r) => setTimeout(r, 1100)); // the test config caches secrets for 1 s
      expect((await call('github', '{"a":1}', { headers: { 'x-github-event': 'push' } })).statusCode).toBe(
        202,
      );
    } finally {
      process.env[name] = previous;
    }
  });
});
