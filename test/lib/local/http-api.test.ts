import { existsSync } from 'node:fs';
import { createServer, request } from 'node:http';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_WEBHOOK_BODY_BYTES } from '../../../lambda/shared/request-limits';
import { EventJournal } from '../../../lib/local/event-journal';
import type { InvokeResult } from '../../../lib/local/function-runtime';
import {
  buildHttpApiEvent,
  type HttpApi,
  isTextContentType,
  listenOrPortInUse,
  MAX_REQUEST_BYTES,
  PortInUseError,
  requestTime,
  STOPPING_MESSAGE,
  startHttpApi,
  toHttpResponse,
  type WebhookRequestReport,
} from '../../../lib/local/http-api';

/**
 * POSTs `total` bytes in 64 KiB chunks with a raw client (as a sender would) and resolves with the answer once
 * the exchange is over; rejects when the connection failed at any point (a reset or EPIPE while sending).
 */
function streamedPost(url: string, total: number): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    let failure: Error | undefined;
    let answer: { status: number; body: unknown } | undefined;
    const req = request(url, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(total) },
    });
    req.on('response', (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => {
        answer = { status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(parts).toString()) };
      });
    });
    req.on('error', (error) => {
      failure = error;
    });
    req.on('close', () => {
      // Let a late error of the same exchange surface before judging it.
      setTimeout(
        () => (failure || !answer ? reject(failure ?? new Error('no answer')) : resolve(answer)),
        50,
      );
    });
    const chunk = Buffer.alloc(64 * 1024, 97);
    let sent = 0;
    const write = () => {
      while (sent < total && !failure) {
        const part = chunk.subarray(0, Math.min(chunk.length, total - sent));
        sent += part.length;
        if (!req.write(part)) return void req.once('drain', write);
      }
      req.end();
    };
    write();
  });
}

const identity = { apiId: 'local', accountId: '000000000000', defaultHost: '127.0.0.1:3000' };
/** One request with exactly these headers (fetch would not let a test set `Host`); a POST carries `{}`. */
function rawRequest(
  url: string,
  method: string,
  headers: Record<string, string>,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts).toString() }));
    });
    req.on('error', reject);
    req.end(method === 'POST' ? '{}' : undefined);
  });
}

const ok = (value: unknown): InvokeResult => ({ ok: true, value, durationMs: 1, coldStart: false });

describe('buildHttpApiEvent', () => {
  it('passes headers and query parameters named like Object properties as sent, never inherited values', () => {
    const event = buildHttpApiEvent(
      {
        method: 'POST',
        url: '/webhooks/github?constructor=1&__proto__=2&toString=3&toString=4&flag&bad=%E0%A4%A',
        rawHeaders: ['Constructor', 'x', '__proto__', 'y', 'hasOwnProperty', 'z'],
        body: Buffer.from('{}'),
        sourceIp: '127.0.0.1',
        httpVersion: '1.1',
      },
      'github',
      identity,
    );
    const own = (values: Record<string, string | undefined> | undefined, name: string) =>
      values && Object.hasOwn(values, name) ? values[name] : undefined;
    expect(['constructor', '__proto__', 'hasownproperty'].map((name) => own(event.headers, name))).toEqual([
      'x',
      'y',
      'z',
    ]);
    expect(
      ['constructor', '__proto__', 'toString'].map((name) => own(event.queryStringParameters, name)),
    ).toEqual(['1', '2', '3,4']);
    // A parameter without a value, and one whose escape is malformed, arrive as sent rather than failing the request.
    expect([own(event.queryStringParameters, 'flag'), own(event.queryStringParameters, 'bad')]).toEqual([
      '',
      '%E0%A4%A',
    ]);
  });

  it('builds the exact payload format 2.0 event', () => {
    const now = new Date(Date.UTC(2026, 10, 5, 7, 8, 9, 123));
    const event = buildHttpApiEvent(
      {
        method: 'POST',
        url: '/webhooks/github?a=1&b=x%20y&a=2',
        rawHeaders: [
          'Host',
          'hooks.example.com:3000',
          'Content-Type',
          'application/json',
          'X-Multi',
          'one',
          'x-multi',
          'two',
          'Cookie',
          'c1=v1; c2=v2',
          'User-Agent',
          'GitHub-Hookshot/abc',
        ],
        body: Buffer.from('{"zen":"hi"}'),
        sourceIp: '127.0.0.1',
        httpVersion: '1.1',
      },
      'github',
      identity,
      now,
      'req-1',
    );
    expect(event).toEqual({
      version: '2.0',
      routeKey: 'ANY /webhooks/{source}',
      rawPath: '/webhooks/github',
      rawQueryString: 'a=1&b=x%20y&a=2',
      cookies: ['c1=v1', 'c2=v2'],
      headers: {
        host: 'hooks.example.com:3000',
        'content-type': 'application/json',
        'x-multi': 'one,two',
        'user-agent': 'GitHub-Hookshot/abc',
        'x-forwarded-proto': 'http',
      },
      queryStringParameters: { a: '1,2', b: 'x y' },
      requestContext: {
        accountId: '000000000000',
        apiId: 'local',
        domainName: 'hooks.example.com:3000',
        domainPrefix: 'hooks',
        http: {
          method: 'POST',
          path: '/webhooks/github',
          protocol: 'HTTP/1.1',
          sourceIp: '127.0.0.1',
          userAgent: 'GitHub-Hookshot/abc',
        },
        requestId: 'req-1',
        routeKey: 'ANY /webhooks/{source}',
        stage: '$default',
        time: '05/Nov/2026:07:08:09 +0000',
        timeEpoch: now.getTime(),
      },
      pathParameters: { source: 'github' },
      body: '{"zen":"hi"}',
      isBase64Encoded: false,
    });
  });

  it('base64-encodes binary and form bodies, and omits body, cookies and query when absent', () => {
    const bytes = Buffer.from([0, 255, 1, 2]);
    const binary = buildHttpApiEvent(
      {
        method: 'POST',
        url: '/webhooks/x',
        rawHeaders: ['content-type', 'application/octet-stream'],
        body: bytes,
        sourceIp: '::1',
        httpVersion: '1.1',
      },
      'x',
      identity,
    );
    expect(binary).toMatchObject({
      body: bytes.toString('base64'),
      isBase64Encoded: true,
      rawQueryString: '',
    });
    expect(binary).not.toHaveProperty('cookies');
    expect(binary).not.toHaveProperty('queryStringParameters');
    const empty = buildHttpApiEvent(
      {
        method: 'POST',
        url: '/webhooks/x',
        rawHeaders: [],
        body: Buffer.alloc(0),
        sourceIp: '::1',
        httpVersion: '1.1',
      },
      'x',
      identity,
    );
    expect(empty).not.toHaveProperty('body');
    expect(empty.isBase64Encoded).toBe(false);
    expect(empty.requestContext.domainName).toBe('127.0.0.1:3000');
    // As API Gateway tells the function the scheme it served (https there), whatever the client sent.
    expect(empty.headers['x-forwarded-proto']).toBe('http');
  });

  // The split HTTP API makes, as ministack measured it against a real HTTP API (ministackorg/ministack#766): text
  // only for text/* and three application types; a +json or +xml vendor type is base64 like any other.
  it.each([
    ['application/json', true],
    ['application/json; charset=utf-8', true],
    ['Application/JSON', true],
    ['text/plain', true],
    ['text/csv; charset=latin1', true],
    ['application/xml', true],
    ['application/javascript', true],
    ['application/vnd.api+json', false],
    ['application/cloudevents+json', false],
    ['application/atom+xml', false],
    ['application/json-seq', false],
    ['application/x-www-form-urlencoded', false],
    ['application/octet-stream', false],
    ['image/png', false],
    // Only the media type counts, not a parameter naming another type.
    ['multipart/related; type="application/json"', false],
    ['', false],
    [undefined, false],
  ])('content type %s is text: %s', (contentType, text) => {
    expect(isTextContentType(contentType)).toBe(text);
  });

  it('hands a vendor +json body over base64, so its bytes reach the function exact even when not UTF-8', () => {
    const bytes = Buffer.from([0x7b, 0x22, 0x6e, 0x22, 0x3a, 0x22, 0xe9, 0xff, 0x22, 0x7d]); // {"n":"\xe9\xff"}
    const event = buildHttpApiEvent(
      {
        method: 'POST',
        url: '/webhooks/x',
        rawHeaders: ['content-type', 'application/vnd.api+json'],
        body: bytes,
        sourceIp: '::1',
        httpVersion: '1.1',
      },
      'x',
      identity,
    );
    expect(event.isBase64Encoded).toBe(true);
    expect(Buffer.from(event.body ?? '', 'base64').equals(bytes)).toBe(true);
  });

  it('formats requestContext.time like API Gateway', () => {
    expect(requestTime(new Date(Date.UTC(2026, 0, 2, 3, 4, 5)))).toBe('02/Jan/2026:03:04:05 +0000');
    const months = Array.from({ length: 12 }, (_, m) =>
      requestTime(new Date(Date.UTC(2026, m, 1))).slice(3, 6),
    );
    expect(months.join(' ')).toBe('Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec');
  });
});

describe('toHttpResponse', () => {
  it('maps a structured result, decoding a base64 body and passing cookies', () => {
    const response = toHttpResponse(
      ok({
        statusCode: 202,
        headers: { 'Content-Type': 'application/json', 'X-Count': 2 },
        cookies: ['a=b'],
        body: Buffer.from('{"id":"1"}').toString('base64'),
        isBase64Encoded: true,
      }),
    );
    expect(response).toEqual({
      statusCode: 202,
      headers: { 'content-type': 'application/json', 'x-count': '2' },
      cookies: ['a=b'],
      body: Buffer.from('{"id":"1"}'),
    });
  });

  it('infers a 200 JSON response from a plain value, and answers 500 for a function error', () => {
    expect(toHttpResponse(ok({ hello: 'world' }))).toMatchObject({
      statusCode: 200,
      body: Buffer.from('{"hello":"world"}'),
    });
    const failed = toHttpResponse({
      ok: false,
      kind: 'timeout',
      error: { errorType: 'Sandbox.Timedout', errorMessage: 'Task timed out' },
      durationMs: 1,
      coldStart: false,
    });
    expect(failed.statusCode).toBe(500);
    expect(JSON.parse(failed.body.toString())).toEqual({ message: 'Internal Server Error' });
  });
});

describe('startHttpApi', () => {
  let api: HttpApi;
  const invoked: unknown[] = [];
  let paused = false;
  let queuesFail = false;
  let flush: 'flushed' | 'off' | 'fails' = 'flushed';
  const journal = new EventJournal();

  beforeAll(async () => {
    api = await startHttpApi({
      port: 0,
      invokeIngest: async (event) => {
        invoked.push(event);
        return ok({
          statusCode: 202,
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ source: event.pathParameters?.source }),
        });
      },
      control: {
        status: () => ({ ok: true }),
        setConsumerEnabled: (name, enabled) => {
          if (name !== 'events') return undefined;
          paused = !enabled;
          return enabled ? 'Enabled' : 'Disabled';
        },
        events: (after, limit) => journal.after(after, limit),
        flushArchive: async () => {
          if (flush === 'fails') throw new Error('2 records could not be written');
          return flush === 'flushed';
        },
        queues: async () => {
          if (queuesFail) throw new Error('emulator stopped');
          return [{ queue: 'events', visible: 3 }];
        },
      },
    });
  });
  afterAll(async () => {
    await api?.close();
  });

  it('invokes the ingest for POST /webhooks/{source} and returns its response', async () => {
    const response = await fetch(`${api.url}/webhooks/stripe?x=1`, {
      method: 'POST',
      body: 'hello',
      headers: { 'content-type': 'text/plain' },
    });
    expect(response.status).toBe(202);
    expect(await response.json()).toEqual({ source: 'stripe' });
    // As API Gateway answers: the response names the request id the function's event carries.
    const event = invoked.at(-1) as { requestContext: { requestId: string } };
    expect(response.headers.get('apigw-requestid')).toBe(event.requestContext.requestId);
    expect(invoked.at(-1)).toMatchObject({
      rawPath: '/webhooks/stripe',
      rawQueryString: 'x=1',
      body: 'hello',
      isBase64Encoded: false,
    });
  });

  it('hands every method on /webhooks/{source} to the ingest, as the ANY route of the stack does', async () => {
    const before = invoked.length;
    const response = await fetch(`${api.url}/webhooks/github`, { method: 'GET' });
    expect(response.status).toBe(202);
    expect(invoked.length).toBe(before + 1);
    expect(invoked.at(-1)).toMatchObject({
      routeKey: 'ANY /webhooks/{source}',
      requestContext: { http: { method: 'GET', path: '/webhooks/github' } },
    });
  });

  it('answers API Gateway 404 for other routes without invoking', async () => {
    const before = invoked.length;
    for (const [method, path] of [
      ['POST', '/other'],
      ['GET', '/webhooks'],
      ['POST', '/webhooks/a/b'],
      ['POST', '/x/webhooks/github'],
      ['POST', '/_hookline/consumers/events/pause/now'],
    ] as const) {
      const response = await fetch(`${api.url}${path}`, { method });
      expect(response.status).toBe(404);
      expect(await response.json()).toEqual({ message: 'Not Found' });
    }
    expect(invoked.length).toBe(before);
  });

  it('answers 413 above 10 MB without invoking', async () => {
    const before = invoked.length;
    const response = await fetch(`${api.url}/webhooks/github`, {
      method: 'POST',
      body: Buffer.alloc(MAX_REQUEST_BYTES + 1, 97),
    });
    expect(response.status).toBe(413);
    expect(await response.json()).toEqual({ message: 'Request Entity Too Large' });
    expect(invoked.length).toBe(before);
  });

  it('answers 413 like AWS when the event would exceed the Lambda request limit, without invoking', async () => {
    const before = invoked.length;
    // 7 MB of text: under API Gateway's 10 MB, over Lambda's 6 MiB event.
    const response = await fetch(`${api.url}/webhooks/github`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: `"${'a'.repeat(7_000_000)}"`,
    });
    expect(response.status).toBe(413);
    expect(await response.json()).toEqual({ message: 'Request Entity Too Large' });
    expect(invoked.length).toBe(before);
    // The largest accepted body still reaches the function base64-encoded.
    const largest = await fetch(`${api.url}/webhooks/github`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body: Buffer.alloc(MAX_WEBHOOK_BODY_BYTES, 97),
    });
    expect(largest.status).toBe(202);
    expect(invoked.length).toBe(before + 1);
  });

  it('measures a text body escaped, as the event carries it: typical JSON fits, a body of quotes does not', async () => {
    const before = invoked.length;
    // Every character escapes to two bytes: 3.2 MB of body is a 6.4 MB event.
    const quotes = await fetch(`${api.url}/webhooks/github`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: `"${'\\"'.repeat(1_600_000)}"`,
    });
    expect(quotes.status).toBe(413);
    expect(invoked.length).toBe(before);
    // Two quotes in ten characters escape to 20 % more: a body near the limit still reaches the function.
    const typical = await fetch(`${api.url}/webhooks/github`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: `[${'"abcdefg",'.repeat(Math.floor((MAX_WEBHOOK_BODY_BYTES - 100) / 10))}0]`,
    });
    expect(typical.status).toBe(202);
    expect(invoked.length).toBe(before + 1);
  });

  it('lets a client that streams a too-large body read the 413 (no reset)', async () => {
    for (const total of [7 * 1024 * 1024, MAX_REQUEST_BYTES + 1024 * 1024]) {
      const before = invoked.length;
      const result = await streamedPost(`${api.url}/webhooks/github`, total);
      expect(result).toEqual({ status: 413, body: { message: 'Request Entity Too Large' } });
      expect(invoked.length).toBe(before);
    }
  });

  it('never invokes the function with the part of a body a client sent before it disconnected', async () => {
    const before = invoked.length;
    const { host } = new URL(api.url);
    await new Promise<void>((resolve, reject) => {
      const socket = connect(api.port, '127.0.0.1', () => {
        socket.write(
          `POST /webhooks/open HTTP/1.1\r\nHost: ${host}\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{"half":`,
        );
        // Gone before the rest of the declared body: API Gateway never hands such a request to the function.
        setTimeout(() => socket.destroy(), 100);
      });
      socket.on('close', () => resolve());
      socket.on('error', reject);
    });
    // Whatever the server does with the cut request happens in the moments after the close.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(invoked.length).toBe(before);
  });

  it('answers 413 to a client that keeps sending past 64 MB, then disconnects it', async () => {
    const total = 100 * 1024 * 1024;
    const before = invoked.length;
    const { status, sent } = await new Promise<{ status: number; sent: number }>((resolve) => {
      let status = 0;
      let sent = 0;
      const req = request(`${api.url}/webhooks/github`, {
        method: 'POST',
        headers: { 'content-type': 'application/octet-stream', 'content-length': String(total) },
      });
      req.on('response', (res) => {
        status = res.statusCode ?? 0;
        res.resume();
      });
      // The cut shows as a reset or a broken pipe while this client is still writing.
      req.on('error', () => {});
      req.on('close', () => resolve({ status, sent }));
      const chunk = Buffer.alloc(1024 * 1024, 97);
      const write = () => {
        while (sent < total && !req.destroyed) {
          sent += chunk.length;
          if (!req.write(chunk)) return void req.once('drain', write);
        }
        if (!req.destroyed) req.end();
      };
      write();
    });
    expect(status).toBe(413);
    expect(sent).toBeLessThan(total);
    expect(invoked.length).toBe(before);
  });

  it('throttles like the API stage: a full bucket takes burstLimit requests, the rest get 429', async () => {
    const throttled = await startHttpApi({
      port: 0,
      throttle: { rateLimit: 1, burstLimit: 3 },
      invokeIngest: async () => ok({ statusCode: 202, body: '{}' }),
    });
    try {
      const responses = await Promise.all(
        Array.from({ length: 6 }, () =>
          fetch(`${throttled.url}/webhooks/github`, { method: 'POST', body: 'x' }),
        ),
      );
      const statuses = responses.map((r) => r.status).sort();
      expect(statuses).toEqual([202, 202, 202, 429, 429, 429]);
      const refused = responses.find((r) => r.status === 429);
      expect(await refused?.json()).toEqual({ message: 'Too Many Requests' });
    } finally {
      await throttled.close();
    }
  });

  it('serves the control API', async () => {
    expect(await (await fetch(`${api.url}/_hookline/status`)).json()).toEqual({ ok: true });
    const pause = await fetch(`${api.url}/_hookline/consumers/events/pause`, { method: 'POST' });
    expect(await pause.json()).toEqual({ consumer: 'events', state: 'Disabled' });
    expect(paused).toBe(true);
    const resume = await fetch(`${api.url}/_hookline/consumers/events/resume`, { method: 'POST' });
    expect(await resume.json()).toEqual({ consumer: 'events', state: 'Enabled' });
    const unknown = await fetch(`${api.url}/_hookline/consumers/nope/pause`, { method: 'POST' });
    expect([unknown.status, await unknown.json()]).toEqual([404, { message: 'unknown consumer "nope"' }]);
  });

  it('changes nothing and serves nothing on a control route called with the wrong method', async () => {
    for (const [method, path] of [
      ['GET', '/_hookline/consumers/events/pause'],
      ['POST', '/_hookline/status'],
      ['POST', '/_hookline/events'],
      ['POST', '/_hookline/queues'],
    ] as const) {
      const response = await fetch(`${api.url}${path}`, { method });
      expect([method, path, response.status, await response.json()]).toEqual([
        method,
        path,
        404,
        { message: 'Not Found' },
      ]);
    }
    expect(paused).toBe(false);
  });

  it('has no control routes without a control API: 404, never an error', async () => {
    const bare = await startHttpApi({ port: 0, invokeIngest: async () => ok(null) });
    try {
      for (const [method, path] of [
        ['GET', '/_hookline/status'],
        ['GET', '/_hookline/queues'],
        ['POST', '/_hookline/archive/flush'],
      ] as const) {
        const response = await fetch(`${bare.url}${path}`, { method });
        expect([path, response.status, await response.json()]).toEqual([path, 404, { message: 'Not Found' }]);
      }
    } finally {
      await bare.close();
    }
  });

  it('serves the queue status, and a 503 naming the cause when the emulators cannot answer', async () => {
    const answer = await fetch(`${api.url}/_hookline/queues`);
    expect(answer.status).toBe(200);
    expect(await answer.json()).toEqual({ target: 'local mode', queues: [{ queue: 'events', visible: 3 }] });
    queuesFail = true;
    try {
      const failed = await fetch(`${api.url}/_hookline/queues`);
      expect(failed.status).toBe(503);
      expect(await failed.json()).toEqual({ message: 'Error: emulator stopped' });
    } finally {
      queuesFail = false;
    }
  });

  it('answers the control API on this machine only: a foreign Host, Origin or cross-site page gets 403, webhooks do not', async () => {
    const call = (method: string, path: string, headers: Record<string, string>) =>
      new Promise<number>((resolve, reject) => {
        const req = request(`${api.url}${path}`, { method, headers }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        req.end(method === 'POST' ? 'x' : undefined);
      });
    const own = { host: `127.0.0.1:${api.port}` };
    expect(await call('GET', '/_hookline/status', own)).toBe(200);
    expect(await call('GET', '/_hookline/status', { host: `localhost:${api.port}` })).toBe(200);
    expect(await call('GET', '/_hookline/status', { host: `rebound.example:${api.port}` })).toBe(403);
    expect(await call('GET', '/_hookline/queues', { host: 'tunnel.example' })).toBe(403);
    const page = { ...own, origin: 'https://evil.example' };
    expect(await call('POST', '/_hookline/consumers/events/pause', page)).toBe(403);
    expect(
      await call('POST', '/_hookline/consumers/events/pause', { ...own, 'sec-fetch-site': 'cross-site' }),
    ).toBe(403);
    expect(paused).toBe(false);
    expect(await call('GET', '/_hookline/status', { ...own, origin: `http://127.0.0.1:${api.port}` })).toBe(
      200,
    );
    // A webhook through a tunnel arrives under the tunnel's host, and is taken.
    expect(await call('POST', '/webhooks/github', { host: 'tunnel.example' })).toBe(202);
  });

  it('flushes the archive on POST only: 200 when written, 404 when archiving is off, 503 naming what failed', async () => {
    const post = () => fetch(`${api.url}/_hookline/archive/flush`, { method: 'POST' });
    expect((await fetch(`${api.url}/_hookline/archive/flush`)).status).toBe(404);
    const written = await post();
    expect([written.status, await written.json()]).toEqual([200, { flushed: true }]);
    flush = 'off';
    const off = await post();
    expect([off.status, await off.json()]).toEqual([404, { message: 'archiving is off' }]);
    flush = 'fails';
    const failed = await post();
    expect(failed.status).toBe(503);
    expect(((await failed.json()) as { message: string }).message).toContain(
      '2 records could not be written',
    );
    flush = 'flushed';
  });

  it('serves the recent events after a sequence number', async () => {
    journal.record({ event: 'queued', id: 'a', source: 'github' });
    journal.record({ event: 'processed', id: 'a', queue: 'events' });
    journal.record({ event: 'queued', id: 'b', source: 'github' });
    const all = (await (await fetch(`${api.url}/_hookline/events`)).json()) as {
      events: { id: string; event: string; seq: number }[];
      latest: number;
    };
    expect(all.events.map((e: { id: string; event: string }) => `${e.event}:${e.id}`)).toEqual([
      'queued:a',
      'processed:a',
      'queued:b',
    ]);
    const later = await (
      await fetch(`${api.url}/_hookline/events?after=${all.events[1]?.seq}&limit=5`)
    ).json();
    expect(later).toMatchObject({ latest: all.latest, events: [{ event: 'queued', id: 'b' }] });
    const one = (await (await fetch(`${api.url}/_hookline/events?limit=1`)).json()) as typeof all;
    expect(one.events).toHaveLength(1);
  });

  it('while stopping, answers webhooks and control changes 503 and keeps answering reads until it closes', async () => {
    const journal = new EventJournal();
    journal.record({ event: 'queued', id: 'a' });
    let release: () => void = () => {};
    const slowIngest = new Promise<void>((resolve) => {
      release = resolve;
    });
    let ingestStarted: () => void = () => {};
    const started = new Promise<void>((resolve) => {
      ingestStarted = resolve;
    });
    const reports: WebhookRequestReport[] = [];
    const stopping = await startHttpApi({
      port: 0,
      invokeIngest: async () => {
        ingestStarted();
        await slowIngest;
        return ok({ statusCode: 202, body: '{}' });
      },
      invokeJobs: async () => ok({ statusCode: 202, body: '{}' }),
      onRequest: (report) => reports.push(report),
      control: {
        status: () => ({ ok: true }),
        setConsumerEnabled: () => 'Disabled',
        events: (after, limit, follower) => journal.after(after, limit, follower),
      },
    });
    try {
      const inFlight = fetch(`${stopping.url}/webhooks/github`, { method: 'POST', body: '{}' });
      await started;
      let refused = false;
      const refusing = stopping.refuseRequests().then(() => {
        refused = true;
      });
      const late = await fetch(`${stopping.url}/webhooks/github`, { method: 'POST', body: '{}' });
      expect([late.status, await late.json()]).toEqual([503, { message: STOPPING_MESSAGE }]);
      const job = await fetch(`${stopping.url}/jobs/reports`, { method: 'POST', body: '{}' });
      expect([job.status, await job.json()]).toEqual([503, { message: STOPPING_MESSAGE }]);
      // The terminal and the journal say why it was refused.
      expect(reports.map((r) => [r.statusCode, r.error])).toEqual([
        [503, STOPPING_MESSAGE],
        [503, STOPPING_MESSAGE],
      ]);
      const pause = await fetch(`${stopping.url}/_hookline/consumers/events/pause`, { method: 'POST' });
      expect([pause.status, await pause.json()]).toEqual([503, { message: STOPPING_MESSAGE }]);
      // The webhook it took before the stop is still being handled: the refusal waits for it.
      expect(refused).toBe(false);
      release();
      expect((await inFlight).status).toBe(202);
      await refusing;
      const page = await (await fetch(`${stopping.url}/_hookline/events?after=0&follower=c1`)).json();
      expect(page).toMatchObject({ latest: 1, run: journal.run, events: [{ event: 'queued', id: 'a' }] });
      expect((await fetch(`${stopping.url}/_hookline/status`)).status).toBe(200);
    } finally {
      release();
      await stopping.close();
    }
    await expect(fetch(`${stopping.url}/_hookline/status`)).rejects.toThrow();
  });

  it('reports a taken port with a port that was free when it looked, skipping the next one when that is taken too', async () => {
    const next = createServer();
    await new Promise<void>((resolve, reject) => {
      next.once('error', reject);
      next.listen(api.port + 1, '127.0.0.1', resolve);
    });
    try {
      const refused = await startHttpApi({ port: api.port, invokeIngest: async () => ok(null) }).catch(
        (e) => e,
      );
      expect(refused).toBeInstanceOf(PortInUseError);
      expect(refused.freePort).toBeGreaterThan(api.port + 1);
      // The port's holder is this process, which the system names where it can (Linux's /proc).
      const holder = existsSync('/proc/net/tcp') ? ` by pid ${process.pid} \\(.+\\)` : '';
      expect(refused.message).toMatch(
        new RegExp(
          `^port ${api.port} is in use${holder}: set PORT=${refused.freePort} npm start \\(free when this was checked\\)$`,
        ),
      );
      const suggested = await startHttpApi({ port: refused.freePort, invokeIngest: async () => ok(null) });
      await suggested.close();
    } finally {
      await new Promise((resolve) => next.close(resolve));
    }
    expect(new PortInUseError(3000).message).toBe(
      'port 3000 is in use, and so are the next 10: set PORT to a free port (PORT=N npm start)',
    );
  });
});

describe('the jobs route (POST /jobs/{queue})', () => {
  it('hands POST to the jobs function with its own route key and queue, and answers 404 to other methods without invoking', async () => {
    const jobs: { routeKey: string; pathParameters?: Record<string, string | undefined> }[] = [];
    const ingest: unknown[] = [];
    const api = await startHttpApi({
      port: 0,
      invokeIngest: async (event) => {
        ingest.push(event);
        return ok({ statusCode: 202, body: '' });
      },
      invokeJobs: async (event) => {
        jobs.push(event);
        return ok({ statusCode: 202, body: '' });
      },
    });
    try {
      expect((await fetch(`${api.url}/jobs/reports`, { method: 'POST', body: '{}' })).status).toBe(202);
      expect(jobs).toMatchObject([
        {
          routeKey: 'POST /jobs/{queue}',
          pathParameters: { queue: 'reports' },
          requestContext: { routeKey: 'POST /jobs/{queue}' },
        },
      ]);
      for (const method of ['GET', 'PUT', 'DELETE']) {
        const response = await fetch(`${api.url}/jobs/reports`, { method });
        expect(response.status).toBe(404);
        expect(await response.json()).toEqual({ message: 'Not Found' });
      }
      for (const path of ['/jobs/reports/extra', '/x/jobs/reports']) {
        expect((await fetch(`${api.url}${path}`, { method: 'POST', body: '{}' })).status).toBe(404);
      }
      expect(jobs).toHaveLength(1);
      expect(ingest).toEqual([]);
    } finally {
      await api.close();
    }
  });

  it('does not exist without a jobs endpoint: 404 without invoking', async () => {
    const ingest: unknown[] = [];
    const api = await startHttpApi({
      port: 0,
      invokeIngest: async (event) => {
        ingest.push(event);
        return ok(null);
      },
    });
    try {
      const response = await fetch(`${api.url}/jobs/reports`, { method: 'POST', body: '{}' });
      expect(response.status).toBe(404);
      expect(ingest).toEqual([]);
    } finally {
      await api.close();
    }
  });
});

describe('what the operator and the client see of each request', () => {
  it('answers a value without a statusCode as a 200 JSON body, and a statusCode that is not a number as 500', () => {
    expect(toHttpResponse(ok(42))).toEqual({
      statusCode: 200,
      headers: { 'content-type': 'application/json' },
      cookies: [],
      body: Buffer.from('42'),
    });
    expect(toHttpResponse(ok({ statusCode: 204 }))).toEqual({
      statusCode: 204,
      headers: {},
      cookies: [],
      body: Buffer.alloc(0),
    });
    const malformed = toHttpResponse(ok({ statusCode: '202', body: '{"id":"1"}' }));
    expect([malformed.statusCode, JSON.parse(malformed.body.toString())]).toEqual([
      500,
      { message: 'Internal Server Error' },
    ]);
  });

  it('reports each request with its status, size and request id, and whether the function logged the outcome', async () => {
    const reports: WebhookRequestReport[] = [];
    let result: InvokeResult = ok({ statusCode: 202, body: '{}' });
    const api = await startHttpApi({
      port: 0,
      // Four tokens, refilled once a day: the fifth request is throttled however slow the machine.
      throttle: { rateLimit: 1 / 86_400, burstLimit: 4 },
      invokeIngest: async () => result,
      onRequest: (report) => reports.push(report),
    });
    try {
      result = { ...ok({ statusCode: 202, body: '{}' }), outcomeLines: 1 };
      const sent = performance.now();
      const queued = await fetch(`${api.url}/webhooks/github`, { method: 'POST', body: 'abc' });
      const roundTrip = performance.now() - sent;
      result = {
        ok: false,
        kind: 'error',
        error: { errorType: 'TypeError', errorMessage: 'boom' },
        durationMs: 1,
        coldStart: false,
      };
      expect((await fetch(`${api.url}/webhooks/github`, { method: 'POST', body: 'x' })).status).toBe(500);
      const big = await fetch(`${api.url}/webhooks/stripe`, {
        method: 'POST',
        body: Buffer.alloc(MAX_REQUEST_BYTES + 1, 97),
      });
      expect(big.status).toBe(413);
      const bigEvent = await fetch(`${api.url}/webhooks/github`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: `"${'a'.repeat(7_000_000)}"`,
      });
      expect(bigEvent.status).toBe(413);
      expect((await fetch(`${api.url}/webhooks/github`, { method: 'POST', body: 'x' })).status).toBe(429);
      expect(reports).toEqual([
        {
          source: 'github',
          statusCode: 202,
          latencyMs: expect.any(Number),
          bytes: 3,
          requestId: queued.headers.get('apigw-requestid'),
          outcomeLogged: true,
        },
        {
          source: 'github',
          statusCode: 500,
          latencyMs: expect.any(Number),
          bytes: 1,
          requestId: expect.any(String),
          error: 'TypeError: boom',
          outcomeLogged: false,
        },
        { source: 'stripe', statusCode: 413, latencyMs: 0, bytes: MAX_REQUEST_BYTES + 1, requestId: '' },
        {
          source: 'github',
          statusCode: 413,
          latencyMs: 0,
          bytes: 7_000_002,
          requestId: expect.any(String),
        },
        { source: 'github', statusCode: 429, latencyMs: 0, bytes: 0, requestId: '' },
      ]);
      // The latency is the function's share of the round trip the client saw.
      expect(reports[0]?.latencyMs).toBeGreaterThanOrEqual(0);
      expect(reports[0]?.latencyMs).toBeLessThanOrEqual(roundTrip);
    } finally {
      await api.close();
    }
  });

  it("turns the function's cookies into set-cookie headers, and answers API Gateway's own errors as JSON", async () => {
    const api = await startHttpApi({
      port: 0,
      invokeIngest: async () => ok({ statusCode: 200, cookies: ['a=1', 'b=2; Path=/'], body: '' }),
    });
    try {
      const withCookies = await fetch(`${api.url}/webhooks/github`, { method: 'POST', body: 'x' });
      expect(withCookies.headers.getSetCookie()).toEqual(['a=1', 'b=2; Path=/']);
      const notFound = await fetch(`${api.url}/other`);
      expect(notFound.status).toBe(404);
      expect(notFound.headers.get('content-type')).toBe('application/json');
      expect(notFound.headers.getSetCookie()).toEqual([]);
    } finally {
      await api.close();
    }
  });

  it('answers 500 and reports the cause when the function cannot be invoked at all', async () => {
    const reports: WebhookRequestReport[] = [];
    const api = await startHttpApi({
      port: 0,
      invokeIngest: async () => {
        throw new Error('sandbox pool closed');
      },
      onRequest: (report) => reports.push(report),
    });
    try {
      const response = await fetch(`${api.url}/webhooks/github`, { method: 'POST', body: 'x' });
      expect([response.status, await response.json()]).toEqual([500, { message: 'Internal Server Error' }]);
      expect(reports).toEqual([
        { source: '', statusCode: 500, latencyMs: 0, bytes: 0, requestId: '', error: 'sandbox pool closed' },
      ]);
    } finally {
      await api.close();
    }
  });

  it('stops accepting on close, and lets a request in flight finish with its answer first', async () => {
    let release: () => void = () => {};
    const invoking = new Promise<void>((resolve) => {
      release = resolve;
    });
    let started: () => void = () => {};
    const reached = new Promise<void>((resolve) => {
      started = resolve;
    });
    let calls = 0;
    const api = await startHttpApi({
      port: 0,
      invokeIngest: async () => {
        calls += 1;
        if (calls > 1) {
          started();
          await invoking;
        }
        return ok({ statusCode: 202, body: '{}' });
      },
    });
    const before = await fetch(`${api.url}/webhooks/github`, { method: 'POST', body: 'x' });
    expect(before.headers.get('connection')).toBe('keep-alive');
    const pending = fetch(`${api.url}/webhooks/github`, { method: 'POST', body: 'x' });
    await reached;
    expect(api.inFlight).toBe(1);
    let closed = false;
    const closing = api.close().then(() => {
      closed = true;
    });
    await expect(fetch(`${api.url}/other`)).rejects.toThrow();
    expect(closed).toBe(false);
    release();
    const answer = await pending;
    expect(answer.status).toBe(202);
    expect(answer.headers.get('connection')).toBe('close');
    await closing;
    expect(api.inFlight).toBe(0);
  });

  it("names the API as local mode's, its own address standing for a Host the client did not send", async () => {
    const events: { requestContext: { apiId: string; accountId: string; domainName: string } }[] = [];
    const api = await startHttpApi({
      port: 0,
      invokeIngest: async (event) => {
        events.push(event);
        return ok({ statusCode: 202, body: '' });
      },
    });
    try {
      // HTTP/1.0 needs no Host header (node's client always sends one, so speak it by hand).
      const head = await new Promise<string>((resolve, reject) => {
        const socket = connect(api.port, '127.0.0.1', () =>
          socket.end('POST /webhooks/github HTTP/1.0\r\ncontent-length: 1\r\n\r\nx'),
        );
        const parts: Buffer[] = [];
        socket.on('data', (c: Buffer) => parts.push(c));
        socket.on('end', () => resolve(Buffer.concat(parts).toString()));
        socket.on('error', reject);
      });
      const status = Number(head.split(' ')[1]);
      expect(status).toBe(202);
      expect(events[0]?.requestContext).toMatchObject({
        apiId: 'local',
        accountId: '000000000000',
        domainName: `127.0.0.1:${api.port}`,
      });
    } finally {
      await api.close();
    }
  });

  it('answers a pause or resume of a consumer its circuit breaker paused with the record it ended, read before it is cleared', async () => {
    const trip = { trippedAt: '2026-12-02T14:00:00.000Z', failed: 20, ended: 20, windowMinutes: 1 };
    let tripped: typeof trip | undefined = trip;
    const api = await startHttpApi({
      port: 0,
      invokeIngest: async () => ok(null),
      control: {
        status: () => ({}),
        setConsumerEnabled: (_name, enabled) => {
          tripped = undefined;
          return enabled ? 'Enabled' : 'Disabled';
        },
        breakerTrip: () => tripped,
      },
    });
    try {
      const post = async (action: string) =>
        (await fetch(`${api.url}/_hookline/consumers/events/${action}`, { method: 'POST' })).json();
      expect(await post('resume')).toEqual({
        consumer: 'events',
        state: 'Enabled',
        clearedCircuitBreaker: trip,
      });
      expect(await post('resume')).toEqual({ consumer: 'events', state: 'Enabled' });
      tripped = trip;
      expect(await post('pause')).toEqual({
        consumer: 'events',
        state: 'Disabled',
        clearedCircuitBreaker: trip,
      });
      expect(await post('pause')).toEqual({ consumer: 'events', state: 'Disabled' });
    } finally {
      await api.close();
    }
  });

  it('tells a foreign caller of the control API why it is refused', async () => {
    const api = await startHttpApi({
      port: 0,
      invokeIngest: async () => ok(null),
      control: { status: () => ({}), setConsumerEnabled: () => 'Enabled' },
    });
    try {
      const answer = await rawRequest(`${api.url}/_hookline/status`, 'GET', {
        host: `rebound.example:${api.port}`,
      });
      expect(answer.status).toBe(403);
      expect(JSON.parse(answer.body)).toEqual({
        message: "local mode's control API answers only to its loopback address",
      });
    } finally {
      await api.close();
    }
  });

  it.each([
    ['x-forwarded-for', '203.0.113.9'],
    ['forwarded', 'for=203.0.113.9;proto=https'],
    ['x-forwarded-host', 'abc.ngrok.app'],
    ['x-real-ip', '203.0.113.9'],
  ])(
    'refuses the control API to a tunnel that rewrote Host to localhost (%s), and still takes its webhooks',
    async (name, value) => {
      const api = await startHttpApi({
        port: 0,
        invokeIngest: async () => ok({ statusCode: 202, body: '{}' }),
        control: { status: () => ({ secret: 'state' }), setConsumerEnabled: () => 'Enabled' },
      });
      const call = (method: string, path: string) =>
        rawRequest(`${api.url}${path}`, method, { host: `localhost:${api.port}`, [name]: value });
      try {
        const control = await call('GET', '/_hookline/status');
        expect(control.status).toBe(403);
        expect(JSON.parse(control.body)).toEqual({
          message: `local mode's control API answers only to callers on this machine, not through a proxy or tunnel (the request carries ${name})`,
        });
        expect((await call('POST', '/_hookline/consumers/events/pause')).status).toBe(403);
        expect((await call('POST', '/webhooks/github')).status).toBe(202);
      } finally {
        await api.close();
      }
    },
  );

  it('passes a listen error other than a taken port through, rather than blaming the port', async () => {
    const server = createServer();
    const error = await listenOrPortInUse(server, 0, '192.0.2.1').catch((e: unknown) => e);
    expect(error).not.toBeInstanceOf(PortInUseError);
    expect((error as NodeJS.ErrnoException).code).toBe('EADDRNOTAVAIL');
  });
});
