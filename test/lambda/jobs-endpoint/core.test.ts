/** The jobs endpoint's answers for what local mode cannot easily provoke: server faults, FIFO misuse, size. */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { handleJobRequest, type JobsEndpointCollaborators } from '../../../lambda/jobs-endpoint/core';
import { ProducerConfigError } from '../../../lambda/producer/producer';
import { JOBS_ENDPOINT_OUTCOME_MESSAGE, OUTCOME_MESSAGES } from '../../../lambda/shared/contracts';
import { MAX_WEBHOOK_BODY_BYTES } from '../../../lambda/shared/request-limits';

const TOKEN = 'the-token';

function event(body: string, token = TOKEN): APIGatewayProxyEventV2 {
  return {
    rawPath: '/jobs/jobs',
    pathParameters: { queue: 'jobs' },
    headers: { authorization: `Bearer ${token}` },
    body,
    isBase64Encoded: false,
  } as unknown as APIGatewayProxyEventV2;
}

function deps(overrides: Partial<JobsEndpointCollaborators> = {}): JobsEndpointCollaborators {
  return {
    queues: new Set(['jobs']),
    tokenSecretId: 'secret',
    loadTokens: async () => ['old-token', TOKEN],
    send: async (_job, _payload, options) => ({ id: options.id ?? 'new', state: 'queued', duplicate: false }),
    log: { info: () => undefined, error: () => undefined },
    ...overrides,
  };
}

const job = JSON.stringify({ type: 'math.double', payload: { n: 1 }, id: 'a' });

describe('jobs endpoint answers', () => {
  it('accepts any of the active tokens while rotating', async () => {
    const answer = await handleJobRequest(event(job, 'old-token'), deps());
    expect(answer.statusCode).toBe(202);
    expect(JSON.parse(answer.body)).toEqual({ id: 'a', state: 'queued' });
  });

  it("logs one outcome line per job it accepted, which trace and local mode read as the job's reception", async () => {
    const lines: [string, object][] = [];
    const log = { info: (m: string, a: object) => lines.push([m, a]), error: () => undefined };
    const dueAt = '2026-11-30T11:00:00.000Z';
    await handleJobRequest(
      event(job),
      deps({ log, send: async () => ({ id: 'a', state: 'scheduled', duplicate: false, dueAt }) }),
    );
    await handleJobRequest(
      event(job),
      deps({ log, send: async () => ({ id: 'a', state: 'completed', duplicate: true }) }),
    );
    expect(lines).toEqual([
      [
        JOBS_ENDPOINT_OUTCOME_MESSAGE,
        {
          outcome: 'scheduled',
          id: 'a',
          source: 'job',
          type: 'math.double',
          queue: 'jobs',
          state: 'scheduled',
          status: 202,
          dueAt,
        },
      ],
      [
        JOBS_ENDPOINT_OUTCOME_MESSAGE,
        {
          outcome: 'duplicate',
          id: 'a',
          source: 'job',
          type: 'math.double',
          queue: 'jobs',
          state: 'completed',
          status: 202,
        },
      ],
    ]);
    expect(OUTCOME_MESSAGES).toContain(JOBS_ENDPOINT_OUTCOME_MESSAGE);
  });

  it('answers 503 with Retry-After when the tokens cannot be loaded, never an unauthenticated pass', async () => {
    let sent = false;
    const answer = await handleJobRequest(
      event(job),
      deps({
        loadTokens: async () => {
          throw new Error('Secrets Manager down');
        },
        send: async () => {
          sent = true;
          return { id: 'a', state: 'queued', duplicate: false };
        },
      }),
    );
    expect(answer.statusCode).toBe(503);
    expect(answer.headers['retry-after']).toBeDefined();
    expect(sent).toBe(false);
  });

  it('answers 503 with Retry-After when the job could not be enqueued', async () => {
    const answer = await handleJobRequest(
      event(job),
      deps({
        send: async () => {
          throw new Error('dedupe table unavailable: timeout');
        },
      }),
    );
    expect(answer.statusCode).toBe(503);
    expect(answer.headers['retry-after']).toBeDefined();
  });

  it('answers 400 for what the caller must change (a delay on a FIFO queue)', async () => {
    const answer = await handleJobRequest(
      event(job),
      deps({
        send: async () => {
          throw new ProducerConfigError('queue "jobs" is FIFO, and SQS cannot delay a single FIFO message');
        },
      }),
    );
    expect(answer.statusCode).toBe(400);
    expect(JSON.parse(answer.body)).toEqual({ message: 'bad request' });
  });

  it('accepts a job request whose JSON follows a UTF-8 byte order mark', async () => {
    const answer = await handleJobRequest(event(`\uFEFF${job}`), deps());
    expect(answer.statusCode).toBe(202);
    expect(JSON.parse(answer.body)).toEqual({ id: 'a', state: 'queued' });
  });

  it('answers 413 for a body larger than a webhook may be', async () => {
    const big = JSON.stringify({ type: 'math.double', payload: 'x'.repeat(MAX_WEBHOOK_BODY_BYTES) });
    expect((await handleJobRequest(event(big), deps())).statusCode).toBe(413);
  });
});
