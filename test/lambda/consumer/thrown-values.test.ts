/**
 * Whatever a handler throws, its record gets its outcome: retried with backoff, or dead-lettered with a readable,
 * bounded reason, and the rest of the batch is reported as it ended.
 */
import { describe, expect, it } from 'vitest';
import { MAX_ERROR_MESSAGE_LENGTH } from '../../../lambda/consumer/dead-letter';
import { describeError, MAX_DESCRIBED_MESSAGE_LENGTH } from '../../../lambda/consumer/errors';
import { FAILURE_ATTRIBUTES } from '../../../lambda/shared/envelope';
import { envelope, failedIds, harness, lambdaContext, record, sqsEvent } from './fakes';

const cyclicWithoutPrototype = () => {
  const value = Object.create(null) as Record<string, unknown>;
  value.self = value;
  return value;
};
const cyclicWhoseToStringThrows = () => {
  const value: Record<string, unknown> = {
    toString() {
      throw new Error('no text for you');
    },
  };
  value.self = value;
  return value;
};
const errorWhoseNameThrows = () => {
  const error = new Error('name is a trap');
  Object.defineProperty(error, 'name', {
    get() {
      throw new Error('getter throws');
    },
  });
  return error;
};
const errorWithObjectMessage = () => {
  const error = new Error();
  (error as { message: unknown }).message = { code: 'E_DOWNSTREAM', status: 503 };
  return error;
};

const thrownValues: Array<[string, () => unknown, string, RegExp]> = [
  [
    'an object without a prototype that loops back on itself',
    cyclicWithoutPrototype,
    'NonErrorThrown',
    /cannot be written as text/,
  ],
  [
    'an object whose toString throws and that JSON cannot write',
    cyclicWhoseToStringThrows,
    'NonErrorThrown',
    /cannot be written as text/,
  ],
  ['an Error whose name getter throws', errorWhoseNameThrows, 'Error', /^name is a trap$/],
  [
    'an Error whose message is an object',
    errorWithObjectMessage,
    'Error',
    /^\{"code":"E_DOWNSTREAM","status":503\}$/,
  ],
  ['an Error with a 1 MB message', () => new Error('x'.repeat(1_000_000)), 'Error', /^x+…$/],
  ['a 1 MB string', () => 'y'.repeat(1_000_000), 'NonErrorThrown', /^y+…$/],
];

describe('consumer core: a handler that throws something hard to describe', () => {
  for (const [what, thrown, name, message] of thrownValues) {
    it(`${what}: retried with backoff, dead-lettered on its last attempt with a bounded reason, the batch reported exactly`, async () => {
      const { core, queue, logger } = harness({
        handlers: {
          'github.push': async () => {
            throw thrown();
          },
          'github.ping': async () => {},
        },
      });
      const first = record(envelope({ id: 'first-attempt' }), { attempt: 1 });
      const last = record(envelope({ id: 'last-attempt' }), { attempt: 5 });
      const fine = record(envelope({ id: 'fine', type: 'ping' }), { attempt: 1 });

      const response = await core.processBatch(sqsEvent([first, last, fine]), lambdaContext());

      expect(failedIds(response)).toStrictEqual([first.messageId]);
      expect(queue.visibilityChanges).toStrictEqual([
        { messageId: first.messageId, seconds: expect.any(Number) },
      ]);
      expect(queue.deadLetters).toHaveLength(1);
      const reason = queue.deadLetters[0]?.attributes ?? {};
      expect(reason[FAILURE_ATTRIBUTES.errorName]?.StringValue).toBe(name);
      expect(reason[FAILURE_ATTRIBUTES.errorMessage]?.StringValue).toMatch(
        message.source.endsWith('…$') ? /…$/ : message,
      );
      expect(reason[FAILURE_ATTRIBUTES.errorMessage]?.StringValue?.length).toBeLessThanOrEqual(
        MAX_ERROR_MESSAGE_LENGTH,
      );
      expect(queue.deleted).toStrictEqual([last.messageId]);
      expect(logger.outcomeOf('first-attempt')).toMatchObject({ outcome: 'retried' });
      expect(logger.outcomeOf('last-attempt')).toMatchObject({ outcome: 'dead-lettered' });
      expect(logger.outcomeOf('fine')).toMatchObject({ outcome: 'processed' });
      for (const id of ['first-attempt', 'last-attempt']) {
        const line = logger.outcomeOf(id) ?? {};
        expect(String(line.reason)).toMatch(new RegExp(`^${name}: `));
        expect(String(line.reason).length).toBeLessThanOrEqual(
          name.length + 2 + MAX_DESCRIBED_MESSAGE_LENGTH,
        );
        expect(JSON.stringify(line).length).toBeLessThan(4 * MAX_DESCRIBED_MESSAGE_LENGTH);
      }
    });
  }
});

describe('describeError', () => {
  it('never throws and keeps the message within its bound, whatever was thrown', () => {
    for (const [, thrown, name, message] of thrownValues) {
      const described = describeError(thrown());
      expect(described.name).toBe(name);
      expect(described.message).toMatch(message);
      expect(described.message.length).toBeLessThanOrEqual(MAX_DESCRIBED_MESSAGE_LENGTH);
    }
  });
});
