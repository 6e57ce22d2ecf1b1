/**
 * Records the consumer did not start for want of time are handed back at once (ChangeMessageVisibilityBatch to 0)
 * instead of waiting out the queue's visibility timeout; records whose own failure set a delay keep it, and a
 * consumer with a rate limit hands nothing back early. The real core, with the fakes' SQS.
 */
import { describe, expect, it } from 'vitest';
import type { StartSlots } from '../../../lambda/consumer/core';
import type { HeldReceives } from '../../../lambda/consumer/held-receives';
import { MESSAGE_ATTRIBUTES } from '../../../lambda/shared/envelope';
import { JOB_SOURCE } from '../../../lambda/shared/job';
import { envelope, failedIds, harness, record, sqsEvent } from './fakes';

const DEADLINE_REASON = 'not started: the invocation is close to its timeout';

/** A context whose remaining time the test (or a handler) moves; the fakes' margin is 3 s. */
function movingContext() {
  const context = { remaining: 25_000, getRemainingTimeInMillis: () => context.remaining };
  return context;
}

/** A handler that never settles until released; `entered` resolves once it started. */
function stall() {
  let entered = () => {};
  const started = new Promise<void>((resolve) => {
    entered = resolve;
  });
  return {
    started,
    handle: () => {
      entered();
      return new Promise<void>(() => {});
    },
  };
}

const settleCallbacks = () => new Promise((resolve) => setImmediate(resolve));

describe('records not started before the deadline margin', () => {
  it('on a standard queue are handed back at once, ten a call; the record cut off keeps its backoff, and one on its last receive is dead-lettered', async () => {
    const stuck = stall();
    const { core, queue, logger, deadline } = harness(
      { handlers: { 'github.slow': stuck.handle, 'github.push': async () => {} } },
      { parallelism: 1, maxReceiveCount: 5 },
    );
    const running = record(envelope({ id: 'running', type: 'slow' }), { messageId: 'm-running' });
    const waiting = Array.from({ length: 12 }, (_, n) =>
      record(envelope({ id: `waiting-${n}` }), { messageId: `m-waiting-${n}` }),
    );
    const last = record(envelope({ id: 'last' }), { messageId: 'm-last', attempt: 5 });
    const context = movingContext();

    const pending = core.processBatch(sqsEvent([running, ...waiting, last]), context);
    await stuck.started;
    context.remaining = 2_500;
    deadline.ring();
    const response = await pending;

    expect(failedIds(response)).toEqual(['m-running', ...waiting.map((r) => r.messageId)]);
    const byId = new Map(queue.visibilityChanges.map((c) => [c.messageId, c.seconds]));
    // The cut-off record failed (timed out): its backoff, 10 s at most on attempt 1, never 0.
    expect(byId.get('m-running')).toBeGreaterThanOrEqual(5);
    for (const r of waiting) expect(byId.get(r.messageId), r.messageId).toBe(0);
    expect(queue.visibilityBatches).toEqual([
      waiting.slice(0, 10).map((r) => r.messageId),
      waiting.slice(10).map((r) => r.messageId),
    ]);
    expect(byId.has('m-last')).toBe(false);
    expect(queue.deadLetters.map((m) => m.body)).toEqual([last.body]);
    expect(logger.outcomeOf('waiting-0')).toMatchObject({ outcome: 'deferred', reason: DEADLINE_REASON });
  });

  it('are handed back while the record cut off still settles: its slow backoff does not spend the time they need', async () => {
    const stuck = stall();
    const { core, queue, deadline } = harness(
      { handlers: { 'github.slow': stuck.handle, 'github.push': async () => {} } },
      { parallelism: 1 },
    );
    let answerBackoff = () => {};
    queue.visibilityCall = new Promise((resolve) => {
      answerBackoff = resolve;
    });
    const running = record(envelope({ id: 'running', type: 'slow' }), { messageId: 'm-running' });
    const waiting = ['x', 'y', 'z'].map((id) => record(envelope({ id }), { messageId: `m-${id}` }));
    const context = movingContext();

    const pending = core.processBatch(sqsEvent([running, ...waiting]), context);
    await stuck.started;
    context.remaining = 2_500;
    deadline.ring();
    await settleCallbacks();

    // The cut-off record's backoff has not answered: the others went back all the same, in one call.
    expect(queue.visibilityBatches).toEqual([waiting.map((r) => r.messageId)]);
    answerBackoff();
    expect(failedIds(await pending)).toEqual(['m-running', ...waiting.map((r) => r.messageId)]);
    expect(queue.visibilityChanges.find((c) => c.messageId === 'm-running')?.seconds).toBeGreaterThan(0);
  });

  it('on a FIFO queue are handed back while the record cut off still settles, but not those of its group: they keep its backoff', async () => {
    const stuck = stall();
    const { core, queue, deadline } = harness(
      { handlers: { 'shopify.slow': stuck.handle, 'shopify.order': async () => {} } },
      { fifo: true, name: 'orders' },
    );
    let answerBackoff = () => {};
    queue.visibilityCall = new Promise((resolve) => {
      answerBackoff = resolve;
    });
    const records = [
      record(envelope({ id: 'a1', source: 'shopify', type: 'slow' }), { groupId: 'A', messageId: 'm-a1' }),
      record(envelope({ id: 'a2', source: 'shopify', type: 'order' }), { groupId: 'A', messageId: 'm-a2' }),
      record(envelope({ id: 'b1', source: 'shopify', type: 'order' }), { groupId: 'B', messageId: 'm-b1' }),
    ];
    const context = movingContext();

    const pending = core.processBatch(sqsEvent(records), context);
    await stuck.started;
    context.remaining = 2_500;
    deadline.ring();
    await settleCallbacks();

    expect(queue.visibilityBatches).toEqual([['m-b1']]);
    answerBackoff();
    expect(failedIds(await pending)).toEqual(['m-a1', 'm-a2', 'm-b1']);
    const backoff = queue.visibilityChanges.find((c) => c.messageId === 'm-a1')?.seconds;
    expect(backoff).toBeGreaterThan(0);
    expect(queue.visibilityChanges.find((c) => c.messageId === 'm-a2')?.seconds).toBe(backoff);
  });

  it('on a fair standard queue are handed back although a record of their tenant was cut off: no group holds them', async () => {
    const stuck = stall();
    const { core, queue, logger, deadline } = harness(
      { handlers: { 'github.slow': stuck.handle, 'github.push': async () => {} } },
      { parallelism: 1 },
    );
    const tenant = { [MESSAGE_ATTRIBUTES.tenant]: { dataType: 'String', stringValue: 'acme' } };
    const running = record(envelope({ id: 'running', type: 'slow' }), {
      messageId: 'm-running',
      groupId: 'acme',
      extraAttributes: tenant,
    });
    const waiting = record(envelope({ id: 'waiting' }), {
      messageId: 'm-waiting',
      groupId: 'acme',
      extraAttributes: tenant,
    });
    const context = movingContext();

    const pending = core.processBatch(sqsEvent([running, waiting]), context);
    await stuck.started;
    context.remaining = 2_500;
    deadline.ring();
    expect(failedIds(await pending)).toEqual(['m-running', 'm-waiting']);

    expect(queue.visibilityBatches).toEqual([['m-waiting']]);
    expect(logger.outcomeOf('waiting')).toMatchObject({ outcome: 'deferred', reason: DEADLINE_REASON });
  });

  it('on a FIFO queue are handed back with the records of their group held behind them; a group behind a failed record keeps its backoff', async () => {
    const context = movingContext();
    const ran: string[] = [];
    const { core, queue, logger } = harness(
      {
        handlers: {
          'shopify.order': async (event) => {
            ran.push(event.id);
          },
          'shopify.broken': async () => {
            // Fails, and leaves the invocation below its deadline margin for the next group's first record.
            context.remaining = 2_000;
            throw new Error('order service down');
          },
        },
      },
      { fifo: true, name: 'orders' },
    );
    const records = [
      record(envelope({ id: 'a1', source: 'shopify', type: 'broken' }), { groupId: 'A', messageId: 'm-a1' }),
      record(envelope({ id: 'a2', source: 'shopify', type: 'order' }), { groupId: 'A', messageId: 'm-a2' }),
      record(envelope({ id: 'b1', source: 'shopify', type: 'order' }), { groupId: 'B', messageId: 'm-b1' }),
      record(envelope({ id: 'b2', source: 'shopify', type: 'order' }), { groupId: 'B', messageId: 'm-b2' }),
    ];

    const response = await core.processBatch(sqsEvent(records), context);

    expect(failedIds(response)).toEqual(['m-a1', 'm-a2', 'm-b1', 'm-b2']);
    expect(ran).toEqual([]);
    const backoff = queue.visibilityChanges.find((c) => c.messageId === 'm-a1')?.seconds;
    expect(backoff).toBeGreaterThan(0);
    expect(queue.visibilityChanges).toEqual([
      { messageId: 'm-a1', seconds: backoff },
      { messageId: 'm-a2', seconds: backoff },
      { messageId: 'm-b1', seconds: 0 },
      { messageId: 'm-b2', seconds: 0 },
    ]);
    // Group B in one call: SQS returns none of a FIFO group while any of its messages is in flight.
    expect(queue.visibilityBatches).toEqual([['m-b1', 'm-b2']]);
    expect(logger.outcomeOf('b1')).toMatchObject({ outcome: 'deferred', reason: DEADLINE_REASON });
    expect(logger.outcomeOf('b2')).toMatchObject({
      outcome: 'deferred',
      reason: 'not started: an earlier message of group B failed',
    });
  });

  it('on a consumer with a rate limit are not handed back early: they would wait for the same full windows again', async () => {
    const waiting: Array<(granted: boolean) => void> = [];
    const slots: StartSlots = { acquire: () => new Promise((resolve) => waiting.push(resolve)) };
    const { core, queue, logger, deadline } = harness(
      { handlers: { 'github.push': async () => {} } },
      {},
      { rateLimiter: slots },
    );
    const records = ['x', 'y'].map((id) => record(envelope({ id }), { messageId: `m-${id}` }));
    const context = movingContext();

    const pending = core.processBatch(sqsEvent(records), context);
    await settleCallbacks();
    expect(waiting).toHaveLength(2);
    context.remaining = 2_500;
    deadline.ring();

    expect(failedIds(await pending)).toEqual(['m-x', 'm-y']);
    expect(queue.visibilityChanges).toEqual([]);
    expect(logger.outcomeOf('x')).toMatchObject({ outcome: 'deferred' });
  });

  it('are still reported failed, and the refusal logged, when SQS does not hand them back', async () => {
    const { core, queue, logger } = harness({ handlers: { 'github.push': async () => {} } });
    queue.failVisibility = true;
    const late = record(envelope({ id: 'late' }), { messageId: 'm-late' });

    const response = await core.processBatch(sqsEvent([late]), movingContextAt(2_000));

    expect(failedIds(response)).toEqual(['m-late']);
    const warning = logger.lines.find((l) => /records not started/.test(String(l.message)));
    expect(warning?.attributes).toMatchObject({ count: 1, messageIds: ['m-late'] });
  });

  it('hand back a job whose held receive could not be counted too: that receive is among its attempts however late it comes back, so it does not wait out the visibility timeout for nothing', async () => {
    const heldReceives: HeldReceives = {
      add: async (messageId) => {
        if (messageId === 'm-uncounted') throw new Error('ProvisionedThroughputExceededException');
        return 0;
      },
      count: async () => 0,
    };
    const { core, queue, logger } = harness({ handlers: {} }, {}, { heldReceives });
    const job = (id: string) =>
      record(envelope({ id, source: JOB_SOURCE, type: 'report.build' }), { messageId: `m-${id}` });

    const response = await core.processBatch(
      sqsEvent([job('counted'), job('uncounted')]),
      movingContextAt(2_000),
    );

    expect(failedIds(response)).toEqual(['m-counted', 'm-uncounted']);
    expect(queue.visibilityBatches).toEqual([['m-counted', 'm-uncounted']]);
    expect(queue.visibilityChanges).toEqual([
      { messageId: 'm-counted', seconds: 0 },
      { messageId: 'm-uncounted', seconds: 0 },
    ]);
    // The count's failure is said once, where it happened; nothing was left to the visibility timeout.
    expect(
      logger.lines.find((l) => l.message === 'could not count the held receive; it counts as an attempt')
        ?.attributes,
    ).toMatchObject({ id: 'uncounted', messageId: 'm-uncounted' });
    expect(logger.lines.find((l) => /not handed back at once/.test(l.message))).toBeUndefined();
  });

  it('hand back a job whose held-receive write failed only once it failed: never before the write ended', async () => {
    let failWrite: (error: Error) => void = () => {};
    const heldReceives: HeldReceives = {
      add: () =>
        new Promise<number>((_, reject) => {
          failWrite = reject;
        }),
      count: async () => 0,
    };
    const { core, queue } = harness({ handlers: {} }, {}, { heldReceives });
    const job = record(envelope({ id: 'slow', source: JOB_SOURCE, type: 'report.build' }), {
      messageId: 'm-slow',
    });

    const batch = core.processBatch(sqsEvent([job]), movingContextAt(2_000));
    await settleCallbacks();
    expect(queue.visibilityChanges).toEqual([]);
    failWrite(new Error('InternalServerError'));

    expect(failedIds(await batch)).toEqual(['m-slow']);
    expect(queue.visibilityChanges).toEqual([{ messageId: 'm-slow', seconds: 0 }]);
  });
});

function movingContextAt(remaining: number) {
  const context = movingContext();
  context.remaining = remaining;
  return context;
}
