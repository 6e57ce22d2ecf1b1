/**
 * Jobs on FIFO queues end to end on local mode: the real producer (finding local mode through its state file), the
 * real consumer runtime with a job consumer, fauxqs's FIFO queues and dynalite.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration } from 'aws-cdk-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProducer, type Producer, ProducerConfigError } from '../../lambda/producer';
import { runHooklineInProcessOk } from '../helpers/local/cli';
import { doubleJob, failingJob, partJob } from '../helpers/local/jobs';
import { startTestPipeline, type TestPipeline, testConfig } from '../helpers/local/pipeline';

/** The real CLI, finding local mode through the state directory `dir`. */
function cli(dir: string, ...args: string[]) {
  return runHooklineInProcessOk(dir, args);
}

const JOB_CONSUMER = fileURLToPath(new URL('../helpers/local/job-consumer.ts', import.meta.url));

const fifoJobQueue = (timeoutSeconds: number) => ({
  fifo: true,
  maxReceiveCount: 5,
  consumer: {
    entry: JOB_CONSUMER,
    timeout: Duration.seconds(timeoutSeconds),
    batchSize: 10,
    retry: { base: Duration.seconds(1), factor: 1, max: Duration.seconds(1) },
  },
});

describe('jobs on FIFO queues (local mode, real producer and consumer)', () => {
  let pipeline: TestPipeline;
  let dir: string;
  let producer: Producer;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hookline-fifo-jobs-'));
    pipeline = await startTestPipeline(testConfig({ jobs: fifoJobQueue(30), parts: fifoJobQueue(30) }), {
      stateDir: dir,
    });
    const stateFile = join(dir, 'producer.json');
    writeFileSync(stateFile, JSON.stringify(pipeline.local.status()));
    producer = createProducer({ local: stateFile, baseDelayMs: 20 });
  }, 120_000);
  afterAll(async () => {
    await pipeline?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** The ids the consumer ran, in the order it ran them. */
  const ran = () => pipeline.sideEffects().map((e) => e.id);

  it('a sendBatch of more than ten jobs of one group runs them one by one in the order given', async () => {
    const jobs = Array.from({ length: 25 }, (_, n) => ({
      job: doubleJob,
      payload: { n },
      options: { id: `batch-${n}`, group: 'customer-1' },
    }));
    const sent = await producer.sendBatch(jobs);
    expect(sent.map((s) => s.id)).toEqual(jobs.map((j) => j.options.id));
    await pipeline.waitFor(
      () => ran().filter((id) => id.startsWith('batch-')).length >= 25,
      60_000,
      '25 jobs',
    );
    expect(ran().filter((id) => id.startsWith('batch-'))).toEqual(jobs.map((j) => j.options.id));
  });

  it("a failing job holds its group's later jobs until it succeeds, in order; another group goes on", async () => {
    const gate = join(dir, 'gate');
    writeFileSync(gate, '');
    await producer.sendBatch([
      { job: partJob, payload: { n: 1, failWhile: gate }, options: { id: 'a-1', group: 'a' } },
      { job: partJob, payload: { n: 2 }, options: { id: 'a-2', group: 'a' } },
      { job: partJob, payload: { n: 3 }, options: { id: 'a-3', group: 'a' } },
      { job: partJob, payload: { n: 4 }, options: { id: 'b-1', group: 'b' } },
    ]);
    await pipeline.waitFor(() => ran().includes('b-1'), 30_000, 'group b to run');
    // a-1 failed at least once by now (it was received with b-1), and nothing of group a ran past it.
    expect(ran().filter((id) => id.startsWith('a-'))).toEqual([]);
    unlinkSync(gate);
    await pipeline.waitFor(() => ran().includes('a-3'), 30_000, 'group a to finish');
    expect(ran().filter((id) => id.startsWith('a-'))).toEqual(['a-1', 'a-2', 'a-3']);
    expect((await producer.status('a-1'))?.state).toBe('completed');
    expect(existsSync(gate)).toBe(false);
  });

  it('a delay on a FIFO queue is refused before anything is sent, saying why', async () => {
    const before = readFileSync(pipeline.recordFile, 'utf8');
    await expect(
      producer.send(doubleJob, { n: 1 }, { id: 'delayed-1', delay: { seconds: 30 } }),
    ).rejects.toThrow(ProducerConfigError);
    await expect(producer.send(doubleJob, { n: 1 }, { delay: { seconds: 30 } })).rejects.toThrow(
      /is FIFO, and SQS cannot delay a single FIFO message/,
    );
    // The refused id was not claimed: sent again without the delay, it runs.
    await producer.send(doubleJob, { n: 1 }, { id: 'delayed-1' });
    await pipeline.waitFor(() => ran().includes('delayed-1'), 30_000, 'the job sent again');
    expect(readFileSync(pipeline.recordFile, 'utf8').startsWith(before)).toBe(true);
  });

  it('a dead-lettered job keeps its group in the DLQ, failed list names it, and a redrive sends it back to it', async () => {
    await producer.send(failingJob, { why: 'no stock' }, { id: 'dead-1', group: 'customer-9' });
    await pipeline.waitFor(
      () => pipeline.events.some((e) => e.event === 'dead-lettered' && e.id === 'dead-1'),
      30_000,
      'the dead letter',
    );
    const listed = JSON.parse((await cli(dir, 'failed', 'list', 'jobs', '--local', '--json')).stdout) as {
      messages: { id: string; messageGroupId?: string; error?: { message?: string } }[];
    };
    const letter = listed.messages.find((m) => m.id === 'dead-1');
    expect(letter).toMatchObject({ messageGroupId: 'customer-9' });
    expect(JSON.stringify(letter)).toContain('cannot: no stock');
    await cli(dir, 'redrive', 'jobs', '--id', 'dead-1', '--local');
    // Back in its group, it runs again (and fails again: the cause was not fixed).
    await pipeline.waitFor(
      () => pipeline.events.filter((e) => e.event === 'dead-lettered' && e.id === 'dead-1').length === 2,
      30_000,
      'the redriven job to run again',
    );
    const again = pipeline.events.filter((e) => e.event === 'dead-lettered' && e.id === 'dead-1');
    expect(again.length).toBe(2);
  }, 120_000);

  it("a job held behind its group's failing job keeps its own attempts: with attempts 2 it runs twice", async () => {
    const gate = join(dir, 'held-gate');
    const later = join(dir, 'held-later');
    writeFileSync(gate, '');
    writeFileSync(later, '');
    // Paused while both are sent, so one receive takes both, as SQS hands a consumer a group's waiting messages.
    await pipeline.local.pauseConsumer('parts');
    await producer.sendBatch([
      { job: partJob, payload: { n: 1, failWhile: gate }, options: { id: 'h-1', group: 'h', attempts: 5 } },
      { job: partJob, payload: { n: 2, failWhile: later }, options: { id: 'h-2', group: 'h', attempts: 2 } },
    ]);
    pipeline.local.setConsumerEnabled('parts', true);
    const lines = (id: string, event: string) =>
      pipeline.events.filter((e) => e.event === event && e.id === id);
    // h-2 is held (received, not run) each time h-1 fails.
    await pipeline.waitFor(() => lines('h-1', 'retried').length >= 2, 30_000, 'h-1 to fail twice');
    unlinkSync(gate);
    await pipeline.waitFor(() => lines('h-2', 'retried').length === 1, 30_000, 'h-2 to fail once');
    expect(JSON.stringify(lines('h-2', 'retried')[0])).toMatch(/"attempt":1\b/);
    unlinkSync(later);
    await pipeline.waitFor(() => ran().includes('h-2'), 30_000, 'h-2 to run again');
    // Its second run, on its fourth receive or later: the handler sees attempt 2, and it completes.
    expect(pipeline.sideEffects().filter((e) => e.id === 'h-2')).toEqual([{ id: 'h-2', attempt: 2 }]);
    expect(lines('h-2', 'dead-lettered')).toEqual([]);
    expect((await producer.status('h-2'))?.state).toBe('completed');
  }, 60_000);
});
