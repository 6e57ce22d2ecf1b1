import { describe, expect, it } from 'vitest';
import { deadLetterMessage, MAX_ERROR_MESSAGE_LENGTH } from '../../../lambda/consumer/dead-letter';
import { MAX_DESCRIBED_NAME_LENGTH } from '../../../lambda/consumer/errors';
import {
  entryBytes,
  MAX_INLINE_LIMIT_BYTES,
  SQS_MAX_MESSAGE_BYTES,
} from '../../../lambda/shared/claim-check';
import { FAILURE_ATTRIBUTES, MESSAGE_ATTRIBUTES } from '../../../lambda/shared/envelope';
import { MAX_SAFE_ID_LENGTH } from '../../../lambda/shared/safe-ids';
import { envelope, record } from './fakes';

const reason = { errorName: 'Error', errorMessage: 'm', attempt: 3, consumer: 'events', failedAtMs: 0 };

describe('dead-letter message', () => {
  it("fits SQS's limit for a message at the largest inline size with the longest reason, in three-byte characters", () => {
    const env = envelope();
    const attributes = { [MESSAGE_ATTRIBUTES.source]: { dataType: 'String', stringValue: env.source } };
    const original = record(env);
    original.messageAttributes = attributes;
    const attributeBytes = entryBytes({
      MessageAttributes: { [MESSAGE_ATTRIBUTES.source]: { DataType: 'String', StringValue: env.source } },
    });
    original.body = 'x'.repeat(MAX_INLINE_LIMIT_BYTES - attributeBytes);
    const longest = {
      errorName: '€'.repeat(MAX_DESCRIBED_NAME_LENGTH + 10),
      errorMessage: '€'.repeat(MAX_ERROR_MESSAGE_LENGTH + 10),
      attempt: 1000,
      consumer: 'c'.repeat(40),
      failedAtMs: Date.UTC(2026, 11, 31),
    };
    // The id the copy gains as an attribute, as long as an id the ingest keeps unhashed.
    const message = deadLetterMessage(original, longest, true, 'i'.repeat(MAX_SAFE_ID_LENGTH));
    expect(message.attributes[MESSAGE_ATTRIBUTES.eventId]?.StringValue).toHaveLength(MAX_SAFE_ID_LENGTH);
    expect(
      entryBytes({ MessageBody: message.body, MessageAttributes: message.attributes }),
    ).toBeLessThanOrEqual(SQS_MAX_MESSAGE_BYTES);
  });

  it('truncates long error messages and replaces an empty one', () => {
    const long = deadLetterMessage(record(envelope()), { ...reason, errorMessage: 'x'.repeat(5_000) }, false);
    expect(long.attributes[FAILURE_ATTRIBUTES.errorMessage]?.StringValue).toHaveLength(
      MAX_ERROR_MESSAGE_LENGTH,
    );
    const empty = deadLetterMessage(record(envelope()), { ...reason, errorMessage: '' }, false);
    expect(empty.attributes[FAILURE_ATTRIBUTES.errorMessage]?.StringValue).toBe('(no message)');
  });

  it('keeps an error message of exactly the limit whole, and names a nameless error Error (SQS refuses an empty attribute)', () => {
    const exact = 'x'.repeat(MAX_ERROR_MESSAGE_LENGTH);
    const message = deadLetterMessage(
      record(envelope()),
      { ...reason, errorName: '', errorMessage: exact },
      false,
    );
    expect(message.attributes[FAILURE_ATTRIBUTES.errorMessage]?.StringValue).toBe(exact);
    expect(message.attributes[FAILURE_ATTRIBUTES.errorName]?.StringValue).toBe('Error');
  });

  it('never cuts a long error message between the two halves of an emoji (SQS refuses a lone half)', () => {
    const text = `${'x'.repeat(MAX_ERROR_MESSAGE_LENGTH - 2)}🚫 and more`;
    const cut = deadLetterMessage(record(envelope()), { ...reason, errorMessage: text }, false).attributes[
      FAILURE_ATTRIBUTES.errorMessage
    ]?.StringValue;
    expect(cut).toBe(`${'x'.repeat(MAX_ERROR_MESSAGE_LENGTH - 2)}…`);
    expect(cut).not.toMatch(/[\ud800-\udfff]/u);
  });

  it('stays within the 10-attribute SQS limit, keeping the reason attributes first', () => {
    const extra = Object.fromEntries(
      Array.from({ length: 9 }, (_, i) => [`custom.${i}`, { dataType: 'String', stringValue: String(i) }]),
    );
    const message = deadLetterMessage(record(envelope(), { extraAttributes: extra }), reason, false);
    expect(Object.keys(message.attributes)).toHaveLength(10);
    for (const name of Object.values(FAILURE_ATTRIBUTES)) expect(message.attributes[name]).toBeDefined();
  });

  it('keeps the redrive marker when the limit cuts other attributes, so the redrive run knows its message came back', () => {
    const extra = {
      ...Object.fromEntries(
        Array.from({ length: 6 }, (_, i) => [`custom.${i}`, { dataType: 'String', stringValue: String(i) }]),
      ),
      [MESSAGE_ATTRIBUTES.redrive]: { dataType: 'String', stringValue: 'run-1' },
    };
    const message = deadLetterMessage(record(envelope(), { extraAttributes: extra }), reason, false);
    expect(Object.keys(message.attributes)).toHaveLength(10);
    expect(message.attributes[MESSAGE_ATTRIBUTES.redrive]).toEqual({
      DataType: 'String',
      StringValue: 'run-1',
    });
  });

  it("keeps a fair queue's tenant when a replayed, redriven event's attributes pass the limit, so a redrive returns it to its tenant", () => {
    // As the ingest, a replay and a one-by-one redrive leave them: six of ours, one more than the room left.
    const attrs = (entries: Record<string, string>) =>
      Object.fromEntries(
        Object.entries(entries).map(([name, value]) => [name, { dataType: 'String', stringValue: value }]),
      );
    const extra = attrs({
      [MESSAGE_ATTRIBUTES.source]: 'github',
      [MESSAGE_ATTRIBUTES.type]: 'push',
      [MESSAGE_ATTRIBUTES.eventId]: 'evt-1',
      [MESSAGE_ATTRIBUTES.replay]: 'replay-1',
      [MESSAGE_ATTRIBUTES.tenant]: 'installation-42',
      [MESSAGE_ATTRIBUTES.redrive]: 'run-1',
    });
    const message = deadLetterMessage(record(envelope(), { extraAttributes: extra }), reason, false);
    expect(Object.keys(message.attributes)).toHaveLength(10);
    expect(message.attributes[MESSAGE_ATTRIBUTES.tenant]?.StringValue).toBe('installation-42');
    expect(message.attributes[MESSAGE_ATTRIBUTES.redrive]?.StringValue).toBe('run-1');
  });

  it('gives the redrive marker one place only, wherever it came among the attributes', () => {
    const extra = {
      [MESSAGE_ATTRIBUTES.redrive]: { dataType: 'String', stringValue: 'run-1' },
      ...Object.fromEntries(
        Array.from({ length: 3 }, (_, i) => [`custom.${i}`, { dataType: 'String', stringValue: String(i) }]),
      ),
    };
    const message = deadLetterMessage(record(envelope(), { extraAttributes: extra }), reason, false);
    expect(Object.keys(message.attributes)).toHaveLength(10);
    expect(message.attributes['custom.0']).toEqual({ DataType: 'String', StringValue: '0' });
  });

  it('replaces the reason attributes of an earlier dead-lettering instead of duplicating them', () => {
    const previous = { [FAILURE_ATTRIBUTES.errorName]: { dataType: 'String', stringValue: 'OldError' } };
    const message = deadLetterMessage(record(envelope(), { extraAttributes: previous }), reason, false);
    expect(message.attributes[FAILURE_ATTRIBUTES.errorName]?.StringValue).toBe('Error');
  });

  it('a message dead-lettered again keeps its own attributes: the earlier reason attributes take no room', () => {
    const earlier = Object.fromEntries(
      Object.values(FAILURE_ATTRIBUTES).map((name) => [name, { dataType: 'String', stringValue: 'old' }]),
    );
    const custom = Object.fromEntries(
      Array.from({ length: 2 }, (_, i) => [`custom.${i}`, { dataType: 'String', stringValue: String(i) }]),
    );
    const message = deadLetterMessage(
      record(envelope(), { extraAttributes: { ...earlier, ...custom } }),
      reason,
      false,
    );
    for (const name of Object.keys(custom)) expect(message.attributes[name]).toBeDefined();
  });

  it('gives a record without hookline.id the id it was named by, ahead of attributes the limit cuts', () => {
    const custom = Object.fromEntries(
      Array.from({ length: 10 }, (_, i) => [`custom.${i}`, { dataType: 'String', stringValue: String(i) }]),
    );
    const foreign = { ...record(envelope(), { messageId: 'sqs-1' }), messageAttributes: custom };
    const message = deadLetterMessage(foreign, reason, false, 'sqs-1');
    expect(Object.keys(message.attributes)).toHaveLength(10);
    expect(message.attributes[MESSAGE_ATTRIBUTES.eventId]).toEqual({
      DataType: 'String',
      StringValue: 'sqs-1',
    });
  });

  it("keeps a record's own hookline.id as it is", () => {
    const message = deadLetterMessage(record(envelope({ id: 'evt-1' })), reason, false, 'other');
    expect(message.attributes[MESSAGE_ATTRIBUTES.eventId]?.StringValue).toBe('evt-1');
  });

  it('keeps binary attributes as bytes', () => {
    const bin = { blob: { dataType: 'Binary', binaryValue: Buffer.from('hi').toString('base64') } };
    const message = deadLetterMessage(record(envelope(), { extraAttributes: bin }), reason, false);
    expect(Buffer.from(message.attributes.blob?.BinaryValue ?? []).toString()).toBe('hi');
  });

  it('sets group and deduplication ids only for FIFO', () => {
    const rec = record(envelope(), { groupId: 'g', messageId: 'mid' });
    expect(deadLetterMessage(rec, reason, false)).not.toHaveProperty('groupId');
    expect(deadLetterMessage(rec, reason, true)).toMatchObject({ groupId: 'g', deduplicationId: 'mid' });
  });

  it('cuts a long message to exactly the limit, one character short of it only to keep a surrogate pair whole', () => {
    const cut = (text: string) =>
      deadLetterMessage(record(envelope()), { ...reason, errorMessage: text }, false).attributes[
        FAILURE_ATTRIBUTES.errorMessage
      ]?.StringValue;
    const head = 'x'.repeat(MAX_ERROR_MESSAGE_LENGTH - 2);
    expect(cut('y'.repeat(MAX_ERROR_MESSAGE_LENGTH + 1))).toBe(
      `${'y'.repeat(MAX_ERROR_MESSAGE_LENGTH - 1)}…`,
    );
    // The lowest and the highest high surrogates: a pair starting just before the cut is dropped whole.
    expect(cut(`${head}\ud800\udc00 more`)).toBe(`${head}…`);
    expect(cut(`${head}\udbff\udfff more`)).toBe(`${head}…`);
    // A pair that ends just before the cut is kept whole.
    expect(cut(`${head.slice(1)}🚫 more`)).toBe(`${head.slice(1)}🚫…`);
  });

  it('drops an attribute with neither a string nor a binary value, and gives its room to the next', () => {
    const extra = {
      'list.only': { dataType: 'String', stringListValues: ['a'], binaryListValues: [] },
      'all.null': { dataType: 'String', stringValue: null, binaryValue: null },
      ...Object.fromEntries(
        Array.from({ length: 2 }, (_, i) => [`custom.${i}`, { dataType: 'String', stringValue: String(i) }]),
      ),
    } as never;
    const message = deadLetterMessage(record(envelope(), { extraAttributes: extra }), reason, false);
    expect(Object.keys(message.attributes).sort()).toEqual(
      [
        MESSAGE_ATTRIBUTES.source,
        MESSAGE_ATTRIBUTES.type,
        MESSAGE_ATTRIBUTES.eventId,
        'custom.0',
        'custom.1',
        ...Object.values(FAILURE_ATTRIBUTES),
      ].sort(),
    );
  });

  it('keeps a binary attribute whose string value Lambda gives as null', () => {
    const bin = {
      blob: { dataType: 'Binary', stringValue: null, binaryValue: Buffer.from('hi').toString('base64') },
    } as never;
    const message = deadLetterMessage(record(envelope(), { extraAttributes: bin }), reason, false);
    expect(Buffer.from(message.attributes.blob?.BinaryValue ?? []).toString()).toBe('hi');
  });

  it('gives a FIFO record without a group the dead-letter group, so the send is not refused', () => {
    const rec = record(envelope(), { messageId: 'mid' });
    expect(deadLetterMessage(rec, reason, true)).toMatchObject({
      groupId: 'hookline-dead-letter',
      deduplicationId: 'mid',
    });
  });
});
