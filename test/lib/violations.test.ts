import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Duration, Stack } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { describe, expect, it } from 'vitest';
import { type HooklineConfig, resolveConfig } from '../../lib/config';
import { PipelineDashboard } from '../../lib/pipeline-dashboard';
import { PipelineQueue } from '../../lib/pipeline-queue';
import { PipelineSchedules } from '../../lib/pipeline-schedules';
import { ViolationsError } from '../../lib/violations';

const ROOT = resolve(import.meta.dirname, '../..');

/** The error `build` throws; fails when it throws nothing or something other than a listing of violations. */
function violationsOf(build: () => unknown): ViolationsError {
  try {
    build();
  } catch (error) {
    expect(error).toBeInstanceOf(ViolationsError);
    return error as ViolationsError;
  }
  throw new Error('expected a ViolationsError');
}

/** Every listed line reads `path: message (got value). Fix: fix`. */
const LINE = /^ {2}- \S[^:]*: .+ \(got .+\)\. Fix: .+$/;

describe('one vocabulary for broken rules', () => {
  const builders: Record<string, () => unknown> = {
    configuration: () =>
      resolveConfig({
        sources: { github: { type: 'github' } },
        queues: { events: { maxReceiveCount: 0 } },
        schedules: [{ name: 'tick', expression: 'hourly', queue: 'events', type: 'tick' }],
      } satisfies HooklineConfig),
    'queue construct': () =>
      new PipelineQueue(new Stack(), 'Q', { maxReceiveCount: 0, contentBasedDeduplication: true }),
    schedules: () =>
      new PipelineSchedules(new Stack(), 'S', {
        schedules: [
          {
            name: 'tick',
            expression: 'hourly',
            timezone: 'UTC',
            queue: 'missing',
            type: 'tick',
            payload: {},
          },
        ],
        queues: {},
        retryAttempts: 186,
      }),
    dashboard: () => new PipelineDashboard(new Stack(), 'D', { queues: [], period: Duration.seconds(45) }),
  };

  it.each(Object.keys(builders))(
    'lists every %s problem with its path, the value given and the fix',
    (what) => {
      const error = violationsOf(builders[what] as () => unknown);
      const [heading, ...lines] = error.message.split('\n');
      expect(heading).toMatch(/^Invalid .+:$/);
      expect(lines.length).toBeGreaterThan(1);
      expect(lines.length).toBe(error.violations.length);
      for (const line of lines) expect(line).toMatch(LINE);
    },
  );

  it('names the value given separately from the problem', () => {
    const error = violationsOf(builders.schedules as () => unknown);
    expect(error.violations.find((v) => v.path.endsWith('.expression'))?.value).toBe('"hourly"');
    expect(error.violations.find((v) => v.path === 'retryAttempts')?.value).toBe('186');
  });

  it('names a number JSON cannot write as it was given, not as null', () => {
    const error = violationsOf(() =>
      resolveConfig({
        sources: { github: { type: 'github' } },
        queues: {
          events: {
            consumer: {
              entry: 'lambda/consumers/events.ts',
              maxConcurrency: Number.NaN,
              batchSize: Number.POSITIVE_INFINITY,
            },
          },
        },
      }),
    );
    expect(error.message).toMatch(/consumer\.maxConcurrency: .*\(got NaN\)/);
    expect(error.message).toMatch(/consumer\.batchSize: .*\(got Infinity\)/);
  });

  it('words a rule the configuration and a construct share the same way', () => {
    const fromConfig = violationsOf(() =>
      resolveConfig({
        sources: { github: { type: 'github' } },
        queues: { events: { visibilityTimeout: Duration.hours(13) } },
      }),
    ).violations;
    const fromConstruct = violationsOf(
      () => new PipelineQueue(new Stack(), 'Q', { visibilityTimeout: Duration.hours(13) }),
    ).violations;
    expect(
      fromConfig.map(({ path, ...rest }) => ({ path: path.replace('queues.events.', ''), ...rest })),
    ).toEqual(fromConstruct);
  });
});

describe('the schedules DLQ retention', () => {
  it('is checked by the same SQS retention rule as the queues', () => {
    const queueRule = violationsOf(
      () => new PipelineQueue(new Stack(), 'Q', { deadLetterRetentionPeriod: Duration.days(15) }),
    ).violations.find((v) => v.path === 'deadLetterRetentionPeriod');
    const stack = new Stack();
    const scheduleRule = violationsOf(
      () =>
        new PipelineSchedules(stack, 'S', {
          schedules: [],
          queues: { events: new sqs.Queue(stack, 'E') },
          deadLetterRetentionPeriod: Duration.days(15),
        }),
    ).violations.find((v) => v.path === 'deadLetterRetentionPeriod');
    expect(scheduleRule).toEqual(queueRule);
  });
});

describe('an invalid configuration given straight to HooklinePipeline in a CDK app', () => {
  it('stops the app with the listing alone: every problem with its fix, no stack frames, no object dump', () => {
    // Inside the repository (.hookline/ is ignored by git), so the app resolves aws-cdk-lib as a user's app would.
    mkdirSync(join(ROOT, '.hookline'), { recursive: true });
    const dir = mkdtempSync(join(ROOT, '.hookline', 'bad-app-'));
    const app = join(dir, 'app.ts');
    writeFileSync(
      app,
      `import { App, Stack } from 'aws-cdk-lib';
import { defineConfig, HooklinePipeline } from ${JSON.stringify(join(ROOT, 'lib/index.ts'))};
const stack = new Stack(new App(), 'Users');
new HooklinePipeline(stack, 'Webhooks', {
  config: defineConfig({
    sources: { github: { type: 'github' } },
    queues: { events: { maxReceiveCount: 0, batchSize: 20000 } },
  }),
});
`,
    );
    const run = spawnSync(process.execPath, ['--import', 'tsx', app], { cwd: ROOT, encoding: 'utf8' });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('Invalid hookline configuration (2 problems)');
    expect(run.stderr).toMatch(/- queues\.events\.maxReceiveCount: .*\(got 0\)\. Fix: /);
    expect(run.stderr).toMatch(/- queues\.events\.batchSize: .*\(got 20000\)\. Fix: /);
    expect(run.stderr).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
    expect(run.stderr).not.toMatch(/violations:|issues:/);
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);
});
