/**
 * The console server's overview of a deployed stack says how old each figure it reuses is, on one clock: the queue
 * rates read from CloudWatch (or why there are none) as the scheduled-jobs count does, and a count of none, which a
 * blank cannot tell from "not counted". The console's clock is its backend's fake one, moved by the tests (a refresh
 * "12 s later" is the clock moved 12 s, not a wait); CloudWatch and Scheduler answer as the SDK returns them.
 */
import { GetMetricDataCommand, type GetMetricDataCommandInput } from '@aws-sdk/client-cloudwatch';
import { GetEventSourceMappingCommand } from '@aws-sdk/client-lambda';
import { ListSchedulesCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { DEPLOYED_RATES_NOTE } from '../../lib/console/operations';
import { awsError, jobSchedulesPage, mockCommandClients, stackTargetWithJobSchedules } from '../cli/helpers';
import { consoleApiFor } from './console-api';

const { sqs, lambda, cloudwatch } = mockCommandClients();
const scheduler = mockClient(SchedulerClient);
const isRateRead = (input: GetMetricDataCommandInput) => input.MetricDataQueries?.[0]?.Id === 'q0_received';
const rateReads = () =>
  cloudwatch.commandCalls(GetMetricDataCommand).filter((call) => isRateRead(call.args[0].input)).length;

beforeEach(() => {
  scheduler.reset();
  sqs.on(GetQueueAttributesCommand).resolves({ Attributes: { ApproximateNumberOfMessages: '0' } });
  lambda.on(GetEventSourceMappingCommand).resolves({ State: 'Enabled' });
  scheduler.on(ListSchedulesCommand).resolves(jobSchedulesPage(0));
});

/** The overview's parts these tests read, from `GET /api/overview` as the page's refresh asks it. */
interface OverviewAnswer {
  ratesNote: string | null;
  scheduledJobs: { text: string; tone: string } | null;
  queues: { queue: string; rates: { received: number[] } | null }[];
}

/** A console server of its own for a describe's tests, with its clock and its overview as the page asks it. */
function freshConsole() {
  const api = consoleApiFor(stackTargetWithJobSchedules());
  return {
    /** The console's clock (its backend's fake one). */
    now: () => api.operations.context.backend.clock.now(),
    /** Moves the console's clock `ms` on. */
    moveClock: (ms: number) => api.operations.context.backend.clock.sleep(ms),
    async overview(): Promise<OverviewAnswer> {
      const answer = await api.call('GET', '/api/overview');
      expect(answer.status).toBe(200);
      return answer.body as unknown as OverviewAnswer;
    },
  };
}

describe('the queue rates, reused for a minute, say how old they are as the scheduled-jobs count does', () => {
  const { now, moveClock, overview } = freshConsole();

  it('a refresh within the minute shows the rates read earlier with their age, moved by the console clock', async () => {
    // The current minute of the console's clock holds 5 messages received: the window is that clock's.
    cloudwatch.on(GetMetricDataCommand).callsFake((input: GetMetricDataCommandInput) => ({
      MetricDataResults: isRateRead(input)
        ? [{ Id: 'q0_received', Timestamps: [new Date(now())], Values: [5] }]
        : [],
    }));
    const first = await overview();
    expect(first.ratesNote).toBe(`${DEPLOYED_RATES_NOTE}; as of just now, read again at most every 1m 0s`);
    expect(first.queues.find((q) => q.queue === 'events')?.rates?.received.at(-1)).toBe(5);

    await moveClock(12_000);
    const reused = await overview();
    expect(rateReads()).toBe(1);
    expect(reused.ratesNote).toBe(`${DEPLOYED_RATES_NOTE}; as of 12s ago, read again at most every 1m 0s`);
    expect(reused.queues.find((q) => q.queue === 'events')?.rates?.received.at(-1)).toBe(5);

    await moveClock(47_999);
    expect((await overview()).ratesNote).toBe(
      `${DEPLOYED_RATES_NOTE}; as of 59s ago, read again at most every 1m 0s`,
    );
    expect(rateReads()).toBe(1);
    await moveClock(1);
    expect((await overview()).ratesNote).toBe(
      `${DEPLOYED_RATES_NOTE}; as of just now, read again at most every 1m 0s`,
    );
    expect(rateReads()).toBe(2);
  });
});

describe('rates CloudWatch denied are not asked again at each refresh', () => {
  const { moveClock, overview } = freshConsole();

  it('say their denial with its age and how often it is tried again', async () => {
    cloudwatch.on(GetMetricDataCommand).rejects(awsError('AccessDeniedException'));
    await overview();
    await moveClock(20_000);
    expect((await overview()).ratesNote).toBe(
      'queue rates: unknown: access denied (needs cloudwatch:GetMetricData); as of 20s ago, tried again at most every 1m 0s',
    );
    expect(rateReads()).toBe(1);
  });
});

describe('a count of no scheduled jobs', () => {
  const { moveClock, overview } = freshConsole();

  it('is said with its age, so it cannot be taken for a count not made', async () => {
    cloudwatch.on(GetMetricDataCommand).resolves({ MetricDataResults: [] });
    await overview();
    await moveClock(25_000);
    expect((await overview()).scheduledJobs).toEqual({
      text: "no jobs scheduled for later, beyond SQS's 15-minute delay (hookline jobs list --state scheduled); as of 25s ago, counted again at most every 30s",
      tone: 'count',
    });
    expect(scheduler.commandCalls(ListSchedulesCommand)).toHaveLength(1);
  });
});
