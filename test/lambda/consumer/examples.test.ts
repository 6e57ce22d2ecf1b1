import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { handler as eventsHandler } from '../../../lambda/consumers/events';
import { handler as ordersHandler } from '../../../lambda/consumers/orders';
import { FAILURE_ATTRIBUTES } from '../../../lambda/shared/envelope';
import { CONSUMER_CONFIG_ENV } from '../../../lambda/shared/runtime-config';
import { envelope, record, runtimeConfig, sqsEvent } from './fakes';

const context = { getRemainingTimeInMillis: () => 20_000 } as Context;

// The example modules are imported before their configuration exists, as local mode's workers do.
describe('example consumers', () => {
  const sqs = mockClient(SQSClient);

  beforeEach(() => {
    sqs.reset();
    sqs.on(SendMessageCommand).resolves({ MessageId: 'dlq' });
    vi.stubEnv('AWS_REGION', 'us-east-1');
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'test');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'test');
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  });

  afterEach(() => {
    vi.unstubAllEnvs();
    vi.restoreAllMocks();
  });

  it('events: handles GitHub pushes, Stripe invoices and anything else', async () => {
    vi.stubEnv(CONSUMER_CONFIG_ENV, JSON.stringify(runtimeConfig({ name: 'events' })));
    const stripeBody = JSON.stringify({
      id: 'evt_1',
      type: 'invoice.paid',
      data: { object: { id: 'in_1' } },
    });
    const response = await eventsHandler(
      sqsEvent([
        record(envelope({ body: JSON.stringify({ ref: 'refs/heads/main', commits: [{ id: 'c1' }] }) })),
        record(envelope({ source: 'stripe', type: 'invoice.paid', body: stripeBody })),
        record(envelope({ source: 'slack', type: 'event_callback', body: '{}' })),
      ]),
      context,
    );
    expect(response).toStrictEqual({ batchItemFailures: [] });
    expect(sqs).not.toHaveReceivedCommand(SendMessageCommand);
  });

  it('events: dead-letters a Stripe event whose body contradicts its envelope', async () => {
    vi.stubEnv(CONSUMER_CONFIG_ENV, JSON.stringify(runtimeConfig({ name: 'events' })));
    const body = JSON.stringify({ id: 'evt_2', type: 'charge.refunded', data: { object: {} } });
    await eventsHandler(
      sqsEvent([record(envelope({ source: 'stripe', type: 'invoice.paid', body }))]),
      context,
    );
    expect(sqs).toHaveReceivedCommandWith(SendMessageCommand, {
      MessageAttributes: expect.objectContaining({
        [FAILURE_ATTRIBUTES.errorName]: { DataType: 'String', StringValue: 'PermanentError' },
      }),
    });
  });

  it('orders: accepts an order and dead-letters one without line items', async () => {
    vi.stubEnv(CONSUMER_CONFIG_ENV, JSON.stringify(runtimeConfig({ name: 'orders', fifo: true })));
    const good = { id: 1, line_items: [{ id: 10, quantity: 2 }] };
    const empty = { id: 2, line_items: [] };
    const dead = record(envelope({ source: 'shopify', type: 'orders/create', body: JSON.stringify(empty) }), {
      groupId: '2',
    });
    const response = await ordersHandler(
      sqsEvent([
        record(envelope({ source: 'shopify', type: 'orders/create', body: JSON.stringify(good) }), {
          groupId: '1',
        }),
        dead,
      ]),
      context,
    );
    expect(response).toStrictEqual({ batchItemFailures: [] });
    expect(sqs).toHaveReceivedCommandTimes(SendMessageCommand, 1);
    expect(sqs).toHaveReceivedCommandWith(SendMessageCommand, {
      MessageGroupId: '2',
      // The source message id: a retried send of this message is deduplicated, and a FIFO queue needs one.
      MessageDeduplicationId: dead.messageId,
      MessageAttributes: expect.objectContaining({
        [FAILURE_ATTRIBUTES.errorMessage]: { DataType: 'String', StringValue: 'order 2 has no line items' },
      }),
    });
  });
});
