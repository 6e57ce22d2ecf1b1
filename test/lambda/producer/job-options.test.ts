/** A job's own attempts and backoff at send, and waiting for a job to finish, on the producer core with fakes. */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { discoverProducer } from '../../../lambda/producer/discover';
import {
  type BatchEntry,
  JobNotFoundError,
  JobWaitTimeoutError,
  Producer,
  type ProducerCollaborators,
  ProducerConfigError,
  type SendOptions,
} from '../../../lambda/producer/producer';
import { defineJob } from '../../../lambda/shared/job';
import type { JobState, JobStatus } from '../../../lambda/shared/job-record';
import { jobRetryOf } from '../../../lambda/shared/job-retry';

const job = defineJob('report.build', z.object({ n: z.number() }), { queue: 'jobs' });
const unknownLimitJob = defineJob('report.other', z.object({ n: z.number() }), { queue: 'granted' });

function fakes(statuses: (JobStatus | undefined)[] = []) {
  const sent: BatchEntry[] = [];
  const pauses: number[] = [];
  let clock = Date.parse('2026-11-30T00:00:00Z');
  let reads = 0;
  const deps: ProducerCollaborators = {
    queues: {
      jobs: { name: 'jobs', url: 'https://sqs/jobs', fifo: false, maxReceiveCount: 5 },
      granted: { name: 'granted', url: 'https://sqs/granted', fifo: false },
    },
    settings: {},
    retry: { attempts: 1, baseDelayMs: 1 },
    now: () => clock,
    sleep: async (ms) => {
      pauses.push(ms);
      clock += ms;
    },
    async sendBatch(_url, entries) {
      sent.push(...entries);
      return [];
    },
    async putPayload() {},
    records: {
      read: async () => statuses[Math.min(reads++, statuses.length - 1)],
      cancel: async () => undefined,
    },
  };
  return { deps, sent, pauses, reads: () => reads };
}

const headersOf = (entry: BatchEntry | undefined) => JSON.parse(entry?.MessageBody ?? '{}').headers;

async function refusal(options: SendOptions, which = job): Promise<string> {
  const { deps, sent } = fakes();
  const error = await new Producer(deps).send(which, { n: 1 }, options).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(ProducerConfigError);
  expect(sent).toEqual([]);
  return (error as Error).message;
}

describe("a job's own attempts and backoff", () => {
  it('travel in the envelope the consumer reads them from, in whole seconds', async () => {
    const { deps, sent } = fakes();
    await new Producer(deps).sendBatch([
      {
        job,
        payload: { n: 1 },
        options: { attempts: 2, backoff: { base: { seconds: 1 }, factor: 3, max: { minutes: 2 } } },
      },
      { job, payload: { n: 2 } },
    ]);
    expect(jobRetryOf(headersOf(sent[0]))).toEqual({
      attempts: 2,
      backoff: { baseSeconds: 1, factor: 3, maxSeconds: 120 },
    });
    expect(jobRetryOf(headersOf(sent[1]))).toEqual({});
  });

  it('travel with a job delayed through a one-time schedule, which delivers the envelope without attributes', async () => {
    const { deps } = fakes();
    const inputs: string[] = [];
    const producer = new Producer({
      ...deps,
      queues: {
        jobs: { name: 'jobs', url: 'https://sqs/jobs', arn: 'arn:aws:sqs:eu-west-1:1:jobs', fifo: false },
      },
      settings: { scheduler: { namePrefix: 'App-job-', roleArn: 'arn:aws:iam::1:role/send' } },
      scheduler: {
        create: async (schedule) => void inputs.push(schedule.input),
        delete: async () => true,
      },
    });
    await producer.send(job, { n: 1 }, { delay: { hours: 1 }, attempts: 3, backoff: { factor: 1 } });
    expect(jobRetryOf(JSON.parse(inputs[0] ?? '{}').headers)).toEqual({
      attempts: 3,
      backoff: { factor: 1 },
    });
  });

  it("takes as many attempts as the queue's maxReceiveCount, and refuses more, naming the limit and the fix", async () => {
    const { deps, sent } = fakes();
    await new Producer(deps).send(job, { n: 1 }, { attempts: 5 });
    expect(sent).toHaveLength(1);
    expect(await refusal({ attempts: 6 })).toBe(
      'job report.build: attempts 6 is more than queue "jobs" gives a job: SQS moves a message to its dead-letter queue on receive 5 (its maxReceiveCount) whatever the job asks: use at most 5, or raise queues.jobs.maxReceiveCount in hookline.config.ts',
    );
  });

  it('sends any number of attempts to a queue whose limit it does not know, which the consumer caps', async () => {
    const { deps, sent } = fakes();
    await new Producer(deps).send(unknownLimitJob, { n: 1 }, { attempts: 50 });
    expect(jobRetryOf(headersOf(sent[0]))).toEqual({ attempts: 50 });
  });

  // Quoted as passed: JSON would write NaN and Infinity as null.
  it.each([
    [0, '0'],
    [-1, '-1'],
    [1.5, '1.5'],
    [Number.NaN, 'NaN'],
    [Number.POSITIVE_INFINITY, 'Infinity'],
    ['2', '"2"'],
  ])('refuses attempts %s, which is not a whole number from 1, quoting it as %s', async (attempts, shown) => {
    expect(await refusal({ attempts: attempts as number })).toBe(
      `job report.build: attempts ${shown} is not a whole number from 1 (one run, no retry) up to the queue's maxReceiveCount (5)`,
    );
  });

  it('refuses a backoff consumer.retry could not be, with every reason at once', async () => {
    expect(await refusal({ backoff: { base: { minutes: 10 }, factor: 11, max: { hours: 13 } } })).toBe(
      'job report.build: backoff factor 11 is not between 1 and 10: use 2 (each retry waits twice as long); max (46800 s) is not from 1 second to 12 hours, the longest SQS keeps a message hidden',
    );
    expect(await refusal({ backoff: { base: { minutes: 2 }, max: { minutes: 1 } } })).toBe(
      'job report.build: backoff base (120 s) exceeds max (60 s): lower base or raise max',
    );
    expect(await refusal({ backoff: { factor: 0.5 } })).toMatch(/factor 0\.5 is not between 1 and 10/);
    expect(await refusal({ backoff: { max: { seconds: 0 } } })).toMatch(/max \(0 s\) is not from 1 second/);
  });

  it('refuses a backoff without a wait, as consumer.retry.base is refused', async () => {
    expect(await refusal({ backoff: { base: { seconds: 0 } } })).toBe(
      'job report.build: backoff base (0 s) is under 1 second: a retry without a wait is received again at once and spends every attempt within moments; use at least { seconds: 1 }',
    );
  });

  it('refuses BullMQ’s backoff shape and durations it would misread, saying what to write', async () => {
    const bullmq = { type: 'exponential', delay: 1000 } as unknown as SendOptions['backoff'];
    expect(await refusal({ backoff: bullmq })).toBe(
      `job report.build: backoff has "type", "delay": it takes { base, factor, max } (BullMQ's { type: 'exponential', delay: ms } is { base: { seconds: ms / 1000 }, factor: 2 })`,
    );
    const ms = { base: 1000 } as unknown as SendOptions['backoff'];
    expect(await refusal({ backoff: ms })).toMatch(
      // A backoff takes no Date, so its refusal suggests none.
      /backoff\.base 1000 is not a duration: pass \{ seconds: n \} \(a number of milliseconds m is \{ seconds: m \/ 1000 \}\) or \{ minutes, hours, days \}$/,
    );
    expect(await refusal({ backoff: { base: new Date() as never } })).toMatch(/backoff\.base is a Date/);
    expect(await refusal({ backoff: { base: { seconds: 1.5 } } })).toMatch(
      /backoff\.base is 1\.5 s: use whole seconds/,
    );
    expect(await refusal({ backoff: { factor: '2' as never } })).toMatch(
      /backoff factor "2" is not a number/,
    );
    expect(await refusal({ backoff: 5 as never })).toMatch(/backoff 5 is not \{ base, factor, max \}/);
  });

  it('refuses a batch with one bad attempts before sending anything, naming the item', async () => {
    const { deps, sent } = fakes();
    const error = await new Producer(deps)
      .sendBatch([
        { job, payload: { n: 1 } },
        { job, payload: { n: 2 }, options: { attempts: 9 } },
      ])
      .catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/^sendBatch item 1: job report\.build: attempts 9 is more/);
    expect(sent).toEqual([]);
  });
});

describe("where the producer learns a queue's maxReceiveCount", () => {
  it('from explicit queues and not from a granted environment, which does not carry it', () => {
    const explicit = discoverProducer({ queues: { jobs: { url: 'https://sqs/jobs', maxReceiveCount: 3 } } });
    expect(explicit.queues.jobs?.maxReceiveCount).toBe(3);
    const granted = discoverProducer({
      env: {
        HOOKLINE_QUEUES: JSON.stringify({
          account: '123456789012',
          region: 'eu-west-1',
          partition: 'aws',
          urlSuffix: 'amazonaws.com',
          queues: { jobs: { queue: 'App-jobs' } },
        }),
      },
    });
    expect(granted.queues.jobs).toBeDefined();
    expect(granted.queues.jobs?.maxReceiveCount).toBeUndefined();
  });
});

const status = (state: JobState, extra: Partial<JobStatus> = {}): JobStatus => ({
  id: 'j1',
  state,
  ...extra,
});

describe('waiting for a job to finish', () => {
  it.each(['completed', 'dead-lettered', 'child-failed', 'cancelled'] as const)(
    'resolves with the status once the job is %s',
    async (final) => {
      const done = status(final, { result: { ok: true } });
      const { deps } = fakes([status('queued'), status('processing'), done]);
      await expect(new Producer(deps).waitFor('j1', { timeout: { minutes: 1 } })).resolves.toEqual(done);
    },
  );

  it('reads the record after pauses that double from 100 ms up to 2 s, never without one', async () => {
    const { deps, pauses } = fakes([
      ...Array.from({ length: 8 }, () => status('retrying')),
      status('completed'),
    ]);
    await new Producer(deps).waitFor('j1', { timeout: { minutes: 1 } });
    expect(pauses).toEqual([100, 200, 400, 800, 1600, 2000, 2000, 2000]);
  });

  it('rejects when the timeout passes first, with the last state seen, never sleeping past the timeout', async () => {
    const { deps, pauses } = fakes([status('retrying', { attempt: 2, lastError: 'Error: down' })]);
    const error = await new Producer(deps)
      .waitFor('j1', { timeout: { seconds: 1 } })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JobWaitTimeoutError);
    expect((error as JobWaitTimeoutError).lastStatus).toEqual(
      status('retrying', { attempt: 2, lastError: 'Error: down' }),
    );
    expect((error as Error).message).toBe('job j1 is still retrying after waiting 1 s');
    expect(pauses).toEqual([100, 200, 400, 300]);
  });

  it('rejects at once for a job without a record, and without job records at all', async () => {
    const { deps, reads, pauses } = fakes([undefined]);
    const error = await new Producer(deps)
      .waitFor('j1', { timeout: { minutes: 1 } })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JobNotFoundError);
    expect((error as Error).message).toMatch(/sent without the dedupe table/);
    expect([reads(), pauses]).toEqual([1, []]);
    const { records: _none, ...withoutRecords } = deps;
    await expect(new Producer(withoutRecords).waitFor('j1', { timeout: { minutes: 1 } })).rejects.toThrow(
      ProducerConfigError,
    );
  });

  it('needs a timeout', async () => {
    const { deps } = fakes([status('queued')]);
    await expect(new Producer(deps).waitFor('j1', {} as never)).rejects.toThrow(/waitFor needs a timeout/);
  });

  it('stops waiting when its signal aborts, with the signal’s reason', async () => {
    const { deps } = fakes([status('processing')]);
    const controller = new AbortController();
    const never = { ...deps, sleep: () => new Promise<void>(() => {}) };
    const waiting = new Producer(never).waitFor('j1', { timeout: { minutes: 1 }, signal: controller.signal });
    controller.abort(new Error('caller gave up'));
    await expect(waiting).rejects.toThrow('caller gave up');
    const aborted = AbortSignal.abort(new Error('already'));
    await expect(
      new Producer(deps).waitFor('j1', { timeout: { minutes: 1 }, signal: aborted }),
    ).rejects.toThrow('already');
  });
});
