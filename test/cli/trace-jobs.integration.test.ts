/**
 * `hookline trace` of jobs on the real local mode (emulators, jobs endpoint, job consumer, journal, state file)
 * through the real CLI program: how each job entered the pipeline, from the jobs endpoint's line or the
 * job's record, and a plain statement when neither exists.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration } from 'aws-cdk-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProducer } from '../../lambda/producer';
import { STATE_FILE_NAME } from '../../lambda/shared/local-state';
import type { TraceResult } from '../../lib/cli/trace';
import { DEFAULT_LOCAL_JOBS_TOKEN } from '../../lib/local/jobs-endpoint';
import { runHooklineInProcess } from '../helpers/local/cli';
import { doubleJob } from '../helpers/local/jobs';
import { startTestPipeline, testConfig } from '../helpers/local/pipeline';

const JOB_CONSUMER = fileURLToPath(new URL('../helpers/local/job-consumer.ts', import.meta.url));

function jobsConfig(dedupe: boolean) {
  return testConfig(
    { jobs: { maxReceiveCount: 3, consumer: { entry: JOB_CONSUMER, timeout: Duration.seconds(30) } } },
    { jobs: { endpoint: { queues: ['jobs'] } }, dedupe: { enabled: dedupe } },
  );
}

/** A local mode with its state directory (state file and journal), as `npm start` keeps them. */
async function startJobsPipeline(dedupe: boolean) {
  const stateDir = mkdtempSync(join(tmpdir(), 'hookline-trace-jobs-'));
  const pipeline = await startTestPipeline(jobsConfig(dedupe), { stateDir });
  const producer = createProducer({ local: join(stateDir, STATE_FILE_NAME) });
  const cli = (...args: string[]) => runHooklineInProcess(stateDir, [...args, '--local']);
  const traced = async (id: string): Promise<TraceResult> => {
    const answer = await cli('trace', id, '--json');
    expect(answer.stderr).toBe('');
    return JSON.parse(answer.stdout) as TraceResult;
  };
  const ran = (id: string) =>
    pipeline.waitFor(
      () => pipeline.events.some((e) => e.id === id && e.event === 'processed'),
      20_000,
      `job ${id} processed`,
    );
  return {
    pipeline,
    producer,
    cli,
    traced,
    ran,
    async stop() {
      await pipeline.stop();
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}

const names = (result: TraceResult) =>
  result.steps.map((s) => (s.step === 'attempt' ? `attempt:${s.outcome}` : s.step));

describe('trace of jobs with dedupe on (job records kept)', () => {
  let local: Awaited<ReturnType<typeof startJobsPipeline>>;
  beforeAll(async () => {
    local = await startJobsPipeline(true);
  });
  afterAll(async () => {
    await local?.stop();
  });

  const postJob = async (body: object) => {
    const response = await fetch(`${local.pipeline.local.url}/jobs/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${DEFAULT_LOCAL_JOBS_TOKEN}` },
      body: JSON.stringify(body),
    });
    expect(response.status).toBe(202);
  };

  it('starts a job sent over the jobs endpoint with its reception by the endpoint, then its queue', async () => {
    await postJob({ type: 'math.double', payload: { n: 1 }, id: 'trace-http-1' });
    await local.ran('trace-http-1');
    const result = await local.traced('trace-http-1');
    expect(result).toMatchObject({ source: 'job', type: 'math.double', job: { state: 'completed' } });
    expect(names(result)).toEqual(['received', 'queued', 'attempt:processed']);
    expect(result.steps[0]).toMatchObject({ via: 'jobs endpoint', status: 202 });
    expect(result.steps[1]).toMatchObject({ queues: ['jobs'] });
  });

  it('ends a delayed job that is not due yet with its due time, and names its one-time schedule', async () => {
    await postJob({ type: 'math.double', payload: { n: 2 }, id: 'trace-later-1', delay: 20 * 60 });
    const status = await local.producer.status('trace-later-1');
    const result = await local.traced('trace-later-1');
    expect(names(result)).toEqual(['received', 'scheduled', 'due']);
    expect(result.steps[1]).toMatchObject({
      queues: ['jobs'],
      dueAt: status?.dueAt,
      scheduleName: status?.scheduleName,
    });
    expect(result.steps[2]).toMatchObject({ at: status?.dueAt, pending: true });
    expect(result.job).toEqual({ state: 'scheduled' });
    const human = await local.cli('trace', 'trace-later-1');
    expect(human.stdout).toMatch(/Z {2}due +-> jobs \(not yet\)\n/);
    expect(human.stdout).toContain('job state now: scheduled');
  });

  it('status --local counts a job delayed beyond 15 minutes, which waits in a one-time schedule, not in DELAYED', async () => {
    const before = JSON.parse((await local.cli('status', '--json')).stdout) as { scheduledJobs?: number };
    await postJob({ type: 'math.double', payload: { n: 5 }, id: 'status-later-1', delay: 30 * 60 });
    const after = await local.cli('status', '--json');
    expect(after.code).toBe(0);
    const result = JSON.parse(after.stdout) as { scheduledJobs?: number; queues: { delayed: number }[] };
    expect(result.scheduledJobs).toBe((before.scheduledJobs ?? 0) + 1);
    expect(result.queues[0]?.delayed).toBe(0);
    const text = await local.cli('status');
    expect(text.stdout).toContain(
      `${result.scheduledJobs} job${result.scheduledJobs === 1 ? '' : 's'} scheduled for later, beyond SQS's 15-minute delay, so in no queue yet; a cancelled one counts until its time (hookline jobs list --state scheduled --local)`,
    );
  });

  it('starts a job sent by app code with the enqueue its record keeps, sent by a producer', async () => {
    const sent = await local.producer.send(doubleJob, { n: 3 }, { id: 'trace-app-1' });
    await local.ran('trace-app-1');
    const status = await local.producer.status('trace-app-1');
    const result = await local.traced('trace-app-1');
    expect(names(result)).toEqual(['queued', 'attempt:processed']);
    expect(sent.state).toBe('queued');
    expect(result.steps[0]).toEqual({
      at: status?.enqueuedAt,
      step: 'queued',
      queues: ['jobs'],
      via: 'producer',
    });
    expect(result.notes).toBeUndefined();
  });

  it("says that a --source local mode does not take is no source, naming local mode's own sources", async () => {
    const answer = await local.cli('trace', 'trace-http-1', '--source', 'nope');
    expect(answer.code).toBe(1);
    expect(answer.stderr).toBe('error: unknown source "nope": use one of generic, github, schedule, job\n');
  });
});

describe('trace of jobs with dedupe off (no job records)', () => {
  let local: Awaited<ReturnType<typeof startJobsPipeline>>;
  beforeAll(async () => {
    local = await startJobsPipeline(false);
  });
  afterAll(async () => {
    await local?.stop();
  });

  it('says plainly that the enqueue of a job sent by app code is not recorded, and why', async () => {
    // Without the dedupe table a job cannot be given an id: the producer makes one.
    const { id } = await local.producer.send(doubleJob, { n: 4 });
    await local.ran(id);
    const result = await local.traced(id);
    expect(names(result)).toEqual(['attempt:processed']);
    expect(result.job).toBeUndefined();
    expect(result.notes).toEqual([
      expect.stringMatching(/^the job's enqueue is not recorded: dedupe is off/),
    ]);
    const human = await local.cli('trace', id);
    expect(human.stdout).toContain('enable dedupe in hookline.config.ts');
    expect(human.stdout).toContain('hookline jobs show needs it too');
  });
});
