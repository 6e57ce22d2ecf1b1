import { describe, expect, it } from 'vitest';
import {
  describeError,
  loggedError,
  MAX_DESCRIBED_MESSAGE_LENGTH,
  MAX_LOGGED_ERROR_LENGTH,
  UnknownEventTypeError,
} from '../../../lambda/consumer/errors';

// The name and message become the record's logged reason and the DLQ's reason attributes.
describe('describeError', () => {
  it('describes a thrown object that JSON cannot write (a cycle) by its text instead of failing', () => {
    const cyclic: { self?: unknown } = {};
    cyclic.self = cyclic;
    expect(describeError(cyclic)).toStrictEqual({ name: 'NonErrorThrown', message: '[object Object]' });
  });

  it('names the event key that no handler matched', () => {
    expect(describeError(new UnknownEventTypeError('stripe.refund.created'))).toStrictEqual({
      name: 'UnknownEventTypeError',
      message: 'no handler for "stripe.refund.created" and no default handler',
    });
  });

  it('describes an AggregateError by its inner errors, bounded however many, and without looping when it holds itself', () => {
    const many = new AggregateError(
      Array.from({ length: 10_000 }, (_, i) => new Error(`failure ${i}`)),
      'All promises were rejected',
    );
    const described = describeError(many);
    expect(described.message).toMatch(
      /^All promises were rejected \(10000 errors: Error: failure 0; Error: failure 1; /,
    );
    expect(described.message.length).toBeLessThanOrEqual(MAX_DESCRIBED_MESSAGE_LENGTH);

    const holdsItself = new AggregateError([], 'around');
    holdsItself.errors.push(holdsItself);
    expect(describeError(holdsItself)).toStrictEqual({
      name: 'AggregateError',
      message: 'around (1 error: AggregateError: around)',
    });
  });
});

describe('loggedError', () => {
  it('hands the logger the error itself while it logs short, and its description once its cause or fields are long', () => {
    const small = new Error('short', { cause: new Error('also short') });
    expect(loggedError(small)).toBe(small);

    const deep = new Error('short', {
      cause: new Error('middle', { cause: new Error('z'.repeat(MAX_LOGGED_ERROR_LENGTH)) }),
    });
    expect(loggedError(deep)).toStrictEqual({
      name: 'Error',
      message: 'short',
      stack: expect.stringMatching(/^Error: short\n/),
      cause: { name: 'Error', message: 'middle' },
    });

    const unwritable = Object.assign(new Error('short'), { id: 10n });
    expect(loggedError(unwritable)).toMatchObject({ name: 'Error', message: 'short' });
    expect(loggedError(unwritable)).not.toBe(unwritable);
  });

  it('keeps the frames of an error whose message is a megabyte, under its cut first line', () => {
    const logged = loggedError(new Error(`top\n${'x'.repeat(1_000_000)}`));
    const stack = String((logged as { stack?: string }).stack);
    expect(stack).toMatch(/^Error: top\nx+…\n {4}at .*errors\.test\.ts:\d+:\d+/);
    expect(stack.length).toBeLessThan(MAX_DESCRIBED_MESSAGE_LENGTH + 20 * 600);
  });
});
