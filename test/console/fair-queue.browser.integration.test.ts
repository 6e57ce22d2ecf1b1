/**
 * A fair queue in the console, as a person sees it: the real page (the built bundle) in Debian's headless
 * Chromium, served by the real console server for a deployed stack whose `events` queue has tenants, with a feed
 * that reported an event queued under its tenant, a dead-letter queue holding its copy with the tenant attribute
 * and CloudWatch's quiet-tenant figures (AWS calls mocked).
 */
import { GetMetricDataCommand, type GetMetricDataCommandInput } from '@aws-sdk/client-cloudwatch';
import { GetEventSourceMappingCommand } from '@aws-sdk/client-lambda';
import {
  ChangeMessageVisibilityBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
} from '@aws-sdk/client-sqs';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import exampleConfig from '../../hookline.config';
import { MESSAGE_ATTRIBUTES } from '../../lambda/shared/envelope';
import { resolveConfig } from '../../lib/config';
import { loadConsoleAssets } from '../../lib/console/assets';
import type { EventFeed, FeedEvent } from '../../lib/console/feed';
import { ConsoleOperations } from '../../lib/console/operations';
import { type ConsoleServer, startConsoleServer } from '../../lib/console/server';
import { installFakeQueue } from '../cli/fake-queue';
import { EVENTS, mockCommandClients, stackTarget, testBackend } from '../cli/helpers';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const clients = mockCommandClients();
const FAIR_ID = 'evt-fair-1';
const PLAIN_ID = 'evt-plain-1';
const TENANT = 'acme.myshopify.com';

const at = '2026-11-30T10:00:00.000Z';
const reported: FeedEvent[] = [
  {
    seq: 1,
    at,
    event: 'queued',
    id: FAIR_ID,
    source: 'shopify',
    type: 'orders/create',
    queue: 'events',
    tenant: TENANT,
  },
  {
    seq: 2,
    at,
    event: 'dead-lettered',
    id: FAIR_ID,
    source: 'shopify',
    type: 'orders/create',
    queue: 'events',
    attempt: 1,
  },
  { seq: 3, at, event: 'queued', id: PLAIN_ID, source: 'github', type: 'push', queue: 'events' },
];
const feed: EventFeed = {
  unavailable: null,
  after: async (seq) => ({ events: reported.filter((e) => e.seq > seq), latest: reported.length }),
};

/** The consumer's copy of the fair event in the DLQ: a standard DLQ keeps no group, only the tenant attribute. */
const deadLetteredFairEvent = () => ({
  MessageId: 'sqs-fair-1',
  ReceiptHandle: 'rh-fair-1',
  Body: JSON.stringify({
    v: 1,
    id: FAIR_ID,
    source: 'shopify',
    type: 'orders/create',
    receivedAt: at,
    headers: {},
    contentType: 'application/json',
    body: '{}',
    bodyEncoding: 'utf8',
  }),
  Attributes: { SentTimestamp: String(Date.parse(at)), ApproximateReceiveCount: '1' },
  MessageAttributes: { [MESSAGE_ATTRIBUTES.tenant]: { DataType: 'String', StringValue: TENANT } },
});

let server: ConsoleServer;
let browser: Browser;
let page: Page;

beforeEach(() => {
  clients.sqs.on(GetQueueAttributesCommand).resolves({ Attributes: { ApproximateNumberOfMessages: '0' } });
  clients.sqs.on(ReceiveMessageCommand).resolves({ Messages: [] });
  clients.sqs.on(ChangeMessageVisibilityBatchCommand).resolves({ Successful: [], Failed: [] });
  clients.lambda.on(GetEventSourceMappingCommand).resolves({ State: 'Enabled' });
  clients.cloudwatch.on(GetMetricDataCommand).resolves({ MetricDataResults: [] });
  installFakeQueue(clients.sqs, EVENTS.deadLetterUrl, [deadLetteredFairEvent()]);
});

beforeAll(async () => {
  const operations = new ConsoleOperations({
    backend: testBackend(),
    target: { ...stackTarget(), queues: { ...stackTarget().queues, events: { ...EVENTS, fair: true } } },
    config: resolveConfig(exampleConfig),
    feed,
  });
  [server, browser] = await Promise.all([
    loadConsoleAssets().then((assets) => startConsoleServer({ operations, assets, token: 'browser-token' })),
    chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu'] }),
  ]);
  page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.setDefaultTimeout(20_000);
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('the console on a fair queue', () => {
  it("shows the quiet tenants' backlog and oldest age on the overview, for the fair queue only", async () => {
    const quiet: Record<string, number> = {
      ApproximateNumberOfMessagesVisibleInQuietGroups: 12,
      ApproximateAgeOfOldestMessageInQuietGroups: 35,
    };
    clients.cloudwatch.on(GetMetricDataCommand).callsFake((input: GetMetricDataCommandInput) => ({
      MetricDataResults: (input.MetricDataQueries ?? []).map((q) => {
        const value = quiet[q.MetricStat?.Metric?.MetricName ?? ''];
        return { Id: q.Id, Values: value === undefined ? [] : [value] };
      }),
    }));
    await page.goto(server.url);
    const line = page.locator('[data-quiet-tenants="events"]');
    await line.waitFor();
    expect(await line.textContent()).toBe(
      "events: quiet tenants 12 visible, oldest 35s (tenant fairness: SQS serves them ahead of a noisy tenant's backlog)",
    );
    expect(await page.locator('[data-quiet-tenants]').count()).toBe(1);
  });

  it('names the tenant an event was queued and dead-lettered under, in the heading, the timeline and the dead letter', async () => {
    await page.goto(server.url);
    await page.goto(`http://127.0.0.1:${server.port}/#/event/${FAIR_ID}`);
    const block = page.locator('[data-dead-letter="events"]');
    await block.waitFor();
    expect(await page.locator('[data-field="event-tenant"]').textContent()).toBe(TENANT);
    expect(await block.locator('[data-field="tenant"]').textContent()).toBe(TENANT);
    await expect
      .poll(() => page.locator('#timeline tr[data-event="queued"] [data-col="tenant"]').textContent())
      .toBe(TENANT);
  });

  it('shows no tenant, nor an empty tenant column, for an event of a queue without tenants', async () => {
    await page.goto(`http://127.0.0.1:${server.port}/#/event/${PLAIN_ID}`);
    await page.locator('#timeline tr[data-event="queued"]').waitFor();
    expect(await page.locator('[data-field="event-tenant"]').count()).toBe(0);
    expect(await page.locator('#timeline th', { hasText: 'Tenant' }).count()).toBe(0);
  });
});
