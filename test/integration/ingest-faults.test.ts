/**
 * Dependency faults through the real handler module: B14 (SQS unreachable), S3 and DynamoDB unreachable,
 * B17 (Secrets Manager denying, then recovering). Each scenario imports a fresh copy of the handler module
 * with its endpoints pointed where the fault is.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PurgeQueueCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { IngestConfigVariable } from '../../lambda/shared/runtime-config';
import { signWebhook } from '../../lambda/shared/webhook-signing';
import { localSqsClient } from '../../lib/local/clients';
import { type Emulators, startEmulators } from '../../lib/local/emulators';
import { createTopology, type LocalTopology } from '../../lib/local/topology';
import {
  contextTimingOutIn,
  drain,
  type Handler,
  handlerEnvironment,
  integrationConfig,
  invoke,
  runtimeFor,
  stalledEndpoint,
  TEST_SECRETS,
  webhookEvent,
} from './ingest-helpers';

let emulators: Emulators;
let topology: LocalTopology;
let runtime: IngestConfigVariable;
let sqs: SQSClient;
let closedPort: string;
const config = integrationConfig();

/** A loopback URL on which nothing listens (connection refused at once). */
async function closedEndpoint(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

async function freshHandler(
  overrides: Parameters<typeof handlerEnvironment>[2],
  runtimeConfig: IngestConfigVariable = runtime,
  extraEnvironment: Record<string, string> = {},
): Promise<Handler> {
  vi.resetModules();
  handlerEnvironment(emulators, runtimeConfig, overrides);
  const saved = Object.fromEntries(Object.keys(extraEnvironment).map((name) => [name, process.env[name]]));
  Object.assign(process.env, extraEnvironment);
  try {
    // The handler reads its log level and metrics switch at import.
    return (await import('../../lambda/ingest/handler')).handler;
  } finally {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
}

const eventsUrl = () => topology.queues.events?.url ?? '';

beforeAll(async () => {
  emulators = await startEmulators();
  topology = await createTopology(config, emulators);
  runtime = runtimeFor(config, topology);
  sqs = localSqsClient(emulators);
  closedPort = await closedEndpoint();
});

afterAll(async () => {
  sqs?.destroy();
  await emulators?.stop();
});

beforeEach(async () => {
  await sqs.send(new PurgeQueueCommand({ QueueUrl: eventsUrl() }));
});

/**
 * Runs `fn` while collecting the JSON lines written to stdout and stderr (logs and EMF; outside Lambda,
 * Powertools writes WARN and ERROR lines to stderr).
 */
async function captureOutput(
  fn: () => Promise<unknown>,
  until?: (lines: Record<string, unknown>[]) => boolean,
): Promise<Record<string, unknown>[]> {
  const lines: string[] = [];
  const streams = [process.stdout, process.stderr] as const;
  const writes = streams.map((stream) => stream.write);
  for (const stream of streams) {
    stream.write = ((chunk: string | Uint8Array) => {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      return true;
    }) as typeof stream.write;
  }
  const parsed = () =>
    lines.flatMap((line) => {
      try {
        return [JSON.parse(line) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
  try {
    await fn();
    // Work that outlives its request writes its lines later: wait for them.
    if (until) await vi.waitFor(() => expect(until(parsed())).toBe(true), { timeout: 15_000, interval: 100 });
  } finally {
    streams.forEach((stream, i) => {
      stream.write = writes[i] as typeof stream.write;
    });
  }
  return parsed();
}

describe('observability through the real handler', () => {
  it('exactly one "webhook outcome" line per request, with the contract keys: ERROR for a 503, INFO for a 4xx', async () => {
    const handler = await freshHandler({ sqs: closedPort }, runtime, { POWERTOOLS_LOG_LEVEL: 'INFO' });
    const id = `obs-${Date.now()}`;
    const event = webhookEvent(runtime, 'github', '{"action":"opened"}', {
      id,
      headers: { 'x-github-event': 'issues' },
    });
    const logged = await captureOutput(() => invoke(handler, event));
    const outcomes = logged.filter((line) => line.message === 'webhook outcome');
    expect(outcomes).toHaveLength(1);
    expect(outcomes[0]).toMatchObject({
      level: 'ERROR',
      service: 'ingest',
      outcome: 'failed',
      id,
      source: 'github',
      type: 'issues.opened',
      queues: ['events'],
      status: 503,
      reason: 'enqueue_failed',
    });
    const unsigned = webhookEvent(runtime, 'github', '{}', { unsigned: true });
    const rejected = (await captureOutput(() => invoke(handler, unsigned))).filter(
      (l) => l.message === 'webhook outcome',
    );
    expect(rejected).toEqual([
      expect.objectContaining({
        level: 'INFO',
        outcome: 'rejected',
        status: 401,
        reason: 'missing_signature',
      }),
    ]);
  });

  it.each([
    ['POWERTOOLS_LOG_LEVEL', { POWERTOOLS_LOG_LEVEL: 'WARN' }],
    // Lambda's advanced logging controls set it (applicationLogLevel); Powertools lets it win over its own.
    ['AWS_LAMBDA_LOG_LEVEL', { POWERTOOLS_LOG_LEVEL: 'INFO', AWS_LAMBDA_LOG_LEVEL: 'WARN' }],
  ])(
    'at log level WARN (%s), a 503 still writes its one outcome line, a 202 or a 401 none',
    async (_, level) => {
      const outcomesOf = async (handler: Handler, event: ReturnType<typeof webhookEvent>, status: number) =>
        (
          await captureOutput(async () => expect((await invoke(handler, event)).statusCode).toBe(status))
        ).filter((line) => line.message === 'webhook outcome');
      const event = (id: string) =>
        webhookEvent(runtime, 'github', '{"action":"opened"}', {
          id,
          headers: { 'x-github-event': 'issues' },
        });
      const down = await freshHandler({ sqs: closedPort }, runtime, level);
      const failedId = `warn-down-${Date.now()}`;
      expect(await outcomesOf(down, event(failedId), 503)).toEqual([
        expect.objectContaining({
          level: 'ERROR',
          outcome: 'failed',
          id: failedId,
          reason: 'enqueue_failed',
        }),
      ]);
      const up = await freshHandler({}, runtime, level);
      expect(await outcomesOf(up, event(`warn-up-${Date.now()}`), 202)).toEqual([]);
      expect(await outcomesOf(up, webhookEvent(runtime, 'github', '{}', { unsigned: true }), 401)).toEqual(
        [],
      );
    },
  );

  it("every line of a request carries its Lambda and API Gateway request ids, and only that request's", async () => {
    const handler = await freshHandler({ sqs: closedPort }, runtime, { POWERTOOLS_LOG_LEVEL: 'INFO' });
    const request = (n: number) => {
      const event = webhookEvent(runtime, 'github', '{"action":"opened"}', {
        id: `ids-${Date.now()}-${n}`,
        headers: { 'x-github-event': 'issues' },
      });
      const context = {
        awsRequestId: `lambda-req-${n}`,
        functionName: 'stack-ingest',
        invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:stack-ingest',
        memoryLimitInMB: '256',
        getRemainingTimeInMillis: () => 10_000,
      } as unknown as Context;
      return invoke(
        handler,
        { ...event, requestContext: { ...event.requestContext, requestId: `api-req-${n}` } },
        context,
      );
    };

    for (const n of [1, 2]) {
      const lines = (await captureOutput(() => request(n))).filter((line) => line._aws === undefined);
      // The enqueue fails (SQS is unreachable): one Powertools ERROR line and the lean outcome line.
      expect(lines.map((line) => line.message).sort()).toEqual(['enqueue failed', 'webhook outcome']);
      for (const line of lines) {
        expect(line).toMatchObject({ function_request_id: `lambda-req-${n}`, apiRequestId: `api-req-${n}` });
      }
    }
  });

  it("a request's ids reach the WARN/ERROR lines only of that request, and cold_start only the first invocation's", async () => {
    const handler = await freshHandler({ sqs: closedPort }, runtime, {
      POWERTOOLS_LOG_LEVEL: 'INFO',
      AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
    });
    const request = (n: number, source: string) => {
      const event = webhookEvent(runtime, 'github', '{"action":"opened"}', {
        id: `lazy-${Date.now()}-${n}`,
        headers: { 'x-github-event': 'issues' },
      });
      const context = { awsRequestId: `lambda-req-${n}`, functionName: 'stack-ingest' } as unknown as Context;
      return invoke(
        handler,
        {
          ...event,
          rawPath: `/webhooks/${source}`,
          pathParameters: { source },
          requestContext: { ...event.requestContext, requestId: `api-req-${n}` },
        },
        context,
      );
    };
    // Requests 1 and 3 name no configured source (404: only the outcome line); 2 and 4 fail to enqueue
    // (SQS unreachable: a Powertools ERROR line beside the outcome line).
    const plan = [
      [1, 'nope'],
      [2, 'github'],
      [3, 'nope'],
      [4, 'github'],
    ] as const;
    const seen: [string, unknown, unknown, unknown][] = [];
    for (const [n, source] of plan) {
      const lines = (await captureOutput(() => request(n, source))).filter((line) => line._aws === undefined);
      for (const line of lines) {
        seen.push([String(line.message), line.function_request_id, line.apiRequestId, line.cold_start]);
      }
    }
    expect(seen.sort()).toEqual(
      [
        ['webhook outcome', 'lambda-req-1', 'api-req-1', true],
        ['enqueue failed', 'lambda-req-2', 'api-req-2', false],
        ['webhook outcome', 'lambda-req-2', 'api-req-2', false],
        ['webhook outcome', 'lambda-req-3', 'api-req-3', false],
        ['enqueue failed', 'lambda-req-4', 'api-req-4', false],
        ['webhook outcome', 'lambda-req-4', 'api-req-4', false],
      ].sort(),
    );
  });

  it('the first invocation of an on-demand environment reports cold_start on its Powertools lines too', async () => {
    const handler = await freshHandler({ sqs: closedPort }, runtime, {
      POWERTOOLS_LOG_LEVEL: 'INFO',
      AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
    });
    const event = webhookEvent(runtime, 'github', '{"action":"opened"}', {
      id: `cold-${Date.now()}`,
      headers: { 'x-github-event': 'issues' },
    });
    const context = { awsRequestId: 'lambda-req-cold', functionName: 'stack-ingest' } as unknown as Context;
    const lines = (await captureOutput(() => invoke(handler, event, context))).filter(
      (l) => l._aws === undefined,
    );
    expect(lines.map((line) => [line.message, line.cold_start]).sort()).toEqual(
      [
        ['enqueue failed', true],
        ['webhook outcome', true],
      ].sort(),
    );
  });

  /** The EMF documents among captured lines, as `{ dimensions, metrics, values }`. */
  const emfDocuments = (lines: Record<string, unknown>[]) =>
    lines
      .filter((line) => line._aws !== undefined)
      .map((line) => {
        const directive = (
          line._aws as {
            CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string }[] }[];
          }
        ).CloudWatchMetrics[0];
        return {
          namespace: directive?.Namespace,
          dimensions: directive?.Dimensions,
          metrics: directive?.Metrics.map((m) => m.Name),
          service: line.service,
          reason: line.reason,
        };
      });

  it('EMF: one document per outcome, the reason dimension only on Rejected/Failed', async () => {
    const env = { POWERTOOLS_LOG_LEVEL: 'INFO', POWERTOOLS_METRICS_DISABLED: 'false' };
    const up = await freshHandler({}, runtime, env);
    const queued = webhookEvent(runtime, 'github', '{"action":"opened"}', {
      id: `emf-ok-${Date.now()}`,
      headers: { 'x-github-event': 'issues' },
    });
    const okLines = await captureOutput(async () => expect((await invoke(up, queued)).statusCode).toBe(202));
    expect(okLines.filter((l) => l.message === 'webhook outcome')).toEqual([
      expect.objectContaining({ outcome: 'queued', status: 202, queues: ['events'] }),
    ]);
    expect(emfDocuments(okLines)).toEqual([
      {
        namespace: 'Hookline',
        dimensions: [['service']],
        metrics: ['EnqueueLatency', 'Accepted'],
        service: 'ingest',
        reason: undefined,
      },
    ]);
    expect(okLines.find((l) => l._aws !== undefined)).toMatchObject({ Accepted: 1 });

    const unsigned = webhookEvent(runtime, 'github', '{}', { unsigned: true });
    expect(emfDocuments(await captureOutput(() => invoke(up, unsigned)))).toEqual([
      {
        namespace: 'Hookline',
        dimensions: [['service', 'reason']],
        metrics: ['Rejected'],
        service: 'ingest',
        reason: 'missing_signature',
      },
    ]);

    const down = await freshHandler({ sqs: closedPort }, runtime, env);
    const failing = webhookEvent(runtime, 'github', '{"action":"opened"}', {
      id: `emf-down-${Date.now()}`,
      headers: { 'x-github-event': 'issues' },
    });
    expect(emfDocuments(await captureOutput(() => invoke(down, failing)))).toEqual([
      {
        namespace: 'Hookline',
        dimensions: [['service', 'reason']],
        metrics: ['Failed'],
        service: 'ingest',
        reason: 'enqueue_failed',
      },
      {
        namespace: 'Hookline',
        dimensions: [['service']],
        metrics: ['EnqueueLatency'],
        service: 'ingest',
        reason: undefined,
      },
    ]);
  });

  it("EMF: counts each signed request's verdict under its source, 0 verified and 1 under a secret the sender rotated, in the request's one document; an unsigned request not at all", async () => {
    const env = { POWERTOOLS_LOG_LEVEL: 'INFO', POWERTOOLS_METRICS_DISABLED: 'false' };
    const handler = await freshHandler({}, runtime, env);
    const body = '{"action":"opened"}';
    const headers = { 'x-github-event': 'issues' };
    const verdicts = async (event: ReturnType<typeof webhookEvent>, status: number) => {
      const lines = await captureOutput(async () =>
        expect((await invoke(handler, event)).statusCode).toBe(status),
      );
      const documents = lines.filter((line) => line._aws !== undefined);
      return documents.flatMap((line) =>
        (
          line._aws as { CloudWatchMetrics: { Dimensions: string[][]; Metrics: { Name: string }[] }[] }
        ).CloudWatchMetrics.filter((d) => d.Metrics.some((m) => m.Name === 'SignatureMismatch')).map((d) => ({
          dimensions: d.Dimensions,
          service: line.service,
          source: line.source,
          value: line.SignatureMismatch,
          documents: documents.length,
        })),
      );
    };
    const verified = webhookEvent(runtime, 'github', body, { id: `sig-ok-${Date.now()}`, headers });
    expect(await verdicts(verified, 202)).toEqual([
      { dimensions: [['service', 'source']], service: 'ingest', source: 'github', value: 0, documents: 1 },
    ]);
    // Signed by a sender whose secret was rotated: well formed, matching no stored secret.
    const rotated = webhookEvent(runtime, 'github', body, {
      headers: {
        ...headers,
        ...signWebhook(runtime.sources.github as never, 'the-new-secret', Buffer.from(body)),
      },
    });
    expect(await verdicts(rotated, 401)).toEqual([
      { dimensions: [['service', 'source']], service: 'ingest', source: 'github', value: 1, documents: 2 },
    ]);
    const unsigned = webhookEvent(runtime, 'github', body, { unsigned: true, headers });
    expect(await verdicts(unsigned, 401)).toEqual([]);
  });

  it('writes neither the outcome line nor EMF when the log level is above INFO and metrics are disabled', async () => {
    const quiet = await freshHandler({});
    const event = webhookEvent(runtime, 'github', '{"action":"opened"}', {
      id: `quiet-${Date.now()}`,
      headers: { 'x-github-event': 'issues' },
    });
    const lines = await captureOutput(async () => expect((await invoke(quiet, event)).statusCode).toBe(202));
    expect(lines.filter((l) => l.message === 'webhook outcome' || l._aws !== undefined)).toEqual([]);
  });
});

describe('SQS unreachable', () => {
  it('503 with Retry-After and a generic body; the dedupe claim is released so the retry enqueues', async () => {
    const down = await freshHandler({ sqs: closedPort });
    const id = `b14-${Date.now()}`;
    const event = webhookEvent(runtime, 'github', '{"ref":"main"}', {
      id,
      headers: { 'x-github-event': 'push' },
    });
    const failed = await invoke(down, event);
    expect(failed.statusCode).toBe(503);
    expect(failed.headers['retry-after']).toBe('5');
    expect(JSON.parse(failed.body)).toEqual({ message: 'service unavailable' });

    const up = await freshHandler({});
    expect((await invoke(up, event)).statusCode).toBe(202);
    expect(await drain(sqs, eventsUrl())).toHaveLength(1);
  });
});

describe('SQS stalled (accepts the connection, never answers)', () => {
  it('503 with Retry-After before the function times out, outcome line naming the send; the claim is released for the retry', async () => {
    const stalled = await stalledEndpoint();
    const down = await freshHandler({ sqs: stalled.url }, runtime, {
      POWERTOOLS_LOG_LEVEL: 'INFO',
      POWERTOOLS_METRICS_DISABLED: 'false',
    });
    const id = `stall-${Date.now()}`;
    const event = webhookEvent(runtime, 'github', '{"ref":"main"}', {
      id,
      headers: { 'x-github-event': 'push' },
    });
    // A 3 s function: each stalled SendMessage attempt alone waits 5 s locally (1 s x LOCAL_REQUEST_TIMEOUT_FACTOR).
    const timeoutMs = 3_000;
    const started = Date.now();
    const context = contextTimingOutIn(timeoutMs, 'stalled-sqs');
    let response: Awaited<ReturnType<typeof invoke>> | undefined;
    const lines = await captureOutput(async () => {
      response = await invoke(down, event, context);
    });
    const elapsedMs = Date.now() - started;

    expect(response?.statusCode).toBe(503);
    expect(response?.headers['retry-after']).toBe('5');
    expect(JSON.parse(response?.body ?? '')).toEqual({ message: 'service unavailable' });
    expect(elapsedMs).toBeLessThan(timeoutMs);
    expect(lines.filter((l) => l.message === 'webhook outcome')).toEqual([
      expect.objectContaining({ outcome: 'failed', status: 503, id, reason: 'deadline_enqueue' }),
    ]);
    // Counted as every 503 is: the Failed metric with the reason dimension.
    expect(lines.filter((l) => l._aws !== undefined && l.Failed !== undefined)).toEqual([
      expect.objectContaining({ service: 'ingest', reason: 'deadline_enqueue', Failed: 1 }),
    ]);

    // SQS comes back: the hung send fails at once, its claim is released, and the sender's retry is accepted once.
    await stalled.close();
    const up = await freshHandler({});
    const late = await captureOutput(() =>
      vi.waitFor(async () => expect((await invoke(up, event)).statusCode).toBe(202), {
        timeout: 15_000,
        interval: 250,
      }),
    );
    expect(await drain(sqs, eventsUrl())).toHaveLength(1);
    // The late failure is logged as such; the request it belonged to got its one outcome line already.
    expect(late).toContainEqual(expect.objectContaining({ level: 'ERROR', message: 'enqueue failed', id }));
    expect(late.filter((l) => l.message === 'webhook outcome' && l.id === id && l.status === 503)).toEqual(
      [],
    );
  });
});

describe('late work of a request answered 503 at its deadline', () => {
  it("logs its late ERROR line with that request's ids, not those of the request running when it ends", async () => {
    const stalled = await stalledEndpoint();
    const handler = await freshHandler({ sqs: stalled.url }, runtime, { POWERTOOLS_LOG_LEVEL: 'INFO' });
    const request = (n: number, timeoutMs: number) => {
      const id = `late-${Date.now()}-${n}`;
      const event = webhookEvent(runtime, 'github', '{"ref":"main"}', {
        id,
        headers: { 'x-github-event': 'push' },
      });
      const apiEvent = { ...event, requestContext: { ...event.requestContext, requestId: `api-late-${n}` } };
      const context = () => contextTimingOutIn(timeoutMs, `lambda-late-${n}`);
      return { id, send: () => invoke(handler, apiEvent, context()) };
    };
    const first = request(1, 3_000);
    const second = request(2, 60_000);

    const lines = await captureOutput(
      async () => {
        // The first waits on the stalled send until its deadline: 503, its send still in flight.
        expect((await first.send()).statusCode).toBe(503);
        // The next request starts on the same sandbox and waits on SQS too; then SQS fails both sends.
        const next = second.send();
        await new Promise((resolve) => setTimeout(resolve, 300));
        await stalled.close();
        await next;
      },
      (seen) => seen.some((l) => l.message === 'enqueue failed' && l.id === first.id),
    );

    const failed = lines.filter((l) => l.message === 'enqueue failed');
    expect(failed.find((l) => l.id === first.id)).toMatchObject({
      level: 'ERROR',
      function_request_id: 'lambda-late-1',
      apiRequestId: 'api-late-1',
    });
    expect(failed.find((l) => l.id === second.id)).toMatchObject({
      level: 'ERROR',
      function_request_id: 'lambda-late-2',
      apiRequestId: 'api-late-2',
    });
  });
});

describe('a failure outside the core', () => {
  it('an event the function cannot even read is answered 503 with Retry-After and logged, never thrown or 500', async () => {
    const handler = await freshHandler({}, runtime, { POWERTOOLS_LOG_LEVEL: 'ERROR' });
    const signed = webhookEvent(runtime, 'github', '{"ref":"main"}', {
      headers: { 'x-github-event': 'push' },
    });
    // Every read of its request context throws: the handler's own logging setup fails before the core runs.
    const unreadable = new Proxy(signed, {
      get(target, property, receiver) {
        if (property === 'requestContext') throw new Error('unreadable request context');
        return Reflect.get(target, property, receiver);
      },
    });
    let response: Awaited<ReturnType<typeof invoke>> | undefined;
    const lines = await captureOutput(async () => {
      response = await invoke(handler, unreadable);
    });
    expect(response?.statusCode).toBe(503);
    expect(response?.headers['retry-after']).toBe('5');
    expect(JSON.parse(response?.body ?? '')).toEqual({ message: 'service unavailable' });
    expect(lines).toContainEqual(
      expect.objectContaining({ level: 'ERROR', message: 'ingest handler failed' }),
    );
    expect(await drain(sqs, eventsUrl())).toEqual([]);
  });
});

describe('S3 and DynamoDB unreachable', () => {
  it('an oversized body with S3 down -> 503, nothing enqueued', async () => {
    const handler = await freshHandler({ s3: closedPort });
    const big = JSON.stringify({ pad: 'x'.repeat((runtime.payloads?.inlineLimitBytes ?? 0) + 10) });
    const response = await invoke(handler, webhookEvent(runtime, 'shopify', big, {}));
    expect(response.statusCode).toBe(503);
    expect(await drain(sqs, eventsUrl())).toEqual([]);
  });

  it('dedupe table unreachable -> 503, nothing enqueued', async () => {
    const handler = await freshHandler({ dynamodb: closedPort });
    const response = await invoke(handler, webhookEvent(runtime, 'stripe', '{"id":"evt_d","type":"a"}'));
    expect(response.statusCode).toBe(503);
    expect(await drain(sqs, eventsUrl())).toEqual([]);
  });
});

describe('Secrets Manager unavailable -> fail closed, then recover', () => {
  let server: Server;
  let deny = true;
  let calls = 0;

  beforeAll(async () => {
    // A minimal Secrets Manager (JSON 1.1 protocol, GetSecretValue only).
    server = createServer((request, response) => {
      calls++;
      request.resume();
      request.on('end', () => {
        response.setHeader('content-type', 'application/x-amz-json-1.1');
        if (deny) {
          response.statusCode = 400;
          response.end(JSON.stringify({ __type: 'AccessDeniedException', message: 'denied' }));
          return;
        }
        response.end(JSON.stringify({ ARN: 'arn', Name: 'github', SecretString: TEST_SECRETS.github }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('denied -> 503 and nothing enqueued; when the store answers again the same request is accepted', async () => {
    const { port } = server.address() as AddressInfo;
    const arnRuntime: IngestConfigVariable = {
      ...runtime,
      sources: {
        ...runtime.sources,
        github: { type: 'github', secretId: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:github' },
      },
    };
    const handler = await freshHandler({ secretsManager: `http://127.0.0.1:${port}` }, arnRuntime);
    const event = webhookEvent(arnRuntime, 'github', '{"ref":"x"}', {
      headers: { 'x-github-event': 'push' },
    });
    const denied = await invoke(handler, event);
    expect(denied.statusCode).toBe(503);
    expect(denied.headers['retry-after']).toBeDefined();
    expect(calls).toBeGreaterThan(0);
    expect(await drain(sqs, eventsUrl())).toEqual([]);

    deny = false;
    expect((await invoke(handler, event)).statusCode).toBe(202);
    expect(await drain(sqs, eventsUrl())).toHaveLength(1);
  });
});

describe('what the handler writes, at DEBUG and with event logging asked for', () => {
  const verbose = { POWERTOOLS_LOG_LEVEL: 'DEBUG', POWERTOOLS_LOGGER_LOG_EVENT: 'true' };
  // What a sender, a proxy or a secret store hands the function that no line may show.
  const body = '{"ref":"main","card":"BODY-MARKER-4242"}';
  const credentials = {
    authorization: 'Bearer AUTH-MARKER-TOKEN',
    cookie: 'session=COOKIE-MARKER-SESSION',
    'x-api-key': 'APIKEY-MARKER',
  };
  const signatureOf = (event: { headers?: Record<string, string | undefined> }) =>
    (event.headers?.['x-hub-signature-256'] ?? '').slice('sha256='.length);
  const neverWritten = (written: string, extra: readonly string[] = []) => {
    for (const secret of Object.values(TEST_SECRETS)) expect(written).not.toContain(secret);
    for (const marker of ['BODY-MARKER', 'AUTH-MARKER', 'COOKIE-MARKER', 'APIKEY-MARKER', ...extra]) {
      expect(written).not.toContain(marker);
    }
  };

  it('queued, rejected and failed requests: no secret, signature, credential header or body on any line', async () => {
    const handler = await freshHandler({}, runtime, verbose);
    const queued = webhookEvent(runtime, 'github', body, {
      id: `leak-${Date.now()}`,
      headers: { 'x-github-event': 'push', ...credentials },
    });
    // The right digest of another body: the signature is the one a forger replays.
    const forged = webhookEvent(runtime, 'github', body, { headers: { ...credentials } });
    forged.headers = { ...forged.headers, 'x-hub-signature-256': queued.headers['x-hub-signature-256'] };
    forged.body = `${body} `;
    const stale = webhookEvent(runtime, 'stripe', body, { now: new Date(Date.now() - 3_600_000) });
    const down = await freshHandler({ sqs: closedPort }, runtime, verbose);
    const failed = webhookEvent(runtime, 'github', body, { headers: { 'x-github-event': 'push' } });

    const lines = await captureOutput(async () => {
      expect((await invoke(handler, queued)).statusCode).toBe(202);
      expect((await invoke(handler, forged)).statusCode).toBe(401);
      expect((await invoke(handler, stale)).statusCode).toBe(401);
      expect((await invoke(down, failed)).statusCode).toBe(503);
    });

    expect(lines.filter((l) => l.message === 'webhook outcome').map((l) => l.outcome)).toEqual([
      'queued',
      'rejected',
      'rejected',
      'failed',
    ]);
    expect(lines.some((l) => l.message === 'enqueue failed')).toBe(true);
    const signatures = [queued, failed].map(signatureOf);
    signatures.push(/v1=([0-9a-f]{64})/.exec(stale.headers?.['stripe-signature'] ?? '')?.[1] ?? 'none');
    neverWritten(JSON.stringify(lines), signatures);
    await drain(sqs, eventsUrl());
  });

  it('a stored secret it cannot use: the error line names the secret and the fix, never its value', async () => {
    // A Secrets Manager holding a key/value secret rather than the signing secret: refused, with its value unsaid.
    const store = createServer((request, response) => {
      request.resume();
      request.on('end', () => {
        response.setHeader('content-type', 'application/x-amz-json-1.1');
        response.end(
          JSON.stringify({ ARN: 'arn', Name: 'github', SecretString: '{"password":"SM-VALUE-MARKER"}' }),
        );
      });
    });
    await new Promise<void>((resolve) => store.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = store.address() as AddressInfo;
      const secretId = 'arn:aws:secretsmanager:us-east-1:000000000000:secret:github';
      const arnRuntime: IngestConfigVariable = {
        ...runtime,
        sources: { ...runtime.sources, github: { type: 'github', secretId } },
      };
      const handler = await freshHandler({ secretsManager: `http://127.0.0.1:${port}` }, arnRuntime, verbose);
      const event = webhookEvent(arnRuntime, 'github', body, { headers: { 'x-github-event': 'push' } });
      const lines = await captureOutput(async () =>
        expect((await invoke(handler, event)).statusCode).toBe(503),
      );
      expect(lines.find((l) => l.message === 'signing secret unavailable')).toMatchObject({
        level: 'ERROR',
        secretId,
        cause: expect.stringContaining('without a "secrets" list'),
      });
      neverWritten(JSON.stringify(lines), ['SM-VALUE-MARKER', signatureOf(event)]);
    } finally {
      await new Promise<void>((resolve) => store.close(() => resolve()));
    }
  });
});
