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

  it('describes an AggregateError without inner errors (Promise.any of none) by its own message alone', () => {
    expect(describeError(new AggregateError([], 'All promises were rejected'))).toStrictEqual({
      name: 'AggregateError',
      message: 'All promises were rejected',
    });
  });

  it("writes an AggregateError's inner values that are not errors as JSON, and one without a prototype without throwing", () => {
    const bare = Object.create(null) as object;
    const described = describeError(
      new AggregateError([{ status: 503 }, 'timed out', bare], 'none answered'),
    );
    expect(described).toStrictEqual({
      name: 'AggregateError',
      message: 'none answered (3 errors: {"status":503}; timed out; {})',
    });
  });

  it('describes an AggregateError whose errors cannot be read by its own message, without throwing', () => {
    const unreadable = new AggregateError([new Error('inner')], 'outer');
    Object.defineProperty(unreadable, 'errors', {
      get() {
        throw new Error('no errors for you');
      },
    });
    expect(describeError(unreadable)).toStrictEqual({ name: 'AggregateError', message: 'outer' });
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

  it('bounds an error whose stack alone is long: a short message with a thousand frames, or frames a megabyte long', () => {
    const frame = (i: number, name: string) => `    at ${name} (file:///app/index.mjs:${i}:1)`;
    const deep = new Error('Maximum call stack size exceeded');
    deep.stack = [
      'RangeError: Maximum call stack size exceeded',
      ...Array.from({ length: 1_000 }, (_, i) => frame(i, 'recurse')),
    ].join('\n');
    const wide = new Error('short');
    wide.stack = ['Error: short', frame(1, 'x'.repeat(1_000_000)), frame(2, 'caller')].join('\n');

    for (const error of [deep, wide]) {
      const logged = loggedError(error) as { stack?: string };
      expect(logged).not.toBe(error);
      expect(JSON.stringify(logged).length).toBeLessThan(MAX_LOGGED_ERROR_LENGTH);
    }
    const deepFrames = String((loggedError(deep) as { stack?: string }).stack).split('\n');
    expect(deepFrames).toHaveLength(21);
    expect(deepFrames.slice(0, 2)).toStrictEqual([
      'Error: Maximum call stack size exceeded',
      frame(0, 'recurse'),
    ]);
    expect(String((loggedError(wide) as { stack?: string }).stack)).toMatch(
      /^Error: short\n {4}at x+…\n {4}at caller /,
    );
  });

  it('describes an error whose cause cannot be read instead of throwing', () => {
    const error = new Error('failed');
    Object.defineProperty(error, 'cause', {
      get() {
        throw new Error('no cause for you');
      },
    });
    expect(loggedError(error)).toStrictEqual({
      name: 'Error',
      message: 'failed',
      stack: expect.stringMatching(/^Error: failed\n {4}at /),
    });
  });
});
