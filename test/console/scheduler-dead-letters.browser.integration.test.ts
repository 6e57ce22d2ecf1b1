/**
 * The dead-letter queues EventBridge Scheduler fills, as a person sees them in the web console: the real page
 * (the built bundle) in Debian's headless Chromium, served by the real console server for a deployed stack whose
 * AWS calls are mocked (local mode keeps no such queue, so only a stack has them).
 */
import { GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { GetEventSourceMappingCommand } from '@aws-sdk/client-lambda';
import {
  ListSchedulesCommand,
  type ListSchedulesCommandOutput,
  SchedulerClient,
} from '@aws-sdk/client-scheduler';
import {
  ChangeMessageVisibilityBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
} from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import exampleConfig from '../../hookline.config';
import { jobScheduleName } from '../../lambda/producer/producer';
import { runCli } from '../../lib/cli/program';
import { resolveConfig } from '../../lib/config';
import { unavailableFeed } from '../../lib/console/feed';
import { ConsoleOperations } from '../../lib/console/operations';
import type { ConsoleServer } from '../../lib/console/server';
import { installFakeQueue } from '../cli/fake-queue';
import { cliHarness, mockCommandClients, testBackend } from '../cli/helpers';
import { type ConsoleInChromium, consoleServerInChromium } from '../helpers/console-browser';
import {
  BREAKER_PROBE_DUE,
  BREAKER_SCHEDULES_DLQ,
  HEARTBEAT,
  HEARTBEAT_EVENT_ID,
  schedulerDeadLetterTarget,
  sqsUrl,
  UNDELIVERED_JOB_ID,
  undeliveredBreakerProbe,
  undeliveredHeartbeat,
  undeliveredJob,
} from './scheduler-dead-letter-fixtures';

const clients = mockCommandClients();
const scheduler = mockClient(SchedulerClient);
/** The stack's one-time job schedules: jobs delayed beyond 15 minutes, which status and the overview count. */
const JOBS_SCHEDULED = 3;
const HEARTBEAT_DLQ_URL = sqsUrl('Hookline-HeartbeatDlq');
const EVENT_ID = HEARTBEAT_EVENT_ID;
// With a circuit breaker's schedules too: its dead-letter queue is empty but in the last describe.
const target = { ...schedulerDeadLetterTarget(), breakerSchedulesDeadLetterQueue: BREAKER_SCHEDULES_DLQ };

/** The console's backend, whose fake clock a test moves: the overview's count is reused for 30 s, and says its age. */
const backend = testBackend();
let server: ConsoleServer;
let page: Page;
let shown: ConsoleInChromium<{ server: ConsoleServer }> | undefined;

// The clients' mocks are reset before each test (mockCommandClients): the stack's state is set again.
beforeEach(() => {
  clients.sqs.on(GetQueueAttributesCommand).resolves({ Attributes: { ApproximateNumberOfMessages: '0' } });
  clients.sqs.on(ReceiveMessageCommand).resolves({ Messages: [] });
  clients.sqs.on(ChangeMessageVisibilityBatchCommand).resolves({ Successful: [], Failed: [] });
  clients.lambda.on(GetEventSourceMappingCommand).resolves({ State: 'Enabled' });
  clients.cloudwatch.on(GetMetricDataCommand).resolves({ MetricDataResults: [] });
  installFakeQueue(clients.sqs, HEARTBEAT_DLQ_URL, [undeliveredHeartbeat()]);
  scheduler.reset();
  scheduler.on(ListSchedulesCommand).resolves({
    Schedules: Array.from({ length: JOBS_SCHEDULED }, (_, i) => ({
      Name: jobScheduleName(`${target.stackName}-job-`, `later-${i}`),
      GroupName: 'default',
      State: 'ENABLED',
    })),
  } as ListSchedulesCommandOutput);
});

beforeAll(async () => {
  const operations = new ConsoleOperations({
    backend,
    target,
    config: resolveConfig(exampleConfig),
    feed: unavailableFeed('no feed for a deployed stack'),
  });
  shown = consoleServerInChromium(operations);
  ({ server, page } = await shown.started);
}, 180_000);

afterAll(() => shown?.close());

describe("the console's pages on the dead-letter queues Scheduler fills", () => {
  it('lists them on the overview with what each holds, and counts them in the Failures tab', async () => {
    await page.goto(server.url);
    const heartbeat = page.locator(`#other-dlqs tr[data-dlq="${HEARTBEAT}"]`);
    await expect.poll(() => heartbeat.locator('[data-col="dlq"]').textContent()).toBe('1');
    expect(await heartbeat.textContent()).toContain(
      'deliveries of schedule heartbeat to the events queue Scheduler gave up on',
    );
    expect(await page.locator('#other-dlqs tr[data-dlq="job_schedules"]').textContent()).toContain(
      'one-time jobs Scheduler could not deliver',
    );
    expect(await page.locator('header nav a[href="#/failures"] .count').textContent()).toBe('1');
  });

  it('says on the overview the jobs scheduled beyond 15 minutes in the words of hookline status, and how old the count is', async () => {
    const h = cliHarness({
      connect: async (_options, output) => ({ target, backend: testBackend({ output }) }),
    });
    await runCli(['status'], h.deps);
    const said = h
      .stdout()
      .split('\n')
      .find((line) => line.includes('scheduled for later'));
    expect(said).toMatch(/^3 jobs scheduled for later, beyond SQS's 15-minute delay, so in no queue yet;/);
    await page.goto(server.url);
    const line = page.locator('[data-scheduled-jobs]');
    await expect.poll(() => line.textContent()).toMatch(/; as of (just now|\d+s ago), counted again at most/);
    // Later refreshes reuse the count an earlier one listed, and say its age, without listing again.
    const listed = scheduler.commandCalls(ListSchedulesCommand).length;
    await backend.clock.sleep(12_000);
    // The page refreshes every 2 s.
    await expect
      .poll(() => line.textContent(), { timeout: 15_000 })
      .toBe(`${said}; as of 12s ago, counted again at most every 30s`);
    expect(scheduler.commandCalls(ListSchedulesCommand)).toHaveLength(listed);
  });

  it("shows a schedule's dead letters under its own tab, redrivable and without a purge", async () => {
    await page.locator(`#other-dlqs tr[data-dlq="${HEARTBEAT}"] a`).click();
    await page.locator(`tr[data-id="${EVENT_ID}"]`).waitFor();
    expect(await page.locator(`nav.tabs a[data-tab="${HEARTBEAT}"]`).getAttribute('class')).toBe('active');
    expect(await page.locator('.group h3').textContent()).toContain(
      'AccessDenied: not authorized to perform sqs:SendMessage',
    );
    expect(await page.getByRole('button', { name: 'Redrive all' }).isEnabled()).toBe(true);
    expect(await page.getByRole('button', { name: 'Purge the DLQ...' }).count()).toBe(0);
  });

  it("shows a dead letter's detail page with Scheduler's reason", async () => {
    await page.locator(`tr[data-id="${EVENT_ID}"] a`).click();
    const block = page.locator(`[data-dead-letter="${HEARTBEAT}"]`);
    await block.waitFor();
    expect(await block.locator('[data-field="reason"]').textContent()).toBe(
      'AccessDenied: not authorized to perform sqs:SendMessage',
    );
    // What it was, under the term a person reads it by.
    expect(
      await block
        .getByRole('term')
        .filter({ hasText: /^What$/ })
        .isVisible(),
    ).toBe(true);
    const what = block.getByRole('definition').and(block.locator('[data-field="scheduled"]'));
    expect(await what.textContent()).toBe('event of schedule heartbeat for the events queue');
    expect(await what.isVisible()).toBe(true);
    expect(await block.getByRole('button', { name: 'Redrive this event' }).isEnabled()).toBe(true);
  });

  it("refuses to redrive the job schedules' one, saying why as the CLI does", async () => {
    await page.goto(`http://127.0.0.1:${server.port}/#/failures/job_schedules`);
    const refused = page.locator('[data-redrive-refused]');
    await refused.waitFor();
    expect(await refused.textContent()).toMatch(/^the job_schedules dead-letter queue cannot be redriven: /);
    expect(await page.getByRole('button', { name: 'Redrive all' }).isEnabled()).toBe(false);
  });
});

describe("what each dead letter of Scheduler's queues was, as a person reads it on the Failures page", () => {
  const cases = [
    {
      dlq: HEARTBEAT,
      url: sqsUrl('Hookline-HeartbeatDlq'),
      letter: undeliveredHeartbeat,
      row: HEARTBEAT_EVENT_ID,
      what: 'event of schedule heartbeat for the events queue',
    },
    {
      dlq: 'job_schedules',
      url: sqsUrl('Hookline-JobSchedulesDlq'),
      letter: undeliveredJob,
      row: UNDELIVERED_JOB_ID,
      what: 'delayed job for the events queue',
    },
    {
      dlq: BREAKER_SCHEDULES_DLQ.name,
      url: BREAKER_SCHEDULES_DLQ.deadLetterUrl,
      letter: undeliveredBreakerProbe,
      // No envelope, so no event id: the row is keyed by SQS's message id.
      row: 'sqs-probe-1',
      what: `circuit breaker probe of the events queue, due ${BREAKER_PROBE_DUE}`,
    },
  ];

  for (const { dlq, url, letter, row, what } of cases) {
    it(`shows under its type what a ${dlq} dead letter was, visible and in its row's accessible name`, async () => {
      installFakeQueue(clients.sqs, url, [letter()]);
      await page.goto(`http://127.0.0.1:${server.port}/#/failures/${encodeURIComponent(dlq)}`);
      const shown = page.locator(`tr[data-id="${row}"]`);
      await shown.waitFor();
      const description = shown.locator('[data-field="scheduled"]');
      expect(await description.textContent()).toBe(what);
      expect(await description.isVisible()).toBe(true);
      // In the Type column, as the table's header names it.
      const typeColumn = await shown
        .locator('xpath=ancestor::table[1]')
        .locator('thead th')
        .evaluateAll((ths) => ths.findIndex((th) => th.textContent === 'Type'));
      expect(typeColumn).toBeGreaterThan(0);
      expect(await shown.locator('td').nth(typeColumn).locator('[data-field="scheduled"]').count()).toBe(1);
      // A screen reader announces it with the row.
      await expect.poll(() => page.getByRole('row', { name: what }).count()).toBe(1);
    });
  }
});
