/**
 * The deadline watchdog: records still running when the invocation reaches its deadline margin are reported,
 * dead-lettered with a reason on their last attempt, and counted, before Lambda would end the invocation; what
 * they do afterwards counts for nothing. The fake alarm stands for the batch's one timer.
 */
import { describe, expect, it } from 'vitest';
import type { JobRecordUpdates } from '../../../lambda/consumer/core';
import { PermanentError } from '../../../lambda/consumer/errors';
import { FAILURE_ATTRIBUTES } from '../../../lambda/shared/envelope';
import { JOB_RECORD_HEADER, JOB_SOURCE } from '../../../lambda/shared/job';
import { envelope, failedIds, harness, lambdaContext, record, sqsEvent, typeCounts } from './fakes';

const TIMEOUT_REASON = /^InvocationTimeoutError: did not finish before the invocation's timeout/;

/** Handlers that never settle until the test settles them; `entered(id)` resolves once that one started. */
function stalledHandlers() {
  const started = new Map<string, () => void>();
  const entries = new Map<string, Promise<void>>();
  const settles = new Map<string, { resolve: (value: unknown) => void; reject: (error: unknown) => void }>();
  const entry = (id: string) => {
    let promise = entries.get(id);
    if (!promise) {
      promise = new Promise<void>((resolve) => started.set(id, resolve));
      entries.set(id, promise);
    }
    return promise;
  };
  return {
    entered: entry,
    settle: (id: string, value?: unknown) => settles.get(id)?.resolve(value),
    fail: (id: string, error: unknown) => settles.get(id)?.reject(error),
    handle: async (event: { id: string }) => {
      entry(event.id);
      started.get(event.id)?.();
      return new Promise((resolve, reject) => settles.set(event.id, { resolve, reject }));
    },
  };
}

/** A context whose remaining time the test moves: below the 3 s margin once the alarm rings. */
function movingContext() {
  const context = { remaining: 25_000, getRemainingTimeInMillis: () => context.remaining };
  return context;
}

/**
 * Lets every callback already due run, without waiting on a clock: the batch mates that finish do so before the
 * alarm rings, and a late settle's continuations run before the assertions.
 */
const settleCallbacks = () => new Promise((resolve) => setImmediate(resolve));

describe('consumer core: deadline watchdog', () => {
  it('a handler still running at the deadline margin is reported failed, retried with the timeout as its reason, and counted', async () => {
    const stalled = stalledHandlers();
    const { core, queue, logger, metrics, deadline } = harness({
      handlers: { 'github.push': async () => {}, 'github.slow': stalled.handle },
    });
    const done = record(envelope({ id: 'done' }));
    const stuck = record(envelope({ id: 'stuck', type: 'slow' }));
    const context = movingContext();

    const pending = core.processBatch(sqsEvent([done, stuck]), context);
    await stalled.entered('stuck');
    await settleCallbacks();
    context.remaining = 2_500;
    expect(deadline.ring()).toBe(true);
    const response = await pending;

    expect(failedIds(response)).toStrictEqual([stuck.messageId]);
    expect(logger.outcomeOf('stuck')).toMatchObject({
      outcome: 'retried',
      reason: expect.stringMatching(TIMEOUT_REASON),
    });
    expect(logger.outcomeOf('done')).toMatchObject({ outcome: 'processed' });
    expect(queue.visibilityChanges.map((c) => c.messageId)).toStrictEqual([stuck.messageId]);
    expect(metrics.published).toHaveLength(1);
    expect(metrics.published[0]?.get('github.slow')).toStrictEqual(typeCounts({ Failed: 1, Retried: 1 }));
    expect(metrics.published[0]?.get('github.push')).toStrictEqual(
      typeCounts({ Processed: 1, endToEndLatencyMs: [1_500] }),
    );
  });

  it('on its last attempt a handler still running is dead-lettered by the runtime with the reason attributes, then deleted', async () => {
    const stalled = stalledHandlers();
    const { core, queue, logger, metrics, deadline } = harness({ handlers: { '**': stalled.handle } });
    const stuck = record(envelope({ id: 'stuck' }), { attempt: 5 });
    const context = movingContext();

    const pending = core.processBatch(sqsEvent([stuck]), context);
    await stalled.entered('stuck');
    await settleCallbacks();
    context.remaining = 2_500;
    deadline.ring();
    const response = await pending;

    expect(failedIds(response)).toStrictEqual([]);
    expect(queue.calls).toStrictEqual(['send-dlq:stuck', `delete:${stuck.messageId}`]);
    const attributes = queue.deadLetters[0]?.attributes ?? {};
    expect(attributes[FAILURE_ATTRIBUTES.errorName]?.StringValue).toBe('InvocationTimeoutError');
    expect(attributes[FAILURE_ATTRIBUTES.errorMessage]?.StringValue).toMatch(
      /^did not finish before the invocation's timeout/,
    );
    expect(attributes[FAILURE_ATTRIBUTES.attempt]?.StringValue).toBe('5');
    expect(logger.outcomeOf('stuck')).toMatchObject({ outcome: 'dead-lettered' });
    expect(metrics.published[0]?.get('github.push')).toStrictEqual(
      typeCounts({ Failed: 1, DeadLettered: 1, endToEndLatencyMs: [1_500] }),
    );
  });

  it.each([
    ['without', false],
    ['with', true],
  ])(
    'a handler that settles after it was abandoned changes nothing: no outcome, no delete, no DLQ copy (%s idempotency)',
    async (_name, withIdempotency) => {
      const stalled = stalledHandlers();
      const { core, queue, logger, metrics, deadline, idempotency } = harness(
        { handlers: { '**': stalled.handle } },
        {},
        { idempotency: withIdempotency },
      );
      // Finished on its last receive, this one would be deleted at once; failed, that one would be retried again.
      const late = record(envelope({ id: 'late-success' }), { attempt: 5 });
      const lateFailure = record(envelope({ id: 'late-failure' }), { attempt: 2 });
      const context = movingContext();

      const pending = core.processBatch(sqsEvent([late, lateFailure]), context);
      await Promise.all([stalled.entered('late-success'), stalled.entered('late-failure')]);
      await settleCallbacks();
      context.remaining = 2_500;
      deadline.ring();
      await pending;
      const calls = [...queue.calls];
      const visibility = [...queue.visibilityChanges];
      const lines = logger.lines.length;

      stalled.settle('late-success');
      stalled.fail('late-failure', new PermanentError('too late to matter'));
      await settleCallbacks();

      expect(queue.calls).toStrictEqual(calls);
      expect(queue.visibilityChanges).toStrictEqual(visibility);
      expect(logger.lines).toHaveLength(lines);
      expect(metrics.published).toHaveLength(1);
      // As after a real timeout: the keys stay in progress until their expiry, and the retry then takes them over.
      if (withIdempotency) {
        expect([...(idempotency?.states.values() ?? [])]).toStrictEqual(['in-progress', 'in-progress']);
      }
    },
  );

  it.each([
    ['its first', 1],
    ['its last', 5],
  ])(
    'a handler that returned before the margin, its idempotency key still being written, is processed on %s receive, not timed out',
    async (_name, attempt) => {
      const { core, queue, logger, deadline, idempotency } = harness(
        { handlers: { '**': async () => {} } },
        {},
        { idempotency: true },
      );
      let writeLands = () => {};
      if (idempotency) idempotency.completionWrite = new Promise<void>((resolve) => (writeLands = resolve));
      const done = record(envelope({ id: 'done' }), { attempt });
      const context = movingContext();

      const pending = core.processBatch(sqsEvent([done]), context);
      await settleCallbacks();
      context.remaining = 2_500;
      deadline.ring();
      const response = await pending;
      writeLands();
      await settleCallbacks();

      expect(failedIds(response)).toStrictEqual([]);
      expect(queue.deadLetters).toStrictEqual([]);
      expect(queue.visibilityChanges).toStrictEqual([]);
      // On its last receive a finished record leaves the queue at once, as any processed one.
      expect(queue.deleted).toStrictEqual(attempt === 5 ? [done.messageId] : []);
      expect(logger.outcomes()).toMatchObject([{ id: 'done', outcome: 'processed' }]);
      expect([...(idempotency?.states.values() ?? [])]).toStrictEqual(['completed']);
    },
  );

  it('a job whose handler returned before the margin, its record still being written, is processed and recorded completed', async () => {
    let writeLands = () => {};
    const completed: string[] = [];
    const jobs: JobRecordUpdates = {
      start: async () => 'run',
      complete: async (id) => {
        await new Promise<void>((resolve) => (writeLands = resolve));
        completed.push(id);
      },
      deadLettered: async () => {},
      progress: async () => true,
      retrying: async () => {
        throw new Error('a finished job must not be recorded as retrying');
      },
    };
    const { core, queue, logger, deadline } = harness({ handlers: { '**': async () => {} } }, {}, { jobs });
    const job = record(
      envelope({ id: 'job-1', source: JOB_SOURCE, type: 'report', headers: { [JOB_RECORD_HEADER]: '1' } }),
      { attempt: 5 },
    );
    const context = movingContext();

    const pending = core.processBatch(sqsEvent([job]), context);
    await settleCallbacks();
    context.remaining = 2_500;
    deadline.ring();
    const response = await pending;
    writeLands();
    await settleCallbacks();

    expect(failedIds(response)).toStrictEqual([]);
    expect(queue.deadLetters).toStrictEqual([]);
    expect(logger.outcomes()).toMatchObject([{ id: 'job-1', outcome: 'processed' }]);
    expect(completed).toStrictEqual(['job-1']);
  });

  it('a timed-out record comes back no sooner than the invocation ends, when its idempotency lock expires', async () => {
    const stalled = stalledHandlers();
    const { core, queue, deadline } = harness(
      { handlers: { '**': stalled.handle } },
      { retry: { baseSeconds: 0, factor: 2, maxSeconds: 900 } },
      { idempotency: true },
    );
    const stuck = record(envelope({ id: 'stuck' }));
    const context = movingContext();

    const pending = core.processBatch(sqsEvent([stuck]), context);
    await stalled.entered('stuck');
    await settleCallbacks();
    context.remaining = 2_400;
    deadline.ring();
    await pending;

    expect(queue.visibilityChanges).toStrictEqual([{ messageId: stuck.messageId, seconds: 3 }]);
  });

  it('FIFO: the record cut off and the rest of its group keep their order and backoff; other groups are deferred and handed back at once; nothing starts late', async () => {
    const stalled = stalledHandlers();
    const ran: string[] = [];
    const { core, queue, logger, deadline } = harness(
      {
        handlers: {
          'shopify.order': async (event) => {
            ran.push(event.id);
          },
          'shopify.slow': async (event) => {
            ran.push(event.id);
            return stalled.handle(event);
          },
        },
      },
      { fifo: true, name: 'orders' },
    );
    const records = [
      record(envelope({ id: 'a1', source: 'shopify', type: 'order' }), { groupId: 'A', messageId: 'm-a1' }),
      record(envelope({ id: 'a2', source: 'shopify', type: 'slow' }), { groupId: 'A', messageId: 'm-a2' }),
      record(envelope({ id: 'a3', source: 'shopify', type: 'order' }), { groupId: 'A', messageId: 'm-a3' }),
      record(envelope({ id: 'b1', source: 'shopify', type: 'order' }), { groupId: 'B', messageId: 'm-b1' }),
    ];
    const context = movingContext();

    const pending = core.processBatch(sqsEvent(records), context);
    await stalled.entered('a2');
    await settleCallbacks();
    context.remaining = 2_500;
    deadline.ring();
    const response = await pending;

    expect(failedIds(response)).toStrictEqual(['m-a2', 'm-a3', 'm-b1']);
    expect(queue.deleted).toStrictEqual(['m-a1']);
    const delay = queue.visibilityChanges.find((c) => c.messageId === 'm-a2')?.seconds;
    expect(queue.visibilityChanges).toStrictEqual([
      { messageId: 'm-a2', seconds: delay },
      { messageId: 'm-a3', seconds: delay },
      { messageId: 'm-b1', seconds: 0 },
    ]);
    expect(logger.outcomeOf('a2')).toMatchObject({
      outcome: 'retried',
      reason: expect.stringMatching(TIMEOUT_REASON),
    });
    expect(logger.outcomeOf('a3')).toMatchObject({
      outcome: 'deferred',
      reason: 'not started: an earlier message of group A failed',
    });
    expect(logger.outcomeOf('b1')).toMatchObject({
      outcome: 'deferred',
      reason: 'not started: the invocation is close to its timeout',
    });

    // Once the cut-off record settles, the processor would go on to the next records: none of them runs.
    stalled.settle('a2');
    await settleCallbacks();
    expect(ran).toStrictEqual(['a1', 'a2']);
    expect(queue.deleted).toStrictEqual(['m-a1']);
  });

  it('records not started when the margin is reached are deferred, and never start once a running one settles', async () => {
    const stalled = stalledHandlers();
    const ran: string[] = [];
    const { core, logger, metrics, deadline } = harness(
      {
        handlers: {
          '**': async (event) => {
            ran.push(event.id);
            return stalled.handle(event);
          },
        },
      },
      { parallelism: 1 },
    );
    const first = record(envelope({ id: 'first' }));
    const second = record(envelope({ id: 'second' }));
    const context = movingContext();

    const pending = core.processBatch(sqsEvent([first, second]), context);
    await stalled.entered('first');
    await settleCallbacks();
    context.remaining = 2_500;
    deadline.ring();
    const response = await pending;
    stalled.settle('first');
    await settleCallbacks();

    expect(failedIds(response)).toStrictEqual([first.messageId, second.messageId]);
    expect(ran).toStrictEqual(['first']);
    expect(logger.outcomeOf('second')).toMatchObject({
      outcome: 'deferred',
      reason: 'not started: the invocation is close to its timeout',
    });
    expect(metrics.published[0]?.get('github.push')).toStrictEqual(
      typeCounts({ Failed: 1, Retried: 1, Deferred: 1 }),
    );
  });

  it('with a start margin (a forwarding request timeout), a record is not started with less than it left, though more than the deadline margin', async () => {
    const run = async (config: { startMarginMs?: number }) => {
      const context = movingContext();
      const ran: string[] = [];
      const { core, logger } = harness(
        {
          handlers: {
            '**': async (event) => {
              ran.push(event.id);
              // The first record takes the invocation down to 6 s: over the 3 s margin, under an 8 s start margin.
              context.remaining = 6_000;
            },
          },
        },
        { parallelism: 1, ...config },
      );
      const response = await core.processBatch(
        sqsEvent([record(envelope({ id: 'first' })), record(envelope({ id: 'second' }))]),
        context,
      );
      return { ran, failed: failedIds(response).length, second: logger.outcomeOf('second') };
    };
    const withStartMargin = await run({ startMarginMs: 8_000 });
    expect(withStartMargin.ran).toStrictEqual(['first']);
    expect(withStartMargin.failed).toBe(1);
    expect(withStartMargin.second).toMatchObject({
      outcome: 'deferred',
      reason: 'not started: the invocation is close to its timeout',
    });
    const withoutOne = await run({});
    expect(withoutOne.ran).toStrictEqual(['first', 'second']);
    expect(withoutOne.failed).toBe(0);
  });

  it('a job cut off on its last attempt is recorded dead-lettered with the timeout after its last progress, and its late result is not kept', async () => {
    const stalled = stalledHandlers();
    const calls: string[] = [];
    const jobs = {
      start: async (id: string) => {
        calls.push(`start ${id}`);
        return 'run' as const;
      },
      complete: async (id: string) => {
        calls.push(`complete ${id}`);
      },
      deadLettered: async (id: string, reason: string) => {
        calls.push(`dead-lettered ${id} ${reason}`);
      },
      retrying: async (id: string, attempt: number, error: string) => {
        calls.push(`retrying ${id} ${attempt} ${error}`);
      },
      progress: async (id: string, attempt: number, json: string) => {
        calls.push(`progress ${id} ${attempt} ${json}`);
        return true;
      },
    };
    const { core, deadline } = harness(
      {
        handlers: {
          'job.report.build': (event, ctx) => {
            ctx.progress(10);
            ctx.progress(20);
            return stalled.handle(event);
          },
        },
      },
      {},
      { jobs },
    );
    const job = envelope({
      id: 'report',
      source: JOB_SOURCE,
      type: 'report.build',
      headers: { 'content-type': 'application/json', [JOB_RECORD_HEADER]: '1' },
    });
    const context = movingContext();

    const pending = core.processBatch(sqsEvent([record(job, { attempt: 5 })]), context);
    await stalled.entered('report');
    await settleCallbacks();
    context.remaining = 2_500;
    deadline.ring();
    await pending;
    stalled.settle('report', { built: true });
    await settleCallbacks();

    expect(calls).toHaveLength(4);
    expect(calls.slice(0, 3)).toEqual(['start report', 'progress report 5 10', 'progress report 5 20']);
    expect(calls[3]).toMatch(/^dead-lettered report InvocationTimeoutError: did not finish before/);
  });

  it('sets one alarm per batch at the deadline margin, cancelled once the batch is done; none without a deadline', async () => {
    const { core, deadline } = harness({ handlers: { '**': async () => {} } });

    await core.processBatch(sqsEvent([record(envelope()), record(envelope())]), lambdaContext(25_000));
    expect(deadline.delays).toStrictEqual([22_000]);
    expect(deadline.ring()).toBe(false);

    // `defineConsumer` called without a Lambda context: a timer that long would fire at once in Node.
    await core.processBatch(sqsEvent([record(envelope())]), lambdaContext(Number.MAX_SAFE_INTEGER));
    expect(deadline.delays).toStrictEqual([22_000]);
  });
});
