/**
 * `hookline replay` against a deployed stack, with the S3 and SQS clients mocked: where archived jobs and
 * scheduled events go when they are replayed.
 */

import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import {
  GetBucketLifecycleConfigurationCommand,
  GetObjectCommand,
  HeadObjectCommand,
  type LifecycleRule,
  ListObjectsV2Command,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { SendMessageBatchCommand, type SendMessageBatchCommandInput } from '@aws-sdk/client-sqs';
import { Duration } from 'aws-cdk-lib';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import exampleConfig from '../../hookline.config';
import { arrivalArchiveLines } from '../../lambda/consumer/archive-arrivals';
import { type ArchiveRecord, archivePrefix, parseArchiveLines } from '../../lambda/shared/archive';
import { MESSAGE_ATTRIBUTES } from '../../lambda/shared/envelope';
import { expiryDaysOf, parseTime, readArchive, timeOption } from '../../lib/cli/archive';
import type { HttpFetch } from '../../lib/cli/backend';
import { BackendError, CliError, CredentialsError } from '../../lib/cli/errors';
import { renderReplay } from '../../lib/cli/render';
import { replay } from '../../lib/cli/replay';
import type { LocalTarget } from '../../lib/cli/target';
import { resolveConfig } from '../../lib/config';
import { record } from '../lambda/consumer/fakes';
import { batchRequestTooLong, sqsBatchBytes } from './fake-queue';
import {
  awsError,
  EVENTS,
  fakeClock,
  localTestTarget,
  mockCommandClients,
  ORDERS,
  recordingOutput,
  stackTarget,
  testBackend,
} from './helpers';

const clients = mockCommandClients();
const s3 = mockClient(S3Client);
beforeEach(() => s3.reset());

const config = resolveConfig(exampleConfig);
/** The present of most tests: after the windows they replay (2026-11-30), as a replay's window is. */
const afterWindow = () => fakeClock(Date.parse('2026-11-30T12:00:00.000Z'));
const archived = () => ({ ...stackTarget(), archiveBucket: 'archive' });
const s3Backend = (overrides: Parameters<typeof testBackend>[0] = {}) =>
  testBackend({ clock: afterWindow(), s3: new S3Client({ region: 'us-east-1' }), ...overrides });
const receivedAt = '2026-11-30T10:15:00.000Z';
/** A refusal S3 answers with a status and a code, as the SDK throws it. */
const s3Refusal = (name: string, message: string, httpStatusCode: number) =>
  new S3ServiceException({ name, message, $fault: 'client', $metadata: { httpStatusCode } });

/** The archive holds these records of one source, in one object filed under the hour they reached the stream. */
function archiveHolds(source: string, records: readonly ArchiveRecord[], filedAt = new Date(receivedAt)) {
  const key = `${archivePrefix(source, filedAt)}part-1`;
  s3.on(ListObjectsV2Command).resolves({ Contents: [] });
  archivedDaysAre(source, [archivePrefix(source, filedAt).split('/')[2]?.slice('dt='.length) ?? '']);
  s3.on(ListObjectsV2Command, { Prefix: archivePrefix(source, filedAt) }).resolves({
    Contents: [{ Key: key }],
  });
  const text = records.map((r) => `${JSON.stringify(r)}\n`).join('');
  s3.on(GetObjectCommand, { Key: key }).resolves({
    Body: { transformToByteArray: async () => new Uint8Array(Buffer.from(text)) } as never,
  });
}

/** The UTC days the archive holds objects of `source` under, as S3 lists them with a delimiter. */
function archivedDaysAre(source: string, days: readonly string[]) {
  s3.on(ListObjectsV2Command, { Prefix: `archive/source=${source}/`, Delimiter: '/' }).resolves({
    CommonPrefixes: days.map((day) => ({ Prefix: `archive/source=${source}/dt=${day}/` })),
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

/** Every entry replay sent, in the order it sent them. */
const sentEntries = () =>
  clients.sqs.commandCalls(SendMessageBatchCommand).flatMap((call) => call.args[0].input.Entries ?? []);

const window = { since: new Date('2026-11-30T10:00:00.000Z'), until: new Date('2026-11-30T11:00:00.000Z') };

describe('replay of jobs and scheduled events', () => {
  it('sends a job back to the queue it was sent to, not through the webhook routes', async () => {
    archiveHolds('job', [job('job-1', 'orders'), job('job-2', 'events')]);
    clients.sqs.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });
    const target = archived();
    const result = await replay(s3Backend(), target, config, {
      source: 'job',
      ...window,
    });
    expect(result).toMatchObject({ matched: 2, sent: 2, ignored: null, byQueue: { orders: 1, events: 1 } });
    expect(sentTo()).toEqual(
      expect.arrayContaining([
        { queue: ORDERS.url, id: 'job-1' },
        { queue: EVENTS.url, id: 'job-2' },
      ]),
    );
  });

  it('reads a --type of exactly * as routes do: every type, dotted ones too', async () => {
    archiveHolds('job', [job('job-1', 'orders'), job('job-2', 'events')]);
    const target = archived();
    const backend = s3Backend();
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
    const target = archived();
    const backend = testBackend({
      s3: new S3Client({ region: 'us-east-1' }),
      clock: fakeClock(Date.parse('2026-11-30T15:00:00.000Z')),
    });
    const result = await replay(backend, target, config, { source: 'job', ...window, dryRun: true });
    expect(result).toMatchObject({ matched: 1, planned: 1, byQueue: { events: 1 } });
  });

  it('reads a webhook source from an hour before --since only up to an hour past --until: it is archived beside its enqueue', async () => {
    archiveHolds('github', [{ ...job('push-1', 'events'), source: 'github', origin: 'webhook' }]);
    const target = archived();
    const backend = testBackend({
      s3: new S3Client({ region: 'us-east-1' }),
      clock: fakeClock(Date.parse('2026-11-30T15:00:00.000Z')),
    });
    await replay(backend, target, config, { source: 'github', ...window, dryRun: true });
    const listed = s3.commandCalls(ListObjectsV2Command).map((call) => call.args[0].input.Prefix);
    expect(listed).toEqual(
      ['09', '10', '11', '12'].map((hour) => `archive/source=github/dt=2026-11-30/hour=${hour}/`),
    );
  });

  it('reads only the hours of the days the archive holds for a window of years, however far back --since reaches', async () => {
    archiveHolds('github', [{ ...job('push-1', 'events'), source: 'github', origin: 'webhook' }]);
    const now = Date.parse('2026-11-30T12:00:00.000Z');
    // The earliest a duration ago reaches: listing every hour from then would hold billions of prefixes.
    const since = parseTime('100000000d', now);
    expect(since).toBeDefined();
    const result = await replay(s3Backend(), archived(), config, {
      source: 'github',
      since: since as Date,
      until: window.until,
      dryRun: true,
    });
    expect(result.matched).toBe(1);
    const listed = s3.commandCalls(ListObjectsV2Command).map((call) => call.args[0].input);
    expect(listed[0]).toMatchObject({ Prefix: 'archive/source=github/', Delimiter: '/' });
    expect(listed.slice(1).map((input) => input.Prefix)).toEqual(
      Array.from(
        { length: 13 },
        (_, hour) => `archive/source=github/dt=2026-11-30/hour=${String(hour).padStart(2, '0')}/`,
      ),
    );
  });

  it('reads a webhook source only up to an hour past now when --until is later: nothing was received since', async () => {
    archiveHolds('github', [{ ...job('push-1', 'events'), source: 'github', origin: 'webhook' }]);
    const target = archived();
    const backend = s3Backend();
    await replay(backend, target, config, {
      source: 'github',
      since: window.since,
      until: new Date('2036-11-30T00:00:00.000Z'),
      dryRun: true,
    });
    const listed = s3.commandCalls(ListObjectsV2Command).map((call) => call.args[0].input.Prefix);
    expect(listed).toEqual(
      ['09', '10', '11', '12', '13'].map((hour) => `archive/source=github/dt=2026-11-30/hour=${hour}/`),
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
    const target = archived();
    const backend = () => s3Backend();
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
    const target = archived();
    const backend = s3Backend();
    await replay(backend, target, config, { source: 'job', ...window, dryRun: true });
    const count = backend.output.notes.find((note) => note.includes('archived job events match'));
    expect(count).toContain('would send 2 messages to the queue each was sent to');
    expect(count).not.toContain('routes');
  });

  it('names no replay id for a dry run, in its count line or in --json: no later run sends under it', async () => {
    archiveHolds('job', [job('job-1', 'orders')]);
    const backend = s3Backend();
    const result = await replay(backend, archived(), config, { source: 'job', ...window, dryRun: true });
    expect(result.replayId).toBeNull();
    expect(backend.output.notes.find((note) => note.includes('archived job event matches'))).toBe(
      '1 archived job event matches; would send 1 message to the queue each was sent to (a dry run: nothing is sent, so no replay id)',
    );
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
    const target = archived();
    const result = await replay(s3Backend(), target, config, {
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

  /** Jobs received one second apart from 10:15:00, the i-th at 10:15:i (`at` overrides). */
  const jobsOneSecondApart = (count: number, at: (i: number) => number = (i) => i) =>
    Array.from({ length: count }, (_, i) => {
      const r = job(`job-${i}`, 'events');
      return {
        ...r,
        envelope: {
          ...r.envelope,
          receivedAt: new Date(Date.parse(receivedAt) + at(i) * 1000).toISOString(),
        },
      };
    });
  const abortAfterFirstBatch = () => {
    const controller = new AbortController();
    clients.sqs.on(SendMessageBatchCommand).callsFake(async () => {
      controller.abort();
      return { Successful: [], Failed: [] };
    });
    return controller.signal;
  };

  it('says, when stopped, the --since from which the same replay sends exactly the messages it did not', async () => {
    archiveHolds('job', jobsOneSecondApart(25));
    const stopped = await replay(s3Backend(), archived(), config, {
      source: 'job',
      ...window,
      signal: abortAfterFirstBatch(),
    });
    expect(stopped).toMatchObject({ sent: 10, resumeSince: '2026-11-30T10:15:10.000Z' });
    const output = recordingOutput();
    renderReplay(output, stopped);
    expect(output.lines.join('\n')).toContain(
      'the same replay with --since 2026-11-30T10:15:10.000Z --until 2026-11-30T11:00:00.000Z',
    );

    clients.sqs.reset();
    clients.sqs.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });
    const rest = await replay(s3Backend(), archived(), config, {
      source: 'job',
      since: new Date(stopped.resumeSince as string),
      until: window.until,
    });
    expect(rest).toMatchObject({ matched: 15, sent: 15 });
    expect(sentTo().map((m) => m.id)).toEqual(Array.from({ length: 15 }, (_, i) => `job-${i + 10}`));
  });

  it('names the --since to continue from after a failed send too, the failed batch included', async () => {
    archiveHolds('job', jobsOneSecondApart(25));
    clients.sqs
      .on(SendMessageBatchCommand)
      .resolvesOnce({ Successful: [], Failed: [] })
      .rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    const stopped = await replay(s3Backend(), archived(), config, { source: 'job', ...window });
    expect(stopped).toMatchObject({ sent: 10, failed: 10, resumeSince: '2026-11-30T10:15:10.000Z' });
  });

  it('gives no --since to continue from when a message it sent was received at the same instant as one it did not', async () => {
    // job-9 (sent) and job-10 (not sent) were received at the same second: no --since splits them.
    archiveHolds(
      'job',
      jobsOneSecondApart(25, (i) => (i === 10 ? 9 : i)),
    );
    const stopped = await replay(s3Backend(), archived(), config, {
      source: 'job',
      ...window,
      signal: abortAfterFirstBatch(),
    });
    expect(stopped.sent).toBe(10);
    expect(stopped).not.toHaveProperty('resumeSince');
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
    const target = archived();
    const result = await replay(s3Backend(), target, config, {
      source: 'job',
      ...window,
    });
    expect(result).toMatchObject({ planned: 25, sent: 10, failed: 10, byQueue: { events: 10 } });
    expect(result.stoppedBy).toMatch(/throttled/);
    expect(result.failures.map((f) => f.id)).toEqual(Array.from({ length: 10 }, (_, i) => `job-${i + 10}`));
    expect(clients.sqs.commandCalls(SendMessageBatchCommand)).toHaveLength(2);
  });

  it('stops at a queue the AWS identity may not send to and says what it sent to each queue and what it did not', async () => {
    archiveHolds(
      'job',
      Array.from({ length: 12 }, (_, i) => job(`job-${i}`, i % 2 === 0 ? 'events' : 'orders')),
    );
    clients.sqs.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });
    clients.sqs
      .on(SendMessageBatchCommand, { QueueUrl: ORDERS.url })
      .rejects(
        Object.assign(
          new Error(
            `User: arn:aws:iam::123456789012:user/ops is not authorized to perform: sqs:sendmessage on resource: ${ORDERS.arn}`,
          ),
          { name: 'AccessDenied', $fault: 'client', $metadata: { httpStatusCode: 403, attempts: 1 } },
        ),
      );
    const result = await replay(s3Backend(), archived(), config, { source: 'job', ...window });
    // The first batch's events messages went; its orders ones were refused; the second batch was not sent.
    expect(result).toMatchObject({ planned: 12, sent: 5, failed: 5, byQueue: { events: 5 } });
    expect(result.failures.map((f) => [f.id, f.queue])).toEqual(
      [1, 3, 5, 7, 9].map((i) => [`job-${i}`, 'orders']),
    );
    expect(result.stoppedBy).toMatch(/^access denied in stack Hookline in us-east-1: .*sqs:sendmessage/);
    const output = recordingOutput();
    renderReplay(output, result);
    expect(output.lines[1]).toBe('matched 12, sent 5 (events 5), failed 5');
    expect(output.lines.at(-1)).toMatch(/^stopped early: access denied .*; 2 of 12 messages were not sent/);
  });

  it('says a batch whose send got no answer was sent with its answer not known, not failed, and resumes from it', async () => {
    archiveHolds('job', jobsOneSecondApart(25));
    const gone = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:4566'), { code: 'ECONNREFUSED' });
    clients.sqs.on(SendMessageBatchCommand).resolvesOnce({ Successful: [], Failed: [] }).rejects(gone);
    const stopped = await replay(s3Backend(), archived(), config, { source: 'job', ...window });
    expect(stopped).toMatchObject({
      sent: 10,
      failed: 0,
      failures: [],
      resumeSince: '2026-11-30T10:15:10.000Z',
    });
    expect(stopped.sentUnknown.map((m) => m.id)).toEqual(
      Array.from({ length: 10 }, (_, i) => `job-${i + 10}`),
    );

    const output = recordingOutput();
    renderReplay(output, stopped);
    const text = output.lines.join('\n');
    expect(text).toContain('sent, answer not known 10');
    expect(text).toContain('job-10 -> events: sent, answer not known');
    expect(text).toContain('5 of 25 messages were not sent');
    expect(text).toMatch(
      /sends the 10 whose answer is not known again, and consumers run any that had arrived a second time/,
    );
  });

  it('reports a first send without an answer as a summary, since its messages may have arrived', async () => {
    archiveHolds('job', jobsOneSecondApart(5));
    const gone = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    clients.sqs.on(SendMessageBatchCommand).rejects(gone);
    const stopped = await replay(s3Backend(), archived(), config, { source: 'job', ...window });
    expect(stopped).toMatchObject({ sent: 0, failed: 0 });
    expect(stopped.sentUnknown).toHaveLength(5);
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
    const target = archived();
    const result = await replay(s3Backend(), target, config, {
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

  it("does not list as failed a batch's messages already sent to another queue before a send failed", async () => {
    archiveHolds('job', [
      ...Array.from({ length: 10 }, (_, i) => job(`job-${i}`, 'events')),
      job('job-10', 'orders'),
      job('job-11', 'events'),
    ]);
    clients.sqs
      .on(SendMessageBatchCommand)
      .resolvesOnce({ Successful: [], Failed: [] })
      .resolvesOnce({ Successful: [], Failed: [] })
      .rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    const result = await replay(s3Backend(), archived(), config, { source: 'job', ...window });
    expect(result).toMatchObject({ planned: 12, sent: 11, failed: 1, byQueue: { events: 10, orders: 1 } });
    expect(result.failures.map((f) => [f.id, f.queue])).toEqual([['job-11', 'events']]);
  });

  it('is an error when the first send fails: nothing was sent', async () => {
    archiveHolds('job', [job('job-1', 'events')]);
    clients.sqs.on(SendMessageBatchCommand).rejects(new Error('Rate exceeded'));
    const target = archived();
    await expect(
      replay(s3Backend(), target, config, {
        source: 'job',
        ...window,
      }),
    ).rejects.toThrow(/Rate exceeded/);
  });

  it('shows progress while it reads a range of days from the archive, before anything is sent', async () => {
    archiveHolds('job', [job('job-1', 'events')]);
    clients.sqs.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });
    const target = archived();
    const backend = s3Backend();
    await replay(backend, target, config, {
      source: 'job',
      since: new Date('2026-11-28T10:00:00.000Z'),
      until: new Date('2026-11-30T11:00:00.000Z'),
    });
    const reading = backend.output.progressUpdates.filter(([label]) => label.includes('archive hours'));
    // 2 days and 2 hours of hour prefixes, the hour before --since and the hour after --until.
    expect(reading.at(-1)).toEqual([expect.stringContaining('job'), 52, 52]);
    expect(reading.length).toBe(52);
  });

  it('stops reading the archive at Ctrl-C and sends nothing, saying so', async () => {
    archiveHolds('job', [job('job-1', 'events')]);
    const controller = new AbortController();
    s3.on(ListObjectsV2Command).callsFake(async () => {
      controller.abort();
      return { Contents: [] };
    });
    const target = archived();
    const result = await replay(s3Backend(), target, config, {
      source: 'job',
      since: new Date('2026-11-28T10:00:00.000Z'),
      until: new Date('2026-11-30T11:00:00.000Z'),
      signal: controller.signal,
    });
    expect(result).toMatchObject({ sent: 0, planned: 0, failed: 0, failures: [], byQueue: {} });
    expect(result.stoppedBy).toMatch(/while reading the archive/);
    // Nothing was sent under a run id, so none is named.
    expect(result.replayId).toBeNull();
    // What it matched is of the one hour it read, not of the selection: it says how much of the range that is.
    expect(result.archiveHoursRead?.read).toBe(1);
    expect(result.archiveHoursRead?.of).toBeGreaterThan(50);
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
        { message: 'Error: 3 archive records could not be written to the local S3 (kept to retry): boom' },
        { status: 503 },
      );
    await expect(
      replay(s3Backend({ http }), target, config, {
        source: 'job',
        ...window,
      }),
    ).rejects.toThrow(
      /could not write its buffered archive records \(.*3 archive records.*\): nothing was replayed/,
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
    const target = archived();
    const result = await replay(s3Backend(), target, config, {
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
    const target = archived();
    await replay(s3Backend(), target, config, {
      source: 'job',
      ...window,
    });
    const entries = sentEntries();
    expect(entries).toHaveLength(2);
    expect(new Set(entries.map((e) => e.MessageDeduplicationId)).size).toBe(2);
  });

  it('replays a job on a FIFO queue to the group it was sent with, not the group the queue rule gives a webhook', async () => {
    // The orders queue groups webhooks by the body's `id`; this job was sent with its own group.
    const sent = job('job-1', 'orders').envelope;
    const { lines } = arrivalArchiveLines([record(sent, { groupId: 'customer-42' })], 'orders');
    archiveHolds('job', parseArchiveLines(Buffer.concat(lines).toString('utf8')).records);
    clients.sqs.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });
    const target = archived();
    await replay(s3Backend(), target, config, {
      source: 'job',
      ...window,
    });
    const entries = sentEntries();
    expect(entries).toHaveLength(1);
    expect(entries[0]?.MessageGroupId).toBe('customer-42');
    expect(entries[0]?.MessageDeduplicationId).toMatch(/^[0-9a-f]{64}$/);
  });

  it('replays a job to a standard queue in the tenant it was sent with, without the FIFO deduplication id SQS refuses there', async () => {
    // Received locally the tenant is only an attribute (the emulator drops a standard queue's group).
    const sent = job('job-1', 'events').envelope;
    const tenantAttribute = {
      [MESSAGE_ATTRIBUTES.tenant]: { dataType: 'String', stringValue: 'acct_quiet' },
    };
    const { lines } = arrivalArchiveLines([record(sent, { extraAttributes: tenantAttribute })], 'events');
    archiveHolds('job', parseArchiveLines(Buffer.concat(lines).toString('utf8')).records);
    clients.sqs.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });
    await replay(s3Backend(), archived(), config, { source: 'job', ...window });
    const [entry] = sentEntries();
    expect(entry?.MessageDeduplicationId).toBeUndefined();
    expect(entry?.MessageGroupId).toBe('acct_quiet');
    expect(entry?.MessageAttributes?.[MESSAGE_ATTRIBUTES.tenant]).toEqual({
      DataType: 'String',
      StringValue: 'acct_quiet',
    });
  });

  it('replays a job sent without a tenant to a fair queue without one, not into one tenant shared by every such job', async () => {
    // The producer sends a job without a tenant with no group: SQS counts each as a tenant of its own.
    const fair = resolveConfig({
      ...exampleConfig,
      queues: {
        ...exampleConfig.queues,
        events: { ...exampleConfig.queues.events, tenants: { shopify: { header: 'X-Shopify-Shop-Domain' } } },
      },
    });
    const { lines } = arrivalArchiveLines([record(job('job-2', 'events').envelope)], 'events');
    archiveHolds('job', parseArchiveLines(Buffer.concat(lines).toString('utf8')).records);
    clients.sqs.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });

    await replay(s3Backend(), archived(), fair, { source: 'job', ...window });

    const [entry] = sentEntries();
    expect(entry?.MessageGroupId).toBeUndefined();
    expect(entry?.MessageAttributes?.[MESSAGE_ATTRIBUTES.tenant]).toBeUndefined();
  });

  it('still sends every event to the one queue --to names', async () => {
    archiveHolds('job', [job('job-1', 'orders')]);
    clients.sqs.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });
    const target = archived();
    await replay(s3Backend(), target, config, {
      source: 'job',
      to: 'events',
      ...window,
    });
    expect(sentTo()).toEqual([{ queue: EVENTS.url, id: 'job-1' }]);
  });

  it('refuses, before sending anything, a job whose queue the target no longer has, and names --to as the way out', async () => {
    archiveHolds('job', [job('job-1', 'events'), job('job-2', 'retired')]);
    const target = archived();
    await expect(
      replay(s3Backend(), target, config, {
        source: 'job',
        ...window,
      }),
    ).rejects.toThrow(
      /1 archived event of the selection was sent to queue "retired", which .* no longer has: replay it to another queue with --to <queue> \(one of events, orders\)/,
    );
    expect(clients.sqs.commandCalls(SendMessageBatchCommand)).toHaveLength(0);
  });
});

/** A webhook of `source` as the ingest function archived it, sent to `queues` by the routes of the time. */
function webhook(source: string, id: string, type: string, body: unknown, queues: string[]): ArchiveRecord {
  return {
    source,
    origin: 'webhook',
    queues,
    envelope: {
      v: 1,
      id,
      source,
      type,
      receivedAt,
      headers: {},
      contentType: 'application/json',
      body: JSON.stringify(body),
      bodyEncoding: 'utf8',
    } as ArchiveRecord['envelope'],
  };
}

describe('replay of webhooks', () => {
  it('sends each webhook through the current routes, to the FIFO group the queue rule gives it, with the run marker', async () => {
    archiveHolds('shopify', [
      webhook('shopify', 'sh-1', 'orders/create', { id: 42 }, ['events']),
      webhook('shopify', 'sh-2', 'app/uninstalled', { id: 7 }, ['orders']),
    ]);
    clients.sqs.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });

    const result = await replay(s3Backend(), archived(), config, {
      source: 'shopify',
      ...window,
      replayId: 'run-1',
    });

    expect(result).toMatchObject({
      replayId: 'run-1',
      matched: 2,
      sent: 2,
      byQueue: { orders: 1, events: 1 },
    });
    const entries = clients.sqs
      .commandCalls(SendMessageBatchCommand)
      .flatMap((call) =>
        (call.args[0].input.Entries ?? []).map((entry) => ({ queue: call.args[0].input.QueueUrl, entry })),
      );
    const toOrders = entries.find((e) => e.queue === ORDERS.url)?.entry;
    expect(JSON.parse(toOrders?.MessageBody ?? '{}')).toMatchObject({ id: 'sh-1', replay: { id: 'run-1' } });
    expect(toOrders?.MessageGroupId).toBe('42');
    expect(toOrders?.MessageDeduplicationId).toMatch(/^[0-9a-f]{64}$/);
    expect(toOrders?.MessageAttributes).toEqual({
      'hookline.source': { DataType: 'String', StringValue: 'shopify' },
      'hookline.type': { DataType: 'String', StringValue: 'orders/create' },
      'hookline.id': { DataType: 'String', StringValue: 'sh-1' },
      'hookline.replay': { DataType: 'String', StringValue: 'run-1' },
    });
    const toEvents = entries.find((e) => e.queue === EVENTS.url)?.entry;
    expect(JSON.parse(toEvents?.MessageBody ?? '{}')).toMatchObject({ id: 'sh-2' });
    expect(toEvents?.MessageGroupId).toBeUndefined();
    expect(toEvents?.MessageDeduplicationId).toBeUndefined();
  });

  it('sends a webhook whose grouping value is an integer beyond 2^53 to the group of the digits it was sent with', async () => {
    const record = webhook('shopify', 'sh-9', 'orders/create', {}, ['orders']);
    const body = '{"id":9007199254740993}';
    archiveHolds('shopify', [{ ...record, envelope: { ...record.envelope, body } }]);
    clients.sqs.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });

    await replay(s3Backend(), archived(), config, { source: 'shopify', ...window, replayId: 'run-9' });

    const entries = sentEntries();
    expect(entries.map((e) => e.MessageGroupId)).toEqual(['9007199254740993']);
  });

  it('sends a body with an emoji or U+FFFF as escapes the queue takes, restored exactly by the consumer', async () => {
    // SQS refuses U+FFFE and U+FFFF in a body, and the local emulator everything beyond U+FFFF too (SendMessage:
    // #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF): the ingest escapes them, so a
    // replay sending the archived envelope as it is would be refused where the first delivery was taken.
    const body = { text: 'order 🎉 ready', odd: '\uffff' };
    archiveHolds('shopify', [webhook('shopify', 'sh-1', 'order.🎉', body, ['events'])]);
    clients.sqs.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });

    await replay(s3Backend(), archived(), config, { source: 'shopify', ...window, replayId: 'run-1' });

    const [entry] = sentEntries();
    const sent = entry?.MessageBody ?? '';
    expect(sent).not.toMatch(/[^\t\n\r\x20-\ud7ff\ue000-\ufffd]/);
    expect(JSON.parse(JSON.parse(sent).body)).toEqual(body);
    expect(JSON.parse(sent).type).toBe('order.🎉');
  });

  it("sends a webhook to a fair queue in its tenant's group, with the tenant attribute; one without the value is its source's tenant", async () => {
    const fair = resolveConfig({
      ...exampleConfig,
      queues: {
        ...exampleConfig.queues,
        events: { ...exampleConfig.queues.events, tenants: { shopify: { header: 'X-Shopify-Shop-Domain' } } },
      },
    });
    const withShop = webhook('shopify', 'sh-3', 'app/uninstalled', { id: 7 }, ['events']);
    archiveHolds('shopify', [
      {
        ...withShop,
        envelope: { ...withShop.envelope, headers: { 'x-shopify-shop-domain': 'quiet.myshopify.com' } },
      },
      webhook('shopify', 'sh-4', 'app/uninstalled', { id: 8 }, ['events']),
    ]);
    clients.sqs.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });

    await replay(s3Backend(), archived(), fair, { source: 'shopify', ...window, replayId: 'run-2' });

    const entries = sentEntries();
    const entryOf = (id: string) => entries.find((e) => JSON.parse(e.MessageBody ?? '{}').id === id);
    expect(entryOf('sh-3')?.MessageGroupId).toBe('quiet.myshopify.com');
    expect(entryOf('sh-3')?.MessageAttributes?.['hookline.tenant']).toEqual({
      DataType: 'String',
      StringValue: 'quiet.myshopify.com',
    });
    expect(entryOf('sh-3')?.MessageDeduplicationId).toBeUndefined();
    expect(entryOf('sh-4')?.MessageGroupId).toBe('shopify');
    expect(entryOf('sh-4')?.MessageAttributes?.['hookline.tenant']?.StringValue).toBe('shopify');
  });

  it('sends a Slack interactivity post and a base64 JSON body to the tenant the ingest read from them, not their source', async () => {
    // The ingest reads a Slack form post's `payload` field as its JSON, and a JSON body it keeps in base64 (no
    // textual content type) from its bytes: the tenant path finds the user and the customer there.
    const fair = resolveConfig({
      ...exampleConfig,
      queues: {
        ...exampleConfig.queues,
        events: {
          ...exampleConfig.queues.events,
          tenants: { slack: { path: 'user.id' }, generic: { path: 'customer' } },
        },
      },
    });
    const action = { type: 'block_actions', user: { id: 'U0042' }, actions: [{ action_id: 'approve' }] };
    const interactivity = webhook('slack', 'sl-1', 'block_actions', {}, ['events']);
    const order = { id: 'g-1', type: 'order.created', customer: 'c-42' };
    const binary = webhook('generic', 'g-1', 'order.created', {}, ['events']);
    archiveHolds('slack', [
      {
        ...interactivity,
        envelope: {
          ...interactivity.envelope,
          contentType: 'application/x-www-form-urlencoded',
          body: new URLSearchParams({ payload: JSON.stringify(action) }).toString(),
        },
      },
    ]);
    clients.sqs.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });
    await replay(s3Backend(), archived(), fair, { source: 'slack', ...window, replayId: 'run-3' });
    archiveHolds('generic', [
      {
        ...binary,
        envelope: {
          ...binary.envelope,
          contentType: 'application/octet-stream',
          body: Buffer.from(JSON.stringify(order)).toString('base64'),
          bodyEncoding: 'base64',
        },
      },
    ]);
    await replay(s3Backend(), archived(), fair, { source: 'generic', ...window, replayId: 'run-4' });

    const entries = sentEntries();
    const tenants = entries.map((e) => [
      JSON.parse(e.MessageBody ?? '{}').id,
      e.MessageGroupId,
      e.MessageAttributes?.['hookline.tenant']?.StringValue,
    ]);
    expect(tenants).toEqual([
      ['sl-1', 'U0042', 'U0042'],
      ['g-1', 'c-42', 'c-42'],
    ]);
  });

  it("sends a Twilio form post to the FIFO group of its From field, as the ingest did, not its source's group", async () => {
    const sms = resolveConfig({
      ...exampleConfig,
      sources: { ...exampleConfig.sources, sms: { type: 'twilio' } },
      queues: {
        ...exampleConfig.queues,
        orders: { ...exampleConfig.queues.orders, fifoGrouping: { path: 'From' } },
      },
      routes: [{ source: 'sms', queues: ['orders'] }],
    });
    const inbound = (id: string, from: string) => {
      const record = webhook('sms', id, 'message.received', {}, ['orders']);
      const body = new URLSearchParams({
        MessageSid: id,
        SmsStatus: 'received',
        From: from,
        To: '+15550000',
      });
      return {
        ...record,
        envelope: {
          ...record.envelope,
          contentType: 'application/x-www-form-urlencoded',
          body: body.toString(),
        },
      };
    };
    archiveHolds('sms', [inbound('SM1', '+15551111'), inbound('SM2', '+15552222')]);
    clients.sqs.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });

    await replay(s3Backend(), archived(), sms, { source: 'sms', ...window, replayId: 'run-7' });

    const entries = sentEntries();
    expect(entries.map((e) => e.MessageGroupId)).toEqual(['+15551111', '+15552222']);
  });

  it('sends a JSON body after a byte order mark to the FIFO group of its value, as the ingest did', async () => {
    const record = webhook('shopify', 'sh-5', 'orders/create', {}, ['orders']);
    archiveHolds('shopify', [{ ...record, envelope: { ...record.envelope, body: '\ufeff{"id":42}' } }]);
    clients.sqs.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });

    await replay(s3Backend(), archived(), config, { source: 'shopify', ...window, replayId: 'run-5' });

    const entries = sentEntries();
    expect(entries.map((e) => e.MessageGroupId)).toEqual(['42']);
  });

  it('reads back the stored body of a webhook archived claim-checked to find its FIFO group, and sends it without the body', async () => {
    const big = webhook('shopify', 'sh-6', 'orders/create', {}, ['orders']);
    const payloadRef = { bucket: 'payloads', key: 'payloads/shopify/sh-6', sizeBytes: 1_100_000 };
    const { body: _archivedWithout, ...envelope } = big.envelope;
    archiveHolds('shopify', [{ ...big, envelope: { ...envelope, payloadRef } }]);
    s3.on(HeadObjectCommand).resolves({});
    const stored = JSON.stringify({ id: 77, note: 'x'.repeat(1_100_000) });
    s3.on(GetObjectCommand, { Bucket: 'payloads', Key: payloadRef.key }).resolves({
      Body: { transformToByteArray: async () => new Uint8Array(Buffer.from(stored)) } as never,
    });
    clients.sqs.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });

    const result = await replay(s3Backend(), archived(), config, { source: 'shopify', ...window });

    expect(result).toMatchObject({ sent: 1, failed: 0 });
    const [entry] = sentEntries();
    expect(entry?.MessageGroupId).toBe('77');
    const sent = JSON.parse(entry?.MessageBody ?? '{}');
    expect(sent.payloadRef).toEqual(payloadRef);
    expect(sent.body).toBeUndefined();
  });

  it('stops at a stored body it cannot read back for its group, saying which and why, with nothing sent', async () => {
    const big = webhook('shopify', 'sh-7', 'orders/create', {}, ['orders']);
    const payloadRef = { bucket: 'payloads', key: 'payloads/shopify/sh-7', sizeBytes: 1_100_000 };
    const { body: _archivedWithout, ...envelope } = big.envelope;
    archiveHolds('shopify', [{ ...big, envelope: { ...envelope, payloadRef } }]);
    s3.on(HeadObjectCommand).resolves({});
    s3.on(GetObjectCommand, { Bucket: 'payloads', Key: payloadRef.key }).rejects(
      s3Refusal('SlowDown', 'Please reduce your request rate.', 503),
    );
    clients.sqs.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });

    await expect(replay(s3Backend(), archived(), config, { source: 'shopify', ...window })).rejects.toThrow(
      /cannot read the stored body s3:\/\/payloads\/payloads\/shopify\/sh-7 of event sh-7 to find its message group/,
    );
    expect(clients.sqs.commandCalls(SendMessageBatchCommand)).toHaveLength(0);
  });

  it('stops at an archive object that is not the GZIP Firehose writes, naming it and the fix, with nothing sent', async () => {
    const key = `${archivePrefix('shopify', new Date(receivedAt))}part-1`;
    archiveHolds('shopify', []);
    // GZIP's magic bytes, then bytes no GZIP stream holds: an object cut short or put by hand.
    s3.on(GetObjectCommand, { Key: key }).resolves({
      Body: { transformToByteArray: async () => new Uint8Array([0x1f, 0x8b, 1, 2, 3]) } as never,
    });

    const replaying = replay(s3Backend(), archived(), config, { source: 'shopify', ...window });

    await expect(replaying).rejects.toThrow(CliError);
    await expect(replaying).rejects.toThrow(
      `the archive object s3://archive/${key} cannot be read: it is not the GZIP a delivery stream writes (unknown compression method): nothing was replayed; move it out of archive/ (aws s3 mv s3://archive/${key} s3://archive/archive-errors/unreadable/${key}, where the lifecycle expires it with the archive), then run the replay again`,
    );
    expect(clients.sqs.commandCalls(SendMessageBatchCommand)).toHaveLength(0);
  });

  it('says an archive object moved to an archival storage class must be restored, not that access is denied', async () => {
    const key = `${archivePrefix('shopify', new Date(receivedAt))}part-1`;
    archiveHolds('shopify', []);
    s3.on(GetObjectCommand, { Key: key }).rejects(
      s3Refusal('InvalidObjectState', 'The operation is not valid for the object storage class', 403),
    );

    const replaying = replay(s3Backend(), archived(), config, { source: 'shopify', ...window });

    await expect(replaying).rejects.toThrow(CliError);
    await expect(replaying).rejects.toThrow(
      `the archive object s3://archive/${key} cannot be read: it is in an archival storage class (InvalidObjectState: S3 Glacier Flexible Retrieval, Deep Archive or an Intelligent-Tiering archive tier), which S3 reads only once it is restored: nothing was replayed; restore the window's objects (aws s3api restore-object), or remove the lifecycle rule that moves archive/ objects there, then run the replay again`,
    );
    expect(clients.sqs.commandCalls(SendMessageBatchCommand)).toHaveLength(0);
  });

  it('counts a webhook the current routes ignore, and sends it nowhere', async () => {
    archiveHolds('github', [
      webhook('github', 'gh-1', 'push', {}, ['events']),
      webhook('github', 'gh-2', 'ping', {}, ['events']),
    ]);
    clients.sqs.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });
    const result = await replay(s3Backend(), archived(), config, { source: 'github', ...window });
    expect(result).toMatchObject({ matched: 2, planned: 1, sent: 1, ignored: 1, failed: 0 });
    expect(result.stoppedBy).toBeUndefined();
    expect(sentTo()).toEqual([{ queue: EVENTS.url, id: 'gh-1' }]);
  });

  it('reports no count of events ignored by the routes when --to sends every event, in the summary and in --json', async () => {
    archiveHolds('github', [
      webhook('github', 'gh-1', 'push', {}, ['events']),
      webhook('github', 'gh-2', 'ping', {}, ['events']),
    ]);
    clients.sqs.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });
    const result = await replay(s3Backend(), archived(), config, {
      source: 'github',
      to: 'orders',
      ...window,
    });
    // The routes would ignore gh-2 (ping); --to sends it with the rest.
    expect(result).toMatchObject({ matched: 2, planned: 2, sent: 2, ignored: null, byQueue: { orders: 2 } });
    const output = recordingOutput();
    renderReplay(output, result);
    expect(output.lines[1]).toBe('matched 2, sent 2 (orders 2), failed 0');
    const routed = await replay(s3Backend(), archived(), config, {
      source: 'github',
      ...window,
      dryRun: true,
    });
    renderReplay(output, routed);
    expect(output.lines.at(-1)).toBe('matched 2, would send 1 (events 1), ignored by routes 1, failed 0');
  });

  it('ends a replay whose every event the routes ignore without sending, and not as stopped', async () => {
    archiveHolds('github', [webhook('github', 'gh-2', 'ping', {}, ['events'])]);
    const result = await replay(s3Backend(), archived(), config, { source: 'github', ...window });
    expect(result).toMatchObject({ matched: 1, planned: 0, sent: 0, ignored: 1, failed: 0 });
    expect(result.stoppedBy).toBeUndefined();
    expect(clients.sqs.calls()).toHaveLength(0);
  });

  it('replays only the archived events whose type matches --type, and refuses one that matches none', async () => {
    archiveHolds('github', [
      webhook('github', 'gh-1', 'push', {}, ['events']),
      webhook('github', 'gh-2', 'issues.opened', {}, ['events']),
    ]);
    const result = await replay(s3Backend(), archived(), config, {
      source: 'github',
      type: 'issues.*',
      ...window,
      dryRun: true,
    });
    expect(result).toMatchObject({ type: 'issues.*', matched: 1, planned: 1 });
    await expect(
      replay(s3Backend(), archived(), config, { source: 'github', type: 'release', ...window, dryRun: true }),
    ).rejects.toThrow(
      new CliError(
        'no archived github event of type "release" was received between 2026-11-30T10:00:00.000Z and 2026-11-30T11:00:00.000Z: nothing was replayed',
      ),
    );
  });
});

describe('replay of a source removed from the configuration', () => {
  it('sends its archived events to the queue --to names, saying that the source is not configured', async () => {
    archiveHolds('gitlab', [webhook('gitlab', 'gl-1', 'push', { ref: 'main' }, ['events'])]);
    clients.sqs.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });
    const output = recordingOutput();

    const result = await replay({ ...s3Backend(), output }, archived(), config, {
      source: 'gitlab',
      to: 'events',
      ...window,
    });

    expect(result).toMatchObject({ matched: 1, sent: 1, byQueue: { events: 1 } });
    expect(sentTo()).toEqual([{ queue: EVENTS.url, id: 'gl-1' }]);
    expect(output.notes[0]).toBe(
      'source "gitlab" is not in the configuration (github, stripe, slack, shopify, standard, generic, schedule, job): replaying its archived events anyway, to events, as a source removed from it keeps its events in the archive',
    );
  });

  it('refuses with --to a name the archive holds no event of, as a selection that matches nothing', async () => {
    archiveHolds('gitlab', []);
    await expect(
      replay(s3Backend(), archived(), config, { source: 'githb', to: 'events', ...window }),
    ).rejects.toThrow(
      new CliError(
        'no archived githb event was received between 2026-11-30T10:00:00.000Z and 2026-11-30T11:00:00.000Z: nothing was replayed; "githb" is not a configured source either (did you mean github?)',
      ),
    );
    expect(clients.sqs.calls()).toHaveLength(0);
  });
});

describe('replay of archive objects holding lines that are not archive records', () => {
  /** The archive holds these objects of `source` under one hour: each a list of its lines, as they were written. */
  function archiveObjects(source: string, objects: readonly (readonly string[])[]) {
    const prefix = archivePrefix(source, new Date(receivedAt));
    archiveHolds(source, []);
    const keys = objects.map((_, i) => `${prefix}part-${i + 1}`);
    s3.on(ListObjectsV2Command, { Prefix: prefix }).resolves({ Contents: keys.map((Key) => ({ Key })) });
    for (const [i, lines] of objects.entries()) {
      const bytes = gzipSync(Buffer.from(`${lines.join('\n')}\n`));
      s3.on(GetObjectCommand, { Key: keys[i] }).resolves({
        Body: { transformToByteArray: async () => new Uint8Array(bytes) } as never,
      });
    }
  }
  const line = (record: ArchiveRecord) => JSON.stringify(record);

  it('counts them and says so, in a note and in --json, changing no count of events', async () => {
    const torn = line(job('job-torn', 'events')).slice(0, 50);
    archiveObjects('job', [
      [line(job('job-1', 'events')), torn, '{"written":"by another tool"}'],
      [line(job('job-2', 'events'))],
    ]);
    clients.sqs.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });
    const output = recordingOutput();

    const result = await replay({ ...s3Backend(), output }, archived(), config, { source: 'job', ...window });

    expect(result).toMatchObject({ matched: 2, planned: 2, sent: 2, failed: 0 });
    expect(result.archiveLinesSkipped).toEqual({ lines: 2, objects: 1 });
    expect(output.notes).toContain(
      '2 lines in 1 archive object were not archive records and were skipped (a line cut short, or one another writer put there): they hold no event, so no count of events includes them',
    );
  });

  it('says the one line it skipped in the singular, before a selection that matched nothing', async () => {
    archiveObjects('job', [['not json']]);
    const output = recordingOutput();

    await expect(
      replay({ ...s3Backend(), output }, archived(), config, { source: 'job', ...window }),
    ).rejects.toThrow(/^no archived job event was received between/);
    expect(output.notes).toContain(
      '1 line in 1 archive object was not an archive record and was skipped (a line cut short, or one another writer put there): they hold no event, so no count of events includes them',
    );
  });

  it('reports none skipped, with no note, when every line is a record', async () => {
    archiveObjects('job', [[line(job('job-1', 'events'))]]);
    clients.sqs.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });
    const output = recordingOutput();

    const result = await replay({ ...s3Backend(), output }, archived(), config, {
      source: 'job',
      dryRun: true,
      ...window,
    });

    expect(result.matched).toBe(1);
    expect(result.archiveLinesSkipped).toEqual({ lines: 0, objects: 0 });
    expect(output.notes.join('\n')).not.toContain('skipped');
  });
});

describe('replay refuses before reading the archive', () => {
  it.each([
    ['an empty --source', { source: '' }, '--source is empty: name one configured source'],
    ['a blank --source', { source: '  ' }, '--source is empty: name one configured source'],
    [
      'an unknown source without --to',
      { source: 'gitlab' },
      'unknown source "gitlab": use one of github, stripe, slack, shopify, standard, generic, schedule, job; a source removed from the configuration has no route: replay its archived events with --to <queue> (one of events, orders)',
    ],
    [
      'a --source with --to that no source could have',
      { source: 'Git/Lab', to: 'events' },
      /^--source "Git\/Lab" is not a source name: source names are /,
    ],
    [
      'a --source without --to that no source could have, rather than advise a --to that would refuse it',
      { source: 'Git/Lab' },
      /^--source "Git\/Lab" is not a source name: source names are /,
    ],
    ['an empty --type', { type: '' }, '--type is empty: give a type pattern such as "invoice.*"'],
    ['a blank --type', { type: ' ' }, '--type is empty: give a type pattern such as "invoice.*"'],
    ['an invalid --type', { type: 'a.***' }, /^--type "a\.\*\*\*" is not a valid type pattern: /],
    [
      '--since equal to --until',
      { since: window.until },
      '--since 2026-11-30T11:00:00.000Z is not before --until 2026-11-30T11:00:00.000Z: the window holds nothing, so nothing was replayed; give a --since earlier than --until (a duration counts back from now: --since 2h --until 1h)',
    ],
    ['an unknown --to queue', { to: 'nope' }, /unknown queue "nope"/],
    [
      'an empty --to',
      { to: '' },
      /^--to is empty: name the queue to send every event to \(one of [a-z, ]+\), or leave --to out to send each event through the current routes$/,
    ],
    [
      'a blank --to',
      { to: '  ' },
      /^--to is empty: name the queue to send every event to \(one of [a-z, ]+\), or leave --to out to send each event through the current routes$/,
    ],
    [
      'a window in the future',
      { since: new Date('2026-12-01T00:00:00.000Z'), until: new Date('2026-12-02T00:00:00.000Z') },
      '--since 2026-12-01T00:00:00.000Z is in the future (it is 2026-11-30T12:00:00.000Z): nothing was received in that window, so nothing was replayed; give a time in the past or a duration ago (2h)',
    ],
    [
      'a --since in the future without --until, which ends the window now',
      { since: new Date('2026-12-01T00:00:00.000Z'), until: undefined },
      '--since 2026-12-01T00:00:00.000Z is in the future (it is 2026-11-30T12:00:00.000Z): nothing was received in that window, so nothing was replayed; give a time in the past or a duration ago (2h)',
    ],
  ] as const)('%s', async (_, options, message) => {
    archiveHolds('job', [job('job-1', 'events')]);
    const error = await replay(s3Backend(), archived(), config, {
      source: 'job',
      ...window,
      ...options,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CliError);
    if (typeof message === 'string') expect((error as Error).message).toBe(message);
    else expect((error as Error).message).toMatch(message);
    expect(s3.calls()).toHaveLength(0);
    expect(clients.sqs.calls()).toHaveLength(0);
  });

  it('a target without an event archive', async () => {
    await expect(replay(s3Backend(), stackTarget(), config, { source: 'job', ...window })).rejects.toThrow(
      'stack Hookline in us-east-1 has no event archive: enable archive in hookline.config.ts and deploy (or restart local mode)',
    );
  });

  it("a job's queue whose outputs the stack does not publish, before sending any job", async () => {
    archiveHolds('job', [job('job-1', 'events'), job('job-2', 'orders')]);
    clients.sqs.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });
    const target = { ...archived(), queues: { events: EVENTS }, queuesMissingOutputs: ['orders'] };
    await expect(replay(s3Backend(), target, config, { source: 'job', ...window })).rejects.toThrow(/orders/);
    expect(clients.sqs.commandCalls(SendMessageBatchCommand)).toHaveLength(0);
  });

  it('a stored body it cannot check (a missing grant): never counted as expired', async () => {
    const big = job('job-big', 'events');
    archiveHolds('job', [
      {
        ...big,
        envelope: { ...big.envelope, body: undefined, payloadRef: { bucket: 'p', key: 'k', sizeBytes: 9 } },
      },
    ]);
    s3.on(HeadObjectCommand).rejects(
      Object.assign(new Error('Access Denied'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } }),
    );
    await expect(replay(s3Backend(), archived(), config, { source: 'job', ...window })).rejects.toThrow(
      new BackendError(
        'cannot check the stored body s3://p/k of an archived event (access denied in stack Hookline in us-east-1: Access Denied (grant your AWS identity s3:GetObject and s3:ListBucket)): nothing was replayed',
      ),
    );
    expect(clients.sqs.calls()).toHaveLength(0);
    expect(s3).toReceiveCommandWith(HeadObjectCommand, { Bucket: 'p', Key: 'k' });
  });
});

describe("replay of a window reaching before the archive's retention", () => {
  // Kept one day: at 2026-11-30T12:00 every object created before 2026-11-29T00:00 has expired (S3 expires it at
  // the midnight after its creation plus a day); filed two hours earlier at most, from 2026-11-28T22:00 on.
  const keptOneDay = resolveConfig({ ...exampleConfig, archive: { retention: Duration.days(1) } });
  const webhook = (id: string) => ({ ...job(id, 'events'), source: 'github', origin: 'webhook' as const });
  const sinceNovember = { since: new Date('2026-11-01T00:00:00.000Z'), until: window.until };
  const listed = () => s3.commandCalls(ListObjectsV2Command).map((call) => call.args[0].input.Prefix);
  /**
   * The window was read from its first hour on (no retention cut it), on the days the archive holds: a window this
   * long lists the source's days first, and reads no hour of a day it does not hold (2026-11-01 to 29 here).
   */
  const expectWholeWindowRead = () => {
    expect(listed()[0]).toBe('archive/source=github/');
    expect(listed()[1]).toBe('archive/source=github/dt=2026-10-31/hour=23/');
    expect(listed().slice(2, 4)).toEqual([
      'archive/source=github/dt=2026-11-30/hour=00/',
      'archive/source=github/dt=2026-11-30/hour=01/',
    ]);
  };
  /** A dry run of github's archive over November, as `target` on `backend` with `configuration`. */
  const dryRunSinceNovember = (
    backend: ReturnType<typeof s3Backend>,
    target: Parameters<typeof replay>[1],
    configuration: typeof config,
  ) => replay(backend, target, configuration, { source: 'github', ...sinceNovember, dryRun: true });
  /** One github webhook archived, on days the archive holds either side of November (none within it). */
  const archiveHoldsAcrossNovember = () => {
    archiveHolds('github', [webhook('push-1')]);
    archivedDaysAre('github', ['2026-10-30', '2026-10-31', '2026-11-30']);
  };
  /** The bucket's rules as the stack creates them, expiring archived objects after `days`. */
  const lifecycleExpires = (days: number) =>
    s3.on(GetBucketLifecycleConfigurationCommand, { Bucket: 'archive' }).resolves({
      Rules: [
        {
          ID: 'ArchiveRetention',
          Status: 'Enabled',
          Filter: { Prefix: 'archive/' },
          Expiration: { Days: days },
        },
        {
          ID: 'ArchiveErrorRetention',
          Status: 'Enabled',
          Filter: { Prefix: 'archive-errors/' },
          Expiration: { Days: days },
        },
        {
          ID: 'AbortIncompleteUploads',
          Status: 'Enabled',
          Filter: { Prefix: '' },
          AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
        },
      ],
    });

  it("lists only the hours the bucket's lifecycle rule left, not archive.retention's, and says so in a note and in the result", async () => {
    archiveHolds('github', [webhook('push-1')]);
    lifecycleExpires(1);
    const backend = s3Backend();
    // The configuration keeps 90 days (the default); the rule, changed outside a deploy, keeps one.
    const result = await dryRunSinceNovember(backend, archived(), config);
    expect(listed()[0]).toBe('archive/source=github/dt=2026-11-28/hour=22/');
    expect(listed()).toHaveLength(2 + 24 + 13);
    expect(result).toMatchObject({
      matched: 1,
      archiveExpiredBefore: '2026-11-28T22:00:00.000Z',
      archiveRetention: { from: 'bucket-lifecycle', days: 1 },
    });
    expect(backend.output.notes.slice(0, 1)).toEqual([
      "the event archive keeps events 1 day (the archive bucket's lifecycle rule): its objects before 2026-11-28T22:00:00.000Z have expired, so the window is read from then",
    ]);
  });

  it('lists every hour of the window when the lifecycle rule keeps longer than archive.retention says', async () => {
    archiveHoldsAcrossNovember();
    lifecycleExpires(90);
    const result = await dryRunSinceNovember(s3Backend(), archived(), keptOneDay);
    expectWholeWindowRead();
    expect(result.matched).toBe(1);
    expect(result).not.toHaveProperty('archiveExpiredBefore');
    expect(result.archiveRetention).toEqual({ from: 'bucket-lifecycle', days: 90 });
  });

  it('lists a window within the retention as it is, without the field', async () => {
    archiveHolds('github', [webhook('push-1')]);
    lifecycleExpires(1);
    const result = await replay(s3Backend(), archived(), keptOneDay, {
      source: 'github',
      ...window,
      dryRun: true,
    });
    expect(result.matched).toBe(1);
    expect(result).not.toHaveProperty('archiveExpiredBefore');
  });

  it('refuses a window wholly before the retention, naming it and where it was read, before listing anything', async () => {
    lifecycleExpires(1);
    const error = await replay(s3Backend(), archived(), config, {
      source: 'github',
      since: new Date('2026-11-20T00:00:00.000Z'),
      until: new Date('2026-11-21T00:00:00.000Z'),
    }).catch((e: unknown) => e);
    expect(error).toEqual(
      new CliError(
        "--since 2026-11-20T00:00:00.000Z to --until 2026-11-21T00:00:00.000Z lies wholly before the event archive's retention (1 day, the archive bucket's lifecycle rule): the archive expired every object of that window, so nothing was replayed; give a window after 2026-11-28T22:00:00.000Z",
      ),
    );
    expect(s3.commandCalls(ListObjectsV2Command)).toHaveLength(0);
  });

  it('applies archive.retention when the lifecycle rules cannot be read, and says which one it shows', async () => {
    archiveHolds('github', [webhook('push-1')]);
    s3.on(GetBucketLifecycleConfigurationCommand).rejects(s3Refusal('AccessDenied', 'Access Denied', 403));
    const backend = s3Backend();
    const result = await dryRunSinceNovember(backend, archived(), keptOneDay);
    expect(listed()[0]).toBe('archive/source=github/dt=2026-11-28/hour=22/');
    expect(result).toMatchObject({
      matched: 1,
      archiveExpiredBefore: '2026-11-28T22:00:00.000Z',
      archiveRetention: { from: 'configuration', days: 1 },
    });
    expect(backend.output.notes.slice(0, 2)).toEqual([
      "cannot read the archive bucket's lifecycle rules (AccessDenied; reading them needs s3:GetLifecycleConfiguration): the retention applied is archive.retention in the configuration (1 day), which a rule changed outside a deploy would not match",
      'the event archive keeps events 1 day (archive.retention in the configuration): its objects before 2026-11-28T22:00:00.000Z have expired, so the window is read from then',
    ]);
  });

  it('says a bucket whose lifecycle expires nothing keeps every object, and reads the whole window', async () => {
    archiveHoldsAcrossNovember();
    s3.on(GetBucketLifecycleConfigurationCommand).rejects(
      s3Refusal('NoSuchLifecycleConfiguration', 'The lifecycle configuration does not exist', 404),
    );
    const backend = s3Backend();
    const result = await dryRunSinceNovember(backend, archived(), keptOneDay);
    expectWholeWindowRead();
    expect(result).not.toHaveProperty('archiveExpiredBefore');
    expect(result.archiveRetention).toEqual({ from: 'none', days: null });
    expect(backend.output.notes.slice(0, 1)).toEqual([
      'the archive bucket has no enabled lifecycle rule expiring every archive/source=github/ object: the whole window is read',
    ]);
  });

  it("applies a rule that expires this source's records alone, as it applies the stack's", async () => {
    archiveHolds('github', [webhook('push-1')]);
    s3.on(GetBucketLifecycleConfigurationCommand, { Bucket: 'archive' }).resolves({
      Rules: [
        {
          ID: 'GithubRetention',
          Status: 'Enabled',
          Filter: { Prefix: 'archive/source=github/' },
          Expiration: { Days: 1 },
        },
      ],
    });
    const result = await dryRunSinceNovember(s3Backend(), archived(), config);
    expect(listed()[0]).toBe('archive/source=github/dt=2026-11-28/hour=22/');
    expect(result).toMatchObject({ matched: 1, archiveExpiredBefore: '2026-11-28T22:00:00.000Z' });
  });

  it('reads the whole window when the lifecycle rules cannot be read and the configuration keeps no archive, and says so', async () => {
    archiveHoldsAcrossNovember();
    s3.on(GetBucketLifecycleConfigurationCommand).rejects(s3Refusal('AccessDenied', 'Access Denied', 403));
    const withoutArchive = resolveConfig({ ...exampleConfig, archive: { enabled: false } });
    expect(withoutArchive.archive).toBeUndefined();
    const backend = s3Backend();
    const result = await dryRunSinceNovember(backend, archived(), withoutArchive);
    expectWholeWindowRead();
    expect(result).not.toHaveProperty('archiveExpiredBefore');
    expect(result.archiveRetention).toEqual({ from: 'none', days: null });
    expect(backend.output.notes.slice(0, 1)).toEqual([
      "cannot read the archive bucket's lifecycle rules (AccessDenied; reading them needs s3:GetLifecycleConfiguration) and archive.retention has no value here: the whole window of github is read",
    ]);
  });

  it('says only that credentials are missing when they are, with no note on the lifecycle rules', async () => {
    s3.on(GetBucketLifecycleConfigurationCommand).rejects(
      awsError('CredentialsProviderError', 'Could not load credentials from any providers'),
    );
    s3.on(ListObjectsV2Command).rejects(
      awsError('CredentialsProviderError', 'Could not load credentials from any providers'),
    );
    const backend = s3Backend();
    const error = await dryRunSinceNovember(backend, archived(), keptOneDay).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CredentialsError);
    expect(backend.output.notes).toEqual([]);
    expect(s3.commandCalls(ListObjectsV2Command)).toHaveLength(0);
  });

  it('in local mode reads the whole window, as the local S3 expires nothing, without asking for lifecycle rules', async () => {
    archiveHoldsAcrossNovember();
    const http: HttpFetch = async () => Response.json({}, { status: 200 });
    const target = localTestTarget({
      queues: { events: { ...EVENTS, eventSourceMappingId: undefined } as never },
      archiveBucket: 'archive',
    });
    const backend = s3Backend({ http });
    const result = await dryRunSinceNovember(backend, target, keptOneDay);
    expectWholeWindowRead();
    expect(result).not.toHaveProperty('archiveExpiredBefore');
    expect(result.archiveRetention).toEqual({ from: 'local', days: null });
    expect(s3.commandCalls(GetBucketLifecycleConfigurationCommand)).toHaveLength(0);
  });
});

describe('the lifecycle rules that expire an archived source', () => {
  const prefix = 'archive/source=github/';
  const rule = (over: Partial<LifecycleRule>): LifecycleRule => ({
    Status: 'Enabled',
    Filter: { Prefix: 'archive/' },
    Expiration: { Days: 30 },
    ...over,
  });
  it.each<[string, LifecycleRule[], number | undefined]>([
    ["the stack's rule", [rule({})], 30],
    ['a rule for the whole bucket', [rule({ Filter: { Prefix: '' } })], 30],
    [
      'a rule without a filter, of the older shape with its own prefix',
      [rule({ Filter: undefined, Prefix: 'archive/' })],
      30,
    ],
    ['a rule for this source only', [rule({ Filter: { Prefix: prefix } })], 30],
    ['a prefix and no tags', [rule({ Filter: { And: { Prefix: 'archive/' } } })], 30],
    ['the fewer days of two rules', [rule({}), rule({ Expiration: { Days: 7 } })], 7],
    ['a disabled rule', [rule({ Status: 'Disabled' })], undefined],
    ["another source's rule", [rule({ Filter: { Prefix: 'archive/source=stripe/' } })], undefined],
    ['a rule of some days only', [rule({ Filter: { Prefix: `${prefix}dt=2026-11` } })], undefined],
    ['a rule by tag', [rule({ Filter: { Tag: { Key: 'k', Value: 'v' } } })], undefined],
    ['a rule by size', [rule({ Filter: { ObjectSizeGreaterThan: 1024 } })], undefined],
    ['a rule by largest size', [rule({ Filter: { ObjectSizeLessThan: 1024 } })], undefined],
    [
      'a prefix with a size',
      [rule({ Filter: { And: { Prefix: 'archive/', ObjectSizeGreaterThan: 1024 } } })],
      undefined,
    ],
    [
      "another source's prefix with no tags",
      [rule({ Filter: { And: { Prefix: 'archive/source=stripe/' } } })],
      undefined,
    ],
    [
      "another source's rule of the older shape",
      [rule({ Filter: undefined, Prefix: 'archive/source=stripe/' })],
      undefined,
    ],
    [
      'a prefix with tags',
      [rule({ Filter: { And: { Prefix: 'archive/', Tags: [{ Key: 'k', Value: 'v' }] } } })],
      undefined,
    ],
    ['a rule expiring at a date', [rule({ Expiration: { Date: new Date('2027-01-01') } })], undefined],
    ['no rules', [], undefined],
  ])('%s', (_, rules, days) => {
    expect(expiryDaysOf(rules, prefix)).toBe(days);
  });
});

describe('replay sends', () => {
  it('counts an entry the queue refused as failed with its reason, and records only the sent ones', async () => {
    archiveHolds('job', [job('job-1', 'events'), job('job-2', 'events'), job('job-3', 'events')]);
    clients.sqs.on(SendMessageBatchCommand).resolves({
      Successful: [{ Id: '0', MessageId: 'm0', MD5OfMessageBody: '' }],
      Failed: [
        { Id: '1', Code: 'KmsThrottled', SenderFault: false, Message: 'KMS throttled' },
        { Id: '2', Code: 'InternalError', SenderFault: false },
      ],
    });
    const replayed: unknown[] = [];
    const backend = s3Backend();
    const result = await replay(backend, archived(), config, {
      source: 'job',
      ...window,
      replayId: 'run-2',
      onReplayed: (event) => replayed.push(event),
    });
    expect(result).toMatchObject({ planned: 3, sent: 1, failed: 2, byQueue: { events: 1 } });
    expect(result.failures).toEqual([
      { id: 'job-2', queue: 'events', reason: 'KMS throttled' },
      { id: 'job-3', queue: 'events', reason: 'refused' },
    ]);
    expect(replayed).toEqual([
      {
        id: 'job-1',
        source: 'job',
        type: 'welcome.email',
        queue: 'events',
        replayId: 'run-2',
        at: new Date(backend.clock.now()).toISOString(),
      },
    ]);
  });

  it('sends large events in batches SQS takes whole: ten entries together within its 1 MiB batch size', async () => {
    // Three archived jobs of 400 KB each: ten messages that fit SQS one by one do not fit one batch.
    const large = (id: string) => {
      const r = job(id, 'events');
      return { ...r, envelope: { ...r.envelope, body: JSON.stringify({ id, blob: 'x'.repeat(400_000) }) } };
    };
    archiveHolds('job', [large('job-1'), large('job-2'), large('job-3')]);
    clients.sqs.on(SendMessageBatchCommand).callsFake(async (input: SendMessageBatchCommandInput) => {
      // As SQS answers a batch larger than a single message may be: the whole call is refused.
      if (sqsBatchBytes(input) > 1_048_576) throw batchRequestTooLong();
      return { Successful: [], Failed: [] };
    });
    const result = await replay(s3Backend(), archived(), config, { source: 'job', ...window });
    expect(result).toMatchObject({ planned: 3, sent: 3, failed: 0, byQueue: { events: 3 } });
    expect(result.stoppedBy).toBeUndefined();
    expect(sentTo().map((s) => s.id)).toEqual(['job-1', 'job-2', 'job-3']);
  });

  it('paces batches of 10 to --rate events per second', async () => {
    archiveHolds(
      'job',
      Array.from({ length: 25 }, (_, i) => job(`job-${i}`, 'events')),
    );
    clients.sqs.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });
    const backend = s3Backend();
    const result = await replay(backend, archived(), config, { source: 'job', ...window, rate: 10 });
    expect(result.sent).toBe(25);
    // 25 events at 10/s: 2.5 s in all, the first batch at once.
    expect(backend.clock.sleeps).toEqual([1000, 1000, 500]);
    expect(backend.output.progressUpdates.filter(([label]) => label === 'replaying job')).toEqual([
      ['replaying job', 10, 25],
      ['replaying job', 20, 25],
      ['replaying job', 25, 25],
    ]);
  });
});

describe('replay in local mode', () => {
  const local = () =>
    localTestTarget({
      queues: { events: { ...EVENTS, eventSourceMappingId: undefined } as never },
      archiveBucket: 'archive',
    });

  it('has local mode write its buffered records first, then replays', async () => {
    archiveHolds('job', [job('job-1', 'events')]);
    clients.sqs.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });
    const asked: string[] = [];
    const http: HttpFetch = async (url, init) => {
      asked.push(`${init?.method} ${url}`);
      return Response.json({}, { status: 200 });
    };
    const result = await replay(s3Backend({ http }), local(), config, { source: 'job', ...window });
    expect(asked).toEqual(['POST http://127.0.0.1:3000/_hookline/archive/flush']);
    expect(result).toMatchObject({ sent: 1 });
  });

  it('says, when nothing matches, that local mode keeps its archive across restarts only with a data directory', async () => {
    archiveHolds('job', []);
    const http: HttpFetch = async () => Response.json({}, { status: 200 });
    await expect(replay(s3Backend({ http }), local(), config, { source: 'job', ...window })).rejects.toThrow(
      "no archived job event was received between 2026-11-30T10:00:00.000Z and 2026-11-30T11:00:00.000Z: nothing was replayed (local mode's archive holds what it received since it started, or, with HOOKLINE_DATA_DIR, since that directory was created)",
    );
  });

  it('says archiving is off when local mode has no archive', async () => {
    const http: HttpFetch = async () => new Response('', { status: 404 });
    await expect(replay(s3Backend({ http }), local(), config, { source: 'job', ...window })).rejects.toThrow(
      'archiving is off in local mode: set archive.enabled (the default) and restart local mode (npm start or npx hookline dev)',
    );
  });
});

describe('reading the archive', () => {
  const source = 'job';
  const prefix = archivePrefix(source, new Date(receivedAt));
  const at = (id: string, time: string) => {
    const r = job(id, 'events');
    return { ...r, envelope: { ...r.envelope, receivedAt: time } };
  };
  const lines = (records: readonly ArchiveRecord[]) => records.map((r) => `${JSON.stringify(r)}\n`).join('');
  const object = (records: readonly ArchiveRecord[]) => ({
    Body: { transformToByteArray: async () => new Uint8Array(Buffer.from(lines(records))) } as never,
  });
  /** The records as Firehose writes them with GZIP compression. */
  const gzipObject = (records: readonly ArchiveRecord[]) => ({
    Body: { transformToByteArray: async () => new Uint8Array(gzipSync(lines(records))) } as never,
  });
  /** S3 lists the objects `keys` under the hour `hourPrefix`, and nothing under any other. */
  const hourHolds = (hourPrefix: string, keys: readonly string[]) => {
    s3.on(ListObjectsV2Command).resolves({ Contents: [] });
    s3.on(ListObjectsV2Command, { Prefix: hourPrefix }).resolves({ Contents: keys.map((Key) => ({ Key })) });
  };
  const readSelection = () => readArchive(new S3Client({ region: 'us-east-1' }), selection);
  const selection = {
    bucket: 'archive',
    source,
    since: new Date('2026-11-30T10:00:00Z'),
    until: new Date('2026-11-30T11:00:00Z'),
    now: new Date('2026-11-30T11:00:00Z'),
  };

  it('reads every page of an hour that S3 lists in several, and keeps the first copy of an event archived twice', async () => {
    s3.on(ListObjectsV2Command).resolves({ Contents: [] });
    s3.on(ListObjectsV2Command, { Prefix: prefix }).resolves({
      Contents: [{ Key: `${prefix}part-1` }],
      IsTruncated: true,
      NextContinuationToken: 'page-2',
    });
    s3.on(ListObjectsV2Command, { Prefix: prefix, ContinuationToken: 'page-2' }).resolves({
      Contents: [{ Key: `${prefix}part-2` }],
    });
    s3.on(GetObjectCommand, { Key: `${prefix}part-1` }).resolves(
      object([at('j-1', '2026-11-30T10:10:00.000Z')]),
    );
    // The sender retried after a failed enqueue: the same event again, archived later.
    s3.on(GetObjectCommand, { Key: `${prefix}part-2` }).resolves(
      object([at('j-2', '2026-11-30T10:20:00.000Z'), at('j-1', '2026-11-30T10:30:00.000Z')]),
    );
    const records = await readSelection();
    expect(records.map((r) => [r.envelope.id, r.envelope.receivedAt])).toEqual([
      ['j-1', '2026-11-30T10:10:00.000Z'],
      ['j-2', '2026-11-30T10:20:00.000Z'],
    ]);
  });

  it('reads a GZIP object as Firehose writes it', async () => {
    hourHolds(prefix, [`${prefix}part-1.gz`]);
    s3.on(GetObjectCommand, { Key: `${prefix}part-1.gz` }).resolves(
      gzipObject([at('j-gz', '2026-11-30T10:10:00.000Z')]),
    );
    const records = await readSelection();
    expect(records.map((r) => r.envelope.id)).toEqual(['j-gz']);
  });

  it('keeps only events received from --since up to, not including, --until, whatever hour they are filed under', async () => {
    hourHolds(prefix, [`${prefix}part-1`]);
    // Filed under 10:00 as each reached the stream then, received a moment before, at or after the window.
    s3.on(GetObjectCommand, { Key: `${prefix}part-1` }).resolves(
      object([
        at('before', '2026-11-30T09:59:59.999Z'),
        at('at-since', '2026-11-30T10:00:00.000Z'),
        at('last', '2026-11-30T10:59:59.999Z'),
        at('at-until', '2026-11-30T11:00:00.000Z'),
      ]),
    );
    const records = await readSelection();
    expect(records.map((r) => r.envelope.id)).toEqual(['at-since', 'last']);
  });

  it('finds an event received after --since in an object Firehose filed under the hour before, after its oldest record', async () => {
    const earlier = archivePrefix(source, new Date('2026-11-30T09:00:00Z'));
    hourHolds(earlier, [`${earlier}part-1.gz`]);
    // One buffer of the stream: its oldest record reached it at 09:59:50, so the object is filed under 09.
    s3.on(GetObjectCommand, { Key: `${earlier}part-1.gz` }).resolves(
      gzipObject([at('old', '2026-11-30T09:59:50.000Z'), at('in-window', '2026-11-30T10:00:30.000Z')]),
    );
    const records = await readSelection();
    expect(records.map((r) => r.envelope.id)).toEqual(['in-window']);
  });

  it('returns the events in the order they were received, whatever order the objects hold them in', async () => {
    hourHolds(prefix, [`${prefix}part-1`]);
    s3.on(GetObjectCommand, { Key: `${prefix}part-1` }).resolves(
      object([at('j-late', '2026-11-30T10:40:00.000Z'), at('j-early', '2026-11-30T10:05:00.000Z')]),
    );
    const records = await readSelection();
    expect(records.map((r) => r.envelope.id)).toEqual(['j-early', 'j-late']);
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
    expect(at('90s')).toBe('2026-11-30T11:58:30.000Z');
    expect(at('1.5h')).toBe('2026-11-30T10:30:00.000Z');
    expect(at('0.25h')).toBe('2026-11-30T11:45:00.000Z');
  });

  it('refuses a duration with text around it, instead of reading its leading number and unit', () => {
    // 3 months is not 3 minutes.
    expect(at('3months')).toBeUndefined();
    expect(at('last 2h')).toBeUndefined();
  });

  it('refuses a duration reaching back before any time a date can hold, rather than an invalid date', () => {
    expect(parseTime('200000000d', now)).toBeUndefined();
    expect(parseTime('99999999999999999999999s', now)).toBeUndefined();
    expect(() => timeOption('--since', '200000000d', now)).toThrow(/--since "200000000d" is not a time/);
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

describe('replay of a selection larger than its memory budget (sorted on disk)', () => {
  let tempRoot: string;
  beforeEach(() => {
    tempRoot = mkdtempSync(path.join(tmpdir(), 'replay-sort-'));
  });
  afterEach(() => rmSync(tempRoot, { recursive: true, force: true }));

  /** A tiny budget: every few events a sorted run goes to disk. Counts the runs written. */
  const spilling = () => {
    const files: string[] = [];
    return { files, sort: { budgetBytes: 2_000, tempRoot, onSpill: (file: string) => files.push(file) } };
  };

  /**
   * 60 jobs archived out of reception order, many received at the same second (their archive order decides),
   * to two queues, and one whose stored body has expired.
   */
  function archiveOutOfOrder() {
    const records = Array.from({ length: 60 }, (_, i): ArchiveRecord => {
      const r = job(`job-${i}`, i % 3 === 0 ? 'orders' : 'events');
      const second = (i * 37) % 11;
      return {
        ...r,
        envelope: { ...r.envelope, receivedAt: `2026-11-30T10:15:${String(second).padStart(2, '0')}.000Z` },
      };
    });
    const big = records[5] as ArchiveRecord;
    records[5] = {
      ...big,
      envelope: {
        ...big.envelope,
        body: undefined,
        payloadRef: { bucket: 'payloads', key: 'gone', sizeBytes: 2_000_000 },
      },
    };
    archiveHolds('job', records);
    s3.on(HeadObjectCommand).rejects(
      Object.assign(new Error('NotFound'), { name: 'NotFound', $metadata: { httpStatusCode: 404 } }),
    );
  }

  it('sends the same messages in the same order, with the same counts, as a replay sorted in memory', async () => {
    archiveOutOfOrder();
    const countedBeforeSend: boolean[] = [];
    const run = async (sort?: ReturnType<typeof spilling>['sort']) => {
      clients.sqs.reset();
      const backend = s3Backend();
      clients.sqs.on(SendMessageBatchCommand).callsFake(async () => {
        countedBeforeSend.push(backend.output.notes.some((n) => n.includes('60 archived job events match')));
        return { Successful: [], Failed: [] };
      });
      const result = await replay(backend, archived(), config, {
        source: 'job',
        ...window,
        replayId: 'run-1',
        ...(sort ? { sort } : {}),
      });
      return { result, sent: sentTo() };
    };
    const inMemory = await run();
    const { files, sort } = spilling();
    const onDisk = await run(sort);
    expect(files.length).toBeGreaterThan(3);
    expect(onDisk.sent).toHaveLength(59);
    expect(onDisk.sent).toEqual(inMemory.sent);
    expect(onDisk.result).toEqual(inMemory.result);
    expect(onDisk.result).toMatchObject({ matched: 60, planned: 60, sent: 59, failed: 1 });
    expect(countedBeforeSend.every(Boolean)).toBe(true);
    expect(readdirSync(tempRoot)).toEqual([]);
  });

  it('counts a dry run of a selection over the budget as the replay would, writing nothing to disk and sending nothing', async () => {
    archiveOutOfOrder();
    const options = { source: 'job', ...window, replayId: 'run-1' };
    const { sort } = spilling();
    clients.sqs.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });
    const sent = await replay(s3Backend(), archived(), config, { ...options, sort });
    clients.sqs.reset();
    const { files, sort: dryRunSort } = spilling();
    const counted = await replay(s3Backend(), archived(), config, {
      ...options,
      dryRun: true,
      sort: dryRunSort,
    });
    expect(files).toEqual([]);
    expect(counted).toMatchObject({
      matched: sent.matched,
      planned: sent.planned,
      failed: sent.failed,
      failures: sent.failures,
      byQueue: sent.byQueue,
      sent: 0,
    });
    expect(counted.byQueue).toEqual({ events: 39, orders: 20 });
    expect(clients.sqs.commandCalls(SendMessageBatchCommand)).toHaveLength(0);
    expect(readdirSync(tempRoot)).toEqual([]);
  });

  it('refuses a queue the target no longer has before sending anything, though the selection was spilled to disk', async () => {
    archiveHolds('job', [
      ...Array.from({ length: 40 }, (_, i) => job(`job-${i}`, 'events')),
      job('job-retired', 'retired'),
    ]);
    const { files, sort } = spilling();
    await expect(replay(s3Backend(), archived(), config, { source: 'job', ...window, sort })).rejects.toThrow(
      /1 archived event of the selection was sent to queue "retired".*nothing was sent/,
    );
    expect(files.length).toBeGreaterThan(3);
    expect(clients.sqs.commandCalls(SendMessageBatchCommand)).toHaveLength(0);
    expect(readdirSync(tempRoot)).toEqual([]);
  });

  it('stopped by Ctrl-C mid-send, names the --since to continue from and leaves nothing on disk', async () => {
    archiveHolds(
      'job',
      Array.from({ length: 40 }, (_, i) => {
        const r = job(`job-${i}`, 'events');
        const at = new Date(Date.parse(receivedAt) + (39 - i) * 1000).toISOString();
        return { ...r, envelope: { ...r.envelope, receivedAt: at } };
      }),
    );
    const controller = new AbortController();
    clients.sqs.on(SendMessageBatchCommand).callsFake(async () => {
      controller.abort();
      return { Successful: [], Failed: [] };
    });
    const { files, sort } = spilling();
    const result = await replay(s3Backend(), archived(), config, {
      source: 'job',
      ...window,
      signal: controller.signal,
      sort,
    });
    expect(files.length).toBeGreaterThan(3);
    expect(result).toMatchObject({ planned: 40, sent: 10, stoppedBy: 'Interrupted: stopped by Ctrl-C' });
    // Received last first: the ten sent are the ten received first, job-39 .. job-30.
    expect(sentTo().map((m) => m.id)).toEqual(Array.from({ length: 10 }, (_, i) => `job-${39 - i}`));
    expect(result.resumeSince).toBe('2026-11-30T10:15:10.000Z');
    expect(readdirSync(tempRoot)).toEqual([]);
  });

  it('fails with a one-line error naming the run, and leaves nothing on disk, when a sorted run cannot be read back', async () => {
    archiveHolds(
      'job',
      Array.from({ length: 40 }, (_, i) => job(`job-${i}`, 'events')),
    );
    clients.sqs.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });
    // Something else (a temporary-folder cleaner) replaced the first run after it was written.
    const sort = {
      budgetBytes: 2_000,
      tempRoot,
      onSpill: (file: string) => {
        if (!file.endsWith('run-000000.jsonl')) return;
        rmSync(file);
        mkdirSync(file);
      },
    };
    const error = await replay(s3Backend(), archived(), config, { source: 'job', ...window, sort }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(CliError);
    expect((error as Error).message).toMatch(/cannot read back the sorted run .*run-000000\.jsonl \(EISDIR/);
    expect(clients.sqs.commandCalls(SendMessageBatchCommand)).toHaveLength(0);
    expect(readdirSync(tempRoot)).toEqual([]);
  });

  it('says which folder it cannot sort in and sends nothing when the temporary folder cannot be written', async () => {
    archiveHolds(
      'job',
      Array.from({ length: 40 }, (_, i) => job(`job-${i}`, 'events')),
    );
    const missing = path.join(tempRoot, 'missing');
    await expect(
      replay(s3Backend(), archived(), config, {
        source: 'job',
        ...window,
        sort: { budgetBytes: 2_000, tempRoot: missing },
      }),
    ).rejects.toThrow(new RegExp(`temporary folder ${missing} \\(ENOENT.*nothing was replayed.*TMPDIR`));
    expect(clients.sqs.commandCalls(SendMessageBatchCommand)).toHaveLength(0);
  });
});
