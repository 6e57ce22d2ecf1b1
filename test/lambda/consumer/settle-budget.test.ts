/**
 * The bookkeeping a batch does in its deadline margin (held-receive counts, handing back records not started,
 * dead-letter sends on their last receive) never keeps the batch response past the invocation's timeout: with a
 * store or an SQS that answers one call at a time, slowly, the response still comes before the deadline, and every
 * record not handed back or not dead-lettered is reported failed. The real core, on real timers, with a context
 * whose remaining time runs down with the wall clock.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { SQSRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import type { DeadLetterMessage } from '../../../lambda/consumer/dead-letter';
import type { HeldReceives } from '../../../lambda/consumer/held-receives';
import { SETTLE_CONCURRENCY } from '../../../lambda/consumer/settle-budget';
import { CONSUMER_OUTCOME_MESSAGE } from '../../../lambda/shared/contracts';
import { FAILURE_ATTRIBUTES, MESSAGE_ATTRIBUTES } from '../../../lambda/shared/envelope';
import { timerAlarm } from '../../../lambda/shared/invocation-deadline';
import { JOB_SOURCE } from '../../../lambda/shared/job';
import { envelope, failedIds, harness, record, runningDownContext, sqsEvent } from './fakes';

const RECORDS = 2_000;
/** The invocation's time left when the batch arrives; with the 1 s margin, the margin is reached after 0.5 s. */
const INVOCATION_MS = 1_500;
const MARGIN_MS = 1_000;

/** Calls answered one at a time, each `ms` later: a throttled table, or a client whose sockets are all taken. */
function oneAtATime(ms: number) {
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(answer: () => T): Promise<T> => {
    const next = tail.then(async () => {
      await sleep(ms);
      return answer();
    });
    tail = next;
    return next;
  };
}

/** A consumer of `job.report.build` (whose handler never returns) at parallelism 1: the first record runs, the rest wait. */
function stalledConsumer(options: { heldReceives?: HeldReceives } = {}) {
  return harness(
    {
      handlers: {
        'job.report.build': () => new Promise<void>(() => {}),
        'github.push': () => new Promise<void>(() => {}),
      },
    },
    { parallelism: 1, deadlineMarginMs: MARGIN_MS, maxReceiveCount: 5 },
    { ...options, alarm: timerAlarm },
  );
}

const jobs = (receive = 1): SQSRecord[] =>
  Array.from({ length: RECORDS }, (_, n) =>
    record(envelope({ id: `job-${n}`, source: JOB_SOURCE, type: 'report.build' }), {
      messageId: `m-${n}`,
      attempt: receive,
    }),
  );

describe('the bookkeeping in the deadline margin', () => {
  it('of 2,000 deferred jobs whose held counts are slow ends before the deadline: only jobs whose count was written are handed back, 25 calls at a time, every one reported failed', async () => {
    const written = new Set<string>();
    const answer = oneAtATime(2);
    let inFlight = 0;
    let mostInFlight = 0;
    const heldReceives: HeldReceives = {
      add: async (messageId) => {
        mostInFlight = Math.max(mostInFlight, ++inFlight);
        await answer(() => void written.add(messageId));
        inFlight--;
        return 0;
      },
      count: async () => 0,
    };
    const { core, queue, logger } = stalledConsumer({ heldReceives });
    const releasedUncounted: string[] = [];
    const released: string[] = [];
    queue.operations.changeVisibilities = async (records) => {
      for (const r of records) {
        released.push(r.messageId);
        if (!written.has(r.messageId)) releasedUncounted.push(r.messageId);
      }
      return [];
    };
    const batch = jobs();
    const context = runningDownContext(INVOCATION_MS);

    const response = await core.processBatch(sqsEvent(batch), context);

    expect(context.getRemainingTimeInMillis()).toBeGreaterThan(0);
    expect(failedIds(response)).toEqual(batch.map((r) => r.messageId));
    expect(releasedUncounted).toEqual([]);
    expect(written.size).toBeLessThan(RECORDS - 1);
    // Hand-backs of counted jobs go ahead of the counts still waiting, rather than starving behind them.
    expect(released.length).toBeGreaterThan(0);
    expect(mostInFlight).toBeLessThanOrEqual(SETTLE_CONCURRENCY);
    const warning = logger.lines.find((l) => l.message.includes('not handed back at once'));
    expect(warning?.attributes.count).toBe(RECORDS - 1 - released.length);
  });

  it('of 2,000 records not started whose hand-back SQS answers slowly ends before the deadline, every one reported failed', async () => {
    const { core, queue, logger } = stalledConsumer();
    const answer = oneAtATime(20);
    const released: string[] = [];
    // As the SQS operations do: one ChangeMessageVisibilityBatch per ten records, each answered in turn.
    queue.operations.changeVisibilities = async (records) => {
      const calls: Promise<void>[] = [];
      for (let i = 0; i < records.length; i += 10) {
        const chunk = records.slice(i, i + 10);
        calls.push(answer(() => void released.push(...chunk.map((r) => r.messageId))));
      }
      await Promise.all(calls);
      return [];
    };
    const batch = Array.from({ length: RECORDS }, (_, n) =>
      record(envelope({ id: `push-${n}` }), { messageId: `m-${n}` }),
    );
    const context = runningDownContext(INVOCATION_MS);

    const response = await core.processBatch(sqsEvent(batch), context);

    expect(context.getRemainingTimeInMillis()).toBeGreaterThan(0);
    expect(failedIds(response)).toEqual(batch.map((r) => r.messageId));
    expect(released.length).toBeLessThan(RECORDS - 1);
    const warning = logger.lines.find((l) => l.message.includes('not handed back at once'));
    expect(warning?.attributes.count).toBeGreaterThan(0);
  });

  it('dead-letters the jobs not started on their last receive in time although their attempts are slow to read: none lands after the response', async () => {
    // The held receives answer after the batch's deadline: read before each send, they would hold every send past it.
    const heldReceives: HeldReceives = {
      add: async () => 0,
      count: () => sleep(1_000).then(() => 1),
    };
    const { core, queue } = stalledConsumer({ heldReceives });
    const deleted = new Set<string>();
    queue.operations.deleteMessage = async (r) => void deleted.add(r.messageId);
    const batch = jobs(5).slice(0, 10);
    const context = runningDownContext(INVOCATION_MS);

    const response = await core.processBatch(sqsEvent(batch), context);
    const leftMs = context.getRemainingTimeInMillis();
    const sentByResponse = queue.deadLetters.length;
    await sleep(1_200);

    expect(leftMs).toBeGreaterThan(0);
    // Every one reported done: dead-lettered and deleted before the response, the ones not started with their
    // receive as their attempt, and no dead letter after it.
    expect(failedIds(response)).toEqual([]);
    expect([...deleted].sort()).toEqual(batch.map((r) => r.messageId).sort());
    expect(queue.deadLetters).toHaveLength(sentByResponse);
    const notStarted = queue.deadLetters.filter(
      (d) => d.attributes[FAILURE_ATTRIBUTES.errorName]?.StringValue === 'NotStartedError',
    );
    expect(notStarted.map((d) => d.attributes[FAILURE_ATTRIBUTES.attempt]?.StringValue)).toEqual(
      Array(batch.length - 1).fill('5'),
    );
  });

  it('of 2,000 records not started on their last receive, whose dead letters are slow, ends before the deadline: only records dead-lettered and deleted are reported done', async () => {
    const { core, queue, logger } = stalledConsumer();
    const answer = oneAtATime(2);
    const deleted = new Set<string>();
    queue.operations.sendToDeadLetter = (message: DeadLetterMessage) =>
      answer(() => void message.attributes[MESSAGE_ATTRIBUTES.eventId]);
    queue.operations.deleteMessage = async (r) => void deleted.add(r.messageId);
    const batch = jobs(5);
    const context = runningDownContext(INVOCATION_MS);

    const response = await core.processBatch(sqsEvent(batch), context);

    expect(context.getRemainingTimeInMillis()).toBeGreaterThan(0);
    const failed = new Set(failedIds(response));
    const reportedDone = batch.filter((r) => !failed.has(r.messageId)).map((r) => r.messageId);
    expect(reportedDone.length).toBeGreaterThan(0);
    for (const id of reportedDone) expect(deleted.has(id), id).toBe(true);
    expect(failed.size).toBeGreaterThan(RECORDS / 2);
    const leftOver = logger.lines.filter(
      (l) =>
        l.message === CONSUMER_OUTCOME_MESSAGE &&
        String(l.attributes.reason).endsWith('no time left to dead-letter it on its last receive'),
    );
    expect(leftOver.length).toBeGreaterThan(0);
    // SQS moves each to the DLQ on its next receive, where no line of ours follows: this line is its dead letter's.
    for (const l of leftOver) expect([l.attributes.outcome, l.level]).toEqual(['deferred', 'error']);
  });
});
