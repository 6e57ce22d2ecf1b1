import { describe, expect, it } from 'vitest';
import { describeError, UnknownEventTypeError } from '../../../lambda/consumer/errors';

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
});
