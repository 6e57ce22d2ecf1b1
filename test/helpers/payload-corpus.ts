/**
 * Bodies that a careless step would alter: the corpus the payload fidelity tests send through the cores
 * (test/lambda/payload-fidelity.test.ts) and through local mode over HTTP
 * (test/integration/payload-fidelity-local.test.ts). `expected` is what the pipeline does with the body: `kept`
 * (every reader gets these bytes), or the 4xx it answers.
 */

export interface PayloadCase {
  readonly name: string;
  readonly bytes: Buffer;
  /** Absent: the request carries no content type. */
  readonly contentType?: string;
  readonly expected: 'kept' | 400 | 401;
}

const utf8 = (text: string) => Buffer.from(text, 'utf8');
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);
/** `{"name":"José"}` in latin-1: 0xE9 alone is no UTF-8. */
const LATIN1_JSON = Buffer.from('{"name":"Jos\u00e9"}', 'latin1');
/** Bytes that are no UTF-8 at all: a lone continuation byte, an overlong form, 0xFE/0xFF, a NUL. */
const INVALID_UTF8 = Buffer.from([0x80, 0xc0, 0xaf, 0xfe, 0xff, 0x00, 0xed, 0xa0, 0x80]);

export const PAYLOAD_CORPUS: readonly PayloadCase[] = [
  {
    name: 'latin-1 bytes labelled application/octet-stream',
    bytes: LATIN1_JSON,
    contentType: 'application/octet-stream',
    expected: 'kept',
  },
  {
    name: 'invalid UTF-8 labelled application/octet-stream',
    bytes: INVALID_UTF8,
    contentType: 'application/octet-stream',
    expected: 'kept',
  },
  // API Gateway hands a text type's body over as a string: bytes that are no UTF-8 cannot survive that, so the
  // signature over the bytes sent no longer matches (the same on AWS). Sent as a binary type they are kept.
  {
    name: 'latin-1 bytes labelled application/json (refused: the signature no longer matches)',
    bytes: LATIN1_JSON,
    contentType: 'application/json',
    expected: 401,
  },
  {
    name: 'invalid UTF-8 labelled text/plain (refused: the signature no longer matches)',
    bytes: INVALID_UTF8,
    contentType: 'text/plain',
    expected: 401,
  },
  {
    name: 'latin-1 bytes labelled application/vnd.api+json (base64 on the way: kept)',
    bytes: LATIN1_JSON,
    contentType: 'application/vnd.api+json',
    expected: 'kept',
  },
  {
    name: 'a UTF-8 byte order mark before JSON',
    bytes: Buffer.concat([BOM, utf8('{"a":1}')]),
    contentType: 'application/json',
    expected: 'kept',
  },
  {
    name: 'U+2028 and U+2029 raw in a JSON string',
    bytes: utf8('{"s":"a\u2028b\u2029c"}'),
    contentType: 'application/json',
    expected: 'kept',
  },
  {
    name: 'a NUL escaped in JSON',
    bytes: utf8('{"s":"a\\u0000b"}'),
    contentType: 'application/json',
    expected: 'kept',
  },
  { name: 'a raw NUL in text', bytes: utf8('a\u0000b'), contentType: 'text/plain', expected: 'kept' },
  {
    name: 'a lone surrogate escaped in JSON',
    bytes: utf8('{"s":"\\ud800","t":"\\udc00x"}'),
    contentType: 'application/json',
    expected: 'kept',
  },
  {
    name: 'an integer beyond 2^53',
    bytes: utf8('{"id": 12345678901234567890, "f": 1.10, "e": 1E400}'),
    contentType: 'application/json',
    expected: 'kept',
  },
  { name: 'duplicate keys', bytes: utf8('{"a":1,"a":2}'), contentType: 'application/json', expected: 'kept' },
  {
    name: 'nesting 5,000 levels deep',
    bytes: utf8(`${'['.repeat(5000)}${']'.repeat(5000)}`),
    contentType: 'application/json',
    expected: 'kept',
  },
  {
    name: 'characters SQS refuses raw (U+FFFF, U+FFFE) and beyond U+FFFF',
    bytes: utf8('{"s":"\uffff\ufffe😀"}'),
    contentType: 'application/json',
    expected: 'kept',
  },
  {
    name: 'a form body with + and %2B',
    bytes: utf8('a=1+2&b=1%2B2&c=%E2%82%AC'),
    contentType: 'application/x-www-form-urlencoded',
    expected: 'kept',
  },
  {
    name: 'CRLF line endings',
    bytes: utf8('line one\r\nline two\r\n'),
    contentType: 'text/plain',
    expected: 'kept',
  },
  { name: 'no content type', bytes: utf8('{"a":1}'), expected: 'kept' },
  {
    name: 'an empty body (refused: 400)',
    bytes: Buffer.alloc(0),
    contentType: 'application/json',
    expected: 400,
  },
];
