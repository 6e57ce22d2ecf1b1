/**
 * The console's HTTP API over real HTTP (the SDK clients mocked): what it refuses as the caller's error, before
 * anything runs.
 */
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import exampleConfig from '../../hookline.config';
import { resolveConfig } from '../../lib/config';
import { unavailableFeed } from '../../lib/console/feed';
import { ConsoleOperations } from '../../lib/console/operations';
import { type ConsoleServer, startConsoleServer } from '../../lib/console/server';
import { mockCommandClients, stackTarget, testBackend } from '../cli/helpers';

const clients = mockCommandClients();
const token = 'test-token';
let server: ConsoleServer;
let operations: ConsoleOperations;

beforeAll(async () => {
  operations = new ConsoleOperations({
    backend: testBackend(),
    target: stackTarget(),
    config: resolveConfig(exampleConfig),
    feed: unavailableFeed('no feed for a deployed stack'),
  });
  server = await startConsoleServer({
    operations,
    assets: { js: Buffer.from(''), css: Buffer.from('') },
    token,
  });
});

afterAll(() => server.close());

async function call(method: 'GET' | 'POST', path: string, body?: unknown) {
  const answer = await fetch(`http://127.0.0.1:${server.port}${path}`, {
    method,
    headers: { 'x-hookline-token': token, 'content-type': 'application/json' },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return { status: answer.status, body: (await answer.json()) as { error?: string } };
}

describe('console API', () => {
  it('refuses a redrive selector of the wrong shape instead of redriving everything', async () => {
    for (const [body, message] of [
      [{ ids: 'evt-1' }, 'ids must be a list of event ids (strings): nothing was redriven'],
      [{ ids: ['evt-1', 7] }, 'ids must be a list of event ids (strings): nothing was redriven'],
      [{ type: 5 }, 'type must be a type pattern (a string) such as "invoice.*": nothing was redriven'],
    ] as const) {
      expect(await call('POST', '/api/queues/events/redrive', body)).toEqual({
        status: 400,
        body: { error: message },
      });
    }
    expect(operations.jobs.list()).toEqual([]);
    expect(clients.sqs.commandCalls(ReceiveMessageCommand)).toHaveLength(0);
  });

  it('answers a fault of what it reads (AWS throttling, local mode stopped) 503, and a request it refuses 400', async () => {
    const throttled = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
    clients.sqs.onAnyCommand().rejects(throttled);
    const fault = await call('GET', '/api/failures/events');
    expect(fault.status).toBe(503);
    expect(fault.body.error).toMatch(/^AWS throttled the request \(ThrottlingException\)/);

    const unknownQueue = await call('GET', '/api/failures/no-such-queue');
    expect(unknownQueue.status).toBe(400);
    expect(unknownQueue.body.error).toMatch(/no-such-queue/);
  });

  it('answers a path with malformed percent-encoding as the caller error it is', async () => {
    expect(await call('GET', '/api/events/%E0%A4%A')).toEqual({
      status: 400,
      body: { error: 'the path has malformed percent-encoding: %E0%A4%A' },
    });
  });

  it('answers every request, let in or refused, uncached, unframeable, without a referrer and with a self-only content policy', async () => {
    const page = await fetch(`http://127.0.0.1:${server.port}/`, { headers: { 'x-hookline-token': token } });
    const refused = await fetch(`http://127.0.0.1:${server.port}/api/overview`);
    expect([page.status, refused.status]).toEqual([200, 401]);
    for (const answer of [page, refused]) {
      // The page's first URL carries the token: a cache, a referrer or a framing page would leak or misuse it.
      expect(answer.headers.get('cache-control')).toBe('no-store');
      expect(answer.headers.get('referrer-policy')).toBe('no-referrer');
      expect(answer.headers.get('x-frame-options')).toBe('DENY');
      expect(answer.headers.get('x-content-type-options')).toBe('nosniff');
      expect(answer.headers.get('cross-origin-resource-policy')).toBe('same-origin');
      expect(answer.headers.get('content-security-policy')).toBe(
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
      );
    }
  });
});
