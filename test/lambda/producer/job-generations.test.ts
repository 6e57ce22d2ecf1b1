/**
 * Which enqueue of a job id a message is: the dedupe store's claim generations on dynalite, and the producer that
 * puts them in the envelope the consumer keys its idempotency on. A clock stands in for the passing of the lease
 * and of the dedupe window.
 */

import { createHash } from 'node:crypto';
import {
  type AttributeValue,
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
} from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  type BatchEntry,
  type OneTimeSchedule,
  Producer,
  type ProducerCollaborators,
} from '../../../lambda/producer/producer';
import { DEDUPE_TABLE } from '../../../lambda/shared/contracts';
import { createDynamoDedupeStore, type DedupeStore } from '../../../lambda/shared/dedupe-store';
import { parseEnvelope } from '../../../lambda/shared/envelope';
import { idempotencyWorkKey } from '../../../lambda/shared/idempotency-key';
import { defineJob } from '../../../lambda/shared/job';
import { JobRecords, jobRecordKey } from '../../../lambda/shared/job-record';
import { putLegacyPendingClaim, testClock, useDedupeTable } from '../../helpers/local/dedupe-table';

const WINDOW_SECONDS = 3600;
const LEASE_SECONDS = 30;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const job = defineJob('report.build', z.object({ n: z.number() }), { queue: 'jobs' });
const fifoJob = defineJob('order.ship', z.object({ n: z.number() }), { queue: 'orders' });

let client: DynamoDBClient;
const table = 'generations-dedupe';
useDedupeTable(table, (ready) => {
  client = ready;
});

function store(now: () => number): DedupeStore {
  return createDynamoDedupeStore({
    client,
    tableName: table,
    ttlSeconds: WINDOW_SECONDS,
    leaseSeconds: LEASE_SECONDS,
    now,
  });
}

async function claimed(dedupe: DedupeStore, key: string) {
  const claim = await dedupe.claim(key);
  if (claim.status !== 'claimed') throw new Error(`expected a claim of ${key}, got ${claim.status}`);
  return claim;
}

describe('dedupe claim generations', () => {
  it('continues the generation when a retry takes over a lease that ran out', async () => {
    const time = testClock();
    const dedupe = store(time.now);
    const first = await claimed(dedupe, 'job#lease');
    expect(first.generation).toMatch(UUID);
    expect(await dedupe.claim('job#lease')).toEqual({ status: 'in_progress' });
    time.advance(LEASE_SECONDS + 1);
    const retry = await claimed(dedupe, 'job#lease');
    expect(retry.generation).toBe(first.generation);
    expect(retry.token).not.toBe(first.token);
  });

  it('keeps what a consumer of the same generation recorded when a retry takes over its lease', async () => {
    const time = testClock();
    const dedupe = store(time.now);
    const records = new JobRecords(client, table, time.now);
    const first = await claimed(dedupe, jobRecordKey('ran-before-retry'));
    expect(await records.start('ran-before-retry', 1, first.generation)).toBe('run');
    await records.complete('ran-before-retry', { done: 1 }, first.generation);
    time.advance(LEASE_SECONDS + 1);
    const retry = await claimed(dedupe, jobRecordKey('ran-before-retry'));
    expect(retry.generation).toBe(first.generation);
    expect(await records.read('ran-before-retry')).toMatchObject({ state: 'completed', result: { done: 1 } });
  });

  it('starts a new generation when the key is claimed again after the dedupe window', async () => {
    const time = testClock();
    const dedupe = store(time.now);
    const first = await claimed(dedupe, 'job#window');
    await dedupe.complete('job#window', first.token);
    time.advance(WINDOW_SECONDS - 1);
    expect(await dedupe.claim('job#window')).toEqual({ status: 'duplicate' });
    time.advance(2);
    const again = await claimed(dedupe, 'job#window');
    expect(again.generation).not.toBe(first.generation);
  });

  it('starts a new generation after the window even where a lease was never completed', async () => {
    const time = testClock();
    const dedupe = store(time.now);
    const first = await claimed(dedupe, 'job#abandoned');
    time.advance(WINDOW_SECONDS + 1);
    expect((await claimed(dedupe, 'job#abandoned')).generation).not.toBe(first.generation);
  });

  it('takes over a pending record written before generations were kept without giving it one', async () => {
    const time = testClock();
    const dedupe = store(time.now);
    await putLegacyPending('job#older', time.now());
    const taken = await claimed(dedupe, 'job#older');
    expect(taken.generation).toBeUndefined();
    time.advance(LEASE_SECONDS + 1);
    expect((await claimed(dedupe, 'job#older')).generation).toBeUndefined();
  });
});

/** A claim as the producer made it before generations were kept: pending, its lease already run out. */
function putLegacyPending(key: string, nowMs: number, fields: Record<string, AttributeValue> = {}) {
  return putLegacyPendingClaim(client, table, { key, nowMs, windowSeconds: WINDOW_SECONDS, fields });
}

/** The producer on the real store and a fake SQS that keeps what it was sent; `completes` false = it dies after sending. */
function producerAt(
  now: () => number,
  options: {
    completes?: boolean;
    putPayload?: ProducerCollaborators['putPayload'];
    /** How many sends (SQS batches and schedules) go through but answer with an error, as a lost answer does. */
    lostAnswers?: number;
    records?: ProducerCollaborators['records'];
  } = {},
) {
  let lostAnswers = options.lostAnswers ?? 0;
  const answer = () => {
    if (lostAnswers-- > 0) throw new Error('TimeoutError: the connection closed before the answer came');
  };
  const sent: BatchEntry[] = [];
  const real = store(now);
  const dedupe: DedupeStore =
    options.completes === false
      ? {
          ...real,
          complete: async () => {
            throw new Error('the producer died after its send');
          },
        }
      : real;
  const schedules: OneTimeSchedule[] = [];
  const deleted: string[] = [];
  const deps: ProducerCollaborators = {
    queues: {
      jobs: { name: 'jobs', url: 'https://sqs/jobs', arn: 'arn:aws:sqs:eu-west-1:1:jobs', fifo: false },
      orders: { name: 'orders', url: 'https://sqs/orders.fifo', fifo: true },
    },
    settings: {
      dedupe: { tableName: table, ttlSeconds: WINDOW_SECONDS },
      scheduler: { namePrefix: 'App-job-', roleArn: 'arn:aws:iam::1:role/send' },
      payloads: { bucket: 'payloads', inlineLimitBytes: 1024 },
    },
    scheduler: {
      async create(schedule) {
        // Scheduler refuses a second schedule of one name (the producer reads that as its own earlier attempt).
        if (!schedules.some((s) => s.name === schedule.name)) schedules.push(schedule);
        answer();
      },
      async delete(name) {
        deleted.push(name);
        return true;
      },
    },
    retry: { attempts: 1, baseDelayMs: 1 },
    now,
    sleep: async () => {},
    async sendBatch(_url, entries) {
      sent.push(...entries);
      answer();
      return [];
    },
    putPayload: options.putPayload ?? (async () => {}),
    dedupe,
    records: options.records ?? new JobRecords(client, table, now),
  };
  return { producer: new Producer(deps), sent, schedules, deleted };
}

describe('a job id enqueued again', () => {
  const consumerKey = (entry: BatchEntry | undefined) =>
    idempotencyWorkKey('jobs', parseEnvelope(entry?.MessageBody ?? ''));

  it('carries the same generation, and so the same consumer key, when a retry takes over the lease', async () => {
    const time = testClock();
    const crashed = producerAt(time.now, { completes: false });
    expect(await crashed.producer.send(job, { n: 1 }, { id: 'retried' })).toMatchObject({ duplicate: false });
    time.advance(LEASE_SECONDS + 1);
    const retry = producerAt(time.now);
    expect(await retry.producer.send(job, { n: 1 }, { id: 'retried' })).toMatchObject({ duplicate: false });
    const [original, resent] = [crashed.sent[0], retry.sent[0]];
    expect(parseEnvelope(original?.MessageBody ?? '').generation).toMatch(UUID);
    expect(parseEnvelope(resent?.MessageBody ?? '').generation).toBe(
      parseEnvelope(original?.MessageBody ?? '').generation,
    );
    expect(consumerKey(resent)).toBe(consumerKey(original));
  });

  it('carries a new generation, and so a new consumer key, once the dedupe window has passed', async () => {
    const time = testClock();
    const { producer, sent } = producerAt(time.now);
    await producer.send(job, { n: 1 }, { id: 'reused' });
    time.advance(60);
    expect(await producer.send(job, { n: 1 }, { id: 'reused' })).toMatchObject({ duplicate: true });
    time.advance(WINDOW_SECONDS);
    expect(await producer.send(job, { n: 2 }, { id: 'reused' })).toMatchObject({
      duplicate: false,
      state: 'queued',
    });
    expect(sent).toHaveLength(2);
    const [first, second] = sent.map((e) => parseEnvelope(e.MessageBody));
    expect(second?.id).toBe(first?.id);
    expect(second?.generation).not.toBe(first?.generation);
    expect(consumerKey(sent[1])).not.toBe(consumerKey(sent[0]));
  });

  it('gives a FIFO job a new deduplication id per generation, and the same one to a retry of it', async () => {
    const time = testClock();
    const crashed = producerAt(time.now, { completes: false });
    await crashed.producer.send(fifoJob, { n: 1 }, { id: 'fifo-reused' });
    time.advance(LEASE_SECONDS + 1);
    const retry = producerAt(time.now);
    await retry.producer.send(fifoJob, { n: 1 }, { id: 'fifo-reused' });
    expect(retry.sent[0]?.MessageDeduplicationId).toBe(crashed.sent[0]?.MessageDeduplicationId);
    time.advance(WINDOW_SECONDS + 1);
    await retry.producer.send(fifoJob, { n: 1 }, { id: 'fifo-reused' });
    expect(retry.sent[1]?.MessageDeduplicationId).not.toBe(retry.sent[0]?.MessageDeduplicationId);
  });

  it('gives a delayed job a schedule per generation, which a retry of it finds again', async () => {
    const time = testClock();
    const hours = { hours: 2 };
    const crashed = producerAt(time.now, { completes: false });
    await crashed.producer.send(job, { n: 1 }, { id: 'later-reused', delay: hours });
    time.advance(LEASE_SECONDS + 1);
    const retry = producerAt(time.now);
    await retry.producer.send(job, { n: 1 }, { id: 'later-reused', delay: hours });
    const [original] = crashed.schedules;
    expect(retry.schedules[0]?.name).toBe(original?.name);
    expect(parseEnvelope(retry.schedules[0]?.input ?? '').generation).toBe(
      parseEnvelope(original?.input ?? '').generation,
    );
    // The window counts from the due time, which a schedule rounds up to the minute.
    time.advance(2 * 3600 + 60 + WINDOW_SECONDS + 1);
    expect(await retry.producer.send(job, { n: 2 }, { id: 'later-reused', delay: hours })).toMatchObject({
      duplicate: false,
    });
    const renewed = retry.schedules[1];
    expect(renewed?.name).toMatch(/^App-job-[0-9a-f]+$/);
    expect(renewed?.name).not.toBe(original?.name);
    expect((await new JobRecords(client, table, time.now).read('later-reused'))?.scheduleName).toBe(
      renewed?.name,
    );
  });

  it('records the new enqueue as queued, however the earlier one ended', async () => {
    const time = testClock();
    const { producer, sent } = producerAt(time.now);
    const records = new JobRecords(client, table, time.now);
    await producer.send(job, { n: 1 }, { id: 'recorded' });
    const { generation } = parseEnvelope(sent[0]?.MessageBody ?? '');
    expect(await records.start('recorded', 1, generation)).toBe('run');
    await records.complete('recorded', { first: true }, generation);
    time.advance(WINDOW_SECONDS + 1);
    await producer.send(job, { n: 2 }, { id: 'recorded' });
    const status = await records.read('recorded');
    expect(status?.state).toBe('queued');
    expect(status?.result).toBeUndefined();
    const item = await client.send(
      new GetItemCommand({
        TableName: table,
        Key: { [DEDUPE_TABLE.partitionKey]: { S: jobRecordKey('recorded') } },
      }),
    );
    expect(item.Item?.status?.S).toBe('queued');
  });

  it("leaves the new enqueue's record alone when a delivery of the earlier one arrives late", async () => {
    const time = testClock();
    const { producer, sent } = producerAt(time.now);
    const records = new JobRecords(client, table, time.now);
    await producer.send(job, { n: 1 }, { id: 'late' });
    time.advance(WINDOW_SECONDS + 1);
    await producer.send(job, { n: 2 }, { id: 'late' });
    const [earlier, later] = sent.map((e) => parseEnvelope(e.MessageBody).generation);
    expect(earlier).toBeDefined();
    // A redrive of the earlier enqueue runs (it is work of its own) but is not recorded on the later one.
    expect(await records.start('late', 3, earlier)).toBe('untracked');
    await records.complete('late', { from: 'earlier' }, earlier);
    await records.deadLettered('late', 'Error: earlier', earlier);
    expect(await records.read('late')).toMatchObject({ state: 'queued' });
    expect((await records.read('late'))?.result).toBeUndefined();
    expect(await records.start('late', 1, later)).toBe('run');
    await records.complete('late', { from: 'later' }, later);
    expect(await records.read('late')).toMatchObject({ state: 'completed', result: { from: 'later' } });
  });

  it('runs a late delivery of an earlier enqueue even when the later one was cancelled', async () => {
    const time = testClock();
    const { producer, sent } = producerAt(time.now);
    const records = new JobRecords(client, table, time.now);
    await producer.send(job, { n: 1 }, { id: 'cancelled-later' });
    time.advance(WINDOW_SECONDS + 1);
    await producer.send(job, { n: 2 }, { id: 'cancelled-later' });
    expect(await producer.cancel('cancelled-later')).toBe(true);
    const [earlier, later] = sent.map((e) => parseEnvelope(e.MessageBody).generation);
    expect(await records.start('cancelled-later', 2, earlier)).toBe('untracked');
    expect(await records.start('cancelled-later', 1, later)).toBe('cancelled');
  });
});

describe('cancelling a job id that is sent again meanwhile', () => {
  it('deletes the schedule of the enqueue it cancelled, not of the one it may have read before', async () => {
    const time = testClock();
    const records = new JobRecords(client, table, time.now);
    const sender = producerAt(time.now);
    // Whenever the canceller reads the record, the id's window ends and another producer sends it again, so a
    // read-then-cancel would cancel the new enqueue and delete the old enqueue's schedule.
    const resendAfterRead: ProducerCollaborators['records'] = {
      async read(id) {
        const seen = await records.read(id);
        // A delayed job's window counts from its due time.
        time.advance(2 * 3600 + WINDOW_SECONDS + 1);
        const resent = await sender.producer.send(job, { n: 2 }, { id, delay: { hours: 3 } });
        expect(resent.duplicate).toBe(false);
        return seen;
      },
      cancel: (id) => records.cancel(id),
    };
    const canceller = producerAt(time.now, { records: resendAfterRead });
    await sender.producer.send(job, { n: 1 }, { id: 'resent-while-cancelling', delay: { hours: 2 } });
    expect(await canceller.producer.cancel('resent-while-cancelling')).toBe(true);
    const cancelled = await records.read('resent-while-cancelling');
    expect(cancelled?.state).toBe('cancelled');
    expect(canceller.deleted).toEqual([cancelled?.scheduleName]);
  });
});

describe('a send reported failed although it went through', () => {
  const consumerKey = (body: string | undefined) => idempotencyWorkKey('jobs', parseEnvelope(body ?? ''));

  it("is sent again by the caller's retry as the same enqueue, so the job runs once", async () => {
    const time = testClock();
    const { producer, sent } = producerAt(time.now, { lostAnswers: 1 });
    await expect(producer.send(job, { n: 1 }, { id: 'lost-answer' })).rejects.toThrow(/TimeoutError/);
    expect(await producer.send(job, { n: 1 }, { id: 'lost-answer' })).toMatchObject({ duplicate: false });
    expect(sent).toHaveLength(2);
    expect(consumerKey(sent[1]?.MessageBody)).toBe(consumerKey(sent[0]?.MessageBody));
  });

  it('keeps the FIFO deduplication id, so SQS drops the second copy', async () => {
    const time = testClock();
    const { producer, sent } = producerAt(time.now, { lostAnswers: 1 });
    await expect(producer.send(fifoJob, { n: 1 }, { id: 'lost-fifo' })).rejects.toThrow(/TimeoutError/);
    await producer.send(fifoJob, { n: 1 }, { id: 'lost-fifo' });
    expect(sent[1]?.MessageDeduplicationId).toBe(sent[0]?.MessageDeduplicationId);
  });

  it('keeps the schedule name of a delayed job, so one schedule sends it', async () => {
    const time = testClock();
    const { producer, schedules } = producerAt(time.now, { lostAnswers: 1 });
    const later = { delay: { hours: 2 }, id: 'lost-schedule' };
    await expect(producer.send(job, { n: 1 }, later)).rejects.toThrow(/TimeoutError/);
    expect(await producer.send(job, { n: 1 }, later)).toMatchObject({ duplicate: false, state: 'scheduled' });
    expect(schedules).toHaveLength(1);
    const records = new JobRecords(client, table, time.now);
    expect((await records.read('lost-schedule'))?.scheduleName).toBe(schedules[0]?.name);
  });

  it('leaves what a consumer of the first copy recorded when the retry sends it again', async () => {
    const time = testClock();
    const { producer, sent } = producerAt(time.now, { lostAnswers: 1 });
    const records = new JobRecords(client, table, time.now);
    await expect(producer.send(job, { n: 1 }, { id: 'lost-ran' })).rejects.toThrow(/TimeoutError/);
    const { generation } = parseEnvelope(sent[0]?.MessageBody ?? '');
    expect(await records.start('lost-ran', 1, generation)).toBe('run');
    await records.complete('lost-ran', { ran: 'first copy' }, generation);
    await producer.send(job, { n: 1 }, { id: 'lost-ran' });
    expect(await records.read('lost-ran')).toMatchObject({
      state: 'completed',
      result: { ran: 'first copy' },
    });
  });
});

describe('a job id whose record is deleted between its claim and the read of it', () => {
  it('is answered a duplicate, sending nothing: the claim said the id was held', async () => {
    const time = testClock();
    const real = new JobRecords(client, table, time.now);
    let vanish = false;
    const { producer, sent } = producerAt(time.now, {
      records: {
        async read(id) {
          if (vanish) await deleteRecord(id);
          return real.read(id);
        },
        cancel: (id) => real.cancel(id),
      },
    });
    await producer.send(job, { n: 1 }, { id: 'vanished' });
    vanish = true;
    expect(await producer.send(job, { n: 2 }, { id: 'vanished' })).toEqual({
      id: 'vanished',
      state: 'queued',
      duplicate: true,
    });
    expect(sent).toHaveLength(1);
  });
});

/** Deletes job `id`'s record, as DynamoDB's TTL deletes an expired one. */
async function deleteRecord(id: string): Promise<void> {
  await client.send(
    new DeleteItemCommand({
      TableName: table,
      Key: { [DEDUPE_TABLE.partitionKey]: { S: jobRecordKey(id) } },
    }),
  );
}

describe('a delayed job Scheduler could not deliver', () => {
  it('is a duplicate under its own id until its window passes, and goes out under a new one', async () => {
    const time = testClock();
    const { producer, schedules } = producerAt(time.now);
    await producer.send(job, { n: 1 }, { id: 'never-delivered', delay: { hours: 2 } });
    // Past its due time Scheduler gave up and put it in its dead-letter queue: no consumer ever saw it. The
    // window (an hour here, days when deployed) counts from the due time.
    time.advance(2 * 3600 + WINDOW_SECONDS / 2);
    expect(await producer.send(job, { n: 1 }, { id: 'never-delivered', delay: { hours: 2 } })).toMatchObject({
      duplicate: true,
      state: 'queued',
    });
    expect(schedules).toHaveLength(1);
    expect(
      await producer.send(job, { n: 1 }, { id: 'never-delivered-again', delay: { hours: 2 } }),
    ).toMatchObject({ duplicate: false, state: 'scheduled' });
    expect(schedules).toHaveLength(2);
  });
});

describe('a job whose payload could not be stored', () => {
  it('leaves its id free for the caller to send again at once', async () => {
    const time = testClock();
    let uploads = 0;
    const { producer, sent } = producerAt(time.now, {
      async putPayload() {
        if (++uploads === 1) throw new Error('SlowDown: reduce your request rate');
      },
    });
    const large = { n: 1, note: 'x'.repeat(2048) };
    await expect(producer.send(job, large, { id: 'upload-failed' })).rejects.toThrow(/payload upload failed/);
    expect(sent).toHaveLength(0);
    // The failure was reported, so nothing holds the id: the retry goes out (not "being enqueued right now").
    expect(await producer.send(job, large, { id: 'upload-failed' })).toMatchObject({
      duplicate: false,
      state: 'queued',
    });
    expect(uploads).toBe(2);
    expect(parseEnvelope(sent[0]?.MessageBody ?? '').payloadRef).toBeDefined();
  });
});

describe('a job sent before generations were kept', () => {
  const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

  it('is sent again by a retry that takes over its claim exactly as it was first sent, so it runs once', async () => {
    const time = testClock();
    const { producer, sent, schedules } = producerAt(time.now);
    // The producer that made these claims sent each job without a generation, then died before completing.
    await putLegacyPending(jobRecordKey('legacy-fifo'), time.now());
    await putLegacyPending(jobRecordKey('legacy-later'), time.now());
    await putLegacyPending(jobRecordKey('legacy-now'), time.now());
    await producer.send(fifoJob, { n: 1 }, { id: 'legacy-fifo' });
    await producer.send(job, { n: 1 }, { id: 'legacy-later', delay: { hours: 2 } });
    await producer.send(job, { n: 1 }, { id: 'legacy-now' });
    const [fifo, now] = sent;
    // SQS drops a FIFO message whose deduplication id it saw within 5 minutes: the first send's was the id's hash.
    expect(fifo?.MessageDeduplicationId).toBe(sha256('legacy-fifo'));
    // Scheduler refuses a second schedule of the same name: the first send's was named for the id alone.
    expect(schedules[0]?.name).toBe(`App-job-${sha256('legacy-later').slice(0, 64 - 'App-job-'.length)}`);
    expect(parseEnvelope(schedules[0]?.input ?? '').generation).toBeUndefined();
    // The consumer's idempotency key is the first send's, so the job runs once.
    expect(parseEnvelope(now?.MessageBody ?? '').generation).toBeUndefined();
    expect(idempotencyWorkKey('jobs', parseEnvelope(now?.MessageBody ?? ''))).toBe('jobs#job#legacy-now');
    expect(await new JobRecords(client, table, time.now).read('legacy-now')).toMatchObject({
      state: 'queued',
    });
  });

  it("neither changes nor obeys the record of the id's later enqueue when it arrives late", async () => {
    const time = testClock();
    const { producer } = producerAt(time.now);
    const records = new JobRecords(client, table, time.now);
    await producer.send(job, { n: 2 }, { id: 'legacy-late' });
    // A delivery without a generation (a redrive of a job sent before generations were kept) runs untracked.
    expect(await records.start('legacy-late', 4, undefined)).toBe('untracked');
    await records.complete('legacy-late', { from: 'earlier' }, undefined);
    await records.deadLettered('legacy-late', 'Error: earlier', undefined);
    const status = await records.read('legacy-late');
    expect(status).toMatchObject({ state: 'queued' });
    expect(status?.result).toBeUndefined();
    expect(status?.reason).toBeUndefined();
    expect(await producer.cancel('legacy-late')).toBe(true);
    expect(await records.start('legacy-late', 5, undefined)).toBe('untracked');
  });

  it('still keeps its state on its own record, which has no generation either', async () => {
    const time = testClock();
    const records = new JobRecords(client, table, time.now);
    await putLegacyPending(jobRecordKey('legacy-own'), time.now(), { state: { S: 'queued' } });
    expect(await records.start('legacy-own', 1, undefined)).toBe('run');
    await records.complete('legacy-own', { done: true }, undefined);
    expect(await records.read('legacy-own')).toMatchObject({ state: 'completed', result: { done: true } });
    await putLegacyPending(jobRecordKey('legacy-cancelled'), time.now(), { state: { S: 'cancelled' } });
    expect(await records.start('legacy-cancelled', 1, undefined)).toBe('cancelled');
  });
});

describe('consumer work keys', () => {
  it('keys a webhook by consumer, source and id alone, as before generations', () => {
    expect(idempotencyWorkKey('events', { source: 'shop', id: 'e1' })).toBe('events#shop#e1');
    expect(idempotencyWorkKey('events', { source: 'shop', id: 'e1', replay: { id: 'r-1' } })).toBe(
      'events#shop#e1#replay:r-1',
    );
  });

  it('keys each generation of a job apart, and a replay of one apart from the job itself', () => {
    const g1 = idempotencyWorkKey('jobs', { source: 'job', id: 'j', generation: 'g1' });
    const g2 = idempotencyWorkKey('jobs', { source: 'job', id: 'j', generation: 'g2' });
    const replayed = idempotencyWorkKey('jobs', {
      source: 'job',
      id: 'j',
      generation: 'g1',
      replay: { id: 'r-1' },
    });
    expect(new Set([g1, g2, replayed, idempotencyWorkKey('jobs', { source: 'job', id: 'j' })]).size).toBe(4);
  });
});
