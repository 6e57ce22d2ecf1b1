/**
 * `hookline status` of a deployed stack counts the jobs delayed beyond SQS's 15 minutes, which wait in one-time
 * EventBridge Scheduler schedules: the real program, with Scheduler answering `ListSchedules` pages as the SDK
 * returns them (Scheduler has no emulator), and every request it got checked.
 */
import { GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { GetEventSourceMappingCommand } from '@aws-sdk/client-lambda';
import {
  ListSchedulesCommand,
  type ListSchedulesCommandInput,
  type ListSchedulesCommandOutput,
  SchedulerClient,
} from '@aws-sdk/client-scheduler';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { jobScheduleName } from '../../lambda/producer/producer';
import { runCli } from '../../lib/cli/program';
import type { StackTarget } from '../../lib/cli/target';
import {
  cliHarness,
  EVENTS,
  jobSchedules,
  jobSchedulesPage,
  mockCommandClients,
  ORDERS,
  stackTarget,
  stackTargetWithJobSchedules,
  testBackend,
} from './helpers';

const { sqs, lambda, cloudwatch } = mockCommandClients();
const scheduler = mockClient(SchedulerClient);
beforeEach(() => scheduler.reset());

/** Every queue read answers: nothing waiting, consumers running. */
function queuesReadable(): void {
  sqs.on(GetQueueAttributesCommand).resolves({
    Attributes: {
      ApproximateNumberOfMessages: '0',
      ApproximateNumberOfMessagesNotVisible: '0',
      ApproximateNumberOfMessagesDelayed: '0',
    },
  });
  lambda.on(GetEventSourceMappingCommand).resolves({ State: 'Enabled' });
  cloudwatch.on(GetMetricDataCommand).resolves({ MetricDataResults: [] });
}

/** Scheduler answers the pages in turn, the first for a request without a token, each next for the token before. */
function schedulesPages(...pages: Partial<ListSchedulesCommandOutput>[]): void {
  const tokens = [undefined, ...pages.map((p) => p.NextToken)];
  pages.forEach((answer, i) => {
    scheduler
      .on(ListSchedulesCommand, tokens[i] === undefined ? {} : { NextToken: tokens[i] })
      .resolves(answer as ListSchedulesCommandOutput);
  });
}

/** The requests Scheduler got, in order. */
const requests = (): ListSchedulesCommandInput[] =>
  scheduler.commandCalls(ListSchedulesCommand).map((call) => call.args[0].input);

/** What every request asks for: the stack's job schedules (default group, its name prefix) still to fire. */
const STACK_JOBS = { GroupName: 'default', NamePrefix: 'Hookline-job-', State: 'ENABLED', MaxResults: 100 };

async function status(args: readonly string[] = [], target: StackTarget = stackTargetWithJobSchedules()) {
  const h = cliHarness({
    connect: async (_options, output) => ({ target, backend: testBackend({ output }) }),
  });
  const code = await runCli(['status', ...args], h.deps);
  return { code, stdout: h.stdout(), stderr: h.stderr() };
}

describe('status of a deployed stack counts the jobs waiting in its one-time schedules', () => {
  it('counts every page of the stack’s job schedules, following each token, and says it as local mode does', async () => {
    queuesReadable();
    schedulesPages(jobSchedulesPage(100, 'token-2'), jobSchedulesPage(100, 'token-3'), jobSchedulesPage(37));

    const human = await status();

    expect(human.code).toBe(0);
    expect(human.stdout).toContain(
      "237 jobs scheduled for later, beyond SQS's 15-minute delay, so in no queue yet; a cancelled one counts until its time (hookline jobs list --state scheduled)\n",
    );
    expect(human.stdout).not.toContain('wait in EventBridge Scheduler, not in DELAYED');
    expect(requests()).toEqual([
      STACK_JOBS,
      { ...STACK_JOBS, NextToken: 'token-2' },
      { ...STACK_JOBS, NextToken: 'token-3' },
    ]);
  });

  it('gives the count as scheduledJobs in --json, 0 when none wait (and then no line)', async () => {
    queuesReadable();
    schedulesPages(jobSchedulesPage(100, 'token-2'), jobSchedulesPage(37));
    const json = await status(['--json']);
    expect(json.code).toBe(0);
    const result = JSON.parse(json.stdout);
    expect(result.scheduledJobs).toBe(137);
    expect(result).not.toHaveProperty('scheduledJobsAtLeast');
    expect(result).not.toHaveProperty('scheduledJobsNote');
    expect(result).not.toHaveProperty('unreadable');

    scheduler.reset();
    schedulesPages(jobSchedulesPage(0));
    const none = await status(['--json']);
    expect(JSON.parse(none.stdout).scheduledJobs).toBe(0);
    const human = await status();
    expect(human.stdout).not.toMatch(/scheduled for later|EventBridge Scheduler/);
  });

  it('leaves out the schedules of a stack whose name extends this one’s, whose names start with its prefix too', async () => {
    queuesReadable();
    const otherStack = (i: number) => ({
      Name: jobScheduleName('Hookline-job-runner-job-', `job-${i}`),
      GroupName: 'default',
      State: 'ENABLED' as const,
      Target: { Arn: EVENTS.arn },
    });
    schedulesPages({ Schedules: [...jobSchedules(3), otherStack(1), otherStack(2)] });

    const json = await status(['--json']);

    expect(JSON.parse(json.stdout).scheduledJobs).toBe(3);
  });

  it('counts only the jobs of the queue asked for, by the queue each schedule sends to', async () => {
    queuesReadable();
    schedulesPages(
      {
        Schedules: [...jobSchedules(3), ...jobSchedules(2, ORDERS.arn)],
        NextToken: 'token-2',
      },
      jobSchedulesPage(4, undefined, ORDERS.arn),
    );

    const json = await status(['orders', '--json']);

    expect(JSON.parse(json.stdout).scheduledJobs).toBe(6);
    expect(requests()).toEqual([STACK_JOBS, { ...STACK_JOBS, NextToken: 'token-2' }]);
  });

  it('stops after 10 pages and says "at least" what it counted, in text and --json, rather than paging on', async () => {
    queuesReadable();
    // Every page says another follows.
    scheduler.on(ListSchedulesCommand).resolves(jobSchedulesPage(100, 'more') as ListSchedulesCommandOutput);

    const human = await status();
    const calls = requests();
    scheduler.resetHistory();
    const json = await status(['--json']);

    expect(calls).toHaveLength(10);
    expect(calls.slice(1).every((input) => input.NextToken === 'more')).toBe(true);
    expect(human.code).toBe(0);
    expect(human.stdout).toContain(
      "at least 1000 jobs scheduled for later, beyond SQS's 15-minute delay, so in no queue yet: counting stopped after the stack's first 1000 schedules, and more wait; a cancelled one counts until its time (hookline jobs list --state scheduled)\n",
    );
    const result = JSON.parse(json.stdout);
    expect([result.scheduledJobs, result.scheduledJobsAtLeast]).toEqual([1000, true]);
  });

  it('without scheduler:ListSchedules, shows everything else and says what it could not count and the action, never 0; exit 1', async () => {
    queuesReadable();
    scheduler
      .on(ListSchedulesCommand)
      .rejects(
        Object.assign(
          new Error(
            'User: arn:aws:iam::123456789012:user/ops is not authorized to perform: scheduler:ListSchedules on resource: arn:aws:scheduler:us-east-1:123456789012:schedule/default/*',
          ),
          { name: 'AccessDeniedException', $fault: 'client', $metadata: { httpStatusCode: 403 } },
        ),
      );

    const human = await status();
    const json = await status(['--json']);

    expect(human.code).toBe(1);
    expect(human.stdout).toContain('events         0        0          0        0    -       Enabled\n');
    expect(human.stdout).toContain(
      "jobs scheduled for later, beyond SQS's 15-minute delay: unknown: access denied (needs scheduler:ListSchedules) (hookline jobs list --state scheduled)\n",
    );
    expect(human.stdout.trimEnd().split('\n').at(-1)).toBe(
      'incomplete: your AWS identity may not call scheduler:ListSchedules: what it reads is shown as unknown; allow it to see the whole pipeline',
    );
    expect(human.stdout).not.toMatch(/\b0 jobs scheduled/);
    expect(json.code).toBe(1);
    const result = JSON.parse(json.stdout);
    expect(result).not.toHaveProperty('scheduledJobs');
    expect(result.scheduledJobsNote).toBe('unknown: access denied (needs scheduler:ListSchedules)');
    // A part of the whole stack names no queue: no made-up queue name a script could take for one.
    expect(result.unreadable).toEqual([{ part: 'scheduled jobs', action: 'scheduler:ListSchedules' }]);
    expect(result.queues.map((q: { visible: number }) => q.visible)).toEqual([0, 0]);
  });

  it('names the queue asked for when denied its count', async () => {
    queuesReadable();
    scheduler.on(ListSchedulesCommand).rejects(
      Object.assign(new Error('not authorized'), {
        name: 'AccessDeniedException',
        $metadata: { httpStatusCode: 403 },
      }),
    );
    const json = await status(['orders', '--json']);
    expect(JSON.parse(json.stdout).unreadable).toEqual([
      { queue: 'orders', part: 'scheduled jobs', action: 'scheduler:ListSchedules' },
    ]);
  });

  it('when Scheduler throttles, shows everything else and says the count is unknown and why, never 0', async () => {
    queuesReadable();
    // A count part-way through the pages is not the count either.
    schedulesPages(jobSchedulesPage(100, 'token-2'));
    scheduler.on(ListSchedulesCommand, { NextToken: 'token-2' }).rejects(
      Object.assign(new Error('Rate exceeded'), {
        name: 'ThrottlingException',
        $metadata: { httpStatusCode: 400 },
      }),
    );

    const human = await status();
    const json = await status(['--json']);

    expect(human.code).toBe(0);
    expect(human.stdout).toContain('orders (fifo)  0        0          0        0    -       Enabled\n');
    expect(human.stdout).toContain(
      "jobs scheduled for later, beyond SQS's 15-minute delay: unknown: EventBridge Scheduler throttled scheduler:ListSchedules (ThrottlingException) after retries: a later listing may count them (hookline jobs list --state scheduled)\n",
    );
    expect(human.stderr).toBe('');
    const result = JSON.parse(json.stdout);
    expect(result).not.toHaveProperty('scheduledJobs');
    expect(result.scheduledJobsNote).toMatch(/^unknown: EventBridge Scheduler throttled/);
    expect(result).not.toHaveProperty('unreadable');
  });

  it('fails with the sign-in fix, not a count said to be unknown, when the credentials expired before the listing', async () => {
    queuesReadable();
    scheduler.on(ListSchedulesCommand).rejects(
      Object.assign(new Error('The security token included in the request is expired'), {
        name: 'ExpiredTokenException',
        $metadata: { httpStatusCode: 403 },
      }),
    );

    const human = await status();

    expect(human.code).toBe(1);
    expect(human.stdout).not.toContain('did not answer');
    expect(human.stderr).toMatch(/expired/i);
    expect(human.stderr).toMatch(/aws sso login|aws configure/);
  });

  it('lists the schedules while it reads the queues, not after them', async () => {
    queuesReadable();
    let listed: () => void = () => {};
    const listing = new Promise<void>((resolve) => {
      listed = resolve;
    });
    scheduler.on(ListSchedulesCommand).callsFake(async () => {
      listed();
      return jobSchedulesPage(2);
    });
    // The queues answer only once the listing started: read one after the other, status would never answer.
    sqs.on(GetQueueAttributesCommand).callsFake(async () => {
      await listing;
      return { Attributes: { ApproximateNumberOfMessages: '0', ApproximateNumberOfMessagesNotVisible: '0' } };
    });

    const json = await status(['--json']);

    expect(JSON.parse(json.stdout).scheduledJobs).toBe(2);
  });

  it('says a nested stack’s jobs are not counted, rather than 0 from its own name’s prefix', async () => {
    queuesReadable();
    schedulesPages(jobSchedulesPage(5));

    const json = await status(['--json'], { ...stackTargetWithJobSchedules(), nested: true });

    expect(requests()).toEqual([]);
    const result = JSON.parse(json.stdout);
    expect(result).not.toHaveProperty('scheduledJobs');
    expect(result.scheduledJobsNote).toMatch(/^unknown: the stack is nested in another/);
  });

  it('makes no Scheduler call for a stack whose producers may not delay jobs, and says nothing of them', async () => {
    queuesReadable();
    schedulesPages(jobSchedulesPage(5));

    const human = await status([], stackTarget());
    const json = await status(['--json'], stackTarget());

    expect(requests()).toEqual([]);
    expect(human.stdout).not.toMatch(/scheduled for later|EventBridge Scheduler/);
    expect(JSON.parse(json.stdout)).not.toHaveProperty('scheduledJobs');
  });
});
