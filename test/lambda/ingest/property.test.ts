import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { handleWebhook } from '../../../lambda/ingest/core';
import { apiEvent, harness, signedEvent, testConfig } from './fakes';

const SOURCES = ['github', 'stripe', 'slack', 'shopify', 'standard', 'twilio', 'generic', 'token', 'open'];
const HEADER_NAMES = [
  'content-type',
  'x-github-event',
  'x-github-delivery',
  'x-hub-signature-256',
  'stripe-signature',
  'x-slack-signature',
  'x-slack-request-timestamp',
  'x-shopify-hmac-sha256',
  'x-shopify-topic',
  'webhook-id',
  'webhook-timestamp',
  'webhook-signature',
  'x-twilio-signature',
  'x-signature',
  'authorization',
  'x-event',
  'X-Mixed-Case',
];
const CONTENT_TYPES = [
  'application/json',
  'application/x-www-form-urlencoded',
  'text/plain',
  'application/octet-stream',
];

const bodyArb = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary' }),
  fc.string({ unit: 'grapheme' }),
  fc.constantFrom('{"type":"a😀\\uffff"}', '😀\uffff\ufffe', '{"id":"\u0000","type":"\ud83d"}'),
  fc.json(),
  fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)),
  fc.constantFrom(
    '{"type":"url_verification","challenge":"c"}',
    'payload=%7B%22type%22%3A1%7D',
    'payload=nojson',
    '',
  ),
);
const headersArb = fc.dictionary(fc.constantFrom(...HEADER_NAMES), fc.string({ maxLength: 80 }), {
  maxKeys: 6,
});

const expectSafe = (status: number, dependencyFailed: boolean) => {
  expect(status).not.toBe(410);
  if (status >= 500) {
    expect(status).toBe(503);
    expect(dependencyFailed).toBe(true);
  }
};

describe('property: no input produces an unexplained 5xx, a 410, or a throw', () => {
  it('arbitrary unsigned requests (method, path, headers, body, base64 flag)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('POST', 'GET', 'PUT', 'post', 'DELETE', ''),
        fc.oneof(fc.constantFrom(...SOURCES), fc.string({ maxLength: 20 })),
        headersArb,
        bodyArb,
        fc.boolean(),
        fc.option(fc.string({ maxLength: 30 }), { nil: undefined }),
        async (method, source, headers, body, base64, rawPath) => {
          const h = harness();
          const event = apiEvent(source, { method, headers, body, base64 });
          if (rawPath !== undefined) {
            // Without pathParameters the source comes from the raw path, which may be any text.
            delete event.pathParameters;
            event.rawPath = `/webhooks/${rawPath}`;
          }
          const response = await handleWebhook(event, h.deps);
          expectSafe(response.statusCode, false);
          expect(h.logs.filter((l) => l.message === 'webhook outcome')).toHaveLength(1);
        },
      ),
      { numRuns: 400 },
    );
  });

  it('correctly signed requests with arbitrary bodies, content types and extra headers', async () => {
    const config = testConfig();
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...SOURCES.filter((s) => s !== 'token')),
        bodyArb,
        fc.constantFrom(...CONTENT_TYPES),
        fc.dictionary(
          fc.constantFrom(
            'x-github-event',
            'x-github-delivery',
            'x-shopify-topic',
            'x-event',
            'X-Mixed-Case',
            'x-request-id',
          ),
          fc.string({ maxLength: 80 }),
          { maxKeys: 4 },
        ),
        fc.boolean(),
        fc.record({
          enqueue: fc.boolean(),
          payload: fc.boolean(),
          secrets: fc.boolean(),
          dedupe: fc.boolean(),
        }),
        async (source, body, contentType, extra, base64, failures) => {
          const h = harness(config);
          const anyFailure = failures.enqueue || failures.payload || failures.secrets || failures.dedupe;
          if (failures.enqueue) for (const q of Object.keys(config.queues)) h.failingQueues.add(q);
          h.failPayloads = failures.payload;
          h.failSecrets = failures.secrets;
          h.dedupe.failClaims = failures.dedupe;
          // A Buffer body can only travel base64-encoded without changing its bytes.
          const encoded = base64 || typeof body !== 'string';
          // Twilio signs form parameters (JSON bodies go through bodySHA256, covered in verify.test.ts).
          const type = source === 'twilio' ? 'application/x-www-form-urlencoded' : contentType;
          const event = signedEvent(config, source, body, {
            contentType: type,
            headers: extra,
            base64: encoded,
          });
          const response = await handleWebhook(event, h.deps);
          expectSafe(response.statusCode, anyFailure);
          if (!anyFailure && Buffer.byteLength(typeof body === 'string' ? body : body) > 0) {
            // Signed and nothing failed: accepted, or a 400 for a body its source cannot parse.
            expect([200, 202, 400]).toContain(response.statusCode);
          }
        },
      ),
      { numRuns: 400 },
    );
  });

  it('arbitrary event shapes (missing fields) never throw', async () => {
    await fc.assert(
      fc.asyncProperty(fc.anything(), async (garbage) => {
        const h = harness();
        const response = await handleWebhook(garbage as never, h.deps);
        expectSafe(response.statusCode, false);
      }),
      { numRuns: 200 },
    );
  });
});
