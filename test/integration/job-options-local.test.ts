/**
 * A job's own attempts and backoff, and waiting for a job, end to end on local mode: the real producer finding
 * local mode through its state file (as `createProducer()` finds `npm start`), the real consumer runtime, fauxqs,
 * dynalite and the real CLI.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Duration } from 'aws-cdk-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProducer, type Producer, ProducerConfigError } from '../../lambda/producer';
import { doubleJob, flakyJob } from '../helpers/local/job-options-consumer';
import { startTestPipeline, type TestPipeline, testConfig } from '../helpers/local/pipeline';

const run = promisify(execFile);
const CONSUMER = fileURLToPath(new URL('../helpers/local/job-options-consumer.ts', import.meta.url));

describe("a job's own attempts and backoff on local mode", () => {
  let pipeline: TestPipeline;
  let dir: string;
  let producer: Producer;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hookline-job-options-'));
    pipeline = await startTestPipeline(
      testConfig({
        jobs: {
          maxReceiveCount: 5,
          // The queue's own backoff is long: a job that retried on it would not finish within the test.
          consumer: {
            entry: CONSUMER,
            timeout: Duration.seconds(30),
            retry: { base: Duration.minutes(5), factor: 2, max: Duration.minutes(10) },
          },
        },
      }),
      { stateDir: dir },
    );
    const stateFile = join(dir, 'producer-local.json');
    writeFileSync(stateFile, JSON.stringify(pipeline.local.status()));
    producer = createProducer({ local: stateFile, baseDelayMs: 20 });
  }, 120_000);
  afterAll(async () => {
    await pipeline?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('dead-letters a job with attempts 2 after exactly 2 runs, with the reason waitFor, its record and failed show give', async () => {
    await producer.send(
      flakyJob,
      { why: 'smtp down' },
      { id: 'two-tries', attempts: 2, backoff: { base: { seconds: 1 }, max: { seconds: 1 } } },
    );
    const good = await producer.send(doubleJob, { n: 21 }, { id: 'good' });
    expect(good.state).toBe('queued');
    await expect(producer.waitFor('good', { timeout: { seconds: 60 } })).resolves.toMatchObject({
      id: 'good',
      state: 'completed',
      result: { doubled: 42 },
    });
    const dead = await producer.waitFor('two-tries', { timeout: { seconds: 60 } });
    const reason = 'AttemptsExhaustedError: attempts exhausted: 2 of 2 (last error: Error: flaky: smtp down)';
    expect(dead).toMatchObject({ id: 'two-tries', state: 'dead-lettered', reason });
    await pipeline.settled('jobs', 30_000);
    expect(pipeline.sideEffects().filter((e) => e.id === 'two-tries')).toEqual([
      { id: 'two-tries', attempt: 1 },
      { id: 'two-tries', attempt: 2 },
    ]);
    const shown = await run(
      'npx',
      ['tsx', 'bin/hookline.ts', 'failed', 'show', 'jobs', 'two-tries', '--local'],
      {
        env: { ...process.env, HOOKLINE_STATE_DIR: dir, NO_COLOR: '1' },
        timeout: 60_000,
      },
    );
    expect(shown.stdout).toContain('AttemptsExhaustedError');
    expect(shown.stdout).toContain('attempts exhausted: 2 of 2 (last error: Error: flaky: smtp down)');
  }, 120_000);

  it("refuses at send more attempts than the queue's maxReceiveCount, which npm start's state file tells", async () => {
    const error = await producer.send(doubleJob, { n: 1 }, { attempts: 6 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProducerConfigError);
    expect((error as Error).message).toMatch(
      /attempts 6 is more than queue "jobs" gives a job: .*use at most 5/,
    );
  });
});
