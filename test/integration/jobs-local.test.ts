/**
 * Jobs end to end on local mode: the real producer (finding local mode through its state file), the real
 * consumer runtime with a job consumer, fauxqs, dynalite and the one-time schedule stand-in.
 */

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetScheduleCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { Duration } from 'aws-cdk-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProducer, JobNotFoundError, Producer } from '../../lambda/producer';
import { awsCollaborators, defaultClients } from '../../lambda/producer/aws';
import { discoverProducer } from '../../lambda/producer/discover';
import { createDynamoDedupeStore } from '../../lambda/shared/dedupe-store';
import { JOB_SOURCE } from '../../lambda/shared/job';
import type { JobStatus } from '../../lambda/shared/job-record';
import { readArchive } from '../../lib/cli/archive';
import { localS3Client } from '../../lib/local/clients';
import { runHooklineInProcessOk } from '../helpers/local/cli';
import { doubleJob, echoJob, failingJob, slowJob } from '../helpers/local/jobs';
import { startTestPipeline, type TestPipeline, testConfig } from '../helpers/local/pipeline';

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

/**
 * The real CLI program, finding local mode through the state directory `dir`, run in this process: a process of its
 * own for each command took seconds to start on a busy machine, and several commands in one test outlasted its
 * timeout there.
 */
function cli(dir: string, ...args: string[]) {
  return runHooklineInProcessOk(dir, args);
}

/** Writes this pipeline's state file for a producer; `windowSeconds` shortens the dedupe window it reads. */
function stateFileFor(pipeline: TestPipeline, dir: string, windowSeconds?: number): string {
  const stateFile = join(dir, `local-${Math.random().toString(36).slice(2)}.json`);
  const state = pipeline.local.status();
  const dedupe = state.jobs?.dedupe;
  const jobs =
    windowSeconds !== undefined && dedupe
      ? { ...state.jobs, dedupe: { ...dedupe, ttlSeconds: windowSeconds } }
      : state.jobs;
  writeFileSync(stateFile, JSON.stringify({ ...state, jobs }));
  return stateFile;
}

/** A producer that finds this pipeline through a state file, as `createProducer()` finds `npm start`. */
function producerFor(
  pipeline: TestPipeline,
  dir: string,
  extra: { sqs?: SQSClient; dynamodb?: DynamoDBClient; windowSeconds?: number } = {},
): Producer {
  return createProducer({
    local: stateFileFor(pipeline, dir, extra.windowSeconds),
    baseDelayMs: 20,
    clients: {
      ...(extra.sqs ? { sqs: extra.sqs } : {}),
      ...(extra.dynamodb ? { dynamodb: extra.dynamodb } : {}),
    },
  });
}

/**
 * The real producer on this pipeline whose dedupe store reads a clock `aheadMs` ahead, as a producer that retries
 * after a while: the claims it finds have aged that much.
 */
function producerLaterFor(pipeline: TestPipeline, dir: string, aheadMs: number): Producer {
  const resolved = discoverProducer({ local: stateFileFor(pipeline, dir) });
  const clients = defaultClients(resolved);
  const dedupe = resolved.settings.dedupe;
  if (!dedupe) throw new Error('the test pipeline has no dedupe table');
  return new Producer({
    ...awsCollaborators(resolved, clients, { attempts: 3, baseDelayMs: 20 }),
    dedupe: createDynamoDedupeStore({
      client: clients.dynamodb,
      tableName: dedupe.tableName,
      ttlSeconds: dedupe.ttlSeconds,
      now: () => Date.now() + aheadMs,
    }),
  });
}

/**
 * A DynamoDB client for local mode whose every write marking a claim `queued` fails, as when the producer dies
 * right after its send: the job is on the queue, and its claim stays pending until the lease runs out.
 */
function dynamoLosingClaimCompletions(pipeline: TestPipeline): DynamoDBClient {
  const state = pipeline.local.status();
  const client = new DynamoDBClient({
    region: state.region,
    endpoint: state.endpoints.dynamodb,
    credentials: { accessKeyId: 'hookline-local', secretAccessKey: 'hookline-local' },
  });
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const update = (args.input as { UpdateExpression?: string }).UpdateExpression ?? '';
      if (context.commandName === 'UpdateItemCommand' && update.startsWith('SET #status = :queued'))
        throw Object.assign(new Error('injected: the producer died after its send'), {
          name: 'TimeoutError',
        });
      return next(args);
    },
    { step: 'initialize' },
  );
  return client;
}

/** The archive's records of one job, after writing what the archive's stand-in buffers. */
async function readArchivedJob(pipeline: TestPipeline, id: string, since: Date) {
  await pipeline.local.archive?.flush();
  const s3 = localS3Client(pipeline.local.emulators);
  try {
    return await readArchive(s3, {
      bucket: pipeline.local.status().archive?.bucket ?? '',
      source: JOB_SOURCE,
      since,
      until: new Date(),
      accept: (r) => r.envelope.id === id,
    });
  } finally {
    s3.destroy();
  }
}

async function waitForState(
  producer: Producer,
  id: string,
  state: string,
  timeoutMs = 20_000,
  accept: (status: JobStatus) => boolean = () => true,
) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const status = await producer.status(id);
    if (status?.state === state && accept(status)) return status;
    if (Date.now() > until)
      throw new Error(`job ${id} is ${status?.state}, not ${state}, after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Resolves once `status` no longer knows job `id` (its dedupe window has passed), polling; rejects when it still
 * does `withinMs` after the call.
 */
async function untilForgotten(producer: Producer, id: string, withinMs: number): Promise<void> {
  const until = Date.now() + withinMs;
  for (;;) {
    const status = await producer.status(id);
    if (status === undefined) return;
    if (Date.now() > until)
      throw new Error(`job ${id} is still ${status.state} ${withinMs} ms after it completed`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('jobs on local mode', () => {
  let pipeline: TestPipeline;
  let dir: string;
  let producer: Producer;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hookline-jobs-'));
    // The state directory holds local mode's journal, which `hookline trace --local` reads.
    pipeline = await startTestPipeline(jobsConfig(), { consumerConcurrency: 4, stateDir: dir });
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
    // A send whose answer was lost went twice: its second copy may still be on its way through the consumer.
    await pipeline.settled('jobs', 60_000);
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
    await pipeline.settled('jobs', 20_000);
    expect(pipeline.sideEffects().filter((e) => e.id === 'answer')).toHaveLength(1);
  });

  it('runs a job id sent again after the dedupe window as new work, recorded completed each time', async () => {
    const shortWindow = producerFor(pipeline, dir, { windowSeconds: 2 });
    const first = await shortWindow.send(doubleJob, { n: 1 }, { id: 'reused-id' });
    expect(first).toMatchObject({ duplicate: false, state: 'queued' });
    expect((await waitForState(shortWindow, 'reused-id', 'completed')).result).toMatchObject({ doubled: 2 });
    await untilForgotten(shortWindow, 'reused-id', 3_000);
    // Sent again with a window that outlasts the checks below: a record past its window is no longer the job's.
    const longWindow = producerFor(pipeline, dir, { windowSeconds: 300 });
    const second = await longWindow.send(doubleJob, { n: 2 }, { id: 'reused-id' });
    expect(second).toMatchObject({ duplicate: false, state: 'queued' });
    const done = await waitForState(
      longWindow,
      'reused-id',
      'completed',
      20_000,
      (s) => (s.result as { doubled?: number } | undefined)?.doubled === 4,
    );
    expect(done.type).toBe(doubleJob.type);
    await pipeline.settled('jobs', 20_000);
    expect(pipeline.sideEffects().filter((e) => e.id === 'reused-id')).toHaveLength(2);
    // The job is recorded completed before its run's outcome line is logged, which the journal then keeps.
    await pipeline.waitFor(
      () => pipeline.events.filter((e) => e.id === 'reused-id' && e.event === 'processed').length === 2,
      10_000,
      'both runs in the journal',
    );

    // Its trace: both runs, each once, the newest enqueue (the record's) between them, and a note for the first.
    const traced = JSON.parse((await cli(dir, 'trace', 'reused-id', '--local', '--json')).stdout) as {
      steps: { at: string; step: string; outcome?: string; via?: string; generation?: string }[];
      notes?: string[];
    };
    expect(traced.steps.map((s) => [s.step, s.outcome ?? s.via])).toEqual([
      ['attempt', 'processed'],
      ['queued', 'producer'],
      ['attempt', 'processed'],
    ]);
    expect(traced.steps[1]?.at).toBe(done.enqueuedAt);
    // Each run names its enqueue: the newest is the record's, the first another.
    expect(traced.steps[2]?.generation).toBe(done.generation);
    expect(traced.steps[0]?.generation).toEqual(expect.any(String));
    expect(traced.steps[0]?.generation).not.toBe(done.generation);
    expect(traced.notes).toEqual([
      expect.stringMatching(/^this job id was enqueued before: the attempt before/),
    ]);
  }, 60_000);

  it('forgets a job whose window has passed in status, waitFor, jobs show and jobs list, as a send of its id does', async () => {
    // dynalite never deletes an expired item, and DynamoDB does so days later: the record is still stored.
    const shortWindow = producerFor(pipeline, dir, { windowSeconds: 2 });
    await shortWindow.send(doubleJob, { n: 3 }, { id: 'outlived-id' });
    await waitForState(shortWindow, 'outlived-id', 'completed');
    await untilForgotten(shortWindow, 'outlived-id', 3_500);
    await expect(shortWindow.waitFor('outlived-id', { timeout: { seconds: 5 } })).rejects.toThrow(
      JobNotFoundError,
    );
    const shown = await cli(dir, 'jobs', 'show', 'outlived-id', '--local').catch(
      (e: { stderr: string }) => e,
    );
    expect((shown as { stderr: string }).stderr).toMatch(
      /job outlived-id not found: it was never sent with this id, or its record expired/,
    );
    const listed = JSON.parse(
      (await cli(dir, 'jobs', 'list', '--local', '--json', '--limit', '5000')).stdout,
    ) as {
      jobs: { id: string }[];
    };
    expect(listed.jobs.map((j) => j.id)).not.toContain('outlived-id');
    expect((await shortWindow.send(doubleJob, { n: 4 }, { id: 'outlived-id' })).duplicate).toBe(false);
  }, 60_000);

  it('runs a job once when its producer died after the send and a retry takes over the expired claim', async () => {
    const dying = dynamoLosingClaimCompletions(pipeline);
    const crashed = producerFor(pipeline, dir, { dynamodb: dying });
    expect(await crashed.send(doubleJob, { n: 6 }, { id: 'lease-retry' })).toMatchObject({
      duplicate: false,
    });
    await pipeline.waitFor(
      () => pipeline.sideEffects().some((e) => e.id === 'lease-retry'),
      20_000,
      'the first send to run',
    );
    dying.destroy();
    // Within the dedupe window, past the 30-second lease: the retry claims the key again and sends again.
    const retry = await producerLaterFor(pipeline, dir, 60_000).send(
      doubleJob,
      { n: 6 },
      { id: 'lease-retry' },
    );
    expect(retry).toMatchObject({ duplicate: false });
    const done = await waitForState(producer, 'lease-retry', 'completed');
    expect(done).toMatchObject({ result: { doubled: 12 }, type: doubleJob.type });
    // Both sends are on the queue: the job completes on the first, and the second may not have arrived yet.
    await pipeline.settled('jobs', 20_000);
    expect(pipeline.sideEffects().filter((e) => e.id === 'lease-retry')).toHaveLength(1);
    expect((await producer.status('lease-retry'))?.state).toBe('completed');
  }, 60_000);

  it('runs a key repeated within one sendBatch once, reporting the repeat as a duplicate', async () => {
    const twice = { job: doubleJob, payload: { n: 9 }, options: { id: 'batch-twice' } };
    const results = await producer.sendBatch([twice, { job: doubleJob, payload: { n: 10 } }, twice]);
    expect(results.map((r) => [r.id === 'batch-twice', r.duplicate])).toEqual([
      [true, false],
      [false, false],
      [true, true],
    ]);
    await waitForState(producer, 'batch-twice', 'completed');
    await pipeline.settled('jobs', 20_000);
    expect(pipeline.sideEffects().filter((e) => e.id === 'batch-twice')).toHaveLength(1);
  });

  it('archives a job sent by the producer once, on its first receive, as a producer event', async () => {
    const since = new Date(Date.now() - 60_000);
    await producer.send(doubleJob, { n: 4 }, { id: 'archived-job' });
    await waitForState(producer, 'archived-job', 'completed');
    // The consumer puts the batch's archive lines beside running it, so the job can complete before they arrive;
    // its invocation returns (and its message is deleted) only once they are taken.
    await pipeline.settled('jobs', 20_000);
    const archived = await readArchivedJob(pipeline, 'archived-job', since);
    expect(archived).toHaveLength(1);
    expect(archived[0]).toMatchObject({ origin: 'producer', queues: ['jobs'], source: JOB_SOURCE });
    expect(archived[0]?.envelope.type).toBe(doubleJob.type);
  });

  it('runs a job sent with a tenant, the message group the emulator takes on a standard queue', async () => {
    await producer.send(doubleJob, { n: 4 }, { id: 'tenant-job', tenant: 'acct_1' });
    const done = await waitForState(producer, 'tenant-job', 'completed');
    expect([done.result, done.tenant]).toEqual([expect.objectContaining({ doubled: 8 }), 'acct_1']);
    expect((await cli(dir, 'jobs', 'show', 'tenant-job', '--local')).stdout).toMatch(/^tenant +acct_1$/m);
    const listed = JSON.parse(
      (await cli(dir, 'jobs', 'list', '--limit', '100000', '--local', '--json')).stdout,
    );
    expect(listed.jobs.find((j: { id: string }) => j.id === 'tenant-job')).toMatchObject({
      tenant: 'acct_1',
    });
  }, 90_000);

  it('runs a 2-second delay no earlier than due', async () => {
    const sent = await producer.send(doubleJob, { n: 1 }, { id: 'in-two-seconds', delay: { seconds: 2 } });
    expect(sent.state).toBe('scheduled');
    expect((await producer.status('in-two-seconds'))?.state).toBe('scheduled');
    const done = await waitForState(producer, 'in-two-seconds', 'completed');
    expect((done.result as { ranAt: number }).ranAt).toBeGreaterThanOrEqual(Date.parse(sent.dueAt ?? ''));
  });

  it('moves a job through processing to completed, and a failing one to dead-lettered with its reason', async () => {
    await producer.send(slowJob, { ms: 4000 }, { id: 'slow' });
    await waitForState(producer, 'slow', 'processing', 20_000, (status) => status.progress === 50);
    const done = await waitForState(producer, 'slow', 'completed');
    expect([done.result, done.progress, typeof done.progressAt]).toEqual(['slept', 100, 'string']);
    const slow = await cli(dir, 'jobs', 'show', 'slow', '--local');
    expect(slow.stdout).toMatch(/^progress +100 \(at \d{4}-\d\d-\d\dT/m);
    const listed = JSON.parse(
      (await cli(dir, 'jobs', 'list', '--limit', '100000', '--local', '--json')).stdout,
    );
    expect(listed.jobs.find((j: { id: string }) => j.id === 'slow')).toMatchObject({ progress: 100 });
    await producer.send(failingJob, { why: 'no mailbox' }, { id: 'doomed' });
    const dead = await waitForState(producer, 'doomed', 'dead-lettered');
    expect(dead.reason).toContain('cannot: no mailbox');
  }, 90_000);

  it('says a job redriven while its consumer is paused waits in its queue again, keeping why it was dead-lettered', async () => {
    await producer.send(failingJob, { why: 'no printer' }, { id: 'redriven' });
    await waitForState(producer, 'redriven', 'dead-lettered');
    await cli(dir, 'pause', 'jobs', '--local');
    try {
      await cli(dir, 'redrive', 'jobs', '--id', 'redriven', '--local');
      expect(await producer.status('redriven')).toMatchObject({
        state: 'queued',
        lastError: 'PermanentError: cannot: no printer',
        redrivenAt: expect.any(String),
      });
      const shown = (await cli(dir, 'jobs', 'show', 'redriven', '--local')).stdout;
      expect(shown).toContain('redriven from its dead-letter queue at');
      // Its trace shows the redrive at the time the record says, though no attempt followed it yet.
      const { redrivenAt } = (await producer.status('redriven')) as { redrivenAt: string };
      const traced = JSON.parse((await cli(dir, 'trace', 'redriven', '--local', '--json')).stdout) as {
        steps: { step: string; at: string; inferred?: boolean }[];
      };
      expect(traced.steps.slice(-2).map((s) => s.step)).toEqual(['dead-lettered', 'redriven']);
      expect(traced.steps.at(-1)).toMatchObject({ at: redrivenAt, queue: 'jobs' });
      expect(traced.steps.at(-1)?.inferred).toBeUndefined();
    } finally {
      await cli(dir, 'resume', 'jobs', '--local');
    }
    // It runs again, fails again, and its record says so rather than that it waits.
    expect((await waitForState(producer, 'redriven', 'dead-lettered')).lastError).toBeUndefined();
    // It waits for the consumer to dead-letter the job twice, which takes most of this on a busy machine.
  }, 90_000);

  it('says a job whose dead letter an operator deleted is deleted, not that it went missing', async () => {
    await producer.send(failingJob, { why: 'no fax' }, { id: 'thrown-away' });
    await waitForState(producer, 'thrown-away', 'dead-lettered');
    const deleted = await cli(
      dir,
      'failed',
      'delete',
      'jobs',
      '--id',
      'thrown-away',
      '--yes',
      '--local',
      '--json',
    );
    expect(JSON.parse(deleted.stdout)).toMatchObject({ deletedEvents: 1, deletedIds: ['thrown-away'] });
    expect(await producer.status('thrown-away')).toMatchObject({
      state: 'dead-lettered',
      reason: 'PermanentError: cannot: no fax',
      discardedAt: expect.any(String),
    });
    const shown = (await cli(dir, 'jobs', 'show', 'thrown-away', '--local')).stdout;
    expect(shown).toContain('deleted from its dead-letter queue by an operator at');
    expect(shown).not.toContain('hookline redrive');
  }, 90_000);

  it('turns a delay over 15 minutes into a one-time schedule that can be cancelled, and answers a second cancel true', async () => {
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
    // Cancelled already, the job will not run: the answer `hookline jobs cancel` gives (alreadyCancelled).
    expect(await producer.cancel('later')).toBe(true);
    expect((await producer.status('later'))?.state).toBe('cancelled');
  });

  it('answers cancel false for a job that finished, and for an unknown id', async () => {
    await producer.send(doubleJob, { n: 6 }, { id: 'finished-before-cancel' });
    await waitForState(producer, 'finished-before-cancel', 'completed');
    expect(await producer.cancel('finished-before-cancel')).toBe(false);
    expect((await producer.status('finished-before-cancel'))?.state).toBe('completed');
    expect(await producer.cancel('never-sent')).toBe(false);
  });

  it('skips a job cancelled while it waits in its queue', async () => {
    await producer.send(doubleJob, { n: 5 }, { id: 'cancel-me', delay: { seconds: 2 } });
    expect(await producer.cancel('cancel-me')).toBe(true);
    // Once due, the consumer receives it, sees it cancelled and deletes it.
    await pipeline.settled('jobs', 20_000);
    expect((await producer.status('cancel-me'))?.state).toBe('cancelled');
    expect(pipeline.sideEffects().filter((e) => e.id === 'cancel-me')).toHaveLength(0);
  });

  it('shows, lists and cancels jobs through the CLI', async () => {
    await producer.send(doubleJob, { n: 4 }, { id: 'cli-later', delay: TWENTY_MINUTES });
    await producer.send(doubleJob, { n: 8 }, { id: 'cli-done' });
    await waitForState(producer, 'cli-done', 'completed');
    writeFileSync(join(dir, 'local.json'), JSON.stringify(pipeline.local.status()));
    const shown = JSON.parse((await cli(dir, 'jobs', 'show', 'cli-done', '--local', '--json')).stdout);
    expect(shown).toMatchObject({ id: 'cli-done', state: 'completed', result: { doubled: 16 } });
    const scheduled = JSON.parse(
      (await cli(dir, 'jobs', 'list', '--state', 'scheduled', '--local', '--json')).stdout,
    );
    expect(scheduled.jobs.map((j: { id: string }) => j.id)).toContain('cli-later');
    expect(scheduled.jobs.every((j: { state: string }) => j.state === 'scheduled')).toBe(true);
    const inQueue = JSON.parse(
      (await cli(dir, 'jobs', 'list', '--queue', 'jobs', '--local', '--json')).stdout,
    );
    expect(inQueue.queue).toBe('jobs');
    expect(inQueue.jobs.length).toBeGreaterThanOrEqual(2);
    expect(inQueue.jobs.every((j: { queue: string }) => j.queue === 'jobs')).toBe(true);
    await expect(cli(dir, 'jobs', 'list', '--queue', 'nope', '--local')).rejects.toMatchObject({
      stderr: expect.stringMatching(/unknown queue "nope" in local mode[^:]*: use one of [a-z, ]*jobs/),
    });
    const limited = JSON.parse((await cli(dir, 'jobs', 'list', '--limit', '1', '--local', '--json')).stdout);
    expect(limited.jobs).toHaveLength(1);
    expect(limited.total).toBeGreaterThanOrEqual(2);
    await expect(cli(dir, 'jobs', 'show', 'no-such-job', '--local')).rejects.toMatchObject({
      stderr: expect.stringContaining('job no-such-job not found'),
    });
    await expect(cli(dir, 'jobs', 'show', '', '--local')).rejects.toMatchObject({
      stderr: expect.stringContaining("invalid for argument 'id'. it is empty: give a value"),
    });

    const cancelled = JSON.parse((await cli(dir, 'jobs', 'cancel', 'cli-later', '--local', '--json')).stdout);
    expect(cancelled).toMatchObject({ id: 'cli-later', cancelled: true, was: 'scheduled' });
    expect((await producer.status('cli-later'))?.state).toBe('cancelled');
    // Its text names local mode's scheduler, which removes the schedule once sent: there is no EventBridge Scheduler.
    await producer.send(doubleJob, { n: 5 }, { id: 'cli-later-too', delay: TWENTY_MINUTES });
    const said = (await cli(dir, 'jobs', 'cancel', 'cli-later-too', '--local')).stdout;
    expect(said).toMatch(
      /its one-time schedule \S+ still sends it at \S+, and local mode's scheduler removes the schedule once it has sent it/,
    );
    expect(said).not.toContain('Scheduler deletes');
    // A second cancel is no failure: the job is cancelled, as asked, and the command says nothing changed.
    const again = await cli(dir, 'jobs', 'cancel', 'cli-later', '--local');
    expect(again.stdout).toBe(
      'job cli-later was already cancelled: nothing changed; the consumer skips it\n',
    );
    const againJson = JSON.parse((await cli(dir, 'jobs', 'cancel', 'cli-later', '--local', '--json')).stdout);
    expect(againJson).toEqual({ id: 'cli-later', cancelled: true, was: 'cancelled', alreadyCancelled: true });
    expect((await producer.status('cli-later'))?.state).toBe('cancelled');
    // A job that ran, or none with that id, is different: it cannot be cancelled, and the command fails naming why.
    await expect(cli(dir, 'jobs', 'cancel', 'cli-done', '--local')).rejects.toMatchObject({
      stderr: expect.stringContaining('job cli-done is completed'),
    });
    expect((await producer.status('cli-done'))?.state).toBe('completed');
    await expect(cli(dir, 'jobs', 'cancel', 'no-such-job', '--local')).rejects.toMatchObject({
      stderr: expect.stringContaining('job no-such-job not found'),
    });
  }, 180_000);

  it("cancels every waiting job of a closed account's type at once, after a dry run that changes nothing", async () => {
    const tenant = { tenant: 'closed_acct' };
    await producer.send(doubleJob, { n: 1 }, { id: 'bulk-done', ...tenant });
    await waitForState(producer, 'bulk-done', 'completed');
    await producer.send(slowJob, { ms: 8000 }, { id: 'bulk-running', ...tenant });
    await waitForState(producer, 'bulk-running', 'processing');
    // Paused, the consumer leaves what waits in its queue there: the jobs stay queued until cancelled.
    await cli(dir, 'pause', 'jobs', '--local');
    const matching = ['bulk-q1', 'bulk-q2', 'bulk-soon', 'bulk-later'];
    const statesOf = (ids: string[]) =>
      Promise.all(ids.map(async (id) => (await producer.status(id))?.state));
    try {
      await producer.send(doubleJob, { n: 2 }, { id: 'bulk-q1', ...tenant });
      await producer.send(doubleJob, { n: 3 }, { id: 'bulk-q2', ...tenant });
      await producer.send(doubleJob, { n: 4 }, { id: 'bulk-soon', delay: { seconds: 2 }, ...tenant });
      await producer.send(doubleJob, { n: 5 }, { id: 'bulk-later', delay: TWENTY_MINUTES, ...tenant });
      await producer.send(echoJob, { text: 'other type' }, { id: 'bulk-echo', ...tenant });
      await producer.send(doubleJob, { n: 6 }, { id: 'bulk-open', tenant: 'open_acct' });
      const filter = ['--type', 'math.*', '--tenant', 'closed_acct'];

      const dry = await cli(dir, 'jobs', 'cancel', ...filter, '--local');
      expect(dry.stdout).toMatch(
        /^4 jobs match --type 'math\.\*' --tenant closed_acct \(\d queued, \d scheduled\): bulk-/m,
      );
      expect(dry.stdout).toContain(
        "nothing was cancelled: to cancel them, hookline jobs cancel --type 'math.*' --tenant closed_acct --yes --local",
      );
      const dryJson = JSON.parse((await cli(dir, 'jobs', 'cancel', ...filter, '--local', '--json')).stdout);
      expect(dryJson).toMatchObject({ dryRun: true, matched: 4, cancelled: [], skipped: [] });
      expect([...dryJson.ids].sort()).toEqual([...matching].sort());
      // Nothing changed: the delayed ones are only due or not yet (scheduled, then queued once due).
      const untouched = await statesOf([...matching, 'bulk-echo', 'bulk-open']);
      expect(untouched.every((state) => state === 'queued' || state === 'scheduled')).toBe(true);

      const done = JSON.parse(
        (await cli(dir, 'jobs', 'cancel', ...filter, '--yes', '--local', '--json')).stdout,
      );
      expect(done).toMatchObject({ dryRun: false, matched: 4, skipped: [] });
      expect([...done.cancelled].sort()).toEqual([...matching].sort());
      expect(await statesOf(matching)).toEqual(['cancelled', 'cancelled', 'cancelled', 'cancelled']);
      expect(await statesOf(['bulk-echo', 'bulk-open', 'bulk-done'])).toEqual([
        'queued',
        'queued',
        'completed',
      ]);

      // The tenant alone now matches only the job of the other type: not the running one, nor those cancelled.
      const rest = JSON.parse(
        (await cli(dir, 'jobs', 'cancel', '--tenant', 'closed_acct', '--yes', '--local', '--json')).stdout,
      );
      expect(rest).toMatchObject({ matched: 1, cancelled: ['bulk-echo'], skipped: [] });
      expect((await producer.status('bulk-running'))?.state).toMatch(/^(processing|completed)$/);
      await expect(
        cli(dir, 'jobs', 'cancel', '--tenant', 'closed_acct', '--yes', '--local'),
      ).rejects.toMatchObject({
        code: 1,
        stderr: expect.stringContaining('no job matched --tenant closed_acct in a state a cancel changes'),
      });
      const cancelled = JSON.parse(
        (await cli(dir, 'jobs', 'list', '--state', 'cancelled', '--limit', '100000', '--local', '--json'))
          .stdout,
      );
      const listed = cancelled.jobs
        .map((j: { id: string }) => j.id)
        .filter((id: string) => id.startsWith('bulk-'));
      expect(listed.sort()).toEqual([...matching, 'bulk-echo'].sort());
    } finally {
      await cli(dir, 'resume', 'jobs', '--local');
    }
    // Resumed, the consumer runs the other tenant's job and skips the cancelled ones, the delayed one once due too.
    await waitForState(producer, 'bulk-open', 'completed');
    await waitForState(producer, 'bulk-running', 'completed');
    await pipeline.settled('jobs', 20_000);
    const ran = new Set(pipeline.sideEffects().map((e) => e.id));
    expect(matching.filter((id) => ran.has(id))).toEqual([]);
    expect(await statesOf(matching)).toEqual(['cancelled', 'cancelled', 'cancelled', 'cancelled']);
  }, 180_000);

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
