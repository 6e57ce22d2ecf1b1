import { describe, expect, it } from 'vitest';
import { sendProblem } from '../../../lib/local/sqs-send-rules';

const text = (StringValue: string, DataType = 'String') => ({ DataType, StringValue });
const attributes = (count: number) =>
  Object.fromEntries(Array.from({ length: count }, (_, i) => [`a${i}`, text('v')]));

describe('sendProblem (what SQS refuses in a send)', () => {
  it('takes up to 10 attributes and refuses the 11th, in SQS words', () => {
    expect(sendProblem({ MessageAttributes: attributes(10) })).toBeUndefined();
    expect(sendProblem({ MessageAttributes: attributes(11) })).toBe(
      'Number of message attributes [11] exceeds the allowed maximum [10].',
    );
  });

  it.each([
    ['AWS.trace', 'reserved'],
    ['aws.trace', 'reserved'],
    ['Amazon.trace', 'reserved'],
    ['AMAZON.x', 'reserved'],
    ['trace id', 'can only contain'],
    ['trace:id', 'can only contain'],
    ['traceÀid', 'can only contain'],
    ['.trace', "cannot start or end with '.'"],
    ['trace.', "cannot start or end with '.'"],
    ['trace..id', "cannot start or end with '.'"],
    ['a'.repeat(256), 'shorter than 256 Bytes'],
  ])('refuses the attribute name %s', (name, why) => {
    expect(sendProblem({ MessageAttributes: { [name]: text('v') } })).toContain(why);
  });

  it.each(['AWSfoo', 'amazonfoo', 'aws-foo', 'trace.id', 'Foo_Bar-1.2', 'a'.repeat(255)])(
    'takes the attribute name %s',
    (name) => {
      expect(sendProblem({ MessageAttributes: { [name]: text('v') } })).toBeUndefined();
    },
  );

  it('refuses an empty string value, an unknown data type and a number that is none', () => {
    expect(sendProblem({ MessageAttributes: { tracestate: text('') } })).toBe(
      "Message (user) attribute 'tracestate' must contain a non-empty value of type 'String'.",
    );
    expect(sendProblem({ MessageAttributes: { a: text('v', 'string') } })).toContain('must be prefixed with');
    expect(sendProblem({ MessageAttributes: { a: text('v', '') } })).toContain(
      'Missing required parameter DataType',
    );
    expect(sendProblem({ MessageAttributes: { Age: text('Hello', 'Number') } })).toBe(
      "Can't cast the value of message (user) attribute 'Age' to a number.",
    );
  });

  it('takes custom data types, numbers in every SQS form and a binary value', () => {
    for (const value of ['42', '-42', '+42', '3.14', '.5', '42.', '1e5', '1.5e-10']) {
      expect(sendProblem({ MessageAttributes: { n: text(value, 'Number.java.lang.Long') } })).toBeUndefined();
    }
    expect(sendProblem({ MessageAttributes: { s: text('{}', 'String.json') } })).toBeUndefined();
    expect(
      sendProblem({ MessageAttributes: { b: { DataType: 'Binary', BinaryValue: 'AAE=' } } }),
    ).toBeUndefined();
  });

  it('takes a delay from 0 to 900 seconds and refuses one outside', () => {
    expect(sendProblem({ DelaySeconds: 0 })).toBeUndefined();
    expect(sendProblem({ DelaySeconds: 900 })).toBeUndefined();
    expect(sendProblem({})).toBeUndefined();
    expect(sendProblem({ DelaySeconds: 901 })).toContain('Value 901 for parameter DelaySeconds is invalid');
    expect(sendProblem({ DelaySeconds: -1 })).toContain('Value -1 for parameter DelaySeconds is invalid');
  });

  it('refuses a deduplication id sent to a standard queue, and takes it on a FIFO queue or where the queue is unknown', () => {
    expect(sendProblem({ MessageDeduplicationId: 'd-1' }, { fifo: false })).toBe(
      'Value d-1 for parameter MessageDeduplicationId is invalid. Reason: The request include parameter that is not valid for this queue type.',
    );
    expect(sendProblem({ MessageDeduplicationId: 'd-1' }, { fifo: true })).toBeUndefined();
    expect(sendProblem({ MessageDeduplicationId: 'd-1' })).toBeUndefined();
    expect(sendProblem({}, { fifo: false })).toBeUndefined();
  });

  it.each([
    ['a space', 'Zoe Smith'],
    ['a character beyond ASCII', 'Zoë'],
    ['129 characters', 'g'.repeat(129)],
  ])('refuses a message group or deduplication id with %s, in SQS words', (_, id) => {
    expect(sendProblem({ MessageGroupId: id })).toBe(
      `Value ${id} for parameter MessageGroupId is invalid. Reason: MessageGroupId can only include alphanumeric and punctuation characters. 1 to 128 in length.`,
    );
    expect(sendProblem({ MessageGroupId: 'g', MessageDeduplicationId: id }, { fifo: true })).toBe(
      `Value ${id} for parameter MessageDeduplicationId is invalid. Reason: MessageDeduplicationId can only include alphanumeric and punctuation characters. 1 to 128 in length.`,
    );
  });

  it('takes a message group or deduplication id of 128 alphanumeric and punctuation characters', () => {
    const id = `${'a'.repeat(86)}!"#$%&'()*+,-./:;<=>?@[\\]^_\`{|}~0123456789`;
    expect(id).toHaveLength(128);
    expect(sendProblem({ MessageGroupId: id, MessageDeduplicationId: id }, { fifo: true })).toBeUndefined();
    expect(sendProblem({ MessageGroupId: 'acme' }, { fifo: false })).toBeUndefined();
  });
});
