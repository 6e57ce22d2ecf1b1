/**
 * Jobs the consumer did not start before its deadline margin, end to end on local mode: the real producer, the real
 * consumer runtime in its sandbox, the emulated event source mapping, fauxqs and dynalite. A batch holds more work
 * than an invocation can do before its deadline margin, one record at a time: those not started are handed back at
 * once (their visibility set to 0, which the emulated mapping honours as SQS does) and run seconds later, not after
 * the queue's 30-second visibility timeout; and their next run is still their first attempt (the receive spent
 * without running is counted apart, on a standard queue too).
 *
 * Sized to pass on a busy machine as on an idle one. A 2 s margin leaves the settling of a batch (the held-receive
 * counts and the hand-back, within the margin less the runtime's 500 ms guard) 1.5 s: on a 2-core machine at load
 * 8 to 10 those took up to 0.8 s, where a 1 s margin's 0.5 s left jobs to the visibility timeout. Every record not
 * started spends a receive, and the one running at the margin spends an attempt too: `maxReceiveCount` (and with it
 * a job's attempts) is 10, so that the last of ten records runs before its last receive even at one record an
 * invocation, where 5 (and 3 attempts) dead-lettered some under load. The visibility timeout is set to 30 s, above
 * the 28 s each test waits: a record left to it cannot end in time.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration } from 'aws-cdk-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProducer, type Producer } from '../../lambda/producer';
import { slowJob } from '../helpers/local/jobs';
import { recordingQueue, startTestPipeline, type TestPipeline, testConfig } from '../helpers/local/pipeline';

const JOB_CONSUMER = fileURLToPath(new URL('../helpers/local/job-consumer.ts', import.meta.url));
/** One receive's worth (SQS returns at most ten messages a receive). */
const JOBS = 10;
/** Each job's own run: ten of them take 3 s, more than the 2 s an invocation has before its margin. */
const JOB_MS = 300;
/** The batch's records, each received once an invocation until it runs: room for one record an invocation. */
const MAX_RECEIVE_COUNT = 10;
/** Above the 28 s each test waits for every record to end: one left to it would end too late. */
const VISIBILITY_TIMEOUT = Duration.seconds(30);

describe('local mode: jobs not started before the deadline margin', () => {
  let pipeline: TestPipeline;
  let dir: string;
  let producer: Producer;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hookline-not-started-'));
    pipeline = await startTestPipeline(
      testConfig({
        jobs: {
          maxReceiveCount: MAX_RECEIVE_COUNT,
          visibilityTimeout: VISIBILITY_TIMEOUT,
          consumer: {
            entry: JOB_CONSUMER,
            timeout: Duration.seconds(4),
            // Room for the writes that settle a batch on a busy machine (see above).
            deadlineMargin: Duration.seconds(2),
            batchSize: JOBS,
            maxBatchingWindow: Duration.seconds(1),
            parallelism: 1,
            retry: { base: Duration.seconds(1), factor: 1, max: Duration.seconds(1) },
          },
        },
      }),
      { stateDir: dir },
    );
    const stateFile = join(dir, 'producer.json');
    writeFileSync(stateFile, JSON.stringify(pipeline.local.status()));
    producer = createProducer({ local: stateFile, baseDelayMs: 20 });
  }, 120_000);
  afterAll(async () => {
    await pipeline?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('hands them back at once, and they run seconds later as their first attempt', async () => {
    await pipeline.local.pauseConsumer('jobs');
    const ids = Array.from({ length: JOBS }, (_, n) => `late-${n}-${process.pid}`);
    await producer.sendBatch(ids.map((id) => ({ job: slowJob, payload: { ms: JOB_MS }, options: { id } })));
    pipeline.local.setConsumerEnabled('jobs', true);
    const wanted = new Set(ids);
    const ran = () => pipeline.sideEffects().filter((e) => wanted.has(e.id));
    const lines = (event: string) =>
      pipeline.events.filter((e) => e.event === event && wanted.has(e.id ?? ''));

    // Before the visibility timeout that held the first deferred ones before.
    const ended = () => new Set([...lines('processed'), ...lines('dead-lettered')].map((e) => e.id));
    await pipeline.waitFor(() => ended().size === JOBS, 28_000, 'every job to end');
    expect(lines('dead-lettered').map((e) => [e.id, e.reason])).toEqual([]);

    const outcomes = pipeline.events.filter(
      (e) => wanted.has(e.id ?? '') && ['deferred', 'retried', 'processed'].includes(e.event),
    );
    const deferred = outcomes.filter((e) => e.event === 'deferred');
    expect(deferred.length).toBeGreaterThan(0);
    for (const line of deferred) {
      expect(line.reason).toBe('not started: the invocation is close to its timeout');
      // Its next receive (which may defer it again) came within seconds of the deferral.
      const next = outcomes.find(
        (e) => e.id === line.id && Date.parse(e.at ?? '') > Date.parse(line.at ?? ''),
      );
      expect(Date.parse(next?.at ?? '') - Date.parse(line.at ?? ''), line.id).toBeLessThan(10_000);
    }
    // A job that was only ever deferred ran once, as its first attempt, although on a later receive.
    const onlyDeferred = new Set(deferred.map((e) => e.id));
    for (const line of outcomes) if (line.event === 'retried') onlyDeferred.delete(line.id);
    expect(onlyDeferred.size).toBeGreaterThan(0);
    for (const id of onlyDeferred) {
      expect(
        ran().filter((e) => e.id === id),
        id,
      ).toEqual([{ id, attempt: 1 }]);
      expect(outcomes.find((e) => e.id === id && e.event === 'processed')?.attempt, id).toBe(1);
    }
  }, 60_000);
});

describe('local mode: FIFO webhooks not started before the deadline margin', () => {
  let pipeline: TestPipeline;

  beforeAll(async () => {
    pipeline = await startTestPipeline(
      testConfig({
        ordered: recordingQueue(
          {
            fifo: true,
            fifoGrouping: { path: 'customer' },
            maxReceiveCount: MAX_RECEIVE_COUNT,
            visibilityTimeout: VISIBILITY_TIMEOUT,
          },
          {
            timeout: Duration.seconds(4),
            deadlineMargin: Duration.seconds(2),
            batchSize: 10,
            environment: { HOOKLINE_TEST_RECORD_DELAY_MS: String(JOB_MS) },
          },
        ),
      }),
    );
  }, 120_000);
  afterAll(async () => {
    await pipeline?.stop();
  });

  it('hands back at once the groups the batch never reached, and they run seconds later', async () => {
    // Paused while they are sent, so one receive takes all ten, each of its own group (customer).
    await pipeline.local.pauseConsumer('ordered');
    const ids = Array.from({ length: 10 }, (_, n) => `fifo-late-${n}-${process.pid}`);
    for (const [n, id] of ids.entries())
      expect((await pipeline.post('generic', { id, type: 'order.updated', customer: `c-${n}` })).status).toBe(
        202,
      );
    pipeline.local.setConsumerEnabled('ordered', true);
    const wanted = new Set(ids);
    const outcomes = () =>
      pipeline.events.filter(
        (e) => wanted.has(e.id ?? '') && ['deferred', 'retried', 'processed'].includes(e.event),
      );
    await pipeline.waitFor(
      () =>
        new Set(
          outcomes()
            .filter((e) => e.event === 'processed')
            .map((e) => e.id),
        ).size === ids.length,
      28_000,
      'every webhook to run',
    );
    const deferred = outcomes().filter((e) => e.event === 'deferred');
    expect(deferred.length).toBeGreaterThan(0);
    for (const line of deferred) {
      expect(line.reason).toBe('not started: the invocation is close to its timeout');
      const next = outcomes().find(
        (e) => e.id === line.id && Date.parse(e.at ?? '') > Date.parse(line.at ?? ''),
      );
      // Well before the queue's visibility timeout, which held the group before.
      expect(Date.parse(next?.at ?? '') - Date.parse(line.at ?? ''), line.id).toBeLessThan(10_000);
    }
  }, 60_000);
});
