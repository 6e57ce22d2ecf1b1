/**
 * The console's operations on a deployed stack, with the SDK clients mocked: what the overview, failures and
 * event pages show, and the checks that guard purge and replay.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetMetricDataCommand, type GetMetricDataCommandInput } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient, GetItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { GetEventSourceMappingCommand } from '@aws-sdk/client-lambda';
import {
  ChangeMessageVisibilityBatchCommand,
  GetQueueAttributesCommand,
  PurgeQueueCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  StartMessageMoveTaskCommand,
} from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it, vi } from 'vitest';
import exampleConfig from '../../hookline.config';
import { BackendError, CliError } from '../../lib/cli/errors';
import { failureKey } from '../../lib/cli/failure-groups';
import { type CommandHints, hooklineCommandFor } from '../../lib/cli/output';
import type { StackTarget } from '../../lib/cli/target';
import { resolveConfig } from '../../lib/config';
import { type EventFeed, unavailableFeed } from '../../lib/console/feed';
import {
  type ConsoleExtensions,
  ConsoleOperations,
  MAX_DEAD_LETTERS_READ,
  MAX_TIMELINE_LINES,
  REPLAY_UNAVAILABLE,
  type ReplaySelection,
} from '../../lib/console/operations';
import { PAGE_SIZE } from '../../lib/console/paging';
import { EventJournal } from '../../lib/local/event-journal';
import { installFakeQueue } from '../cli/fake-queue';
import {
  awsError,
  deadLetterMessage,
  EVENTS,
  jobDeadLetter,
  localTestTarget,
  mockCommandClients,
  ORDERS,
  stackTarget,
  stackWithJobRecords,
  testBackend,
} from '../cli/helpers';

const clients = mockCommandClients();
const config = resolveConfig(exampleConfig);

function operations(extensions?: ConsoleExtensions, target: Partial<StackTarget> = {}, hints?: CommandHints) {
  return new ConsoleOperations({
    backend: testBackend(),
    target: { ...stackTarget(), ...target },
    config,
    feed: unavailableFeed('no feed for a deployed stack'),
    ...(extensions ? { extensions } : {}),
    ...(hints ? { hints } : {}),
  });
}

/** A dead-lettered flow child of `parent` (a job whose record is not kept, so nothing is written for it). */
const flowChild = (n: number, parent: string) =>
  jobDeadLetter(n, { id: `child-${n}`, type: 'flow.part', parent, tracked: false });

const succeedSends = () =>
  clients.sqs.on(SendMessageBatchCommand).callsFake((input: { Entries: { Id: string }[] }) => ({
    Successful: input.Entries.map((e) => ({ Id: e.Id, MessageId: `new-${e.Id}`, MD5OfMessageBody: '' })),
    Failed: [],
  }));

/** The DLQ answers these messages once, then nothing. */
function dlqHolds(...messages: ReturnType<typeof deadLetterMessage>[]) {
  clients.sqs.on(GetQueueAttributesCommand).resolves({ Attributes: { ApproximateNumberOfMessages: '3' } });
  clients.sqs.on(ReceiveMessageCommand).resolvesOnce({ Messages: messages }).resolves({ Messages: [] });
  clients.sqs.on(ChangeMessageVisibilityBatchCommand).resolves({ Successful: [], Failed: [] });
}

/** Dead letter `n`, failed as the consumer records it: `name: message`. */
const failingWith = (n: number, name: string, message: string) =>
  deadLetterMessage(n, { failure: { name, message } });

const waitForJob = async (ops: ConsoleOperations) => ops.jobs.idle(5);

describe('console operations on a deployed stack', () => {
  it('shows queue rates from the SQS metrics in CloudWatch, and says that there is no live feed', async () => {
    const ops = operations();
    // The console's clock: the rates' window ends at its minute, and their reuse ends by it.
    const { clock } = ops.context.backend;
    const now = clock.now();
    const minute = (ago: number) => new Date((Math.floor(now / 60_000) - ago) * 60_000);
    clients.sqs.on(GetQueueAttributesCommand).resolves({ Attributes: { ApproximateNumberOfMessages: '4' } });
    clients.lambda.on(GetEventSourceMappingCommand).resolves({ State: 'Enabled' });
    const asked: GetMetricDataCommandInput[] = [];
    clients.cloudwatch.on(GetMetricDataCommand).callsFake((input: GetMetricDataCommandInput) => {
      asked.push(input);
      if (input.MetricDataQueries?.[0]?.Id?.startsWith('age')) return { MetricDataResults: [] };
      return {
        MetricDataResults: [
          { Id: 'q0_received', Timestamps: [minute(0), minute(2)], Values: [7, 3] },
          { Id: 'q0_failed', Timestamps: [minute(1)], Values: [2] },
        ],
      };
    });
    const overview = await ops.overview();
    const events = overview.queues.find((q) => q.queue === 'events');
    expect(events?.visible).toBe(4);
    expect(events?.rates?.received.slice(-3)).toEqual([3, 0, 7]);
    expect(events?.rates?.failed.slice(-3)).toEqual([0, 2, 0]);
    expect(events?.rates?.bucketSeconds).toBe(60);
    expect(overview.ratesNote).toMatch(/CloudWatch SQS metrics/);
    expect(overview.feed.unavailable).toBe('no feed for a deployed stack');
    expect([overview.local, overview.deadLetterQueues, overview.schedulesMissingOutputs]).toEqual([
      false,
      [],
      [],
    ]);
    const sourceNames = config.sources.map((s) => s.name);
    expect(overview.sources.map((s) => [s.name, s.type])).toEqual(
      config.sources.map((s) => [s.name, s.type]),
    );
    expect(overview.replaySources).toEqual([...sourceNames, 'schedule', 'job']);
    const rateQuery = asked.find((a) => a.MetricDataQueries?.[0]?.Id === 'q0_received');
    const dimensions = rateQuery?.MetricDataQueries?.map((q) => q.MetricStat?.Metric?.Dimensions?.[0]?.Value);
    expect(dimensions).toEqual(expect.arrayContaining(['Hookline-events', 'Hookline-events-dlq']));
    // Polled every 2 s, but CloudWatch is asked at most once a minute.
    await ops.overview();
    const rateCalls = () => asked.filter((a) => a.MetricDataQueries?.[0]?.Id === 'q0_received');
    expect(rateCalls()).toHaveLength(1);
    await clock.sleep(60_000);
    await ops.overview();
    expect(rateCalls()).toHaveLength(2);
  });

  it('joins the CloudWatch read of the rates in flight: refreshes that come meanwhile make no call of their own', async () => {
    clients.sqs.on(GetQueueAttributesCommand).resolves({ Attributes: { ApproximateNumberOfMessages: '4' } });
    clients.lambda.on(GetEventSourceMappingCommand).resolves({ State: 'Enabled' });
    let release = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const ops = operations();
    // Within the rates' window, which ends at the console clock's minute.
    const current = new Date(ops.context.backend.clock.now());
    const asked: GetMetricDataCommandInput[] = [];
    clients.cloudwatch.on(GetMetricDataCommand).callsFake(async (input: GetMetricDataCommandInput) => {
      asked.push(input);
      if (input.MetricDataQueries?.[0]?.Id?.startsWith('age')) return { MetricDataResults: [] };
      await held;
      return { MetricDataResults: [{ Id: 'q0_received', Timestamps: [current], Values: [5] }] };
    });
    const isRateCall = (a: GetMetricDataCommandInput) => a.MetricDataQueries?.[0]?.Id === 'q0_received';
    // How many reads of the ages one overview makes, so the test knows when three have gone past them to the rates.
    const ages = () => asked.filter((a) => !isRateCall(a)).length;
    const first = ops.overview();
    await vi.waitFor(() => expect(asked.some(isRateCall)).toBe(true), { timeout: 20_000 });
    const perOverview = ages();
    // Three tabs refreshing while the first read runs.
    const refreshes = [1, 2, 3].map(() => ops.overview());
    await vi.waitFor(() => expect(ages()).toBe(4 * perOverview), { timeout: 20_000 });
    release();
    const overviews = await Promise.all([first, ...refreshes]);
    expect(asked.filter(isRateCall)).toHaveLength(1);
    for (const overview of overviews) {
      expect(overview.queues.find((q) => q.queue === 'events')?.rates?.received.at(-1)).toBe(5);
    }
  });

  it('still shows the queues when CloudWatch denies its rates, naming the action and the fix as status does', async () => {
    clients.sqs.on(GetQueueAttributesCommand).resolves({ Attributes: { ApproximateNumberOfMessages: '4' } });
    clients.lambda.on(GetEventSourceMappingCommand).resolves({ State: 'Enabled' });
    // Only the rates' read denied (the ages' allowed), so the missing-permissions line cannot come from status.
    clients.cloudwatch.on(GetMetricDataCommand).callsFake((input: GetMetricDataCommandInput) => {
      if (input.MetricDataQueries?.[0]?.Id?.startsWith('age')) return { MetricDataResults: [] };
      throw awsError('AccessDeniedException');
    });
    const overview = await operations().overview();
    expect(overview.queues.find((q) => q.queue === 'events')?.visible).toBe(4);
    // Unknown, not zero: the page shows `-` where the rates could not be read.
    expect(overview.queues.find((q) => q.queue === 'events')?.rates).toBeNull();
    expect(overview.ratesNote).toBe(
      'queue rates: unknown: access denied (needs cloudwatch:GetMetricData); as of just now, tried again at most every 1m 0s',
    );
    expect(overview.missingPermissions).toBe(
      'incomplete: your AWS identity may not call cloudwatch:GetMetricData: what it reads is shown as unknown; allow it to see the whole pipeline',
    );
  });

  it('names the action once when CloudWatch denies both the ages and the rates', async () => {
    clients.sqs.on(GetQueueAttributesCommand).resolves({ Attributes: { ApproximateNumberOfMessages: '4' } });
    clients.lambda.on(GetEventSourceMappingCommand).resolves({ State: 'Enabled' });
    clients.cloudwatch.on(GetMetricDataCommand).rejects(awsError('AccessDeniedException'));
    const overview = await operations().overview();
    expect(overview.ratesNote).toBe(
      'queue rates: unknown: access denied (needs cloudwatch:GetMetricData); as of just now, tried again at most every 1m 0s',
    );
    expect(overview.missingPermissions).toMatch(
      /^incomplete: your AWS identity may not call cloudwatch:GetMetricData: /,
    );
  });

  it('says the rates are unavailable, naming the failure, when CloudWatch fails otherwise', async () => {
    clients.sqs.on(GetQueueAttributesCommand).resolves({ Attributes: { ApproximateNumberOfMessages: '4' } });
    clients.lambda.on(GetEventSourceMappingCommand).resolves({ State: 'Enabled' });
    clients.cloudwatch.on(GetMetricDataCommand).rejects(awsError('ThrottlingException'));
    const overview = await operations().overview();
    expect(overview.ratesNote).toBe(
      'queue rates: CloudWatch unavailable (ThrottlingException); as of just now, tried again at most every 1m 0s',
    );
    expect(overview.missingPermissions).toBeNull();
  });

  it("shows local mode's rates from its live feed, never asking CloudWatch", async () => {
    const http = async (url: string) =>
      new Response(
        JSON.stringify(
          url.endsWith('/queues')
            ? { queues: [{ queue: 'events', visible: 1, inFlight: 0, deadLettered: 0, consumer: 'Enabled' }] }
            : { events: [], latest: 0 },
        ),
      );
    const ops = new ConsoleOperations({
      backend: testBackend({ http }),
      target: localTestTarget({ queues: { events: EVENTS } }),
      config,
      feed: unavailableFeed('not read here'),
    });
    const at = new Date().toISOString();
    ops.activity.add([{ seq: 1, at, event: 'queued', id: 'a', source: 'github', queue: 'events' }]);
    const overview = await ops.overview();
    expect(overview).toMatchObject({ local: true, ratesNote: null });
    const sum = (line: readonly number[] | undefined) => (line ?? []).reduce((a, b) => a + b, 0);
    expect(sum(overview.queues.find((q) => q.queue === 'events')?.rates?.received)).toBe(1);
    expect(sum(overview.sources.find((s) => s.name === 'github')?.rates?.received)).toBe(1);
    expect(clients.cloudwatch.calls()).toHaveLength(0);
  });

  it("names the data directory's queues the configuration no longer has, with what they hold, as status does", async () => {
    const unconfiguredQueues = {
      dataDir: '/work/.data',
      queues: [{ name: 'Hookline-billing-dlq', messages: 3 }],
    };
    const row = { queue: 'events', visible: 0, inFlight: 0, deadLettered: 0, consumer: 'Enabled' };
    const answering = (extra: object) => async (url: string) =>
      new Response(JSON.stringify(url.endsWith('/queues') ? { queues: [row], ...extra } : {}));
    const overviewWith = (extra: object) =>
      new ConsoleOperations({
        backend: testBackend({ http: answering(extra) }),
        target: localTestTarget({ queues: { events: EVENTS } }),
        config,
        feed: unavailableFeed('not read here'),
        hints: { command: (args) => hooklineCommandFor({ local: true }, args) },
      }).overview();
    expect((await overviewWith({ unconfiguredQueues })).unconfiguredQueuesNote).toBe(
      'the data directory /work/.data holds messages in queues the configuration does not have, which nothing processes: Hookline-billing-dlq (3). A queue renamed or removed keeps what it held: to run those messages, configure the queue again under its old name and let it drain (hookline status --local) before renaming it; to drop them, delete the data directory',
    );
    expect((await overviewWith({})).unconfiguredQueuesNote).toBeNull();
  });

  it('groups dead letters by failure reason, those moved by SQS without one under their own heading', async () => {
    dlqHolds(deadLetterMessage(1), deadLetterMessage(2), deadLetterMessage(3, { error: false }));
    const failures = await operations().failures('events');
    // Groups come in the order of their newest letter; which one that is does not matter here.
    expect(failures.groups.map((g) => [g.reason, g.count]).sort()).toEqual([
      ['PermanentError: customer cus_1 not found', 2],
      [expect.stringMatching(/^no reason recorded: SQS moved it after maxReceiveCount/), 1],
    ]);
  });

  it("groups every letter read by failure as failed summary does, each group naming all its letters' ids, past the page", async () => {
    // More letters of one failure than a page shows, each naming its own customer: one failure all the same.
    const missing = Array.from({ length: PAGE_SIZE + 3 }, (_, n) =>
      failingWith(n, 'PermanentError', `customer cus_${n} not found`),
    );
    const typeErrors = [1, 2].map((n) => failingWith(PAGE_SIZE + 10 + n, 'TypeError', "reading 'email'"));
    dlqHolds(...missing, ...typeErrors, deadLetterMessage(PAGE_SIZE + 20, { error: false }));

    const failures = await operations().failures('events');
    expect(failures.page.shown).toBe(PAGE_SIZE);
    expect(failures.failureGroups.map((g) => [g.pattern, g.count, g.ids.length])).toEqual([
      ['PermanentError: customer <id> not found', PAGE_SIZE + 3, PAGE_SIZE + 3],
      ["TypeError: reading 'email'", 2, 2],
      [expect.stringMatching(/^no reason recorded/), 1, 1],
    ]);
    expect(failures.failureGroups[1]).toMatchObject({
      key: failureKey("TypeError: reading 'email'"),
      ids: [`evt-${PAGE_SIZE + 11}`, `evt-${PAGE_SIZE + 12}`],
      types: [{ type: 'invoice.paid', count: 2 }],
    });
    expect(new Set(failures.failureGroups[0]?.ids)).toEqual(new Set(missing.map((_, n) => `evt-${n}`)));
  });

  it('says the read stopped at its bound when the DLQ holds more letters than it reads', async () => {
    installFakeQueue(
      clients.sqs,
      EVENTS.deadLetterUrl,
      Array.from({ length: MAX_DEAD_LETTERS_READ + 1 }, (_, n) => deadLetterMessage(n)),
    );
    const failures = await operations().failures('events');
    expect(failures).toMatchObject({
      read: MAX_DEAD_LETTERS_READ,
      approximateDepth: MAX_DEAD_LETTERS_READ + 1,
      capped: true,
    });
    expect(failures.failureGroups.map((g) => g.count)).toEqual([MAX_DEAD_LETTERS_READ]);
  });

  it('counts the ids of a failure that also name a letter of another failure, which a redrive by id takes too', async () => {
    const replayedCopy = deadLetterMessage(2, { id: 'evt-1' });
    dlqHolds(deadLetterMessage(1), deadLetterMessage(3), {
      ...replayedCopy,
      MessageAttributes: {
        ...replayedCopy.MessageAttributes,
        'hookline.error.name': { DataType: 'String', StringValue: 'TypeError' },
        'hookline.error.message': { DataType: 'String', StringValue: "reading 'email'" },
      },
    });
    const failures = await operations().failures('events');
    expect(failures.failureGroups.map((g) => [g.pattern, g.count, g.ids, g.sharedIds])).toEqual([
      ['PermanentError: customer <id> not found', 2, ['evt-1', 'evt-3'], 1],
      ["TypeError: reading 'email'", 1, ['evt-1'], 1],
    ]);
  });

  it('says on the failures page why fewer dead letters are shown than are there, as failed list does', async () => {
    const dlq = installFakeQueue(clients.sqs, EVENTS.deadLetterUrl, [
      deadLetterMessage(1),
      deadLetterMessage(2),
      deadLetterMessage(3),
    ]);
    // A redrive stopped at once holds what it scanned: those are there, but no read receives them.
    dlq.hidden.add(dlq.messages[0]?.ReceiptHandle ?? '');
    dlq.hidden.add(dlq.messages[1]?.ReceiptHandle ?? '');
    const failures = await operations().failures('events');
    expect(failures).toMatchObject({ approximateDepth: 3, read: 1 });
    expect(failures.notes).toEqual([
      'about 2 messages are held by another reader (a redrive, the console, another failed list) and not shown: SQS returns them once that hold ends',
    ]);
  });

  it("names on the failures page an event held more than once, with the command for the console's target, as failed list does", async () => {
    installFakeQueue(clients.sqs, EVENTS.deadLetterUrl, [
      deadLetterMessage(1, { id: 'evt-twice' }),
      deadLetterMessage(2),
      deadLetterMessage(3, { id: 'evt-twice' }),
    ]);
    const hints = { command: (args: string) => hooklineCommandFor({ local: true }, args) };
    const failures = await operations(undefined, {}, hints).failures('events');
    expect(failures.read).toBe(3);
    expect(failures.notes).toHaveLength(1);
    expect(failures.notes[0]).toMatch(
      /^1 event is in the DLQ more than once among those listed: evt-twice 2 copies\. /,
    );
    expect(failures.notes[0]).toMatch(/: hookline failed delete events --id <sqs id> --local$/);
  });

  it("says on a FIFO queue's failures page that a group's later dead letters are not shown, as failed list does", async () => {
    // Two groups of two: while the read holds the first of a group, SQS returns none of its later ones.
    installFakeQueue(
      clients.sqs,
      ORDERS.deadLetterUrl,
      Array.from({ length: 4 }, (_, n) => deadLetterMessage(n, { group: `g-${n % 2}` })),
      { fifo: true, headsOnly: true },
    );
    const failures = await operations().failures('orders');
    expect(failures).toMatchObject({ approximateDepth: 4, read: 2 });
    expect(failures.notes).toEqual([
      "FIFO: SQS returns a message group's later messages only once its earlier ones leave the queue, so a listing shows fewer than the queue holds",
    ]);
  });

  it('shows an event without credential headers, with the archive trace when one is plugged in', async () => {
    const message = deadLetterMessage(1, { id: 'evt-secret' });
    const envelope = JSON.parse(message.Body ?? '{}');
    envelope.source = 'github';
    envelope.headers = {
      'x-github-event': 'push',
      'x-hub-signature-256': 'sha256=abc',
      authorization: 'Bearer t',
    };
    dlqHolds({ ...message, Body: JSON.stringify(envelope) });
    const traced: string[] = [];
    const ops = operations({
      trace: async (id) => {
        traced.push(id);
        return { id, hops: 3 };
      },
    });
    const event = await ops.event('evt-secret');
    expect(event.deadLetters[0]?.headers).toEqual({ 'x-github-event': 'push' });
    expect(event.deadLetters[0]?.error).toBe('PermanentError: customer cus_1 not found');
    expect(event.trace).toEqual({ id: 'evt-secret', hops: 3 });
    expect(event.traceNote).toBeNull();
    expect(traced).toEqual(['evt-secret']);
  });

  it('says on the event page that an event behind the earliest dead letter of its FIFO group may be there', async () => {
    clients.sqs.on(GetQueueAttributesCommand).resolves({ Attributes: {} });
    clients.sqs.on(ReceiveMessageCommand).resolves({ Messages: [] });
    installFakeQueue(
      clients.sqs,
      ORDERS.deadLetterUrl,
      Array.from({ length: 4 }, (_, n) => deadLetterMessage(n, { group: `g-${n % 2}` })),
      { fifo: true, headsOnly: true },
    );
    const event = await operations().event('evt-3');
    expect(event.deadLetters).toEqual([]);
    expect(event.deadLetterNotes).toEqual([
      "orders dead-letter queue: FIFO: SQS returns a message group's later messages only once its earlier ones leave the queue, so about 2 could not be read and this event may be among them: it shows once the earlier ones of its group are redriven or deleted",
    ]);
  });

  it('says on the event page that a dead letter another reader holds may be the event, not that it is in no DLQ', async () => {
    clients.sqs.on(GetQueueAttributesCommand).resolves({ Attributes: {} });
    clients.sqs.on(ReceiveMessageCommand).resolves({ Messages: [] });
    const dlq = installFakeQueue(clients.sqs, EVENTS.deadLetterUrl, [
      deadLetterMessage(1, { id: 'evt-held' }),
    ]);
    // A redrive stopped at once holds what it scanned for up to 300 s: the event is there, unread.
    dlq.hidden.add(dlq.messages[0]?.ReceiptHandle ?? '');
    const event = await operations().event('evt-held');
    expect(event.deadLetters).toEqual([]);
    expect(event.deadLetterNotes).toEqual([
      'events dead-letter queue: about 1 message is held by another reader (a redrive, the console, another failed list) and could not be read, so this event may be among them: Refresh once that hold ends',
    ]);
    dlq.hidden.clear();
    const released = await operations().event('evt-held');
    expect(released.deadLetters.map((d) => d.id)).toEqual(['evt-held']);
    expect(released.deadLetterNotes).toEqual([]);
  });

  it("hides any source's signature header, whatever its case, and a session cookie, proxy password or API key, naming them", async () => {
    const headers = {
      'X-Signature': 'sha256=abc',
      Cookie: 'session=s3cr3t',
      'proxy-authorization': 'Basic cHJveHk=',
      'x-api-key': 'key',
      'x-request-id': 'r-1',
    };
    dlqHolds(deadLetterMessage(1, { id: 'evt-kept', headers }));
    const [letter] = (await operations().event('evt-kept')).deadLetters;
    expect(letter?.headers).toEqual({ 'content-type': 'application/json', 'x-request-id': 'r-1' });
    expect(letter?.hiddenHeaders).toEqual(['X-Signature', 'Cookie', 'proxy-authorization', 'x-api-key']);
  });

  it('still shows a dead letter and its redrive when the trace cannot be read, and says why', async () => {
    dlqHolds(deadLetterMessage(1, { id: 'evt-old' }));
    const ops = operations({
      trace: async (id) => {
        throw new CliError(
          `no event with id ${id} in the logs of stack Hookline in us-east-1 (the last 7 days)`,
        );
      },
    });
    // The failures page links a dead letter by its SQS message id when that is all it has.
    const event = await ops.event('sqs-1');
    expect(event.deadLetters.map((d) => [d.queue, d.id])).toEqual([['events', 'evt-old']]);
    expect(event.trace).toBeNull();
    expect(event.traceNote).toBe(
      'no trace: no event with id sqs-1 in the logs of stack Hookline in us-east-1 (the last 7 days)',
    );
  });

  it('answers an id that nothing knows with an empty event page, saying the full trace needs the archive', async () => {
    dlqHolds();
    const event = await operations().event('evt-unknown');
    expect(event).toMatchObject({ id: 'evt-unknown', sources: [], source: null, type: null, timeline: [] });
    expect(event.deadLetters).toEqual([]);
    expect(event.trace).toBeNull();
    expect(event.traceNote).toMatch(/^the full trace .* needs the event archive/);
  });

  it('shows an event page timeline in the order it happened, not the order local mode read its lines', async () => {
    dlqHolds();
    const ops = operations();
    ops.activity.add([
      { seq: 1, at: '2026-11-30T10:00:00.080Z', event: 'processed', id: 'late', queue: 'events', attempt: 1 },
      {
        seq: 2,
        at: '2026-11-30T10:00:00.020Z',
        event: 'queued',
        id: 'late',
        source: 'github',
        queue: 'events',
      },
    ]);
    expect((await ops.event('late')).timeline.map((e) => e.event)).toEqual(['queued', 'processed']);
  });

  it('lists the live events newest first by the time they happened, not the order local mode read them', () => {
    const ops = operations();
    ops.activity.add([
      {
        seq: 1,
        at: '2026-11-30T10:00:00.080Z',
        event: 'processed',
        id: 'raced',
        queue: 'events',
        attempt: 1,
      },
      { seq: 2, at: '2026-11-30T10:00:00.020Z', event: 'queued', id: 'raced', queue: 'events' },
      { seq: 3, at: '2026-11-30T10:00:00.020Z', event: 'received', id: 'raced', status: 202 },
    ]);
    expect(ops.events({}).events.map((e) => e.event)).toEqual(['processed', 'received', 'queued']);
  });

  it("says on the event page when the timeline shows only the newest of an id's lines in the feed", async () => {
    dlqHolds();
    const ops = operations();
    const lines = (count: number, id: string) =>
      Array.from({ length: count }, (_, n) => ({
        seq: n + 1,
        at: new Date(Date.UTC(2026, 10, 30, 10, 0, 0, n)).toISOString(),
        event: 'retried',
        id,
        queue: 'events',
        attempt: n + 1,
      }));
    ops.activity.add([...lines(MAX_TIMELINE_LINES + 1, 'busy'), ...lines(MAX_TIMELINE_LINES, 'full')]);
    const busy = await ops.event('busy');
    expect(busy.timeline).toHaveLength(MAX_TIMELINE_LINES);
    expect(busy.timeline[0]?.attempt).toBe(2);
    expect(busy.timelineNote).toBe(
      `the timeline shows this id's newest ${MAX_TIMELINE_LINES} lines of the live feed; earlier ones are not shown`,
    );
    const full = await ops.event('full');
    expect(full.timeline).toHaveLength(MAX_TIMELINE_LINES);
    expect(full.timelineNote).toBeNull();
  });

  it('stops reading a dead-letter queue at the event it shows, instead of reading the rest of the queue', async () => {
    clients.sqs.on(GetQueueAttributesCommand).resolves({ Attributes: {} });
    const letters = Array.from({ length: 500 }, (_, n) => deadLetterMessage(n));
    installFakeQueue(clients.sqs, EVENTS.deadLetterUrl, letters);
    const ops = operations();
    ops.activity.add([
      { seq: 1, at: new Date().toISOString(), event: 'dead-lettered', id: 'evt-3', queue: 'events' },
    ]);
    const event = await ops.event('evt-3');
    expect(event.deadLetters.map((d) => [d.queue, d.messageId])).toEqual([['events', 'sqs-3']]);
    const reads = clients.sqs
      .commandCalls(ReceiveMessageCommand)
      .filter((c) => c.args[0].input.QueueUrl === EVENTS.deadLetterUrl);
    // The event is among the first ten read: one receive, not the fifty the whole queue takes.
    expect(reads).toHaveLength(1);
  });

  it('looks for an event in the dead-letter queues of the queues the feed saw it in, else in every one', async () => {
    dlqHolds();
    const ops = operations();
    const at = new Date().toISOString();
    ops.activity.add([{ seq: 1, at, event: 'dead-lettered', id: 'o-1', source: 'shopify', queue: 'orders' }]);
    const readFrom = () => [
      ...new Set(clients.sqs.commandCalls(ReceiveMessageCommand).map((c) => c.args[0].input.QueueUrl)),
    ];
    await ops.event('o-1');
    expect(readFrom()).toEqual([stackTarget().queues.orders?.deadLetterUrl]);
    const both = [
      stackTarget().queues.events?.deadLetterUrl,
      stackTarget().queues.orders?.deadLetterUrl,
    ].sort();
    // Routed to two queues: the ingest names both, each consumer its own.
    ops.activity.add([
      { seq: 2, at, event: 'queued', id: 'o-2', source: 'shopify', queue: 'events,orders' },
      { seq: 3, at, event: 'dead-lettered', id: 'o-2', source: 'shopify', queue: 'orders' },
    ]);
    clients.sqs.resetHistory();
    await ops.event('o-2');
    expect(readFrom().sort()).toEqual(both);
    clients.sqs.resetHistory();
    await ops.event('never-seen');
    expect(readFrom().sort()).toEqual(
      [stackTarget().queues.events?.deadLetterUrl, stackTarget().queues.orders?.deadLetterUrl].sort(),
    );
  });

  it('refuses a blank event id before reading any dead-letter queue', async () => {
    await expect(operations().event(' ')).rejects.toThrow('an event id is required');
    expect(clients.sqs.calls()).toHaveLength(0);
  });

  it('fails the event page when a dead-letter queue cannot be read, never showing the event without its dead letter', async () => {
    clients.sqs.onAnyCommand().rejects(awsError('ThrottlingException', 'Rate exceeded'));
    await expect(operations().event('evt-1')).rejects.toThrow(BackendError);
  });

  it('shows the event from the dead-letter queues it may read, and names the one it may not with the action', async () => {
    installFakeQueue(clients.sqs, EVENTS.deadLetterUrl, [deadLetterMessage(1, { id: 'evt-1' })]);
    clients.sqs
      .on(GetQueueAttributesCommand, { QueueUrl: ORDERS.deadLetterUrl })
      .resolves({ Attributes: { ApproximateNumberOfMessages: '1' } });
    clients.sqs
      .on(ReceiveMessageCommand, { QueueUrl: ORDERS.deadLetterUrl })
      .rejects(
        Object.assign(
          new Error(
            `User: arn:aws:iam::123456789012:user/ops is not authorized to perform: sqs:receivemessage on resource: ${ORDERS.deadLetterArn}`,
          ),
          { name: 'AccessDenied', $fault: 'client', $metadata: { httpStatusCode: 403, attempts: 1 } },
        ),
      );
    const event = await operations().event('evt-1');
    expect(event.deadLetters.map((d) => [d.queue, d.id])).toEqual([['events', 'evt-1']]);
    expect(event.deadLetterNotes).toEqual([
      "orders dead-letter queue: unknown: access denied (needs sqs:ReceiveMessage), so this event may be there: grant that permission to the console's AWS identity to look in it",
    ]);
  });

  it('names the policy that explicitly denies a dead-letter queue, and asks its owner rather than for a grant', async () => {
    installFakeQueue(clients.sqs, EVENTS.deadLetterUrl, [deadLetterMessage(1, { id: 'evt-1' })]);
    clients.sqs
      .on(GetQueueAttributesCommand, { QueueUrl: ORDERS.deadLetterUrl })
      .resolves({ Attributes: { ApproximateNumberOfMessages: '1' } });
    clients.sqs
      .on(ReceiveMessageCommand, { QueueUrl: ORDERS.deadLetterUrl })
      .rejects(
        Object.assign(
          new Error(
            `User: arn:aws:iam::123456789012:user/console is not authorized to perform: sqs:receivemessage on resource: ${ORDERS.deadLetterArn} with an explicit deny in a permissions boundary`,
          ),
          { name: 'AccessDenied', $fault: 'client', $metadata: { httpStatusCode: 403, attempts: 1 } },
        ),
      );
    const event = await operations().event('evt-1');
    expect(event.deadLetterNotes).toEqual([
      'orders dead-letter queue: unknown: access denied (a permissions boundary explicitly denies sqs:ReceiveMessage), so this event may be there: no grant overrides the deny: ask the owner of that policy to lift it to look in it',
    ]);
  });

  it('shows an id that two sources sent as two events, never as one of the first source', async () => {
    dlqHolds();
    const ops = operations();
    const at = new Date().toISOString();
    ops.activity.add([
      { seq: 1, at, event: 'queued', id: 'dup-1', source: 'generic', type: 'order.created', queue: 'events' },
      { seq: 2, at, event: 'queued', id: 'dup-1', source: 'github', type: 'push', queue: 'events' },
    ]);
    const event = await ops.event('dup-1');
    expect(event).toMatchObject({ sources: ['generic', 'github'], source: null, type: null });
    expect(event.timeline.map((e) => e.source)).toEqual(['generic', 'github']);
    ops.activity.add([{ seq: 3, at, event: 'queued', id: 'one-1', source: 'github', type: 'push' }]);
    expect(await ops.event('one-1')).toMatchObject({ sources: ['github'], source: 'github', type: 'push' });
  });

  it("sends a sample webhook signed with the source's secret, of the type asked for, without showing the secret", async () => {
    const posted: { url: string; headers: Record<string, string> }[] = [];
    const http = async (url: string, init?: RequestInit) => {
      posted.push({ url, headers: init?.headers as Record<string, string> });
      return new Response(JSON.stringify({ id: 'evt-1' }), { status: 202 });
    };
    const ops = new ConsoleOperations({
      backend: testBackend({ http }),
      target: stackTarget(),
      config,
      feed: unavailableFeed('no feed for a deployed stack'),
      env: { HOOKLINE_SECRET_GITHUB: 'console-test-secret' },
    });
    const sent = await ops.send('github', 'issues');
    expect(sent).toMatchObject({ source: 'github', status: 202, secretFrom: 'environment', hint: null });
    expect(JSON.stringify(sent)).not.toContain('console-test-secret');
    expect(posted.map((p) => [p.url, p.headers['x-github-event']])).toEqual([
      [stackTarget().webhookUrls.github, 'issues'],
    ]);
    expect(posted[0]?.headers['x-hub-signature-256']).toMatch(/^sha256=[0-9a-f]{64}$/);
  });

  it('says how to fix a test webhook the pipeline rejects for its signature: start the console with the secret', async () => {
    const rejecting = new ConsoleOperations({
      backend: testBackend({
        http: async () => new Response('{"message":"unauthorized"}', { status: 401 }),
      }),
      target: stackTarget(),
      config,
      feed: unavailableFeed('no feed for a deployed stack'),
      env: { HOOKLINE_SECRET_GITHUB: 'an-old-secret' },
    });
    expect(await rejecting.send('github', 'push')).toMatchObject({
      status: 401,
      ok: false,
      hint: 'the signature was rejected: the environment secret is not the one the pipeline has; start hookline console with HOOKLINE_SECRET_GITHUB set to that secret',
    });
  });

  it('names the console to start again with the target flags it was started with', async () => {
    const rejecting = new ConsoleOperations({
      backend: testBackend({
        http: async () => new Response('{"message":"unauthorized"}', { status: 401 }),
      }),
      target: stackTarget(),
      config,
      feed: unavailableFeed('no feed for a deployed stack'),
      env: { HOOKLINE_SECRET_GITHUB: 'an-old-secret' },
      hints: { command: (args) => hooklineCommandFor({ stack: 'Hookline', region: 'us-east-1' }, args) },
    });
    expect((await rejecting.send('github', 'push')).hint).toBe(
      'the signature was rejected: the environment secret is not the one the pipeline has; start hookline console --stack Hookline --region us-east-1 with HOOKLINE_SECRET_GITHUB set to that secret',
    );
  });

  it('purges only when the queue name was typed, as the page asks', async () => {
    clients.sqs.on(GetQueueAttributesCommand).resolves({ Attributes: { ApproximateNumberOfMessages: '2' } });
    clients.sqs.on(PurgeQueueCommand).resolves({});
    const ops = operations();
    expect(() => ops.purge('events', true, 'yes')).toThrow(CliError);
    expect(() => ops.purge('events', true, '')).toThrow(/type the queue name "events"/);
    expect(() => ops.purge('nope', false, 'nope')).toThrow(/unknown queue "nope"/);
    expect(ops.jobs.list()).toEqual([]);
    expect(clients.sqs.commandCalls(PurgeQueueCommand)).toHaveLength(0);
    const job = ops.purge('events', true, 'events');
    await waitForJob(ops);
    expect(job).toMatchObject({
      kind: 'purge',
      label: 'purge the events dead-letter queue',
      state: 'done',
      result: { queue: 'events', deadLetter: true, purged: 2 },
    });
    expect(clients.sqs.commandCalls(PurgeQueueCommand)[0]?.args[0].input.QueueUrl).toBe(
      stackTarget().queues.events?.deadLetterUrl,
    );
  });

  it('redrives only the dead letters its selection names: the ids, or the types the pattern matches', async () => {
    const dlq = installFakeQueue(clients.sqs, stackTarget().queues.events?.deadLetterUrl ?? '', [
      deadLetterMessage(1),
      deadLetterMessage(2, { type: 'customer.created' }),
      deadLetterMessage(3),
    ]);
    clients.sqs.on(SendMessageBatchCommand).callsFake((input: { Entries: { Id: string }[] }) => ({
      Successful: input.Entries.map((e) => ({ Id: e.Id, MessageId: `new-${e.Id}`, MD5OfMessageBody: '' })),
      Failed: [],
    }));
    const ops = operations();
    const sentIds = () =>
      clients.sqs
        .commandCalls(SendMessageBatchCommand)
        .flatMap((c) => (c.args[0].input.Entries ?? []).map((e) => JSON.parse(e.MessageBody ?? '{}').id));
    const byType = ops.redrive('events', { type: 'customer.*' });
    await waitForJob(ops);
    expect(byType).toMatchObject({
      kind: 'redrive',
      state: 'done',
      label: 'redrive events: type customer.*',
    });
    expect(sentIds()).toEqual(['evt-2']);
    const byId = ops.redrive('events', { ids: ['evt-3'] });
    await waitForJob(ops);
    expect(byId).toMatchObject({ state: 'done', label: 'redrive events: 1 selected' });
    expect(sentIds()).toEqual(['evt-2', 'evt-3']);
    expect(dlq.messages.map((m) => m.MessageId)).toEqual(['sqs-1']);
    expect(clients.sqs.commandCalls(StartMessageMoveTaskCommand)).toHaveLength(0);
  });

  it("says at the end of a redrive's summary which selected ids are no longer in the dead-letter queue", async () => {
    installFakeQueue(clients.sqs, stackTarget().queues.events?.deadLetterUrl ?? '', [deadLetterMessage(1)]);
    succeedSends();
    const ops = operations();
    const job = ops.redrive('events', { ids: ['evt-1', 'evt-9'] });
    await waitForJob(ops);
    expect(job).toMatchObject({ state: 'done', result: { moved: 1, notFound: ['evt-9'] } });
    expect(job.summary?.at(-1)).toBe('not found, already gone from the events dead-letter queue: evt-9');
  });

  it('refuses a second redrive or a purge of a dead-letter queue while its redrive runs, and takes one once it ended', async () => {
    installFakeQueue(clients.sqs, stackTarget().queues.events?.deadLetterUrl ?? '', [deadLetterMessage(1)]);
    clients.sqs.on(SendMessageBatchCommand).callsFake((input: { Entries: { Id: string }[] }) => ({
      Successful: input.Entries.map((e) => ({ Id: e.Id, MessageId: `new-${e.Id}`, MD5OfMessageBody: '' })),
      Failed: [],
    }));
    const ops = operations();
    const first = ops.redrive('events', { ids: ['evt-1'] });
    expect(() => ops.redrive('events', { ids: ['evt-1'] })).toThrow(
      `redrive events: 1 selected is still running in this console (started ${first.startedAt}): nothing was started; wait for it to end, then look at the events dead-letter queue again`,
    );
    expect(() => ops.purge('events', true, 'events')).toThrow(/is still running in this console/);
    expect(ops.jobs.list()).toEqual([first]);
    await waitForJob(ops);
    expect(first.state).toBe('done');
    expect(ops.redrive('events', { type: '**' }).state).toBe('running');
    await waitForJob(ops);
  });

  it("ends a redrive's job with the command's own summary: what moved, what is left, and that an error stopped it early", async () => {
    installFakeQueue(
      clients.sqs,
      stackTarget().queues.events?.deadLetterUrl ?? '',
      Array.from({ length: 12 }, (_, n) => deadLetterMessage(n + 1)),
    );
    clients.sqs
      .on(SendMessageBatchCommand)
      .callsFakeOnce((input: { Entries: { Id: string }[] }) => ({
        Successful: input.Entries.map((e) => ({ Id: e.Id, MessageId: `new-${e.Id}`, MD5OfMessageBody: '' })),
      }))
      .rejects(awsError('ServiceUnavailable', 'try later'));
    const ops = operations();
    const job = ops.redrive('events', { type: '**' });
    await waitForJob(ops);
    expect(job.state).toBe('done');
    expect(job.summary).toEqual([
      'redrive events: one by one',
      'moved 10, skipped 0, failed 2',
      'left in the dead-letter queue: 2 (hookline failed list events)',
      '  evt-11: ServiceUnavailable: try later',
      '  evt-12: ServiceUnavailable: try later',
      'stopped early: ServiceUnavailable: try later; the rest stays in the DLQ, run it again',
    ]);
  });

  it('refuses an empty redrive selection and an unknown queue before touching SQS', () => {
    const ops = operations();
    expect(() => ops.redrive('events', { ids: [] })).toThrow(/no event selected/);
    expect(() => ops.redrive('events', { type: ' ' })).toThrow(/type must not be empty/);
    expect(() => ops.redrive('events', { type: 'invoice..paid' })).toThrow(/is not a valid type pattern/);
    expect(ops.jobs.list()).toEqual([]);
    expect(() => ops.redrive('nope', {})).toThrow(/unknown queue "nope"/);
    expect(clients.sqs.calls()).toHaveLength(0);
  });

  it("deletes only the selected dead letters as a job, ending with failed delete's summary: deleted, already gone, flow parents to cancel", async () => {
    const dlq = installFakeQueue(clients.sqs, stackTarget().queues.events?.deadLetterUrl ?? '', [
      deadLetterMessage(1),
      deadLetterMessage(2),
      flowChild(3, 'report-1'),
      deadLetterMessage(4, { id: 'evt-1' }),
    ]);
    const ops = operations(undefined, {}, { command: (args) => `hookline ${args} --stack Hookline` });
    const job = ops.deleteDeadLetters('events', { ids: ['evt-1', 'child-3', 'evt-9'] });
    await waitForJob(ops);
    expect(job).toMatchObject({
      kind: 'delete',
      label: 'delete from the events dead-letter queue: 3 selected',
      state: 'done',
      result: { deletedEvents: 2, deletedMessages: 3, notFound: ['evt-9'], flowParents: ['report-1'] },
    });
    expect(job.summary).toEqual([
      'deleted 2 events from the events dead-letter queue (3 messages: the DLQ held more than one copy of an id): evt-1, child-3',
      'left in the dead-letter queue: 1',
      'flow parents of deleted jobs, which can never be sent now (a deleted child never completes, nor tells its parent it did): cancel them',
      '  hookline jobs cancel report-1 --stack Hookline',
      'not found, already gone from the events dead-letter queue: evt-9',
    ]);
    expect(dlq.messages.map((m) => m.MessageId)).toEqual(['sqs-2']);
    expect(dlq.hidden.size).toBe(0);
  });

  it('reports a selection gone from the dead-letter queue since the page read it as not found, deleting nothing', async () => {
    const dlq = installFakeQueue(clients.sqs, stackTarget().queues.events?.deadLetterUrl ?? '', [
      deadLetterMessage(2),
    ]);
    const ops = operations();
    const job = ops.deleteDeadLetters('events', { ids: ['evt-1'] });
    await waitForJob(ops);
    expect([job.state, job.summary]).toEqual([
      'done',
      [
        'deleted 0 events from the events dead-letter queue: -',
        'left in the dead-letter queue: 1',
        'not found, already gone from the events dead-letter queue: evt-1',
      ],
    ]);
    expect([dlq.messages.length, dlq.deleted, dlq.hidden.size]).toEqual([1, [], 0]);
  });

  it('refuses a delete of a dead-letter queue while its redrive runs, and a redrive or purge while its delete runs', async () => {
    installFakeQueue(clients.sqs, stackTarget().queues.events?.deadLetterUrl ?? '', [
      deadLetterMessage(1),
      deadLetterMessage(2),
    ]);
    succeedSends();
    const ops = operations();
    const redriving = ops.redrive('events', { ids: ['evt-1'] });
    expect(() => ops.deleteDeadLetters('events', { ids: ['evt-2'] })).toThrow(
      `redrive events: 1 selected is still running in this console (started ${redriving.startedAt}): nothing was started; wait for it to end, then look at the events dead-letter queue again`,
    );
    await waitForJob(ops);
    const deleting = ops.deleteDeadLetters('events', { ids: ['evt-2'] });
    expect(() => ops.redrive('events', {})).toThrow(
      `delete from the events dead-letter queue: 1 selected is still running in this console (started ${deleting.startedAt})`,
    );
    expect(() => ops.purge('events', true, 'events')).toThrow(/is still running in this console/);
    expect(ops.jobs.list()).toEqual([deleting, redriving]);
    await waitForJob(ops);
    expect(deleting).toMatchObject({ state: 'done', result: { deletedIds: ['evt-2'] } });
  });

  it('destroys the job-record client each redrive and delete job opened once the job ends, so a long-running console keeps none', async () => {
    const cloudformation = stackWithJobRecords();
    const dynamodb = mockClient(DynamoDBClient);
    dynamodb.on(UpdateItemCommand).resolves({});
    // A redrive reads each record just before its send.
    dynamodb.on(GetItemCommand).callsFake(deadLetteredRecord);
    const destroyed = vi.spyOn(DynamoDBClient.prototype, 'destroy');
    try {
      installFakeQueue(clients.sqs, stackTarget().queues.events?.deadLetterUrl ?? '', [
        jobDeadLetter(1),
        jobDeadLetter(2),
      ]);
      succeedSends();
      const ops = operations();
      const redriving = ops.redrive('events', { ids: ['job-1'] });
      await waitForJob(ops);
      const deleting = ops.deleteDeadLetters('events', { ids: ['job-2'] });
      await waitForJob(ops);
      expect([redriving.state, deleting.state]).toEqual(['done', 'done']);
      // Each job wrote its record through a client of its own, and that client is gone.
      const writers = dynamodb.commandCalls(UpdateItemCommand).map((call) => call.thisValue);
      expect(new Set(writers).size).toBe(2);
      expect(destroyed.mock.contexts).toEqual(expect.arrayContaining([...new Set(writers)]));
    } finally {
      destroyed.mockRestore();
      dynamodb.restore();
      cloudformation.restore();
    }
  });

  it("marks the job records of local mode that the console's own environment names, for a redrive and a delete alike", async () => {
    // The console's environment, not the process's, says where local mode keeps its state (and so its records).
    const dir = mkdtempSync(join(tmpdir(), 'hookline-console-env-'));
    const events = { ...EVENTS, url: EVENTS.url, fifo: false };
    writeFileSync(
      join(dir, 'local.json'),
      JSON.stringify({
        pid: process.pid,
        webhookBaseUrl: 'http://127.0.0.1:3000',
        controlUrl: 'http://127.0.0.1:3000/_hookline',
        region: 'us-east-1',
        endpoints: { sqs: 'http://127.0.0.1:4566', dynamodb: 'http://127.0.0.1:4567' },
        queues: {
          events: {
            url: events.url,
            arn: events.arn,
            deadLetterUrl: events.deadLetterUrl,
            deadLetterArn: events.deadLetterArn,
            fifo: false,
          },
        },
        consumers: {},
        jobs: { dedupe: { tableName: 'local-dedupe', ttlSeconds: 259200 } },
      }),
    );
    const dynamodb = mockClient(DynamoDBClient);
    dynamodb.on(UpdateItemCommand).resolves({});
    // A redrive reads each record just before its send.
    dynamodb.on(GetItemCommand).callsFake(deadLetteredRecord);
    try {
      installFakeQueue(clients.sqs, EVENTS.deadLetterUrl, [jobDeadLetter(1), jobDeadLetter(2)]);
      succeedSends();
      const ops = new ConsoleOperations({
        backend: testBackend(),
        target: localTestTarget({
          queues: { events: EVENTS },
          endpoints: { sqs: 'http://127.0.0.1:4566', dynamodb: 'http://127.0.0.1:4567' },
        }),
        config,
        feed: unavailableFeed('not read here'),
        env: { HOOKLINE_STATE_DIR: dir },
      });
      const redriving = ops.redrive('events', { ids: ['job-1'] });
      await waitForJob(ops);
      const deleting = ops.deleteDeadLetters('events', { ids: ['job-2'] });
      await waitForJob(ops);
      expect([redriving.state, deleting.state]).toEqual(['done', 'done']);
      expect([...redriving.notes, ...deleting.notes]).toEqual([]);
      const written = dynamodb
        .commandCalls(UpdateItemCommand)
        .map((call) => [call.args[0].input.TableName, call.args[0].input.Key?.pk?.S]);
      expect(written).toEqual([
        ['local-dedupe', 'job#job-1'],
        ['local-dedupe', 'job#job-2'],
      ]);
    } finally {
      dynamodb.restore();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("says a delayed job it cancels in local mode is still sent by local mode's scheduler, as jobs cancel says there", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hookline-console-cancel-'));
    const endpoints = { sqs: 'http://127.0.0.1:4566', dynamodb: 'http://127.0.0.1:4567' };
    writeFileSync(
      join(dir, 'local.json'),
      JSON.stringify({
        pid: process.pid,
        webhookBaseUrl: 'http://127.0.0.1:3000',
        controlUrl: 'http://127.0.0.1:3000/_hookline',
        region: 'us-east-1',
        endpoints,
        queues: {},
        consumers: {},
        jobs: { dedupe: { tableName: 'local-dedupe', ttlSeconds: 259200 } },
      }),
    );
    const record = {
      pk: { S: 'job#remind-u42' },
      state: { S: 'scheduled' },
      type: { S: 'email.reminder' },
      queue: { S: 'events' },
      enqueuedAt: { S: '2026-12-01T09:00:00.000Z' },
      dueAt: { S: '2999-12-02T09:00:00.000Z' },
      scheduleName: { S: 'Hookline-job-abc' },
    };
    const dynamodb = mockClient(DynamoDBClient);
    dynamodb.on(GetItemCommand).resolves({ Item: record });
    dynamodb.on(UpdateItemCommand).resolves({ Attributes: record });
    try {
      const ops = new ConsoleOperations({
        backend: testBackend(),
        target: localTestTarget({ endpoints }),
        config,
        feed: unavailableFeed('not read here'),
        env: { HOOKLINE_STATE_DIR: dir },
      });
      const cancelled = await ops.cancelJobRecord('remind-u42');
      expect(cancelled.summary).toEqual([
        'cancelled job remind-u42 (it was scheduled): the consumer skips it',
        "its one-time schedule Hookline-job-abc still sends it at 2999-12-02T09:00:00.000Z, and local mode's scheduler removes the schedule once it has sent it",
      ]);
    } finally {
      dynamodb.restore();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('stops a delete when the console stops, before its next batch: nothing more deleted, the ids not reached named', async () => {
    const dlq = installFakeQueue(clients.sqs, stackTarget().queues.events?.deadLetterUrl ?? '', [
      deadLetterMessage(1),
    ]);
    const ops = operations();
    const job = ops.deleteDeadLetters('events', { ids: ['evt-1'] });
    expect(await ops.jobs.stop()).toEqual([job]);
    expect(job).toMatchObject({
      state: 'done',
      result: {
        deletedEvents: 0,
        stoppedBy: 'Interrupted: stopped by Ctrl-C',
        failures: [{ id: 'evt-1', reason: expect.stringMatching(/^not reached: the scan stopped first/) }],
      },
    });
    expect([dlq.messages.length, dlq.hidden.size]).toEqual([1, 0]);
  });

  it('refuses an empty or blank delete selection and an unknown queue before touching SQS', () => {
    const ops = operations();
    expect(() => ops.deleteDeadLetters('events', { ids: [] })).toThrow(
      'no event selected: select at least one; nothing was deleted',
    );
    expect(() => ops.deleteDeadLetters('events', { ids: ['evt-1', ' '] })).toThrow(
      'an event id must not be blank: nothing was deleted',
    );
    expect(() => ops.deleteDeadLetters('nope', { ids: ['evt-1'] })).toThrow(/unknown queue "nope"/);
    expect(ops.jobs.list()).toEqual([]);
    expect(clients.sqs.calls()).toHaveLength(0);
  });

  it("redrives every dead letter of a failure in the whole DLQ, as redrive --failure does, refusing another operation of the DLQ meanwhile; once none is left, the CLI's error", async () => {
    const dlq = installFakeQueue(clients.sqs, stackTarget().queues.events?.deadLetterUrl ?? '', [
      failingWith(1, 'PermanentError', 'customer cus_1 not found'),
      failingWith(2, 'TypeError', "reading 'email'"),
      failingWith(3, 'PermanentError', 'customer cus_3 not found'),
      failingWith(4, 'TypeError', "reading 'email'"),
    ]);
    succeedSends();
    const ops = operations();
    const key = failureKey("TypeError: reading 'email'");
    const job = ops.redrive('events', { failure: key });
    expect(() => ops.deleteDeadLetters('events', { failure: key })).toThrow(
      `redrive events: failure ${key} is still running in this console`,
    );
    await waitForJob(ops);
    expect(job).toMatchObject({
      state: 'done',
      label: `redrive events: failure ${key}`,
      result: { moved: 2 },
    });
    expect(job.summary?.[1]).toBe('moved 2, skipped 2, failed 0');
    const sent = clients.sqs
      .commandCalls(SendMessageBatchCommand)
      .flatMap((c) => (c.args[0].input.Entries ?? []).map((e) => JSON.parse(e.MessageBody ?? '{}').id));
    expect(sent).toEqual(['evt-2', 'evt-4']);
    expect(dlq.messages.map((m) => m.MessageId)).toEqual(['sqs-1', 'sqs-3']);
    const again = ops.redrive('events', { failure: key });
    await waitForJob(ops);
    expect([again.state, again.error]).toEqual([
      'failed',
      `no message in the events dead-letter queue matches --failure ${key}: nothing was moved; list them with hookline failed summary events`,
    ]);
  });

  it("deletes every dead letter of a failure in the whole DLQ, as failed delete --failure does; a failure matching nothing ends with the CLI's error", async () => {
    const dlq = installFakeQueue(clients.sqs, stackTarget().queues.events?.deadLetterUrl ?? '', [
      failingWith(1, 'PermanentError', 'customer cus_1 not found'),
      failingWith(2, 'TypeError', "reading 'email'"),
      failingWith(3, 'TypeError', "reading 'email'"),
    ]);
    const ops = operations();
    const key = failureKey("TypeError: reading 'email'");
    const job = ops.deleteDeadLetters('events', { failure: key });
    await waitForJob(ops);
    expect(job).toMatchObject({
      state: 'done',
      label: `delete from the events dead-letter queue: failure ${key}`,
      result: { deletedEvents: 2, deletedIds: ['evt-2', 'evt-3'], notFound: [] },
    });
    expect(dlq.messages.map((m) => m.MessageId)).toEqual(['sqs-1']);
    const again = ops.deleteDeadLetters('events', { failure: key });
    await waitForJob(ops);
    expect([again.state, again.error]).toEqual([
      'failed',
      `no message in the events dead-letter queue matches --failure ${key}: nothing was deleted; list them with hookline failed summary events`,
    ]);
    expect(dlq.messages.map((m) => m.MessageId)).toEqual(['sqs-1']);
  });

  it("refuses a failure that is not a key with the CLI's message, and a delete of ids and a failure at once, before touching SQS", () => {
    const ops = operations();
    const notAKey =
      '--failure "TypeError" is not a failure key: give the KEY column of hookline failed summary events (8 hex digits, such as 0a78ca1c)';
    expect(() => ops.redrive('events', { failure: 'TypeError' })).toThrow(
      `${notAKey}, or leave --failure out`,
    );
    expect(() => ops.deleteDeadLetters('events', { failure: 'TypeError' })).toThrow(
      `${notAKey}, or select with --id`,
    );
    expect(() => ops.deleteDeadLetters('events', { ids: ['evt-1'], failure: '0a78ca1c' })).toThrow(
      'select either ids or a failure, not both: nothing was deleted',
    );
    expect(ops.jobs.list()).toEqual([]);
    expect(clients.sqs.calls()).toHaveLength(0);
  });

  it('keeps replay disabled with the reason until a replay function is plugged in, then runs it as a job', async () => {
    expect(() => operations().replay({ source: 'github', since: '2h' })).toThrow(REPLAY_UNAVAILABLE);
    const ops = operations(
      {
        replay: async (selection, output) => {
          output.progress('replayed', 2).update(2);
          return { replayed: 2, source: selection.source };
        },
      },
      { archiveBucket: 'archive-bucket' },
    );
    const job = ops.replay({ source: 'github', since: '2h' });
    await waitForJob(ops);
    expect(job).toMatchObject({ state: 'done', result: { replayed: 2, source: 'github' } });
    expect(job.progress).toEqual({ done: 2, total: 2, label: 'replayed' });
  });

  it('says replay is unavailable while the target has no event archive, and refuses one', async () => {
    const ops = operations({ replay: async () => ({}) });
    clients.sqs.on(GetQueueAttributesCommand).resolves({ Attributes: {} });
    clients.lambda.on(GetEventSourceMappingCommand).resolves({ State: 'Enabled' });
    clients.cloudwatch.on(GetMetricDataCommand).resolves({ MetricDataResults: [] });
    expect((await ops.overview()).replay).toMatch(/has no event archive/);
    expect(() => ops.replay({ source: 'github', since: '2h' })).toThrow(/has no event archive/);
  });

  it('replays one source over the window the page gives, as hookline replay takes it', async () => {
    const selections: ReplaySelection[] = [];
    const ops = operations(
      {
        replay: async (selection) => {
          selections.push(selection);
          return {};
        },
      },
      { archiveBucket: 'archive-bucket' },
    );
    const before = Date.now();
    const count = ops.replay({
      source: 'stripe',
      since: '2h',
      type: 'invoice.*',
      queue: 'orders',
      dryRun: true,
    });
    const windowJob = ops.replay({
      source: 'stripe',
      since: '2026-11-30T10:00:00Z',
      until: '2026-11-30T11:00:00Z',
    });
    // The page sends its empty fields as empty strings: no end is now, no type or queue is none.
    ops.replay({ source: 'stripe', since: '2h', until: ' ', type: '', queue: '' });
    await waitForJob(ops);
    const [counted, windowed, blanks] = selections;
    expect(count).toMatchObject({
      kind: 'replay',
      label: expect.stringMatching(/^count stripe, type invoice\.\*, .* to .*, to orders$/),
    });
    expect(windowJob.label).toBe('replay stripe, 2026-11-30T10:00:00.000Z to 2026-11-30T11:00:00.000Z');
    expect(blanks?.until.getTime()).toBeGreaterThanOrEqual(before);
    expect(blanks).not.toHaveProperty('type');
    expect(blanks).not.toHaveProperty('queue');
    expect(counted?.since.getTime()).toBeGreaterThanOrEqual(before - 2 * 3_600_000);
    expect(counted?.since.getTime()).toBeLessThanOrEqual(Date.now() - 2 * 3_600_000);
    expect(counted?.until.getTime()).toBeGreaterThanOrEqual(before);
    expect(counted).toMatchObject({ source: 'stripe', type: 'invoice.*', queue: 'orders', dryRun: true });
    expect(windowed).toMatchObject({
      source: 'stripe',
      since: new Date('2026-11-30T10:00:00Z'),
      until: new Date('2026-11-30T11:00:00Z'),
      dryRun: false,
    });
  });

  it('refuses a replay without a source or a window, or to an unknown queue, before it starts', () => {
    let started = 0;
    const ops = operations(
      {
        replay: async () => {
          started++;
          return {};
        },
      },
      { archiveBucket: 'archive-bucket' },
    );
    expect(() => ops.replay({})).toThrow(/choose the source to replay/);
    expect(() => ops.replay({ source: ' ' })).toThrow(/choose the source to replay/);
    // Without a start the window would reach back to 1970: every archived event of the source, hour by hour.
    expect(() => ops.replay({ source: 'github' })).toThrow(/since "" is not a time/);
    expect(() => ops.replay({ source: 'github', since: 'yesterday' })).toThrow(
      /since "yesterday" is not a time/,
    );
    expect(() => ops.replay({ source: 'github', since: '1h', until: '2h' })).toThrow(/is not before until/);
    const instant = '2026-11-30T10:00:00Z';
    expect(() => ops.replay({ source: 'github', since: instant, until: instant })).toThrow(
      /is not before until/,
    );
    expect(() => ops.replay({ source: 'github', since: '1h', until: 'soon' })).toThrow(
      /until "soon" is not a time/,
    );
    expect(() => ops.replay({ source: 'github', since: '1h', queue: 'nope' })).toThrow(
      /unknown queue "nope"/,
    );
    expect(started).toBe(0);
    expect(ops.jobs.list()).toEqual([]);
  });
});

describe('console feed', () => {
  /** Local mode's real journal ring behind the feed, read a page of 1,000 at a time as the local feed does. */
  function journalFeed(journal: EventJournal): EventFeed {
    return { unavailable: null, after: async (seq) => journal.after(seq, 1_000) };
  }
  const queued = (n: number) => ({
    event: 'queued',
    id: `e${n}`,
    source: 'github',
    type: 'push',
    queue: 'events',
  });
  const received = (ops: ConsoleOperations) =>
    ops.activity.series('source:github', Date.now()).received.reduce((a, b) => a + b, 0);

  function opsOn(journal: EventJournal) {
    return new ConsoleOperations({
      backend: testBackend(),
      target: stackTarget(),
      config,
      feed: journalFeed(journal),
    });
  }

  it('reads a burst of more than a page between two reads: every event counted once', async () => {
    const journal = new EventJournal();
    const ops = opsOn(journal);
    for (let n = 0; n < 2_500; n++) journal.record(queued(n));
    await ops.pump();
    expect(received(ops)).toBe(2_500);
    await ops.pump();
    expect(received(ops)).toBe(2_500);
  });

  it('says how many events the journal dropped before the console read them', async () => {
    const journal = new EventJournal(5_000);
    const ops = opsOn(journal);
    for (let n = 0; n < 10; n++) journal.record(queued(n));
    await ops.pump();
    expect(ops.events({}).feed.missed).toBe(0);
    for (let n = 10; n < 6_010; n++) journal.record(queued(n));
    await ops.pump();
    expect(ops.events({}).feed.missed).toBe(1_000);
    expect(received(ops)).toBe(5_010);
  });

  it('counts each event once when a read starts while another is still running', async () => {
    const journal = new EventJournal();
    const ops = opsOn(journal);
    for (let n = 0; n < 3; n++) journal.record(queued(n));
    await Promise.all([ops.pump(), ops.pump()]);
    expect(received(ops)).toBe(3);
    expect(ops.events({}).events).toHaveLength(3);
  });

  it('does not count as missed what the journal dropped before this console started', async () => {
    const journal = new EventJournal(5_000);
    for (let n = 0; n < 5_010; n++) journal.record(queued(n));
    const ops = opsOn(journal);
    await ops.pump();
    expect(received(ops)).toBe(5_000);
    expect(ops.events({}).feed).toEqual({ unavailable: null, error: null, missed: 0, unreadEnds: null });
  });

  it('shows why the feed cannot be read, and clears it once the feed answers again', async () => {
    const journal = new EventJournal();
    let down = true;
    const ops = new ConsoleOperations({
      backend: testBackend(),
      target: stackTarget(),
      config,
      feed: {
        unavailable: null,
        after: async (seq) => {
          if (down) throw new Error('local mode answered HTTP 503 for its events');
          return journal.after(seq, 1_000);
        },
      },
    });
    await ops.pump();
    expect(ops.events({}).feed.error).toBe('local mode answered HTTP 503 for its events');
    down = false;
    journal.record(queued(1));
    await ops.pump();
    expect(ops.events({}).feed.error).toBeNull();
    expect(received(ops)).toBe(1);
  });

  it("writes why the feed cannot be read to the console's output once per reason, and when it is read again", async () => {
    const journal = new EventJournal();
    const logged: string[] = [];
    let failure: Error | undefined = new Error('local mode answered HTTP 503 for its events');
    const ops = new ConsoleOperations({
      backend: testBackend(),
      target: stackTarget(),
      config,
      log: (text) => logged.push(text),
      feed: {
        unavailable: null,
        after: async (seq) => {
          if (failure) throw failure;
          return journal.after(seq, 1_000);
        },
      },
    });
    await ops.pump();
    await ops.pump();
    await ops.pump();
    expect(logged).toEqual(['the event feed cannot be read: local mode answered HTTP 503 for its events\n']);
    failure = new TypeError("Cannot read properties of undefined (reading 'events')");
    await ops.pump();
    await ops.pump();
    expect(logged).toHaveLength(2);
    // A fault of the console's own: its stack is where to look.
    expect(logged[1]).toMatch(
      /^the event feed cannot be read: Cannot read properties of undefined \(reading 'events'\)\nTypeError: .*\n\s+at /,
    );
    failure = undefined;
    await ops.pump();
    await ops.pump();
    expect(logged.slice(2)).toEqual(['the event feed is read again\n']);
  });

  /** Operations whose feed fails with what `failure()` gives (nothing: it answers), and the lines they log. */
  function feedLogging(failure: () => Error | undefined) {
    const journal = new EventJournal();
    const logged: string[] = [];
    const ops = new ConsoleOperations({
      backend: testBackend(),
      target: stackTarget(),
      config,
      log: (text) => logged.push(text),
      feed: {
        unavailable: null,
        after: async (seq) => {
          const error = failure();
          if (error) throw error;
          return journal.after(seq, 1_000);
        },
      },
    });
    return { ops, logged };
  }

  it('writes nothing to its output while the feed is read', async () => {
    const { ops, logged } = feedLogging(() => undefined);
    await ops.pump();
    await ops.pump();
    expect(logged).toEqual([]);
  });

  it("writes a feed that does not answer or fails in the operator's terms without a stack: neither is a fault of its own", async () => {
    const refused = new TypeError('fetch failed', {
      cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:3000'), { code: 'ECONNREFUSED' }),
    });
    for (const failure of [refused, new BackendError('local mode answered HTTP 503 for its events')]) {
      const { ops, logged } = feedLogging(() => failure);
      await ops.pump();
      expect(logged).toEqual([`the event feed cannot be read: ${failure.message}\n`]);
    }
  });

  it('follows local mode to its new journal after a restart: new events shown, none hidden or counted twice', async () => {
    const before = new EventJournal();
    const after = new EventJournal();
    const first = localTestTarget();
    let now = { backend: testBackend(), target: first, feed: journalFeed(before) };
    const ops = new ConsoleOperations({ ...now, config, reconnect: async () => now });
    for (let n = 0; n < 3; n++) before.record(queued(n));
    await ops.pump();
    // Restarted: other emulator ports, and a journal numbered from 1 again.
    now = {
      backend: testBackend(),
      target: localTestTarget({ endpoints: { sqs: 'http://127.0.0.1:4999' } }),
      feed: journalFeed(after),
    };
    for (let n = 3; n < 5; n++) after.record(queued(n));
    await ops.pump();
    await ops.pump();
    expect(received(ops)).toBe(5);
    const listed = ops.events({}).events;
    expect(listed.map((e) => e.id)).toEqual(['e4', 'e3', 'e2', 'e1', 'e0']);
    // Numbered on from the old journal's events: later events have higher numbers, whatever the restarts.
    expect(listed.map((e) => e.seq)).toEqual([5, 4, 3, 2, 1]);
    expect(ops.events({}).feed).toMatchObject({ error: null, missed: 0 });
  });
});

/** A job's record as the consumer left it when it dead-lettered the job. */
function deadLetteredRecord(input: { Key?: Record<string, unknown> }) {
  return {
    Item: { ...input.Key, state: { S: 'dead-lettered' }, updatedAt: { S: '2026-11-25T02:10:00.000Z' } },
  };
}
