import { describe, expect, it, vi } from 'vitest';
import { InvalidPayloadError } from '../../../lambda/consumer/errors';
import { parsePayload, payloadKind } from '../../../lambda/consumer/payload';
import { envelope } from './fakes';

describe('payload parsing by content type', () => {
  it.each([
    ['application/json', '{"a":1}', { a: 1 }],
    ['application/json; charset=utf-8', '[1,2]', [1, 2]],
    ['application/vnd.github+json', '{"b":true}', { b: true }],
    ['APPLICATION/JSON', '"s"', 's'],
    [
      'application/x-www-form-urlencoded',
      'payload=%7B%22x%22%3A1%7D&a=b+c',
      { payload: '{"x":1}', a: 'b c' },
    ],
    ['text/plain', 'hello', 'hello'],
    ['application/xml', '<a/>', '<a/>'],
    ['application/atom+xml', '<feed/>', '<feed/>'],
    [undefined, 'plain', 'plain'],
  ])('%s -> parsed value', (contentType, body, expected) => {
    expect(parsePayload(envelope({ contentType, body, bodyEncoding: 'utf8' }))).toStrictEqual(expected);
  });

  it('gives a Buffer for binary bodies and decodes base64 JSON', () => {
    const bytes = Buffer.from([0, 1, 2, 255]);
    const binary = parsePayload(
      envelope({
        contentType: 'application/octet-stream',
        body: bytes.toString('base64'),
        bodyEncoding: 'base64',
      }),
    );
    expect(Buffer.isBuffer(binary) && binary.equals(bytes)).toBe(true);
    expect(
      parsePayload(
        envelope({
          contentType: 'application/json',
          body: Buffer.from('{"z":2}').toString('base64'),
          bodyEncoding: 'base64',
        }),
      ),
    ).toStrictEqual({ z: 2 });
    expect(
      Buffer.isBuffer(
        parsePayload(envelope({ contentType: undefined, body: 'AA==', bodyEncoding: 'base64' })),
      ),
    ).toBe(true);
  });

  it('parses claim-checked bytes like an inline body', () => {
    const env = envelope({ body: undefined, payloadRef: { bucket: 'b', key: 'k', sizeBytes: 7 } });
    expect(parsePayload(env, Buffer.from('{"x":1}'))).toStrictEqual({ x: 1 });
  });

  it('ignores a UTF-8 byte order mark before JSON, inline or claim-checked', () => {
    expect(parsePayload(envelope({ body: '\uFEFF{"x":1}' }))).toStrictEqual({ x: 1 });
    const env = envelope({ body: undefined, payloadRef: { bucket: 'b', key: 'k', sizeBytes: 10 } });
    expect(parsePayload(env, Buffer.from([0xef, 0xbb, 0xbf, ...Buffer.from('{"x":2}')]))).toStrictEqual({
      x: 2,
    });
  });

  it('throws a permanent InvalidPayloadError for malformed JSON', () => {
    expect(() => parsePayload(envelope({ body: '{oops' }))).toThrow(InvalidPayloadError);
  });

  it('keeps a UTF-8 body of a binary content type as its own bytes (only a base64 body is decoded)', () => {
    const payload = parsePayload(
      envelope({ contentType: 'application/octet-stream', body: 'hello', bodyEncoding: 'utf8' }),
    );
    expect(Buffer.isBuffer(payload) && payload.toString('utf8')).toBe('hello');
  });

  it.each([
    ['text/plain'],
    ['application/x-www-form-urlencoded'],
    ['application/json'],
    ['application/octet-stream'],
  ])(
    'rejects a %s envelope with neither a body nor fetched bytes as permanent, not a retryable crash',
    (contentType) => {
      expect(() => parsePayload(envelope({ contentType, body: undefined }))).toThrow(InvalidPayloadError);
    },
  );

  it('reads a content type with a space before its parameters', () => {
    expect(
      parsePayload(envelope({ contentType: 'application/json ; charset=utf-8', body: '{"a":1}' })),
    ).toStrictEqual({ a: 1 });
  });
});

describe('payload kind lookups', () => {
  it('answers each content type by its own kind however the types alternate (the last answer is remembered)', () => {
    const sequence: [string | undefined, 'utf8' | 'base64', string][] = [
      ['application/json', 'utf8', 'json'],
      ['application/json', 'utf8', 'json'],
      ['text/plain', 'utf8', 'text'],
      [undefined, 'base64', 'binary'],
      [undefined, 'utf8', 'text'],
      ['application/json', 'base64', 'json'],
      ['  ', 'base64', 'binary'],
      ['', 'utf8', 'text'],
      ['  ', 'utf8', 'text'],
      ['application/octet-stream', 'base64', 'binary'],
      ['application/x-www-form-urlencoded', 'utf8', 'form'],
      ['application/json', 'utf8', 'json'],
    ];
    expect(sequence.map(([type, encoding]) => payloadKind(type, encoding))).toEqual(
      sequence.map(([, , kind]) => kind),
    );
  });
});

describe('payload kind of a fresh runtime', () => {
  it('reads a UTF-8 body without a content type as text even when it is the first record the module sees', async () => {
    vi.resetModules();
    const fresh = await import('../../../lambda/consumer/payload');
    expect(fresh.payloadKind(undefined, 'utf8')).toBe('text');
  });
});
