/**
 * The console's overview of a deployed stack counts the jobs delayed beyond SQS's 15 minutes, waiting in one-time
 * EventBridge Scheduler schedules, as `hookline status` does: the same sentence, for a count, a lower bound and a
 * denied `ListSchedules`; and of local mode, from what its control endpoint counts. Scheduler has no emulator: it
 * answers as the SDK returns its pages.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { GetEventSourceMappingCommand } from '@aws-sdk/client-lambda';
import { ListSchedulesCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import exampleConfig from '../../hookline.config';
import { hooklineCommandFor } from '../../lib/cli/output';
import { runCli } from '../../lib/cli/program';
import type { LocalTarget } from '../../lib/cli/target';
import { resolveConfig } from '../../lib/config';
import { unavailableFeed } from '../../lib/console/feed';
import { ConsoleOperations } from '../../lib/console/operations';
import {
  cliHarness,
  EVENTS,
  jobSchedulesPage,
  localTestTarget,
  mockCommandClients,
  ORDERS,
  stackTargetWithJobSchedules,
  testBackend,
} from '../cli/helpers';

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

/** What the console's overview answers for the stack, on its first refresh. */
const overview = () =>
  new ConsoleOperations({
    backend: testBackend(),
    target,
    config: resolveConfig(exampleConfig),
    feed: unavailableFeed('no feed for a deployed stack'),
  }).overview();

/** `status`'s line as the overview says it: with the age of its count, listed on this refresh. */
const aged = (said: string | undefined, again = 'counted') =>
  `${said}; as of just now, ${again} again at most every 30s`;

/** `hookline status`'s line on the jobs scheduled for later, for the same stack and answers. */
async function statusLine(): Promise<string | undefined> {
  const h = cliHarness({
    connect: async (_options, output) => ({ target, backend: testBackend({ output }) }),
  });
  await runCli(['status'], h.deps);
  return h
    .stdout()
    .split('\n')
    .find((line) => line.includes('scheduled for later'));
}

describe('the overview of a deployed stack says the jobs scheduled for later as hookline status does, and how old its count is', () => {
  it('a count of every page of schedules, in the words of status', async () => {
    scheduler.on(ListSchedulesCommand, {}).resolves(jobSchedulesPage(100, 'token-2'));
    scheduler.on(ListSchedulesCommand, { NextToken: 'token-2' }).resolves(jobSchedulesPage(37));
    const said = await statusLine();
    expect(said).toMatch(/^137 jobs scheduled for later, beyond SQS's 15-minute delay, so in no queue yet;/);
    expect((await overview()).scheduledJobs).toEqual({ text: aged(said), tone: 'count' });
  });

  it('"at least" what it counted once it stopped after 10 pages', async () => {
    for (let i = 0; i < 11; i++) {
      scheduler
        .on(ListSchedulesCommand, i === 0 ? {} : { NextToken: `token-${i}` })
        .resolves(jobSchedulesPage(100, `token-${i + 1}`));
    }
    const said = await statusLine();
    expect(said).toMatch(/^at least 1000 jobs scheduled for later/);
    expect((await overview()).scheduledJobs).toEqual({ text: aged(said), tone: 'count' });
  });

  it('denied ListSchedules: unknown in its line, never 0, and the missing permission named, as status says them', async () => {
    scheduler.on(ListSchedulesCommand).rejects(
      Object.assign(new Error('not authorized to perform: scheduler:ListSchedules'), {
        name: 'AccessDeniedException',
        $fault: 'client',
        $metadata: { httpStatusCode: 403 },
      }),
    );
    const said = await statusLine();
    expect(said).toBe(
      "jobs scheduled for later, beyond SQS's 15-minute delay: unknown: access denied (needs scheduler:ListSchedules) (hookline jobs list --state scheduled)",
    );
    const shown = await overview();
    expect(shown.scheduledJobs).toEqual({ text: aged(said, 'tried'), tone: 'unknown' });
    expect(shown.missingPermissions).toBe(
      'incomplete: your AWS identity may not call scheduler:ListSchedules: what it reads is shown as unknown; allow it to see the whole pipeline',
    );
    // Said in place by its line, not again in the list of unknown parts.
    expect(shown.unreadableNotes).toEqual([]);
  });

  it('none when no job waits: status, which counts as it runs, says nothing; the overview, which reuses its count, says none', async () => {
    scheduler.on(ListSchedulesCommand).resolves(jobSchedulesPage(0));
    expect(await statusLine()).toBeUndefined();
    expect((await overview()).scheduledJobs).toEqual({
      text: aged(
        "no jobs scheduled for later, beyond SQS's 15-minute delay (hookline jobs list --state scheduled)",
      ),
      tone: 'count',
    });
  });
});

describe('the overview of local mode says the jobs scheduled for later as hookline status --local does', () => {
  const row = (queue: string) => ({ queue, fifo: false, visible: 0, consumer: 'Enabled' });
  /** Local mode's control endpoint, counting the jobs its one-time scheduler will send, by queue. */
  let server: Server;
  let local: LocalTarget;
  beforeAll(async () => {
    server = createServer((req, res) => {
      res.writeHead(req.url === '/_hookline/queues' ? 200 : 404, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({ queues: [row('events'), row('orders')], scheduledJobs: { events: 2, orders: 1 } }),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    local = localTestTarget({ controlUrl: `${base}/_hookline`, queues: { events: EVENTS, orders: ORDERS } });
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const backend = () => testBackend({ http: (url, init) => fetch(url, init) });

  it('the count of every queue, in the words of status --local', async () => {
    const h = cliHarness({ connect: async () => ({ target: local, backend: backend() }) });
    await runCli(['status', '--local'], h.deps);
    const said = h
      .stdout()
      .split('\n')
      .find((line) => line.includes('scheduled for later'));
    expect(said).toBe(
      "3 jobs scheduled for later, beyond SQS's 15-minute delay, so in no queue yet; a cancelled one counts until its time (hookline jobs list --state scheduled --local)",
    );
    const shown = await new ConsoleOperations({
      backend: backend(),
      target: local,
      config: resolveConfig(exampleConfig),
      feed: unavailableFeed('no feed in this test'),
      hints: { command: (args) => hooklineCommandFor({ local: true }, args) },
    }).overview();
    expect(shown.scheduledJobs).toEqual({ text: said, tone: 'count' });
  });
});
