import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { PermanentError, RetryLaterError } from '../../../lambda/consumer/errors';
import type { ConsumerEvent } from '../../../lambda/consumer/types';
import {
  createForwarder,
  DestinationError,
  FORWARD_HEADERS,
  parseRetryAfter,
  verdictOf,
} from '../../../lambda/forward/core';
import { verifyRequest } from '../../../lambda/ingest/verify';
import type { SourceRuntimeConfig } from '../../../lambda/shared/ingest-config';
import { handlerContext, type TestHandlerContext } from '../../../lambda/testing';

const NOW = Date.parse('2026-12-02T12:00:00.000Z');
const SECRET = `whsec_${randomBytes(32).toString('base64')}`;
const URL_ = 'https://app.example.com/webhooks/hookline?token=do-not-log';

interface Sent {
  url: string;
  init: RequestInit;
  body: Buffer;
  headers: Record<string, string>;
}

function fakeFetch(answer: () => Response | Promise<Response>) {
  const sent: Sent[] = [];
  const fetch = (async (url: URL, init: RequestInit) => {
    sent.push({
      url: String(url),
      init,
      body: Buffer.from(init.body as Uint8Array),
      headers: init.headers as Record<string, string>,
    });
    return answer();
  }) as unknown as typeof globalThis.fetch;
  return { fetch, sent };
}

const contexts: TestHandlerContext[] = [];
const ctx = (attempt = 1): TestHandlerContext => {
  const context = handlerContext({
    event: { ...event(), attempt },
    consumer: 'app',
    remainingTimeMs: 25_000,
  });
  contexts.push(context);
  return context;
};
/** What the forwarder warned of, through every `ctx` so far: each line's attributes. */
const warnings = () =>
  contexts.flatMap((c) => c.logger.lines.filter((l) => l.level === 'warn').map((l) => l.attributes));

function event(overrides: Partial<ConsumerEvent> = {}): ConsumerEvent {
  return {
    v: 1,
    id: 'evt-72d1b5c0',
    source: 'github',
    type: 'push',
    receivedAt: new Date(NOW - 1000).toISOString(),
    headers: { 'x-github-event': 'push', 'user-agent': 'GitHub-Hookshot/abc', 'x-github-delivery': 'd-1' },
    contentType: 'application/json',
    body: '{"ref":"refs/heads/main",  "n": 1}',
    bodyEncoding: 'utf8',
    payload: {},
    ...overrides,
  };
}

function forwarder(answer: () => Response | Promise<Response>, timeoutMs = 10_000) {
  const { fetch, sent } = fakeFetch(answer);
  const handle = createForwarder(
    { url: URL_, timeoutMs },
    { fetch, loadSecrets: async () => [SECRET], now: () => NOW },
  );
  return { handle, sent };
}

async function failureOf(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the forward to fail');
}

const STANDARD_WEBHOOKS = { type: 'standard-webhooks', secretId: 'x' } as SourceRuntimeConfig;

describe('forwarding: the request', () => {
  it("posts the body byte for byte with its content type, signed so that hookline's own verifier accepts it", async () => {
    const { handle, sent } = forwarder(() => new Response(null, { status: 204 }));

    await handle(event(), ctx(2));

    const [request] = sent;
    expect(request?.init.method).toBe('POST');
    expect(request?.init.redirect).toBe('manual');
    expect(request?.body.toString('utf8')).toBe('{"ref":"refs/heads/main",  "n": 1}');
    expect(request?.headers).toMatchObject({
      'content-type': 'application/json',
      'webhook-id': 'evt-72d1b5c0',
      'webhook-timestamp': String(NOW / 1000),
      'webhook-signature': expect.stringMatching(/^v1,[A-Za-z0-9+/]+=*$/),
      [FORWARD_HEADERS.source]: 'github',
      [FORWARD_HEADERS.type]: 'push',
      [FORWARD_HEADERS.attempt]: '2',
      'x-github-event': 'push',
      'x-github-delivery': 'd-1',
    });
    const verdict = verifyRequest(
      STANDARD_WEBHOOKS,
      { headers: request?.headers ?? {}, body: request?.body ?? Buffer.alloc(0), url: URL_ },
      [SECRET],
      NOW,
    );
    expect(verdict).toStrictEqual({ ok: true });
    expect(
      verifyRequest(
        STANDARD_WEBHOOKS,
        { headers: request?.headers ?? {}, body: Buffer.from('{}'), url: URL_ },
        [SECRET],
        NOW,
      ).ok,
    ).toBe(false);
  });

  it('sends an event type or kept header HTTP cannot carry percent-encoded as UTF-8, and a Latin-1 one as it is', async () => {
    const { handle, sent } = forwarder(() => new Response(null, { status: 204 }));

    await handle(
      event({
        type: '注文.作成',
        headers: { 'x-shop': 'Café ☕', 'x-city': 'Zürich', 'x-note': 'line\nbreak' },
      }),
      ctx(),
    );

    const headers = new Headers(sent[0]?.headers);
    expect(headers.get(FORWARD_HEADERS.type)).toBe('%E6%B3%A8%E6%96%87.%E4%BD%9C%E6%88%90');
    expect(decodeURIComponent(headers.get(FORWARD_HEADERS.type) ?? '')).toBe('注文.作成');
    expect(headers.get('x-shop')).toBe('Caf%C3%A9 %E2%98%95');
    expect(headers.get('x-city')).toBe('Zürich');
    expect(headers.get('x-note')).toBe('line%0Abreak');
  });

  it('sends a percent sign of a value it percent-encodes as %25, so decodeURIComponent restores the value exactly', async () => {
    const { handle, sent } = forwarder(() => new Response(null, { status: 204 }));

    await handle(event({ type: '100%.注文', headers: { 'x-offer': '%41 off ☕' } }), ctx());

    const headers = new Headers(sent[0]?.headers);
    expect(headers.get(FORWARD_HEADERS.type)).toBe('100%25.%E6%B3%A8%E6%96%87');
    expect(decodeURIComponent(headers.get(FORWARD_HEADERS.type) ?? '')).toBe('100%.注文');
    expect(decodeURIComponent(headers.get('x-offer') ?? '')).toBe('%41 off ☕');
  });

  it('signs with every active secret while one is rotated, so a destination that knows either the new or the old accepts it', async () => {
    const fresh = `whsec_${randomBytes(32).toString('base64')}`;
    // A stack-generated secret is stored as the bare base64 key.
    const generated = randomBytes(36).toString('base64');
    const { fetch, sent } = fakeFetch(() => new Response(null, { status: 204 }));
    const handle = createForwarder(
      { url: URL_, timeoutMs: 10_000 },
      { fetch, loadSecrets: async () => [fresh, generated], now: () => NOW },
    );

    await handle(event(), ctx());

    const request = { headers: sent[0]?.headers ?? {}, body: sent[0]?.body ?? Buffer.alloc(0), url: URL_ };
    expect(request.headers['webhook-signature']?.split(' ')).toHaveLength(2);
    expect(verifyRequest(STANDARD_WEBHOOKS, request, [fresh], NOW)).toStrictEqual({ ok: true });
    expect(verifyRequest(STANDARD_WEBHOOKS, request, [`whsec_${generated}`], NOW)).toStrictEqual({
      ok: true,
    });
    expect(verifyRequest(STANDARD_WEBHOOKS, request, [SECRET], NOW).ok).toBe(false);
  });

  it('decodes a base64 body and sends its bytes, not the base64 text', async () => {
    const bytes = Buffer.from([0, 255, 1, 254, 10, 13]);
    const { handle, sent } = forwarder(() => new Response('ok'));

    await handle(
      event({
        body: bytes.toString('base64'),
        bodyEncoding: 'base64',
        contentType: 'application/octet-stream',
      }),
      ctx(),
    );

    expect(sent[0]?.body.equals(bytes)).toBe(true);
    expect(sent[0]?.headers['content-type']).toBe('application/octet-stream');
  });

  it("sends a job's JSON payload as application/json, without the runtime's job headers", async () => {
    const { handle, sent } = forwarder(() => new Response('ok'));

    await handle(
      event({
        source: 'job',
        type: 'send-email',
        headers: { 'x-hookline-job-record': '1' },
        body: '{"to":"ada@example.com"}',
      }),
      ctx(),
    );

    expect(sent[0]?.body.toString()).toBe('{"to":"ada@example.com"}');
    expect(sent[0]?.headers['content-type']).toBe('application/json');
    expect(sent[0]?.headers).not.toHaveProperty('x-hookline-job-record');
  });

  it("never lets a kept header override the signature, hookline's headers or the transport's", async () => {
    const { handle, sent } = forwarder(() => new Response('ok'));

    await handle(
      event({
        headers: {
          'webhook-id': 'msg_from_sender',
          'webhook-timestamp': '1',
          'hookline-source': 'forged',
          host: 'evil.example',
          'content-length': '1',
          'content-type': 'text/plain',
        },
      }),
      ctx(),
    );

    expect(sent[0]?.headers['webhook-id']).toBe('evt-72d1b5c0');
    expect(sent[0]?.headers['webhook-timestamp']).toBe(String(NOW / 1000));
    expect(sent[0]?.headers['hookline-source']).toBe('github');
    expect(sent[0]?.headers['content-type']).toBe('application/json');
    expect(sent[0]?.headers).not.toHaveProperty('host');
    expect(sent[0]?.headers).not.toHaveProperty('content-length');
  });

  it('signs with the same webhook-id on every attempt, so the destination can deduplicate', async () => {
    const { handle, sent } = forwarder(() => new Response('ok'));
    await handle(event(), ctx(1));
    await handle(event(), ctx(3));
    expect(sent.map((s) => s.headers['webhook-id'])).toStrictEqual(['evt-72d1b5c0', 'evt-72d1b5c0']);
  });
});

describe('forwarding: what the answer decides', () => {
  it.each([
    [200, 'delivered'],
    [201, 'delivered'],
    [204, 'delivered'],
    [299, 'delivered'],
    [301, 'redirect'],
    [302, 'redirect'],
    [307, 'redirect'],
    [308, 'redirect'],
    [400, 'permanent'],
    [401, 'permanent'],
    [403, 'permanent'],
    [404, 'permanent'],
    [409, 'permanent'],
    [410, 'permanent'],
    [413, 'permanent'],
    [422, 'permanent'],
    [408, 'retry'],
    [425, 'retry'],
    [429, 'retry'],
    [500, 'retry'],
    [502, 'retry'],
    [503, 'retry'],
    [504, 'retry'],
  ] as const)('HTTP %i is %s', (status, verdict) => {
    expect(verdictOf(status)).toBe(verdict);
  });

  it('dead-letters a 404 with its status, host and the start of its body on one line, never the query', async () => {
    const { handle } = forwarder(() => new Response(`Not here.\n\n  ${'x'.repeat(500)}`, { status: 404 }));

    const error = await failureOf(handle(event(), ctx()));

    expect(error).toBeInstanceOf(PermanentError);
    expect(error.message).toMatch(/^HTTP 404 Not Found from app\.example\.com: Not here\. x+$/);
    expect(error.message).toHaveLength('HTTP 404 Not Found from app.example.com: '.length + 200);
    expect(error.message).not.toContain('do-not-log');
  });

  it('does not follow a redirect: a permanent failure naming the status and the location without its query', async () => {
    const { handle } = forwarder(
      () =>
        new Response(null, {
          status: 301,
          headers: { location: 'https://new.example.com/hooks?key=secret' },
        }),
    );

    const error = await failureOf(handle(event(), ctx()));

    expect(error).toBeInstanceOf(PermanentError);
    expect(error.message).toMatch(
      /^HTTP 301 Moved Permanently from app\.example\.com: redirects are not followed \(location: https:\/\/new\.example\.com\/hooks\)/,
    );
    expect(error.message).not.toContain('secret');
  });

  it.each([
    ['?v=2', 'the same path with another query'],
    ['#top', 'the same path'],
    ['/webhooks/hookline/?token=do-not-log', '<path>/'],
    ['https://app.example.com/webhooks/hookline?v=2', 'https://app.example.com<path>'],
    ['/v2/hooks?key=secret', '/v2/hooks'],
    ['http://app.example.com/webhooks/hookline', 'http://app.example.com<path>'],
  ])('shows a redirect to %j without the configured path or query, as %j', async (location, shown) => {
    const { handle } = forwarder(() => new Response(null, { status: 301, headers: { location } }));

    const error = await failureOf(handle(event(), ctx()));

    expect(error.message).toBe(
      `HTTP 301 Moved Permanently from app.example.com: redirects are not followed (location: ${shown}); set the final URL in consumer.forward.url`,
    );
  });

  it('hides the configured path and query where the answer echoes the request line', async () => {
    const { handle } = forwarder(
      () =>
        new Response(
          '<!DOCTYPE html>\n<html lang="en">\n<body>\n<pre>Cannot POST /webhooks/hookline?token=do-not-log</pre>\n</body>\n</html>\n',
          { status: 404, headers: { 'content-type': 'text/html' } },
        ),
    );

    const error = await failureOf(handle(event(), ctx()));

    expect(error.message).toBe(
      'HTTP 404 Not Found from app.example.com: <!DOCTYPE html> <html lang="en"> <body> <pre>Cannot POST <path>?<query></pre> </body> </html>',
    );
  });

  it('hides the path and query however the answer quotes them: HTML-escaped, decoded, a token alone', async () => {
    const { fetch } = fakeFetch(
      () =>
        new Response(
          'Cannot POST /hooks/in%20box?token=s3cr3t-t0ken&amp;team=a; no route for /hooks/in box; bad token s3cr3t-t0ken; /hooks ok',
          { status: 404 },
        ),
    );
    const handle = createForwarder(
      { url: 'https://app.example.com/hooks/in%20box?token=s3cr3t-t0ken&team=a', timeoutMs: 10_000 },
      { fetch, loadSecrets: async () => [SECRET], now: () => NOW },
    );

    const error = await failureOf(handle(event(), ctx()));

    expect(error.message).toBe(
      'HTTP 404 Not Found from app.example.com: Cannot POST <path>?<query>; no route for <path>; bad token <query>; /hooks ok',
    );
  });

  it('hides the start of the configured path where the part of the body read breaks off in it', async () => {
    const chunks = [`${' '.repeat(800)}Cannot POST /webhooks/hook`, 'line?token=do-not-log'];
    const { handle } = forwarder(
      () =>
        new Response(
          new ReadableStream({
            pull(controller) {
              const chunk = chunks.shift();
              if (chunk === undefined) controller.close();
              else controller.enqueue(new TextEncoder().encode(chunk));
            },
          }),
          { status: 404 },
        ),
    );

    const error = await failureOf(handle(event(), ctx()));

    expect(error.message).toBe('HTTP 404 Not Found from app.example.com: Cannot POST');
  });

  it('retries a 503 with the queue backoff, its reason quoting the answer', async () => {
    const { handle } = forwarder(() => new Response('upstream down', { status: 503 }));

    const error = await failureOf(handle(event(), ctx()));

    expect(error).toBeInstanceOf(DestinationError);
    expect(error).not.toBeInstanceOf(PermanentError);
    expect(error.message).toBe('HTTP 503 Service Unavailable from app.example.com: upstream down');
    expect(warnings().at(-1)).toMatchObject({ status: 503, host: 'app.example.com', durationMs: 0 });
  });

  it.each([429, 503])('asks the runtime not to retry a %i before its Retry-After', async (status) => {
    const { handle } = forwarder(
      () => new Response('slow down', { status, headers: { 'retry-after': '120' } }),
    );

    const error = await failureOf(handle(event(), ctx()));

    expect(error).toBeInstanceOf(RetryLaterError);
    expect((error as RetryLaterError).delaySeconds).toBe(120);
    expect(error.message).toMatch(/slow down \(Retry-After: 120 s\)$/);
  });

  it('ignores Retry-After on other retried answers (the backoff applies)', async () => {
    const { handle } = forwarder(() => new Response('', { status: 500, headers: { 'retry-after': '120' } }));
    const error = await failureOf(handle(event(), ctx()));
    expect(error).not.toBeInstanceOf(RetryLaterError);
    expect(error).toBeInstanceOf(DestinationError);
  });

  it('retries a connection error, naming its code', async () => {
    const { handle } = forwarder(() => {
      throw Object.assign(new TypeError('fetch failed'), {
        cause: Object.assign(new Error('connect'), { code: 'ECONNREFUSED' }),
      });
    });
    const error = await failureOf(handle(event(), ctx()));
    expect(error).toBeInstanceOf(DestinationError);
    expect(error.message).toBe('cannot reach app.example.com: ECONNREFUSED');
  });

  it('aborts an attempt at its timeout and retries it', async () => {
    const { fetch } = fakeFetch(() => new Response('late'));
    const slowFetch = ((url: URL, init: RequestInit) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => resolve(fetch(url, init)), 5_000);
        init.signal?.addEventListener('abort', () => {
          clearTimeout(timer);
          reject(init.signal?.reason);
        });
      })) as typeof globalThis.fetch;
    const handle = createForwarder(
      { url: URL_, timeoutMs: 50 },
      { fetch: slowFetch, loadSecrets: async () => [SECRET], now: () => NOW },
    );

    const error = await failureOf(handle(event(), ctx()));

    expect(error).toBeInstanceOf(DestinationError);
    expect(error.message).toBe('no answer from app.example.com within 50 ms');
  });
});

describe('forwarding: Retry-After', () => {
  it.each([
    ['0', 0],
    ['2', 2],
    [' 120 ', 120],
    ['99999999', 99_999_999],
    ['Wed, 02 Dec 2026 12:00:30 GMT', 30],
    ['Wednesday, 02-Dec-26 12:01:00 GMT', 60],
    ['Wed, 02 Dec 2026 11:00:00 GMT', 0],
    ['-5', undefined],
    ['1.5', undefined],
    ['soon', undefined],
    ['', undefined],
    [null, undefined],
  ])('reads %j as %j seconds', (value, seconds) => {
    expect(parseRetryAfter(value, NOW)).toBe(seconds);
  });

  it('caps a huge Retry-After at the longest delay SQS grants after a receive', async () => {
    const { handle } = forwarder(
      () => new Response('', { status: 429, headers: { 'retry-after': '99999999' } }),
    );
    const error = await failureOf(handle(event(), ctx()));
    expect((error as RetryLaterError).delaySeconds).toBe(42_000);
  });

  it('says in the reason that a Retry-After beyond the longest delay waits the maximum instead', async () => {
    const { handle } = forwarder(
      () => new Response('too many', { status: 429, headers: { 'retry-after': '86400' } }),
    );
    const error = await failureOf(handle(event(), ctx()));
    expect(error.message).toBe(
      'HTTP 429 Too Many Requests from app.example.com: too many (Retry-After: 86400 s, waiting the 42000 s maximum)',
    );
  });
});
