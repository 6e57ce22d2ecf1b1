/**
 * The jobs endpoint's request deadline through the real handler module, against the emulators with SQS stalled:
 * the stack's handler, its real producer and dedupe table (dynalite), imported fresh with its endpoints pointed
 * where the fault is.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  JOBS_ENDPOINT_LATE_SEND_MESSAGE,
  JOBS_ENDPOINT_OUTCOME_MESSAGE,
  JOBS_ENDPOINT_REJECTED_MESSAGE,
} from '../../lambda/shared/contracts';
import { trace } from '../../lib/cli/trace';
import { localSqsClient } from '../../lib/local/clients';
import { type Emulators, startEmulators } from '../../lib/local/emulators';
import { localJobsEnvironment } from '../../lib/local/jobs-endpoint';
import { Journal } from '../../lib/local/journal';
import { parseOutcomeLine } from '../../lib/local/reporter';
import { createTopology, type LocalTopology } from '../../lib/local/topology';
import { localTestTarget, testBackend } from '../cli/helpers';
import { captureLambdaJsonLog } from '../helpers/lambda-json-log';
import { testConfig } from '../helpers/local/pipeline';
import { contextTimingOutIn, drain, type Handler, invoke, stalledEndpoint } from './ingest-helpers';

const TOKEN = 'it-jobs-token';
const config = testConfig({ jobs: {} }, { jobs: { endpoint: { queues: ['jobs'] } } });
let emulators: Emulators;
let topology: LocalTopology;
let sqs: SQSClient;

/** The handler module imported afresh with SQS at `sqsUrl` (default: the emulator). */
async function freshJobsHandler(sqsUrl?: string): Promise<Handler> {
  vi.resetModules();
  const endpoint = config.jobsEndpoint;
  if (!endpoint) throw new Error('the test config has no jobs endpoint');
  Object.assign(process.env, {
    ...localJobsEnvironment(config, endpoint, topology, 'http://127.0.0.1:9', { HOOKLINE_JOBS_TOKEN: TOKEN }),
    AWS_REGION: emulators.region,
    AWS_ACCESS_KEY_ID: 'hookline-local',
    AWS_SECRET_ACCESS_KEY: 'hookline-local',
    AWS_ENDPOINT_URL_SQS: sqsUrl ?? emulators.endpoints.sqs,
    AWS_ENDPOINT_URL_S3: emulators.endpoints.s3,
    AWS_ENDPOINT_URL_DYNAMODB: emulators.endpoints.dynamodb,
  });
  return (await import('../../lambda/jobs-endpoint/handler')).handler as Handler;
}

function jobEvent(id: string): APIGatewayProxyEventV2 {
  return {
    rawPath: '/jobs/jobs',
    pathParameters: { queue: 'jobs' },
    headers: { authorization: `Bearer ${TOKEN}` },
    body: JSON.stringify({ type: 'math.double', payload: { n: 1 }, id }),
    isBase64Encoded: false,
    requestContext: { http: { method: 'POST' } },
  } as unknown as APIGatewayProxyEventV2;
}

/**
 * Runs `fn` while collecting the log events the handler leaves as CloudWatch keeps them under Lambda's JSON log
 * format, each read as its top-level fields (what a filter pattern, Logs Insights and `hookline trace` see).
 */
async function captureLines(
  fn: () => Promise<unknown>,
  until?: (lines: Record<string, unknown>[]) => boolean,
): Promise<Record<string, unknown>[]> {
  const log = captureLambdaJsonLog();
  try {
    await fn();
    // Work that outlives its request logs later: wait for its line.
    if (until)
      await vi.waitFor(() => expect(until(log.events())).toBe(true), { timeout: 15_000, interval: 100 });
    return log.events();
  } finally {
    log.restore();
  }
}

/**
 * A proxy to `target` (the SQS emulator) that holds every request until released, then forwards it and its answer:
 * SQS answering, but only after the request's deadline.
 */
async function heldEndpoint(
  target: string,
): Promise<{ url: string; release(): void; close(): Promise<void> }> {
  let release = () => {};
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  const { host, port } = new URL(target);
  const server = createServer((request, response) => {
    void released.then(() => {
      const forwarded = httpRequest(
        {
          host: host.split(':')[0],
          port,
          path: request.url,
          method: request.method,
          headers: { ...request.headers, host },
        },
        (answer) => {
          response.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(response);
        },
      );
      forwarded.on('error', () => response.destroy());
      request.pipe(forwarded);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port: heldPort } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${heldPort}`,
    release,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

beforeAll(async () => {
  emulators = await startEmulators();
  topology = await createTopology(config, emulators);
  sqs = localSqsClient(emulators);
});

afterAll(async () => {
  sqs?.destroy();
  await emulators?.stop();
});

describe('jobs endpoint with SQS stalled (accepts the connection, never answers)', () => {
  it('503 with Retry-After before the function times out, a deadline_enqueue line; the retry sends the job once', async () => {
    const stalled = await stalledEndpoint();
    const down = await freshJobsHandler(stalled.url);
    const id = `stall-${Date.now()}`;
    // A 3 s function: each stalled SendMessageBatch attempt alone waits longer locally.
    const timeoutMs = 3_000;
    const started = Date.now();
    const context = contextTimingOutIn(timeoutMs, 'stalled-sqs');
    let response: Awaited<ReturnType<typeof invoke>> | undefined;
    const lines = await captureLines(async () => {
      response = await invoke(down, jobEvent(id), context);
    });
    const elapsedMs = Date.now() - started;

    expect(response?.statusCode).toBe(503);
    expect(response?.headers['retry-after']).toBe('5');
    expect(JSON.parse(response?.body ?? '')).toEqual({ message: 'service unavailable' });
    expect(elapsedMs).toBeLessThan(timeoutMs);
    expect(lines.filter((l) => l.service === 'jobs-endpoint')).toEqual([
      expect.objectContaining({
        level: 'ERROR',
        message: JOBS_ENDPOINT_REJECTED_MESSAGE,
        outcome: 'failed',
        status: 503,
        id,
        queue: 'jobs',
        reason: 'deadline_enqueue',
      }),
    ]);

    // SQS comes back: the hung send fails at once, its claim is released, and the caller's retry is accepted once.
    await stalled.close();
    const up = await freshJobsHandler();
    const late = await captureLines(() =>
      vi.waitFor(async () => expect((await invoke(up, jobEvent(id))).statusCode).toBe(202), {
        timeout: 15_000,
        interval: 250,
      }),
    );
    expect(late).toContainEqual(
      expect.objectContaining({ message: JOBS_ENDPOINT_OUTCOME_MESSAGE, id, outcome: 'queued' }),
    );
    expect(await drain(sqs, topology.queues.jobs?.url ?? '')).toHaveLength(1);
  });
});

describe('jobs endpoint with SQS answering only after the deadline', () => {
  it("logs the 503 and then one WARN line for the job that went out, with that request's ids, which trace shows as the job's reception", async () => {
    const held = await heldEndpoint(emulators.endpoints.sqs);
    const handler = await freshJobsHandler(held.url);
    const id = `late-${Date.now()}`;
    const event = {
      ...jobEvent(id),
      requestContext: { http: { method: 'POST' }, requestId: 'api-late-1' },
    } as unknown as APIGatewayProxyEventV2;
    try {
      const lines = await captureLines(
        async () => {
          const response = await invoke(handler, event, contextTimingOutIn(3_000, 'lambda-late-1'));
          expect(response.statusCode).toBe(503);
          // SQS answers now: the send under way completes, after the caller was answered.
          held.release();
        },
        (seen) => seen.some((l) => l.message === JOBS_ENDPOINT_LATE_SEND_MESSAGE),
      );

      const ids = { function_request_id: 'lambda-late-1', apiRequestId: 'api-late-1' };
      expect(lines.filter((l) => l.service === 'jobs-endpoint')).toEqual([
        expect.objectContaining({
          level: 'ERROR',
          message: JOBS_ENDPOINT_REJECTED_MESSAGE,
          outcome: 'failed',
          status: 503,
          id,
          reason: 'deadline_enqueue',
          ...ids,
        }),
        expect.objectContaining({
          level: 'WARN',
          message: JOBS_ENDPOINT_LATE_SEND_MESSAGE,
          outcome: 'queued',
          id,
          type: 'math.double',
          queue: 'jobs',
          status: 503,
          reason: 'deadline_enqueue',
          ...ids,
        }),
      ]);
      expect(await drain(sqs, topology.queues.jobs?.url ?? '')).toHaveLength(1);

      // `hookline trace` of these very lines, as local mode journals them: the 503, then the job's reception.
      const dir = mkdtempSync(join(tmpdir(), 'hookline-late-trace-'));
      const journalPath = join(dir, 'journal.jsonl');
      const journal = new Journal(journalPath, { truncate: true });
      for (const line of lines) {
        const event = parseOutcomeLine(JSON.stringify(line), 'jobs-endpoint');
        if (event) journal.append(event);
      }
      await journal.close();
      try {
        const traced = await trace(testBackend(), localTestTarget(), id, { journalPath });
        expect(traced.steps).toEqual([
          expect.objectContaining({
            step: 'received',
            outcome: 'failed',
            status: 503,
            error: 'deadline_enqueue',
          }),
          expect.objectContaining({
            step: 'received',
            via: 'jobs endpoint',
            outcome: 'queued',
            status: 503,
            sentAfter503: true,
          }),
          expect.objectContaining({ step: 'queued', queues: ['jobs'] }),
        ]);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    } finally {
      await held.close();
    }
  });
});
