/**
 * Flows end to end on local mode: the real producer's `sendFlow`, the real consumer runtime on two queues, fauxqs,
 * dynalite, and the real CLI (`jobs show`, `jobs list`, `redrive`) on flows whose child was dead-lettered: one the
 * parent waits for, one it ignores (`ignoreDependencyOnFailure`), one that fails it (`failParentOnFailure`).
 */

import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration } from 'aws-cdk-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProducer, type Producer } from '../../lambda/producer';
import { runHooklineInProcessOk } from '../helpers/local/cli';
import { doubleJob, failingJob, partJob, reportJob } from '../helpers/local/jobs';
import { startTestPipeline, type TestPipeline, testConfig } from '../helpers/local/pipeline';

const JOB_CONSUMER = fileURLToPath(new URL('../helpers/local/job-consumer.ts', import.meta.url));

const consumer = {
  entry: JOB_CONSUMER,
  timeout: Duration.seconds(30),
  batchSize: 10,
  retry: { base: Duration.seconds(1), factor: 1, max: Duration.seconds(1) },
};

/** The real CLI, finding local mode through the state directory `dir`. */
function cli(dir: string, ...args: string[]) {
  return runHooklineInProcessOk(dir, args);
}

/** Polls `status` until `accept` holds (the producer reads the record), failing with what it saw last. */
async function untilStatus(
  producer: Producer,
  id: string,
  accept: (status: Awaited<ReturnType<Producer['status']>>) => boolean,
  what: string,
) {
  const until = Date.now() + 30_000;
  for (;;) {
    const status = await producer.status(id);
    if (accept(status)) return;
    if (Date.now() > until) throw new Error(`${what}: job ${id} is ${JSON.stringify(status)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('flows on local mode', () => {
  let pipeline: TestPipeline;
  let dir: string;
  let producer: Producer;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hookline-flows-'));
    pipeline = await startTestPipeline(
      testConfig({ jobs: { maxReceiveCount: 3, consumer }, parts: { maxReceiveCount: 1, consumer } }),
      // On a persisted data dir: the dynalite flow tests run in memory, so the two stores both hold a flow's counts.
      { stateDir: dir, dataDir: join(dir, 'data') },
    );
    const stateFile = join(dir, 'producer-state.json');
    writeFileSync(stateFile, JSON.stringify(pipeline.local.status()));
    producer = createProducer({ local: stateFile, baseDelayMs: 20 });
  });
  afterAll(async () => {
    await pipeline?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const runsOf = (id: string) => pipeline.sideEffects().filter((e) => e.id === id);

  it('runs the parent once, after its three children on two queues, with their results', async () => {
    const sent = await producer.sendFlow({
      job: reportJob,
      payload: { name: 'weekly' },
      options: { id: 'weekly' },
      children: [
        { job: doubleJob, payload: { n: 4 }, options: { id: 'weekly-double' } },
        { job: partJob, payload: { n: 2 }, options: { id: 'weekly-p2' } },
        { job: partJob, payload: { n: 3 }, options: { id: 'weekly-p3' } },
      ],
    });
    expect(sent).toMatchObject({ id: 'weekly', state: 'waiting-children' });
    await pipeline.waitFor(() => runsOf('weekly').length > 0, 30_000, 'the parent to run');
    const children = ['weekly-double', 'weekly-p2', 'weekly-p3'].map((id) => runsOf(id).length);
    expect(children).toEqual([1, 1, 1]);
    const effects = pipeline.sideEffects().map((e) => e.id);
    expect(effects.indexOf('weekly')).toBeGreaterThan(
      Math.max(...['weekly-double', 'weekly-p2', 'weekly-p3'].map((id) => effects.indexOf(id))),
    );
    await pipeline.settled('jobs', 20_000);
    expect(runsOf('weekly')).toHaveLength(1);
    const status = await producer.status('weekly');
    expect(status).toMatchObject({ state: 'completed', children: { total: 3, pending: [] } });
    expect(status?.result).toMatchObject({
      children: {
        'weekly-double': { doubled: 8 },
        'weekly-p2': { squared: 4 },
        'weekly-p3': { squared: 9 },
      },
    });
  }, 60_000);

  it('waits while a child is dead-lettered, says which, and finishes once the child is redriven', async () => {
    const marker = join(dir, 'part-not-ready');
    writeFileSync(marker, '');
    await producer.sendFlow({
      job: reportJob,
      payload: { name: 'monthly' },
      options: { id: 'monthly' },
      children: [
        { job: partJob, payload: { n: 5 }, options: { id: 'monthly-ok' } },
        { job: partJob, payload: { n: 6, failWhile: marker }, options: { id: 'monthly-late' } },
      ],
    });
    await untilStatus(
      producer,
      'monthly-late',
      (s) => s?.state === 'dead-lettered',
      'the child to be dead-lettered',
    );
    await untilStatus(
      producer,
      'monthly',
      (s) => s?.children?.completed.length === 1,
      'the other child to be counted',
    );
    const shown = await cli(dir, 'jobs', 'show', 'monthly', '--local');
    expect(shown.stdout).toContain('waiting-children');
    expect(shown.stdout).toContain(
      'waiting for its children: 1 of 2 completed, waiting for monthly-late; child monthly-late is dead-lettered (Error: the part is not ready): hookline redrive parts --id monthly-late --local runs it again; or cancel this job (hookline jobs cancel monthly --local)',
    );
    const json = JSON.parse(
      (await cli(dir, 'jobs', 'list', '--state', 'waiting-children', '--local', '--json')).stdout,
    );
    expect(json.jobs.map((j: { id: string }) => j.id)).toContain('monthly');

    unlinkSync(marker);
    await cli(dir, 'redrive', 'parts', '--id', 'monthly-late', '--local');
    await pipeline.waitFor(() => runsOf('monthly').length > 0, 30_000, 'the parent to run');
    // Its record takes the result once its handler has returned, a moment after the run is seen.
    await untilStatus(
      producer,
      'monthly',
      (s) => s?.result !== undefined,
      "the parent's result to be recorded",
    );
    expect((await producer.status('monthly'))?.result).toEqual({
      children: { 'monthly-ok': { squared: 25 }, 'monthly-late': { squared: 36 } },
    });
  }, 90_000);

  it('runs the parent without a child sent with ignoreDependencyOnFailure that threw PermanentError, handing it why', async () => {
    await producer.sendFlow({
      job: reportJob,
      payload: { name: 'daily' },
      options: { id: 'daily' },
      children: [
        { job: partJob, payload: { n: 7 }, options: { id: 'daily-ok' } },
        {
          job: failingJob,
          payload: { why: 'no data' },
          options: { id: 'daily-broken', ignoreDependencyOnFailure: true },
        },
      ],
    });
    const done = await producer.waitFor('daily', { timeout: { seconds: 30 } });
    expect(done).toMatchObject({
      state: 'completed',
      children: { completed: ['daily-ok'], ignored: { 'daily-broken': 'PermanentError: cannot: no data' } },
      result: {
        children: { 'daily-ok': { squared: 49 } },
        failedChildren: { 'daily-broken': 'PermanentError: cannot: no data' },
      },
    });
    const shown = await cli(dir, 'jobs', 'show', 'daily', '--local');
    expect(shown.stdout).toMatch(
      /children +1 of 2 completed, 1 dead-lettered with ignoreDependencyOnFailure/,
    );
  }, 60_000);

  it('fails the parent of a child sent with failParentOnFailure that threw PermanentError, and says so', async () => {
    await producer.sendFlow({
      job: reportJob,
      payload: { name: 'hourly' },
      options: { id: 'hourly' },
      children: [
        { job: partJob, payload: { n: 8 }, options: { id: 'hourly-ok' } },
        {
          job: failingJob,
          payload: { why: 'no data' },
          options: { id: 'hourly-broken', failParentOnFailure: true },
        },
      ],
    });
    const failed = await producer.waitFor('hourly', { timeout: { seconds: 30 } });
    expect(failed).toMatchObject({
      state: 'child-failed',
      reason: 'FlowChildFailedError: child hourly-broken dead-lettered: PermanentError: cannot: no data',
    });
    const shown = await cli(dir, 'jobs', 'show', 'hourly', '--local');
    expect(shown.stdout).toMatch(/^state +child-failed$/m);
    expect(shown.stdout).toContain(
      'child hourly-broken was dead-lettered (PermanentError: cannot: no data); once its cause is fixed, hookline redrive jobs --id hourly-broken --local runs it again; sent with failParentOnFailure, it fails this job: it is not sent unless that child runs again and completes; or cancel this job (hookline jobs cancel hourly --local)',
    );
    const listed = JSON.parse(
      (await cli(dir, 'jobs', 'list', '--state', 'child-failed', '--local', '--json')).stdout,
    );
    expect(listed.jobs.map((j: { id: string }) => j.id)).toEqual(['hourly']);
    await pipeline.settled('jobs', 20_000);
    expect(runsOf('hourly')).toEqual([]);
  }, 60_000);

  it("sends a parent failed by its child's dead-lettering once that child's redrive completes", async () => {
    const marker = join(dir, 'part-broken');
    writeFileSync(marker, '');
    await producer.sendFlow({
      job: reportJob,
      payload: { name: 'yearly' },
      options: { id: 'yearly' },
      children: [
        {
          job: partJob,
          payload: { n: 9, failWhile: marker },
          options: { id: 'yearly-part', failParentOnFailure: true },
        },
      ],
    });
    // The parts queue's one receive is its last: the runtime dead-letters the child on it.
    expect(await producer.waitFor('yearly', { timeout: { seconds: 30 } })).toMatchObject({
      state: 'child-failed',
      reason: 'FlowChildFailedError: child yearly-part dead-lettered: Error: the part is not ready',
    });
    unlinkSync(marker);
    await cli(dir, 'redrive', 'parts', '--id', 'yearly-part', '--local');
    // Not waitFor: it answers at once while the parent is still child-failed, a state only an operator's act ends.
    await untilStatus(producer, 'yearly', (s) => s?.state === 'completed', 'the parent to run');
    const done = await producer.status('yearly');
    expect(done?.result).toEqual({ children: { 'yearly-part': { squared: 81 } } });
    expect(done?.reason).toBeUndefined();
  }, 90_000);
});
