/**
 * The console's operations on a deployed stack, with the SDK clients mocked: what the overview, failures and
 * event pages show, and the checks that guard purge and replay.
 */
import { GetMetricDataCommand, type GetMetricDataCommandInput } from '@aws-sdk/client-cloudwatch';
import { GetEventSourceMappingCommand } from '@aws-sdk/client-lambda';
import {
  ChangeMessageVisibilityBatchCommand,
  GetQueueAttributesCommand,
  PurgeQueueCommand,
  ReceiveMessageCommand,
} from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import exampleConfig from '../../hookline.config';
import { CliError } from '../../lib/cli/errors';
import { resolveConfig } from '../../lib/config';
import { unavailableFeed } from '../../lib/console/feed';
import { type ConsoleExtensions, ConsoleOperations, REPLAY_UNAVAILABLE } from '../../lib/console/operations';
import { deadLetterMessage, mockCommandClients, stackTarget, testBackend } from '../cli/helpers';

const clients = mockCommandClients();
const config = resolveConfig(exampleConfig);

function operations(extensions?: ConsoleExtensions) {
  return new ConsoleOperations({
    backend: testBackend(),
    target: stackTarget(),
    config,
    feed: unavailableFeed('no feed for a deployed stack'),
    ...(extensions ? { extensions } : {}),
  });
}

/** The DLQ answers these messages once, then nothing. */
function dlqHolds(...messages: ReturnType<typeof deadLetterMessage>[]) {
  clients.sqs.on(GetQueueAttributesCommand).resolves({ Attributes: { ApproximateNumberOfMessages: '3' } });
  clients.sqs.on(ReceiveMessageCommand).resolvesOnce({ Messages: messages }).resolves({ Messages: [] });
  clients.sqs.on(ChangeMessageVisibilityBatchCommand).resolves({ Successful: [], Failed: [] });
}

const waitForJob = async (ops: ConsoleOperations) => ops.jobs.idle(5);

describe('console operations on a deployed stack', () => {
  it('shows queue rates from the SQS metrics in CloudWatch, and says that there is no live feed', async () => {
    const now = Date.now();
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
    const ops = operations();
    const overview = await ops.overview();
    const events = overview.queues.find((q) => q.queue === 'events');
    expect(events?.visible).toBe(4);
    expect(events?.rates.received.slice(-3)).toEqual([3, 0, 7]);
    expect(events?.rates.failed.slice(-3)).toEqual([0, 2, 0]);
    expect(events?.rates.bucketSeconds).toBe(60);
    expect(overview.ratesNote).toMatch(/CloudWatch SQS metrics/);
    expect(overview.feed.unavailable).toBe('no feed for a deployed stack');
    const rateQuery = asked.find((a) => a.MetricDataQueries?.[0]?.Id === 'q0_received');
    const dimensions = rateQuery?.MetricDataQueries?.map((q) => q.MetricStat?.Metric?.Dimensions?.[0]?.Value);
    expect(dimensions).toEqual(expect.arrayContaining(['Hookline-events', 'Hookline-events-dlq']));
    // Polled every 2 s, but CloudWatch is asked at most once a minute.
    await ops.overview();
    expect(asked.filter((a) => a.MetricDataQueries?.[0]?.Id === 'q0_received')).toHaveLength(1);
  });

  it('groups dead letters by failure reason, those moved by SQS without one under their own heading', async () => {
    dlqHolds(deadLetterMessage(1), deadLetterMessage(2), deadLetterMessage(3, { error: false }));
    const failures = await operations().failures('events');
    expect(failures.groups.map((g) => [g.reason, g.count])).toEqual([
      ['PermanentError: customer cus_1 not found', 2],
      [expect.stringMatching(/^no reason recorded: SQS moved it after maxReceiveCount/), 1],
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

  it('purges only when the queue name was typed, as the page asks', async () => {
    clients.sqs.on(GetQueueAttributesCommand).resolves({ Attributes: { ApproximateNumberOfMessages: '2' } });
    clients.sqs.on(PurgeQueueCommand).resolves({});
    const ops = operations();
    expect(() => ops.purge('events', true, 'yes')).toThrow(CliError);
    expect(() => ops.purge('events', true, '')).toThrow(/type the queue name "events"/);
    expect(clients.sqs.commandCalls(PurgeQueueCommand)).toHaveLength(0);
    const job = ops.purge('events', true, 'events');
    await waitForJob(ops);
    expect(job).toMatchObject({ state: 'done', result: { queue: 'events', deadLetter: true, purged: 2 } });
    expect(clients.sqs.commandCalls(PurgeQueueCommand)[0]?.args[0].input.QueueUrl).toBe(
      stackTarget().queues.events?.deadLetterUrl,
    );
  });

  it('refuses an empty redrive selection and an unknown queue before touching SQS', () => {
    const ops = operations();
    expect(() => ops.redrive('events', { ids: [] })).toThrow(/no event selected/);
    expect(() => ops.redrive('nope', {})).toThrow(/unknown queue "nope"/);
    expect(clients.sqs.calls()).toHaveLength(0);
  });

  it('keeps replay disabled with the reason until a replay function is plugged in, then runs it as a job', async () => {
    expect(() => operations().replay({})).toThrow(REPLAY_UNAVAILABLE);
    const ops = operations({
      replay: async (request, output) => {
        output.progress('replayed', 2).update(2);
        return { replayed: 2, source: request.source };
      },
    });
    const job = ops.replay({ source: 'github' });
    await waitForJob(ops);
    expect(job).toMatchObject({ state: 'done', result: { replayed: 2, source: 'github' } });
    expect(job.progress).toEqual({ done: 2, total: 2, label: 'replayed' });
  });
});
