/**
 * Jobs end to end on local mode: the real producer (finding local mode through its state file), the real
 * consumer runtime with a job consumer, fauxqs, dynalite and the one-time schedule stand-in.
 */

import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { GetScheduleCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { Duration } from 'aws-cdk-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProducer, type Producer } from '../../lambda/producer';
import { JOB_SOURCE } from '../../lambda/shared/job';
import { readArchive } from '../../lib/cli/archive';
import { localS3Client } from '../../lib/local/clients';
import { doubleJob, failingJob, slowJob } from '../helpers/local/jobs';
import { startTestPipeline, type TestPipeline, testConfig } from '../helpers/local/pipeline';

const run = promisify(execFile);
const JOB_CONSUMER = fileURLToPath(new URL('../helpers/local/job-consumer.ts', import.meta.url));
const TWENTY_MINUTES = { minutes: 20 };

function jobsConfig() {
  return testConfig({
    jobs: {
      maxReceiveCount: 3,
      consumer: {
        entry: JOB_CONSUMER,
        timeout: Duration.seconds(30),
        batchSize: 10,
        retry: { base: Duration.seconds(1), factor: 1, max: Duration.seconds(1) },
      },
    },
  });
}

/** A producer that finds this pipeline through a state file, as `createProducer()` finds `npm start`. */
function producerFor(pipeline: TestPipeline, dir: string, extra: { sqs?: SQSClient } = {}): Producer {
  const stateFile = join(dir, `local-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(stateFile, JSON.stringify(pipeline.local.status()));
  return createProducer({
    local: stateFile,
    baseDelayMs: 20,
    ...(extra.sqs ? { clients: { sqs: extra.sqs } } : {}),
  });
}

async function waitForState(producer: Producer, id: string, state: string, timeoutMs = 20_000) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const status = await producer.status(id);
    if (status?.state === state) return status;
    if (Date.now() > until)
      throw new Error(`job ${id} is ${status?.state}, not ${state}, after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('jobs on local mode', () => {
  let pipeline: TestPipeline;
  let dir: string;
  let producer: Producer;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hookline-jobs-'));
    pipeline = await startTestPipeline(jobsConfig(), { consumerConcurrency: 4 });
    producer = producerFor(pipeline, dir);
  });
  afterAll(async () => {
    await pipeline?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('processes each of 1,000 jobs sent through sendBatch exactly once although sends fail', async () => {
    const { LocalFaultySqs } = await import('../helpers/local/faulty-sqs');
    const faulty = new LocalFaultySqs(pipeline.local.status());
    const flaky = producerFor(pipeline, dir, { sqs: faulty.client });
    const before = pipeline.sideEffects().length;
    const results = await flaky.sendBatch(
      Array.from({ length: 1000 }, (_, n) => ({ job: doubleJob, payload: { n } })),
    );
    expect(faulty.injected).toMatchObject({ refused: expect.any(Number), lostAnswers: expect.any(Number) });
    expect(
      faulty.injected.refused + faulty.injected.lostAnswers + faulty.injected.failedCalls,
    ).toBeGreaterThan(20);
    const ids = new Set(results.map((r) => r.id));
    expect(ids.size).toBe(1000);
    await pipeline.waitFor(() => pipeline.sideEffects().length - before >= 1000, 120_000, '1,000 jobs');
    await new Promise((r) => setTimeout(r, 1500));
    const effects = pipeline
      .sideEffects()
      .slice(before)
      .map((e) => e.id);
    expect(effects).toHaveLength(1000);
    expect(new Set(effects)).toEqual(ids);
  }, 180_000);

  it('runs a job sent twice with one key once, and keeps its result', async () => {
    const first = await producer.send(doubleJob, { n: 21 }, { id: 'answer' });
    const second = await producer.send(doubleJob, { n: 21 }, { id: 'answer' });
    expect(first).toMatchObject({ id: 'answer', duplicate: false, state: 'queued' });
    expect(second).toMatchObject({ id: 'answer', duplicate: true });
    const done = await waitForState(producer, 'answer', 'completed');
    expect(done.result).toMatchObject({ doubled: 42 });
    await new Promise((r) => setTimeout(r, 1500));
    expect(pipeline.sideEffects().filter((e) => e.id === 'answer')).toHaveLength(1);
  });

  it('runs a key repeated within one sendBatch once, reporting the repeat as a duplicate', async () => {
    const twice = { job: doubleJob, payload: { n: 9 }, options: { id: 'batch-twice' } };
    const results = await producer.sendBatch([twice, { job: doubleJob, payload: { n: 10 } }, twice]);
    expect(results.map((r) => [r.id === 'batch-twice', r.duplicate])).toEqual([
      [true, false],
      [false, false],
      [true, true],
    ]);
    await waitForState(producer, 'batch-twice', 'completed');
    await new Promise((r) => setTimeout(r, 1500));
    expect(pipeline.sideEffects().filter((e) => e.id === 'batch-twice')).toHaveLength(1);
  });

  it('archives a job sent by the producer once, on its first receive, as a producer event', async () => {
    const since = new Date(Date.now() - 60_000);
    await producer.send(doubleJob, { n: 4 }, { id: 'archived-job' });
    await waitForState(producer, 'archived-job', 'completed');
    await pipeline.local.archive?.flush();
    const s3 = localS3Client(pipeline.local.emulators);
    const archived = await readArchive(s3, {
      bucket: pipeline.local.status().archive?.bucket ?? '',
      source: JOB_SOURCE,
      since,
      until: new Date(),
      accept: (r) => r.envelope.id === 'archived-job',
    });
    s3.destroy();
    expect(archived).toHaveLength(1);
    expect(archived[0]).toMatchObject({ origin: 'producer', queues: ['jobs'], source: JOB_SOURCE });
    expect(archived[0]?.envelope.type).toBe(doubleJob.type);
  });

  it('runs a 2-second delay no earlier than due', async () => {
    const sent = await producer.send(doubleJob, { n: 1 }, { id: 'in-two-seconds', delay: { seconds: 2 } });
    expect(sent.state).toBe('scheduled');
    expect((await producer.status('in-two-seconds'))?.state).toBe('scheduled');
    const done = await waitForState(producer, 'in-two-seconds', 'completed');
    expect((done.result as { ranAt: number }).ranAt).toBeGreaterThanOrEqual(Date.parse(sent.dueAt ?? ''));
  });

  it('moves a job through processing to completed, and a failing one to dead-lettered with its reason', async () => {
    await producer.send(slowJob, { ms: 2000 }, { id: 'slow' });
    await waitForState(producer, 'slow', 'processing');
    expect((await waitForState(producer, 'slow', 'completed')).result).toBe('slept');
    await producer.send(failingJob, { why: 'no mailbox' }, { id: 'doomed' });
    const dead = await waitForState(producer, 'doomed', 'dead-lettered');
    expect(dead.reason).toContain('cannot: no mailbox');
  });

  it('turns a delay over 15 minutes into a one-time schedule that can be cancelled', async () => {
    const sent = await producer.send(doubleJob, { n: 3 }, { id: 'later', delay: TWENTY_MINUTES });
    expect(sent.state).toBe('scheduled');
    const status = await producer.status('later');
    expect(status).toMatchObject({ state: 'scheduled', scheduleName: expect.any(String) });
    const scheduler = new SchedulerClient({
      region: pipeline.local.emulators.region,
      endpoint: pipeline.local.status().endpoints.scheduler ?? '',
      credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    });
    const schedule = await scheduler.send(new GetScheduleCommand({ Name: status?.scheduleName }));
    expect(schedule.ActionAfterCompletion).toBe('DELETE');
    expect(JSON.parse(schedule.Target?.Input ?? '{}')).toMatchObject({
      id: 'later',
      source: 'job',
      type: 'math.double',
    });
    expect(await producer.cancel('later')).toBe(true);
    expect((await producer.status('later'))?.state).toBe('cancelled');
    await expect(
      scheduler.send(new GetScheduleCommand({ Name: status?.scheduleName })),
    ).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
    });
    expect(await producer.cancel('later')).toBe(false);
  });

  it('skips a job cancelled while it waits in its queue', async () => {
    await producer.send(doubleJob, { n: 5 }, { id: 'cancel-me', delay: { seconds: 2 } });
    expect(await producer.cancel('cancel-me')).toBe(true);
    await new Promise((r) => setTimeout(r, 4000));
    expect((await producer.status('cancel-me'))?.state).toBe('cancelled');
    expect(pipeline.sideEffects().filter((e) => e.id === 'cancel-me')).toHaveLength(0);
  });

  it('shows a job and lists jobs by state through the CLI', async () => {
    await producer.send(doubleJob, { n: 4 }, { id: 'cli-later', delay: TWENTY_MINUTES });
    await producer.send(doubleJob, { n: 8 }, { id: 'cli-done' });
    await waitForState(producer, 'cli-done', 'completed');
    writeFileSync(join(dir, 'local.json'), JSON.stringify(pipeline.local.status()));
    const cli = (...args: string[]) =>
      run('npx', ['tsx', 'bin/hookline.ts', ...args], {
        env: { ...process.env, HOOKLINE_STATE_DIR: dir, NO_COLOR: '1' },
        timeout: 60_000,
      });
    const shown = JSON.parse((await cli('jobs', 'show', 'cli-done', '--local', '--json')).stdout);
    expect(shown).toMatchObject({ id: 'cli-done', state: 'completed', result: { doubled: 16 } });
    const scheduled = JSON.parse(
      (await cli('jobs', 'list', '--state', 'scheduled', '--local', '--json')).stdout,
    );
    expect(scheduled.jobs.map((j: { id: string }) => j.id)).toContain('cli-later');
    expect(scheduled.jobs.every((j: { state: string }) => j.state === 'scheduled')).toBe(true);
    const limited = JSON.parse((await cli('jobs', 'list', '--limit', '1', '--local', '--json')).stdout);
    expect(limited.jobs).toHaveLength(1);
    expect(limited.total).toBeGreaterThanOrEqual(2);
    await expect(cli('jobs', 'show', 'no-such-job', '--local')).rejects.toMatchObject({
      stderr: expect.stringContaining('job no-such-job not found'),
    });
    await expect(cli('jobs', 'show', '', '--local')).rejects.toMatchObject({
      stderr: expect.stringContaining('the job id is empty'),
    });
  }, 120_000);

  it('refuses a payload that does not fit the job before sending anything', async () => {
    await expect(producer.send(doubleJob, { n: 'two' } as never)).rejects.toThrow(
      /payload of job math.double is invalid: n:/,
    );
  });
});

describe('one-time schedules across a restart', () => {
  it('fire once due after local mode restarts on the same data directory', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hookline-jobs-restart-'));
    const dataDir = join(dir, 'data');
    const recordDir = join(dir, 'records');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(recordDir);
    try {
      const first = await startTestPipeline(jobsConfig(), { dataDir, recordDir });
      const producer = producerFor(first, dir);
      await producer.send(doubleJob, { n: 7 }, { id: 'after-restart', delay: TWENTY_MINUTES });
      await first.stop();
      // The restarted local mode's clock is past the due time: the saved schedule fires at start.
      const second = await startTestPipeline(jobsConfig(), {
        dataDir,
        recordDir,
        clock: () => Date.now() + 21 * 60_000,
      });
      try {
        const again = producerFor(second, dir);
        const done = await waitForState(again, 'after-restart', 'completed', 30_000);
        expect(done.result).toMatchObject({ doubled: 14 });
        expect(second.sideEffects().filter((e) => e.id === 'after-restart')).toHaveLength(1);
      } finally {
        await second.stop();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);
});
