/**
 * Webhooks to a FIFO queue end to end on local mode, with the dedupe table and idempotency off: what SQS's own deduplication
 * interval does for a sender's retry, through real HTTP, the real ingest and consumer runtime and fauxqs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordingQueue, startTestPipeline, type TestPipeline, testConfig } from '../helpers/local/pipeline';

describe('webhooks to a FIFO queue without the dedupe table (local mode)', () => {
  let pipeline: TestPipeline;

  beforeAll(async () => {
    pipeline = await startTestPipeline(
      testConfig(
        {
          ordered: recordingQueue(
            { fifo: true, fifoGrouping: { path: 'customer' } },
            // Nor the consumer's idempotency: only SQS can drop the copy.
            { idempotency: { enabled: false } },
          ),
        },
        { dedupe: { enabled: false } },
      ),
    );
  }, 120_000);
  afterAll(async () => {
    await pipeline?.stop();
  });

  it("a sender's retry of one delivery within SQS's deduplication interval runs once", async () => {
    const body = { id: 'retried-1', type: 'order.created', customer: 'c-1' };
    expect((await pipeline.post('generic', body)).status).toBe(202);
    expect((await pipeline.post('generic', body)).status).toBe(202);
    await pipeline.waitFor(() => pipeline.sideEffects().some((e) => e.id === 'retried-1'), 20_000, 'the run');
    await pipeline.settled('ordered', 20_000);
    expect(pipeline.sideEffects().filter((e) => e.id === 'retried-1')).toEqual([
      { id: 'retried-1', attempt: 1 },
    ]);
  });

  it("one customer's events run in the order received, another customer's alongside", async () => {
    for (let n = 0; n < 12; n++) {
      const customer = n % 2 === 0 ? 'c-a' : 'c-b';
      const answer = await pipeline.post('generic', {
        id: `ord-${customer}-${n}`,
        type: 'order.updated',
        customer,
      });
      expect(answer.status).toBe(202);
    }
    await pipeline.waitFor(
      () => pipeline.sideEffects().filter((e) => e.id.startsWith('ord-')).length >= 12,
      30_000,
      'twelve runs',
    );
    const ran = pipeline.sideEffects().map((e) => e.id);
    for (const customer of ['c-a', 'c-b']) {
      const mine = ran.filter((id) => id.startsWith(`ord-${customer}-`));
      expect(mine.map((id) => Number(id.split('-').at(-1)))).toEqual(
        [...mine.map((id) => Number(id.split('-').at(-1)))].sort((a, b) => a - b),
      );
      expect(mine).toHaveLength(6);
    }
  });

  it("a webhook held behind its group's failing one spends receives, not runs: it runs once, on its queue's last receive", async () => {
    // Paused while both are sent, so each receive takes both, as SQS hands a consumer a group's waiting messages.
    await pipeline.local.pauseConsumer('ordered');
    for (const [id, type] of [
      ['held-head', 'test.poison'],
      ['held-next', 'order.updated'],
    ])
      expect((await pipeline.post('generic', { id, type, customer: 'c-held' })).status).toBe(202);
    pipeline.local.setConsumerEnabled('ordered', true);
    await pipeline.waitFor(
      () => pipeline.sideEffects().some((e) => e.id === 'held-next'),
      30_000,
      'the held one',
    );
    const outcomes = ['retried', 'deferred', 'dead-lettered', 'processed'];
    const lines = (id: string) =>
      pipeline.events.filter((e) => e.id === id && outcomes.includes(e.event)).map((e) => e.event);
    // The head failed on each of its 3 receives (maxReceiveCount 3), holding the next one, which ran on its third.
    expect(lines('held-head')).toEqual(['retried', 'retried', 'dead-lettered']);
    expect(lines('held-next')).toEqual(['deferred', 'deferred', 'processed']);
    expect(pipeline.sideEffects().filter((e) => e.id === 'held-next')).toEqual([
      { id: 'held-next', attempt: 3 },
    ]);
  }, 60_000);
});
