import { describe, expect, it } from 'vitest';
import { envelopeBodyBytes, parseEnvelope } from '../../../lambda/shared/envelope';
import { consumerRuntimeSchema, readRuntimeConfig } from '../../../lambda/shared/runtime-config';

const valid = {
  name: 'events',
  queueUrl: 'http://q',
  deadLetterQueueUrl: 'http://dlq',
  fifo: false,
  maxReceiveCount: 5,
  parallelism: 10,
  retry: { baseSeconds: 10, factor: 2, maxSeconds: 900 },
  deadlineMarginMs: 3000,
};

describe('readRuntimeConfig', () => {
  it('parses a valid configuration', () => {
    expect(readRuntimeConfig(consumerRuntimeSchema, 'C', { C: JSON.stringify(valid) })).toEqual(valid);
  });

  it.each([
    [{}, /C is not set: deploy with the hookline stack or run through local mode/],
    [{ C: '' }, /C is not set: deploy with the hookline stack or run through local mode/],
    [{ C: '{' }, /C is not valid JSON: redeploy/],
    [
      { C: JSON.stringify({ ...valid, queueUrl: 1 }) },
      /C is invalid at queueUrl: .*\(expected string\); redeploy/,
    ],
    [
      { C: JSON.stringify({ ...valid, retry: { ...valid.retry, maxSeconds: 50_000 } }) },
      /C is invalid at retry\.maxSeconds/,
    ],
  ])('explains what is wrong with %j', (env, message) => {
    expect(() => readRuntimeConfig(consumerRuntimeSchema, 'C', env)).toThrow(message);
  });
});

describe('parseEnvelope', () => {
  it('accepts a v1 envelope and rejects other versions and empty ids', () => {
    const envelope = {
      v: 1,
      id: 'a',
      source: 's',
      type: 't',
      receivedAt: '2026-01-01T00:00:00Z',
      headers: {},
      bodyEncoding: 'utf8',
      body: '{}',
    };
    expect(parseEnvelope(JSON.stringify(envelope))).toEqual(envelope);
    expect(() => parseEnvelope(JSON.stringify({ ...envelope, v: 2 }))).toThrow();
    expect(() => parseEnvelope(JSON.stringify({ ...envelope, id: '' }))).toThrow();
  });
});

describe('the envelope contract', () => {
  const valid = {
    v: 1,
    id: 'a',
    source: 's',
    type: 't',
    receivedAt: '2026-01-01T00:00:00Z',
    headers: { 'content-type': 'application/json' },
    contentType: 'application/json',
    bodyEncoding: 'base64',
    payloadRef: { bucket: 'b', key: 'k', sizeBytes: 0 },
  };

  it('gives the bytes of a base64 body, and of a text body, as sent', () => {
    const bytes = Buffer.from([0xff, 0x00, 0x80]);
    const { payloadRef: _, ...inline } = valid;
    expect(
      envelopeBodyBytes(parseEnvelope(JSON.stringify({ ...inline, body: bytes.toString('base64') }))),
    ).toEqual(bytes);
    expect(
      envelopeBodyBytes(parseEnvelope(JSON.stringify({ ...inline, bodyEncoding: 'utf8', body: 'é' }))),
    ).toEqual(Buffer.from('é'));
  });

  it('keeps every field of the envelope and drops fields it does not define', () => {
    expect(
      parseEnvelope(JSON.stringify({ ...valid, extra: 1, payloadRef: { ...valid.payloadRef, x: 2 } })),
    ).toEqual(valid);
  });

  it.each([
    ['the root', [], '(root)'],
    ['a missing id', { ...valid, id: undefined }, 'id'],
    ['an empty source', { ...valid, source: '' }, 'source'],
    ['a numeric type', { ...valid, type: 7 }, 'type'],
    ['a missing receivedAt', { ...valid, receivedAt: undefined }, 'receivedAt'],
    ['headers as a list', { ...valid, headers: ['a'] }, 'headers'],
    ['a header that is not a string', { ...valid, headers: { a: 1 } }, 'headers.a'],
    ['a null content type', { ...valid, contentType: null }, 'contentType'],
    ['a body that is not a string', { ...valid, body: {} }, 'body'],
    ['an unknown body encoding', { ...valid, bodyEncoding: 'hex' }, 'bodyEncoding'],
    ['a replay marker that is not an object', { ...valid, replay: 'r-1' }, 'replay'],
    ['an empty generation', { ...valid, generation: '' }, 'generation'],
    [
      'a payloadRef without a bucket',
      { ...valid, payloadRef: { key: 'k', sizeBytes: 1 } },
      'payloadRef.bucket',
    ],
    [
      'a negative size',
      { ...valid, payloadRef: { ...valid.payloadRef, sizeBytes: -1 } },
      'payloadRef.sizeBytes',
    ],
    [
      'a fractional size',
      { ...valid, payloadRef: { ...valid.payloadRef, sizeBytes: 1.5 } },
      'payloadRef.sizeBytes',
    ],
  ])('rejects %s, naming the field', (_case, envelope, field) => {
    expect(() => parseEnvelope(JSON.stringify(envelope))).toThrow(
      expect.objectContaining({ name: 'EnvelopeError', path: field }),
    );
  });
});
