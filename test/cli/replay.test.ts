/**
 * `hookline replay` against a deployed stack, with the S3 and SQS clients mocked: where archived jobs and
 * scheduled events go when they are replayed.
 */
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import exampleConfig from '../../hookline.config';
import { arrivalArchiveLines } from '../../lambda/consumer/archive-arrivals';
import { type ArchiveRecord, archivePrefix, parseArchiveLines } from '../../lambda/shared/archive';
import { parseTime } from '../../lib/cli/archive';
import type { HttpFetch } from '../../lib/cli/backend';
import { replay } from '../../lib/cli/replay';
import type { LocalTarget } from '../../lib/cli/target';
import { resolveConfig } from '../../lib/config';
import { record } from '../lambda/consumer/fakes';
import {
  EVENTS,
  fakeClock,
  localTestTarget,
  mockCommandClients,
  ORDERS,
  stackTarget,
  testBackend,
} from './helpers';

const clients = mockCommandClients();
const s3 = mockClient(S3Client);
beforeEach(() => s3.reset());

const config = resolveConfig(exampleConfig);
const receivedAt = '2026-11-30T10:15:00.000Z';

/** The archive holds these records of one source, in one object filed under the hour they reached the stream. */
function archiveHolds(source: string, records: readonly ArchiveRecord[], filedAt = new Date(receivedAt)) {
  const key = `${archivePrefix(source, filedAt)}part-1`;
  s3.on(ListObjectsV2Command).resolves({ Contents: [] });
  s3.on(ListObjectsV2Command, { Prefix: archivePrefix(source, filedAt) }).resolves({
    Contents: [{ Key: key }],
  });
  const text = records.map((r) => `${JSON.stringify(r)}\n`).join('');
  s3.on(GetObjectCommand, { Key: key }).resolves({
    Body: { transformToByteArray: async () => new Uint8Array(Buffer.from(text)) } as never,
  });
}

function job(id: string, queue: string): ArchiveRecord {
  return {
    source: 'job',
    origin: 'producer',
    queues: [queue],
    envelope: {
      v: 1,
      id,
      source: 'job',
      type: 'welcome.email',
      receivedAt,
      headers: {},
      contentType: 'application/json',
      body: JSON.stringify({ id, userId: 'u-1' }),
      bodyEncoding: 'utf8',
    } as ArchiveRecord['envelope'],
  };
}

const sentTo = () =>
  clients.sqs.commandCalls(SendMessageBatchCommand).flatMap((call) =>
    (call.args[0].input.Entries ?? []).map((entry) => ({
      queue: call.args[0].input.QueueUrl,
      id: (JSON.parse(entry.MessageBody ?? '{}') as { id: string }).id,
    })),
  );

const window = { since: new Date('2026-11-30T10:00:00.000Z'), until: new Date('2026-11-30T11:00:00.000Z') };

describe('replay of jobs and scheduled events', () => {
  it('sends a job back to the queue it was sent to, not through the webhook routes', async () => {
    archiveHolds('job', [job('job-1', 'orders'), job('job-2', 'events')]);
    clients.sqs.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });
    const target = { ...stackTarget(), archiveBucket: 'archive' };
    const result = await replay(testBackend({ s3: new S3Client({ region: 'us-east-1' }) }), target, config, {
      source: 'job',
      ...window,
    });
    expect(result).toMatchObject({ matched: 2, sent: 2, ignored: 0, byQueue: { orders: 1, events: 1 } });
    expect(sentTo()).toEqual(
      expect.arrayContaining([
        { queue: ORDERS.url, id: 'job-1' },
        { queue: EVENTS.url, id: 'job-2' },
      ]),
    );
  });

  it('reads a --type of exactly * as routes do: every type, dotted ones too', async () => {
    archiveHolds('job', [job('job-1', 'orders'), job('job-2', 'events')]);
    const target = { ...stackTarget(), archiveBucket: 'archive' };
    const backend = testBackend({ s3: new S3Client({ region: 'us-east-1' }) });
    const result = await replay(backend, target, config, {
      source: 'job',
      type: '*',
      ...window,
      dryRun: true,
    });
    expect(result).toMatchObject({ matched: 2, planned: 2 });
  });

  it('finds a job received in the range but first received by its consumer hours later (a delay, a paused consumer)', async () => {
    // Jobs are archived on their consumer's first receive, so this one is filed under 14:00, not 10:00.
    archiveHolds('job', [job('late-job', 'events')], new Date('2026-11-30T14:05:00.000Z'));
    const target = { ...stackTarget(), archiveBucket: 'archive' };
    const backend = testBackend({
      s3: new S3Client({ region: 'us-east-1' }),
      clock: fakeClock(Date.parse('2026-11-30T15:00:00.000Z')),
    });
    const result = await replay(backend, target, config, { source: 'job', ...window, dryRun: true });
    expect(result).toMatchObject({ matched: 1, planned: 1, byQueue: { events: 1 } });
  });

  it('reads a webhook source only up to an hour past --until: it is archived beside its enqueue', async () => {
    archiveHolds('github', [{ ...job('push-1', 'events'), source: 'github', origin: 'webhook' }]);
    const target = { ...stackTarget(), archiveBucket: 'archive' };
    const backend = testBackend({
      s3: new S3Client({ region: 'us-east-1' }),
      clock: fakeClock(Date.parse('2026-11-30T15:00:00.000Z')),
    });
    await replay(backend, target, config, { source: 'github', ...window, dryRun: true });
    const listed = s3.commandCalls(ListObjectsV2Command).map((call) => call.args[0].input.Prefix);
    expect(listed).toEqual(
      ['10', '11', '12'].map((hour) => `archive/source=github/dt=2026-11-30/hour=${hour}/`),
    );
  });

  it('replays an event received exactly at a window boundary in one of two back-to-back windows, not both', async () => {
    // A schedule's event is received at its scheduled time, to the second: on the hour for an hourly one.
    const onTheHour = '2026-11-30T11:00:00.000Z';
    const tick = job('hourly:2026-11-30T11:00:00Z', 'events');
    archiveHolds(
      'schedule',
      [
        {
          ...tick,
          source: 'schedule',
          origin: 'schedule',
          envelope: { ...tick.envelope, source: 'schedule', receivedAt: onTheHour },
        },
      ],
      new Date(onTheHour),
    );
    const target = { ...stackTarget(), archiveBucket: 'archive' };
    const backend = () => testBackend({ s3: new S3Client({ region: 'us-east-1' }) });
    await expect(
      replay(backend(), target, config, { source: 'schedule', ...window, dryRun: true }),
    ).rejects.toThrow(/no archived schedule event/);
    const next = await replay(backend(), target, config, {
      source: 'schedule',
      since: window.until,
      until: new Date('2026-11-30T12:00:00.000Z'),
      dryRun: true,
    });
    expect(next).toMatchObject({ matched: 1 });
  });

  it('tells the operator jobs go back to the queue each was sent to, not through the current routes', async () => {
    archiveHolds('job', [job('job-1', 'orders'), job('job-2', 'events')]);
    const target = { ...stackTarget(), archiveBucket: 'archive' };
    const backend = testBackend({ s3: new S3Client({ region: 'us-east-1' }) });
    await replay(backend, target, config, { source: 'job', ...window, dryRun: true });
    const count = backend.output.notes.find((note) => note.includes('archived job event(s) match'));
    expect(count).toContain('would send 2 message(s) to the queue each was sent to');
    expect(count).not.toContain('routes');
  });

  it('stops between batches once its signal is aborted (Ctrl-C), and says how many it did not send', async () => {
    archiveHolds(
      'job',
      Array.from({ length: 25 }, (_, i) => job(`job-${i}`, 'events')),
    );
    const controller = new AbortController();
    clients.sqs.on(SendMessageBatchCommand).callsFake(async () => {
      controller.abort();
      return { Successful: [], Failed: [] };
    });
    const target = { ...stackTarget(), archiveBucket: 'archive' };
    const result = await replay(testBackend({ s3: new S3Client({ region: 'us-east-1' }) }), target, config, {
      source: 'job',
      to: 'events',
      ...window,
      signal: controller.signal,
    });
    expect(result).toMatchObject({
      planned: 25,
      sent: 10,
      failed: 0,
      stoppedBy: 'Interrupted: stopped by Ctrl-C',
    });
    expect(sentTo()).toHaveLength(10);
  });

  it('stops at a send that fails midway and reports what was sent and what was not, rather than only the error', async () => {
    archiveHolds(
      'job',
      Array.from({ length: 25 }, (_, i) => job(`job-${i}`, 'events')),
    );
    clients.sqs
      .on(SendMessageBatchCommand)
      .resolvesOnce({ Successful: [], Failed: [] })
      .rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    const target = { ...stackTarget(), archiveBucket: 'archive' };
    const result = await replay(testBackend({ s3: new S3Client({ region: 'us-east-1' }) }), target, config, {
      source: 'job',
      ...window,
    });
    expect(result).toMatchObject({ planned: 25, sent: 10, failed: 10, byQueue: { events: 10 } });
    expect(result.stoppedBy).toMatch(/throttled/);
    expect(result.failures.map((f) => f.id)).toEqual(Array.from({ length: 10 }, (_, i) => `job-${i + 10}`));
    expect(clients.sqs.commandCalls(SendMessageBatchCommand)).toHaveLength(2);
  });

  it("lists as failed every message of the batch a send failed in, the other queues' ones too", async () => {
    archiveHolds('job', [
      ...Array.from({ length: 10 }, (_, i) => job(`job-${i}`, 'events')),
      job('job-10', 'events'),
      job('job-11', 'orders'),
    ]);
    clients.sqs
      .on(SendMessageBatchCommand)
      .resolvesOnce({ Successful: [], Failed: [] })
      .rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    const target = { ...stackTarget(), archiveBucket: 'archive' };
    const result = await replay(testBackend({ s3: new S3Client({ region: 'us-east-1' }) }), target, config, {
      source: 'job',
      ...window,
    });
    expect(result).toMatchObject({ planned: 12, sent: 10, failed: 2 });
    expect(result.failures.map((f) => [f.id, f.queue])).toEqual([
      ['job-10', 'events'],
      ['job-11', 'orders'],
    ]);
    expect(result.failures[1]?.reason).toMatch(/throttled/);
  });

  it('is an error when the first send fails: nothing was sent', async () => {
    archiveHolds('job', [job('job-1', 'events')]);
    clients.sqs.on(SendMessageBatchCommand).rejects(new Error('Rate exceeded'));
    const target = { ...stackTarget(), archiveBucket: 'archive' };
    await expect(
      replay(testBackend({ s3: new S3Client({ region: 'us-east-1' }) }), target, config, {
        source: 'job',
        ...window,
      }),
    ).rejects.toThrow(/Rate exceeded/);
  });

  it('shows progress while it reads a range of days from the archive, before anything is sent', async () => {
    archiveHolds('job', [job('job-1', 'events')]);
    clients.sqs.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });
    const target = { ...stackTarget(), archiveBucket: 'archive' };
    const backend = testBackend({ s3: new S3Client({ region: 'us-east-1' }) });
    await replay(backend, target, config, {
      source: 'job',
      since: new Date('2026-11-28T10:00:00.000Z'),
      until: new Date('2026-11-30T11:00:00.000Z'),
    });
    const reading = backend.output.progressUpdates.filter(([label]) => label.includes('archive hours'));
    // 2 days and 2 hours of hour prefixes, and the hour after --until.
    expect(reading.at(-1)).toEqual([expect.stringContaining('job'), 51, 51]);
    expect(reading.length).toBe(51);
  });

  it('stops reading the archive at Ctrl-C and sends nothing, saying so', async () => {
    archiveHolds('job', [job('job-1', 'events')]);
    const controller = new AbortController();
    s3.on(ListObjectsV2Command).callsFake(async () => {
      controller.abort();
      return { Contents: [] };
    });
    const target = { ...stackTarget(), archiveBucket: 'archive' };
    const result = await replay(testBackend({ s3: new S3Client({ region: 'us-east-1' }) }), target, config, {
      source: 'job',
      since: new Date('2026-11-28T10:00:00.000Z'),
      until: new Date('2026-11-30T11:00:00.000Z'),
      signal: controller.signal,
    });
    expect(result).toMatchObject({ sent: 0, planned: 0 });
    expect(result.stoppedBy).toMatch(/while reading the archive/);
    expect(s3.commandCalls(ListObjectsV2Command)).toHaveLength(1);
    expect(clients.sqs.commandCalls(SendMessageBatchCommand)).toHaveLength(0);
  });

  it('refuses to replay from a local archive whose buffered records local mode could not write', async () => {
    archiveHolds('job', [job('job-1', 'events')]);
    const target: LocalTarget = localTestTarget({
      queues: { events: { ...EVENTS, eventSourceMappingId: undefined } as never },
      archiveBucket: 'archive',
    });

    const http: HttpFetch = async () =>
      Response.json(
        { message: 'Error: 3 archive record(s) could not be written to the local S3 (kept to retry): boom' },
        { status: 503 },
      );
    await expect(
      replay(testBackend({ s3: new S3Client({ region: 'us-east-1' }), http }), target, config, {
        source: 'job',
        ...window,
      }),
    ).rejects.toThrow(
      /could not write its buffered archive records \(.*3 archive record\(s\).*\): nothing was replayed/,
    );
    expect(s3.commandCalls(ListObjectsV2Command)).toHaveLength(0);
    expect(clients.sqs.commandCalls(SendMessageBatchCommand)).toHaveLength(0);
  });

  it('does not send an event whose stored body has expired from the payload bucket, and counts it as failed', async () => {
    const big = job('job-big', 'events');
    const stored: ArchiveRecord = {
      ...big,
      envelope: {
        ...big.envelope,
        body: undefined,
        payloadRef: { bucket: 'payloads', key: 'payloads/job/job-big', sizeBytes: 2_000_000 },
      },
    };
    archiveHolds('job', [job('job-1', 'events'), stored]);
    s3.on(HeadObjectCommand).rejects(
      Object.assign(new Error('NotFound'), { name: 'NotFound', $metadata: { httpStatusCode: 404 } }),
    );
    clients.sqs.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });
    const target = { ...stackTarget(), archiveBucket: 'archive' };
    const result = await replay(testBackend({ s3: new S3Client({ region: 'us-east-1' }) }), target, config, {
      source: 'job',
      ...window,
    });
    expect(result).toMatchObject({ matched: 2, planned: 2, sent: 1, failed: 1 });
    expect(result.failures).toEqual([
      { id: 'job-big', queue: 'events', reason: expect.stringMatching(/payloads\/job\/job-big has expired/) },
    ]);
    expect(sentTo()).toEqual([{ queue: EVENTS.url, id: 'job-1' }]);
  });

  it('replays both sends of one job id to a FIFO queue (before and after its dedupe window), not one', async () => {
    const generation = (g: string): ArchiveRecord => {
      const record = job('job-1', 'orders');
      return { ...record, envelope: { ...record.envelope, generation: g } };
    };
    archiveHolds('job', [generation('g-1'), generation('g-2')]);
    clients.sqs.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });
    const target = { ...stackTarget(), archiveBucket: 'archive' };
    await replay(testBackend({ s3: new S3Client({ region: 'us-east-1' }) }), target, config, {
      source: 'job',
      ...window,
    });
    const entries = clients.sqs
      .commandCalls(SendMessageBatchCommand)
      .flatMap((call) => call.args[0].input.Entries ?? []);
    expect(entries).toHaveLength(2);
    expect(new Set(entries.map((e) => e.MessageDeduplicationId)).size).toBe(2);
  });

  it('replays a job on a FIFO queue to the group it was sent with, not the group the queue rule gives a webhook', async () => {
    // The orders queue groups webhooks by the body's `id`; this job was sent with its own group.
    const sent = job('job-1', 'orders').envelope;
    const { lines } = arrivalArchiveLines([record(sent, { groupId: 'customer-42' })], 'orders');
    archiveHolds('job', parseArchiveLines(Buffer.concat(lines).toString('utf8')));
    clients.sqs.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });
    const target = { ...stackTarget(), archiveBucket: 'archive' };
    await replay(testBackend({ s3: new S3Client({ region: 'us-east-1' }) }), target, config, {
      source: 'job',
      ...window,
    });
    const entries = clients.sqs
      .commandCalls(SendMessageBatchCommand)
      .flatMap((call) => call.args[0].input.Entries ?? []);
    expect(entries).toHaveLength(1);
    expect(entries[0]?.MessageGroupId).toBe('customer-42');
    expect(entries[0]?.MessageDeduplicationId).toMatch(/^[0-9a-f]{64}$/);
  });

  it('still sends every event to the one queue --to names', async () => {
    archiveHolds('job', [job('job-1', 'orders')]);
    clients.sqs.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });
    const target = { ...stackTarget(), archiveBucket: 'archive' };
    await replay(testBackend({ s3: new S3Client({ region: 'us-east-1' }) }), target, config, {
      source: 'job',
      to: 'events',
      ...window,
    });
    expect(sentTo()).toEqual([{ queue: EVENTS.url, id: 'job-1' }]);
  });

  it('refuses, before sending anything, a job whose queue the target no longer has, and names --to as the way out', async () => {
    archiveHolds('job', [job('job-1', 'events'), job('job-2', 'retired')]);
    const target = { ...stackTarget(), archiveBucket: 'archive' };
    await expect(
      replay(testBackend({ s3: new S3Client({ region: 'us-east-1' }) }), target, config, {
        source: 'job',
        ...window,
      }),
    ).rejects.toThrow(
      /1 archived event\(s\) of the selection were sent to queue "retired", which .* no longer has: replay them to another queue with --to <queue> \(one of events, orders\)/,
    );
    expect(clients.sqs.commandCalls(SendMessageBatchCommand)).toHaveLength(0);
  });
});

describe('times of --since and --until', () => {
  const now = Date.parse('2026-11-30T12:00:00.000Z');
  const at = (text: string) => parseTime(text, now)?.toISOString();

  it('reads ISO 8601 with a zone, a UTC day and a duration ago', () => {
    expect(at('2026-11-30T10:00:00Z')).toBe('2026-11-30T10:00:00.000Z');
    expect(at('2026-11-30T11:00:00+01:00')).toBe('2026-11-30T10:00:00.000Z');
    expect(at('2026-11-30T10:00Z')).toBe('2026-11-30T10:00:00.000Z');
    expect(at('2026-11-30')).toBe('2026-11-30T00:00:00.000Z');
    expect(at('2h')).toBe('2026-11-30T10:00:00.000Z');
  });

  it('refuses a date-time without a zone, which the machine would read in its own zone', () => {
    expect(at('2026-11-30T10:00:00')).toBeUndefined();
    expect(at('2026-11-30 10:00')).toBeUndefined();
  });

  it('refuses a day or hour that does not exist and trailing text, instead of reading another time', () => {
    expect(at('2026-02-30')).toBeUndefined();
    expect(at('2026-11-30T24:30:00Z')).toBeUndefined();
    expect(at('2026-11-30junk')).toBeUndefined();
    expect(at('2026-11-30T10:00:00Z tomorrow')).toBeUndefined();
  });
});
