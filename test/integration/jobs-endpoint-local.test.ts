/**
 * The jobs endpoint over real HTTP on local mode: the stack's handler behind `POST /jobs/{queue}`, the real
 * producer behind it (dynalite, fauxqs, the one-time schedule stand-in) and the real job consumer.
 */

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GetScheduleCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import { Duration } from 'aws-cdk-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProducer, type Producer } from '../../lambda/producer';
import { DEFAULT_LOCAL_JOBS_TOKEN } from '../../lib/local/jobs-endpoint';
import { doubleJob } from '../helpers/local/jobs';
import { startTestPipeline, type TestPipeline, testConfig } from '../helpers/local/pipeline';

const JOB_CONSUMER = fileURLToPath(new URL('../helpers/local/job-consumer.ts', import.meta.url));

function endpointConfig() {
  return testConfig(
    {
      jobs: {
        maxReceiveCount: 3,
        consumer: { entry: JOB_CONSUMER, timeout: Duration.seconds(30), batchSize: 10 },
      },
      other: {},
    },
    { jobs: { endpoint: { queues: ['jobs'] } } },
  );
}

describe('jobs endpoint on local mode', () => {
  let pipeline: TestPipeline;
  let dir: string;
  let producer: Producer;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hookline-jobs-endpoint-'));
    pipeline = await startTestPipeline(endpointConfig());
    const stateFile = join(dir, 'local.json');
    writeFileSync(stateFile, JSON.stringify(pipeline.local.status()));
    producer = createProducer({ local: stateFile });
  });
  afterAll(async () => {
    await pipeline?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const post = async (
    path: string,
    body: unknown,
    token: string | null = DEFAULT_LOCAL_JOBS_TOKEN,
  ): Promise<{ status: number; json: Record<string, unknown> }> => {
    const response = await fetch(`${pipeline.local.url}${path}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(token === null ? {} : { authorization: `Bearer ${token}` }),
      },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    return { status: response.status, json: (await response.json()) as Record<string, unknown> };
  };

  async function completed(id: string, timeoutMs = 20_000) {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const status = await producer.status(id);
      if (status?.state === 'completed') return status;
      if (Date.now() > until) throw new Error(`job ${id} is ${status?.state} after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  it('answers 202 with the id once queued, and the job consumer runs the job', async () => {
    const answer = await post('/jobs/jobs', { type: 'math.double', payload: { n: 21 }, id: 'http-42' });
    expect(answer).toEqual({ status: 202, json: { id: 'http-42', state: 'queued' } });
    expect((await completed('http-42')).result).toMatchObject({ doubled: 42 });
  });

  it('answers a job without an id with a new one', async () => {
    const answer = await post('/jobs/jobs', { type: 'math.double', payload: { n: 1 } });
    expect(answer.status).toBe(202);
    const id = answer.json.id as string;
    expect(typeof id).toBe('string');
    await pipeline.waitFor(() => pipeline.sideEffects().some((e) => e.id === id), 20_000, `job ${id} ran`);
  });

  it('runs a job sent twice with one id once, answering 202 with the same id both times', async () => {
    const first = await post('/jobs/jobs', { type: 'math.double', payload: { n: 2 }, id: 'http-twice' });
    const second = await post('/jobs/jobs', { type: 'math.double', payload: { n: 2 }, id: 'http-twice' });
    expect([first.status, second.status]).toEqual([202, 202]);
    expect([first.json.id, second.json.id]).toEqual(['http-twice', 'http-twice']);
    await completed('http-twice');
    // Whatever the second request put on the queue has been handled once the queue is empty.
    await pipeline.settled('jobs', 20_000);
    expect(pipeline.sideEffects().filter((e) => e.id === 'http-twice')).toHaveLength(1);
  });

  it('runs a job four callers send at once with one id once: one sent it, the others are told duplicate with its state', async () => {
    const senders = Array.from({ length: 4 }, () => createProducer({ local: join(dir, 'local.json') }));
    const answers = await Promise.all(senders.map((p) => p.send(doubleJob, { n: 4 }, { id: 'at-once' })));
    expect(answers.filter((a) => !a.duplicate)).toEqual([
      { id: 'at-once', state: 'queued', duplicate: false },
    ]);
    expect(answers.filter((a) => a.duplicate)).toHaveLength(3);
    for (const answer of answers.filter((a) => a.duplicate)) {
      expect(answer).toMatchObject({ id: 'at-once', duplicate: true });
      expect(['queued', 'processing', 'completed']).toContain(answer.state);
    }
    await completed('at-once');
    await pipeline.settled('jobs', 20_000);
    expect(pipeline.sideEffects().filter((e) => e.id === 'at-once')).toHaveLength(1);
  });

  it('answers a repeated id with the state of the job already sent, not a made-up "queued"', async () => {
    const later = { type: 'math.double', payload: { n: 6 }, id: 'http-repeat-later', delay: 20 * 60 };
    const first = await post('/jobs/jobs', later);
    expect(first).toEqual({ status: 202, json: { id: 'http-repeat-later', state: 'scheduled' } });
    expect(await post('/jobs/jobs', later)).toEqual(first);
    expect(await producer.cancel('http-repeat-later')).toBe(true);
    expect(await post('/jobs/jobs', later)).toEqual({
      status: 202,
      json: { id: 'http-repeat-later', state: 'cancelled' },
    });
    const now = { type: 'math.double', payload: { n: 7 }, id: 'http-repeat-done' };
    await post('/jobs/jobs', now);
    await completed('http-repeat-done');
    expect(await post('/jobs/jobs', now)).toEqual({
      status: 202,
      json: { id: 'http-repeat-done', state: 'completed' },
    });
    expect(await producer.send(doubleJob, { n: 7 }, { id: 'http-repeat-later' })).toEqual({
      id: 'http-repeat-later',
      state: 'cancelled',
      duplicate: true,
      dueAt: expect.any(String),
    });
  });

  it('turns a delay over 15 minutes into a one-time schedule', async () => {
    const answer = await post('/jobs/jobs', {
      type: 'math.double',
      payload: { n: 3 },
      id: 'http-later',
      delay: 20 * 60,
      tenant: 'acct_later',
    });
    expect(answer).toEqual({ status: 202, json: { id: 'http-later', state: 'scheduled' } });
    const status = await producer.status('http-later');
    // Its record says whom it is for, although the schedule sends it without a message group.
    expect(status).toMatchObject({
      state: 'scheduled',
      scheduleName: expect.any(String),
      tenant: 'acct_later',
    });
    const scheduler = new SchedulerClient({
      region: pipeline.local.emulators.region,
      endpoint: pipeline.local.status().endpoints.scheduler ?? '',
      credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    });
    const schedule = await scheduler.send(new GetScheduleCommand({ Name: status?.scheduleName }));
    expect(JSON.parse(schedule.Target?.Input ?? '{}')).toMatchObject({
      id: 'http-later',
      type: 'math.double',
    });
    const at = await post('/jobs/jobs', {
      type: 'math.double',
      payload: { n: 4 },
      id: 'http-at',
      delay: new Date(Date.now() + 3_600_000).toISOString(),
    });
    expect(at.json.state).toBe('scheduled');
  });

  it('debounces a job over HTTP: quick requests with one id run it once, with the last payload', async () => {
    const debounce = { period: 2, maxWait: 60 };
    for (const n of [1, 2, 3]) {
      const answer = await post('/jobs/jobs', {
        type: 'math.double',
        payload: { n },
        id: 'http-debounced',
        debounce,
      });
      expect(answer).toEqual({ status: 202, json: { id: 'http-debounced', state: 'scheduled' } });
    }
    expect(await producer.status('http-debounced')).toMatchObject({ debounce: { sends: 3 } });
    expect((await completed('http-debounced')).result).toMatchObject({ doubled: 6 });
    await pipeline.settled('jobs', 20_000);
    expect(pipeline.sideEffects().filter((e) => e.id === 'http-debounced')).toHaveLength(1);
  });

  it('answers 400 for a debounce the producer refuses, logging the reason send gives', async () => {
    const before = pipeline.events.length;
    const rejections = () =>
      pipeline.events.slice(before).filter((e) => e.event === 'rejected' && e.via === 'jobs endpoint');
    const answer = await post('/jobs/jobs', {
      type: 'math.double',
      payload: {},
      id: 'http-debounce-refused',
      debounce: { period: 30, maxWait: 10 },
    });
    expect(answer).toEqual({ status: 400, json: { message: 'bad request' } });
    await pipeline.waitFor(() => rejections().length > 0, 10_000, 'the rejection reported');
    expect(rejections()).toEqual([
      expect.objectContaining({
        status: 400,
        reason: expect.stringMatching(
          /^job math.double: debounce maxWait \(10 s\) is shorter than its period \(30 s\)/,
        ),
      }),
    ]);
    expect(await producer.status('http-debounce-refused')).toBeUndefined();
  });

  it('answers 401 with a generic body without a token and with a wrong one, and enqueues nothing', async () => {
    const job = { type: 'math.double', payload: { n: 5 }, id: 'http-unauthorized' };
    const missing = await post('/jobs/jobs', job, null);
    const wrong = await post('/jobs/jobs', job, 'not-the-token');
    expect([missing, wrong]).toEqual([
      { status: 401, json: { message: 'unauthorized' } },
      { status: 401, json: { message: 'unauthorized' } },
    ]);
    expect(await producer.status('http-unauthorized')).toBeUndefined();
  });

  it('answers 400 for malformed JSON and a malformed job', async () => {
    expect((await post('/jobs/jobs', '{"type":')).status).toBe(400);
    expect((await post('/jobs/jobs', { payload: { n: 1 } })).status).toBe(400);
    expect((await post('/jobs/jobs', { type: 'bad type!', payload: {} })).status).toBe(400);
    expect((await post('/jobs/jobs', { type: 'math.double', payload: {}, delay: 'soon' })).status).toBe(400);
    expect((await post('/jobs/jobs', { type: 'math.double', payload: {}, group: 'g' })).status).toBe(400);
  });

  it('says in the log why it answered 400 (the field, what is wrong, never the value) while the caller gets a generic body', async () => {
    const secret = 'jane@example.com-s3cr3t';
    const before = pipeline.events.length;
    const rejections = () =>
      pipeline.events.slice(before).filter((e) => e.event === 'rejected' && e.via === 'jobs endpoint');
    const answer = await post('/jobs/jobs', { type: 'math.double', payload: {}, delay: secret });
    expect(answer).toEqual({ status: 400, json: { message: 'bad request' } });
    await pipeline.waitFor(() => rejections().length > 0, 10_000, 'the rejection reported');
    expect(rejections()).toEqual([
      expect.objectContaining({
        source: 'job',
        queue: 'jobs',
        status: 400,
        reason: expect.stringMatching(/^delay is neither a number of seconds/),
      }),
    ]);
    expect(pipeline.output.join('\n')).not.toContain(secret);
  });

  it('answers 400, never 503, for a payload nested deeper than JSON can be written back', async () => {
    const depth = 100_000;
    const deep = `{"type":"math.double","payload":${'['.repeat(depth)}${']'.repeat(depth)}}`;
    expect(await post('/jobs/jobs', deep)).toEqual({ status: 400, json: { message: 'bad request' } });
  });

  it('answers 400 for a type longer than any event type may be (a metric dimension holds 1,024 characters)', async () => {
    const long = `job.${'x'.repeat(2000)}`;
    expect(await post('/jobs/jobs', { type: long, payload: {} })).toEqual({
      status: 400,
      json: { message: 'bad request' },
    });
    expect((await post('/jobs/jobs', { type: `job.${'x'.repeat(252)}`, payload: {} })).status).toBe(202);
  });

  it('answers 400, never 503, for a delay past any schedulable time and for an id SQS or a table would refuse', async () => {
    for (const delay of [1e15, 1e20, '99999-01-01T00:00:00Z']) {
      const answer = await post('/jobs/jobs', { type: 'math.double', payload: { n: 1 }, delay });
      expect({ delay, status: answer.status, json: answer.json }).toEqual({
        delay,
        status: 400,
        json: { message: 'bad request' },
      });
    }
    for (const id of ['has space', 'ctl\u0001', 'é', 'x'.repeat(201), '']) {
      expect({
        id,
        status: (await post('/jobs/jobs', { type: 'math.double', payload: { n: 1 }, id })).status,
      }).toEqual({ id, status: 400 });
    }
  });

  it('answers 400 for a large job due after the payload bucket would delete its payload, 202 within it', async () => {
    const large = { type: 'math.double', payload: { n: 1, pad: 'x'.repeat(10_000) } };
    const tooLate = await post('/jobs/jobs', { ...large, id: 'http-large-late', delay: 30 * 86_400 });
    expect(tooLate).toEqual({ status: 400, json: { message: 'bad request' } });
    expect(await producer.status('http-large-late')).toBeUndefined();
    const inTime = await post('/jobs/jobs', { ...large, id: 'http-large-soon', delay: 2 * 86_400 });
    expect(inTime).toEqual({ status: 202, json: { id: 'http-large-soon', state: 'scheduled' } });
  });

  it('answers 404 for a queue the endpoint does not serve, configured or not', async () => {
    expect((await post('/jobs/other', { type: 'math.double', payload: {} })).status).toBe(404);
    expect((await post('/jobs/nope', { type: 'math.double', payload: {} })).status).toBe(404);
  });
});
