/**
 * The forwarder on the consumer runtime, as the forwarding function runs it: a claim-checked body is posted as the
 * bytes stored in S3, and the runtime turns the destination's answers into its retries and dead letters.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createForwarder } from '../../../lambda/forward/core';
import { FORWARD_ENTRY } from '../../../lambda/shared/forward-config';
import { envelope, failedIds, harness, lambdaContext, NOW, record, sqsEvent } from '../consumer/fakes';

const SECRET = `whsec_${randomBytes(32).toString('base64')}`;

function forwardingHarness(answer: () => Response) {
  const bodies: Buffer[] = [];
  const fetch = (async (_url: URL, init: RequestInit) => {
    bodies.push(Buffer.from(init.body as Uint8Array));
    return answer();
  }) as unknown as typeof globalThis.fetch;
  const forward = createForwarder(
    { url: 'https://app.example.com/hooks', timeoutMs: 1_000 },
    { fetch, loadSecrets: async () => [SECRET], now: () => NOW },
  );
  return { ...harness({ handlers: {}, default: forward }), bodies };
}

describe('forwarding on the consumer runtime', () => {
  it('posts a claim-checked body as the exact bytes stored, binary included', async () => {
    const stored = Buffer.concat([Buffer.from('%PDF-1.7\n'), randomBytes(64)]);
    const { core, payloads, bodies } = forwardingHarness(() => new Response(null, { status: 204 }));
    payloads.set('payload-bucket/payloads/big', stored);
    const env = envelope({
      contentType: 'application/pdf',
      bodyEncoding: 'base64',
      body: undefined,
      payloadRef: { bucket: 'payload-bucket', key: 'payloads/big', sizeBytes: stored.length },
    });

    const response = await core.processBatch(sqsEvent([record(env)]), lambdaContext());

    expect(failedIds(response)).toStrictEqual([]);
    expect(bodies[0]?.equals(stored)).toBe(true);
  });

  it('dead-letters a 404 at once with its reason, and holds a 429 back for its Retry-After', async () => {
    const gone = forwardingHarness(() => new Response('nope', { status: 404 }));
    await gone.core.processBatch(sqsEvent([record(envelope())]), lambdaContext());
    expect(gone.queue.deadLetters).toHaveLength(1);
    expect(JSON.stringify(gone.queue.deadLetters[0]?.attributes)).toContain(
      'HTTP 404 Not Found from app.example.com: nope',
    );

    const busy = forwardingHarness(
      () => new Response('', { status: 429, headers: { 'retry-after': '300' } }),
    );
    const rec = record(envelope());
    await busy.core.processBatch(sqsEvent([rec]), lambdaContext());
    expect(busy.queue.visibilityChanges).toStrictEqual([{ messageId: rec.messageId, seconds: 300 }]);
  });

  it('is shipped in the package build, where hookline finds it by path', () => {
    expect(readFileSync('scripts/build.mjs', 'utf8')).toContain(`'${FORWARD_ENTRY}'`);
  });
});
