import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PermanentError } from '../../../lambda/consumer/errors';
import { envelope, failedIds, harness, lambdaContext, record, sqsEvent } from './fakes';

type Behaviour = 'ok' | 'retryable' | 'permanent' | 'final-attempt-failure';
const behaviour = fc.constantFrom<Behaviour>('ok', 'retryable', 'permanent', 'final-attempt-failure');
const MAX_RECEIVE = 5;

/** True when the record must come back in batchItemFailures. */
const staysFailed = (b: Behaviour, deadLetterDown: boolean) =>
  b === 'retryable' || (deadLetterDown && (b === 'permanent' || b === 'final-attempt-failure'));

function build(behaviours: Behaviour[], groups: string[] | undefined) {
  const plan = new Map<string, Behaviour>();
  const records = behaviours.map((b, i) => {
    const env = envelope({ id: `evt-${i}` });
    plan.set(env.id, b);
    return record(env, {
      messageId: `msg-${i}`,
      attempt: b === 'final-attempt-failure' ? MAX_RECEIVE : 1 + (i % (MAX_RECEIVE - 1)),
      ...(groups ? { groupId: groups[i] } : {}),
    });
  });
  const ran: string[] = [];
  const handler = async (event: { id: string }) => {
    ran.push(event.id);
    const b = plan.get(event.id);
    if (b === 'permanent') throw new PermanentError('bad input');
    if (b === 'retryable' || b === 'final-attempt-failure') throw new Error('transient');
  };
  return { records, ran, handler };
}

function assertWellFormed(ids: string[], all: string[]) {
  expect(new Set(ids).size).toBe(ids.length);
  for (const id of ids) {
    expect(id).not.toBe('');
    expect(all).toContain(id);
  }
}

describe('batchItemFailures contract (property)', () => {
  it('standard queue: exactly the records that must be retried, whatever fails', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(behaviour, { minLength: 0, maxLength: 40 }),
        fc.integer({ min: 1, max: 12 }),
        fc.boolean(),
        async (behaviours, parallelism, deadLetterDown) => {
          const { records, handler } = build(behaviours, undefined);
          const h = harness({ handlers: { '**': handler } }, { parallelism, maxReceiveCount: MAX_RECEIVE });
          h.queue.failDeadLetter = deadLetterDown;

          const ids = failedIds(await h.core.processBatch(sqsEvent(records), lambdaContext()));

          assertWellFormed(
            ids,
            records.map((r) => r.messageId),
          );
          const expected = records.filter((_, i) => staysFailed(behaviours[i] ?? 'ok', deadLetterDown));
          expect([...ids].sort()).toStrictEqual(expected.map((r) => r.messageId).sort());
          expect(h.logger.outcomes()).toHaveLength(records.length);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('FIFO queue: per group, the first failure and everything after it in that group (but what is dead-lettered on its last receive), nothing else', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(behaviour, fc.constantFrom('A', 'B', 'C', 'D')), { minLength: 0, maxLength: 10 }),
        fc.boolean(),
        async (items, deadLetterDown) => {
          const behaviours = items.map(([b]) => b);
          const groups = items.map(([, g]) => g);
          const { records, ran, handler } = build(behaviours, groups);
          const h = harness({ handlers: { '**': handler } }, { fifo: true, maxReceiveCount: MAX_RECEIVE });
          h.queue.failDeadLetter = deadLetterDown;

          const ids = failedIds(await h.core.processBatch(sqsEvent(records), lambdaContext()));

          assertWellFormed(
            ids,
            records.map((r) => r.messageId),
          );
          const broken = new Set<string>();
          const expected: string[] = [];
          const expectedRan: string[] = [];
          items.forEach(([b, g], i) => {
            if (broken.has(g)) {
              // Skipped on its last receive, it is dead-lettered saying why (SQS would move it without a reason).
              if (b !== 'final-attempt-failure' || deadLetterDown) expected.push(`msg-${i}`);
              return;
            }
            expectedRan.push(`evt-${i}`);
            if (staysFailed(b, deadLetterDown)) {
              broken.add(g);
              expected.push(`msg-${i}`);
            }
          });
          expect(ids).toStrictEqual(expected);
          expect(ran).toStrictEqual(expectedRan);
          expect(h.logger.outcomes()).toHaveLength(records.length);
        },
      ),
      { numRuns: 150 },
    );
  });
});
