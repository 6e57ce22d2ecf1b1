/**
 * Dependency faults through the real handler module: B14 (SQS unreachable), S3 and DynamoDB unreachable,
 * B17 (Secrets Manager denying, then recovering). Each scenario imports a fresh copy of the handler module
 * with its endpoints pointed where the fault is.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PurgeQueueCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { IngestRuntimeConfig } from '../../lambda/shared/runtime-config';
import { localSqsClient } from '../../lib/local/clients';
import { type Emulators, startEmulators } from '../../lib/local/emulators';
import { createTopology, type LocalTopology } from '../../lib/local/topology';
import {
  drain,
  type Handler,
  handlerEnvironment,
  integrationConfig,
  invoke,
  runtimeFor,
  TEST_SECRETS,
  webhookEvent,
} from './ingest-helpers';

let emulators: Emulators;
let topology: LocalTopology;
let runtime: IngestRuntimeConfig;
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
  runtimeConfig: IngestRuntimeConfig = runtime,
): Promise<Handler> {
  vi.resetModules();
  handlerEnvironment(emulators, runtimeConfig, overrides);
  return (await import('../../lambda/ingest/handler')).handler;
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

/** Runs `fn` while collecting the JSON lines written to stdout (where Powertools writes logs and EMF). */
async function captureStdout(fn: () => Promise<unknown>): Promise<Record<string, unknown>[]> {
  const lines: string[] = [];
  const write = process.stdout.write;
  process.stdout.write = ((chunk: string | Uint8Array) => {
    lines.push(...String(chunk).split('\n').filter(Boolean));
    return true;
  }) as typeof process.stdout.write;
  try {
    await fn();
  } finally {
    process.stdout.write = write;
  }
  return lines.flatMap((line) => {
    try {
      return [JSON.parse(line) as Record<string, unknown>];
    } catch {
      return [];
    }
  });
}

describe('observability through the real Powertools logger', () => {
  it('exactly one INFO "webhook outcome" line per request, with the contract keys', async () => {
    process.env.IT_LOG_LEVEL = 'INFO';
    let handler: Handler;
    try {
      handler = await freshHandler({ sqs: closedPort });
    } finally {
      delete process.env.IT_LOG_LEVEL;
    }
    const id = `obs-${Date.now()}`;
    const event = webhookEvent(runtime, 'github', '{"action":"opened"}', {
      id,
      headers: { 'x-github-event': 'issues' },
    });
    const logged = await captureStdout(() => invoke(handler, event));
    const outcomes = logged.filter((line) => line.message === 'webhook outcome');
    expect(outcomes).toHaveLength(1);
    expect(outcomes[0]).toMatchObject({
      level: 'INFO',
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
    const rejected = (await captureStdout(() => invoke(handler, unsigned))).filter(
      (l) => l.message === 'webhook outcome',
    );
    expect(rejected).toEqual([
      expect.objectContaining({ outcome: 'rejected', status: 401, reason: 'missing_signature' }),
    ]);
  });
});

describe('B14: SQS unreachable', () => {
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

describe('B17: Secrets Manager unavailable -> fail closed, then recover', () => {
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
    const arnRuntime: IngestRuntimeConfig = {
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
