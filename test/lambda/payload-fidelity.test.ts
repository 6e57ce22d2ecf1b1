/**
 * The payload fidelity corpus through the pure cores: each tricky body as API Gateway's HTTP API hands it to the
 * ingest (local mode's emulation of it), then the envelope queued (inline or claim-checked to S3), the archive
 * record, the consumer's event, the consumer's dead letter and the line `failed save` writes of it. Every step is
 * compared by the hash of the bytes, never by parsed JSON. test/integration/payload-fidelity-local.test.ts sends the
 * same corpus through local mode over real HTTP.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { bodyBytes } from '../../lambda/consumer';
import { PermanentError } from '../../lambda/consumer/errors';
import { handleWebhook } from '../../lambda/ingest/core';
import { parseArchiveLines } from '../../lambda/shared/archive';
import { envelopeBodyBytes, parseEnvelope, type WebhookEnvelope } from '../../lambda/shared/envelope';
import type { SourceRuntimeConfig } from '../../lambda/shared/ingest-config';
import { MAX_WEBHOOK_BODY_BYTES } from '../../lambda/shared/request-limits';
import { signWebhook } from '../../lambda/shared/webhook-signing';
import { describeDeadLetter } from '../../lib/cli/dead-letters';
import { deadLetterOf, savedMessageOf } from '../../lib/cli/saved-dead-letters';
import { buildHttpApiEvent } from '../../lib/local/http-api';
import { PAYLOAD_CORPUS, type PayloadCase } from '../helpers/payload-corpus';
import { harness as consumerHarness, lambdaContext, sqsEvent, record as sqsRecord } from './consumer/fakes';
import { harness as ingestHarness, NOW_MS, SECRETS, testConfig } from './ingest/fakes';

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/** An HMAC source that reads id and type from headers, so any bytes at all are an event. */
const RAW: SourceRuntimeConfig = {
  type: 'hmac',
  secretId: 'env:GENERIC',
  header: 'x-signature',
  algorithm: 'sha256',
  encoding: 'hex',
  prefix: 'sha256=',
  signedContent: '{body}',
  idHeader: 'x-event-id',
  typeHeader: 'x-event-type',
};

const config = (inlineLimitBytes = 1_032_192) =>
  testConfig({
    sources: { raw: RAW },
    routes: [],
    archive: { deliveryStream: 'Hookline-archive' },
    payloads: { bucket: 'payloads', inlineLimitBytes },
  });

/** What the ingest made of one request: its answer, the message queued, the S3 object and the archive line. */
async function ingest(bytes: Buffer, contentType: string | undefined, id: string, inlineLimitBytes?: number) {
  const h = ingestHarness(config(inlineLimitBytes));
  const lines: Buffer[] = [];
  const deps = { ...h.deps, archive: { put: async (line: Buffer) => void lines.push(line) } };
  const signature = signWebhook(RAW, SECRETS.generic ?? '', bytes, { now: new Date(NOW_MS), id });
  const headers = { 'x-event-id': id, 'x-event-type': 'fidelity', ...signature };
  const rawHeaders = Object.entries({
    ...headers,
    ...(contentType ? { 'content-type': contentType } : {}),
  }).flat();
  const event = buildHttpApiEvent(
    { method: 'POST', url: '/webhooks/raw', rawHeaders, body: bytes, sourceIp: '::1', httpVersion: '1.1' },
    'raw',
    { apiId: 'api', accountId: '000000000000', defaultHost: 'hooks.example.com' },
  );
  const response = await handleWebhook(event, deps);
  const message = h.sent[0];
  if (message) expect(parseEnvelope(message.body).id).toBe(id);
  const archived = parseArchiveLines(Buffer.concat(lines).toString('utf8')).records[0]?.envelope;
  return { response, message, stored: h.payloads[0], archived };
}

/** The bytes an envelope carries: inline, or the claim-checked object's. */
function carried(envelope: WebhookEnvelope, stored: { body: Buffer } | undefined): Buffer {
  if (envelope.payloadRef) {
    if (!stored) throw new Error(`envelope ${envelope.id} is claim-checked but nothing was stored`);
    return stored.body;
  }
  return envelopeBodyBytes(envelope);
}

/** The bytes the consumer's handler reads (`bodyBytes(event)`), and the message it dead-letters when it throws. */
async function consume(
  messageBody: string,
  stored: { bucket: string; key: string; body: Buffer } | undefined,
) {
  const seen: Buffer[] = [];
  const h = consumerHarness({
    handlers: {},
    default: async (event) => {
      seen.push(bodyBytes(event));
      throw new PermanentError('keep it for the dead-letter check');
    },
  });
  if (stored) h.payloads.set(`${stored.bucket}/${stored.key}`, stored.body);
  const envelope = parseEnvelope(messageBody);
  await h.core.processBatch(sqsEvent([sqsRecord(envelope, { body: messageBody })]), lambdaContext());
  return { handled: seen[0], deadLetter: h.queue.deadLetters[0] };
}

/** A dead letter through the line `failed save` writes and `failed restore` reads back. */
function savedAndRestored(deadLetter: { body: string }): string | null {
  const saved = savedMessageOf(describeDeadLetter({ MessageId: 'm-1', Body: deadLetter.body }));
  return deadLetterOf(JSON.parse(JSON.stringify(saved))).body;
}

async function expectKeptEverywhere(
  bytes: Buffer,
  contentType: string | undefined,
  id: string,
  limit?: number,
) {
  const { response, message, stored, archived } = await ingest(bytes, contentType, id, limit);
  expect(response.statusCode).toBe(202);
  if (!message || !archived) throw new Error('nothing was queued or archived');
  const sent = sha256(bytes);
  const envelope = parseEnvelope(message.body);
  expect(sha256(carried(envelope, stored))).toBe(sent);
  expect(sha256(carried(archived, stored))).toBe(sent);
  const { handled, deadLetter } = await consume(message.body, stored);
  expect(handled && sha256(handled)).toBe(sent);
  expect(deadLetter?.body).toBe(message.body);
  expect(deadLetter && savedAndRestored(deadLetter)).toBe(message.body);
  return envelope;
}

describe('a body reaches every reader byte for byte, or is refused with a 4xx', () => {
  it.each(PAYLOAD_CORPUS.map((c) => [c.name, c] as const))('%s', async (_name, c: PayloadCase) => {
    if (c.expected === 'kept') {
      await expectKeptEverywhere(c.bytes, c.contentType, 'corpus-1');
      return;
    }
    const { response, message } = await ingest(c.bytes, c.contentType, 'corpus-1');
    expect(response.statusCode).toBe(c.expected);
    expect(message).toBeUndefined();
  });
});

describe('the claim check keeps the bytes on both sides of its threshold', () => {
  const LIMIT = 2048;

  /** The envelope's bytes less its body's, for an ASCII body under a fixed id: what `n` bytes of body add to. */
  async function envelopeOverhead(): Promise<number> {
    const { message } = await ingest(Buffer.from('x'), 'text/plain', 'edge-00', LIMIT);
    return Buffer.byteLength(message?.body ?? '') - 1;
  }

  it('an envelope exactly at the limit travels inline, one byte over is claim-checked; both arrive exact', async () => {
    const room = LIMIT - (await envelopeOverhead());
    const atLimit = await expectKeptEverywhere(Buffer.from('x'.repeat(room)), 'text/plain', 'edge-01', LIMIT);
    expect(atLimit.payloadRef).toBeUndefined();
    const over = await expectKeptEverywhere(
      Buffer.from('x'.repeat(room + 1)),
      'text/plain',
      'edge-02',
      LIMIT,
    );
    expect(over.payloadRef?.sizeBytes).toBe(room + 1);
  });

  it('a two-byte character straddling the limit moves the whole body to S3, never half of it', async () => {
    const room = LIMIT - (await envelopeOverhead());
    const fits = Buffer.from(`${'x'.repeat(room - 2)}é`);
    expect((await expectKeptEverywhere(fits, 'text/plain', 'edge-03', LIMIT)).payloadRef).toBe(undefined);
    const straddles = Buffer.from(`${'x'.repeat(room - 1)}é`);
    const claimChecked = await expectKeptEverywhere(straddles, 'text/plain', 'edge-04', LIMIT);
    expect(claimChecked.payloadRef?.sizeBytes).toBe(room + 1);
  });

  it('the largest body accepted arrives exact; one byte more is a 413', async () => {
    const largest = Buffer.alloc(MAX_WEBHOOK_BODY_BYTES, 0xa5);
    const envelope = await expectKeptEverywhere(largest, 'application/octet-stream', 'edge-05');
    expect(envelope.payloadRef?.sizeBytes).toBe(MAX_WEBHOOK_BODY_BYTES);
    const tooLarge = Buffer.alloc(MAX_WEBHOOK_BODY_BYTES + 1, 0xa5);
    expect((await ingest(tooLarge, 'application/octet-stream', 'edge-06')).response.statusCode).toBe(413);
  });
});
