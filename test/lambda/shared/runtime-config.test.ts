import { describe, expect, it } from 'vitest';
import { parseEnvelope } from '../../../lambda/shared/envelope';
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
