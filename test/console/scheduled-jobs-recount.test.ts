/**
 * The console server's overview of a deployed stack lists its job schedules (`ListSchedules`) at most once per
 * interval, whatever the number of refreshes and tabs: refreshes meanwhile reuse the count and say how old it is,
 * a denial or failure is not asked again at each refresh and keeps saying why, and refreshes that come while a
 * listing runs wait for it rather than start their own. Scheduler has no emulator: it answers as the SDK returns
 * its pages; the console's clock is its backend's fake one, moved by the tests (a refresh "2 s later" is the clock
 * moved 2 s, not a wait).
 */
import { GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { GetEventSourceMappingCommand } from '@aws-sdk/client-lambda';
import { ListSchedulesCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import exampleConfig from '../../hookline.config';
import { resolveConfig } from '../../lib/config';
import { unavailableFeed } from '../../lib/console/feed';
import { ConsoleOperations } from '../../lib/console/operations';
import { SCHEDULED_JOBS_RECOUNT_MS } from '../../lib/console/scheduled-jobs-count';
import {
  jobSchedulesPage,
  mockCommandClients,
  stackTargetWithJobSchedules,
  testBackend,
} from '../cli/helpers';
import { consoleApiFor } from './console-api';

const { sqs, lambda, cloudwatch } = mockCommandClients();
const scheduler = mockClient(SchedulerClient);
beforeEach(() => {
  scheduler.reset();
  sqs.on(GetQueueAttributesCommand).resolves({ Attributes: { ApproximateNumberOfMessages: '0' } });
  lambda.on(GetEventSourceMappingCommand).resolves({ State: 'Enabled' });
  cloudwatch.on(GetMetricDataCommand).resolves({ MetricDataResults: [] });
});

/** The stack `Hookline`, whose producers may delay jobs. */
const target = stackTargetWithJobSchedules();

const denied = () =>
  Object.assign(new Error('not authorized to perform: scheduler:ListSchedules'), {
    name: 'AccessDeniedException',
    $fault: 'client',
    $metadata: { httpStatusCode: 403 },
  });

const listings = () => scheduler.commandCalls(ListSchedulesCommand).length;

/** The overview's scheduled-jobs sentence as the page shows it (its text, verbatim). */
type Sentence = { text: string; tone: string } | null;
/** The overview's parts these tests read, from `GET /api/overview` as the page's refresh asks it. */
interface OverviewAnswer {
  scheduledJobs: Sentence;
  missingPermissions: string | null;
}

const COUNT_37 =
  "37 jobs scheduled for later, beyond SQS's 15-minute delay, so in no queue yet; a cancelled one counts until its time (hookline jobs list --state scheduled)";
const DENIED =
  "jobs scheduled for later, beyond SQS's 15-minute delay: unknown: access denied (needs scheduler:ListSchedules) (hookline jobs list --state scheduled)";

/** A console server of its own for a describe's tests, with its clock and its overview as the page asks it. */
function freshConsole() {
  const api = consoleApiFor(target);
  return {
    api,
    /** Moves the console's clock (its backend's fake one) `ms` on. */
    moveClock: (ms: number) => api.operations.context.backend.clock.sleep(ms),
    async overview(): Promise<OverviewAnswer> {
      const answer = await api.call('GET', '/api/overview');
      expect(answer.status).toBe(200);
      return answer.body as unknown as OverviewAnswer;
    },
  };
}

describe('the overview lists the schedules once per interval for every refresh, and says how old the count is', () => {
  const { moveClock, overview } = freshConsole();

  it('refreshes within the interval reuse one listing and say its age; after it, the schedules are listed again', async () => {
    scheduler.on(ListSchedulesCommand).resolves(jobSchedulesPage(37));
    const texts: string[] = [];
    for (let refresh = 0; refresh < 5; refresh++) {
      texts.push((await overview()).scheduledJobs?.text ?? '');
      await moveClock(2_000);
    }
    expect(listings()).toBe(1);
    expect(texts).toEqual([
      `${COUNT_37}; as of just now, counted again at most every 30s`,
      `${COUNT_37}; as of 2s ago, counted again at most every 30s`,
      `${COUNT_37}; as of 4s ago, counted again at most every 30s`,
      `${COUNT_37}; as of 6s ago, counted again at most every 30s`,
      `${COUNT_37}; as of 8s ago, counted again at most every 30s`,
    ]);

    // The interval ends 30 s after the listing started: 29.999 s reuses it, 30 s lists again.
    scheduler.on(ListSchedulesCommand).resolves(jobSchedulesPage(40));
    await moveClock(SCHEDULED_JOBS_RECOUNT_MS - 10_000 - 1);
    expect((await overview()).scheduledJobs?.text).toBe(
      `${COUNT_37}; as of 29s ago, counted again at most every 30s`,
    );
    expect(listings()).toBe(1);
    await moveClock(1);
    expect((await overview()).scheduledJobs?.text).toMatch(
      /^40 jobs scheduled for later, .*; as of just now, counted again at most every 30s$/,
    );
    expect(listings()).toBe(2);
  });
});

describe('a denied listing is not asked again at each refresh', () => {
  const { moveClock, overview } = freshConsole();

  it('keeps its unknown line and missing permission for the interval, with the last count and its age', async () => {
    scheduler.on(ListSchedulesCommand).resolves(jobSchedulesPage(37));
    await overview();
    await moveClock(SCHEDULED_JOBS_RECOUNT_MS);
    scheduler.on(ListSchedulesCommand).rejects(denied());
    const first = await overview();
    await moveClock(12_000);
    const later = await overview();
    expect(listings()).toBe(2);
    for (const [shown, age, lastAge] of [
      [first, 'just now', '30s ago'],
      [later, '12s ago', '42s ago'],
    ] as const) {
      expect(shown.scheduledJobs).toEqual({
        text: `${DENIED}; as of ${age}, tried again at most every 30s; the last count, ${lastAge}: 37 jobs`,
        tone: 'unknown',
      });
      expect(shown.missingPermissions).toBe(
        'incomplete: your AWS identity may not call scheduler:ListSchedules: what it reads is shown as unknown; allow it to see the whole pipeline',
      );
    }

    await moveClock(SCHEDULED_JOBS_RECOUNT_MS);
    scheduler.on(ListSchedulesCommand).resolves(jobSchedulesPage(37));
    expect((await overview()).scheduledJobs?.text).toBe(
      `${COUNT_37}; as of just now, counted again at most every 30s`,
    );
    expect(listings()).toBe(3);
  });
});

describe('a failed listing is not asked again at each refresh', () => {
  const { moveClock, overview } = freshConsole();

  it('keeps saying why for the interval, with the last count and its age', async () => {
    scheduler.on(ListSchedulesCommand).resolves(jobSchedulesPage(37));
    await overview();
    await moveClock(SCHEDULED_JOBS_RECOUNT_MS);
    // A client error the SDK does not retry: the listing fails at once.
    scheduler.on(ListSchedulesCommand).rejects(
      Object.assign(new Error('bad request'), {
        name: 'ValidationException',
        $fault: 'client',
        $metadata: { httpStatusCode: 400 },
      }),
    );
    const failed =
      "jobs scheduled for later, beyond SQS's 15-minute delay: unknown: EventBridge Scheduler did not answer scheduler:ListSchedules (ValidationException) (hookline jobs list --state scheduled)";
    const first = await overview();
    await moveClock(SCHEDULED_JOBS_RECOUNT_MS - 1);
    const last = await overview();
    expect(listings()).toBe(2);
    expect(first.scheduledJobs).toEqual({
      text: `${failed}; as of just now, tried again at most every 30s; the last count, 30s ago: 37 jobs`,
      tone: 'unknown',
    });
    expect(last.scheduledJobs).toEqual({
      text: `${failed}; as of 29s ago, tried again at most every 30s; the last count, 59s ago: 37 jobs`,
      tone: 'unknown',
    });
    expect(last.missingPermissions).toBeNull();
  });
});

describe('a throttled listing', () => {
  const { overview } = freshConsole();

  it('is said in words that fit beside how often the console tries again, with no command to run', async () => {
    scheduler.on(ListSchedulesCommand).rejects(
      Object.assign(new Error('Rate exceeded'), {
        name: 'ThrottlingException',
        $fault: 'client',
        $metadata: { httpStatusCode: 400 },
      }),
    );
    expect((await overview()).scheduledJobs).toEqual({
      text: "jobs scheduled for later, beyond SQS's 15-minute delay: unknown: EventBridge Scheduler throttled scheduler:ListSchedules (ThrottlingException) after retries: a later listing may count them (hookline jobs list --state scheduled); as of just now, tried again at most every 30s",
      tone: 'unknown',
    });
  });
});

describe('refreshes that come while the schedules are listed wait for that listing', () => {
  const { api } = freshConsole();

  it('three tabs refreshing at once make one listing and show its count', async () => {
    // How many queue reads one overview makes, so the test knows when all three have started theirs.
    scheduler.on(ListSchedulesCommand).resolves(jobSchedulesPage(0));
    await new ConsoleOperations({
      backend: testBackend(),
      target,
      config: resolveConfig(exampleConfig),
      feed: unavailableFeed('no feed for a deployed stack'),
    }).overview();
    const perOverview = sqs.commandCalls(GetQueueAttributesCommand).length;
    sqs.resetHistory();
    scheduler.resetHistory();

    let release = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    scheduler.on(ListSchedulesCommand).callsFake(async () => {
      await held;
      return jobSchedulesPage(37);
    });
    // Three tabs' URLs differ, so the server does not join their reads: the count's own sharing is tested.
    const answers = [1, 2, 3].map((tab) => api.call('GET', `/api/overview?tab=${tab}`));
    await vi.waitFor(() => expect(sqs.commandCalls(GetQueueAttributesCommand).length).toBe(3 * perOverview), {
      timeout: 20_000,
    });
    release();
    for (const answer of await Promise.all(answers)) {
      expect((answer.body as unknown as OverviewAnswer).scheduledJobs?.text).toBe(
        `${COUNT_37}; as of just now, counted again at most every 30s`,
      );
    }
    expect(listings()).toBe(1);
  });
});
