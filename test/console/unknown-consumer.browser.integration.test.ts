/**
 * A consumer whose state the console's AWS identity may not read, on the Actions page, and live events it may not
 * poll, on the Events page: the real page (the built
 * bundle) in Debian's headless Chromium, served by the real console server for a deployed stack whose AWS calls are
 * mocked (local mode's emulators refuse nothing).
 */
import { GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import {
  CloudWatchLogsClient,
  CloudWatchLogsServiceException,
  FilterLogEventsCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import {
  GetEventSourceMappingCommand,
  LambdaServiceException,
  ListTagsCommand,
  UpdateEventSourceMappingCommand,
} from '@aws-sdk/client-lambda';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import exampleConfig from '../../hookline.config';
import { resolveConfig } from '../../lib/config';
import { deployedEventFeed } from '../../lib/console/deployed-feed';
import { ConsoleOperations } from '../../lib/console/operations';
import type { ConsoleServer } from '../../lib/console/server';
import { mockCommandClients, stackTarget, testBackend } from '../cli/helpers';
import { type ConsoleInChromium, consoleServerInChromium } from '../helpers/console-browser';

const clients = mockCommandClients();
const logs = mockClient(CloudWatchLogsClient);
/** No outcome line yet: the feed's answer from its first poll, when the console starts (before any test). */
const noLines = () => logs.on(FilterLogEventsCommand).resolves({ events: [] });
noLines();

let server: ConsoleServer;
let page: Page;
let shown: ConsoleInChromium<{ server: ConsoleServer }> | undefined;

/** Lambda's refusal of the mapping's read, as the SDK builds it. */
const readDenied = () =>
  new LambdaServiceException({
    name: 'AccessDeniedException',
    message:
      'User: arn:aws:iam::123456789012:user/ops is not authorized to perform: lambda:GetEventSourceMapping on resource: arn:aws:lambda:us-east-1:123456789012:event-source-mapping:esm-events-uuid because no identity-based policy allows the lambda:GetEventSourceMapping action',
    $fault: 'client',
    $metadata: { httpStatusCode: 403, requestId: 'req-1', attempts: 1 },
  });

/** CloudWatch Logs' refusal of a poll of the outcome lines, as the SDK builds it. */
const pollDenied = () =>
  new CloudWatchLogsServiceException({
    name: 'AccessDeniedException',
    message:
      'User: arn:aws:iam::123456789012:user/ops is not authorized to perform: logs:FilterLogEvents on resource: arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/Hookline-Ingest:log-stream: because no identity-based policy allows the logs:FilterLogEvents action',
    $fault: 'client',
    $metadata: { httpStatusCode: 400, requestId: 'req-2', attempts: 1 },
  });

// The clients' mocks are reset before each test (mockCommandClients): the stack's state is set again.
beforeEach(() => {
  logs.reset();
  noLines();
  clients.sqs.on(GetQueueAttributesCommand).resolves({ Attributes: { ApproximateNumberOfMessages: '0' } });
  clients.cloudwatch.on(GetMetricDataCommand).resolves({ MetricDataResults: [] });
  clients.lambda.on(GetEventSourceMappingCommand).rejects(readDenied());
  clients.lambda.on(ListTagsCommand).resolves({ Tags: {} });
  clients.lambda.on(UpdateEventSourceMappingCommand).resolves({ State: 'Disabling' });
});

beforeAll(async () => {
  const backend = testBackend({ logs: new CloudWatchLogsClient({ region: 'us-east-1' }) });
  const target = {
    ...stackTarget(),
    logGroups: {
      ingest: '/aws/lambda/Hookline-Ingest',
      consumers: { events: '/aws/lambda/Hookline-Events' },
    },
  };
  // The stack's live feed as the console follows it: polled on the real clock, as a running console polls.
  const operations = new ConsoleOperations({
    backend,
    target,
    config: resolveConfig(exampleConfig),
    feed: deployedEventFeed({ ...backend, clock: { now: Date.now, sleep: backend.clock.sleep } }, target),
  });
  shown = consoleServerInChromium(operations);
  ({ server, page } = await shown.started);
}, 180_000);

afterAll(() => shown?.close());

describe('a consumer whose state may not be read, on the Actions page', () => {
  it('says so with the permission the read needs, and still offers Pause and Resume, which act', async () => {
    await page.goto(`${server.url}#/actions`);
    const row = page.locator('#consumers tr[data-queue="events"]');
    await expect
      .poll(() => row.locator('[data-col="consumer"]').textContent())
      .toBe('unknown: access denied (needs lambda:GetEventSourceMapping)');
    expect(await row.getByRole('button', { name: 'Pause' }).isEnabled()).toBe(true);
    expect(await row.getByRole('button', { name: 'Resume' }).isEnabled()).toBe(true);

    await row.getByRole('button', { name: 'Pause' }).click();

    await expect
      .poll(() => clients.lambda.commandCalls(UpdateEventSourceMappingCommand).map((c) => c.args[0].input))
      .toEqual([{ UUID: 'esm-events-uuid', Enabled: false }]);
  });
});

describe('rates a deployed stack cannot count, on the Overview', () => {
  it('shows them as unknown (-), never as zero', async () => {
    // CloudWatch answers no series for the queue, and the deployed feed counts no source exactly.
    await page.goto(`${server.url}#/`);
    const source = page.locator('tr[data-source]').first();
    await expect.poll(() => source.locator('[data-rates="unknown"]').count(), { timeout: 15_000 }).toBe(3);
    expect(await source.locator('[data-rates="unknown"]').allTextContents()).toEqual(['-', '-', '-']);
    expect(await source.locator('[data-total]').count()).toBe(0);
  });
});

describe('live events the identity may not poll, on the Events page', () => {
  it('says so with the permission the poll needs, and lists the lines once it may', async () => {
    logs.on(FilterLogEventsCommand).rejects(pollDenied());
    await page.goto(`${server.url}#/events`);
    await expect
      .poll(() => page.locator('[role="alert"]').first().textContent(), { timeout: 15_000 })
      .toBe('unknown: access denied (needs logs:FilterLogEvents)');

    const at = Date.now();
    const line = {
      level: 'INFO',
      message: 'record outcome',
      outcome: 'processed',
      id: 'evt_granted',
      source: 'stripe',
      type: 'invoice.paid',
      queue: 'events',
      attempt: 1,
    };
    logs.reset();
    logs
      .on(FilterLogEventsCommand)
      .resolves({ events: [{ eventId: 'e1', timestamp: at, message: JSON.stringify(line) }] });
    await expect
      .poll(() => page.locator('#events tbody tr').first().textContent(), { timeout: 15_000 })
      .toContain('evt_granted');
    expect(await page.locator('[role="alert"]').count()).toBe(0);
  });
});
