/**
 * The request deadline of the jobs endpoint: a request still waiting on a dependency (the tokens, or a step of the
 * producer's send) when the invocation reaches its margin is answered 503 with its `job rejected` line, never 2xx,
 * and whatever was in flight settles the job's claim so that the caller's retry with the same id gets one job.
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import {
  handleJobRequest,
  type JobsEndpointCollaborators,
  RETRY_AFTER_SECONDS,
} from '../../../lambda/jobs-endpoint/core';
import {
  type BatchEntry,
  type OneTimeSchedule,
  Producer,
  sendGated,
} from '../../../lambda/producer/producer';
import {
  JOBS_ENDPOINT_LATE_SEND_MESSAGE,
  JOBS_ENDPOINT_OUTCOME_MESSAGE,
  JOBS_ENDPOINT_REJECTED_MESSAGE,
} from '../../../lambda/shared/contracts';
import type { ClaimResult, DedupeStore } from '../../../lambda/shared/dedupe-store';
import { DEADLINE_MARGIN_MS, type InvocationContext } from '../../../lambda/shared/invocation-deadline';
import { FakeDeadlineWatch, Gate } from '../ingest/fakes';

const TOKEN = 'the-token';
const TIMEOUT_MS = 10_000;
/** The steps a request can hang in: the token fetch and each dependency of the producer's send. */
type Step = 'secret_fetch' | 'dedupe_claim' | 'payload_upload' | 'enqueue' | 'schedule';

/** An in-memory dedupe table: a claim is pending until completed (then a duplicate) or released (then free). */
function memoryDedupe(): DedupeStore {
  const records = new Map<string, { token: string; queued: boolean }>();
  let tokens = 0;
  return {
    async claim(key): Promise<ClaimResult> {
      const record = records.get(key);
      if (record) return { status: record.queued ? 'duplicate' : 'in_progress' };
      const token = `token-${++tokens}`;
      records.set(key, { token, queued: false });
      return { status: 'claimed', token, generation: 'g1' };
    },
    async complete(key, token) {
      const record = records.get(key);
      if (record?.token === token) record.queued = true;
    },
    async release(key, token) {
      if (records.get(key)?.token === token) records.delete(key);
    },
  };
}

/** The endpoint with a real producer whose dependencies the test can make hang, on a clock the test moves. */
function harness() {
  let clock = 0;
  const gates = new Map<Step, Gate>();
  const pass = async (step: Step) => gates.get(step)?.pass();
  const sent: BatchEntry[] = [];
  const schedules: OneTimeSchedule[] = [];
  const logs: { level: string; message: string; attributes: Record<string, unknown> }[] = [];
  const producer = new Producer({
    queues: {
      jobs: { name: 'jobs', url: 'https://sqs/jobs', arn: 'arn:aws:sqs:eu-west-1:1:jobs', fifo: false },
    },
    settings: {
      dedupe: { tableName: 'dedupe', ttlSeconds: 3600 },
      payloads: { bucket: 'payloads', inlineLimitBytes: 2_000 },
      scheduler: { namePrefix: 'App-job-', roleArn: 'arn:aws:iam::1:role/send' },
    },
    dedupe: wrapClaims(memoryDedupe(), () => pass('dedupe_claim')),
    retry: { attempts: 1, baseDelayMs: 1 },
    now: () => Date.parse('2026-11-30T00:00:00Z'),
    sleep: async () => {},
    async sendBatch(_url, entries) {
      await pass('enqueue');
      sent.push(...entries);
      return [];
    },
    async putPayload() {
      await pass('payload_upload');
    },
    scheduler: {
      async create(schedule) {
        await pass('schedule');
        // As Scheduler does with a name it holds (the adapter reads the ConflictException as created).
        if (!schedules.some((s) => s.name === schedule.name)) schedules.push(schedule);
      },
      delete: async () => true,
    },
  });
  const deadlines = new FakeDeadlineWatch();
  const record = (level: string) => (message: string, attributes: object) =>
    logs.push({ level, message, attributes: attributes as Record<string, unknown> });
  const deps = {
    queues: new Set(['jobs']),
    tokenSecretId: 'secret',
    loadTokens: async () => {
      await pass('secret_fetch');
      return [TOKEN];
    },
    send: ((job, payload, options, gate) =>
      sendGated(producer, job, payload, options, gate)) satisfies JobsEndpointCollaborators['send'],
    deadlines,
    log: { info: record('INFO'), warn: record('WARN'), error: record('ERROR') },
  };
  return {
    deps,
    deadlines,
    sent,
    schedules,
    logs,
    /** Makes `step` hang from now on, until the returned gate is opened or failed. */
    hold(step: Step): Gate {
      const gate = new Gate();
      gates.set(step, gate);
      return gate;
    },
    /** The Lambda context of an invocation starting now. */
    invocation(): InvocationContext {
      const endsAt = clock + TIMEOUT_MS;
      return { getRemainingTimeInMillis: () => endsAt - clock };
    },
    /** Moves the clock to the margin of the invocations started at 0 and checks the deadlines. */
    reachDeadline(): boolean {
      clock = TIMEOUT_MS - DEADLINE_MARGIN_MS;
      return deadlines.check();
    },
  };
}

/** A dedupe store whose claims wait for `before` first. */
function wrapClaims(store: DedupeStore, before: () => Promise<void>): DedupeStore {
  return {
    claim: async (key, ttl) => {
      await before();
      return store.claim(key, ttl);
    },
    complete: (key, token, fields) => store.complete(key, token, fields),
    release: (key, token) => store.release(key, token),
  };
}

function event(body: object): APIGatewayProxyEventV2 {
  return {
    rawPath: '/jobs/jobs',
    pathParameters: { queue: 'jobs' },
    headers: { authorization: `Bearer ${TOKEN}` },
    body: JSON.stringify(body),
    isBase64Encoded: false,
  } as unknown as APIGatewayProxyEventV2;
}

/** Lets the background work of an answered request run to its end. */
async function drain(): Promise<void> {
  for (let i = 0; i < 20; i += 1) await new Promise((resolve) => setImmediate(resolve));
}

/** A job the step is part of: a large payload goes through the bucket, a delay over 15 minutes a schedule. */
function jobFor(step: Step): object {
  const base = { type: 'math.double', id: `job-${step}` };
  if (step === 'payload_upload') return { ...base, payload: { text: 'x'.repeat(5_000) } };
  if (step === 'schedule') return { ...base, payload: { n: 1 }, delay: 3_600 };
  return { ...base, payload: { n: 1 } };
}

/** What the retry of a request answered 503 at each step gets once the step completed late. */
const RETRY_AFTER_LATE: Record<Step, 'queued' | 'scheduled' | 'duplicate'> = {
  // Nothing started past the deadline: the claim was released (or never taken), so the retry sends the job.
  secret_fetch: 'queued',
  dedupe_claim: 'queued',
  payload_upload: 'queued',
  // The delivery completed late and completed its claim: the retry is a duplicate and sends nothing.
  enqueue: 'duplicate',
  schedule: 'duplicate',
};

describe('jobs endpoint request deadline', () => {
  it.each(Object.keys(RETRY_AFTER_LATE) as Step[])(
    'answers 503 with Retry-After and a deadline_%s line while that step hangs, and the retry gets one job',
    async (step) => {
      const h = harness();
      const gate = h.hold(step);
      const answering = handleJobRequest(event(jobFor(step)), h.deps, h.invocation());
      await drain();
      expect(gate.arrived).toBe(1);
      expect(h.reachDeadline()).toBe(true);
      const answer = await answering;

      expect(answer.statusCode).toBe(503);
      expect(answer.headers['retry-after']).toBe(RETRY_AFTER_SECONDS);
      expect(JSON.parse(answer.body)).toEqual({ message: 'service unavailable' });
      gate.open();
      await drain();
      // The request's outcome line, the deadline's; then, for a send that went out late only, the WARN line that
      // says so (never a 202 line: the caller was answered 503).
      const sentLate = RETRY_AFTER_LATE[step] === 'duplicate';
      expect(h.logs).toEqual([
        {
          level: 'ERROR',
          message: JOBS_ENDPOINT_REJECTED_MESSAGE,
          attributes: expect.objectContaining({ outcome: 'failed', status: 503, reason: `deadline_${step}` }),
        },
        ...(sentLate
          ? [
              {
                level: 'WARN',
                message: JOBS_ENDPOINT_LATE_SEND_MESSAGE,
                attributes: expect.objectContaining({
                  outcome: step === 'schedule' ? 'scheduled' : 'queued',
                  id: `job-${step}`,
                  type: 'math.double',
                  queue: 'jobs',
                  status: 503,
                  reason: `deadline_${step}`,
                }),
              },
            ]
          : []),
      ]);
      if (step !== 'secret_fetch') {
        expect(h.logs[0]?.attributes).toMatchObject({
          id: `job-${step}`,
          type: 'math.double',
          queue: 'jobs',
        });
      }

      const retry = await handleJobRequest(event(jobFor(step)), h.deps, h.invocation());
      expect(retry.statusCode).toBe(202);
      expect(h.logs.at(-1)).toMatchObject({
        message: JOBS_ENDPOINT_OUTCOME_MESSAGE,
        attributes: { outcome: RETRY_AFTER_LATE[step] },
      });
      // Exactly one job went out, whichever request sent it.
      expect(h.sent.length + h.schedules.length).toBe(1);
      expect(h.deadlines.watched.size).toBe(0);
    },
  );

  it('releases the claim of a send that fails after the deadline, so the retry sends the job once', async () => {
    const h = harness();
    const gate = h.hold('enqueue');
    const answering = handleJobRequest(event(jobFor('enqueue')), h.deps, h.invocation());
    await drain();
    h.reachDeadline();
    expect((await answering).statusCode).toBe(503);
    gate.fail('SQS gave up');
    await drain();
    expect(h.logs).toHaveLength(1);

    const retry = await handleJobRequest(event(jobFor('enqueue')), h.deps, h.invocation());
    expect(retry.statusCode).toBe(202);
    expect(h.logs[1]?.attributes).toMatchObject({ outcome: 'queued' });
    expect(h.sent).toHaveLength(1);
  });

  it('answers a request decided before its deadline as usual, and stops watching it', async () => {
    const h = harness();
    const answer = await handleJobRequest(event(jobFor('enqueue')), h.deps, h.invocation());
    expect(answer.statusCode).toBe(202);
    expect(h.deadlines.watched.size).toBe(0);
    expect(h.reachDeadline()).toBe(false);
    expect(h.logs).toHaveLength(1);
  });

  it('keeps a tenth of a short invocation as its margin, not a whole second', async () => {
    const h = harness();
    h.hold('enqueue');
    let clock = 0;
    const invocation = { getRemainingTimeInMillis: () => 2_000 - clock };
    const answering = handleJobRequest(event(jobFor('enqueue')), h.deps, invocation);
    await drain();
    clock = 1_000;
    expect(h.deadlines.check()).toBe(false);
    clock = 1_800;
    expect(h.deadlines.check()).toBe(true);
    expect((await answering).statusCode).toBe(503);
  });
});
