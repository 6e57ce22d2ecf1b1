import type { SQSRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { attemptOf, checkedFailures, type IdempotencyGate } from '../../../lambda/consumer/core';
import {
  KeyReleasedByOtherCopyError,
  PermanentError,
  RetryLaterError,
} from '../../../lambda/consumer/errors';
import { handleJob } from '../../../lambda/consumer/jobs';
import type { ConsumerDefinition, ConsumerEvent, HandlerContext } from '../../../lambda/consumer/types';
import { CONSUMER_OUTCOME_MESSAGE } from '../../../lambda/shared/contracts';
import { FAILURE_ATTRIBUTES, MESSAGE_ATTRIBUTES } from '../../../lambda/shared/envelope';
import { defineJob, JOB_DEBOUNCE_HEADER, JOB_RECORD_HEADER, JOB_SOURCE } from '../../../lambda/shared/job';
import { envelope, failedIds, harness, lambdaContext, NOW, record, sqsEvent, typeCounts } from './fakes';

const ok = async () => {};

describe('consumer core: partial batch failures', () => {
  it('a batch of 10 where message 3 throws reports only message 3 and backs it off', async () => {
    const seen: string[] = [];
    const envelopes = Array.from({ length: 10 }, (_, i) => envelope({ id: `evt-${i + 1}` }));
    const { core, queue, logger } = harness({
      handlers: {
        'github.push': async (event) => {
          seen.push(event.id);
          if (event.id === 'evt-3') throw new Error('downstream 503');
        },
      },
    });
    const records = envelopes.map((e) => record(e));

    const response = await core.processBatch(sqsEvent(records), lambdaContext());

    expect(response).toStrictEqual({ batchItemFailures: [{ itemIdentifier: records[2]?.messageId }] });
    expect(seen.sort()).toStrictEqual(envelopes.map((e) => e.id).sort());
    expect(queue.visibilityChanges).toStrictEqual([
      { messageId: records[2]?.messageId, seconds: expect.any(Number) },
    ]);
    expect(queue.deadLetters).toHaveLength(0);
    expect(logger.outcomeOf('evt-3')).toMatchObject({ outcome: 'retried', reason: 'Error: downstream 503' });
    expect(logger.outcomes().filter((o) => o.outcome === 'processed')).toHaveLength(9);
  });

  it('when every record fails it returns the full list instead of throwing', async () => {
    const { core, queue } = harness({
      handlers: {
        '**': async () => {
          throw new Error('database down');
        },
      },
    });
    const records = [record(envelope()), record(envelope()), record(envelope())];

    const response = await core.processBatch(sqsEvent(records), lambdaContext());

    expect(failedIds(response).sort()).toStrictEqual(records.map((r) => r.messageId).sort());
    expect(queue.visibilityChanges).toHaveLength(3);
  });

  it('an empty batch succeeds with no failures', async () => {
    const { core } = harness({ handlers: { '**': ok } });
    expect(await core.processBatch(sqsEvent([]), lambdaContext())).toStrictEqual({ batchItemFailures: [] });
  });

  it('throws rather than report a failed record that has no messageId', async () => {
    const { core } = harness({
      handlers: {
        '**': async () => {
          throw new Error('boom');
        },
      },
    });
    const broken = record(envelope(), { messageId: '' });
    await expect(core.processBatch(sqsEvent([broken, record(envelope())]), lambdaContext())).rejects.toThrow(
      /without a valid messageId/,
    );
  });
});

describe('consumer core: retries with backoff', () => {
  it('sets the visibility from the receive count: equal jitter within [ceiling/2, ceiling]', async () => {
    const fail = async () => {
      throw new Error('try later');
    };
    const low = harness({ handlers: { '**': fail } }, {}, { random: () => 0 });
    const high = harness({ handlers: { '**': fail } }, {}, { random: () => 0.999 });
    const records = [1, 2, 3, 4].map((attempt) => record(envelope(), { attempt, messageId: `m${attempt}` }));

    await low.core.processBatch(sqsEvent(records), lambdaContext());
    await high.core.processBatch(sqsEvent(records), lambdaContext());

    const byId = (changes: Array<{ messageId: string; seconds: number }>) =>
      Object.fromEntries(changes.map((c) => [c.messageId, c.seconds]));
    // base 10 s, factor 2: ceilings 10, 20, 40, 80 s.
    expect(byId(low.queue.visibilityChanges)).toStrictEqual({ m1: 5, m2: 10, m3: 20, m4: 40 });
    expect(byId(high.queue.visibilityChanges)).toStrictEqual({ m1: 10, m2: 20, m3: 40, m4: 80 });
  });

  it('still reports the failure when ChangeMessageVisibility fails', async () => {
    const { core, queue, logger } = harness({
      handlers: {
        '**': async () => {
          throw new Error('flaky');
        },
      },
    });
    queue.failVisibility = true;
    const rec = record(envelope());

    const response = await core.processBatch(sqsEvent([rec]), lambdaContext());

    expect(failedIds(response)).toStrictEqual([rec.messageId]);
    expect(
      logger.lines.some((l) => l.level === 'warn' && /ChangeMessageVisibility failed/.test(l.message)),
    ).toBe(true);
  });
});

describe('consumer core: a failure that says when to retry (RetryLaterError)', () => {
  const retryAfter = (seconds: number) => async () => {
    throw new RetryLaterError(seconds, 'HTTP 429 Too Many Requests');
  };

  it('holds the record back for the requested delay when it is longer than the backoff', async () => {
    const { core, queue } = harness({ handlers: { '**': retryAfter(120) } }, {}, { random: () => 0.999 });
    const rec = record(envelope(), { attempt: 1 });

    const response = await core.processBatch(sqsEvent([rec]), lambdaContext());

    expect(failedIds(response)).toStrictEqual([rec.messageId]);
    // The backoff alone would be 10 s on a first attempt.
    expect(queue.visibilityChanges).toStrictEqual([{ messageId: rec.messageId, seconds: 120 }]);
  });

  it("takes the delay as a job's delay takes it, a duration or the Date it may run again, as well as seconds", async () => {
    const asked = async (delay: ConstructorParameters<typeof RetryLaterError>[0]) => {
      const handler = async () => {
        throw new RetryLaterError(delay, 'HTTP 429 Too Many Requests');
      };
      const { core, queue } = harness({ handlers: { '**': handler } }, {}, { random: () => 0.999 });
      const rec = record(envelope(), { attempt: 1 });
      await core.processBatch(sqsEvent([rec]), lambdaContext());
      return queue.visibilityChanges.map((c) => c.seconds);
    };
    expect(await asked({ minutes: 2 })).toStrictEqual([120]);
    expect(await asked({ minutes: 1, seconds: 30.2 })).toStrictEqual([91]);
    expect(await asked(new Date(Date.now() + 300_000))).toStrictEqual([300]);
    expect(await asked(120)).toStrictEqual([120]);
    // A reset time already past asks for no wait: the backoff (10 s on a first attempt) stands.
    expect(await asked(new Date(Date.now() - 60_000))).toStrictEqual([10]);
  });

  it("refuses a delay that is not a duration as a job's delay is refused, naming the fix, so the record fails with that reason", async () => {
    const refused = (delay: unknown) => () => new RetryLaterError(delay as { seconds: number }, 'HTTP 429');
    expect(refused({ secs: 5 })).toThrow(
      new TypeError(
        'RetryLaterError delay {"secs":5} has "secs", which is not a unit: use days, hours, minutes or seconds',
      ),
    );
    expect(refused({ seconds: '5' })).toThrow(
      /RetryLaterError delay \{"seconds":"5"\} has "seconds" not given as a number/,
    );
    expect(refused({ minutes: -1 })).toThrow(/RetryLaterError delay \{ minutes: -1 \} is not a duration/);
    expect(refused('5')).toThrow(
      /RetryLaterError delay "5" is not a duration or a Date: pass \{ seconds: n \}/,
    );
    expect(refused(new Date(Number.NaN))).toThrow('RetryLaterError delay is an invalid Date');

    const { core, queue, logger } = harness(
      {
        handlers: {
          '**': async () => {
            throw new RetryLaterError({ secs: 300 } as never, 'HTTP 429');
          },
        },
      },
      {},
      { random: () => 0.999 },
    );
    const rec = record(envelope(), { attempt: 1 });
    const response = await core.processBatch(sqsEvent([rec]), lambdaContext());

    expect(failedIds(response)).toStrictEqual([rec.messageId]);
    // Not a wait of 0 nor of 300 s: the queue's backoff, and the reason says what to fix.
    expect(queue.visibilityChanges).toStrictEqual([{ messageId: rec.messageId, seconds: 10 }]);
    expect(JSON.stringify(logger.lines)).toContain('has \\"secs\\", which is not a unit');
  });

  it('keeps the backoff when it is longer than the requested delay', async () => {
    const { core, queue } = harness({ handlers: { '**': retryAfter(2) } }, {}, { random: () => 0.999 });
    const rec = record(envelope(), { attempt: 4 });

    await core.processBatch(sqsEvent([rec]), lambdaContext());

    expect(queue.visibilityChanges).toStrictEqual([{ messageId: rec.messageId, seconds: 80 }]);
  });

  it('caps the requested delay at what SQS grants a record held 20 minutes since its receive, and rounds a fraction up', async () => {
    // SQS counts its 12-hour limit from the receive and refuses a visibility past it: a 12-hour delay set after a
    // batching window and part of an invocation would be refused, and the record back after its visibility timeout.
    expect(new RetryLaterError(10 ** 9, 'far').delaySeconds).toBe(43_200 - 1_200);
    expect(new RetryLaterError(1.2, 'soon').delaySeconds).toBe(2);
    expect(new RetryLaterError(-5, 'past').delaySeconds).toBe(0);
    expect(new RetryLaterError(Number.NaN, 'garbage').delaySeconds).toBe(0);
    const { core, queue } = harness({ handlers: { '**': retryAfter(10 ** 9) } });
    const rec = record(envelope(), { attempt: 1 });

    await core.processBatch(sqsEvent([rec]), lambdaContext());

    expect(queue.visibilityChanges).toStrictEqual([{ messageId: rec.messageId, seconds: 43_200 - 1_200 }]);
  });

  it("caps a job's own backoff of up to 12 hours at what SQS grants a record held 20 minutes since its receive", async () => {
    const { core, queue } = harness({ handlers: { '**': retryAfter(1) } }, {}, { random: () => 0.999_999 });
    const job = envelope({
      source: JOB_SOURCE,
      type: 'report',
      headers: { 'x-hookline-job-backoff': JSON.stringify({ baseSeconds: 43_200, maxSeconds: 43_200 }) },
    });
    const rec = record(job, { attempt: 2 });

    await core.processBatch(sqsEvent([rec]), lambdaContext());

    expect(queue.visibilityChanges).toStrictEqual([{ messageId: rec.messageId, seconds: 43_200 - 1_200 }]);
  });

  it('still dead-letters on the last attempt, so maxReceiveCount bounds the retries', async () => {
    const { core, queue } = harness({ handlers: { '**': retryAfter(60) } });
    const rec = record(envelope(), { attempt: 5 });

    const response = await core.processBatch(sqsEvent([rec]), lambdaContext());

    expect(failedIds(response)).toStrictEqual([]);
    expect(queue.visibilityChanges).toStrictEqual([]);
    expect(queue.deadLetters).toHaveLength(1);
  });
});

describe('consumer core: dead-lettering on the final attempt and permanent failures', () => {
  it('on the final attempt a failing record goes to the DLQ with its reason and is reported done', async () => {
    const env = envelope({ id: 'poison' });
    const { core, queue, logger, metrics } = harness(
      {
        handlers: {
          'github.push': async () => {
            throw new TypeError('cannot read properties of undefined');
          },
        },
      },
      { maxReceiveCount: 5 },
    );
    const rec = record(env, {
      attempt: 5,
      extraAttributes: { custom: { dataType: 'String', stringValue: 'kept' } },
    });

    const response = await core.processBatch(sqsEvent([rec]), lambdaContext());

    expect(response.batchItemFailures).toStrictEqual([]);
    expect(queue.visibilityChanges).toHaveLength(0);
    expect(queue.deadLetters).toHaveLength(1);
    const sent = queue.deadLetters[0];
    expect(sent?.body).toBe(rec.body);
    expect(sent?.attributes).toMatchObject({
      custom: { DataType: 'String', StringValue: 'kept' },
      'hookline.id': { DataType: 'String', StringValue: 'poison' },
      [FAILURE_ATTRIBUTES.errorName]: { DataType: 'String', StringValue: 'TypeError' },
      [FAILURE_ATTRIBUTES.errorMessage]: {
        DataType: 'String',
        StringValue: 'cannot read properties of undefined',
      },
      [FAILURE_ATTRIBUTES.attempt]: { DataType: 'Number', StringValue: '5' },
      [FAILURE_ATTRIBUTES.consumer]: { DataType: 'String', StringValue: 'events' },
      [FAILURE_ATTRIBUTES.failedAt]: { DataType: 'String', StringValue: new Date(NOW).toISOString() },
    });
    expect(logger.outcomeOf('poison')).toMatchObject({
      outcome: 'dead-lettered',
      attempt: 5,
      queue: 'events',
    });
    expect(metrics.total('DeadLettered')).toBe(1);
    expect(metrics.total('Failed')).toBe(1);
  });

  it('before the final attempt the same failure is retried, not dead-lettered', async () => {
    const { core, queue } = harness(
      {
        handlers: {
          '**': async () => {
            throw new Error('x');
          },
        },
      },
      { maxReceiveCount: 5 },
    );
    const rec = record(envelope(), { attempt: 4 });
    expect(failedIds(await core.processBatch(sqsEvent([rec]), lambdaContext()))).toStrictEqual([
      rec.messageId,
    ]);
    expect(queue.deadLetters).toHaveLength(0);
  });

  it('reports a final-attempt failure when the DLQ send fails, so SQS redrive still catches it', async () => {
    const { core, queue, logger } = harness({
      handlers: {
        '**': async () => {
          throw new Error('x');
        },
      },
    });
    queue.failDeadLetter = true;
    const rec = record(envelope(), { attempt: 5 });

    expect(failedIds(await core.processBatch(sqsEvent([rec]), lambdaContext()))).toStrictEqual([
      rec.messageId,
    ]);
    expect(logger.lines.some((l) => l.level === 'error' && /dead-letter send failed/.test(l.message))).toBe(
      true,
    );
  });

  it.each([
    [
      'a PermanentError from the handler',
      {
        handlers: {
          'github.push': async () => {
            throw new PermanentError('repository was deleted');
          },
        },
      },
      JSON.stringify(envelope({ id: 'p1' })),
      'PermanentError',
    ],
    [
      'an error named PermanentError from another copy of the runtime (not an instance of ours)',
      {
        handlers: {
          'github.push': async () => {
            throw Object.assign(new Error('repository was deleted'), { name: 'PermanentError' });
          },
        },
      },
      JSON.stringify(envelope({ id: 'p1' })),
      'PermanentError',
    ],
    [
      'a schema failure',
      { handlers: { 'github.push': { schema: z.object({ ref: z.number() }), handle: ok } } },
      JSON.stringify(envelope({ id: 'p1' })),
      'InvalidPayloadError',
    ],
    [
      'an unknown type with no default',
      { handlers: { 'stripe.**': ok } },
      JSON.stringify(envelope({ id: 'p1' })),
      'UnknownEventTypeError',
    ],
    ['an unparseable envelope', { handlers: { '**': ok } }, '{"not":"an envelope"}', 'InvalidEnvelopeError'],
    [
      'a body that is not the JSON its content type says',
      { handlers: { '**': ok } },
      JSON.stringify(envelope({ id: 'p1', body: '{broken' })),
      'InvalidPayloadError',
    ],
    [
      'an envelope with neither a body nor a payloadRef',
      { handlers: { '**': ok } },
      JSON.stringify({ ...envelope({ id: 'p1' }), body: undefined }),
      'InvalidPayloadError',
    ],
  ])('dead-letters %s on the first attempt', async (_, definition, body, errorName) => {
    const { core, queue, logger } = harness(definition as ConsumerDefinition);
    const rec = record(envelope({ id: 'p1' }), { attempt: 1, body });

    const response = await core.processBatch(sqsEvent([rec]), lambdaContext());

    expect(response.batchItemFailures).toStrictEqual([]);
    expect(queue.visibilityChanges).toHaveLength(0);
    expect(
      queue.deadLetters.map((m) => m.attributes[FAILURE_ATTRIBUTES.errorName]?.StringValue),
    ).toStrictEqual([errorName]);
    expect(queue.deadLetters[0]?.attributes[FAILURE_ATTRIBUTES.attempt]?.StringValue).toBe('1');
    // A poison record, which the circuit breaker does not count: its line and its type's counts say so.
    expect(logger.outcomeOf('p1')).toMatchObject({ outcome: 'dead-lettered', attempt: 1, permanent: true });
  });

  it.each([
    [
      'an envelope whose body is not the JSON its content type says',
      JSON.stringify(envelope({ id: 'p1', body: 'card=4242424242424242' })),
    ],
    ['a message body that is not JSON at all', 'card=4242424242424242'],
  ])('quotes none of %s in the outcome line or the dead letter (the parser would)', async (_, body) => {
    const { core, queue, logger } = harness({ handlers: { '**': ok } });

    await core.processBatch(
      sqsEvent([record(envelope({ id: 'p1' }), { attempt: 1, body })]),
      lambdaContext(),
    );

    // Every text the logger writes of the line: an error with its message, stack and cause chain.
    const written = JSON.stringify(logger.outcomes(), (_key, value: unknown) =>
      value instanceof Error
        ? { name: value.name, message: value.message, stack: value.stack, cause: value.cause }
        : value,
    );
    expect(written).toContain('not valid JSON');
    expect(written).not.toContain('4242');
    const reason = queue.deadLetters[0]?.attributes[FAILURE_ATTRIBUTES.errorMessage]?.StringValue;
    expect(reason).toMatch(/JSON/);
    expect(reason).not.toContain('4242');
  });

  it('marks a record dead-lettered on its last attempt by a retryable error as no poison record, and counts only poison ones apart', async () => {
    let calls = 0;
    const { core, logger, metrics } = harness({
      handlers: {
        'github.push': async () => {
          calls += 1;
          throw calls === 1 ? new Error('dependency down') : new PermanentError('bad event');
        },
      },
    });
    const exhausted = record(envelope({ id: 'last' }), { attempt: 5 });
    const poison = record(envelope({ id: 'poison' }), { attempt: 1 });

    await core.processBatch(sqsEvent([exhausted, poison]), lambdaContext());

    expect(logger.outcomeOf('last')).toMatchObject({ outcome: 'dead-lettered' });
    expect(logger.outcomeOf('last')).not.toHaveProperty('permanent');
    expect(logger.outcomeOf('poison')).toMatchObject({ outcome: 'dead-lettered', permanent: true });
    expect(metrics.published[0]?.get('github.push')).toMatchObject({ DeadLettered: 2, Permanent: 1 });
  });

  it('dead-letters a foreign message (no hookline attributes, not an envelope) under the id its outcome line names it by', async () => {
    const { core, queue, logger } = harness({ handlers: { '**': async () => {} } });
    const foreign = { ...record(envelope(), { body: 'this is not json' }), messageAttributes: {} };

    await core.processBatch(sqsEvent([foreign]), lambdaContext());

    expect(logger.outcomeOf(foreign.messageId)).toMatchObject({ outcome: 'dead-lettered' });
    expect(queue.deadLetters[0]?.attributes[MESSAGE_ATTRIBUTES.eventId]?.StringValue).toBe(foreign.messageId);
  });

  it('dead-letters an envelope that arrived without attributes (as EventBridge Scheduler sends one) under its envelope id', async () => {
    const { core, queue } = harness({ handlers: {} });
    const bare = { ...record(envelope({ id: 'job-7' })), messageAttributes: {} };

    await core.processBatch(sqsEvent([bare]), lambdaContext());

    expect(queue.deadLetters[0]?.attributes[MESSAGE_ATTRIBUTES.eventId]?.StringValue).toBe('job-7');
  });

  it('a permanent failure whose DLQ send fails is reported as a failure (never lost)', async () => {
    const { core, queue } = harness({ handlers: {} });
    queue.failDeadLetter = true;
    const rec = record(envelope());
    expect(failedIds(await core.processBatch(sqsEvent([rec]), lambdaContext()))).toStrictEqual([
      rec.messageId,
    ]);
  });

  it('dead-letters an error whose text SQS would refuse (ANSI colours, NUL, a lone surrogate) with that text escaped', async () => {
    const error = new PermanentError('\u001b[31mcustomer\u0000 42 not found\u001b[0m \ud800');
    error.name = 'Lookup\u0007Error';
    const { core, queue, logger } = harness({
      handlers: {
        'github.push': async () => {
          throw error;
        },
      },
    });
    const rec = record(envelope({ id: 'ansi' }), { attempt: 1 });

    const response = await core.processBatch(sqsEvent([rec]), lambdaContext());

    expect(response.batchItemFailures).toStrictEqual([]);
    expect(logger.outcomeOf('ansi')).toMatchObject({ outcome: 'dead-lettered', attempt: 1 });
    const attributes = queue.deadLetters[0]?.attributes;
    expect(attributes?.[FAILURE_ATTRIBUTES.errorMessage]?.StringValue).toBe(
      '\\u001b[31mcustomer\\u0000 42 not found\\u001b[0m \\ud800',
    );
    expect(attributes?.[FAILURE_ATTRIBUTES.errorName]?.StringValue).toBe('Lookup\\u0007Error');
  });
});

describe('consumer core: finished records leave the queue at once', () => {
  const invocationTimedOut = async () => {
    throw new Error('the invocation would time out here');
  };

  it('deletes a dead-lettered record from its queue right after the DLQ send, not before', async () => {
    const { core, queue } = harness({
      handlers: {
        '**': async () => {
          throw new PermanentError('bad event');
        },
      },
    });
    const rec = record(envelope({ id: 'dead' }));

    const response = await core.processBatch(sqsEvent([rec]), lambdaContext());

    expect(response.batchItemFailures).toStrictEqual([]);
    expect(queue.calls).toStrictEqual(['send-dlq:dead', `delete:${rec.messageId}`]);
  });

  it('a record dead-lettered in a batch whose invocation later dies is not redelivered', async () => {
    // Lambda never sees a batch response when another record runs the invocation into its timeout; the
    // runtime's own delete is then the only thing standing between the record and a second DLQ copy.
    const { core, queue } = harness({
      handlers: {
        'github.push': async () => {
          throw new PermanentError('bad event');
        },
        'github.slow': invocationTimedOut,
      },
    });
    const dead = record(envelope({ id: 'dead' }));
    const slow = record(envelope({ id: 'slow', type: 'slow' }));

    await core.processBatch(sqsEvent([dead, slow]), lambdaContext());

    expect(queue.deadLetters).toHaveLength(1);
    expect(queue.deleted).toStrictEqual([dead.messageId]);
  });

  it('never deletes a record whose DLQ send failed', async () => {
    const { core, queue } = harness({ handlers: {} });
    queue.failDeadLetter = true;
    const rec = record(envelope());

    expect(failedIds(await core.processBatch(sqsEvent([rec]), lambdaContext()))).toStrictEqual([
      rec.messageId,
    ]);
    expect(queue.deleted).toStrictEqual([]);
  });

  it('still reports a dead-lettered record done when its delete fails, and logs and counts it', async () => {
    const { core, queue, logger, metrics } = harness({ handlers: {} });
    queue.failDelete = true;
    const rec = record(envelope({ id: 'dead' }));

    const response = await core.processBatch(sqsEvent([rec]), lambdaContext());

    expect(response.batchItemFailures).toStrictEqual([]);
    expect(queue.deadLetters).toHaveLength(1);
    expect(logger.outcomeOf('dead')).toMatchObject({ outcome: 'dead-lettered' });
    expect(
      logger.lines.find((l) => l.level === 'warn' && /DeleteMessage failed/.test(l.message))?.attributes,
    ).toMatchObject({ id: 'dead', messageId: rec.messageId, error: 'Error: receipt handle expired' });
    expect(metrics.total('DeleteFailed')).toBe(1);
  });

  it('FIFO: deletes each processed or duplicate record before the next one starts', async () => {
    const { core, queue, idempotency } = harness(
      {
        handlers: {
          '**': async (event) => {
            queue.calls.push(`run:${event.id}`);
          },
        },
      },
      { fifo: true, name: 'orders' },
      { idempotency: true },
    );
    idempotency?.states.set('orders#github#a2', 'completed');
    const records = ['a1', 'a2', 'a3'].map((id) =>
      record(envelope({ id }), { groupId: 'A', messageId: `m-${id}` }),
    );

    await core.processBatch(sqsEvent(records), lambdaContext());

    expect(queue.calls).toStrictEqual(['run:a1', 'delete:m-a1', 'delete:m-a2', 'run:a3', 'delete:m-a3']);
  });

  it('FIFO: records processed before the invocation dies are gone; the failed and the unstarted are not', async () => {
    const { core, queue } = harness(
      {
        handlers: {
          'shopify.order': async () => {},
          'shopify.slow': invocationTimedOut,
        },
      },
      { fifo: true, name: 'orders' },
    );
    const records = [
      record(envelope({ id: 'a1', source: 'shopify', type: 'order' }), { groupId: 'A', messageId: 'm-a1' }),
      record(envelope({ id: 'b1', source: 'shopify', type: 'order' }), { groupId: 'B', messageId: 'm-b1' }),
      record(envelope({ id: 'a2', source: 'shopify', type: 'slow' }), { groupId: 'A', messageId: 'm-a2' }),
      record(envelope({ id: 'a3', source: 'shopify', type: 'order' }), { groupId: 'A', messageId: 'm-a3' }),
    ];

    await core.processBatch(sqsEvent(records), lambdaContext());

    expect(queue.deleted).toStrictEqual(['m-a1', 'm-b1']);
  });

  it('FIFO: a failed delete of a processed record still reports it done', async () => {
    const { core, queue, metrics } = harness({ handlers: { '**': ok } }, { fifo: true });
    queue.failDelete = true;
    const rec = record(envelope(), { groupId: 'A' });

    expect((await core.processBatch(sqsEvent([rec]), lambdaContext())).batchItemFailures).toStrictEqual([]);
    expect(metrics.total('DeleteFailed')).toBe(1);
  });

  it('standard queues delete a record finished on its last receive at once, so a timeout cannot dead-letter it', async () => {
    // A batch mate that hangs on every receive times the invocation out each time: without its own delete, the
    // record that finished comes back until SQS moves it to the DLQ, listed as failed although it was done.
    const { core, queue, logger } = harness({
      handlers: {
        'github.push': ok,
        'github.slow': invocationTimedOut,
      },
    });
    const done = record(envelope({ id: 'done' }), { attempt: 5 });
    const early = record(envelope({ id: 'early' }), { attempt: 4 });
    const slow = record(envelope({ id: 'slow', type: 'slow' }), { attempt: 4 });

    await core.processBatch(sqsEvent([done, early, slow]), lambdaContext());

    expect(logger.outcomeOf('done')).toMatchObject({ outcome: 'processed', attempt: 5 });
    expect(queue.deleted).toStrictEqual([done.messageId]);
  });

  it('standard queues leave processed records to the batch response (no call per record)', async () => {
    const { core, queue } = harness({ handlers: { '**': ok } });

    await core.processBatch(sqsEvent([record(envelope()), record(envelope())]), lambdaContext());

    expect(queue.deleted).toStrictEqual([]);
  });
});

describe('consumer core: deadline', () => {
  it('reports records as failures without running them when the remaining time is below the margin, and hands them back at once', async () => {
    let calls = 0;
    const { core, queue, logger } = harness(
      {
        handlers: {
          '**': async () => {
            calls++;
          },
        },
      },
      { deadlineMarginMs: 3_000 },
    );
    const records = [record(envelope({ id: 'late-1' }), { attempt: 4 }), record(envelope({ id: 'late-2' }))];

    const response = await core.processBatch(sqsEvent(records), lambdaContext(2_999));

    expect(failedIds(response).sort()).toStrictEqual(records.map((r) => r.messageId).sort());
    expect(calls).toBe(0);
    // No backoff and no dead-lettering: the record never ran. Made visible again in one call, not after the
    // visibility timeout.
    expect(queue.visibilityChanges).toEqual(records.map((r) => ({ messageId: r.messageId, seconds: 0 })));
    expect(queue.visibilityBatches).toHaveLength(1);
    expect(queue.deadLetters).toHaveLength(0);
    expect(logger.outcomeOf('late-1')).toMatchObject({ outcome: 'deferred', attempt: 4 });
  });

  it('dead-letters a record it cannot start on its last receive, saying why, instead of handing it back for SQS to move without a reason', async () => {
    let calls = 0;
    const { core, queue, logger } = harness(
      { handlers: { '**': async () => void calls++ } },
      { deadlineMarginMs: 3_000, maxReceiveCount: 5 },
    );
    const last = record(envelope({ id: 'late-last' }), { attempt: 5 });

    const response = await core.processBatch(sqsEvent([last]), lambdaContext(2_999));

    expect(failedIds(response)).toStrictEqual([]);
    expect(calls).toBe(0);
    expect(queue.deadLetters).toHaveLength(1);
    expect(queue.deadLetters[0]?.attributes[FAILURE_ATTRIBUTES.errorName]?.StringValue).toBe(
      'NotStartedError',
    );
    expect(queue.deleted).toStrictEqual([last.messageId]);
    expect(logger.outcomeOf('late-last')).toMatchObject({
      outcome: 'dead-lettered',
      attempt: 5,
      reason:
        'NotStartedError: not started: the invocation is close to its timeout, on its last receive (maxReceiveCount 5)',
    });
  });

  it('a deferred record adds no end-to-end latency: it was not processed', async () => {
    const { core, metrics } = harness({ handlers: { '**': async () => {} } }, { deadlineMarginMs: 3_000 });
    await core.processBatch(sqsEvent([record(envelope())]), lambdaContext(2_999));
    expect(metrics.published[0]?.get('github.push')).toStrictEqual(typeCounts({ Deferred: 1 }));
  });

  it('a retried record adds no end-to-end latency: it has not finished, and adds its one value when it does', async () => {
    const { core, metrics } = harness({
      handlers: {
        '**': async (_event, ctx) => {
          if (ctx.attempt < 3) throw new Error('try later');
        },
      },
    });
    const event = envelope({ id: 'flaky' });
    for (const attempt of [1, 2, 3]) {
      await core.processBatch(sqsEvent([record(event, { attempt })]), lambdaContext());
    }
    const latencies = metrics.published.map((batch) => batch.get('github.push')?.endToEndLatencyMs);
    expect(latencies).toStrictEqual([[], [], [1_500]]);
  });

  it('a record with exactly the margin left still runs', async () => {
    let calls = 0;
    const { core } = harness(
      {
        handlers: {
          '**': async () => {
            calls++;
          },
        },
      },
      { deadlineMarginMs: 3_000 },
    );
    const response = await core.processBatch(sqsEvent([record(envelope())]), lambdaContext(3_000));
    expect(failedIds(response)).toStrictEqual([]);
    expect(calls).toBe(1);
  });

  it('runs the records started before the margin and defers the rest (limited parallelism)', async () => {
    let remaining = 10_000;
    const ran: string[] = [];
    const { core } = harness(
      {
        handlers: {
          '**': async (event) => {
            ran.push(event.id);
            remaining -= 4_000;
          },
        },
      },
      { parallelism: 1, deadlineMarginMs: 3_000 },
    );
    const records = ['a', 'b', 'c', 'd'].map((id) => record(envelope({ id })));

    const response = await core.processBatch(sqsEvent(records), {
      getRemainingTimeInMillis: () => remaining,
    });

    expect(ran).toStrictEqual(['a', 'b']);
    expect(failedIds(response)).toStrictEqual([records[2]?.messageId, records[3]?.messageId]);
  });
});

describe('consumer core: the level of each outcome line', () => {
  it('is WARN for a record that comes back, ERROR for one sent to the DLQ, INFO for one that ended well or was held back', async () => {
    let remaining = 10_000;
    const { core, logger } = harness(
      {
        handlers: {
          '**': async (event) => {
            remaining -= 2_500;
            if (event.id === 'flaky') throw new Error('downstream 503');
            if (event.id === 'poison') throw new PermanentError('unfixable');
          },
        },
      },
      { parallelism: 1, deadlineMarginMs: 3_000 },
      { idempotency: true },
    );
    const done = envelope({ id: 'done' });
    const context = { getRemainingTimeInMillis: () => remaining };
    const batch = [done, envelope({ id: 'flaky' }), envelope({ id: 'poison' }), envelope({ id: 'late' })];

    await core.processBatch(sqsEvent(batch.map((e) => record(e))), context);
    remaining = 10_000;
    await core.processBatch(sqsEvent([record(done)]), context);

    const levels = logger.lines
      .filter((l) => l.message === CONSUMER_OUTCOME_MESSAGE)
      .map((l) => [l.attributes.id, l.attributes.outcome, l.level]);
    expect(levels).toStrictEqual([
      ['done', 'processed', 'info'],
      ['flaky', 'retried', 'warn'],
      ['poison', 'dead-lettered', 'error'],
      ['late', 'deferred', 'info'],
      ['done', 'duplicate', 'info'],
    ]);
  });
});

describe('consumer core: idempotency', () => {
  it('a completed duplicate is skipped without calling the handler and counted', async () => {
    let calls = 0;
    const { core, logger, metrics } = harness(
      {
        handlers: {
          '**': async () => {
            calls++;
          },
        },
      },
      {},
      { idempotency: true },
    );
    const env = envelope({ id: 'dup' });

    await core.processBatch(sqsEvent([record(env)]), lambdaContext());
    const second = await core.processBatch(sqsEvent([record(env)]), lambdaContext());

    expect(calls).toBe(1);
    expect(second.batchItemFailures).toStrictEqual([]);
    expect(logger.outcomes().map((o) => o.outcome)).toStrictEqual(['processed', 'duplicate']);
    expect(metrics.total('Duplicate')).toBe(1);
  });

  it('a record whose handler finished but whose idempotency completion write failed is done, not run again', async () => {
    let calls = 0;
    const { core, queue, logger, idempotency } = harness(
      {
        handlers: {
          '**': async () => {
            calls++;
          },
        },
      },
      {},
      { idempotency: true },
    );
    if (idempotency) idempotency.completionFails = true;
    const done = record(envelope({ id: 'unmarked' }));

    const response = await core.processBatch(sqsEvent([done]), lambdaContext());

    expect(calls).toBe(1);
    expect(response.batchItemFailures).toStrictEqual([]);
    expect(queue.visibilityChanges).toStrictEqual([]);
    expect(logger.outcomeOf(done.messageId)).toMatchObject({ outcome: 'processed' });
    expect(logger.lines).toContainEqual(
      expect.objectContaining({
        level: 'warn',
        message: 'could not mark the record completed in the idempotency table',
      }),
    );
  });

  it('a record whose idempotency claim failed before the handler ran is retried', async () => {
    let calls = 0;
    const { core, logger, idempotency } = harness(
      {
        handlers: {
          '**': async () => {
            calls++;
          },
        },
      },
      {},
      { idempotency: true },
    );
    const claimFails: IdempotencyGate = {
      run: async () => {
        const error = new Error('Failed to save in progress record to idempotency store');
        error.name = 'IdempotencyPersistenceLayerError';
        throw error;
      },
    };
    if (idempotency) idempotency.run = claimFails.run;
    const unclaimed = record(envelope({ id: 'unclaimed' }));

    const response = await core.processBatch(sqsEvent([unclaimed]), lambdaContext());

    expect(calls).toBe(0);
    expect(failedIds(response)).toStrictEqual([unclaimed.messageId]);
    expect(logger.outcomeOf(unclaimed.messageId)).toMatchObject({
      outcome: 'retried',
      reason: expect.stringMatching(/^IdempotencyPersistenceLayerError/),
    });
  });

  it('a PermanentError whose idempotency key could not be released is dead-lettered with its own reason, not retried', async () => {
    let calls = 0;
    const { core, queue, logger, idempotency } = harness(
      {
        handlers: {
          '**': async () => {
            calls++;
            throw new PermanentError('unknown customer');
          },
        },
      },
      {},
      { idempotency: true },
    );
    if (idempotency) idempotency.releaseFails = true;
    const refused = record(envelope({ id: 'refused' }));

    const response = await core.processBatch(sqsEvent([refused]), lambdaContext());

    expect(calls).toBe(1);
    expect(response.batchItemFailures).toStrictEqual([]);
    expect(queue.visibilityChanges).toStrictEqual([]);
    expect(logger.outcomeOf(refused.messageId)).toMatchObject({
      outcome: 'dead-lettered',
      reason: 'PermanentError: unknown customer',
    });
    expect(logger.lines).toContainEqual(
      expect.objectContaining({
        level: 'warn',
        message: 'could not release the record’s idempotency key after its handler failed',
      }),
    );
  });

  it('a failure whose idempotency key could not be released is retried with its own reason, once the key’s lock has expired', async () => {
    const { core, queue, logger, idempotency } = harness(
      {
        handlers: {
          '**': async () => {
            throw new Error('upstream 502');
          },
        },
      },
      {},
      { idempotency: true },
    );
    if (idempotency) idempotency.releaseFails = true;
    const failed = record(envelope({ id: 'held' }));

    // The lock taken with 25 s left expires with the invocation: a retry sooner would find it held.
    const response = await core.processBatch(sqsEvent([failed]), lambdaContext(25_000));

    expect(failedIds(response)).toStrictEqual([failed.messageId]);
    expect(logger.outcomeOf(failed.messageId)).toMatchObject({
      outcome: 'retried',
      reason: 'Error: upstream 502',
    });
    expect(queue.visibilityChanges).toStrictEqual([{ messageId: failed.messageId, seconds: 25 }]);
  });

  it('a failure whose idempotency key could not be released, outside Lambda (no deadline), is retried at the longest retry delay', async () => {
    const { core, queue, idempotency } = harness(
      {
        handlers: {
          '**': async () => {
            throw new Error('upstream 502');
          },
        },
      },
      {},
      { idempotency: true },
    );
    if (idempotency) idempotency.releaseFails = true;
    const failed = record(envelope({ id: 'no-deadline' }));

    await core.processBatch(sqsEvent([failed]), lambdaContext(Number.MAX_SAFE_INTEGER));

    expect(queue.visibilityChanges).toStrictEqual([{ messageId: failed.messageId, seconds: 42_000 }]);
  });

  it('two copies racing in one batch: one runs, the in-flight duplicate is reported as a failure', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let calls = 0;
    const { core, queue, logger } = harness(
      {
        handlers: {
          '**': async () => {
            calls++;
            await gate;
          },
        },
      },
      {},
      { idempotency: true },
    );
    const env = envelope({ id: 'race' });
    const first = record(env);
    const copy = record(env);

    const pending = core.processBatch(sqsEvent([first, copy]), lambdaContext(25_000));
    await new Promise((resolve) => setTimeout(resolve, 5));
    release();
    const response = await pending;

    expect(calls).toBe(1);
    expect(failedIds(response)).toStrictEqual([copy.messageId]);
    // Not back before the other copy's lock has ended (at most the invocation's 25 s): then it finds the key
    // completed, or expired and free, instead of spending its attempts on "in progress" while a long handler runs.
    expect(queue.visibilityChanges).toStrictEqual([{ messageId: copy.messageId, seconds: 25 }]);
    expect(logger.outcomeOf(copy.messageId)).toMatchObject({
      outcome: 'retried',
      reason: expect.stringMatching(/^IdempotencyAlreadyInProgressError/),
    });
  });

  it('a copy found in progress late in an invocation comes back after the whole invocation, not its time left', async () => {
    let remainingMs = 25_000;
    const { core, queue, idempotency } = harness(
      {
        handlers: {
          'github.push': async () => {
            // The invocation has spent most of its time by the time the copy is reached.
            remainingMs = 12_000;
          },
        },
      },
      { parallelism: 1 },
      { idempotency: true },
    );
    idempotency?.states.set('events#github#busy', 'in-progress');
    const before = record(envelope({ id: 'before' }));
    const copy = record(envelope({ id: 'busy' }));

    const response = await core.processBatch(sqsEvent([before, copy]), {
      getRemainingTimeInMillis: () => remainingMs,
    });

    expect(failedIds(response)).toStrictEqual([copy.messageId]);
    // Another invocation's lock lasts about as long as an invocation, whenever this one meets it.
    expect(queue.visibilityChanges).toStrictEqual([{ messageId: copy.messageId, seconds: 25 }]);
  });

  it('an in-progress duplicate on its final attempt is dead-lettered as a duplicate copy, with the key error it met, not dropped', async () => {
    const { core, queue, idempotency } = harness({ handlers: { '**': ok } }, {}, { idempotency: true });
    const env = envelope({ id: 'busy' });
    idempotency?.states.set('events#github#busy', 'in-progress');

    const response = await core.processBatch(sqsEvent([record(env, { attempt: 5 })]), lambdaContext());

    expect(response.batchItemFailures).toStrictEqual([]);
    const attributes = queue.deadLetters[0]?.attributes ?? {};
    expect(attributes[FAILURE_ATTRIBUTES.errorName]?.StringValue).toBe('DuplicateCopyError');
    expect(attributes[FAILURE_ATTRIBUTES.errorMessage]?.StringValue).toBe(
      "a duplicate copy, not run here: another execution held this event's idempotency key on this copy's last receive (maxReceiveCount 5); that execution records the event's outcome (IdempotencyAlreadyInProgressError: There is already an execution in progress with idempotency key: events#github#busy)",
    );
  });

  it('a copy retried because another copy holds its key is counted apart, neither as failed nor for the breaker, while a handler error in its batch still is', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const { core, logger, metrics } = harness(
      {
        handlers: {
          '**': async (event) => {
            if (event.id === 'broken') throw new Error('dependency down');
            await gate;
          },
        },
      },
      {},
      { idempotency: true },
    );
    const env = envelope({ id: 'race' });
    const copy = record(env);

    const pending = core.processBatch(
      sqsEvent([record(env), copy, record(envelope({ id: 'broken' }))]),
      lambdaContext(),
    );
    await new Promise((resolve) => setTimeout(resolve, 5));
    release();
    await pending;

    // Both are handed back; only the handler that threw failed.
    expect(metrics.published[0]?.get('github.push')).toMatchObject({
      Processed: 1,
      Retried: 2,
      Failed: 1,
      KeyHeldElsewhere: 1,
    });
    expect(logger.outcomeOf(copy.messageId)).toMatchObject({
      outcome: 'retried',
      reason: expect.stringMatching(/^IdempotencyAlreadyInProgressError: There is already an execution/),
      keyHeldElsewhere: true,
    });
    expect(logger.outcomeOf('broken')).toMatchObject({
      outcome: 'retried',
      reason: 'Error: dependency down',
    });
    expect(logger.outcomeOf('broken')).not.toHaveProperty('keyHeldElsewhere');
  });

  it('a copy whose other copy released the key as it collided, and one still in progress elsewhere on its last attempt, are counted apart too', async () => {
    const { core, queue, logger, metrics, idempotency } = harness(
      { handlers: { '**': ok } },
      {},
      { idempotency: true },
    );
    const gate = idempotency as NonNullable<typeof idempotency>;
    const run = gate.run.bind(gate);
    gate.run = async (key, work, context) => {
      if (key.endsWith('#released')) throw new KeyReleasedByOtherCopyError();
      return run(key, work, context);
    };
    gate.states.set('events#github#busy', 'in-progress');
    const released = record(envelope({ id: 'released' }));
    const busy = record(envelope({ id: 'busy' }), { attempt: 5 });

    await core.processBatch(sqsEvent([released, busy]), lambdaContext());

    expect(metrics.published[0]?.get('github.push')).toMatchObject({
      Retried: 1,
      DeadLettered: 1,
      Failed: 0,
      KeyHeldElsewhere: 2,
    });
    expect(logger.outcomeOf('released')).toMatchObject({
      outcome: 'retried',
      reason: expect.stringMatching(/^KeyReleasedByOtherCopyError/),
      keyHeldElsewhere: true,
    });
    expect(logger.outcomeOf('busy')).toMatchObject({ outcome: 'dead-lettered', keyHeldElsewhere: true });
    expect(queue.deadLetters[0]?.attributes[FAILURE_ATTRIBUTES.errorName]?.StringValue).toBe(
      'DuplicateCopyError',
    );
  });

  it('a replayed event runs again although its original delivery completed, and its handler sees the replay', async () => {
    const seen: unknown[] = [];
    const { core, idempotency } = harness(
      { handlers: { '**': async (event) => void seen.push(event.replay) } },
      {},
      { idempotency: true },
    );
    idempotency?.states.set('events#github#done', 'completed');
    const replay = { id: 'run-1', at: '2026-11-25T12:00:00.000Z' };

    const response = await core.processBatch(
      sqsEvent([record(envelope({ id: 'done', replay }))]),
      lambdaContext(),
    );

    expect(response.batchItemFailures).toStrictEqual([]);
    expect(seen).toStrictEqual([replay]);
  });

  it('after a whole-batch redelivery, records that already succeeded are not applied twice', async () => {
    const effects: string[] = [];
    const { core } = harness(
      {
        handlers: {
          '**': async (event) => {
            if (event.id === 'e3' && !effects.includes('crash')) {
              effects.push('crash');
              throw new Error('simulated crash');
            }
            effects.push(event.id);
          },
        },
      },
      {},
      { idempotency: true },
    );
    const envelopes = ['e1', 'e2', 'e3'].map((id) => envelope({ id }));

    await core.processBatch(sqsEvent(envelopes.map((e) => record(e))), lambdaContext());
    // The Lambda died after the batch: every message comes back with a new receive.
    await core.processBatch(sqsEvent(envelopes.map((e) => record(e, { attempt: 2 }))), lambdaContext());

    expect(effects.filter((e) => e !== 'crash').sort()).toStrictEqual(['e1', 'e2', 'e3']);
  });

  it('a redriven copy (new SQS messageId, same envelope id) is recognised as already processed', async () => {
    let calls = 0;
    const { core, logger } = harness(
      {
        handlers: {
          '**': async () => {
            calls++;
          },
        },
      },
      {},
      { idempotency: true },
    );
    const env = envelope({ id: 'delivery-42' });

    await core.processBatch(sqsEvent([record(env, { messageId: 'original' })]), lambdaContext());
    await core.processBatch(sqsEvent([record(env, { messageId: 'redriven-copy' })]), lambdaContext());

    expect(calls).toBe(1);
    expect(logger.outcomeOf('redriven-copy')).toMatchObject({ outcome: 'duplicate', id: 'delivery-42' });
  });

  it('the idempotency key is the consumer name, the source and the envelope id, never the SQS message id', async () => {
    const { core, idempotency } = harness(
      { handlers: { '**': ok } },
      { name: 'orders' },
      { idempotency: true },
    );
    await core.processBatch(
      sqsEvent([record(envelope({ id: 'abc', source: 'stripe' }), { messageId: 'm-1' })]),
      lambdaContext(),
    );
    expect([...(idempotency?.states.keys() ?? [])]).toStrictEqual(['orders#stripe#abc']);
  });

  it('the same id from two sources (or a source and a job) is two events: both run', async () => {
    const ran: string[] = [];
    const { core, logger } = harness(
      {
        handlers: {
          '**': async (event) => {
            ran.push(`${event.source}:${event.id}`);
          },
        },
      },
      {},
      { idempotency: true },
    );
    await core.processBatch(sqsEvent([record(envelope({ id: '42', source: 'stripe' }))]), lambdaContext());
    await core.processBatch(sqsEvent([record(envelope({ id: '42', source: 'generic' }))]), lambdaContext());
    await core.processBatch(sqsEvent([record(envelope({ id: '42', source: 'job' }))]), lambdaContext());

    expect(ran).toStrictEqual(['stripe:42', 'generic:42', 'job:42']);
    expect(logger.outcomes().map((o) => o.outcome)).toStrictEqual(['processed', 'processed', 'processed']);
  });

  it('hands the Lambda context to the idempotency layer so in-progress expiry tracks the timeout', async () => {
    const { core, idempotency } = harness({ handlers: { '**': ok } }, {}, { idempotency: true });
    const context = lambdaContext(12_345);
    await core.processBatch(sqsEvent([record(envelope())]), context);
    expect(idempotency?.contexts).toStrictEqual([context]);
  });

  it('a failed handler releases the key so the retry runs again', async () => {
    let calls = 0;
    const { core } = harness(
      {
        handlers: {
          '**': async () => {
            calls++;
            if (calls === 1) throw new Error('first time fails');
          },
        },
      },
      {},
      { idempotency: true },
    );
    const env = envelope();
    await core.processBatch(sqsEvent([record(env)]), lambdaContext());
    const retry = await core.processBatch(sqsEvent([record(env, { attempt: 2 })]), lambdaContext());
    expect(calls).toBe(2);
    expect(retry.batchItemFailures).toStrictEqual([]);
  });
});

describe('consumer core: throttling', () => {
  it('a record whose receive count was inflated by throttling still runs and is not dead-lettered', async () => {
    const { core, queue, logger } = harness({ handlers: { '**': ok } }, { maxReceiveCount: 5 });
    const rec = record(envelope({ id: 'throttled' }), { attempt: 4 });
    expect((await core.processBatch(sqsEvent([rec]), lambdaContext())).batchItemFailures).toStrictEqual([]);
    expect(queue.deadLetters).toHaveLength(0);
    expect(logger.outcomeOf('throttled')).toMatchObject({ outcome: 'processed', attempt: 4 });
  });
});

describe('consumer core: FIFO', () => {
  it('FIFO: a failure in group A stops the later A records; group B goes on; the group backs off together', async () => {
    const ran: string[] = [];
    const { core, queue, logger } = harness(
      {
        handlers: {
          '**': async (event) => {
            ran.push(event.id);
            if (event.id === 'a2') throw new Error('A is broken');
          },
        },
      },
      { fifo: true, name: 'orders' },
    );
    const layout: Array<[string, string]> = [
      ['a1', 'A'],
      ['b1', 'B'],
      ['a2', 'A'],
      ['b2', 'B'],
      ['a3', 'A'],
      ['b3', 'B'],
    ];
    const records = layout.map(([id, group]) =>
      record(envelope({ id }), { groupId: group, messageId: `m-${id}` }),
    );

    const response = await core.processBatch(sqsEvent(records), lambdaContext());

    expect(ran).toStrictEqual(['a1', 'b1', 'a2', 'b2', 'b3']);
    expect(failedIds(response)).toStrictEqual(['m-a2', 'm-a3']);
    const delayOfA2 = queue.visibilityChanges.find((c) => c.messageId === 'm-a2')?.seconds;
    expect(queue.visibilityChanges).toStrictEqual([
      { messageId: 'm-a2', seconds: delayOfA2 },
      { messageId: 'm-a3', seconds: delayOfA2 },
    ]);
    expect(logger.outcomeOf('a3')).toMatchObject({ outcome: 'deferred', queue: 'orders' });
  });

  it('sends a FIFO record to the FIFO DLQ with its group and the message id as deduplication id', async () => {
    const { core, queue } = harness(
      {
        handlers: {
          '**': async () => {
            throw new PermanentError('bad order');
          },
        },
      },
      { fifo: true },
    );
    await core.processBatch(
      sqsEvent([record(envelope(), { groupId: 'G', messageId: 'm-1' })]),
      lambdaContext(),
    );
    expect(queue.deadLetters[0]).toMatchObject({ groupId: 'G', deduplicationId: 'm-1' });
  });

  it('a dead-lettered record does not block its group', async () => {
    const ran: string[] = [];
    const { core } = harness(
      {
        handlers: {
          '**': async (event) => {
            ran.push(event.id);
            if (event.id === 'a1') throw new PermanentError('bad');
          },
        },
      },
      { fifo: true },
    );
    const records = ['a1', 'a2'].map((id) => record(envelope({ id }), { groupId: 'A' }));
    expect((await core.processBatch(sqsEvent(records), lambdaContext())).batchItemFailures).toStrictEqual([]);
    expect(ran).toStrictEqual(['a1', 'a2']);
  });
});

describe('consumer core: handler input', () => {
  it('dead-letters and reports the record as it arrived, whatever the handler changed in ctx.record and the event', async () => {
    const { core, queue, logger } = harness({
      handlers: {
        'github.push': async (event, ctx) => {
          const record = ctx.record as { -readonly [K in keyof SQSRecord]: SQSRecord[K] };
          record.body = 'changed by the handler';
          record.messageAttributes = {};
          record.attributes.ApproximateReceiveCount = '99';
          (event.headers as Record<string, string>)['x-added'] = 'by the handler';
          throw new PermanentError('cannot handle it');
        },
        'github.ping': async (_event, ctx) => {
          (ctx.record as { messageId: string }).messageId = 'not-a-record-of-this-batch';
          throw new Error('try again');
        },
      },
    });
    const rejected = record(envelope({ id: 'rejected' }), { attempt: 1 });
    const retried = record(envelope({ id: 'retried', type: 'ping' }), { attempt: 1 });
    const originalBody = rejected.body;

    const response = await core.processBatch(sqsEvent([rejected, retried]), lambdaContext());

    expect(failedIds(response)).toStrictEqual([retried.messageId]);
    expect(queue.deadLetters).toHaveLength(1);
    expect(queue.deadLetters[0]?.body).toBe(originalBody);
    expect(queue.deadLetters[0]?.attributes[MESSAGE_ATTRIBUTES.source]?.StringValue).toBe('github');
    expect(queue.deadLetters[0]?.attributes[FAILURE_ATTRIBUTES.attempt]?.StringValue).toBe('1');
    expect(logger.outcomeOf('rejected')).toMatchObject({ outcome: 'dead-lettered', attempt: 1 });
    expect(rejected.body).toBe(originalBody);
  });

  it('gives the handler one copy of its record for the whole call, so what it changes there it reads back', async () => {
    const seen: unknown[] = [];
    const { core } = harness({
      handlers: {
        'github.push': async (_event, ctx) => {
          const record = ctx.record as { body: string };
          record.body = 'changed by the handler';
          seen.push(ctx.record === record, ctx.record.body);
        },
      },
    });

    await core.processBatch(sqsEvent([record(envelope())]), lambdaContext());

    expect(seen).toStrictEqual([true, 'changed by the handler']);
  });

  it('gives the handler the envelope, the parsed payload and a context', async () => {
    let received: { event: ConsumerEvent<unknown>; ctx: HandlerContext } | undefined;
    const { core, logger } = harness({
      handlers: {
        'github.push': async (event, ctx) => {
          received = { event, ctx };
          ctx.logger.info('push seen', { extra: 1 });
        },
      },
    });
    const env = envelope({ id: 'ctx-1' });
    const rec = record(env, { attempt: 2 });

    await core.processBatch(sqsEvent([rec]), lambdaContext(20_000));

    expect(received?.event).toStrictEqual({ ...env, payload: { ref: 'refs/heads/main' } });
    expect(received?.ctx.attempt).toBe(2);
    expect(received?.ctx.record).toStrictEqual(rec);
    expect(received?.ctx.consumer).toBe('events');
    expect(received?.ctx.remainingTimeMs()).toBe(20_000);
    // The outcome line's keys: one filter (`source = 'github' and type = 'push'`) finds both lines.
    expect(logger.lines.find((l) => l.message === 'push seen')?.attributes).toStrictEqual({
      id: 'ctx-1',
      source: 'github',
      type: 'push',
      attempt: 2,
      extra: 1,
    });
    expect(logger.outcomeOf('ctx-1')).toMatchObject({
      id: 'ctx-1',
      source: 'github',
      type: 'push',
      attempt: 2,
    });
  });

  it('types and validates the payload with the schema', async () => {
    let ref = '';
    const { core } = harness({
      handlers: {
        'github.push': {
          schema: z.object({ ref: z.string().transform((r) => r.replace('refs/heads/', '')) }),
          handle: async (event) => {
            ref = event.payload.ref;
          },
        },
      },
    });
    await core.processBatch(sqsEvent([record(envelope())]), lambdaContext());
    expect(ref).toBe('main');
  });

  it('runs a schema with an asynchronous check, and dead-letters what that check refuses at once', async () => {
    const seen: string[] = [];
    const knownRef = z.object({ ref: z.string() }).refine(async (push) => push.ref !== 'refs/heads/gone', {
      message: 'branch is gone',
      path: ['ref'],
    });
    const { core, queue, logger } = harness({
      handlers: {
        'github.push': {
          schema: knownRef,
          handle: async (event) => {
            seen.push(event.payload.ref);
          },
        },
      },
    });
    const good = record(envelope({ id: 'good' }));
    const gone = record(envelope({ id: 'gone', body: JSON.stringify({ ref: 'refs/heads/gone' }) }));

    const response = await core.processBatch(sqsEvent([good, gone]), lambdaContext());

    expect(response.batchItemFailures).toStrictEqual([]);
    expect(seen).toStrictEqual(['refs/heads/main']);
    expect(logger.outcomeOf('good')).toMatchObject({ outcome: 'processed' });
    expect(logger.outcomeOf('gone')).toMatchObject({ outcome: 'dead-lettered', attempt: 1 });
    expect(queue.deadLetters[0]?.attributes[FAILURE_ATTRIBUTES.errorMessage]?.StringValue).toBe(
      'payload failed schema validation at ref: branch is gone',
    );
  });

  it('routes unmatched types to the default handler', async () => {
    const seen: string[] = [];
    const { core } = harness({
      handlers: { 'stripe.*': ok },
      default: async (event) => {
        seen.push(`${event.source}.${event.type}`);
      },
    });
    await core.processBatch(
      sqsEvent([record(envelope({ source: 'slack', type: 'event_callback' }))]),
      lambdaContext(),
    );
    expect(seen).toStrictEqual(['slack.event_callback']);
  });

  it('fetches a claim-checked payload from S3 before the handler runs', async () => {
    let payload: unknown;
    const { core, payloads } = harness({
      handlers: {
        '**': async (event) => {
          payload = event.payload;
        },
      },
    });
    payloads.set('payload-bucket/big/evt-1', Buffer.from(JSON.stringify({ large: true })));
    const env = envelope({
      body: undefined,
      payloadRef: { bucket: 'payload-bucket', key: 'big/evt-1', sizeBytes: 14 },
    });

    const response = await core.processBatch(sqsEvent([record(env)]), lambdaContext());

    expect(response.batchItemFailures).toStrictEqual([]);
    expect(payload).toStrictEqual({ large: true });
  });

  it.each([
    ['a JSON body', 'application/json', Buffer.from(JSON.stringify({ large: true, name: 'Zoë' })), 'utf8'],
    ['a binary body', 'application/octet-stream', Buffer.from([0, 255, 1, 254, 10]), 'base64'],
  ] as const)(
    'hands over a claim-checked event exactly like the inline one (%s)',
    async (_, contentType, bytes, bodyEncoding) => {
      const seen: ConsumerEvent[] = [];
      const { core, payloads } = harness({
        handlers: {
          '**': async (event) => {
            seen.push(event);
          },
        },
      });
      const inline = envelope({ id: 'same', contentType, bodyEncoding, body: bytes.toString(bodyEncoding) });
      const payloadRef = { bucket: 'payload-bucket', key: 'payloads/github/same', sizeBytes: bytes.length };
      payloads.set(`${payloadRef.bucket}/${payloadRef.key}`, bytes);
      const { body: _inlineBody, ...withoutBody } = inline;

      await core.processBatch(sqsEvent([record(inline)]), lambdaContext());
      await core.processBatch(sqsEvent([record({ ...withoutBody, payloadRef })]), lambdaContext());

      const [fromInline, fromClaimCheck] = seen;
      expect(fromClaimCheck).toStrictEqual({ ...fromInline, payloadRef });
      expect(fromClaimCheck?.body).toBe(inline.body);
      expect(fromClaimCheck?.bodyEncoding).toBe(bodyEncoding);
    },
  );

  it('treats a claim-check fetch failure as retryable', async () => {
    const { core, queue } = harness({ handlers: { '**': ok } });
    const env = envelope({ body: undefined, payloadRef: { bucket: 'b', key: 'missing', sizeBytes: 1 } });
    const rec = record(env);
    expect(failedIds(await core.processBatch(sqsEvent([rec]), lambdaContext()))).toStrictEqual([
      rec.messageId,
    ]);
    expect(queue.deadLetters).toHaveLength(0);
    expect(queue.visibilityChanges).toHaveLength(1);
  });
});

describe('consumer core: observability', () => {
  it('logs exactly one outcome line per record with the contract keys', async () => {
    const { core, logger } = harness({
      handlers: {
        'github.push': ok,
        'github.issues': async () => {
          throw new Error('nope');
        },
      },
    });
    const records = [
      record(envelope({ id: 'o1' })),
      record(envelope({ id: 'o2', type: 'issues' }), { attempt: 2 }),
      record(envelope({ id: 'o3', type: 'unknown' })),
    ];
    await core.processBatch(sqsEvent(records), lambdaContext());

    expect(logger.outcomes()).toHaveLength(3);
    expect(logger.outcomeOf('o1')).toStrictEqual({
      outcome: 'processed',
      id: 'o1',
      source: 'github',
      type: 'push',
      queue: 'events',
      attempt: 1,
      latencyMs: 1_500,
      messageId: records[0]?.messageId,
      durationMs: 0,
    });
    expect(logger.outcomeOf('o2')).toMatchObject({ outcome: 'retried', attempt: 2, reason: 'Error: nope' });
    expect(logger.outcomeOf('o3')).toMatchObject({
      outcome: 'dead-lettered',
      reason: expect.stringMatching(/UnknownEventTypeError/),
    });
  });

  it('an event stamped ahead of the consumer clock (clock skew) reports 0 ms latency, never a negative one', async () => {
    const { core, metrics, logger } = harness({ handlers: { '**': ok } });
    const ahead = envelope({ id: 'ahead', receivedAt: new Date(NOW + 5_000).toISOString() });
    await core.processBatch(sqsEvent([record(ahead)]), lambdaContext());
    expect(metrics.published[0]?.get('github.push')?.endToEndLatencyMs).toStrictEqual([0]);
    expect(logger.outcomeOf('ahead')).toMatchObject({ latencyMs: 0 });
  });

  it('publishes counts and end-to-end latency per type', async () => {
    const { core, metrics } = harness({
      handlers: {
        'github.push': ok,
        'stripe.**': async () => {
          throw new Error('x');
        },
      },
    });
    await core.processBatch(
      sqsEvent([
        record(envelope()),
        record(envelope()),
        record(envelope({ source: 'stripe', type: 'invoice.paid' })),
      ]),
      lambdaContext(),
    );
    expect(metrics.published).toHaveLength(1);
    const batch = metrics.published[0];
    expect(batch?.get('github.push')).toStrictEqual(
      typeCounts({ Processed: 2, endToEndLatencyMs: [1_500, 1_500] }),
    );
    expect(batch?.get('stripe.invoice.paid')).toMatchObject({ Failed: 1, Retried: 1, Processed: 0 });
  });
});

describe('consumer core: job records', () => {
  /** Every job-record update the consumer makes, with the enqueue (generation) it names. */
  function recordingJobs() {
    const calls: string[] = [];
    return {
      calls,
      jobs: {
        async start(id: string, attempt: number, generation?: string) {
          calls.push(`start ${id} ${attempt} ${generation}`);
          return 'run' as const;
        },
        async complete(id: string, result: unknown, generation?: string) {
          calls.push(`complete ${id} ${JSON.stringify(result)} ${generation}`);
        },
        async deadLettered(id: string, reason: string, generation?: string) {
          calls.push(`dead-lettered ${id} ${reason} ${generation}`);
        },
        async retrying(
          id: string,
          attempt: number,
          error: string,
          retryAt: Date | undefined,
          generation?: string,
        ) {
          calls.push(`retrying ${id} ${attempt} ${error} ${retryAt?.toISOString()} ${generation}`);
        },
        async progress(id: string, attempt: number, json: string, _at: Date, generation?: string) {
          calls.push(`progress ${id} ${attempt} ${json} ${generation}`);
          return true;
        },
      },
    };
  }
  const jobEnvelope = (id: string, generation: string) =>
    envelope({
      id,
      source: JOB_SOURCE,
      type: 'report.build',
      headers: { 'content-type': 'application/json', [JOB_RECORD_HEADER]: '1' },
      body: '{"n":1}',
      generation,
    });

  it("updates only the record of the delivery's own enqueue, finished or dead-lettered, and names it on the outcome line", async () => {
    const { calls, jobs } = recordingJobs();
    const { core, logger } = harness(
      {
        handlers: {
          'job.report.build': async (event) => {
            if (event.id === 'bad') throw new PermanentError('no such report');
            return { built: event.id };
          },
        },
      },
      {},
      { jobs },
    );
    await core.processBatch(
      sqsEvent([record(jobEnvelope('good', 'gen-2'), { attempt: 2 }), record(jobEnvelope('bad', 'gen-7'))]),
      lambdaContext(),
    );
    expect(calls.sort()).toEqual([
      'complete good {"built":"good"} gen-2',
      'dead-lettered bad PermanentError: no such report gen-7',
      'start bad 1 gen-7',
      'start good 2 gen-2',
    ]);
    const outcomes = logger.lines.filter((l) => l.message === CONSUMER_OUTCOME_MESSAGE);
    expect(outcomes.map((l) => [l.attributes?.id, l.attributes?.generation]).sort()).toEqual([
      ['bad', 'gen-7'],
      ['good', 'gen-2'],
    ]);
  });

  it('records a failed job waiting out its backoff as retrying: the attempt, its error and when the next is due', async () => {
    const { calls, jobs } = recordingJobs();
    const { core, queue } = harness(
      {
        handlers: {
          'job.report.build': async () => {
            throw new Error('mail server down');
          },
        },
      },
      {},
      { jobs, random: () => 0 },
    );
    await core.processBatch(
      sqsEvent([record(jobEnvelope('soon', 'gen-1'), { attempt: 2, messageId: 'm-soon' })]),
      lambdaContext(),
    );
    queue.failVisibility = true;
    await core.processBatch(
      sqsEvent([record(jobEnvelope('unknown', 'gen-3'), { messageId: 'm-unknown' })]),
      lambdaContext(),
    );
    // Attempt 2, base 10 s, factor 2, no jitter: due 10 s from now; without a backoff set, the due time is unknown.
    expect(calls.filter((c) => c.startsWith('retrying'))).toEqual([
      `retrying soon 2 Error: mail server down ${new Date(NOW + 10_000).toISOString()} gen-1`,
      'retrying unknown 1 Error: mail server down undefined gen-3',
    ]);
  });

  it("writes a tight loop of ctx.progress once, then its last value before the attempt's outcome", async () => {
    const { calls, jobs } = recordingJobs();
    const { core } = harness(
      {
        handlers: {
          'job.report.build': async (event, ctx) => {
            for (let n = 0; n <= 100; n++) ctx.progress(n);
            if (event.id === 'fails') {
              ctx.progress({ step: 'upload' });
              throw new Error('upload refused');
            }
            return 'built';
          },
        },
      },
      {},
      { jobs, random: () => 0 },
    );
    await core.processBatch(
      sqsEvent([record(jobEnvelope('ok', 'g-1')), record(jobEnvelope('fails', 'g-2'))]),
      lambdaContext(),
    );
    // The clock stands still: no second interval passes, so the loop costs one write and one at its end.
    expect(calls.filter((c) => c.includes(' ok '))).toEqual([
      'start ok 1 g-1',
      'progress ok 1 0 g-1',
      'progress ok 1 100 g-1',
      'complete ok "built" g-1',
    ]);
    expect(calls.filter((c) => c.includes(' fails '))).toEqual([
      'start fails 1 g-2',
      'progress fails 1 0 g-2',
      'progress fails 1 {"step":"upload"} g-2',
      `retrying fails 1 Error: upload refused ${new Date(NOW + 5_000).toISOString()} g-2`,
    ]);
  });

  it('sends a failed job to the DLQ while its progress write is still slow, and records it dead-lettered after that write', async () => {
    const { calls, jobs } = recordingJobs();
    let finishWrite: (applied: boolean) => void = () => {};
    const { core, queue } = harness(
      {
        handlers: {
          'job.report.build': async (_event, ctx) => {
            ctx.progress(30);
            throw new PermanentError('no such report');
          },
        },
      },
      {},
      {
        jobs: {
          ...jobs,
          progress: (id, attempt, json) => {
            calls.push(`progress ${id} ${attempt} ${json}`);
            return new Promise<boolean>((resolve) => {
              finishWrite = resolve;
            });
          },
        },
      },
    );
    const pending = core.processBatch(sqsEvent([record(jobEnvelope('slow', 'g'))]), lambdaContext());
    for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
    expect(queue.deadLetters).toHaveLength(1);
    expect(calls).toEqual(['start slow 1 g', 'progress slow 1 30']);
    finishWrite(true);
    await pending;
    expect(calls.at(-1)).toBe('dead-lettered slow PermanentError: no such report g');
  });

  it('logs a progress write that failed and still completes the job', async () => {
    const { calls, jobs } = recordingJobs();
    const { core, logger, queue } = harness(
      {
        handlers: {
          'job.report.build': async (_event, ctx) => {
            ctx.progress(50);
            return 'built';
          },
        },
      },
      {},
      {
        jobs: {
          ...jobs,
          progress: async () => {
            throw new Error('ProvisionedThroughputExceededException');
          },
        },
      },
    );
    const response = await core.processBatch(sqsEvent([record(jobEnvelope('ok', 'g-1'))]), lambdaContext());
    expect(failedIds(response)).toEqual([]);
    expect(queue.deadLetters).toHaveLength(0);
    expect(calls).toEqual(['start ok 1 g-1', 'complete ok "built" g-1']);
    expect(
      logger.lines.find((l) => l.message === 'could not record the job progress')?.attributes,
    ).toMatchObject({
      id: 'ok',
      error: 'Error: ProvisionedThroughputExceededException',
    });
  });

  it('refuses a progress value that is no percentage or too large a JSON value, failing the handler that reported it', async () => {
    const { calls, jobs } = recordingJobs();
    const values: Record<string, unknown> = {
      over: 101,
      nan: Number.NaN,
      big: { log: 'x'.repeat(1100) },
      none: undefined,
    };
    const { core, logger } = harness(
      {
        handlers: {
          'job.report.build': async (event, ctx) => {
            ctx.progress(values[event.id] as number);
          },
        },
      },
      {},
      { jobs },
    );
    await core.processBatch(
      sqsEvent(Object.keys(values).map((id) => record(jobEnvelope(id, 'g'), { messageId: id }))),
      lambdaContext(),
    );
    expect(calls.filter((c) => c.startsWith('progress'))).toEqual([]);
    expect(logger.outcomeOf('over')?.reason).toBe(
      'InvalidProgressError: ctx.progress: 101 is not a percentage: pass a number from 0 to 100, or a small JSON value such as { step: 2, of: 5 }',
    );
    expect(logger.outcomeOf('big')?.reason).toMatch(
      /ctx\.progress: the value is 1\d{3} bytes of JSON, more than 1024/,
    );
    expect(logger.outcomeOf('none')?.reason).toMatch(/ctx\.progress: the value is not JSON/);
  });

  it('takes progress from a handler whose job keeps no record, and writes nothing', async () => {
    const { calls, jobs } = recordingJobs();
    const { core } = harness(
      { handlers: { 'job.report.build': async (_event, ctx) => ctx.progress(40) } },
      {},
      { jobs: { ...jobs, start: async () => 'untracked' as const } },
    );
    const untracked = envelope({ id: 'bare', source: JOB_SOURCE, type: 'report.build', body: '{}' });
    const response = await core.processBatch(
      sqsEvent([record(jobEnvelope('expired', 'g')), record(untracked)]),
      lambdaContext(),
    );
    expect(failedIds(response)).toEqual([]);
    expect(calls.filter((c) => c.startsWith('progress'))).toEqual([]);
  });

  it('never records a job as waiting to retry for a copy that failed while another copy runs it', async () => {
    const { calls, jobs } = recordingJobs();
    const { core, idempotency } = harness(
      {
        handlers: {
          'job.report.build': async () => {
            await new Promise((resolve) => setImmediate(resolve));
            return 'built';
          },
        },
      },
      {},
      { idempotency: true, jobs },
    );
    const copy = jobEnvelope('twice', 'gen-1');
    const response = await core.processBatch(
      sqsEvent([record(copy, { messageId: 'm-1' }), record(copy, { messageId: 'm-2' })]),
      lambdaContext(),
    );
    // The second copy found the first one's execution in progress, and is retried on its own.
    expect(failedIds(response)).toEqual(['m-2']);
    expect([...(idempotency?.states.values() ?? [])]).toEqual(['completed']);
    expect(calls).toEqual(['start twice 1 gen-1', 'complete twice "built" gen-1']);
  });

  it.each([
    ['without', false],
    ['with', true],
  ])(
    'a debounced send its record no longer names never runs its handler: a duplicate marked superseded, while the send it names runs (%s idempotency)',
    async (_name, idempotency) => {
      const { calls, jobs } = recordingJobs();
      const ran: string[] = [];
      const { core, logger, metrics } = harness(
        {
          handlers: {
            'job.report.build': async (event) => {
              ran.push(event.headers[JOB_DEBOUNCE_HEADER] ?? 'none');
            },
          },
        },
        {},
        {
          idempotency,
          jobs: {
            ...jobs,
            async start(id: string, attempt: number, generation?: string, _token?: string, send?: string) {
              calls.push(`start ${id} ${attempt} ${generation} ${send}`);
              return send === 'send-2' ? ('run' as const) : ('superseded' as const);
            },
          },
        },
      );
      const sendOf = (send: string) =>
        envelope({
          id: 'doc-1',
          source: JOB_SOURCE,
          type: 'report.build',
          headers: {
            'content-type': 'application/json',
            [JOB_RECORD_HEADER]: '1',
            [JOB_DEBOUNCE_HEADER]: send,
          },
          body: '{"n":1}',
          generation: 'gen-1',
        });
      const replaced = await core.processBatch(
        sqsEvent([record(sendOf('send-1'), { messageId: 'm-1' })]),
        lambdaContext(),
      );
      expect(failedIds(replaced)).toStrictEqual([]);
      expect(ran).toEqual([]);
      expect(logger.outcomeOf('doc-1')).toMatchObject({ outcome: 'duplicate', superseded: true });
      expect(metrics.published[0]?.get(`${JOB_SOURCE}.report.build`)).toMatchObject({
        Duplicate: 1,
        Processed: 0,
      });
      await core.processBatch(sqsEvent([record(sendOf('send-2'), { messageId: 'm-2' })]), lambdaContext());
      expect(ran).toEqual(['send-2']);
      expect(calls).toEqual([
        'start doc-1 1 gen-1 send-1',
        'start doc-1 1 gen-1 send-2',
        'complete doc-1 undefined gen-1',
      ]);
      expect(logger.outcomes().map((o) => [o.outcome, o.superseded])).toEqual([
        ['duplicate', true],
        ['processed', undefined],
      ]);
    },
  );

  it.each([
    ['without', false],
    ['with', true],
  ])(
    'a job cancelled before it starts never runs its handler and is counted Cancelled (%s idempotency)',
    async (_name, idempotency) => {
      const { calls, jobs } = recordingJobs();
      let ran = 0;
      const { core, logger, metrics } = harness(
        {
          handlers: {
            'job.report.build': async () => {
              ran++;
            },
          },
        },
        {},
        { idempotency, jobs: { ...jobs, start: async () => 'cancelled' as const } },
      );
      const response = await core.processBatch(
        sqsEvent([record(jobEnvelope('gone', 'gen-1'))]),
        lambdaContext(),
      );
      expect(failedIds(response)).toStrictEqual([]);
      expect(ran).toBe(0);
      expect(calls).toEqual([]);
      expect(logger.outcomeOf('gone')).toMatchObject({ outcome: 'cancelled' });
      expect(metrics.published[0]?.get(`${JOB_SOURCE}.report.build`)).toMatchObject({
        Cancelled: 1,
        Processed: 0,
      });
    },
  );

  it('a dead-lettered webhook event, which has no job record, leaves the job records alone', async () => {
    const { calls, jobs } = recordingJobs();
    const { core, queue } = harness(
      {
        handlers: {
          '**': async () => {
            throw new PermanentError('bad event');
          },
        },
      },
      {},
      { jobs },
    );
    await core.processBatch(sqsEvent([record(envelope({ id: 'webhook-1' }))]), lambdaContext());
    expect(queue.deadLetters).toHaveLength(1);
    expect(calls).toEqual([]);
  });
});

describe('consumer core: job handlers', () => {
  const report = defineJob(
    'report.build',
    z.object({ n: z.number() }).transform(({ n }) => ({ doubled: n * 2 })),
    { queue: 'jobs' },
  );
  const jobRecord = (body: string) =>
    record(envelope({ source: JOB_SOURCE, type: 'report.build', body, id: `job-${body.length}` }));

  it("runs a job's handler with the payload its own schema validated and transformed", async () => {
    const seen: unknown[] = [];
    const { core } = harness({
      handlers: {},
      jobs: [
        handleJob(report, async (event) => {
          seen.push(event.payload);
        }),
      ],
    });
    const response = await core.processBatch(sqsEvent([jobRecord('{"n":21}')]), lambdaContext());
    expect(failedIds(response)).toStrictEqual([]);
    expect(seen).toStrictEqual([{ doubled: 42 }]);
  });

  it('dead-letters a job whose payload does not fit its schema on the first attempt, saying why', async () => {
    let ran = 0;
    const { core, queue } = harness({
      handlers: {},
      jobs: [
        handleJob(report, async () => {
          ran++;
        }),
      ],
    });
    await core.processBatch(sqsEvent([jobRecord('{"n":"x"}')]), lambdaContext());
    expect(ran).toBe(0);
    expect(queue.deadLetters.map((m) => m.attributes[FAILURE_ATTRIBUTES.errorName]?.StringValue)).toEqual([
      'InvalidPayloadError',
    ]);
    expect(queue.deadLetters[0]?.attributes[FAILURE_ATTRIBUTES.errorMessage]?.StringValue).toMatch(
      /^payload of job report.build is invalid: n: /,
    );
  });

  it('retries a job whose schema failed to run, rather than dead-lettering a payload that may be valid', async () => {
    const flaky = defineJob(
      'report.build',
      {
        '~standard': {
          version: 1,
          vendor: 'test',
          validate: async () => {
            throw new Error('lookup service unavailable');
          },
        },
      },
      { queue: 'jobs' },
    );
    const { core, queue } = harness({ handlers: {}, jobs: [handleJob(flaky, async () => undefined)] });
    const response = await core.processBatch(sqsEvent([jobRecord('{"n":1}')]), lambdaContext());
    expect(failedIds(response)).toHaveLength(1);
    expect(queue.deadLetters).toEqual([]);
  });
});

describe('consumer core: the batch response', () => {
  it('a record reported failed twice is reported once', () => {
    const records = [record(envelope({ id: 'a' })), record(envelope({ id: 'b' }))];
    const id = records[0]?.messageId ?? '';
    expect(
      checkedFailures(sqsEvent(records), {
        batchItemFailures: [{ itemIdentifier: id }, { itemIdentifier: id }],
      }),
    ).toStrictEqual([{ itemIdentifier: id }]);
  });

  it.each(['0', '-1', 'x', ''])('a receive count of %j counts as the first attempt', (count) => {
    const base = record(envelope());
    expect(attemptOf({ ...base, attributes: { ...base.attributes, ApproximateReceiveCount: count } })).toBe(
      1,
    );
  });
});

describe("consumer core: a retry that would outlast its queue's retention", () => {
  // The fakes' records were sent a second before NOW: with a 60 s retention, 59 s are left.
  it('dead-letters the record now, with its error, instead of leaving SQS to delete it unseen', async () => {
    const { core, queue, logger } = harness(
      {
        handlers: {
          '**': async () => {
            throw new RetryLaterError(120, 'HTTP 429 Too Many Requests');
          },
        },
      },
      { retentionSeconds: 60 },
    );
    const rec = record(envelope({ id: 'late' }), { attempt: 1 });

    const response = await core.processBatch(sqsEvent([rec]), lambdaContext());

    expect(failedIds(response)).toStrictEqual([]);
    expect(queue.visibilityChanges).toStrictEqual([]);
    expect(queue.deleted).toStrictEqual([rec.messageId]);
    const attributes = queue.deadLetters[0]?.attributes ?? {};
    expect(attributes[FAILURE_ATTRIBUTES.errorName]?.StringValue).toBe('RetentionEndsError');
    expect(attributes[FAILURE_ATTRIBUTES.errorMessage]?.StringValue).toBe(
      'not retried: its queue deletes it in 59 s (its retentionPeriod ends), before its 120 s retry delay would (last error: RetryLaterError: HTTP 429 Too Many Requests)',
    );
    expect(logger.outcomeOf('late')).toMatchObject({ outcome: 'dead-lettered' });
    expect(logger.outcomeOf('late')?.permanent).toBeUndefined();
  });

  it('retries with backoff as usual while the retry comes before the retention ends', async () => {
    const { core, queue } = harness(
      {
        handlers: {
          '**': async () => {
            throw new Error('downstream 503');
          },
        },
      },
      { retentionSeconds: 60 },
      { random: () => 0.999 },
    );
    const rec = record(envelope(), { attempt: 1 });

    const response = await core.processBatch(sqsEvent([rec]), lambdaContext());

    expect(failedIds(response)).toStrictEqual([rec.messageId]);
    expect(queue.visibilityChanges).toStrictEqual([{ messageId: rec.messageId, seconds: 10 }]);
    expect(queue.deadLetters).toStrictEqual([]);
  });
});
