/**
 * Whether each queue's consumer skips a copy of an event it completed, on the console's overview: in its JSON API per
 * queue, and as the sentence the page shows under the queues, in `hookline status`'s words (one home for both).
 */
import { GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { GetEventSourceMappingCommand } from '@aws-sdk/client-lambda';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { beforeEach, describe, expect, it } from 'vitest';
import { idempotencyLine, idempotencySentence } from '../../lib/console/ui/idempotency-note';
import { EVENTS, mockCommandClients, ORDERS, stackTarget } from '../cli/helpers';
import { consoleApiFor } from './console-api';

const clients = mockCommandClients();
const api = consoleApiFor(
  {
    ...stackTarget(),
    queues: {
      events: { ...EVENTS, idempotency: { expirySeconds: 3 * 86_400 } },
      orders: { ...ORDERS, idempotency: null },
    },
  },
  { js: '', css: '' },
);

beforeEach(() => {
  clients.sqs.on(GetQueueAttributesCommand).resolves({ Attributes: { ApproximateNumberOfMessages: '0' } });
  clients.lambda.on(GetEventSourceMappingCommand).resolves({ State: 'Enabled' });
  clients.cloudwatch.on(GetMetricDataCommand).resolves({ MetricDataResults: [] });
});

describe("the console overview's idempotency", () => {
  it('is in the overview API per queue: on with its expiry, or off', async () => {
    const overview = await api.call('GET', '/api/overview');
    expect(overview.status).toBe(200);
    const queues = overview.body.queues as { queue: string; idempotency?: unknown }[];
    expect(queues.map((q) => [q.queue, q.idempotency])).toEqual([
      ['events', { expirySeconds: 259_200 }],
      ['orders', null],
    ]);
  });

  it("is the page's sentence in hookline status's words, leaving out queues without a consumer or not known", () => {
    const rows = [
      { queue: 'events', consumer: 'Enabled', idempotency: { expirySeconds: 259_200 } },
      { queue: 'orders', consumer: 'Disabled', idempotency: { expirySeconds: 259_200 } },
      { queue: 'raw', consumer: 'Enabled', idempotency: null },
      { queue: 'outbox', consumer: null, idempotency: null },
      { queue: 'legacy', consumer: 'Enabled' },
    ];
    expect(idempotencySentence(rows)).toBe(
      'Idempotency: on for events, orders (a copy of an event completed in the last 3d 0h, redelivered or redriven, is skipped); off for raw (every copy runs).',
    );
    expect(idempotencySentence(rows)).toBe(`I${idempotencyLine(rows)?.slice(1)}.`);
    expect(idempotencySentence([{ queue: 'legacy', consumer: 'Enabled' }])).toBeUndefined();
  });
});
