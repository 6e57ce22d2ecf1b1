/**
 * A fair queue in the console, as a person sees it: the real page (the built bundle) in Debian's headless
 * Chromium, served by the real console server for a deployed stack whose `events` queue has tenants, with a feed
 * that reported an event queued under its tenant, a dead-letter queue holding its copy with the tenant attribute
 * and CloudWatch's quiet-tenant figures (AWS calls mocked). The same setup serves what an operator meets in an
 * incident that needs no running pipeline: a feed longer than the list, a sender's unbroken line, a double-click,
 * a target that stops answering.
 */
import { GetMetricDataCommand, type GetMetricDataCommandInput } from '@aws-sdk/client-cloudwatch';
import { GetEventSourceMappingCommand } from '@aws-sdk/client-lambda';
import {
  ChangeMessageVisibilityBatchCommand,
  GetQueueAttributesCommand,
  ListMessageMoveTasksCommand,
  ReceiveMessageCommand,
  StartMessageMoveTaskCommand,
} from '@aws-sdk/client-sqs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import exampleConfig from '../../hookline.config';
import { MESSAGE_ATTRIBUTES } from '../../lambda/shared/envelope';
import { resolveConfig } from '../../lib/config';
import type { EventFeed, FeedEvent } from '../../lib/console/feed';
import { ConsoleOperations } from '../../lib/console/operations';
import type { ConsoleServer } from '../../lib/console/server';
import { installFakeQueue } from '../cli/fake-queue';
import { EVENTS, mockCommandClients, stackTarget, testBackend } from '../cli/helpers';
import { type ConsoleInChromium, consoleServerInChromium } from '../helpers/console-browser';

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

/** A dead letter whose type is one unbroken line of 3,000 characters, as a sender may well send. */
const LONG_ID = 'evt-long-1';
const deadLetteredLongType = () => ({
  ...deadLetteredFairEvent(),
  MessageId: 'sqs-long-1',
  ReceiptHandle: 'rh-long-1',
  Body: JSON.stringify({
    ...JSON.parse(deadLetteredFairEvent().Body),
    id: LONG_ID,
    type: `orders/${'y'.repeat(3000)}`,
  }),
});

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
let page: Page;
let shown: ConsoleInChromium<{ server: ConsoleServer }> | undefined;

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
  shown = consoleServerInChromium(operations);
  ({ server, page } = await shown.started);
}, 180_000);

afterAll(() => shown?.close());

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

describe('the console in an incident', () => {
  it('says the events list shows only the newest of the events that match, and how many match', async () => {
    const first = reported.length + 1;
    for (let n = 0; n < 250; n++) {
      reported.push({
        seq: first + n,
        at,
        event: 'queued',
        id: `evt-burst-${n}`,
        source: 'github',
        type: 'push',
        queue: 'events',
      });
    }
    await page.goto(server.url);
    await page.goto(`http://127.0.0.1:${server.port}/#/events`);
    const note = page.locator('[data-events-shown]');
    await note.waitFor();
    expect(await note.textContent()).toBe(
      `Showing the newest 200 of ${reported.length} events (this console keeps the newest 2000 of its run): filter to narrow the list.`,
    );
    await page.selectOption('select[name="outcome"]', 'dead-lettered');
    await page.locator('[data-events-shown]').waitFor({ state: 'detached' });
    expect(await page.locator('#events tbody tr').count()).toBe(1);
    await page.fill('input[name="type"]', 'no-such-type');
    expect(await page.locator('[data-events-none]').textContent()).toBe('No event matches the filters.');
  });

  it("wraps a sender's unbroken line, so the page stays as wide as the window and every row's button on it", async () => {
    installFakeQueue(clients.sqs, EVENTS.deadLetterUrl, [deadLetteredFairEvent(), deadLetteredLongType()]);
    await page.goto(server.url);
    await page.goto(`http://127.0.0.1:${server.port}/#/failures/events`);
    const button = page.locator(`tr[data-id="${LONG_ID}"] button`, { hasText: 'Redrive' });
    await button.waitFor();
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(1280);
    const box = await button.boundingBox();
    expect(box && box.x + box.width).toBeLessThanOrEqual(1280);
  });

  it('pages past the first 200 dead letters: exact counts, every letter on one page, and back again', async () => {
    const many = Array.from({ length: 201 }, (_, n) => ({
      ...deadLetteredFairEvent(),
      MessageId: `sqs-many-${String(n).padStart(3, '0')}`,
      ReceiptHandle: `rh-many-${n}`,
      Body: JSON.stringify({
        ...JSON.parse(deadLetteredFairEvent().Body),
        id: `evt-many-${n}`,
        receivedAt: new Date(Date.parse(at) + n * 1000).toISOString(),
      }),
    }));
    installFakeQueue(clients.sqs, EVENTS.deadLetterUrl, many);
    await page.goto(server.url);
    await page.goto(`http://127.0.0.1:${server.port}/#/failures/events`);
    await page.locator('[data-dlq-depth]').waitFor();
    expect(await page.locator('[data-dlq-depth]').textContent()).toBe(
      '~201 in the events dead-letter queue, 201 read (left in place).',
    );
    const counts = page.locator('[data-page-counts]');
    const rows = () => page.locator('.group tbody tr').evaluateAll((trs) => trs.map((tr) => tr.dataset.id));
    expect(await counts.textContent()).toBe('Showing 1-200 of 201 dead letters read, newest first.');
    expect(await page.locator('[data-group-count]').allTextContents()).toEqual(['201, 200 on this page']);
    const first = await rows();
    expect(first[0]).toBe('evt-many-200');
    await page.getByRole('button', { name: 'Next' }).click();
    await counts.filter({ hasText: 'Showing 201-201' }).waitFor();
    expect(await rows()).toEqual(['evt-many-0']);
    expect(new Set([...first, 'evt-many-0']).size).toBe(201);
    expect(await page.getByRole('button', { name: 'Next' }).isDisabled()).toBe(true);
    await page.getByRole('button', { name: 'Previous' }).click();
    await counts.filter({ hasText: 'Showing 1-200' }).waitFor();
    expect(await rows()).toEqual(first);
  });

  it('starts one redrive for a double-click on Redrive all, and shows its job', async () => {
    // A deployed DLQ's redrive of everything is an SQS move task: none runs, one starts and completes at once.
    const task = { TaskHandle: 'task-1', SourceArn: EVENTS.deadLetterArn, Status: 'COMPLETED' };
    clients.sqs
      .on(ListMessageMoveTasksCommand)
      .resolvesOnce({ Results: [] })
      .resolves({
        Results: [{ ...task, ApproximateNumberOfMessagesMoved: 1, ApproximateNumberOfMessagesToMove: 1 }],
      });
    clients.sqs.on(StartMessageMoveTaskCommand).resolves({ TaskHandle: task.TaskHandle });
    const posted: string[] = [];
    page.on('request', (r) => {
      if (r.method() === 'POST' && r.url().endsWith('/api/queues/events/redrive')) posted.push(r.url());
    });
    await page.goto(server.url);
    await page.goto(`http://127.0.0.1:${server.port}/#/failures/events`);
    await page.locator('[data-dlq-depth]').waitFor();
    await page.getByRole('button', { name: 'Redrive all' }).dblclick();
    await page.locator('[data-job-state="done"], [data-job-state="failed"]').waitFor();
    expect(posted).toHaveLength(1);
    // One redrive: SQS was asked for one move task, and the job followed it to its end.
    expect(clients.sqs.commandCalls(StartMessageMoveTaskCommand)).toHaveLength(1);
    expect(await page.locator('.job').getAttribute('data-job-state')).toBe('done');
  });

  it('marks the figures it can no longer read as not current, with the time they were read', async () => {
    await page.goto(server.url);
    await page.locator('#queues tr[data-queue="events"]').waitFor();
    // As Node refuses a connection: the code, not only the words, says the target is not answering.
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:4566'), { code: 'ECONNREFUSED' });
    clients.sqs.on(GetQueueAttributesCommand).rejects(refused);
    const note = page.locator('[data-stale]');
    await note.waitFor();
    expect(await note.textContent()).toMatch(
      /Not current: what this page shows was read at \d\d:\d\d:\d\d UTC, and actions fail until the console can read again\.$/,
    );
    expect(await page.locator('main').getAttribute('class')).toBe('stale');
    // Why: AWS cannot be reached, in the CLI's words, not a fault of the console's own to report.
    expect(await note.textContent()).not.toContain('unexpected error');
  });
  it('says the console is not answering, not a bare "Failed to fetch", when its requests get no answer', async () => {
    await page.goto(server.url);
    await page.locator('#queues tr[data-queue="events"]').waitFor();
    await page.route('**/api/overview', (route) => route.abort('connectionrefused'));
    const note = page.locator('[data-stale]');
    await note.waitFor();
    expect(await note.textContent()).toMatch(
      /^the console is not answering: it was stopped \(or started again, with a new URL\): run hookline console again and open the URL it prints\. Not current:/,
    );
    await page.unroute('**/api/overview');
  });
  it('marks an event page whose Refresh failed as not current, keeping what it read', async () => {
    await page.goto(server.url);
    await page.goto(`http://127.0.0.1:${server.port}/#/event/${FAIR_ID}`);
    await page.locator('[data-dead-letter="events"]').waitFor();
    await page.route('**/api/events/*', (route) => route.abort('connectionrefused'));
    await page.getByRole('button', { name: 'Refresh' }).click();
    await page.locator('section.stale [data-stale]').waitFor();
    expect(await page.locator('[data-dead-letter="events"]').count()).toBe(1);
    await page.unroute('**/api/events/*');
  });
});
