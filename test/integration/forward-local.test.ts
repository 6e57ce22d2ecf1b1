/**
 * The forwarding consumer in local mode, against a real HTTP server on 127.0.0.1: a GitHub webhook arrives byte for
 * byte with a Standard Webhooks signature hookline's own verifier accepts (with the secret the real CLI prints);
 * 503s are retried until delivered, once, under one webhook-id; a 429's Retry-After holds the retry back; a 404
 * is dead-lettered with its reason (the real `hookline failed list`); a destination that hangs past the attempt
 * timeout is retried; a job sent by the real producer is forwarded as its JSON payload.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Duration } from 'aws-cdk-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as z from 'zod';
import { verifyRequest } from '../../lambda/ingest/verify';
import { createProducer } from '../../lambda/producer';
import type { SourceRuntimeConfig } from '../../lambda/shared/ingest-config';
import { defineJob } from '../../lambda/shared/job';
import { runHooklineInProcess } from '../helpers/local/cli';
import { startTestPipeline, type TestPipeline, testConfig } from '../helpers/local/pipeline';

interface Received {
  readonly at: number;
  readonly headers: Record<string, string>;
  readonly body: Buffer;
}

/** What the destination answers the n-th request (0-based) of an event, by the event id's first word. */
type Script = (
  n: number,
  request: IncomingMessage,
) => { status: number; headers?: Record<string, string>; body?: string; hangMs?: number };

const SCRIPTS: Record<string, Script> = {
  ok: () => ({ status: 204 }),
  flaky: (n) => (n < 2 ? { status: 503, body: 'warming up' } : { status: 200 }),
  busy: (n) =>
    n < 1 ? { status: 429, headers: { 'retry-after': '2' }, body: 'slow down' } : { status: 200 },
  gone: () => ({ status: 404, body: 'No such hook.\nBye.' }),
  slow: (n) => (n < 1 ? { status: 200, hangMs: 2_500 } : { status: 200 }),
};

const STANDARD_WEBHOOKS = { type: 'standard-webhooks', secretId: 'x' } as SourceRuntimeConfig;

describe('local mode: forwarding each event to an HTTP endpoint', () => {
  let server: Server;
  let destination: string;
  const received = new Map<string, Received[]>();
  let pipeline: TestPipeline;
  let stateDir: string;

  beforeAll(async () => {
    server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const id = String(request.headers['webhook-id'] ?? '');
        const list = received.get(id) ?? [];
        list.push({
          at: Date.now(),
          headers: request.headers as Record<string, string>,
          body: Buffer.concat(chunks),
        });
        received.set(id, list);
        const script = SCRIPTS[id.split('-')[0] ?? ''] ?? SCRIPTS.ok;
        const answer = (script as Script)(list.length - 1, request);
        const send = () => {
          if (response.destroyed) return;
          response.writeHead(answer.status, answer.headers);
          response.end(answer.body);
        };
        if (answer.hangMs) setTimeout(send, answer.hangMs);
        else send();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    destination = `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/hookline`;
    stateDir = mkdtempSync(join(tmpdir(), 'hookline-forward-state-'));
    pipeline = await startTestPipeline(
      testConfig({
        events: {
          maxReceiveCount: 4,
          consumer: {
            forward: {
              url: 'https://app.example.com/webhooks/hookline',
              localUrl: destination,
              timeout: Duration.seconds(1),
            },
            timeout: Duration.seconds(5),
            retry: { base: Duration.seconds(1), factor: 1, max: Duration.seconds(1) },
          },
        },
      }),
      { stateDir },
    );
  }, 60_000);

  afterAll(async () => {
    await pipeline?.stop();
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
    rmSync(stateDir, { recursive: true, force: true });
  }, 60_000);

  const requestsOf = (id: string) => received.get(id) ?? [];

  it('says where it forwards and how to read the secret, which the real CLI prints', async () => {
    const lines = pipeline.output.map((line) => (JSON.parse(line) as { message?: string }).message ?? '');
    expect(lines).toContainEqual(
      expect.stringMatching(
        new RegExp(
          `^consumer events forwards each event to ${destination.replaceAll('.', '\\.')} \\(Standard Webhooks; signing secret: hookline forward secret events --local`,
        ),
      ),
    );
    const printed = await runHooklineInProcess(stateDir, [
      'forward',
      'secret',
      'events',
      '--local',
      '--json',
    ]);
    expect(printed.code, printed.stderr).toBe(0);
    expect(JSON.parse(printed.stdout)).toMatchObject({
      queue: 'events',
      url: destination,
      secret: expect.stringMatching(/^whsec_[A-Za-z0-9+/]{43}=$/),
    });
  });

  it('forwards a GitHub webhook byte for byte, signed so that a hookline ingest would accept it', async () => {
    const body = '{"ref":"refs/heads/main",\n  "commits": [ ],  "note":"spacing kept"}';
    const delivery = `ok-${process.pid}`;
    const posted = await pipeline.post('github', body, {
      'x-github-event': 'push',
      'x-github-delivery': delivery,
    });
    expect(posted.status).toBe(202);
    await pipeline.waitFor(() => requestsOf(delivery).length === 1, 15_000, 'the forwarded request');

    const [request] = requestsOf(delivery);
    expect(request?.body.toString('utf8')).toBe(body);
    expect(request?.headers).toMatchObject({
      'content-type': 'application/json',
      'webhook-id': delivery,
      'hookline-source': 'github',
      'hookline-type': 'push',
      'hookline-attempt': '1',
      'x-github-event': 'push',
    });
    expect(request?.headers).not.toHaveProperty('x-hub-signature-256');
    const { secret } = JSON.parse(
      (await runHooklineInProcess(stateDir, ['forward', 'secret', 'events', '--local', '--json'])).stdout,
    );
    const verdict = verifyRequest(
      STANDARD_WEBHOOKS,
      { headers: request?.headers ?? {}, body: request?.body ?? Buffer.alloc(0), url: destination },
      [secret],
      Date.now(),
    );
    expect(verdict).toStrictEqual({ ok: true });
  }, 30_000);

  it('retries a destination answering 503 twice and delivers once, under the same webhook-id', async () => {
    const id = `flaky-${process.pid}`;
    expect((await pipeline.post('generic', { id, type: 'order.paid' })).status).toBe(202);
    await pipeline.waitFor(() => requestsOf(id).length === 3, 20_000, 'two 503s and a 200');
    await pipeline.settled('events', 15_000);

    const requests = requestsOf(id);
    expect(requests).toHaveLength(3);
    expect(requests.map((r) => r.headers['webhook-id'])).toStrictEqual([id, id, id]);
    expect(requests.map((r) => r.headers['hookline-attempt'])).toStrictEqual(['1', '2', '3']);
  }, 40_000);

  it('does not retry a 429 before its Retry-After (2 s, over a 1 s backoff)', async () => {
    const id = `busy-${process.pid}`;
    expect((await pipeline.post('generic', { id, type: 'order.paid' })).status).toBe(202);
    await pipeline.waitFor(() => requestsOf(id).length === 2, 20_000, 'the retry after the 429');

    const [first, second] = requestsOf(id);
    expect((second?.at ?? 0) - (first?.at ?? 0)).toBeGreaterThanOrEqual(2_000);
  }, 30_000);

  it('dead-letters a 404 at once with its reason, as the real hookline failed list shows it', async () => {
    const id = `gone-${process.pid}`;
    expect((await pipeline.post('generic', { id, type: 'order.paid' })).status).toBe(202);
    await pipeline.waitFor(
      () => pipeline.events.some((e) => e.event === 'dead-lettered' && (e as { id?: string }).id === id),
      20_000,
      'the dead letter',
    );

    const listed = await runHooklineInProcess(stateDir, ['failed', 'list', 'events', '--local', '--json']);
    expect(listed.code, listed.stderr).toBe(0);
    const letter = JSON.parse(listed.stdout).messages.find((m: { id?: string }) => m.id === id);
    expect(JSON.stringify(letter)).toContain(`PermanentError: HTTP 404 Not Found from 127.0.0.1:`);
    expect(JSON.stringify(letter)).toContain('No such hook. Bye.');
    expect(requestsOf(id)).toHaveLength(1);
  }, 40_000);

  it("forwards a job sent by the real producer as its JSON payload, and records the destination's refusal on the job", async () => {
    const stateFile = join(stateDir, 'producer-local.json');
    writeFileSync(stateFile, JSON.stringify(pipeline.local.status()));
    const producer = createProducer({ local: stateFile, baseDelayMs: 20 });
    const syncInvoice = defineJob('invoice.sync', z.object({ invoice: z.string() }), { queue: 'events' });
    const ok = `ok-job-${process.pid}`;
    const gone = `gone-job-${process.pid}`;
    await producer.send(syncInvoice, { invoice: 'in_1' }, { id: ok });
    await producer.send(syncInvoice, { invoice: 'in_2' }, { id: gone });

    await expect(producer.waitFor(ok, { timeout: { seconds: 20 } })).resolves.toMatchObject({
      state: 'completed',
    });
    const [delivered] = requestsOf(ok);
    expect(JSON.parse(delivered?.body.toString('utf8') ?? '')).toStrictEqual({ invoice: 'in_1' });
    expect(delivered?.headers['content-type']).toBe('application/json');
    expect(delivered?.headers['hookline-source']).toBe('job');
    expect(delivered?.headers['hookline-type']).toBe('invoice.sync');

    const refused = await producer.waitFor(gone, { timeout: { seconds: 20 } });
    expect(refused).toMatchObject({ state: 'dead-lettered' });
    expect((refused as { reason?: string }).reason).toMatch(
      /^PermanentError: HTTP 404 Not Found from 127\.0\.0\.1:/,
    );
  }, 40_000);

  it('aborts an attempt that hangs past the timeout and retries it', async () => {
    const id = `slow-${process.pid}`;
    expect((await pipeline.post('generic', { id, type: 'order.paid' })).status).toBe(202);
    await pipeline.waitFor(() => requestsOf(id).length === 2, 20_000, 'the retry after the timeout');
    await pipeline.settled('events', 15_000);

    expect(requestsOf(id)).toHaveLength(2);
    expect(pipeline.events.some((e) => e.event === 'dead-lettered' && (e as { id?: string }).id === id)).toBe(
      false,
    );
  }, 30_000);
});
