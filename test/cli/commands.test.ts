import { GetMetricDataCommand, type GetMetricDataCommandInput } from '@aws-sdk/client-cloudwatch';
import { GetEventSourceMappingCommand, UpdateEventSourceMappingCommand } from '@aws-sdk/client-lambda';
import {
  ChangeMessageVisibilityBatchCommand,
  GetQueueAttributesCommand,
  type Message,
  PurgeQueueCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  StartMessageMoveTaskCommand,
} from '@aws-sdk/client-sqs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { sanitizeId } from '../../lambda/shared/safe-ids';
import { setConsumerEnabled } from '../../lib/cli/consumers';
import { CliError } from '../../lib/cli/errors';
import { failedList, failedShow, failedSummary } from '../../lib/cli/failed';
import { failureKey } from '../../lib/cli/failure-groups';
import { hooklineCommandFor } from '../../lib/cli/output';
import { purge } from '../../lib/cli/purge';
import { type RedriveResult, redrive } from '../../lib/cli/redrive';
import {
  renderFailedList,
  renderFailedShow,
  renderFailedSummary,
  renderPurge,
  renderRedrive,
  renderReplay,
  renderStatus,
  renderTrace,
} from '../../lib/cli/render';
import { queueStatuses, status } from '../../lib/cli/status';
import { BREAKER_SCHEDULES, JOB_SCHEDULES, type LocalTarget, type StackTarget } from '../../lib/cli/target';
import { humanAge } from '../../lib/console/ui/human-age';
import { installFakeQueue } from './fake-queue';
import {
  awsError,
  deadLetterMessage,
  EVENTS,
  JOB_SCHEDULES_DEAD_LETTER_QUEUE,
  localTestTarget,
  mockCommandClients,
  ORDERS,
  recordingOutput,
  stackTarget,
  stackTargetWithJobSchedules,
  testBackend,
} from './helpers';

/** The target flags of a run against the deployed stack, as `hookline ... --stack Hookline --region us-east-1`. */
const STACK_FLAGS = { stack: 'Hookline', region: 'us-east-1' };

const { sqs, lambda, cloudwatch } = mockCommandClients();

const depth = (visible: number, inFlight: number, delayed: number) => ({
  Attributes: {
    ApproximateNumberOfMessages: String(visible),
    ApproximateNumberOfMessagesNotVisible: String(inFlight),
    ApproximateNumberOfMessagesDelayed: String(delayed),
  },
});

const localTarget = (): LocalTarget =>
  localTestTarget({
    consumers: { events: { state: 'Enabled' } },
    queues: { events: { ...EVENTS, eventSourceMappingId: undefined } as never },
  });

describe('status', () => {
  it('reports counts, DLQ depth, oldest age and the mapping state per queue', async () => {
    sqs.on(GetQueueAttributesCommand, { QueueUrl: EVENTS.url }).resolves(depth(12, 3, 1));
    sqs.on(GetQueueAttributesCommand, { QueueUrl: EVENTS.deadLetterUrl }).resolves(depth(4, 0, 0));
    sqs.on(GetQueueAttributesCommand, { QueueUrl: ORDERS.url }).resolves(depth(0, 0, 0));
    sqs.on(GetQueueAttributesCommand, { QueueUrl: ORDERS.deadLetterUrl }).resolves(depth(0, 0, 0));
    lambda
      .on(GetEventSourceMappingCommand, { UUID: EVENTS.eventSourceMappingId })
      .resolves({ State: 'Enabled' });
    lambda
      .on(GetEventSourceMappingCommand, { UUID: ORDERS.eventSourceMappingId })
      .resolves({ State: 'Disabled' });
    cloudwatch.on(GetMetricDataCommand).resolves({
      MetricDataResults: [
        { Id: 'age0', Values: [95, 80] },
        { Id: 'age1', Values: [] },
      ],
    });
    const backend = testBackend();

    const result = await status(backend, stackTarget());

    expect(result.queues).toEqual([
      {
        queue: 'events',
        fifo: false,
        visible: 12,
        inFlight: 3,
        delayed: 1,
        deadLettered: 4,
        oldestMessageAgeSeconds: 95,
        consumer: 'Enabled',
      },
      {
        queue: 'orders',
        fifo: true,
        visible: 0,
        inFlight: 0,
        delayed: 0,
        deadLettered: 0,
        oldestMessageAgeSeconds: null,
        oldestMessageAgeNote: 'no data in the last 15 minutes (queue idle)',
        consumer: 'Disabled',
      },
    ]);
    const query = cloudwatch.commandCalls(GetMetricDataCommand)[0]?.args[0].input;
    expect(query?.MetricDataQueries?.[1]?.MetricStat?.Metric?.Dimensions).toEqual([
      { Name: 'QueueName', Value: 'Hookline-orders.fifo' },
    ]);
    expect(query?.MetricDataQueries?.[0]?.MetricStat?.Metric?.MetricName).toBe(
      'ApproximateAgeOfOldestMessage',
    );
  });

  it("reads each queue's age from its own SQS series: the newest per-minute maximum of the last 15 minutes", async () => {
    sqs.on(GetQueueAttributesCommand).resolves(depth(0, 0, 0));
    lambda.on(GetEventSourceMappingCommand).resolves({ State: 'Enabled' });
    const backend = testBackend();
    const minutesAgo = (m: number) => backend.clock.now() - m * 60_000;
    // What CloudWatch holds: each queue's per-minute maxima, the oldest first.
    const series: Record<string, [number, number][]> = {
      'Hookline-events': [
        [minutesAgo(20), 900],
        [minutesAgo(10), 95],
        [minutesAgo(1), 120],
      ],
      'Hookline-orders.fifo': [[minutesAgo(5), 30]],
    };
    cloudwatch.on(GetMetricDataCommand).callsFake((input: GetMetricDataCommandInput) => ({
      MetricDataResults: (input.MetricDataQueries ?? []).map((q) => {
        const stat = q.MetricStat;
        const answered =
          q.ReturnData === true &&
          stat?.Metric?.Namespace === 'AWS/SQS' &&
          stat.Metric.MetricName === 'ApproximateAgeOfOldestMessage' &&
          stat.Stat === 'Maximum' &&
          stat.Period === 60;
        const points = (answered ? (series[stat?.Metric?.Dimensions?.[0]?.Value ?? ''] ?? []) : []).filter(
          ([at]) => at >= (input.StartTime as Date).getTime() && at <= (input.EndTime as Date).getTime(),
        );
        if (input.ScanBy === 'TimestampDescending') points.reverse();
        return { Id: q.Id, Values: points.map(([, value]) => value) };
      }),
    }));

    const result = await status(backend, stackTarget());

    expect(result.queues.map((q) => [q.queue, q.oldestMessageAgeSeconds])).toEqual([
      ['events', 120],
      ['orders', 30],
    ]);
    // A stack without other dead-letter queues shows none, not an empty list.
    expect(Object.keys(result)).toEqual(['target', 'queues']);
  });

  it("shows a fair queue's quiet tenants (backlog and oldest age, as its alarm and dashboard read them), on fair queues only", async () => {
    sqs.on(GetQueueAttributesCommand).resolves(depth(0, 0, 0));
    lambda.on(GetEventSourceMappingCommand).resolves({ State: 'Enabled' });
    const backend = testBackend();
    const minutesAgo = (m: number) => backend.clock.now() - m * 60_000;
    // What CloudWatch holds, by queue and metric: per-minute maxima, the oldest first.
    const series: Record<string, [number, number][]> = {
      'Hookline-events ApproximateAgeOfOldestMessage': [[minutesAgo(1), 600]],
      'Hookline-events ApproximateNumberOfMessagesVisibleInQuietGroups': [
        [minutesAgo(3), 40],
        [minutesAgo(1), 12],
      ],
      'Hookline-events ApproximateAgeOfOldestMessageInQuietGroups': [[minutesAgo(2), 35]],
      'Hookline-orders.fifo ApproximateAgeOfOldestMessage': [[minutesAgo(1), 5]],
    };
    cloudwatch.on(GetMetricDataCommand).callsFake((input: GetMetricDataCommandInput) => ({
      MetricDataResults: (input.MetricDataQueries ?? []).map((q) => {
        const stat = q.MetricStat;
        const key = `${stat?.Metric?.Dimensions?.[0]?.Value} ${stat?.Metric?.MetricName}`;
        const answered =
          q.ReturnData === true && stat?.Metric?.Namespace === 'AWS/SQS' && stat.Stat === 'Maximum';
        const points = [...(answered ? (series[key] ?? []) : [])];
        if (input.ScanBy === 'TimestampDescending') points.reverse();
        return { Id: q.Id, Values: points.map(([, value]) => value) };
      }),
    }));
    const fairEvents: StackTarget = {
      ...stackTarget(),
      queues: { ...stackTarget().queues, events: { ...EVENTS, fair: true } },
    };

    const result = await status(backend, fairEvents);

    expect(result.queues.map((q) => [q.queue, q.oldestMessageAgeSeconds, q.quietTenants])).toEqual([
      ['events', 600, { visible: 12, oldestMessageAgeSeconds: 35 }],
      ['orders', 5, undefined],
    ]);
    const output = recordingOutput();
    renderStatus(output, result);
    expect(output.lines).toContain(
      "events: quiet tenants 12 visible, oldest 35s (tenant fairness: SQS serves them ahead of a noisy tenant's backlog)",
    );
    expect(output.lines.join('\n')).not.toMatch(/orders: quiet/);
  });

  it('--queue shows that queue alone, without the other dead-letter queues or schedules missing outputs', async () => {
    sqs.on(GetQueueAttributesCommand).resolves(depth(0, 0, 0));
    sqs.on(GetQueueAttributesCommand, { QueueUrl: ORDERS.url }).resolves(depth(7, 0, 0));
    lambda.on(GetEventSourceMappingCommand).resolves({ State: 'Enabled' });
    cloudwatch.on(GetMetricDataCommand).resolves({ MetricDataResults: [] });
    const target: StackTarget = { ...stackTargetWithJobSchedules(), schedulesMissingOutputs: ['heartbeat'] };

    const whole = await status(testBackend(), target);
    const one = await status(testBackend(), target, { queue: 'orders' });

    expect(Object.keys(whole)).toEqual([
      'target',
      'queues',
      'otherDeadLetterQueues',
      'schedulesMissingOutputs',
    ]);
    expect(one).toEqual({
      target: whole.target,
      queues: [expect.objectContaining({ queue: 'orders', visible: 7 })],
    });
  });

  it('counts dead letters a reader holds in flight (failed list, an event page) as dead-lettered', async () => {
    sqs.on(GetQueueAttributesCommand).resolves(depth(0, 0, 0));
    sqs.on(GetQueueAttributesCommand, { QueueUrl: EVENTS.deadLetterUrl }).resolves(depth(1, 2, 0));
    lambda.on(GetEventSourceMappingCommand).resolves({ State: 'Enabled' });
    cloudwatch.on(GetMetricDataCommand).resolves({ MetricDataResults: [] });
    const result = await status(testBackend(), stackTarget());
    expect(result.queues.map((q) => [q.queue, q.deadLettered])).toEqual([
      ['events', 3],
      ['orders', 0],
    ]);
  });

  it('keeps going without CloudWatch permission, saying why the age is missing', async () => {
    sqs.on(GetQueueAttributesCommand).resolves(depth(0, 0, 0));
    lambda.on(GetEventSourceMappingCommand).resolves({ State: 'Enabled' });
    cloudwatch.on(GetMetricDataCommand).rejects(awsError('AccessDenied'));
    const result = await status(testBackend(), stackTarget(), { queue: 'events' });
    expect(result.queues[0]?.oldestMessageAgeNote).toBe(
      'unknown: access denied (needs cloudwatch:GetMetricData)',
    );
  });

  it('keeps going while CloudWatch fails otherwise, naming the failure, with nothing unreadable', async () => {
    sqs.on(GetQueueAttributesCommand).resolves(depth(0, 0, 0));
    lambda.on(GetEventSourceMappingCommand).resolves({ State: 'Enabled' });
    cloudwatch.on(GetMetricDataCommand).rejects(awsError('ThrottlingException'));
    const result = await status(testBackend(), stackTarget(), { queue: 'events' });
    expect(result.queues[0]?.oldestMessageAgeNote).toBe('CloudWatch unavailable (ThrottlingException)');
    expect(result.unreadable).toBeUndefined();
  });

  it('turns throttling and a deleted queue into one line', async () => {
    cloudwatch.on(GetMetricDataCommand).resolves({});
    lambda.on(GetEventSourceMappingCommand).resolves({ State: 'Enabled' });
    sqs.on(GetQueueAttributesCommand).rejects(awsError('RequestThrottled'));
    await expect(status(testBackend(), stackTarget())).rejects.toThrow(/AWS throttled the request/);
    sqs.on(GetQueueAttributesCommand).rejects(awsError('AWS.SimpleQueueService.NonExistentQueue'));
    await expect(status(testBackend(), stackTarget())).rejects.toThrow(
      /does not exist in stack Hookline in us-east-1: redeploy/,
    );
  });

  it('local mode: consumer state from the control API, age omitted with a note', async () => {
    sqs.on(GetQueueAttributesCommand).resolves(depth(2, 0, 0));
    const urls: string[] = [];
    const backend = testBackend({
      http: async (url) => {
        urls.push(url);
        return new Response(JSON.stringify({ consumers: { events: { state: 'Disabled' } } }), {
          status: 200,
        });
      },
    });
    const result = await status(backend, localTarget());
    // This control API answers no queue rows, so the emulator's counts are read, and the state asked for.
    expect(urls).toEqual([
      'http://127.0.0.1:3000/_hookline/queues',
      'http://127.0.0.1:3000/_hookline/status',
    ]);
    expect(result.queues[0]).toMatchObject({
      visible: 2,
      consumer: 'Disabled',
      oldestMessageAgeSeconds: null,
    });
    expect(result.queues[0]?.oldestMessageAgeNote).toMatch(/not known: local mode did not answer/);
    expect(cloudwatch).not.toReceiveCommand(GetMetricDataCommand);
  });

  it("local mode: shows the rows local mode answers, and the emulator's counts when it lacks one asked for", async () => {
    sqs.on(GetQueueAttributesCommand).resolves(depth(2, 0, 0));
    const row = (queue: string) => ({
      queue,
      fifo: false,
      visible: 5,
      inFlight: 1,
      delayed: 0,
      deadLettered: 0,
    });
    let rows: unknown[] = [row('events'), row('orders')];
    const backend = testBackend({
      http: async (url) =>
        new Response(JSON.stringify(url.endsWith('/queues') ? { queues: rows } : { consumers: {} }), {
          status: 200,
        }),
    });
    const target = localTestTarget({
      queues: { events: { ...EVENTS, eventSourceMappingId: undefined } as never, orders: ORDERS as never },
    });
    expect((await status(backend, target)).queues).toEqual([row('events'), row('orders')]);

    rows = [row('orders')];
    expect((await status(backend, target)).queues.map((q) => [q.queue, q.visible])).toEqual([
      ['events', 2],
      ['orders', 2],
    ]);
  });

  it('the text flags only queues holding dead letters and only paused consumers, and says each age note once', () => {
    const row = (queue: string, deadLettered: number, consumer: string | null) => ({
      queue,
      fifo: false,
      visible: 0,
      inFlight: 0,
      delayed: 0,
      deadLettered,
      oldestMessageAgeSeconds: null,
      oldestMessageAgeNote: 'no data in the last 15 minutes (queue idle)',
      consumer,
    });
    const output = recordingOutput();
    renderStatus(output, {
      target: 'stack Hookline in us-east-1',
      queues: [row('events', 0, 'Disabling'), row('orders', 2, 'Disabled'), row('audit', 0, null)],
      otherDeadLetterQueues: [{ name: JOB_SCHEDULES, holds: 'one-time jobs', deadLettered: 0 }],
    });
    expect(output.lines.slice(2)).toEqual([
      // Its producers may delay jobs beyond SQS's 15 minutes: those wait in Scheduler, which status does not count.
      'jobs delayed beyond 15 minutes wait in EventBridge Scheduler, not in DELAYED: hookline jobs list --state scheduled',
      'oldest: no data in the last 15 minutes (queue idle)',
      'orders: 2 dead-lettered; inspect with: hookline failed list orders',
      'orders: consumer paused; resume with: hookline resume orders',
      `${JOB_SCHEDULES} (one-time jobs): 0 dead-lettered`,
    ]);
  });

  it("says whether each queue's consumer skips a copy of an event it completed (idempotency), in --json and in one line", async () => {
    const queue = (name: string, idempotency?: { expirySeconds: number } | null) => ({
      ...{ name, fifo: false, url: `q/${name}`, deadLetterUrl: `q/${name}-dlq` },
      ...{ arn: `arn:${name}`, deadLetterArn: `arn:${name}-dlq` },
      ...(idempotency !== undefined ? { idempotency } : {}),
    });
    const { rows } = await queueStatuses(
      {
        depth: async () => ({ visible: 0, inFlight: 0, delayed: 0 }),
        consumer: async (q) => (q.name === 'archive' ? null : 'Enabled'),
        oldestAges: async () => ({ ages: new Map(), note: 'none held' }),
      },
      [
        queue('events', { expirySeconds: 259_200 }),
        queue('orders', { expirySeconds: 259_200 }),
        queue('raw', null),
        queue('archive', null),
        queue('legacy'),
      ],
    );
    expect(rows.map((row) => [row.queue, row.idempotency])).toEqual([
      ['events', { expirySeconds: 259_200 }],
      ['orders', { expirySeconds: 259_200 }],
      ['raw', null],
      ['archive', null],
      // Not known (no configuration read): left out, never guessed.
      ['legacy', undefined],
    ]);
    expect(rows[4]).not.toHaveProperty('idempotency');
    const output = recordingOutput();
    renderStatus(output, { target: 'local mode', queues: rows });
    // No consumer (archive) and not known (legacy): not named.
    expect(output.lines).toContain(
      'idempotency: on for events, orders (a copy of an event completed in the last 3d 0h, redelivered or redriven, is skipped); off for raw (every copy runs)',
    );
    const none = recordingOutput();
    renderStatus(none, { target: 'local mode', queues: rows.slice(3) });
    expect(none.lines.join('\n')).not.toContain('idempotency');
  });

  it('a queue holding messages but no age gets the reason for that, not the note that it holds none', async () => {
    const queue = (name: string) => ({
      ...{ name, fifo: false, url: `q/${name}`, deadLetterUrl: `q/${name}-dlq` },
      ...{ arn: `arn:${name}`, deadLetterArn: `arn:${name}-dlq` },
    });
    const depths: Record<string, { visible: number; inFlight: number; delayed: number }> = {
      'q/events': { visible: 0, inFlight: 3, delayed: 0 },
      'q/orders': { visible: 0, inFlight: 0, delayed: 2 },
    };
    const { rows } = await queueStatuses(
      {
        depth: async (url) => depths[url] ?? { visible: 0, inFlight: 0, delayed: 0 },
        consumer: async () => 'Enabled',
        oldestAges: async () => ({
          ages: new Map(),
          note: 'none held',
          noteWhenHolding: 'only old receives held',
        }),
      },
      [queue('events'), queue('orders')],
    );
    expect(rows.map((row) => [row.queue, row.oldestMessageAgeNote])).toEqual([
      ['events', 'only old receives held'],
      ['orders', 'none held'],
    ]);
  });

  it('names the queues an age note is about when another queue shows an age, so the note never denies its messages', () => {
    const row = (queue: string, oldestMessageAgeSeconds: number | null) => ({
      queue,
      fifo: false,
      visible: oldestMessageAgeSeconds === null ? 0 : 1,
      inFlight: 0,
      delayed: 0,
      deadLettered: 0,
      oldestMessageAgeSeconds,
      ...(oldestMessageAgeSeconds === null
        ? { oldestMessageAgeNote: 'no message waiting or in flight' }
        : {}),
      consumer: 'Enabled',
    });
    const output = recordingOutput();
    renderStatus(output, {
      target: 'local mode',
      queues: [row('events', 12), row('orders', null), row('audit', null)],
      otherDeadLetterQueues: [],
    });
    expect(output.lines.slice(2)).toEqual(['oldest of orders, audit: no message waiting or in flight']);
  });

  it('the text flags a queue whose oldest message is past the age its alarm pages at, and no queue at or under it', () => {
    const row = (queue: string, oldestMessageAgeSeconds: number) => ({
      queue,
      fifo: false,
      visible: 1,
      inFlight: 0,
      delayed: 0,
      deadLettered: 0,
      oldestMessageAgeSeconds,
      oldestMessageAgeAlarmSeconds: 900,
      consumer: 'Enabled',
    });
    const output = recordingOutput();
    renderStatus(output, { target: 'local mode', queues: [row('events', 901), row('orders', 900)] });
    expect(output.lines.slice(2)).toEqual([
      "events: oldest message has waited 15m 1s, past its oldest-message alarm's threshold of 15m 0s: its consumer is failing, paused or too slow",
    ]);
  });

  it('humanAge', () => {
    expect([humanAge(null), humanAge(5), humanAge(95), humanAge(7300), humanAge(200_000)]).toEqual([
      '-',
      '5s',
      '1m 35s',
      '2h 1m',
      '2d 7h',
    ]);
  });

  it('writes a whole minute, hour or two days in the next unit, never as 60s, 60m or 48h', () => {
    expect([
      humanAge(59),
      humanAge(60),
      humanAge(3599),
      humanAge(3600),
      humanAge(47 * 3600),
      humanAge(48 * 3600),
    ]).toEqual(['59s', '1m 0s', '59m 59s', '1h 0m', '47h 0m', '2d 0h']);
  });

  it('rounds a fractional age before splitting it, so it never reads 60s or 59m 60s', () => {
    expect([humanAge(59.6), humanAge(3599.6), humanAge(119.5)]).toEqual(['1m 0s', '1h 0m', '2m 0s']);
  });

  it('says so when there is no queue, instead of an empty table', () => {
    const output = recordingOutput();
    renderStatus(output, { target: 'local mode', queues: [] });
    expect(output.lines).toEqual(['hookline status: local mode', 'no queues']);
  });

  it('shows the column headers, and no age note line for a queue whose age is known', () => {
    const output = recordingOutput();
    renderStatus(output, {
      target: 'stack Hookline in us-east-1',
      queues: [
        {
          queue: 'events',
          fifo: false,
          visible: 1,
          inFlight: 0,
          delayed: 0,
          deadLettered: 0,
          oldestMessageAgeSeconds: 95,
          consumer: 'Enabled',
        },
      ],
    });
    expect(output.lines).toEqual([
      'hookline status: stack Hookline in us-east-1',
      'QUEUE   VISIBLE  IN FLIGHT  DELAYED  DLQ  OLDEST  CONSUMER\nevents  1        0          0        0    1m 35s  Enabled',
    ]);
  });
});

describe('failed list / show', () => {
  it('lists messages with their failure reasons and makes every one visible again', async () => {
    const dlq = installFakeQueue(
      sqs,
      EVENTS.deadLetterUrl,
      Array.from({ length: 13 }, (_, i) => deadLetterMessage(i)),
    );
    const result = await failedList(testBackend(), stackTarget(), { queue: 'events' });

    expect(result.approximateDepth).toBe(13);
    expect(result.messages).toHaveLength(13);
    expect(result.messages[0]).toMatchObject({
      messageId: 'sqs-0',
      id: 'evt-0',
      source: 'stripe',
      type: 'invoice.paid',
      receivedAt: '2026-11-25T02:00:00.000Z',
      error: 'PermanentError: customer cus_1 not found',
      failure: { attempt: '3', consumer: 'events', failedAt: '2026-11-25T02:10:00.000Z' },
    });
    // The system attributes carry when it was sent, its receive count and a FIFO message's group.
    expect(sqs).toReceiveCommandWith(ReceiveMessageCommand, {
      VisibilityTimeout: 30,
      MessageAttributeNames: ['All'],
      MessageSystemAttributeNames: ['All'],
    });
    expect(result.messages[0]?.sentAt).toBe('2026-11-25T02:00:01.000Z');
    expect(result.notReleased).toBe(0);
    expect(dlq.hidden.size).toBe(0);
    expect(dlq.messages).toHaveLength(13);
    expect(new Set(dlq.released).size).toBe(13);
  });

  it('TRIES is the consumer receive count: the attempt it recorded, else the SQS count without this read', async () => {
    installFakeQueue(sqs, EVENTS.deadLetterUrl, [
      deadLetterMessage(1),
      deadLetterMessage(2, { error: false }),
    ]);
    const result = await failedList(testBackend(), stackTarget(), { queue: 'events' });
    // deadLetterMessage: attempt 3 recorded by the consumer; SQS reports 6 receives (this read included).
    expect(result.messages.map((m) => m.receiveCount)).toEqual([3, 5]);
    const output = recordingOutput();
    renderFailedList(output, result);
    expect(output.lines.join('\n')).toMatch(/TRIES[\s\S]*invoice\.paid\s+\S+\s+3\s+PermanentError/);
  });

  it('TRIES of a message SQS moved is the source queue maxReceiveCount, however often the DLQ was read before', async () => {
    installFakeQueue(sqs, EVENTS.deadLetterUrl, [deadLetterMessage(2, { error: false })]);
    sqs.on(GetQueueAttributesCommand, { QueueUrl: EVENTS.url }).resolves({
      Attributes: {
        RedrivePolicy: JSON.stringify({ deadLetterTargetArn: EVENTS.deadLetterArn, maxReceiveCount: 4 }),
      },
    });
    // SQS says 6 receives: 4 by the consumer, then earlier reads of the DLQ and this one, which count too.
    const listed = await failedList(testBackend(), stackTarget(), { queue: 'events' });
    expect(listed.messages.map((m) => m.receiveCount)).toEqual([4]);
    const shown = await failedShow(testBackend(), stackTarget(), { queue: 'events', id: 'evt-2' });
    expect(shown.receiveCount).toBe(4);
  });

  it('names to SQS the counts and the redrive policy it reads, as SQS answers only the attributes named', async () => {
    installFakeQueue(sqs, EVENTS.deadLetterUrl, [deadLetterMessage(1)]);
    await failedList(testBackend(), stackTarget(), { queue: 'events' });
    expect(sqs).toReceiveCommandWith(GetQueueAttributesCommand, {
      QueueUrl: EVENTS.deadLetterUrl,
      AttributeNames: [
        'ApproximateNumberOfMessages',
        'ApproximateNumberOfMessagesNotVisible',
        'ApproximateNumberOfMessagesDelayed',
      ],
    });
    expect(sqs).toReceiveCommandWith(GetQueueAttributesCommand, {
      QueueUrl: EVENTS.url,
      AttributeNames: ['RedrivePolicy'],
    });
  });

  it("shows the consumer's reason, not an attribute of Scheduler's name the message also carries", async () => {
    const message = deadLetterMessage(1);
    installFakeQueue(sqs, EVENTS.deadLetterUrl, [
      {
        ...message,
        MessageAttributes: {
          ...message.MessageAttributes,
          ERROR_MESSAGE: { DataType: 'String', StringValue: 'not the reason' },
        },
      },
    ]);
    const result = await failedList(testBackend(), stackTarget(), { queue: 'events' });
    expect(result.messages[0]?.error).toBe('PermanentError: customer cus_1 not found');

    const { 'hookline.error.message': _, ...nameOnly } = message.MessageAttributes ?? {};
    installFakeQueue(sqs, EVENTS.deadLetterUrl, [
      {
        ...message,
        MessageAttributes: {
          ...nameOnly,
          ERROR_MESSAGE: { DataType: 'String', StringValue: 'not the reason' },
        },
      },
    ]);
    const named = await failedList(testBackend(), stackTarget(), { queue: 'events' });
    expect(named.messages[0]?.failure.errorMessage).toBeUndefined();
  });

  it("names a fair queue's tenant in failed list --json and failed show, from the attribute the consumer's copy keeps", async () => {
    installFakeQueue(sqs, EVENTS.deadLetterUrl, [
      // Dead-lettered by the consumer: a standard DLQ's copy carries no group id.
      deadLetterMessage(1, { tenant: 'acct_noisy' }),
      // Moved by SQS after maxReceiveCount: the group id is kept, and is the same tenant.
      deadLetterMessage(2, { tenant: 'acct_quiet', group: 'acct_quiet', error: false }),
      deadLetterMessage(3),
    ]);
    const listed = await failedList(testBackend(), stackTarget(), { queue: 'events' });
    expect(listed.messages.map((m) => m.tenant)).toEqual(['acct_noisy', 'acct_quiet', null]);
    const output = recordingOutput();
    renderFailedShow(
      output,
      await failedShow(testBackend(), stackTarget(), { queue: 'events', id: 'evt-1' }),
    );
    expect(output.lines.join('\n')).toMatch(/^tenant\s+acct_noisy$/m);
    const moved = recordingOutput();
    renderFailedShow(moved, await failedShow(testBackend(), stackTarget(), { queue: 'events', id: 'evt-2' }));
    expect(moved.lines.filter((line) => line.includes('acct_quiet'))).toEqual([
      expect.stringMatching(/^tenant\s+acct_quiet$/),
    ]);
  });

  it('shows a dead letter by the delivery id its sender gave, when the ingest stored it hashed', async () => {
    const given = '注文 #1';
    installFakeQueue(sqs, EVENTS.deadLetterUrl, [deadLetterMessage(1, { id: sanitizeId(given) })]);
    const shown = await failedShow(testBackend(), stackTarget(), { queue: 'events', id: given });
    expect(shown).toMatchObject({ messageId: 'sqs-1', id: sanitizeId(given) });
  });

  it('names a message whose body is not an envelope by the event id the consumer logged, and shows it by that id', async () => {
    installFakeQueue(sqs, EVENTS.deadLetterUrl, [
      deadLetterMessage(1),
      deadLetterMessage(2, { id: 'evt-v2', body: '{"v":2,"id":"evt-v2"}' }),
    ]);
    const listed = await failedList(testBackend(), stackTarget(), { queue: 'events' });
    expect(listed.messages[1]).toMatchObject({
      messageId: 'sqs-2',
      id: 'evt-v2',
      source: 'stripe',
      type: 'invoice.paid',
      envelopeError: 'body is not a hookline envelope',
    });
    const shown = await failedShow(testBackend(), stackTarget(), { queue: 'events', id: 'evt-v2' });
    expect(shown).toMatchObject({ messageId: 'sqs-2', id: 'evt-v2', body: '{"v":2,"id":"evt-v2"}' });
  });

  it('scans even when the approximate count reads 0 (counts lag; an expired hold reads as in flight)', async () => {
    installFakeQueue(sqs, EVENTS.deadLetterUrl, [deadLetterMessage(1)]);
    sqs.on(GetQueueAttributesCommand, { QueueUrl: EVENTS.deadLetterUrl }).resolves(depth(0, 1, 0));
    const result = await failedList(testBackend(), stackTarget(), { queue: 'events' });
    expect(result.messages.map((m) => m.id)).toEqual(['evt-1']);
    expect(result.approximateDepth).toBe(1);
  });

  it('lists every dead letter when a receive comes back empty first, and stops after two empty answers', async () => {
    const dlq = installFakeQueue(
      sqs,
      EVENTS.deadLetterUrl,
      [1, 2, 3].map((n) => deadLetterMessage(n)),
      {
        emptyReceives: 1,
      },
    );
    const result = await failedList(testBackend(), stackTarget(), { queue: 'events' });
    expect(result.messages.map((m) => m.id)).toEqual(['evt-1', 'evt-2', 'evt-3']);
    expect(dlq.hidden.size).toBe(0);

    sqs.reset();
    sqs.on(GetQueueAttributesCommand).resolves(depth(0, 0, 0));
    // SQS leaves Messages out of an empty answer.
    sqs.on(ReceiveMessageCommand).resolves({});
    const empty = await failedList(testBackend(), stackTarget(), { queue: 'events' });
    expect(empty.messages).toEqual([]);
    // An empty DLQ costs two receives: one empty answer is no proof, a second one is taken as the end.
    expect(sqs.commandCalls(ReceiveMessageCommand)).toHaveLength(2);
  });

  it('lists a message SQS delivers twice during one scan once, and hands back both holds', async () => {
    sqs.on(GetQueueAttributesCommand).resolves(depth(2, 0, 0));
    const again = { ...deadLetterMessage(1), ReceiptHandle: 'rh-1-again' };
    sqs
      .on(ReceiveMessageCommand)
      .resolvesOnce({ Messages: [deadLetterMessage(1), deadLetterMessage(2)] })
      .resolvesOnce({ Messages: [again] })
      .resolves({ Messages: [] });
    sqs.on(ChangeMessageVisibilityBatchCommand).resolves({ Successful: [], Failed: [] });
    const result = await failedList(testBackend(), stackTarget(), { queue: 'events' });
    expect(result.messages.map((m) => m.messageId)).toEqual(['sqs-1', 'sqs-2']);
    const released = sqs
      .commandCalls(ChangeMessageVisibilityBatchCommand)
      .flatMap((c) => c.args[0].input.Entries ?? [])
      .map((e) => e.ReceiptHandle);
    expect(released.sort()).toEqual(['rh-1', 'rh-1-again', 'rh-2']);
  });

  it('counts and says which held messages SQS refused to make visible again, in --json and in text alike', async () => {
    sqs.on(GetQueueAttributesCommand).resolves(depth(2, 0, 0));
    sqs
      .on(ReceiveMessageCommand)
      .resolvesOnce({ Messages: [deadLetterMessage(1), deadLetterMessage(2)] })
      .resolves({ Messages: [] });
    sqs.on(ChangeMessageVisibilityBatchCommand).resolves({
      Successful: [{ Id: '0' }],
      Failed: [{ Id: '1', Code: 'ReceiptHandleIsInvalid', SenderFault: true }],
    });
    const result = await failedList(testBackend(), stackTarget(), { queue: 'events' });
    expect(result.notReleased).toBe(1);
    const output = recordingOutput();
    renderFailedList(output, result);
    expect(output.lines).toContain(
      "1 message read here could not be made visible again at once: SQS returns them when this read's hold ends",
    );
  });

  it('hands back its holds when SQS leaves the empty Failed list out of its answer', async () => {
    sqs.on(GetQueueAttributesCommand).resolves(depth(1, 0, 0));
    sqs
      .on(ReceiveMessageCommand)
      .resolvesOnce({ Messages: [deadLetterMessage(1)] })
      .resolves({});
    sqs.on(ChangeMessageVisibilityBatchCommand).resolves({ Successful: [{ Id: '0' }] });
    const result = await failedList(testBackend(), stackTarget(), { queue: 'events' });
    expect(result).toMatchObject({ notReleased: 0, messages: [{ id: 'evt-1' }] });
  });

  it('refuses a --limit that is not a positive whole number before reading the queue', async () => {
    for (const limit of [0, -1, 2.5]) {
      await expect(failedList(testBackend(), stackTarget(), { queue: 'events', limit })).rejects.toThrow(
        new CliError(`--limit must be a positive integer (got ${limit})`),
      );
    }
    expect(sqs.calls()).toHaveLength(0);
  });

  it('shows 20 dead letters when no --limit is given', async () => {
    installFakeQueue(
      sqs,
      EVENTS.deadLetterUrl,
      Array.from({ length: 25 }, (_, i) => deadLetterMessage(i)),
    );
    const result = await failedList(testBackend(), stackTarget(), { queue: 'events' });
    expect(result.messages.map((m) => m.id)).toEqual(Array.from({ length: 20 }, (_, i) => `evt-${i}`));
  });

  it('counts every message SQS refused to make visible again, across the hand-back calls of ten', async () => {
    installFakeQueue(
      sqs,
      EVENTS.deadLetterUrl,
      Array.from({ length: 12 }, (_, i) => deadLetterMessage(i)),
    );
    // One refused entry in each call: the first call hands back ten, the second two.
    sqs
      .on(ChangeMessageVisibilityBatchCommand, { QueueUrl: EVENTS.deadLetterUrl })
      .callsFake((input: { Entries: { Id: string }[] }) => ({
        Successful: input.Entries.slice(1).map((e) => ({ Id: e.Id })),
        Failed: [{ Id: input.Entries[0]?.Id, Code: 'ReceiptHandleIsInvalid', SenderFault: true }],
      }));
    const result = await failedList(testBackend(), stackTarget(), { queue: 'events' });
    expect(sqs.commandCalls(ChangeMessageVisibilityBatchCommand)).toHaveLength(2);
    expect(result).toMatchObject({ notReleased: 2 });
    expect(result.messages).toHaveLength(12);
  });

  it('respects --limit and still releases what it held', async () => {
    const dlq = installFakeQueue(
      sqs,
      EVENTS.deadLetterUrl,
      Array.from({ length: 30 }, (_, i) => deadLetterMessage(i)),
    );
    const result = await failedList(testBackend(), stackTarget(), { queue: 'events', limit: 5 });
    expect(result.messages).toHaveLength(5);
    expect(dlq.hidden.size).toBe(0);
    const one = await failedList(testBackend(), stackTarget(), { queue: 'events', limit: 1 });
    expect(one.messages).toHaveLength(1);
  });

  it('shows a message without a recorded reason (maxReceiveCount exceeded) and non-envelope bodies', async () => {
    installFakeQueue(sqs, EVENTS.deadLetterUrl, [
      deadLetterMessage(1, { error: false }),
      deadLetterMessage(2, { body: '<xml/>' }),
    ]);
    const result = await failedList(testBackend(), stackTarget(), { queue: 'events' });
    expect(result.messages[0]?.error).toBeNull();
    // The id comes from the message's hookline.id attribute, as the body cannot give it.
    expect(result.messages[1]).toMatchObject({ id: 'evt-2', envelopeError: 'body is not JSON' });
  });

  it('show finds a message by envelope id or SQS id, with its body decoded', async () => {
    const dlq = installFakeQueue(
      sqs,
      EVENTS.deadLetterUrl,
      Array.from({ length: 12 }, (_, i) => deadLetterMessage(i)),
    );
    const byEnvelope = await failedShow(testBackend(), stackTarget(), { queue: 'events', id: 'evt-11' });
    expect(byEnvelope).toMatchObject({
      id: 'evt-11',
      body: '{"n":11}',
      headers: { 'content-type': 'application/json' },
    });
    expect(byEnvelope.messageAttributes['hookline.error.message']).toBe('customer cus_1 not found');
    const bySqs = await failedShow(testBackend(), stackTarget(), { queue: 'events', id: 'sqs-4' });
    expect(bySqs.id).toBe('evt-4');
    expect(dlq.hidden.size).toBe(0);
  });

  it('show prints one line per field, the headers and the pretty body, with no duplicate warning for a single match', async () => {
    installFakeQueue(sqs, EVENTS.deadLetterUrl, [deadLetterMessage(1)]);
    const shown = await failedShow(testBackend(), stackTarget(), { queue: 'events', id: 'evt-1' });
    const output = recordingOutput();
    renderFailedShow(output, shown);
    expect(output.lines).toEqual([
      'id           evt-1',
      'sqs id       sqs-1',
      'source       stripe',
      'type         invoice.paid',
      'received     2026-11-25T02:00:00.000Z',
      'sent         2026-11-25T02:00:01.000Z',
      'sqs deletes  -',
      'tries        3',
      'error        PermanentError: customer cus_1 not found',
      'consumer     events',
      'failed at    2026-11-25T02:10:00.000Z',
      'headers',
      '  content-type: application/json',
      'body',
      '{\n  "n": 1\n}',
    ]);
  });

  it('show lays a JSON body out with every number, key and escape as the sender wrote it', async () => {
    // Parsed and printed again, the id would read 12345678901234567000, one "a" would vanish and 1E400 read null.
    const sent =
      '{"id": 12345678901234567890,"a":1,"a":2,"s":"\\ud800 \\u0041","f":1.10,"e":1E400,"x":[],"o":{"k":[true,null]}}';
    const envelope = JSON.parse(deadLetterMessage(1).Body ?? '{}');
    installFakeQueue(sqs, EVENTS.deadLetterUrl, [
      { ...deadLetterMessage(1), Body: JSON.stringify({ ...envelope, body: sent }) },
    ]);
    const shown = await failedShow(testBackend(), stackTarget(), { queue: 'events', id: 'evt-1' });
    expect(shown.body).toBe(sent);
    const output = recordingOutput();
    renderFailedShow(output, shown);
    expect(output.lines.slice(-2)).toEqual([
      'body',
      [
        '{',
        '  "id": 12345678901234567890,',
        '  "a": 1,',
        '  "a": 2,',
        '  "s": "\\ud800 \\u0041",',
        '  "f": 1.10,',
        '  "e": 1E400,',
        '  "x": [],',
        '  "o": {',
        '    "k": [',
        '      true,',
        '      null',
        '    ]',
        '  }',
        '}',
      ].join('\n'),
    ]);
  });

  it('show gives a body that is not UTF-8 text as base64 and says so, so no byte is lost to replacement characters', async () => {
    const bytes = Buffer.from([0x00, 0x01, 0xff, 0xfe, 0x3c, 0x73]);
    const envelope = JSON.parse(deadLetterMessage(1).Body ?? '{}');
    const binary = {
      ...deadLetterMessage(1),
      Body: JSON.stringify({
        ...envelope,
        contentType: 'application/octet-stream',
        body: bytes.toString('base64'),
        bodyEncoding: 'base64',
      }),
    };
    // A base64 envelope whose bytes are UTF-8 text is still shown as text.
    const text = {
      ...deadLetterMessage(2),
      Body: JSON.stringify({
        ...envelope,
        id: 'evt-2',
        body: Buffer.from('{"n":2}').toString('base64'),
        bodyEncoding: 'base64',
      }),
    };
    installFakeQueue(sqs, EVENTS.deadLetterUrl, [binary, text]);
    const shown = await failedShow(testBackend(), stackTarget(), { queue: 'events', id: 'evt-1' });
    expect(shown).toMatchObject({ body: bytes.toString('base64'), bodyEncoding: 'base64' });
    const output = recordingOutput();
    renderFailedShow(output, shown);
    expect(output.lines.slice(-2)).toEqual(['body (base64: not UTF-8 text)', bytes.toString('base64')]);
    const shownText = await failedShow(testBackend(), stackTarget(), { queue: 'events', id: 'evt-2' });
    expect(shownText).toMatchObject({ body: '{"n":2}', bodyEncoding: 'utf8' });
  });

  it('show by SQS message id stops reading the DLQ once that message is found', async () => {
    const dlq = installFakeQueue(
      sqs,
      EVENTS.deadLetterUrl,
      Array.from({ length: 25 }, (_, i) => deadLetterMessage(i)),
    );
    const shown = await failedShow(testBackend(), stackTarget(), { queue: 'events', id: 'sqs-3' });
    expect(shown).toMatchObject({ messageId: 'sqs-3', id: 'evt-3', matches: 1 });
    // Only the first batch of ten was held (and handed back): the rest stayed free for another reader.
    expect(sqs.commandCalls(ReceiveMessageCommand)).toHaveLength(1);
    // Held as long as a redrive holds: a read of a large DLQ outlasting a short hold would meet its first messages
    // again and could end before it reached the one asked for.
    expect(sqs).toReceiveCommandWith(ReceiveMessageCommand, { VisibilityTimeout: 300 });
    expect(new Set(dlq.released).size).toBe(10);
    expect(dlq.hidden.size).toBe(0);
  });

  it('show of an event whose body is in the payload bucket names it there, with no inline body', async () => {
    const message = deadLetterMessage(1);
    const { body: _, ...envelope } = JSON.parse(message.Body ?? '{}');
    const payloadRef = { bucket: 'hookline-payloads', key: 'payloads/evt-1', sizeBytes: 300_000 };
    installFakeQueue(sqs, EVENTS.deadLetterUrl, [
      { ...message, Body: JSON.stringify({ ...envelope, payloadRef }) },
    ]);
    const shown = await failedShow(testBackend(), stackTarget(), { queue: 'events', id: 'evt-1' });
    expect(shown).toMatchObject({ body: null, payloadRef, contentType: 'application/json' });
    const output = recordingOutput();
    renderFailedShow(output, shown);
    expect(output.lines).toContain('payload      s3://hookline-payloads/payloads/evt-1 (300000 bytes)');
    expect(output.lines).not.toContain('body');
  });

  it('tells an original and its replayed copy apart, in the list and in show', async () => {
    installFakeQueue(sqs, EVENTS.deadLetterUrl, [
      deadLetterMessage(1, { id: 'evt-dup' }),
      deadLetterMessage(2, { id: 'evt-dup', replay: 'r-7f3a9c21-0000' }),
      deadLetterMessage(3),
    ]);
    const list = await failedList(testBackend(), stackTarget(), { queue: 'events' });
    expect(list.messages.map((m) => [m.id, m.replayId])).toEqual([
      ['evt-dup', null],
      ['evt-dup', 'r-7f3a9c21-0000'],
      ['evt-3', null],
    ]);
    const listed = recordingOutput();
    renderFailedList(listed, list);
    expect(listed.lines.join('\n')).toMatch(/^evt-dup \(replay r-7f3a9c\)\s+stripe/m);

    const shown = await failedShow(testBackend(), stackTarget(), { queue: 'events', id: 'evt-dup' });
    expect(shown).toMatchObject({ messageId: 'sqs-1', matches: 2, replayId: null });
    const output = recordingOutput();
    renderFailedShow(output, shown);
    expect(output.lines[0]).toBe(
      '2 messages in the events DLQ have id evt-dup; showing the first: pick one by its sqs id (hookline failed list events)',
    );
    const copy = await failedShow(testBackend(), stackTarget(), { queue: 'events', id: 'sqs-2' });
    expect(copy).toMatchObject({ matches: 1, replayId: 'r-7f3a9c21-0000' });
  });

  /** A dead letter whose envelope is changed by `change` (a job's source and generation). */
  const withEnvelope = (message: Message, change: Record<string, unknown>): Message => ({
    ...message,
    Body: JSON.stringify({ ...JSON.parse(message.Body ?? '{}'), ...change }),
  });

  it('names the events held more than once and counts events apart from messages, telling copies from replays and new job enqueues', async () => {
    installFakeQueue(sqs, EVENTS.deadLetterUrl, [
      deadLetterMessage(1, { id: 'evt-dup' }),
      deadLetterMessage(2, { id: 'evt-once' }),
      deadLetterMessage(3, { id: 'evt-dup' }),
      // A replay of evt-dup is another piece of work: it runs again, so it is not a copy.
      deadLetterMessage(4, { id: 'evt-dup', replay: 'r-7f3a9c21-0000' }),
      // The same id from another source is another event.
      withEnvelope(deadLetterMessage(5, { id: 'evt-dup' }), { source: 'github' }),
      // A job: two copies of one enqueue, and the same id enqueued again (a new generation) once.
      withEnvelope(deadLetterMessage(6, { id: 'job-1' }), { source: 'job', generation: 'g1' }),
      withEnvelope(deadLetterMessage(7, { id: 'job-1' }), { source: 'job', generation: 'g1' }),
      withEnvelope(deadLetterMessage(8, { id: 'job-1' }), { source: 'job', generation: 'g2' }),
      deadLetterMessage(9, { id: 'evt-dup' }),
    ]);

    const result = await failedList(testBackend(), stackTarget(), { queue: 'events' });

    expect(result.messages).toHaveLength(9);
    expect(result.events).toBe(6);
    expect(result.eventsHeldMoreThanOnce).toEqual([
      {
        id: 'evt-dup',
        source: 'stripe',
        type: 'invoice.paid',
        replayId: null,
        generation: null,
        copies: 3,
        messageIds: ['sqs-1', 'sqs-3', 'sqs-9'],
      },
      {
        id: 'job-1',
        source: 'job',
        type: 'invoice.paid',
        replayId: null,
        generation: 'g1',
        copies: 2,
        messageIds: ['sqs-6', 'sqs-7'],
      },
    ]);
    const output = recordingOutput();
    renderFailedList(output, result);
    expect(output.lines[0]).toBe(
      'events dead-letter queue: ~9 messages, showing 9 (6 events) (left in place)',
    );
    expect(output.lines[1]).toBe(
      '2 events are in the DLQ more than once among those listed: evt-dup 3 copies, job-1 2 copies. ' +
        'A consumer stopped between its dead-letter send and its delete (a crash, an out-of-memory kill, kill -9 locally), so the record came back and was dead-lettered again, or the event reached its queue twice and each copy failed. ' +
        'A redrive moves every copy: where the consumer has idempotency on (the default) the event runs once and its other copies count as duplicates, webhooks and jobs alike; ' +
        'with idempotency off each copy runs it again, so delete the extra copies first by their sqs id: hookline failed delete events --id <sqs id>',
    );
  });

  it('counts one dead letter in the singular', async () => {
    installFakeQueue(sqs, EVENTS.deadLetterUrl, [deadLetterMessage(1)]);
    const output = recordingOutput();
    renderFailedList(output, await failedList(testBackend(), stackTarget(), { queue: 'events' }));
    expect(output.lines[0]).toBe('events dead-letter queue: ~1 message, showing 1 (left in place)');
  });

  it('says nothing of copies, and counts no events apart, when every event is in the DLQ once', async () => {
    installFakeQueue(sqs, EVENTS.deadLetterUrl, [
      deadLetterMessage(1, { id: 'evt-dup' }),
      deadLetterMessage(2, { id: 'evt-dup', replay: 'r-7f3a9c21-0000' }),
      deadLetterMessage(3),
    ]);
    const result = await failedList(testBackend(), stackTarget(), { queue: 'events' });
    expect([result.events, result.eventsHeldMoreThanOnce]).toEqual([3, []]);
    const output = recordingOutput();
    renderFailedList(output, result);
    expect(output.lines[0]).toBe('events dead-letter queue: ~3 messages, showing 3 (left in place)');
    expect(output.lines.join('\n')).not.toContain('more than once');
  });

  it('failed show says the messages with an id are copies of one event, or an original and its replays', async () => {
    installFakeQueue(sqs, EVENTS.deadLetterUrl, [
      deadLetterMessage(1, { id: 'evt-dup' }),
      deadLetterMessage(2, { id: 'evt-dup' }),
    ]);
    const copies = await failedShow(testBackend(), stackTarget(), { queue: 'events', id: 'evt-dup' });
    expect([copies.matches, copies.events]).toEqual([2, 1]);
    const output = recordingOutput();
    renderFailedShow(output, copies);
    expect(output.lines[0]).toBe(
      '2 messages in the events DLQ have id evt-dup: copies of one event, held more than once; showing the first: pick one by its sqs id (hookline failed list events)',
    );

    installFakeQueue(sqs, EVENTS.deadLetterUrl, [
      deadLetterMessage(1, { id: 'evt-dup' }),
      deadLetterMessage(2, { id: 'evt-dup' }),
      deadLetterMessage(3, { id: 'evt-dup', replay: 'r-7f3a9c21-0000' }),
    ]);
    const mixed = await failedShow(testBackend(), stackTarget(), { queue: 'events', id: 'evt-dup' });
    expect([mixed.matches, mixed.events]).toEqual([3, 2]);
    const shown = recordingOutput();
    renderFailedShow(shown, mixed);
    expect(shown.lines[0]).toBe(
      '3 messages in the events DLQ have id evt-dup: 2 events (an original and its replays), some held more than once; showing the first: pick one by its sqs id (hookline failed list events)',
    );
  });

  it('counts held and unreleased messages in the plural, and says nothing of held ones when every message is shown', async () => {
    installFakeQueue(sqs, EVENTS.deadLetterUrl, [deadLetterMessage(1)]);
    const list = await failedList(testBackend(), stackTarget(), { queue: 'events' });
    const output = recordingOutput();
    renderFailedList(output, { ...list, approximateDepth: 4, heldByOthers: 3, notReleased: 2 });
    expect(output.lines.slice(1, 3)).toEqual([
      'about 3 messages are held by another reader (a redrive, the console, another failed list) and not shown: SQS returns them once that hold ends',
      "2 messages read here could not be made visible again at once: SQS returns them when this read's hold ends",
    ]);
    const allShown = recordingOutput();
    renderFailedList(allShown, { ...list, approximateDepth: 1, heldByOthers: 1 });
    expect(allShown.lines.join('\n')).not.toContain('held by another reader');
    const noneHeld = recordingOutput();
    renderFailedList(noneHeld, { ...list, approximateDepth: 4, heldByOthers: 0 });
    expect(noneHeld.lines.join('\n')).not.toContain('held by another reader');
  });

  it('lists a message without an envelope id by its sqs id, an unknown try count as -, and a long error cut to 100 characters', async () => {
    installFakeQueue(sqs, EVENTS.deadLetterUrl, [deadLetterMessage(1)]);
    const list = await failedList(testBackend(), stackTarget(), { queue: 'events' });
    const [message] = list.messages;
    if (!message) throw new Error('the DLQ message was not listed');
    const output = recordingOutput();
    renderFailedList(output, {
      ...list,
      messages: [{ ...message, id: null, receiveCount: null, error: `Error: ${'x'.repeat(200)}` }],
    });
    const [header, row = ''] = output.lines[1]?.split('\n') ?? [];
    expect(header).toMatch(/^ID +SOURCE +TYPE +RECEIVED +TRIES +ERROR$/);
    expect(output.lines.at(-1)).toBe(
      'details: hookline failed show events <id>    redrive: hookline redrive events',
    );
    expect(row).toMatch(new RegExp(`^\\(sqs ${message.messageId}\\) .* - +Error: x{90}\\.\\.\\.$`));
    expect(row.slice(row.indexOf('Error: '))).toHaveLength(100);
  });

  it('says why a FIFO listing shows fewer messages than the queue holds, and not for a fair queue whose letters keep a group', async () => {
    installFakeQueue(sqs, ORDERS.deadLetterUrl, [
      deadLetterMessage(1, { group: 'A' }),
      deadLetterMessage(2, { group: 'B' }),
    ]);
    sqs.on(GetQueueAttributesCommand, { QueueUrl: ORDERS.deadLetterUrl }).resolves(depth(4, 0, 0));
    const result = await failedList(testBackend(), stackTarget(), { queue: 'orders' });
    expect([result.approximateDepth, result.messages.length]).toEqual([4, 2]);
    const output = recordingOutput();
    renderFailedList(output, result);
    expect(output.lines.join('\n')).toContain(
      "FIFO: SQS returns a message group's later messages only once its earlier ones leave the queue",
    );
    // A standard fair queue's dead letters moved by SQS keep their tenant as group id: no FIFO rule applies.
    installFakeQueue(sqs, EVENTS.deadLetterUrl, [
      deadLetterMessage(1, { group: 'A' }),
      deadLetterMessage(2, { group: 'B' }),
    ]);
    sqs.on(GetQueueAttributesCommand, { QueueUrl: EVENTS.deadLetterUrl }).resolves(depth(4, 0, 0));
    const standard = recordingOutput();
    renderFailedList(standard, await failedList(testBackend(), stackTarget(), { queue: 'events' }));
    expect(standard.lines.join('\n')).not.toContain('FIFO:');
  });

  it('show: an id behind the earliest dead letter of its FIFO group may be there, not "in no DLQ"', async () => {
    installFakeQueue(
      sqs,
      ORDERS.deadLetterUrl,
      Array.from({ length: 4 }, (_, n) => deadLetterMessage(n, { group: `g-${n % 2}` })),
      { fifo: true, headsOnly: true },
    );
    const error = await failedShow(testBackend(), stackTarget(), { queue: 'orders', id: 'evt-3' }).catch(
      (e: unknown) => e,
    );
    expect((error as Error).message).toBe(
      "no message with id evt-3 among those this read could receive from the orders dead-letter queue: FIFO: SQS returns a message group's later messages only once its earlier ones leave the queue, so about 2 could not be read and it may be one of them: hookline failed list orders shows the earliest of each group; once those are redriven or deleted, run it again",
    );
    const shown = await failedShow(testBackend(), stackTarget(), { queue: 'orders', id: 'evt-1' });
    expect(shown.id).toBe('evt-1');
  });

  it('show: an empty id is an error, not the first message', async () => {
    await expect(failedShow(testBackend(), stackTarget(), { queue: 'events', id: ' ' })).rejects.toThrow(
      'the id is empty: pass an id from hookline failed list events',
    );
  });

  it('show: a missing id is one line pointing at failed list', async () => {
    installFakeQueue(sqs, EVENTS.deadLetterUrl, [deadLetterMessage(1)]);
    const error = await failedShow(testBackend(), stackTarget(), { queue: 'events', id: 'nope' }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(CliError);
    expect((error as Error).message).toBe(
      'no message with id nope in the events dead-letter queue: list them with hookline failed list events',
    );
  });

  it('show: an id not found while another reader holds dead letters says they could not be read', async () => {
    const dlq = installFakeQueue(sqs, EVENTS.deadLetterUrl, [deadLetterMessage(1), deadLetterMessage(2)]);
    dlq.hidden.add(dlq.messages[0]?.ReceiptHandle ?? '');
    await expect(
      failedShow(testBackend(), stackTarget(), { queue: 'events', id: dlq.messages[0]?.MessageId ?? '' }),
    ).rejects.toThrow(
      /^no message with id .+ among those this read could receive from the events dead-letter queue: about 1 message is held by another reader \(a redrive, the console, another failed list\) and could not be read: run it again once that hold ends/,
    );
  });

  it('names the missing dead-letter queue and the fix that fits the target: restart local mode, redeploy a stack', async () => {
    sqs.on(GetQueueAttributesCommand).rejects(awsError('AWS.SimpleQueueService.NonExistentQueue'));
    await expect(failedList(testBackend(), stackTarget(), { queue: 'events' })).rejects.toThrow(
      'queue events does not exist in stack Hookline in us-east-1: redeploy with npx cdk deploy',
    );
    await expect(failedList(testBackend(), localTarget(), { queue: 'events' })).rejects.toThrow(
      'queue events does not exist in local mode: restart it with npm start or npx hookline dev',
    );
  });

  it('counts as not released exactly the held messages a failed hand-back left hidden, and still lists them', async () => {
    const dlq = installFakeQueue(
      sqs,
      EVENTS.deadLetterUrl,
      Array.from({ length: 12 }, (_, i) => deadLetterMessage(i)),
    );
    // The first ten are handed back; the call for the last two fails (after the SDK's own retries).
    sqs
      .on(ChangeMessageVisibilityBatchCommand, { QueueUrl: EVENTS.deadLetterUrl })
      .callsFakeOnce((input: { Entries: { ReceiptHandle: string }[] }) => {
        for (const e of input.Entries) dlq.hidden.delete(e.ReceiptHandle);
        return { Successful: input.Entries.map((_, n) => ({ Id: String(n) })), Failed: [] };
      })
      .rejects(awsError('ServiceUnavailable'));
    const output = recordingOutput();
    const result = await failedList({ ...testBackend(), output }, stackTarget(), { queue: 'events' });
    expect(result.messages).toHaveLength(12);
    expect(result.notReleased).toBe(2);
    expect(dlq.hidden.size).toBe(2);
    // Said once, by the result (rendered as a line), not also as a note.
    expect(output.notes).toEqual([]);
  });

  it('a read that fails part way is an error, never a partial list, and says what it left hidden', async () => {
    type Read = (backend: ReturnType<typeof testBackend>) => Promise<unknown>;
    const reads: [Read, number][] = [
      [(backend) => failedList(backend, stackTarget(), { queue: 'events' }), 30],
      [(backend) => failedSummary(backend, stackTarget(), { queue: 'events' }), 300],
      [(backend) => failedShow(backend, stackTarget(), { queue: 'events', id: 'evt-9' }), 300],
    ];
    for (const [read, holdSeconds] of reads) {
      sqs.reset();
      sqs.on(GetQueueAttributesCommand).resolves(depth(20, 0, 0));
      sqs
        .on(ReceiveMessageCommand)
        .resolvesOnce({ Messages: [deadLetterMessage(1), deadLetterMessage(2)] })
        .rejects(awsError('ThrottlingException'));
      sqs.on(ChangeMessageVisibilityBatchCommand).resolves({
        Successful: [{ Id: '0' }],
        Failed: [{ Id: '1', Code: 'ReceiptHandleIsInvalid', SenderFault: true }],
      });
      const backend = testBackend();
      await expect(read(backend)).rejects.toThrow(/throttled/);
      expect(backend.output.notes).toEqual([
        `1 message could not be made visible again: it returns to the DLQ within ${holdSeconds} s`,
      ]);
    }
  });

  it('failed list reads without a progress bar; failed show of an event id and the summary read the whole queue with one', async () => {
    installFakeQueue(
      sqs,
      EVENTS.deadLetterUrl,
      Array.from({ length: 25 }, (_, i) => deadLetterMessage(i)),
    );
    const output = recordingOutput();
    const backend = { ...testBackend(), output };
    await failedList(backend, stackTarget(), { queue: 'events', limit: 25 });
    expect(output.progressUpdates).toEqual([]);
    expect(output.progressEnded).toEqual([]);
    // Every copy of an event id is counted, so the read goes to the end of the DLQ: minutes for a large one.
    await failedShow(backend, stackTarget(), { queue: 'events', id: 'evt-24' });
    expect(output.progressUpdates.at(-1)).toEqual(['searched in the events DLQ', 25, 25]);
    expect(output.progressEnded).toEqual(['searched in the events DLQ']);
    await failedSummary(backend, stackTarget(), { queue: 'events' });
    expect(output.progressUpdates.at(-1)).toEqual(['read in the events DLQ', 25, 25]);
    expect(output.progressEnded).toEqual(['searched in the events DLQ', 'read in the events DLQ']);
  });

  it('releases held messages even when a receive fails midway', async () => {
    sqs.on(GetQueueAttributesCommand).resolves(depth(20, 0, 0));
    sqs
      .on(ReceiveMessageCommand)
      .resolvesOnce({ Messages: [deadLetterMessage(1), deadLetterMessage(2)] })
      .rejects(awsError('ThrottlingException'));
    sqs.on(ChangeMessageVisibilityBatchCommand).resolves({ Successful: [], Failed: [] });
    await expect(failedList(testBackend(), stackTarget(), { queue: 'events' })).rejects.toThrow(/throttled/);
    expect(sqs).toReceiveCommandWith(ChangeMessageVisibilityBatchCommand, {
      QueueUrl: EVENTS.deadLetterUrl,
      Entries: [
        { Id: '0', ReceiptHandle: 'rh-1', VisibilityTimeout: 0 },
        { Id: '1', ReceiptHandle: 'rh-2', VisibilityTimeout: 0 },
      ],
    });
  });
});

describe('failed summary', () => {
  /** A dead letter of `events` whose consumer recorded `message` (a `PermanentError` unless `name` says otherwise). */
  const failedWith = (n: number, message: string, name = 'PermanentError', type = 'invoice.paid') =>
    deadLetterMessage(n, { type, failure: { name, message } });

  it('reads the whole DLQ, past any list limit, counts each message once per failure and hands every one back', async () => {
    const messages = [
      ...Array.from({ length: 30 }, (_, n) =>
        failedWith(
          n,
          `customer cus_${n} not found`,
          'PermanentError',
          n % 3 ? 'invoice.paid' : 'charge.failed',
        ),
      ),
      ...Array.from({ length: 4 }, (_, n) =>
        failedWith(100 + n, "Cannot read properties of undefined (reading 'email')", 'TypeError'),
      ),
      deadLetterMessage(200, { error: false }),
    ];
    const dlq = installFakeQueue(sqs, EVENTS.deadLetterUrl, messages, { emptyReceives: 1 });
    const output = recordingOutput();

    const result = await failedSummary({ ...testBackend(), output }, stackTarget(), { queue: 'events' });

    expect(result.read).toBe(35);
    expect(result.groups.map((g) => [g.pattern, g.count])).toEqual([
      ['PermanentError: customer <id> not found', 30],
      ["TypeError: Cannot read properties of undefined (reading 'email')", 4],
      ['no reason recorded: SQS moved it after maxReceiveCount receives (a crash or a timeout)', 1],
    ]);
    expect(result.groups[0]?.types).toEqual([
      { type: 'invoice.paid', count: 20 },
      { type: 'charge.failed', count: 10 },
    ]);
    expect(result.groups[0]?.exampleIds).toEqual(['evt-0', 'evt-1', 'evt-2', 'evt-3', 'evt-4']);
    expect(result.notReleased).toBe(0);
    // Nothing consumed: every message is in the DLQ and visible again.
    expect(dlq.messages).toHaveLength(35);
    expect(dlq.hidden.size).toBe(0);
    expect(dlq.deleted).toEqual([]);
    // The read shows its progress against the DLQ's depth.
    expect(output.progressUpdates.at(-1)).toEqual(['read in the events DLQ', 35, 35]);
    // Held as long as a redrive holds what it scans: a whole DLQ can take longer to read than failed list's 30 s.
    expect(sqs).toReceiveCommandWith(ReceiveMessageCommand, {
      QueueUrl: EVENTS.deadLetterUrl,
      VisibilityTimeout: 300,
    });
    expect(result.interrupted).toBe(false);
    expect(output.progressEnded).toEqual(['read in the events DLQ']);
  });

  it('counts the events read beside the messages, and names those read more than once, with the command for this target', async () => {
    installFakeQueue(
      sqs,
      EVENTS.deadLetterUrl,
      [failedWith(1, 'order 1 failed'), failedWith(2, 'order 2 failed'), failedWith(1, 'order 1 failed')].map(
        (m, n) => ({ ...m, MessageId: `sqs-copy-${n}` }),
      ),
    );
    const result = await failedSummary(testBackend(), stackTarget(), { queue: 'events' });
    expect([result.read, result.events]).toEqual([3, 2]);
    expect(result.eventsHeldMoreThanOnce).toMatchObject([
      { id: 'evt-1', copies: 2, messageIds: ['sqs-copy-0', 'sqs-copy-2'] },
    ]);
    // Each message counts in its failure, as SQS holds it: the group counts messages.
    expect(result.groups.map((g) => g.count)).toEqual([3]);
    const output = { ...recordingOutput(), command: (args: string) => hooklineCommandFor(STACK_FLAGS, args) };
    renderFailedSummary(output, result);
    expect(output.lines[0]).toBe(
      'events dead-letter queue: 3 messages read (2 events), 1 distinct failure (left in place)',
    );
    expect(output.lines[1]).toMatch(
      /^1 event is in the DLQ more than once among the 3 read: evt-1 2 copies\. A consumer stopped /,
    );
    expect(output.lines[1]).toMatch(
      /: hookline failed delete events --id <sqs id> --stack Hookline --region us-east-1$/,
    );
  });

  it('prints one row per failure, largest first, with the next commands for this target', async () => {
    installFakeQueue(sqs, EVENTS.deadLetterUrl, [
      failedWith(1, 'order 1 failed'),
      failedWith(2, 'order 2 failed'),
      failedWith(3, 'HTTP 503', 'UpstreamError', 'charge.failed'),
    ]);
    const result = await failedSummary(testBackend(), stackTarget(), { queue: 'events' });
    const output = recordingOutput();
    renderFailedSummary(output, result);
    const [heading, rows = ''] = output.lines;
    expect(heading).toBe('events dead-letter queue: 3 messages read, 2 distinct failures (left in place)');
    const [header, first, second] = rows.split('\n');
    expect(header).toMatch(/^KEY +COUNT +FAILURE +TYPES +FIRST +LAST +OLDEST DELETED BY SQS +EXAMPLE$/);
    expect(first).toMatch(
      /^[0-9a-f]{8} +2 +PermanentError: order <n> failed +invoice\.paid 2 +2026-11-25T02:10:00\.000Z +2026-11-25T02:10:00\.000Z +- +evt-1$/,
    );
    expect(second).toMatch(/^[0-9a-f]{8} +1 +UpstreamError: HTTP 503 +charge\.failed 1 .* evt-3$/);
    expect(output.lines.slice(-2)).toEqual([
      'details: hookline failed show events <example>    once fixed: hookline redrive events --failure <key>',
      'never to run again: hookline failed delete events --failure <key>',
    ]);
  });

  describe('when SQS deletes the dead letters', () => {
    afterEach(() => {
      vi.useRealTimers();
    });
    /** Sent at `sentAt` (its SentTimestamp), as SQS gives it on receive. */
    const sentAt = (n: number, message: string, at: string) => {
      const m = failedWith(n, message);
      return { ...m, Attributes: { ...m.Attributes, SentTimestamp: String(Date.parse(at)) } };
    };
    const FOUR_DAYS = 4 * 86_400;
    const queueOfThree = () =>
      installFakeQueue(
        sqs,
        EVENTS.deadLetterUrl,
        [
          sentAt(1, 'order 1 failed', '2026-11-25T02:00:00.000Z'),
          sentAt(2, 'order 2 failed', '2026-11-24T12:00:00.000Z'),
          sentAt(3, 'HTTP 503', '2026-11-26T00:00:00.000Z'),
        ],
        { retentionSeconds: FOUR_DAYS },
      );

    it("gives each group its oldest letter's send time plus the DLQ's retention, and warns under two days", async () => {
      queueOfThree();
      vi.useFakeTimers({ toFake: ['Date'] });
      vi.setSystemTime(new Date('2026-11-27T12:00:00.000Z'));
      const result = await failedSummary(testBackend(), stackTarget(), { queue: 'events' });
      expect(result.deadLetterRetentionSeconds).toBe(FOUR_DAYS);
      expect(result.groups.map((g) => [g.count, g.oldestDeletedBySqsAt])).toEqual([
        [2, '2026-11-28T12:00:00.000Z'],
        [1, '2026-11-30T00:00:00.000Z'],
      ]);
      const output = recordingOutput();
      renderFailedSummary(output, result);
      const [, rows = '', ...after] = output.lines;
      const [, first, second] = rows.split('\n');
      expect(first).toMatch(/ in 24h 0m +evt-1$/);
      expect(second).toMatch(/ in 2d 12h +evt-3$/);
      // Only the group under two days has a line.
      expect(after.filter((line) => line.includes('deleted by SQS'))).toEqual([
        `failure ${result.groups[0]?.key}: its oldest dead letter is deleted by SQS in 24h 0m (at 2026-11-28T12:00:00.000Z, under 2 days): act on it before then, or save it with hookline failed save events --out dead-letters-events.jsonl`,
      ]);
    });

    it('gives failed list each letter its own time, and warns of the soonest shown under two days', async () => {
      queueOfThree();
      vi.useFakeTimers({ toFake: ['Date'] });
      vi.setSystemTime(new Date('2026-11-27T12:00:00.000Z'));
      const result = await failedList(testBackend(), stackTarget(), { queue: 'events' });
      expect(result.deadLetterRetentionSeconds).toBe(FOUR_DAYS);
      expect(result.messages.map((m) => [m.id, m.deletedBySqsAt])).toEqual([
        ['evt-1', '2026-11-29T02:00:00.000Z'],
        ['evt-2', '2026-11-28T12:00:00.000Z'],
        ['evt-3', '2026-11-30T00:00:00.000Z'],
      ]);
      const output = recordingOutput();
      renderFailedList(output, result);
      expect(output.lines.filter((line) => line.includes('deleted by SQS'))).toEqual([
        'the oldest shown dead letter is deleted by SQS in 24h 0m (at 2026-11-28T12:00:00.000Z, under 2 days): act on it before then, or save it with hookline failed save events --out dead-letters-events.jsonl',
      ]);
    });

    it("gives failed show the letter's time on its own line, and warns under two days as the console does", async () => {
      queueOfThree();
      vi.useFakeTimers({ toFake: ['Date'] });
      vi.setSystemTime(new Date('2026-11-27T12:00:00.000Z'));
      const later = recordingOutput();
      renderFailedShow(
        later,
        await failedShow(testBackend(), stackTarget(), { queue: 'events', id: 'evt-3' }),
      );
      expect(later.lines.filter((line) => /deleted? by SQS|sqs deletes/.test(line))).toEqual([
        'sqs deletes  2026-11-30T00:00:00.000Z (in 2d 12h)',
      ]);
      const soon = recordingOutput();
      renderFailedShow(
        soon,
        await failedShow(testBackend(), stackTarget(), { queue: 'events', id: 'evt-2' }),
      );
      expect(soon.lines.filter((line) => /deleted? by SQS|sqs deletes/.test(line))).toEqual([
        'sqs deletes  2026-11-28T12:00:00.000Z (in 24h 0m)',
        'this dead letter is deleted by SQS in 24h 0m (at 2026-11-28T12:00:00.000Z, under 2 days): act on it before then, or save it with hookline failed save events --out dead-letters-events.jsonl',
      ]);
    });

    it("says nothing of deletion where the DLQ's retention cannot be read, and says why in the summary", async () => {
      installFakeQueue(sqs, EVENTS.deadLetterUrl, [failedWith(1, 'order 1 failed')]);
      const result = await failedSummary(testBackend(), stackTarget(), { queue: 'events' });
      expect(result.deadLetterRetentionSeconds).toBeNull();
      expect(result.groups[0]?.oldestDeletedBySqsAt).toBeNull();
      const output = recordingOutput();
      renderFailedSummary(output, result);
      expect(output.lines).toContain(
        "when SQS deletes these letters is unknown: the DLQ's retention could not be read",
      );
      const listed = await failedList(testBackend(), stackTarget(), { queue: 'events' });
      expect(listed.messages.map((m) => m.deletedBySqsAt)).toEqual([null]);
    });
  });

  it('says a FIFO DLQ summary counts only the earliest dead letter of each group, not the whole queue', async () => {
    // Two groups of three: while this read holds the first of a group, SQS returns none of its later ones.
    const messages = Array.from({ length: 6 }, (_, n) => deadLetterMessage(n, { group: `g-${n % 2}` }));
    installFakeQueue(sqs, ORDERS.deadLetterUrl, messages, { fifo: true, headsOnly: true });
    const result = await failedSummary(testBackend(), stackTarget(), { queue: 'orders' });
    expect(result).toMatchObject({ read: 2, behindHeldGroups: 4, interrupted: false });
    const output = recordingOutput();
    renderFailedSummary(output, result);
    expect(output.lines[1]).toBe(
      "FIFO: SQS returns a message group's later messages only once its earlier ones leave the queue, so about 4 dead letters behind those read are in no group: the counts cover the 2 read (the earliest of each group), not the whole queue; once those are redriven or deleted, run it again for the rest",
    );

    installFakeQueue(
      sqs,
      EVENTS.deadLetterUrl,
      Array.from({ length: 6 }, (_, n) => deadLetterMessage(n)),
    );
    const standard = await failedSummary(testBackend(), stackTarget(), { queue: 'events' });
    expect(standard).toMatchObject({ read: 6, behindHeldGroups: 0 });
  });

  it('says an empty DLQ has no failure, and counts the messages another reader held as in no group', async () => {
    installFakeQueue(sqs, EVENTS.deadLetterUrl, []);
    const result = await failedSummary(testBackend(), stackTarget(), { queue: 'events' });
    expect(result).toMatchObject({ read: 0, groups: [], heldByOthers: 0 });
    const output = recordingOutput();
    renderFailedSummary(output, { ...result, heldByOthers: 2 });
    expect(output.lines).toEqual([
      'events dead-letter queue: 0 messages read, 0 distinct failures (left in place)',
      'about 2 messages are held by another reader (a redrive, the console, another failed list) and in no group: SQS returns them once that hold ends',
    ]);
  });

  it('counts what another reader held and what it could not hand back, in the result and in its notes', async () => {
    sqs.on(GetQueueAttributesCommand).resolves(depth(2, 1, 0));
    sqs
      .on(ReceiveMessageCommand)
      .resolvesOnce({ Messages: [failedWith(1, 'order 1 failed'), failedWith(2, 'order 2 failed')] })
      .resolves({ Messages: [] });
    sqs.on(ChangeMessageVisibilityBatchCommand).resolves({
      Successful: [{ Id: '0' }],
      Failed: [{ Id: '1', Code: 'ReceiptHandleIsInvalid', SenderFault: true }],
    });
    const result = await failedSummary(testBackend(), stackTarget(), { queue: 'events' });
    expect(result).toMatchObject({ read: 2, heldByOthers: 1, notReleased: 1, interrupted: false });
    const output = recordingOutput();
    renderFailedSummary(output, result);
    expect(output.lines.slice(1, 3)).toEqual([
      'about 1 message is held by another reader (a redrive, the console, another failed list) and in no group: SQS returns them once that hold ends',
      "1 message read here could not be made visible again at once: SQS returns them when this read's hold ends",
    ]);
  });

  it('shows its progress against the visible count, not what another reader holds, raised to what it read when the count lags', async () => {
    /** The progress of a summary reading two letters where SQS counts `visible` and `held` messages. */
    const progressOf = async (visible: number, held: number) => {
      sqs.reset();
      sqs.on(GetQueueAttributesCommand).resolves(depth(visible, held, 0));
      sqs
        .on(ReceiveMessageCommand)
        .resolvesOnce({ Messages: [failedWith(1, 'order 1 failed'), failedWith(2, 'order 2 failed')] })
        .resolves({ Messages: [] });
      sqs.on(ChangeMessageVisibilityBatchCommand).resolves({ Successful: [], Failed: [] });
      const output = recordingOutput();
      await failedSummary({ ...testBackend(), output }, stackTarget(), { queue: 'events' });
      return output.progressUpdates;
    };
    // The one another reader holds cannot be read: a bar counting it would never end full.
    expect(await progressOf(2, 1)).toEqual([['read in the events DLQ', 2, 2]]);
    expect(await progressOf(1, 0)).toEqual([['read in the events DLQ', 2, 2]]);
  });

  it('is whole, not interrupted, when Ctrl-C comes only after the read reached the end of the queue', async () => {
    const controller = new AbortController();
    sqs.on(GetQueueAttributesCommand).resolves(depth(2, 0, 0));
    sqs
      .on(ReceiveMessageCommand)
      .resolvesOnce({ Messages: [failedWith(1, 'order 1 failed'), failedWith(2, 'order 2 failed')] })
      .resolvesOnce({ Messages: [] })
      // The second empty answer ends the read; Ctrl-C comes while it is under way.
      .callsFake(() => {
        controller.abort();
        return { Messages: [] };
      });
    sqs.on(ChangeMessageVisibilityBatchCommand).resolves({ Successful: [], Failed: [] });
    const result = await failedSummary(testBackend(), stackTarget(), {
      queue: 'events',
      signal: controller.signal,
    });
    expect(result).toMatchObject({ read: 2, interrupted: false });
    const output = recordingOutput();
    renderFailedSummary(output, result);
    expect(output.lines.join('\n')).not.toContain('stopped by Ctrl-C');
  });

  it('names the three most frequent types of a failure in its row and counts the letters of the others', async () => {
    const types = ['a', 'a', 'a', 'b', 'b', 'c', 'c', 'd', 'e'];
    installFakeQueue(
      sqs,
      EVENTS.deadLetterUrl,
      types.map((type, n) => failedWith(n, 'card declined', 'PermanentError', `invoice.${type}`)),
    );
    const output = recordingOutput();
    renderFailedSummary(output, await failedSummary(testBackend(), stackTarget(), { queue: 'events' }));
    expect(output.lines[1]?.split('\n')[1]).toMatch(
      / PermanentError: card declined +invoice\.a 3, invoice\.b 2, invoice\.c 2, \+2 /,
    );
  });

  it('failed list --failure takes a key in upper case, says it in lower case, and holds what it reads as long as a summary', async () => {
    installFakeQueue(sqs, EVENTS.deadLetterUrl, [
      failedWith(1, 'card declined'),
      failedWith(2, 'order 2 gone'),
    ]);
    const key = failureKey('PermanentError: order <n> gone');
    const result = await failedList(testBackend(), stackTarget(), {
      queue: 'events',
      failure: ` ${key.toUpperCase()} `,
    });
    expect(result.messages.map((m) => m.id)).toEqual(['evt-2']);
    expect(result.failure).toBe(key);
    // Narrowed to one failure, the read may go through the whole DLQ: held as a summary holds it, not for 30 s.
    expect(sqs).toReceiveCommandWith(ReceiveMessageCommand, {
      QueueUrl: EVENTS.deadLetterUrl,
      VisibilityTimeout: 300,
    });
    expect(sqs).not.toReceiveCommandWith(ReceiveMessageCommand, { VisibilityTimeout: 30 });
  });

  it('failed list --failure lists the dead letters of that failure only, reading past the others, and says so', async () => {
    installFakeQueue(sqs, EVENTS.deadLetterUrl, [
      ...Array.from({ length: 15 }, (_, n) => failedWith(n, 'card declined')),
      failedWith(20, 'order 20 poisoned'),
      failedWith(21, 'order 21 poisoned'),
    ]);
    const key = failureKey('PermanentError: order <n> poisoned');
    const result = await failedList(testBackend(), stackTarget(), {
      queue: 'events',
      failure: key,
      limit: 5,
    });
    expect(result.messages.map((m) => m.id)).toEqual(['evt-20', 'evt-21']);
    expect(result.failure).toBe(key);
    const output = recordingOutput();
    renderFailedList(output, result);
    expect(output.lines[0]).toBe(
      `events dead-letter queue: ~17 messages, showing 2 of failure ${key} (left in place)`,
    );
    await expect(failedList(testBackend(), stackTarget(), { queue: 'events', failure: 'x' })).rejects.toThrow(
      /--failure "x" is not a failure key/,
    );
  });

  it('refuses a queue the configuration does not have, naming the ones it has', async () => {
    await expect(failedSummary(testBackend(), stackTarget(), { queue: 'nope' })).rejects.toThrow(/nope/);
  });
});

describe("the circuit breakers' probe schedules' dead-letter queue", () => {
  const breakerSchedules = {
    name: BREAKER_SCHEDULES,
    deadLetterUrl: 'https://sqs.us-east-1.amazonaws.com/123456789012/Hookline-BreakerSchedulesDlq',
    deadLetterArn: 'arn:aws:sqs:us-east-1:123456789012:Hookline-BreakerSchedulesDlq',
    holds: 'circuit breaker probes and closes Scheduler could not deliver',
  };
  const withBreakerSchedules = (): StackTarget => ({
    ...stackTarget(),
    breakerSchedulesDeadLetterQueue: breakerSchedules,
  });
  /** A probe EventBridge Scheduler could not deliver: its input as the body, Scheduler's reason as attributes. */
  const undeliveredProbe = {
    MessageId: 'sqs-probe-1',
    ReceiptHandle: 'rh-probe-1',
    Body: JSON.stringify({ hooklineCircuitBreaker: 'probe', alarmName: 'Hookline/events/circuit-breaker' }),
    Attributes: { SentTimestamp: String(Date.parse('2026-12-04T10:00:00Z')), ApproximateReceiveCount: '1' },
    MessageAttributes: {
      ERROR_CODE: { DataType: 'String', StringValue: 'AccessDeniedException' },
      ERROR_MESSAGE: { DataType: 'String', StringValue: 'not authorized to perform lambda:InvokeFunction' },
      TARGET_ARN: {
        DataType: 'String',
        StringValue: 'arn:aws:lambda:us-east-1:123456789012:function:breaker',
      },
    },
  };

  it('counts it in status, on a line of its own', async () => {
    sqs.on(GetQueueAttributesCommand).resolves(depth(0, 0, 0));
    sqs.on(GetQueueAttributesCommand, { QueueUrl: breakerSchedules.deadLetterUrl }).resolves(depth(1, 0, 0));
    lambda.on(GetEventSourceMappingCommand).resolves({ State: 'Enabled' });
    cloudwatch.on(GetMetricDataCommand).resolves({ MetricDataResults: [] });
    const result = await status(testBackend(), withBreakerSchedules());
    expect(result.otherDeadLetterQueues).toEqual([
      { name: BREAKER_SCHEDULES, holds: breakerSchedules.holds, deadLettered: 1 },
    ]);
  });

  it("lists the probes Scheduler could not deliver with Scheduler's reason, and says to resume rather than redrive", async () => {
    installFakeQueue(sqs, breakerSchedules.deadLetterUrl, [undeliveredProbe]);
    const result = await failedList(testBackend(), withBreakerSchedules(), { queue: BREAKER_SCHEDULES });
    expect(result.messages.map((m) => [m.messageId, m.error])).toEqual([
      ['sqs-probe-1', 'AccessDeniedException: not authorized to perform lambda:InvokeFunction'],
    ]);
    const output = recordingOutput();
    renderFailedList(output, result);
    const text = output.lines.join('\n');
    expect(text).not.toContain(`hookline redrive ${BREAKER_SCHEDULES}`);
    expect(text).toContain('resume the consumer by hand with hookline resume <queue>');
  });

  it("summarizes the probes Scheduler could not deliver by Scheduler's reason, and says to resume rather than redrive", async () => {
    installFakeQueue(sqs, breakerSchedules.deadLetterUrl, [undeliveredProbe]);
    const result = await failedSummary(testBackend(), withBreakerSchedules(), { queue: BREAKER_SCHEDULES });
    expect(result.groups.map((g) => [g.pattern, g.count])).toEqual([
      ['AccessDeniedException: not authorized to perform lambda:InvokeFunction', 1],
    ]);
    const output = recordingOutput();
    renderFailedSummary(output, result);
    const text = output.lines.join('\n');
    expect(text).not.toContain(`hookline redrive ${BREAKER_SCHEDULES}`);
    expect(text).toContain('fix the reason, then resume the consumer by hand with hookline resume <queue>');
  });

  it('refuses a redrive, saying why and what to do, before touching the queue', async () => {
    await expect(
      redrive(testBackend(), withBreakerSchedules(), { env: {}, queue: BREAKER_SCHEDULES }),
    ).rejects.toThrow(
      /the breaker_schedules dead-letter queue cannot be redriven: .*not messages of a queue.*hookline failed show breaker_schedules <id>.*hookline resume <queue>/,
    );
    expect(sqs.calls()).toHaveLength(0);
  });
});

describe("the one-time job schedules' dead-letter queue", () => {
  /** A job EventBridge Scheduler gave up on: its input as the body, Scheduler's reason as attributes. */
  const undelivered = (n: number) => {
    const message = deadLetterMessage(n, { error: false });
    const scheduler = (value: string) => ({ DataType: 'String', StringValue: value });
    return {
      ...message,
      MessageAttributes: {
        ERROR_CODE: scheduler('AWS.SimpleQueueService.NonExistentQueue'),
        ERROR_MESSAGE: scheduler('The specified queue does not exist.'),
        TARGET_ARN: scheduler(EVENTS.arn),
      },
    };
  };

  it("lists the jobs Scheduler could not deliver with Scheduler's reason, leaving them in place", async () => {
    const dlq = installFakeQueue(sqs, JOB_SCHEDULES_DEAD_LETTER_QUEUE.deadLetterUrl, [
      undelivered(1),
      undelivered(2),
    ]);
    const result = await failedList(testBackend(), stackTargetWithJobSchedules(), { queue: JOB_SCHEDULES });
    expect(result).toMatchObject({
      queue: JOB_SCHEDULES,
      deadLetterQueueUrl: JOB_SCHEDULES_DEAD_LETTER_QUEUE.deadLetterUrl,
    });
    expect(result.messages.map((m) => [m.id, m.error])).toEqual([
      ['evt-1', 'AWS.SimpleQueueService.NonExistentQueue: The specified queue does not exist.'],
      ['evt-2', 'AWS.SimpleQueueService.NonExistentQueue: The specified queue does not exist.'],
    ]);
    expect(dlq.messages).toHaveLength(2);
    expect(dlq.hidden.size).toBe(0);
    const shown = await failedShow(testBackend(), stackTargetWithJobSchedules(), {
      queue: JOB_SCHEDULES,
      id: 'evt-2',
    });
    expect(shown.messageAttributes.TARGET_ARN).toBe(EVENTS.arn);
    const output = recordingOutput();
    renderFailedList(output, result);
    const text = output.lines.join('\n');
    expect(text).not.toContain(`hookline redrive ${JOB_SCHEDULES}`);
    expect(text).toContain('send the job again from its producer under a new id');
  });

  it('counts them in the status, with the command that inspects them', async () => {
    sqs.on(GetQueueAttributesCommand).resolves(depth(0, 0, 0));
    sqs
      .on(GetQueueAttributesCommand, { QueueUrl: JOB_SCHEDULES_DEAD_LETTER_QUEUE.deadLetterUrl })
      .resolves(depth(2, 1, 0));
    lambda.on(GetEventSourceMappingCommand).resolves({ State: 'Enabled' });
    cloudwatch.on(GetMetricDataCommand).resolves({ MetricDataResults: [] });
    const result = await status(testBackend(), stackTargetWithJobSchedules());
    expect(result.otherDeadLetterQueues).toEqual([
      { name: JOB_SCHEDULES, holds: JOB_SCHEDULES_DEAD_LETTER_QUEUE.holds, deadLettered: 3 },
    ]);
    const output = recordingOutput();
    renderStatus(output, result);
    expect(output.lines.join('\n')).toContain(
      `${JOB_SCHEDULES} (one-time jobs Scheduler could not deliver): 3 dead-lettered; inspect with: hookline failed list ${JOB_SCHEDULES}`,
    );
  });

  it('purges it with --dlq, and says so without it', async () => {
    sqs.on(GetQueueAttributesCommand).resolves(depth(2, 0, 0));
    sqs.on(PurgeQueueCommand).resolves({});
    await expect(
      purge(testBackend(), stackTargetWithJobSchedules(), { queue: JOB_SCHEDULES, yes: true }),
    ).rejects.toThrow(
      new CliError(`${JOB_SCHEDULES} is a dead-letter queue and nothing else: purge it with --dlq`),
    );
    expect(sqs).not.toReceiveCommand(PurgeQueueCommand);
    const result = await purge(testBackend(), stackTargetWithJobSchedules(), {
      queue: JOB_SCHEDULES,
      deadLetter: true,
      yes: true,
    });
    expect(sqs).toReceiveCommandWith(PurgeQueueCommand, {
      QueueUrl: JOB_SCHEDULES_DEAD_LETTER_QUEUE.deadLetterUrl,
    });
    expect(result).toEqual({
      queue: JOB_SCHEDULES,
      deadLetter: true,
      url: JOB_SCHEDULES_DEAD_LETTER_QUEUE.deadLetterUrl,
      purged: 2,
      finishesWithinSeconds: 60,
    });
  });

  it('refuses a redrive, saying why and what to do, before touching the queue', async () => {
    await expect(
      redrive(testBackend(), stackTargetWithJobSchedules(), { env: {}, queue: JOB_SCHEDULES }),
    ).rejects.toThrow(
      /the job_schedules dead-letter queue cannot be redriven: .*each to its own queue.*hookline failed show job_schedules <id>.*send the job again from its producer under a new id/,
    );
    expect(sqs.calls()).toHaveLength(0);
  });

  it("names the failed show of a refused redrive with this run's target flags", async () => {
    const output = { ...recordingOutput(), command: (args: string) => hooklineCommandFor(STACK_FLAGS, args) };
    await expect(
      redrive(testBackend({ output }), stackTargetWithJobSchedules(), { env: {}, queue: JOB_SCHEDULES }),
    ).rejects.toThrow(
      'Read why with hookline failed show job_schedules <id> --stack Hookline --region us-east-1 (',
    );
  });

  it('says why a stack without it has none, and lists it among the names a stack with it accepts', async () => {
    await expect(failedList(testBackend(), stackTarget(), { queue: JOB_SCHEDULES })).rejects.toThrow(
      /has no job_schedules dead-letter queue in its outputs: it is made once a producer may delay jobs/,
    );
    await expect(failedList(testBackend(), stackTargetWithJobSchedules(), { queue: 'nope' })).rejects.toThrow(
      /unknown queue "nope" in stack Hookline in us-east-1: use one of events, orders, job_schedules/,
    );
    expect(sqs.calls()).toHaveLength(0);
  });
});

describe("a configured schedule's dead-letter queue", () => {
  /** The name the operator types: `hookline failed list schedule:heartbeat`. */
  const HEARTBEAT = 'schedule:heartbeat';
  const heartbeat = {
    name: HEARTBEAT,
    deadLetterUrl: 'https://sqs.us-east-1.amazonaws.com/123456789012/Hookline-HeartbeatDlq',
    deadLetterArn: 'arn:aws:sqs:us-east-1:123456789012:Hookline-HeartbeatDlq',
    holds: 'deliveries of schedule heartbeat to the events queue Scheduler gave up on',
    redriveTo: 'events',
  };
  const withSchedule = (overrides: Partial<StackTarget> = {}): StackTarget => ({
    ...stackTarget(),
    scheduleDeadLetterQueues: [heartbeat],
    ...overrides,
  });
  /**
   * A delivery Scheduler gave up on: the schedule's input (its envelope) as the body, Scheduler's reason and the
   * schedule's target as attributes.
   */
  const undelivered = (n: number, target = EVENTS.arn) => {
    const scheduledTime = `2026-11-25T0${n}:00:00Z`;
    const scheduler = (value: string) => ({ DataType: 'String', StringValue: value });
    return {
      MessageId: `sqs-${n}`,
      ReceiptHandle: `rh-${n}`,
      Body: JSON.stringify({
        v: 1,
        id: `heartbeat:${scheduledTime}`,
        source: 'schedule',
        type: 'schedule.heartbeat',
        receivedAt: scheduledTime,
        headers: { 'x-hookline-schedule': 'heartbeat' },
        contentType: 'application/json',
        body: '{}',
        bodyEncoding: 'utf8',
      }),
      Attributes: { SentTimestamp: String(Date.parse(scheduledTime)), ApproximateReceiveCount: '1' },
      MessageAttributes: {
        ERROR_CODE: scheduler('AWS.SimpleQueueService.NonExistentQueue'),
        ERROR_MESSAGE: scheduler('The specified queue does not exist.'),
        EXECUTION_ID: scheduler(`exec-${n}`),
        RETRY_ATTEMPTS: scheduler('185'),
        SCHEDULE_ARN: scheduler('arn:aws:scheduler:us-east-1:123456789012:schedule/default/heartbeat'),
        TARGET_ARN: scheduler(target),
      },
    };
  };

  it("lists and shows the deliveries Scheduler gave up on, with Scheduler's reason, leaving them in place", async () => {
    const dlq = installFakeQueue(sqs, heartbeat.deadLetterUrl, [undelivered(1), undelivered(2)]);
    const result = await failedList(testBackend(), withSchedule(), { queue: HEARTBEAT });
    expect(result).toMatchObject({ queue: HEARTBEAT, deadLetterQueueUrl: heartbeat.deadLetterUrl });
    expect(result.messages.map((m) => [m.id, m.source, m.type, m.error])).toEqual([
      [
        'heartbeat:2026-11-25T01:00:00Z',
        'schedule',
        'schedule.heartbeat',
        'AWS.SimpleQueueService.NonExistentQueue: The specified queue does not exist.',
      ],
      [
        'heartbeat:2026-11-25T02:00:00Z',
        'schedule',
        'schedule.heartbeat',
        'AWS.SimpleQueueService.NonExistentQueue: The specified queue does not exist.',
      ],
    ]);
    expect(dlq.messages).toHaveLength(2);
    expect(dlq.hidden.size).toBe(0);
    // No consumer received them: TRIES is not the count of DLQ reads (Scheduler's retries are RETRY_ATTEMPTS).
    const reread = [undelivered(1), undelivered(2)].map((m) => ({
      ...m,
      Attributes: { ...m.Attributes, ApproximateReceiveCount: '7' },
    }));
    installFakeQueue(sqs, heartbeat.deadLetterUrl, reread);
    const again = await failedList(testBackend(), withSchedule(), { queue: HEARTBEAT });
    expect(again.messages.map((m) => m.receiveCount)).toEqual([null, null]);
    const shown = await failedShow(testBackend(), withSchedule(), {
      queue: HEARTBEAT,
      id: 'heartbeat:2026-11-25T02:00:00Z',
    });
    expect(shown.messageAttributes.TARGET_ARN).toBe(EVENTS.arn);
    expect(shown.headers).toEqual({ 'x-hookline-schedule': 'heartbeat' });
  });

  it("groups deliveries without Scheduler's reason under a key failed list --failure takes back", async () => {
    const { ERROR_CODE: _code, ERROR_MESSAGE: _message, ...attributes } = undelivered(3).MessageAttributes;
    const unexplained = { ...undelivered(3), MessageAttributes: attributes };
    installFakeQueue(sqs, heartbeat.deadLetterUrl, [undelivered(1), unexplained, undelivered(2)]);
    const summary = await failedSummary(testBackend(), withSchedule(), { queue: HEARTBEAT });
    const noReason = summary.groups.find((g) => g.count === 1);
    expect(noReason?.pattern).toBe(
      'no reason recorded: it lacks the ERROR_CODE EventBridge Scheduler sets on what it puts here',
    );
    const listed = await failedList(testBackend(), withSchedule(), {
      queue: HEARTBEAT,
      failure: noReason?.key ?? '',
    });
    expect(listed.messages.map((m) => m.id)).toEqual(['heartbeat:2026-11-25T03:00:00Z']);
  });

  it('counts it in the status, text and JSON, saying what it holds and how to inspect it', async () => {
    sqs.on(GetQueueAttributesCommand).resolves(depth(0, 0, 0));
    sqs.on(GetQueueAttributesCommand, { QueueUrl: heartbeat.deadLetterUrl }).resolves(depth(1, 1, 0));
    lambda.on(GetEventSourceMappingCommand).resolves({ State: 'Enabled' });
    cloudwatch.on(GetMetricDataCommand).resolves({ MetricDataResults: [] });
    const result = await status(testBackend(), withSchedule());
    expect(JSON.parse(JSON.stringify(result)).otherDeadLetterQueues).toEqual([
      { name: HEARTBEAT, holds: heartbeat.holds, deadLettered: 2 },
    ]);
    const output = recordingOutput();
    renderStatus(output, result);
    expect(output.lines.join('\n')).toContain(
      `${HEARTBEAT} (${heartbeat.holds}): 2 dead-lettered; inspect with: hookline failed list ${HEARTBEAT}`,
    );
  });

  it('counts in failed list, as in the status, a delivery another reader holds, and says why it is not shown', async () => {
    const dlq = installFakeQueue(sqs, heartbeat.deadLetterUrl, [
      undelivered(1),
      undelivered(2),
      undelivered(3),
    ]);
    // Another reader (a redrive, the console) holds the third one: SQS returns it to nobody else meanwhile.
    dlq.hidden.add('rh-3');
    sqs.on(GetQueueAttributesCommand, { QueueUrl: EVENTS.url }).resolves(depth(0, 0, 0));
    sqs.on(GetQueueAttributesCommand, { QueueUrl: EVENTS.deadLetterUrl }).resolves(depth(0, 0, 0));
    sqs.on(GetQueueAttributesCommand, { QueueUrl: ORDERS.url }).resolves(depth(0, 0, 0));
    sqs.on(GetQueueAttributesCommand, { QueueUrl: ORDERS.deadLetterUrl }).resolves(depth(0, 0, 0));
    lambda.on(GetEventSourceMappingCommand).resolves({ State: 'Enabled' });
    cloudwatch.on(GetMetricDataCommand).resolves({ MetricDataResults: [] });
    const counted = await status(testBackend(), withSchedule());
    expect(counted.otherDeadLetterQueues?.[0]?.deadLettered).toBe(3);

    const result = await failedList(testBackend(), withSchedule(), { queue: HEARTBEAT });
    expect(result.messages.map((m) => m.messageId)).toEqual(['sqs-1', 'sqs-2']);
    expect(result).toMatchObject({ approximateDepth: 3, heldByOthers: 1 });
    const output = recordingOutput();
    renderFailedList(output, result);
    expect(output.lines.slice(0, 2)).toEqual([
      `${HEARTBEAT} dead-letter queue: ~3 messages, showing 2 (left in place)`,
      'about 1 message is held by another reader (a redrive, the console, another failed list) and not shown: SQS returns them once that hold ends',
    ]);
    // The other reader's hold is not this read's to end.
    expect(dlq.hidden).toEqual(new Set(['rh-3']));
  });

  it("says a message without Scheduler's reason has none, not that SQS moved it after maxReceiveCount", async () => {
    const { ERROR_CODE: _code, ERROR_MESSAGE: _message, ...others } = undelivered(1).MessageAttributes;
    // Read a few times before: its SQS receive count counts only reads of the DLQ, no consumer's tries.
    const readBefore = { ...undelivered(1).Attributes, ApproximateReceiveCount: '4' };
    installFakeQueue(sqs, heartbeat.deadLetterUrl, [
      { ...undelivered(1), Attributes: readBefore, MessageAttributes: others },
    ]);
    const listed = await failedList(testBackend(), withSchedule(), { queue: HEARTBEAT });
    expect(listed.messages[0]?.error).toBeNull();
    expect(listed.messages[0]?.receiveCount).toBeNull();
    const list = recordingOutput();
    renderFailedList(list, listed);
    const shown = recordingOutput();
    renderFailedShow(
      shown,
      await failedShow(testBackend(), withSchedule(), { queue: HEARTBEAT, id: 'sqs-1' }),
    );
    const none =
      'no reason recorded: it lacks the ERROR_CODE EventBridge Scheduler sets on what it puts here';
    expect(list.lines.join('\n')).toContain(none);
    expect(shown.lines).toContain(`${'error'.padEnd(12)} ${none}`);
    expect([...list.lines, ...shown.lines].join('\n')).not.toMatch(/maxReceiveCount/);
  });

  it("says in the status which schedules' dead-letter queues an older deployment does not publish", async () => {
    sqs.on(GetQueueAttributesCommand).resolves(depth(0, 0, 0));
    lambda.on(GetEventSourceMappingCommand).resolves({ State: 'Enabled' });
    cloudwatch.on(GetMetricDataCommand).resolves({ MetricDataResults: [] });
    const older = withSchedule({ scheduleDeadLetterQueues: [], schedulesMissingOutputs: ['heartbeat'] });
    const result = await status(testBackend(), older);
    expect(result.schedulesMissingOutputs).toEqual(['heartbeat']);
    const output = recordingOutput();
    renderStatus(output, result);
    expect(output.lines.join('\n')).toContain(
      'schedule heartbeat: its dead-letter queue is not in the stack outputs, so it is not counted here; redeploy with npx cdk deploy',
    );
    await expect(failedList(testBackend(), older, { queue: HEARTBEAT })).rejects.toThrow(
      'schedule heartbeat has no dead-letter queue outputs in stack Hookline in us-east-1: redeploy with npx cdk deploy so the stack publishes them',
    );
  });

  it("redrives each delivery to the schedule's queue one by one, without Scheduler's attributes", async () => {
    const dlq = installFakeQueue(sqs, heartbeat.deadLetterUrl, [undelivered(1), undelivered(2)]);
    sqs
      .on(SendMessageBatchCommand, { QueueUrl: EVENTS.url })
      .callsFake((input: { Entries: { Id: string }[] }) => ({
        Successful: input.Entries.map((e, i) => ({ Id: e.Id, MessageId: `new-${i}` })),
        Failed: [],
      }));
    const result = await redrive(testBackend(), withSchedule(), { env: {}, queue: HEARTBEAT });
    expect(result).toMatchObject({ queue: HEARTBEAT, method: 'one-by-one', moved: 2, failed: 0 });
    expect(result.fallbackReason).toMatch(/EventBridge Scheduler fills/);
    expect(sqs.commandCalls(StartMessageMoveTaskCommand)).toHaveLength(0);
    const sent = sqs.commandCalls(SendMessageBatchCommand).flatMap((c) => c.args[0].input.Entries ?? []);
    expect(sent.map((e) => e.MessageBody)).toEqual([undelivered(1).Body, undelivered(2).Body]);
    for (const e of sent) expect(Object.keys(e.MessageAttributes ?? {})).toEqual(['hookline.redrive']);
    expect(dlq.messages).toHaveLength(0);
  });

  it("takes any --rate, as SQS move task limits do not apply to the one-by-one redrive a schedule's gets", async () => {
    installFakeQueue(sqs, heartbeat.deadLetterUrl, [undelivered(1), undelivered(2)]);
    sqs
      .on(SendMessageBatchCommand, { QueueUrl: EVENTS.url })
      .callsFake((input: { Entries: { Id: string }[] }) => ({
        Successful: input.Entries.map((e) => ({ Id: e.Id, MessageId: `new-${e.Id}` })),
        Failed: [],
      }));
    const backend = testBackend();
    const result = await redrive(backend, withSchedule(), { env: {}, queue: HEARTBEAT, rate: 0.5 });
    expect(result).toMatchObject({ method: 'one-by-one', moved: 2, failed: 0 });
    // One message every two seconds: the second waits its turn.
    expect(backend.clock.sleeps).toEqual([2000]);
    installFakeQueue(sqs, heartbeat.deadLetterUrl, [undelivered(3)]);
    expect(
      await redrive(testBackend(), withSchedule(), { env: {}, queue: HEARTBEAT, rate: 1000 }),
    ).toMatchObject({
      moved: 1,
    });
    // A queue's own DLQ, redriven whole by a move task, still gets SQS's limit.
    await expect(
      redrive(testBackend(), withSchedule(), { env: {}, queue: 'events', rate: 1000 }),
    ).rejects.toThrow(/--rate for a full redrive is a whole number from 1 to 500/);
  });

  it('leaves a delivery Scheduler meant for another queue in the DLQ, naming that queue or saying it is gone', async () => {
    // One meant for a queue since removed from the configuration, one for another queue the stack still has.
    const retired = 'arn:aws:sqs:us-east-1:123456789012:Hookline-retired';
    const dlq = installFakeQueue(sqs, heartbeat.deadLetterUrl, [
      undelivered(1, retired),
      undelivered(2),
      undelivered(3, ORDERS.arn),
    ]);
    sqs
      .on(SendMessageBatchCommand, { QueueUrl: EVENTS.url })
      .callsFake((input: { Entries: { Id: string }[] }) => ({
        Successful: input.Entries.map((e) => ({ Id: e.Id, MessageId: `new-${e.Id}` })),
        Failed: [],
      }));
    const result = await redrive(testBackend(), withSchedule(), { env: {}, queue: HEARTBEAT });
    expect(result).toMatchObject({ moved: 1, failed: 2 });
    expect(result.failures).toEqual([
      {
        messageId: 'sqs-1',
        id: 'heartbeat:2026-11-25T01:00:00Z',
        reason: `Scheduler meant it for ${retired}, not the events queue the schedule sends to now, and that queue is no longer in the pipeline: there is nowhere to send it back to; leave it to expire with the dead-letter queue's retention, or empty the queue with hookline purge ${HEARTBEAT} --dlq`,
      },
      {
        messageId: 'sqs-3',
        id: 'heartbeat:2026-11-25T03:00:00Z',
        reason: `Scheduler meant it for the orders queue (${ORDERS.arn}), not the events queue the schedule sends to now: send it there yourself, or leave it`,
      },
    ]);
    expect(dlq.messages.map((m) => m.MessageId)).toEqual(['sqs-1', 'sqs-3']);
  });

  it("names the purge for a delivery meant for a queue that is gone with this run's target flags", async () => {
    const retired = 'arn:aws:sqs:us-east-1:123456789012:Hookline-retired';
    installFakeQueue(sqs, heartbeat.deadLetterUrl, [undelivered(1, retired)]);
    const output = { ...recordingOutput(), command: (args: string) => hooklineCommandFor(STACK_FLAGS, args) };
    const result = await redrive(testBackend({ output }), withSchedule(), { env: {}, queue: HEARTBEAT });
    expect(result.failures[0]?.reason).toMatch(
      new RegExp(
        `or empty the queue with hookline purge ${HEARTBEAT} --dlq --stack Hookline --region us-east-1$`,
      ),
    );
  });

  it('purge without --dlq says, as with it, why local mode or the stack has no such dead-letter queue', async () => {
    for (const deadLetter of [false, true]) {
      await expect(
        purge(testBackend(), localTarget(), { queue: JOB_SCHEDULES, deadLetter, yes: true }),
      ).rejects.toThrow(`local mode has no ${JOB_SCHEDULES} dead-letter queue`);
      await expect(
        purge(testBackend(), localTarget(), { queue: HEARTBEAT, deadLetter, yes: true }),
      ).rejects.toThrow(`local mode has no ${HEARTBEAT} dead-letter queue`);
      await expect(
        purge(testBackend(), withSchedule(), { queue: 'schedule:nope', deadLetter, yes: true }),
      ).rejects.toThrow(
        'unknown schedule "nope" in stack Hookline in us-east-1: use one of schedule:heartbeat',
      );
    }
    expect(sqs.calls()).toHaveLength(0);
  });

  it('says why local mode has none, and names the schedules a stack has for an unknown one', async () => {
    await expect(failedList(testBackend(), localTarget(), { queue: HEARTBEAT })).rejects.toThrow(
      'local mode has no schedule:heartbeat dead-letter queue: it keeps none for schedules, and reports a delivery it could not make in its output',
    );
    await expect(failedList(testBackend(), withSchedule(), { queue: 'schedule:nope' })).rejects.toThrow(
      'unknown schedule "nope" in stack Hookline in us-east-1: use one of schedule:heartbeat',
    );
    await expect(failedList(testBackend(), withSchedule(), { queue: 'nope' })).rejects.toThrow(
      /use one of events, orders, schedule:heartbeat$/,
    );
    expect(sqs.calls()).toHaveLength(0);
  });
});

describe('purge', () => {
  it('refuses without confirmation when nobody can answer', async () => {
    sqs.on(GetQueueAttributesCommand).resolves(depth(3, 0, 0));
    await expect(purge(testBackend(), stackTarget(), { queue: 'events', deadLetter: true })).rejects.toThrow(
      new CliError(
        'refusing to purge the events dead-letter queue without confirmation in a non-interactive shell: pass --yes',
      ),
    );
    expect(sqs).not.toReceiveCommand(PurgeQueueCommand);
  });

  it('purges the DLQ with --yes', async () => {
    sqs.on(GetQueueAttributesCommand).resolves(depth(3, 1, 0));
    sqs.on(PurgeQueueCommand).resolves({});
    const result = await purge(testBackend(), stackTarget(), {
      queue: 'events',
      deadLetter: true,
      yes: true,
    });
    expect(sqs).toReceiveCommandWith(PurgeQueueCommand, { QueueUrl: EVENTS.deadLetterUrl });
    expect(result).toEqual({
      queue: 'events',
      deadLetter: true,
      url: EVENTS.deadLetterUrl,
      purged: 4,
      finishesWithinSeconds: 60,
    });
  });

  it('says how many messages it purged in plain words, one message too, and that SQS may still be deleting them', () => {
    const said = (purged: number, finishesWithinSeconds = 60) => {
      const output = recordingOutput();
      renderPurge(output, {
        queue: 'events',
        deadLetter: true,
        url: EVENTS.deadLetterUrl,
        purged,
        finishesWithinSeconds,
      });
      return output.lines[0];
    };
    expect(said(3, 0)).toBe('purged the events dead-letter queue (~3 messages)');
    expect(said(1)).toBe(
      'purged the events dead-letter queue (~1 message; SQS may take up to 60 s to finish)',
    );
    expect(said(3)).toBe(
      'purged the events dead-letter queue (~3 messages; SQS may take up to 60 s to finish)',
    );
  });

  it('counts delayed messages among those it purges', async () => {
    sqs.on(GetQueueAttributesCommand).resolves(depth(3, 1, 2));
    sqs.on(PurgeQueueCommand).resolves({});
    const result = await purge(testBackend(), stackTarget(), { queue: 'events', yes: true });
    expect(result.purged).toBe(6);
  });

  it('asks on a terminal and stops when the answer is no', async () => {
    sqs.on(GetQueueAttributesCommand).resolves(depth(7, 0, 0));
    const output = recordingOutput({ interactive: true, answer: false });
    await expect(purge(testBackend({ output }), stackTarget(), { queue: 'events' })).rejects.toThrow(
      'purge cancelled',
    );
    expect(output.questions[0]).toMatch(/Delete all 7 messages of the events queue in stack Hookline/);
    expect(sqs).not.toReceiveCommand(PurgeQueueCommand);
  });

  it('purges the queue when the answer is yes', async () => {
    sqs.on(GetQueueAttributesCommand).resolves(depth(7, 0, 0));
    sqs.on(PurgeQueueCommand).resolves({});
    const output = recordingOutput({ interactive: true, answer: true });
    await purge(testBackend({ output }), stackTarget(), { queue: 'events' });
    expect(sqs).toReceiveCommandWith(PurgeQueueCommand, { QueueUrl: EVENTS.url });
  });

  it('explains a purge already in progress', async () => {
    sqs.on(GetQueueAttributesCommand).resolves(depth(7, 0, 0));
    sqs.on(PurgeQueueCommand).rejects(awsError('AWS.SimpleQueueService.PurgeQueueInProgress'));
    await expect(purge(testBackend(), stackTarget(), { queue: 'events', yes: true })).rejects.toThrow(
      /wait a minute/,
    );
  });
});

describe('pause / resume', () => {
  it('disables the event source mapping and, by default, returns only once it reads Disabled', async () => {
    lambda.on(UpdateEventSourceMappingCommand).resolves({ State: 'Disabling' });
    lambda
      .on(GetEventSourceMappingCommand)
      .resolvesOnce({ State: 'Disabling' })
      .resolves({ State: 'Disabled' });
    const backend = testBackend();
    const result = await setConsumerEnabled(backend, stackTarget(), false, { queue: 'events' });
    expect(lambda).toReceiveCommandWith(UpdateEventSourceMappingCommand, {
      UUID: EVENTS.eventSourceMappingId,
      Enabled: false,
    });
    expect(result).toEqual({
      queue: 'events',
      state: 'Disabled',
      eventSourceMappingId: EVENTS.eventSourceMappingId,
    });
    expect(backend.clock.sleeps).toEqual([2000, 2000]);
    // It polls the mapping it updated, not another one.
    for (const call of lambda.commandCalls(GetEventSourceMappingCommand)) {
      expect(call.args[0].input).toEqual({ UUID: EVENTS.eventSourceMappingId });
    }
    expect(backend.output.notes).toEqual([
      'waiting for the events consumer to be Disabled (now Disabling; --no-wait to skip)',
    ]);
  });

  it('notes each state the mapping passes through while it waits, but not the settled one, which is the result', async () => {
    lambda.on(UpdateEventSourceMappingCommand).resolves({ State: 'Updating' });
    lambda
      .on(GetEventSourceMappingCommand)
      .resolvesOnce({ State: 'Updating' })
      .resolvesOnce({ State: 'Disabling' })
      .resolves({ State: 'Disabled' });
    const backend = testBackend();
    const result = await setConsumerEnabled(backend, stackTarget(), false, { queue: 'events' });
    expect(result.state).toBe('Disabled');
    expect(backend.output.notes).toEqual([
      'waiting for the events consumer to be Disabled (now Updating; --no-wait to skip)',
      'events consumer: Disabling',
    ]);
  });

  it('takes one read of the old state for a read that lags the update, and two for another operator undoing it', async () => {
    lambda.on(UpdateEventSourceMappingCommand).resolves({ State: 'Disabling' });
    lambda
      .on(GetEventSourceMappingCommand)
      .resolvesOnce({ State: 'Enabled' })
      .resolvesOnce({ State: 'Disabling' })
      .resolvesOnce({ State: 'Enabled' })
      .resolves({ State: 'Disabled' });
    const paused = await setConsumerEnabled(testBackend(), stackTarget(), false, { queue: 'events' });
    expect(paused.state).toBe('Disabled');

    lambda.reset();
    lambda.on(UpdateEventSourceMappingCommand).resolves({ State: 'Enabling' });
    lambda.on(GetEventSourceMappingCommand).resolves({ State: 'Disabled' });
    await expect(setConsumerEnabled(testBackend(), stackTarget(), true, { queue: 'events' })).rejects.toThrow(
      new CliError(
        'the events consumer is Disabled again: another pause changed it after this resume (another operator, the console or a circuit breaker); run hookline resume events again to resume it',
      ),
    );
  });

  it('with --no-wait returns the state the update answered, without polling', async () => {
    lambda.on(UpdateEventSourceMappingCommand).resolves({ State: 'Enabling' });
    const result = await setConsumerEnabled(testBackend(), stackTarget(), true, {
      queue: 'orders',
      wait: false,
    });
    expect(lambda).toReceiveCommandWith(UpdateEventSourceMappingCommand, {
      UUID: ORDERS.eventSourceMappingId,
      Enabled: true,
    });
    expect(result.state).toBe('Enabling');
  });

  it('gives up waiting with a clear line', async () => {
    lambda.on(UpdateEventSourceMappingCommand).resolves({ State: 'Disabling' });
    lambda.on(GetEventSourceMappingCommand).resolves({ State: 'Disabling' });
    await expect(
      setConsumerEnabled(testBackend(), stackTarget(), false, {
        queue: 'events',
        wait: true,
        waitTimeoutMs: 10_000,
      }),
    ).rejects.toThrow(/still Disabling after 10 s/);
  });

  it('explains a queue without a consumer and a throttled Lambda API', async () => {
    const target = stackTarget();
    const noConsumer = { ...target, queues: { events: { ...EVENTS, eventSourceMappingId: undefined } } };
    await expect(
      setConsumerEnabled(testBackend(), noConsumer as never, false, { queue: 'events' }),
    ).rejects.toThrow(/has no consumer event source mapping/);
    lambda.on(UpdateEventSourceMappingCommand).rejects(awsError('TooManyRequestsException'));
    await expect(setConsumerEnabled(testBackend(), target, false, { queue: 'events' })).rejects.toThrow(
      /throttled/,
    );
  });

  it('local mode: calls the control API', async () => {
    const calls: [string, string | undefined][] = [];
    const backend = testBackend({
      http: async (url, init) => {
        calls.push([url, init?.method]);
        if (url.includes('/nope/')) return new Response('not found', { status: 404 });
        return new Response(JSON.stringify({ state: url.endsWith('/pause') ? 'Disabled' : 'Enabled' }), {
          status: 200,
        });
      },
    });
    const target = {
      ...localTarget(),
      queues: { ...localTarget().queues, nope: { ...EVENTS, name: 'nope' } },
    };
    expect(await setConsumerEnabled(backend, target, false, { queue: 'events' })).toEqual({
      queue: 'events',
      state: 'Disabled',
    });
    expect(await setConsumerEnabled(backend, target, true, { queue: 'events' })).toEqual({
      queue: 'events',
      state: 'Enabled',
    });
    await expect(setConsumerEnabled(backend, target, false, { queue: 'nope' })).rejects.toThrow(
      /has no consumer in local mode/,
    );
    expect(calls).toEqual([
      ['http://127.0.0.1:3000/_hookline/consumers/events/pause', 'POST'],
      ['http://127.0.0.1:3000/_hookline/consumers/events/resume', 'POST'],
      ['http://127.0.0.1:3000/_hookline/consumers/nope/pause', 'POST'],
    ]);
  });

  it('local mode: reports the state local mode answers, else the one asked for; a refusal is an error', async () => {
    let answer = new Response('', { status: 200 });
    const backend = testBackend({ http: async () => answer });
    expect(await setConsumerEnabled(backend, localTarget(), false, { queue: 'events' })).toEqual({
      queue: 'events',
      state: 'Disabled',
    });
    answer = new Response('{}', { status: 200 });
    expect((await setConsumerEnabled(backend, localTarget(), true, { queue: 'events' })).state).toBe(
      'Enabled',
    );
    answer = new Response(JSON.stringify({ consumers: { events: { state: 'Disabling' } } }), { status: 200 });
    expect((await setConsumerEnabled(backend, localTarget(), false, { queue: 'events' })).state).toBe(
      'Disabling',
    );
    // Local mode's own answer names the consumer and its state: that state is shown, not the one asked for.
    answer = new Response(JSON.stringify({ consumer: 'events', state: 'Disabling' }), { status: 200 });
    expect((await setConsumerEnabled(backend, localTarget(), false, { queue: 'events' })).state).toBe(
      'Disabling',
    );
    answer = new Response('{"state":"Disabled"}', { status: 403 });
    await expect(setConsumerEnabled(backend, localTarget(), false, { queue: 'events' })).rejects.toThrow(
      new CliError(
        'local mode refused to pause events (HTTP 403): check the output of local mode (npm start or npx hookline dev)',
      ),
    );
  });

  it('returns at once, with no waiting note, when the update already reads the settled state', async () => {
    // A pause: a resume first reads the mapping once, to tell whether it ends a circuit breaker's pause.
    lambda.on(UpdateEventSourceMappingCommand).resolves({ State: 'Disabled' });
    const backend = testBackend();
    const result = await setConsumerEnabled(backend, stackTarget(), false, { queue: 'events' });
    expect(result.state).toBe('Disabled');
    expect(backend.output.notes).toEqual([]);
    expect(lambda).not.toReceiveCommand(GetEventSourceMappingCommand);
  });

  it("status shows local mode's state file consumer state when the control API does not name it", async () => {
    sqs.on(GetQueueAttributesCommand).resolves(depth(0, 0, 0));
    const backend = testBackend({
      http: async (url) =>
        url.endsWith('/status')
          ? new Response(JSON.stringify({ consumers: {} }), { status: 200 })
          : new Response('{"message":"Not Found"}', { status: 404 }),
    });
    expect((await status(backend, localTarget())).queues[0]?.consumer).toBe('Enabled');
  });

  it('status shows no consumer for a deployed queue without one, without asking Lambda', async () => {
    sqs.on(GetQueueAttributesCommand).resolves(depth(0, 0, 0));
    cloudwatch.on(GetMetricDataCommand).resolves({ MetricDataResults: [] });
    const target: StackTarget = {
      ...stackTarget(),
      queues: { events: { ...EVENTS, eventSourceMappingId: undefined } },
    };
    expect((await status(testBackend(), target)).queues[0]?.consumer).toBeNull();
    expect(lambda).not.toReceiveCommand(GetEventSourceMappingCommand);
  });

  it('local mode: a stopped local mode is one line', async () => {
    const backend = testBackend({
      http: async () => {
        throw Object.assign(new TypeError('fetch failed'), {
          cause: Object.assign(new Error('c'), { code: 'ECONNREFUSED' }),
        });
      },
    });
    await expect(setConsumerEnabled(backend, localTarget(), false, { queue: 'events' })).rejects.toThrow(
      'local mode is not reachable (ECONNREFUSED): start it with npm start or npx hookline dev',
    );
  });
});

describe('replay summary', () => {
  const result = (dryRun: boolean) => ({
    replayId: 'r-1',
    source: 'shop',
    since: '2026-11-30T10:00:00.000Z',
    until: '2026-11-30T10:00:10.000Z',
    dryRun,
    matched: 3,
    planned: 3,
    sent: dryRun ? 0 : 3,
    ignored: 0,
    failed: 0,
    byQueue: { events: 3 },
    failures: [],
    sentUnknown: [],
    archiveRetention: { from: 'bucket-lifecycle' as const, days: 30 },
    archiveLinesSkipped: { lines: 0, objects: 0 },
  });

  it('names the run id of a real run, and none for a dry run (nothing was sent under it)', () => {
    const real = recordingOutput();
    renderReplay(real, result(false));
    expect(real.lines).toContain('replay id r-1 (consumers see it as envelope.replay.id)');
    expect(real.lines.join('\n')).not.toContain('stopped early');
    const dry = recordingOutput();
    renderReplay(dry, result(true));
    expect(dry.lines.join('\n')).toMatch(/matched 3, would send 3 \(events 3\)/);
    expect(dry.lines.join('\n')).not.toContain('replay id');
  });

  it('a run stopped early counts the messages it did not send: planned less sent and failed', () => {
    const output = recordingOutput();
    renderReplay(output, {
      ...result(false),
      matched: 10,
      planned: 10,
      sent: 4,
      failed: 1,
      failures: [{ id: 'evt-5', queue: 'events', reason: 'throttled' }],
      stoppedBy: 'Interrupted: stopped by Ctrl-C',
    });
    expect(output.lines.at(-1)).toBe(
      'stopped early: Interrupted: stopped by Ctrl-C; 5 of 10 messages were not sent (a new replay of the same window sends them all again, as a new run)',
    );
  });
});

describe('replay summary of a run stopped while reading the archive', () => {
  it('counts what the hours it read matched as such, and says nothing was replayed under any run id', () => {
    const output = recordingOutput();
    renderReplay(output, {
      replayId: 'r-1',
      source: 'shop',
      since: '2025-10-28T00:00:00.000Z',
      until: '2026-11-30T10:00:00.000Z',
      dryRun: false,
      matched: 0,
      planned: 0,
      sent: 0,
      ignored: 0,
      failed: 0,
      byQueue: {},
      failures: [],
      sentUnknown: [],
      archiveHoursRead: { read: 1332, of: 9603 },
      archiveRetention: { from: 'none', days: null },
      archiveLinesSkipped: { lines: 0, objects: 0 },
      stoppedBy: 'Interrupted: stopped by Ctrl-C while reading the archive, before anything was sent',
    });
    expect(output.lines.slice(1)).toEqual([
      'matched 0 in the 1332 of 9603 archive hours read, sent 0, ignored by routes 0, failed 0',
      'stopped early: Interrupted: stopped by Ctrl-C while reading the archive, before anything was sent: nothing was replayed (a new replay of the same window reads it all again)',
    ]);
  });
});

describe('redrive summary', () => {
  const result = (over: Partial<RedriveResult>): RedriveResult => ({
    queue: 'events',
    method: 'one-by-one',
    deadLetterDepthBefore: 2,
    deadLetterDepthAfter: 0,
    moved: 2,
    skipped: 0,
    failed: 0,
    notDeleted: 0,
    deleteUnknown: 0,
    returned: 0,
    movedByAnotherRedrive: 0,
    bodyGone: [],
    superseded: [],
    failures: [],
    movedIds: ['evt-1', 'evt-2'],
    notFound: [],
    ...over,
  });

  it('points at failed list only when something is left, and warns only when a message came back', () => {
    const clean = recordingOutput();
    renderRedrive(clean, result({}));
    expect(clean.lines.slice(1)).toEqual([
      'moved 2, skipped 0, failed 0',
      'left in the dead-letter queue: 0',
    ]);

    const left = recordingOutput();
    renderRedrive(left, result({ moved: 1, failed: 1, deadLetterDepthAfter: 1 }));
    expect(left.lines).toContain('left in the dead-letter queue: 1 (hookline failed list events)');
  });

  it('names each failed message by its envelope id, else its sqs id, with the reason, at most 20 of them', () => {
    const failures = Array.from({ length: 25 }, (_, i) => ({
      messageId: `sqs-${i}`,
      id: i === 0 ? null : `evt-${i}`,
      reason: 'SendMessageBatch refused it',
    }));
    const output = recordingOutput();
    renderRedrive(output, result({ moved: 0, failed: 25, failures, deadLetterDepthAfter: 25 }));
    const listed = output.lines.filter((line) => line.startsWith('  '));
    expect(listed).toHaveLength(20);
    expect(listed.slice(0, 2)).toEqual([
      '  sqs-0: SendMessageBatch refused it',
      '  evt-1: SendMessageBatch refused it',
    ]);
  });

  it('says how many debounced dead letters it left because a later send replaced them, and how to delete the first 20 by SQS id', () => {
    const superseded = Array.from({ length: 22 }, (_, i) => ({ messageId: `sqs-${i}`, id: 'doc-1' }));
    const output = recordingOutput();
    renderRedrive(output, result({ moved: 0, superseded, deadLetterDepthAfter: 22 }));
    // By SQS id: a later dead letter of the job, which runs once redriven, has the same envelope id.
    const first20 = superseded.slice(0, 20).map((letter) => letter.messageId);
    expect(output.lines).toContain(
      `22 debounced dead letters left, not moved: a later send of their job replaced them, so their consumer would skip them as superseded and their payload never runs (the job runs the send its record names); delete them: hookline failed delete events --id ${first20.join(' ')} (and 2 more)`,
    );
  });

  it('says an empty dead-letter queue had nothing to move', () => {
    const output = recordingOutput();
    renderRedrive(output, result({ method: 'none', moved: 0, movedIds: [] }));
    expect(output.lines).toEqual(['redrive events: the dead-letter queue is empty, nothing to do']);
  });

  it('says how many messages it left to another redrive running at the same time, and that a followed move task is not its own', () => {
    const output = recordingOutput();
    renderRedrive(output, result({ moved: 0, movedByAnotherRedrive: 2, deadLetterDepthAfter: 2 }));
    expect(output.lines).toContain(
      '2 messages moved by another redrive while this one ran came back to the DLQ: left to that redrive, not moved again (the consumer still fails on them)',
    );

    const followed = recordingOutput();
    renderRedrive(
      followed,
      result({ method: 'move-task', task: { handle: 'h', status: 'COMPLETED', followed: true } }),
    );
    expect(followed.lines[0]).toBe(
      'redrive events: SQS move task h... (COMPLETED), started by another redrive and followed: its counts, not moves of this run',
    );
  });

  it('says how many dead letters another reader held when a redrive of the whole DLQ read it to its end', () => {
    const output = recordingOutput();
    renderRedrive(
      output,
      result({
        fallbackReason: 'StartMessageMoveTask is not available on this endpoint',
        heldByOthers: 3,
        deadLetterDepthAfter: 3,
      }),
    );
    expect(output.lines.slice(1)).toEqual([
      'moved 2, skipped 0, failed 0',
      'left in the dead-letter queue: 3 (hookline failed list events)',
      'about 3 messages were held by another reader (a redrive, the console, another failed list) when this run read the rest of the DLQ, so not moved: run it again once that hold ends (up to 300 s after a redrive stopped); where that reader is a redrive still running, it moves those it selects itself, and the run again finds them gone',
    ]);
  });

  it('says a redrive selecting by type could not read what another reader held when it started, not the rest of the DLQ', () => {
    const output = recordingOutput();
    renderRedrive(output, result({ heldByOthers: 2, deadLetterDepthAfter: 2 }));
    expect(output.lines.at(-1)).toMatch(
      /^about 2 messages were held by another reader .* when this run started and could not be read, so not moved even where the selection matches them: /,
    );
  });

  it('counts messages sent but not deleted and messages that came back, in the plural', () => {
    const output = recordingOutput();
    renderRedrive(output, result({ notDeleted: 2, returned: 3, deadLetterDepthAfter: 5 }));
    expect(output.lines).toContain('moved 2, skipped 0, failed 0, sent but not deleted from the DLQ 2');
    expect(output.lines).toContain(
      '3 redriven messages failed again and came back to the DLQ during this run: fix the consumer (hookline failed list events), then redrive again',
    );
  });

  it('a move task stopped early keeps moving in SQS; a one-by-one run stopped early leaves the rest in the DLQ', () => {
    const task = recordingOutput();
    renderRedrive(
      task,
      result({
        method: 'move-task',
        task: { handle: 'h', status: 'RUNNING' },
        stoppedBy: 'Interrupted: stopped by Ctrl-C',
      }),
    );
    expect(task.lines.at(-1)).toBe(
      'stopped early: Interrupted: stopped by Ctrl-C; the task keeps moving messages in SQS, hookline redrive events follows it again',
    );
    const oneByOne = recordingOutput();
    renderRedrive(oneByOne, result({ stoppedBy: 'Interrupted: stopped by Ctrl-C' }));
    expect(oneByOne.lines.at(-1)).toBe(
      'stopped early: Interrupted: stopped by Ctrl-C; the rest stays in the DLQ, run it again',
    );
  });
});

describe('trace text', () => {
  it('an event without a job record or notes prints its steps alone', () => {
    const output = recordingOutput();
    renderTrace(output, {
      id: 'evt-2',
      steps: [{ at: '2026-11-25T02:00:00.000Z', step: 'received', status: 401 }],
    });
    expect(output.lines).toEqual(['trace evt-2', '2026-11-25T02:00:00.000Z  received      status=401']);
  });

  it('prints one line per step with what is known of it, a zero duration included, then the job state and the notes', () => {
    const output = recordingOutput();
    renderTrace(output, {
      id: 'evt-1',
      source: 'stripe',
      type: 'invoice.paid',
      steps: [
        { at: '2026-11-25T02:00:00.000Z', step: 'received', status: 202, latencyMs: 12.4, outcome: 'queued' },
        { at: '2026-11-25T02:00:00.000Z', step: 'queued', queues: ['events', 'audit'] },
        {
          at: '2026-11-25T02:00:01.000Z',
          step: 'attempt',
          queue: 'events',
          attempt: 1,
          durationMs: 0,
          outcome: 'retried',
          error: `Error: ${'x'.repeat(200)}`,
        },
        {
          at: '2026-11-25T02:05:00.000Z',
          step: 'due',
          dueAt: '2026-11-25T02:05:00.000Z',
          scheduleName: 'job-evt-1',
          pending: true,
          inferred: true,
        },
      ],
      job: { state: 'dead-lettered', reason: 'PermanentError: no customer' },
      notes: ['the archive keeps 7 days'],
    });
    expect(output.lines).toEqual([
      'trace evt-1 stripe invoice.paid',
      '2026-11-25T02:00:00.000Z  received      queued status=202 12ms',
      '2026-11-25T02:00:00.000Z  queued        -> events, audit',
      `2026-11-25T02:00:01.000Z  attempt       queue=events attempt=1 retried took 0ms Error: ${'x'.repeat(150)}...`,
      '2026-11-25T02:05:00.000Z  due           due 2026-11-25T02:05:00.000Z schedule=job-evt-1 (not yet) (inferred)',
      'job state now: dead-lettered (PermanentError: no customer)',
      'the archive keeps 7 days',
    ]);
  });
});
