/**
 * Debounced jobs (`send(job, payload, { id, debounce })`) on dynalite: the real dedupe store and job records, the
 * producer with a fake SQS and Scheduler that keep what they were sent, and the consumer's start decision
 * (`JobRecords.start`) for each message sent. A clock stands in for time passing between sends.
 */

import {
  type AttributeValue,
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  type BatchEntry,
  JobSendError,
  type OneTimeSchedule,
  Producer,
  type ProducerCollaborators,
  ProducerConfigError,
  type SendOptions,
} from '../../../lambda/producer/producer';
import { DEDUPE_TABLE } from '../../../lambda/shared/contracts';
import { createDynamoDedupeStore, type DedupeStore } from '../../../lambda/shared/dedupe-store';
import { MAX_SQS_RETENTION_SECONDS, parseEnvelope } from '../../../lambda/shared/envelope';
import { idempotencyWorkKey } from '../../../lambda/shared/idempotency-key';
import { defineJob, JOB_DEBOUNCE_HEADER } from '../../../lambda/shared/job';
import { JobRecords, jobRecordKey, replacesDebouncedSend } from '../../../lambda/shared/job-record';
import { testClock, useDedupeTable } from '../../helpers/local/dedupe-table';

const WINDOW_SECONDS = 3600;
const job = defineJob('doc.reindex', z.object({ edit: z.number() }), { queue: 'jobs' });
/** A Date where a duration belongs: a fixed one, so the names of the cases it is in stay the same from run to run. */
const A_DATE = new Date(Date.UTC(2026, 0, 1));
const fifoJob = defineJob('order.ship', z.object({ edit: z.number() }), { queue: 'orders' });
const largeJob = defineJob('doc.render', z.object({ edit: z.number(), text: z.string() }), { queue: 'jobs' });

let client: DynamoDBClient;
const table = 'debounce-dedupe';
useDedupeTable(table, (ready) => {
  client = ready;
});

/**
 * The producer on the real store; `records` may wrap the real records (to act between a read and a write), and
 * `wrapDedupe` the real dedupe store (to act between a message sent and its record written).
 */
function producerAt(
  now: () => number,
  wrap: (records: JobRecords) => ProducerCollaborators['records'] = (records) => records,
  wrapDedupe: (store: DedupeStore) => DedupeStore = (store) => store,
  attempts = 1,
) {
  const sent: BatchEntry[] = [];
  const schedules: OneTimeSchedule[] = [];
  const deleted: string[] = [];
  const stored: string[] = [];
  const records = new JobRecords(client, table, now);
  const deps: ProducerCollaborators = {
    queues: {
      jobs: { name: 'jobs', url: 'https://sqs/jobs', arn: 'arn:aws:sqs:eu-west-1:1:jobs', fifo: false },
      orders: { name: 'orders', url: 'https://sqs/orders.fifo', fifo: true },
    },
    settings: {
      dedupe: { tableName: table, ttlSeconds: WINDOW_SECONDS },
      scheduler: { namePrefix: 'App-job-', roleArn: 'arn:aws:iam::1:role/send' },
      payloads: { bucket: 'payloads', inlineLimitBytes: 2048 },
    },
    scheduler: {
      async create(schedule) {
        schedules.push(schedule);
      },
      async delete(name) {
        deleted.push(name);
        return true;
      },
    },
    retry: { attempts, baseDelayMs: 1 },
    now,
    sleep: async () => {},
    async sendBatch(_url, entries) {
      sent.push(...entries);
      return [];
    },
    putPayload: async (object) => {
      stored.push(object.key);
    },
    dedupe: wrapDedupe(
      createDynamoDedupeStore({ client, tableName: table, ttlSeconds: WINDOW_SECONDS, now }),
    ),
    records: wrap(records),
  };
  return { producer: new Producer(deps), deps, records, sent, schedules, deleted, stored };
}

/** What the consumer decides for a message: its record's start, as `runJob` calls it (attempt 1). */
function startOf(records: JobRecords, body: string) {
  const envelope = parseEnvelope(body);
  return records.start(envelope.id, 1, envelope.generation, undefined, envelope.headers[JOB_DEBOUNCE_HEADER]);
}

/** The expiry (epoch seconds) the record of job `id` has in the table, as DynamoDB's TTL reads it. */
async function expiryOf(id: string): Promise<number> {
  const { Item } = await client.send(
    new GetItemCommand({
      TableName: table,
      Key: { [DEDUPE_TABLE.partitionKey]: { S: jobRecordKey(id) } },
      ConsistentRead: true,
    }),
  );
  return Number(Item?.[DEDUPE_TABLE.ttlAttribute]?.N);
}

/**
 * `JobRecords.debounced` whose first write lands and whose answer is then lost (a socket reset, a timeout), as the
 * SDK sees it; `meanwhile` acts between the write and the lost answer.
 */
function loseFirstAnswer(
  real: JobRecords,
  meanwhile: () => Promise<unknown> | undefined = async () => undefined,
): JobRecords['debounced'] {
  let lose = true;
  return async (id, send) => {
    const written = await real.debounced(id, send);
    if (!lose) return written;
    lose = false;
    await meanwhile();
    throw new Error('TimeoutError: socket hang up');
  };
}

const payloadOf = (entry: BatchEntry | undefined) =>
  JSON.parse(parseEnvelope(entry?.MessageBody ?? '').body ?? '');

type Clock = ReturnType<typeof testClock>;
const throughputExceeded = () => new Error('ProvisionedThroughputExceededException: slow down');

/** The real job records but for `debounced`, which `replace` builds around the real one. */
const debouncedBy =
  (replace: (real: JobRecords) => JobRecords['debounced']) =>
  (real: JobRecords): ProducerCollaborators['records'] => ({
    read: (id) => real.read(id),
    cancel: (id) => real.cancel(id),
    debounced: replace(real),
  });

/**
 * Job records whose next `debounced` call first runs `meanwhile.next` (once, then forgets it): what other sends or
 * the consumer do between a send's read of the record and its write.
 */
function interruptedRecords() {
  const meanwhile: { next?: () => Promise<unknown> } = {};
  const wrap = debouncedBy((real) => async (id, send) => {
    const next = meanwhile.next;
    meanwhile.next = undefined;
    await next?.();
    return real.debounced(id, send);
  });
  return { meanwhile, wrap };
}

/** The real dedupe store, whose claim completion (the write of a cycle's first send's record) always fails. */
const failingComplete = (real: DedupeStore): DedupeStore => ({
  ...real,
  complete: async () => {
    throw throughputExceeded();
  },
});

/**
 * A producer (three attempts) whose first claim completion stalls past the claim's 30-second lease, during which
 * `meanwhile` runs: another send of the id takes the claim over before this send's write goes on.
 */
function stalledPastLease(time: Clock, meanwhile: () => Promise<unknown>) {
  let overtaken = false;
  return producerAt(
    time.now,
    undefined,
    (real) => ({
      ...real,
      async complete(key, token, fields, onlyIf) {
        if (!overtaken) {
          overtaken = true;
          time.advance(31);
          await meanwhile();
        }
        return real.complete(key, token, fields, onlyIf);
      },
    }),
    3,
  );
}

describe('a debounced job', () => {
  it('takes each send before it starts: the due time moves to its period after the last, whose message alone runs', async () => {
    const time = testClock();
    const { producer, records, sent, deleted } = producerAt(time.now);
    const results = [];
    for (const edit of [1, 2, 3]) {
      results.push(await producer.send(job, { edit }, { id: 'doc-1', debounce: { seconds: 30 } }));
      time.advance(5);
    }
    expect(results.map((r) => [r.state, r.duplicate, r.dueAt])).toEqual([
      ['scheduled', false, '2026-11-30T12:00:30.000Z'],
      ['scheduled', false, '2026-11-30T12:00:35.000Z'],
      ['scheduled', false, '2026-11-30T12:00:40.000Z'],
    ]);
    expect(sent.map((entry) => entry.DelaySeconds)).toEqual([30, 30, 30]);
    // Through SQS: no schedule to delete.
    expect(deleted).toEqual([]);
    expect(await producer.status('doc-1')).toMatchObject({
      state: 'scheduled',
      dueAt: '2026-11-30T12:00:40.000Z',
      debounce: { sends: 3 },
    });
    time.advance(30);
    const decisions = [];
    for (const entry of sent) decisions.push(await startOf(records, entry.MessageBody));
    expect(decisions).toEqual(['superseded', 'superseded', 'run']);
    expect(payloadOf(sent[2])).toEqual({ edit: 3 });
    // Each send is its own consumer work, so a skipped send never holds the key of the one that runs.
    const keys = sent.map((entry) => idempotencyWorkKey('jobs', parseEnvelope(entry.MessageBody)));
    expect(new Set(keys).size).toBe(3);
  });

  it('starts a new cycle, which runs again, when sent once it started; what the last cycle left is skipped', async () => {
    const time = testClock();
    const { producer, records, sent } = producerAt(time.now);
    await producer.send(job, { edit: 1 }, { id: 'doc-2', debounce: { seconds: 10 } });
    await producer.send(job, { edit: 2 }, { id: 'doc-2', debounce: { seconds: 10 } });
    time.advance(10);
    expect(await startOf(records, sent[1]?.MessageBody ?? '')).toBe('run');
    const during = await producer.send(job, { edit: 3 }, { id: 'doc-2', debounce: { seconds: 10 } });
    expect(during).toMatchObject({ state: 'scheduled', duplicate: false });
    // The new cycle's message only: a send that finds the job started sends nothing for the cycle that ended.
    expect(sent).toHaveLength(3);
    const [first, , third] = sent.map((entry) => parseEnvelope(entry.MessageBody));
    expect(third?.generation).not.toBe(first?.generation);
    expect(await producer.status('doc-2')).toMatchObject({ state: 'scheduled', debounce: { sends: 1 } });
    expect(await startOf(records, sent[0]?.MessageBody ?? '')).toBe('superseded');
    time.advance(10);
    expect(await startOf(records, sent[2]?.MessageBody ?? '')).toBe('run');
    expect(payloadOf(sent[2])).toEqual({ edit: 3 });
  });

  it('starts a new cycle when the job starts between the claim and the write that would have taken the send', async () => {
    const time = testClock();
    const { meanwhile, wrap } = interruptedRecords();
    const { producer, records, sent } = producerAt(time.now, wrap);
    await producer.send(job, { edit: 1 }, { id: 'doc-3', debounce: { seconds: 10 } });
    meanwhile.next = () => startOf(records, sent[0]?.MessageBody ?? '');
    const raced = await producer.send(job, { edit: 2 }, { id: 'doc-3', debounce: { seconds: 10 } });
    expect(raced).toMatchObject({ state: 'scheduled', duplicate: false });
    // The message the refused write would have named, then the new cycle's.
    expect(sent).toHaveLength(3);
    expect(await startOf(records, sent[1]?.MessageBody ?? '')).toBe('superseded');
    expect(await startOf(records, sent[2]?.MessageBody ?? '')).toBe('run');
    expect(payloadOf(sent[2])).toEqual({ edit: 2 });
  });

  it('fails a send whose record write failed, whose message is then skipped: the send before it runs', async () => {
    const time = testClock();
    const { producer, records, sent } = producerAt(
      time.now,
      debouncedBy(() => async () => {
        throw throughputExceeded();
      }),
    );
    await producer.send(job, { edit: 1 }, { id: 'doc-4', debounce: { seconds: 10 } });
    const error = await producer
      .send(job, { edit: 2 }, { id: 'doc-4', debounce: { seconds: 10 } })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JobSendError);
    expect((error as Error).message).toMatch(
      /its message was sent, but its record could not name it, so the send before it runs: Error: ProvisionedThroughputExceededException/,
    );
    expect(await producer.status('doc-4')).toMatchObject({ state: 'scheduled', debounce: { sends: 1 } });
    time.advance(10);
    expect(await startOf(records, sent[1]?.MessageBody ?? '')).toBe('superseded');
    expect(await startOf(records, sent[0]?.MessageBody ?? '')).toBe('run');
  });

  it("runs a cycle's first send when the consumer starts it before the send's record write lands, and only once", async () => {
    const time = testClock();
    let race: (() => Promise<unknown>) | undefined;
    const decided: unknown[] = [];
    const { producer, records, sent } = producerAt(time.now, undefined, (real) => ({
      ...real,
      async complete(key, token, fields, onlyIf) {
        // The message is on the queue already: its consumer may start it before this write lands.
        if (race) decided.push(await race());
        race = undefined;
        return real.complete(key, token, fields, onlyIf);
      },
    }));
    race = () => startOf(records, sent[0]?.MessageBody ?? '');
    await producer.send(job, { edit: 1 }, { id: 'doc-early', debounce: { seconds: 1 } });
    expect(decided).toEqual(['run']);
    expect(await producer.status('doc-early')).toMatchObject({ state: 'processing', debounce: { sends: 1 } });
    // A send now starts a new cycle: the job started.
    await producer.send(job, { edit: 2 }, { id: 'doc-early', debounce: { seconds: 1 } });
    expect(sent).toHaveLength(2);
    expect(await startOf(records, sent[1]?.MessageBody ?? '')).toBe('run');
  });

  it("runs a cycle's first send whose record write failed after its message was sent", async () => {
    const time = testClock();
    const { producer, records, sent } = producerAt(time.now, undefined, failingComplete);
    // The message is durably queued, so the send reports it sent, as any job's.
    expect(
      await producer.send(job, { edit: 1 }, { id: 'doc-unwritten', debounce: { seconds: 5 } }),
    ).toMatchObject({ state: 'scheduled', duplicate: false });
    time.advance(5);
    expect(await startOf(records, sent[0]?.MessageBody ?? '')).toBe('run');
    expect(await startOf(records, sent[0]?.MessageBody ?? '')).toBe('run');
  });

  it("starts a new cycle, whose send runs, when sent once the job started although its first send's record write failed", async () => {
    const time = testClock();
    let failWrite = true;
    const { producer, records, sent } = producerAt(time.now, undefined, (real) => ({
      ...real,
      async complete(key, token, fields, onlyIf) {
        if (failWrite) throw throughputExceeded();
        return real.complete(key, token, fields, onlyIf);
      },
    }));
    await producer.send(job, { edit: 1 }, { id: 'doc-started', debounce: { seconds: 5 } });
    failWrite = false;
    time.advance(5);
    expect(await startOf(records, sent[0]?.MessageBody ?? '')).toBe('run');
    // Past the claim's lease too: the send never continues the first send's enqueue, whose job started.
    time.advance(60);
    const later = await producer.send(job, { edit: 2 }, { id: 'doc-started', debounce: { seconds: 5 } });
    expect(later).toMatchObject({ state: 'scheduled', duplicate: false });
    expect(await producer.status('doc-started')).toMatchObject({
      state: 'scheduled',
      debounce: { sends: 1 },
    });
    time.advance(5);
    expect(await startOf(records, sent[1]?.MessageBody ?? '')).toBe('run');
    expect(payloadOf(sent[1])).toEqual({ edit: 2 });
    // The first cycle's run, were it retried, gives way to the new one.
    expect(await startOf(records, sent[0]?.MessageBody ?? '')).toBe('superseded');
  });

  it("runs a send that took over a first send's pending claim when that first send starts before its record write lands", async () => {
    const time = testClock();
    let failWrite = true;
    let race: (() => Promise<unknown>) | undefined;
    const decided: unknown[] = [];
    let completes = 0;
    const { producer, records, sent } = producerAt(
      time.now,
      undefined,
      (real) => ({
        ...real,
        async complete(key, token, fields, onlyIf) {
          if (failWrite) throw throughputExceeded();
          completes++;
          // The takeover's message is out: the first send's message comes due and its consumer starts it now.
          if (race) decided.push(await race());
          race = undefined;
          return real.complete(key, token, fields, onlyIf);
        },
      }),
      3,
    );
    await producer.send(job, { edit: 1 }, { id: 'doc-overtaken', debounce: { seconds: 5 } });
    failWrite = false;
    // Past the first send's lease, its record still pending and naming no send: the next send takes the claim over.
    time.advance(31);
    race = () => startOf(records, sent[0]?.MessageBody ?? '');
    const later = await producer.send(job, { edit: 2 }, { id: 'doc-overtaken', debounce: { seconds: 5 } });
    expect(decided).toEqual(['run']);
    expect(later).toMatchObject({ state: 'scheduled', duplicate: false });
    // The refused write is tried once (a refusal is an answer, not a fault), then the new cycle's lands.
    expect(completes).toBe(2);
    const last = sent.at(-1);
    expect(payloadOf(last)).toEqual({ edit: 2 });
    expect(await producer.status('doc-overtaken')).toMatchObject({
      state: 'scheduled',
      debounce: { sends: 1 },
    });
    time.advance(5);
    expect(await startOf(records, last?.MessageBody ?? '')).toBe('run');
    // The takeover's own message, sent before the job started, gives way to the new cycle's.
    expect(await startOf(records, sent[1]?.MessageBody ?? '')).toBe('superseded');
  });

  it("answers a send whose claim another send took over, its lease run out, as sent and keeps its schedule while the taker's write has not landed", async () => {
    const time = testClock();
    // The send that takes the claim over: its message goes out, its record write fails (the record stays pending).
    const taker = producerAt(time.now, undefined, failingComplete);
    // This send stalls past its lease: the next send of the id takes the claim over.
    const first = stalledPastLease(time, () =>
      taker.producer.send(job, { edit: 2 }, { id: 'doc-taken', debounce: { minutes: 20 } }),
    );
    const answer = await first.producer.send(
      job,
      { edit: 1 },
      { id: 'doc-taken', debounce: { minutes: 20 } },
    );
    expect(answer).toMatchObject({ state: 'scheduled', duplicate: false, dueAt: '2026-11-30T12:20:00.000Z' });
    // Its schedule stays: the record names no send yet, so whichever message starts first runs.
    expect(first.schedules).toHaveLength(1);
    expect([...first.deleted, ...taker.deleted]).toEqual([]);
    time.advance(20 * 60);
    expect(await startOf(first.records, first.schedules[0]?.input ?? '')).toBe('run');
    expect(payloadOf({ MessageBody: first.schedules[0]?.input ?? '' } as BatchEntry)).toEqual({ edit: 1 });
    expect(await startOf(first.records, taker.schedules[0]?.input ?? '')).toBe('superseded');
  });

  it('answers a send whose claim another send took over as sent, without a new cycle, when its own message started before its refused write', async () => {
    const time = testClock();
    const taker = producerAt(time.now, undefined, failingComplete);
    const first = stalledPastLease(time, async () => {
      await taker.producer.send(job, { edit: 2 }, { id: 'doc-ran-first', debounce: { seconds: 5 } });
      // This send's message came due first: its consumer starts it, the record naming no send yet.
      expect(await startOf(first.records, first.sent[0]?.MessageBody ?? '')).toBe('run');
    });
    const answer = await first.producer.send(
      job,
      { edit: 1 },
      { id: 'doc-ran-first', debounce: { seconds: 5 } },
    );
    expect(answer).toMatchObject({ state: 'scheduled', duplicate: false });
    // Its payload ran: it is not sent again in a new cycle, where it would run a second time.
    expect(first.sent).toHaveLength(1);
    const status = await first.producer.status('doc-ran-first');
    expect(status).toMatchObject({ state: 'processing', debounce: { sends: 1 } });
    expect(status?.generation).toBe(parseEnvelope(first.sent[0]?.MessageBody ?? '').generation);
  });

  it("names a send whose claim another send took over after the taker, once the taker's write landed: the send's payload runs", async () => {
    const time = testClock();
    const taker = producerAt(time.now);
    const first = stalledPastLease(time, () =>
      taker.producer.send(job, { edit: 2 }, { id: 'doc-after-taker', debounce: { minutes: 20 } }),
    );
    const answer = await first.producer.send(
      job,
      { edit: 1 },
      { id: 'doc-after-taker', debounce: { minutes: 20 } },
    );
    expect(answer).toMatchObject({ state: 'scheduled', duplicate: false });
    // Written after the taker: the taker's schedule is deleted, this send's (one name, created again) runs.
    expect(first.deleted).toEqual([taker.schedules[0]?.name]);
    expect(await first.producer.status('doc-after-taker')).toMatchObject({
      scheduleName: first.schedules[0]?.name,
      debounce: { sends: 2 },
    });
    expect(new Set(first.schedules.map((schedule) => schedule.name)).size).toBe(1);
    time.advance(20 * 60);
    expect(await startOf(first.records, first.schedules.at(-1)?.input ?? '')).toBe('run');
  });

  it('never deletes the schedule of its own send when its record write is retried after its answer was lost', async () => {
    const time = testClock();
    let loseAnswer = true;
    const { producer, schedules, deleted } = producerAt(
      time.now,
      debouncedBy((real) => async (id, send) => {
        const written = await real.debounced(id, send);
        if (!loseAnswer) return written;
        loseAnswer = false;
        throw new Error('socket hang up');
      }),
      undefined,
      2,
    );
    await producer.send(job, { edit: 1 }, { id: 'doc-lost', debounce: { minutes: 20 } });
    time.advance(60);
    await producer.send(job, { edit: 2 }, { id: 'doc-lost', debounce: { minutes: 20 } });
    expect(schedules).toHaveLength(2);
    // The retry reads the record the lost write left, which names this send's schedule already: that one stays.
    expect(deleted).not.toContain(schedules[1]?.name);
    expect((await producer.status('doc-lost'))?.scheduleName).toBe(schedules[1]?.name);
  });

  it('counts a send once and deletes the schedule it replaced when its record write landed but its answer was lost', async () => {
    const time = testClock();
    const { producer, schedules, deleted } = producerAt(
      time.now,
      debouncedBy((real) => loseFirstAnswer(real)),
      undefined,
      3,
    );
    await producer.send(job, { edit: 1 }, { id: 'doc-repeat', debounce: { minutes: 20 } });
    time.advance(60);
    const second = await producer.send(job, { edit: 2 }, { id: 'doc-repeat', debounce: { minutes: 20 } });
    expect(second).toMatchObject({ state: 'scheduled', duplicate: false, dueAt: '2026-11-30T12:21:00.000Z' });
    expect(deleted).toEqual([schedules[0]?.name]);
    expect(await producer.status('doc-repeat')).toMatchObject({
      state: 'scheduled',
      dueAt: '2026-11-30T12:21:00.000Z',
      scheduleName: schedules[1]?.name,
      debounce: { sends: 2 },
    });
  });

  it("counts a send once and deletes the schedule it replaced when DynamoDB's answer to its landed record write is lost", async () => {
    const time = testClock();
    let lose = true;
    // The client under the real job records: the write that names the send lands, then its answer is lost.
    const losing = {
      async send(command: Parameters<DynamoDBClient['send']>[0]) {
        const answer = await client.send(command);
        const namesSend =
          command instanceof UpdateItemCommand &&
          command.input.UpdateExpression?.includes('ADD debounceSends');
        if (!namesSend || !lose) return answer;
        lose = false;
        throw Object.assign(new Error('socket hang up'), { name: 'TimeoutError' });
      },
    } as unknown as DynamoDBClient;
    const { producer, schedules, deleted } = producerAt(
      time.now,
      () => new JobRecords(losing, table, time.now),
      undefined,
      3,
    );
    await producer.send(job, { edit: 1 }, { id: 'doc-lost-answer', debounce: { minutes: 20 } });
    time.advance(60);
    expect(
      await producer.send(job, { edit: 2 }, { id: 'doc-lost-answer', debounce: { minutes: 20 } }),
    ).toMatchObject({ state: 'scheduled', duplicate: false, dueAt: '2026-11-30T12:21:00.000Z' });
    // The retry found its own write: the send counted once, the schedule it replaced deleted, its own kept.
    expect(lose).toBe(false);
    expect(deleted).toEqual([schedules[0]?.name]);
    expect(await producer.status('doc-lost-answer')).toMatchObject({
      scheduleName: schedules[1]?.name,
      debounce: { sends: 2 },
    });
  });

  it('answers a send whose record write landed before the job started, its answer lost, as sent: no new cycle', async () => {
    const time = testClock();
    let startBeforeAnswer: (() => Promise<unknown>) | undefined;
    const { producer, records, sent } = producerAt(
      time.now,
      debouncedBy((real) => loseFirstAnswer(real, () => startBeforeAnswer?.())),
      undefined,
      3,
    );
    await producer.send(job, { edit: 1 }, { id: 'doc-ran', debounce: { seconds: 10 } });
    startBeforeAnswer = () => startOf(records, sent[1]?.MessageBody ?? '');
    const second = await producer.send(job, { edit: 2 }, { id: 'doc-ran', debounce: { seconds: 10 } });
    expect(second).toMatchObject({ state: 'scheduled', duplicate: false, dueAt: '2026-11-30T12:00:10.000Z' });
    // Its own message is the one that started: nothing more is sent, and its cycle counts it once.
    expect(sent).toHaveLength(2);
    expect(await producer.status('doc-ran')).toMatchObject({ state: 'processing', debounce: { sends: 2 } });
    expect(await startOf(records, sent[0]?.MessageBody ?? '')).toBe('superseded');
  });

  it('keeps the schedule of a later send that replaced a send whose retried write had landed, its answer lost', async () => {
    const time = testClock();
    let between: (() => Promise<unknown>) | undefined;
    const { producer, schedules, deleted } = producerAt(
      time.now,
      debouncedBy((real) => loseFirstAnswer(real, () => between?.())),
      undefined,
      3,
    );
    const other = producerAt(time.now);
    await producer.send(job, { edit: 1 }, { id: 'doc-aba', debounce: { minutes: 20 } });
    // Another send, made while this one's write was retried: it replaced this send (and deleted its schedule).
    between = () => other.producer.send(job, { edit: 3 }, { id: 'doc-aba', debounce: { minutes: 20 } });
    const replaced = await producer.send(job, { edit: 2 }, { id: 'doc-aba', debounce: { minutes: 20 } });
    expect(replaced).toMatchObject({ state: 'scheduled', duplicate: false });
    const later = other.schedules[0]?.name;
    expect(await producer.status('doc-aba')).toMatchObject({
      state: 'scheduled',
      scheduleName: later,
      debounce: { sends: 3 },
    });
    // The schedule that sends the job is never deleted; the two it replaced are.
    expect([...deleted, ...other.deleted]).not.toContain(later);
    expect(new Set([...deleted, ...other.deleted])).toEqual(
      new Set([schedules[0]?.name, schedules[1]?.name]),
    );
  });

  it('names itself after a later send taken before its retry when its own write had not landed', async () => {
    const time = testClock();
    let failed = false;
    const other = producerAt(time.now);
    const { producer, schedules, deleted } = producerAt(
      time.now,
      debouncedBy((real) => async (id, send) => {
        if (failed) return real.debounced(id, send);
        failed = true;
        await other.producer.send(job, { edit: 3 }, { id: 'doc-unlanded', debounce: { minutes: 20 } });
        throw new Error('TimeoutError: socket hang up');
      }),
      undefined,
      3,
    );
    await producer.send(job, { edit: 1 }, { id: 'doc-unlanded', debounce: { minutes: 20 } });
    expect(
      await producer.send(job, { edit: 2 }, { id: 'doc-unlanded', debounce: { minutes: 20 } }),
    ).toMatchObject({ state: 'scheduled', duplicate: false });
    // One send was taken since its read, the other's: its own write never landed, so it is written after it.
    expect(await producer.status('doc-unlanded')).toMatchObject({
      scheduleName: schedules[1]?.name,
      debounce: { sends: 3 },
    });
    expect(other.deleted).toEqual([schedules[0]?.name]);
    expect(deleted).toEqual([other.schedules[0]?.name]);
  });

  it('never names itself again over a later send when the SDK repeats its write after the answer was lost', async () => {
    const time = testClock();
    let between: (() => Promise<unknown>) | undefined;
    // The SDK's own retry: the write lands, its answer is lost, another send is taken, and the same request goes again.
    const sdkRetrying = {
      async send(command: Parameters<DynamoDBClient['send']>[0]) {
        const others = command instanceof UpdateItemCommand ? between : undefined;
        if (!others) return client.send(command);
        between = undefined;
        await client.send(command);
        await others();
        return client.send(command);
      },
    } as unknown as DynamoDBClient;
    const { producer, schedules, deleted } = producerAt(
      time.now,
      () => new JobRecords(sdkRetrying, table, time.now),
    );
    const other = producerAt(time.now);
    await producer.send(job, { edit: 1 }, { id: 'doc-sdk', debounce: { minutes: 20 } });
    between = () => other.producer.send(job, { edit: 3 }, { id: 'doc-sdk', debounce: { minutes: 20 } });
    await producer.send(job, { edit: 2 }, { id: 'doc-sdk', debounce: { minutes: 20 } });
    const later = other.schedules[0]?.name;
    expect(await producer.status('doc-sdk')).toMatchObject({ scheduleName: later, debounce: { sends: 3 } });
    expect([...deleted, ...other.deleted]).not.toContain(later);
    expect(new Set([...deleted, ...other.deleted])).toEqual(
      new Set([schedules[0]?.name, schedules[1]?.name]),
    );
  });

  it('gives way to the send the record names when more than one was taken between its read and its write', async () => {
    const time = testClock();
    const { meanwhile, wrap } = interruptedRecords();
    const { producer, schedules, deleted } = producerAt(time.now, wrap);
    const other = producerAt(time.now);
    await producer.send(job, { edit: 1 }, { id: 'doc-crowd', debounce: { minutes: 20 } });
    meanwhile.next = async () => {
      await other.producer.send(job, { edit: 3 }, { id: 'doc-crowd', debounce: { minutes: 20 } });
      await other.producer.send(job, { edit: 4 }, { id: 'doc-crowd', debounce: { minutes: 20 } });
    };
    expect(
      await producer.send(job, { edit: 2 }, { id: 'doc-crowd', debounce: { minutes: 20 } }),
    ).toMatchObject({ state: 'scheduled', duplicate: false });
    // Its own write could be among them (an SDK retry of a lost answer): it is not named again over them.
    expect(await producer.status('doc-crowd')).toMatchObject({
      scheduleName: other.schedules[1]?.name,
      debounce: { sends: 3 },
    });
    expect(deleted).toEqual([schedules[0]?.name, schedules[1]?.name]);
  });

  it('answers a send that gives way with when the job runs: the due time of the send the record names', async () => {
    const time = testClock();
    const { meanwhile, wrap } = interruptedRecords();
    const { producer } = producerAt(time.now, wrap);
    const other = producerAt(time.now);
    await producer.send(job, { edit: 1 }, { id: 'doc-gave-way', debounce: { seconds: 30 } });
    meanwhile.next = async () => {
      time.advance(5);
      await other.producer.send(job, { edit: 3 }, { id: 'doc-gave-way', debounce: { seconds: 30 } });
      time.advance(5);
      await other.producer.send(job, { edit: 4 }, { id: 'doc-gave-way', debounce: { seconds: 30 } });
    };
    const gaveWay = await producer.send(job, { edit: 2 }, { id: 'doc-gave-way', debounce: { seconds: 30 } });
    // Its own message was due at 12:00:30; the job runs the send the record names, due 10 seconds later.
    expect(gaveWay).toMatchObject({
      state: 'scheduled',
      duplicate: false,
      dueAt: '2026-11-30T12:00:40.000Z',
    });
    expect(await producer.status('doc-gave-way')).toMatchObject({
      dueAt: '2026-11-30T12:00:40.000Z',
      debounce: { sends: 3 },
    });
  });

  it('names the send whose write comes last when another send is taken between its read and its write', async () => {
    const time = testClock();
    const { meanwhile, wrap } = interruptedRecords();
    const { producer, schedules, deleted } = producerAt(time.now, wrap);
    const other = producerAt(time.now);
    await producer.send(job, { edit: 1 }, { id: 'doc-between', debounce: { minutes: 20 } });
    meanwhile.next = () =>
      other.producer.send(job, { edit: 3 }, { id: 'doc-between', debounce: { minutes: 20 } });
    await producer.send(job, { edit: 2 }, { id: 'doc-between', debounce: { minutes: 20 } });
    expect(await producer.status('doc-between')).toMatchObject({
      scheduleName: schedules[1]?.name,
      debounce: { sends: 3 },
    });
    expect(other.deleted).toEqual([schedules[0]?.name]);
    expect(deleted).toEqual([other.schedules[0]?.name]);
  });

  it("counts a cycle's first send once when its record write landed but its answer was lost", async () => {
    const time = testClock();
    let loseAnswer = true;
    const { producer } = producerAt(
      time.now,
      undefined,
      (real) => ({
        ...real,
        async complete(key, token, fields, onlyIf) {
          await real.complete(key, token, fields, onlyIf);
          if (!loseAnswer) return;
          loseAnswer = false;
          throw new Error('TimeoutError: socket hang up');
        },
      }),
      3,
    );
    const first = await producer.send(job, { edit: 1 }, { id: 'doc-first', debounce: { seconds: 10 } });
    expect(first).toMatchObject({ state: 'scheduled', duplicate: false });
    expect(await producer.status('doc-first')).toMatchObject({ state: 'scheduled', debounce: { sends: 1 } });
    await producer.send(job, { edit: 2 }, { id: 'doc-first', debounce: { seconds: 10 } });
    expect(await producer.status('doc-first')).toMatchObject({ debounce: { sends: 2 } });
  });

  it("answers a cycle's first send as sent when its record write landed, its answer lost, and a later send was taken before the retry", async () => {
    const time = testClock();
    const other = producerAt(time.now);
    let later: unknown;
    let loseAnswer = true;
    const first = producerAt(
      time.now,
      undefined,
      (real) => ({
        ...real,
        async complete(key, token, fields, onlyIf) {
          await real.complete(key, token, fields, onlyIf);
          if (!loseAnswer) return;
          loseAnswer = false;
          // Before the retry of the write that landed, a later send of the same cycle is taken.
          later = await other.producer.send(
            job,
            { edit: 2 },
            { id: 'doc-retried', debounce: { seconds: 10 } },
          );
          throw new Error('TimeoutError: socket hang up');
        },
      }),
      3,
    );
    const answer = await first.producer.send(
      job,
      { edit: 1 },
      { id: 'doc-retried', debounce: { seconds: 10 } },
    );
    expect(later).toMatchObject({ state: 'scheduled', duplicate: false });
    expect(answer).toMatchObject({ state: 'scheduled', duplicate: false });
    // The first send's message went out once; the later send's alone runs.
    expect(first.sent).toHaveLength(1);
    expect(await first.producer.status('doc-retried')).toMatchObject({ debounce: { sends: 2 } });
    time.advance(10);
    expect(await startOf(first.records, other.sent[0]?.MessageBody ?? '')).toBe('run');
    expect(await startOf(first.records, first.sent[0]?.MessageBody ?? '')).toBe('superseded');
  });

  it('starts a new cycle, which runs this send, when its record is deleted between its claim and the read of it', async () => {
    const time = testClock();
    let vanish = false;
    const { producer, records, sent } = producerAt(time.now, (real) => ({
      async read(id) {
        if (vanish) {
          vanish = false;
          // As DynamoDB's TTL deletes a record whose lifetime ended just after the claim found it.
          await client.send(
            new DeleteItemCommand({
              TableName: table,
              Key: { [DEDUPE_TABLE.partitionKey]: { S: jobRecordKey(id) } },
            }),
          );
        }
        return real.read(id);
      },
      cancel: (id) => real.cancel(id),
      debounced: (id, send) => real.debounced(id, send),
    }));
    await producer.send(job, { edit: 1 }, { id: 'doc-vanish', debounce: { seconds: 10 } });
    vanish = true;
    const later = await producer.send(job, { edit: 2 }, { id: 'doc-vanish', debounce: { seconds: 10 } });
    expect(later).toMatchObject({ state: 'scheduled', duplicate: false, dueAt: '2026-11-30T12:00:10.000Z' });
    expect(sent).toHaveLength(2);
    expect(await producer.status('doc-vanish')).toMatchObject({ state: 'scheduled', debounce: { sends: 1 } });
    time.advance(10);
    expect(await startOf(records, sent[1]?.MessageBody ?? '')).toBe('run');
    expect(payloadOf(sent[1])).toEqual({ edit: 2 });
  });

  it('keeps its record while its queue may keep its messages, so a send waiting beyond the dedupe window still alone runs', async () => {
    const time = testClock();
    const { producer, records, sent } = producerAt(time.now);
    await producer.send(job, { edit: 1 }, { id: 'doc-paused', debounce: { seconds: 30 } });
    const last = await producer.send(job, { edit: 2 }, { id: 'doc-paused', debounce: { seconds: 30 } });
    await producer.send(job, { edit: 1 }, { id: 'plain-paused' });
    // A queue paused for 13 days keeps its messages (retention up to 14 days); DynamoDB deletes an expired record.
    expect(await expiryOf('doc-paused')).toBe(
      Math.floor(Date.parse(last.dueAt ?? '') / 1000) + MAX_SQS_RETENTION_SECONDS,
    );
    expect(await expiryOf('plain-paused')).toBe(Math.floor(time.now() / 1000) + WINDOW_SECONDS);
    time.advance(13 * 86_400);
    expect(await producer.status('doc-paused')).toMatchObject({ state: 'queued', debounce: { sends: 2 } });
    expect(await startOf(records, sent[0]?.MessageBody ?? '')).toBe('superseded');
    expect(await startOf(records, sent[1]?.MessageBody ?? '')).toBe('run');
  });

  it('is a duplicate of a job its id was sent for without debounce, and a plain send of its id is its duplicate', async () => {
    const time = testClock();
    const { producer, sent } = producerAt(time.now);
    await producer.send(job, { edit: 1 }, { id: 'plain' });
    expect(await producer.send(job, { edit: 2 }, { id: 'plain', debounce: { seconds: 5 } })).toMatchObject({
      state: 'queued',
      duplicate: true,
    });
    await producer.send(job, { edit: 1 }, { id: 'debounced', debounce: { seconds: 5 } });
    expect(await producer.send(job, { edit: 2 }, { id: 'debounced' })).toMatchObject({
      state: 'scheduled',
      duplicate: true,
    });
    expect(sent).toHaveLength(2);
  });

  it('waits beyond 15 minutes with a schedule per send, deleting the one each send replaces', async () => {
    const time = testClock();
    const { producer, schedules, deleted } = producerAt(time.now);
    await producer.send(job, { edit: 1 }, { id: 'doc-long', debounce: { minutes: 20 } });
    time.advance(60);
    const last = await producer.send(job, { edit: 2 }, { id: 'doc-long', debounce: { minutes: 20 } });
    expect(last.dueAt).toBe('2026-11-30T12:21:00.000Z');
    expect(schedules.map((s) => s.at.toISOString())).toEqual([
      '2026-11-30T12:20:00.000Z',
      '2026-11-30T12:21:00.000Z',
    ]);
    expect(new Set(schedules.map((s) => s.name)).size).toBe(2);
    expect(deleted).toEqual([schedules[0]?.name]);
    expect((await producer.status('doc-long'))?.scheduleName).toBe(schedules[1]?.name);
  });

  it("keeps each send's large payload in an object of its own, so a later send never changes the one that runs", async () => {
    const { producer, sent, stored } = producerAt(testClock().now);
    const text = 'x'.repeat(4096);
    await producer.send(largeJob, { edit: 1, text }, { id: 'doc-large', debounce: { seconds: 5 } });
    await producer.send(largeJob, { edit: 2, text }, { id: 'doc-large', debounce: { seconds: 5 } });
    expect(new Set(stored).size).toBe(2);
    expect(sent.map((entry) => parseEnvelope(entry.MessageBody).payloadRef?.key)).toEqual(stored);
  });

  it('runs by its maxWait, with the last payload sent by then, when sends keep coming sooner than its period', async () => {
    const time = testClock();
    const { producer, records, sent } = producerAt(time.now);
    const debounce = { period: { seconds: 30 }, maxWait: { minutes: 1 } };
    const dueAtMs: number[] = [];
    const runs: { edit: number; atSecond: number }[] = [];
    const start = time.now();
    // A send every 10 seconds for 2 minutes; each second, the consumer takes the messages that came due.
    for (let second = 0; second <= 120; second++) {
      for (const [index, due] of dueAtMs.entries()) {
        if (due !== time.now()) continue;
        const body = sent[index]?.MessageBody ?? '';
        if ((await startOf(records, body)) === 'run')
          runs.push({ edit: payloadOf(sent[index]).edit, atSecond: second });
      }
      if (second % 10 === 0) {
        const before = sent.length;
        await producer.send(job, { edit: second / 10 + 1 }, { id: 'doc-busy', debounce });
        for (const entry of sent.slice(before)) dueAtMs.push(time.now() + (entry.DelaySeconds ?? 0) * 1000);
      }
      time.advance(1);
    }
    // The send at 50 s (edit 6) is due at 60 s, the cycle's first send plus maxWait; the send at 60 s finds it
    // started and begins the next cycle, which runs at 120 s with the send at 110 s (edit 12).
    expect(runs).toEqual([
      { edit: 6, atSecond: 60 },
      { edit: 12, atSecond: 120 },
    ]);
    expect(dueAtMs[5]).toBe(start + 60_000);
  });

  it('is due at once when a send finds its maxWait passed and the job not started yet', async () => {
    const time = testClock();
    const { producer, records, sent } = producerAt(time.now);
    const debounce = { period: { seconds: 10 }, maxWait: { seconds: 20 } };
    await producer.send(job, { edit: 1 }, { id: 'doc-late', debounce });
    time.advance(9);
    await producer.send(job, { edit: 2 }, { id: 'doc-late', debounce });
    time.advance(15);
    const late = await producer.send(job, { edit: 3 }, { id: 'doc-late', debounce });
    expect(late).toMatchObject({ state: 'queued', duplicate: false });
    expect(late.dueAt).toBeUndefined();
    expect(sent.map((entry) => entry.DelaySeconds)).toEqual([10, 10, undefined]);
    const status = await producer.status('doc-late');
    expect(status).toMatchObject({ state: 'queued', debounce: { sends: 3 } });
    expect(status?.dueAt).toBeUndefined();
    expect(await startOf(records, sent[1]?.MessageBody ?? '')).toBe('superseded');
    expect(await startOf(records, sent[2]?.MessageBody ?? '')).toBe('run');
    expect(payloadOf(sent[2])).toEqual({ edit: 3 });
  });

  it('takes a send capped below 15 minutes by its maxWait from a schedule to SQS, deleting the schedule it replaced', async () => {
    const time = testClock();
    const { producer, sent, schedules, deleted } = producerAt(time.now);
    const debounce = { period: { minutes: 20 }, maxWait: { minutes: 30 } };
    await producer.send(job, { edit: 1 }, { id: 'doc-capped', debounce });
    time.advance(12 * 60);
    await producer.send(job, { edit: 2 }, { id: 'doc-capped', debounce });
    time.advance(13 * 60);
    await producer.send(job, { edit: 3 }, { id: 'doc-capped', debounce });
    // Sent at 0, 12 and 25 minutes: due 20 minutes after the first; 30 after it (not 32), a schedule 18 minutes on;
    // 30 after it again, 5 minutes after the last send, so through SQS.
    expect(schedules.map((s) => s.at.toISOString())).toEqual([
      '2026-11-30T12:20:00.000Z',
      '2026-11-30T12:30:00.000Z',
    ]);
    expect(sent.map((entry) => entry.DelaySeconds)).toEqual([300]);
    expect(deleted).toEqual(schedules.map((s) => s.name));
    const status = await producer.status('doc-capped');
    expect(status).toMatchObject({ state: 'scheduled', dueAt: '2026-11-30T12:30:00.000Z' });
    expect(status?.scheduleName).toBeUndefined();
  });

  it('accepts a maxWait equal to its period', async () => {
    const { producer } = producerAt(testClock().now);
    const debounce = { period: { seconds: 30 }, maxWait: { seconds: 30 } };
    expect(await producer.send(job, { edit: 1 }, { id: 'doc-equal', debounce })).toMatchObject({
      state: 'scheduled',
      duplicate: false,
    });
  });

  it('waits a debounce of exactly 15 minutes through SQS, each later send too', async () => {
    const time = testClock();
    const { producer, sent, schedules } = producerAt(time.now);
    await producer.send(job, { edit: 1 }, { id: 'doc-15', debounce: { minutes: 15 } });
    time.advance(60);
    await producer.send(job, { edit: 2 }, { id: 'doc-15', debounce: { minutes: 15 } });
    expect(sent.map((entry) => entry.DelaySeconds)).toEqual([900, 900]);
    expect(schedules).toEqual([]);
  });

  it("moves the record's expiry with each send, to the longest SQS keeps that send's message after it is due", async () => {
    const time = testClock();
    const { producer } = producerAt(time.now);
    await producer.send(job, { edit: 1 }, { id: 'doc-expiry', debounce: { seconds: 30 } });
    time.advance(600);
    await producer.send(job, { edit: 2 }, { id: 'doc-expiry', debounce: { seconds: 30 } });
    const due = (await producer.status('doc-expiry'))?.dueAt ?? '';
    expect(await expiryOf('doc-expiry')).toBe(Date.parse(due) / 1000 + MAX_SQS_RETENTION_SECONDS);
  });

  it('is a duplicate, without debounce, of a debounced job that ran: its id is held as long as its record', async () => {
    const time = testClock();
    const { producer, records, sent } = producerAt(time.now);
    await producer.send(job, { edit: 1 }, { id: 'doc-held', debounce: { seconds: 5 } });
    time.advance(5);
    expect(await startOf(records, sent[0]?.MessageBody ?? '')).toBe('run');
    await records.complete('doc-held', null, parseEnvelope(sent[0]?.MessageBody ?? '').generation);
    expect(await producer.send(job, { edit: 2 }, { id: 'doc-held' })).toMatchObject({
      state: 'completed',
      duplicate: true,
    });
    expect(sent).toHaveLength(1);
  });

  it('fails a later send whose record cannot be read, sending nothing for it', async () => {
    const time = testClock();
    const { producer, sent } = producerAt(time.now, (real) => ({
      read: async () => {
        throw throughputExceeded();
      },
      cancel: (id) => real.cancel(id),
      debounced: (id, send) => real.debounced(id, send),
    }));
    await producer.send(job, { edit: 1 }, { id: 'doc-unread', debounce: { seconds: 10 } });
    const error = await producer
      .send(job, { edit: 2 }, { id: 'doc-unread', debounce: { seconds: 10 } })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JobSendError);
    expect((error as Error).message).toMatch(
      /dedupe table unavailable: .*ProvisionedThroughputExceededException/,
    );
    expect(sent).toHaveLength(1);
  });

  it('fails a later send whose message SQS refuses, and its record keeps naming the send before it', async () => {
    const time = testClock();
    const { producer, deps, records, sent } = producerAt(time.now);
    await producer.send(job, { edit: 1 }, { id: 'doc-refused', debounce: { seconds: 10 } });
    const refusing = new Producer({
      ...deps,
      async sendBatch() {
        throw new Error('AWS.SimpleQueueService.NonExistentQueue');
      },
    });
    await expect(
      refusing.send(job, { edit: 2 }, { id: 'doc-refused', debounce: { seconds: 10 } }),
    ).rejects.toThrow(/NonExistentQueue/);
    expect(await producer.status('doc-refused')).toMatchObject({ debounce: { sends: 1 } });
    time.advance(10);
    expect(await startOf(records, sent[0]?.MessageBody ?? '')).toBe('run');
  });

  it('gives up, saying so, on a job that starts under each of three sends', async () => {
    const time = testClock();
    const generation = 'g1';
    const waiting = { id: 'doc-busy', state: 'scheduled' as const, generation, debounce: { sends: 1 } };
    const { deps, sent } = producerAt(time.now);
    const busy = new Producer({
      ...deps,
      dedupe: {
        claim: async () => ({ status: 'duplicate' }),
        complete: async () => {},
        release: async () => {},
      },
      // Each read finds the job waiting, and each write finds it started.
      records: { read: async () => waiting, cancel: async () => undefined, debounced: async () => undefined },
    });
    const error = await busy
      .send(job, { edit: 1 }, { id: 'doc-busy', debounce: { seconds: 10 } })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JobSendError);
    expect((error as Error).message).toMatch(/the job started while each of 3 sends was made: send it again/);
    expect(sent).toHaveLength(3);
  });

  it.each([
    [{ debounce: { seconds: 30 } }, job, /debounce needs an id/],
    [
      { id: 'a', debounce: { period: { seconds: 30 }, maxWait: { seconds: 10 } } },
      job,
      /debounce maxWait \(10 s\) is shorter than its period \(30 s\): .*give maxWait at least the period/,
    ],
    [
      { id: 'a', debounce: { period: { seconds: 30 }, maxWait: { seconds: -5 } } },
      job,
      /debounce.maxWait \{ seconds: -5 \} is not a duration: seconds is not a finite number of 0 or more/,
    ],
    [
      { id: 'a', debounce: { period: { seconds: 30 }, maxWait: '5m' } },
      job,
      // A debounce takes no Date, so its refusal suggests none.
      /debounce.maxWait "5m" is not a duration: pass \{ seconds: n \} \(a number of milliseconds m is \{ seconds: m \/ 1000 \}\) or \{ minutes, hours, days \}$/,
    ],
    [
      { id: 'a', debounce: { period: { seconds: 30 }, maxWait: A_DATE } },
      job,
      /debounce.maxWait is a Date: pass a duration, such as \{ seconds: 30 \}, counted from the cycle's first send/,
    ],
    [{ id: 'a', debounce: { maxWait: { minutes: 5 } } }, job, /debounce has maxWait but no period/],
    [
      { id: 'a', debounce: { period: { seconds: 30 }, seconds: 5 } },
      job,
      /debounce has "seconds" beside period and maxWait: pass a duration/,
    ],
    [
      { id: 'a', debounce: { period: { seconds: 0.5 } } },
      job,
      /debounce period is 0.5 s: use at least 1 second/,
    ],
    [{ id: 'a', debounce: { seconds: 30 }, delay: { seconds: 5 } }, job, /debounce and delay both say when/],
    [{ id: 'a', debounce: { seconds: 30 } }, fifoJob, /queue "orders" is FIFO, where SQS cannot delay/],
    [{ id: 'a', debounce: A_DATE }, job, /debounce is a Date: pass a duration/],
    [{ id: 'a', debounce: { seconds: 0.5 } }, job, /use at least 1 second/],
    [
      { id: 'a', debounce: { period: { seconds: -5 } } },
      job,
      /debounce.period \{ seconds: -5 \} is not a duration: seconds is not a finite number/,
    ],
    [
      { id: 'a', debounce: { period: new Date(0) } },
      job,
      /debounce.period is a Date: pass a duration, such as \{ seconds: 30 \}, counted from each send/,
    ],
    [{ id: 'a', debounce: null }, job, /^job doc.reindex: debounce null .*is not a duration/],
    [
      { id: 'a', debounce: { period: { seconds: 30 }, seconds: 5, minutes: 1 } },
      job,
      /debounce has "seconds", "minutes" beside period and maxWait/,
    ],
    [
      { deduplication: { id: 'a', ttl: 5000, extend: true, replace: true } },
      job,
      /"deduplication" is not one send takes .*for debounce mode, send\(job, payload, \{ id, debounce \}\)/,
    ],
  ])('refuses %j with a ProducerConfigError', async (options, definition, message) => {
    const { producer, sent } = producerAt(testClock().now);
    // A caller in JavaScript may pass a Date, which the type refuses.
    const error = await producer
      .send(definition, { edit: 1 }, options as SendOptions)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProducerConfigError);
    expect((error as Error).message).toMatch(message);
    expect(sent).toHaveLength(0);
  });

  it.each([
    [
      'records that cannot name a send',
      { records: { read: async () => undefined, cancel: async () => undefined } },
    ],
    ['no dedupe table', { dedupe: undefined, records: undefined }],
  ])('is refused by a producer with %s, where each later send would run as well', async (_case, without) => {
    const { deps, sent } = producerAt(testClock().now);
    const bare = new Producer({ ...deps, ...without });
    const error = await bare
      .send(job, { edit: 1 }, { id: 'no-records', debounce: { seconds: 30 } })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProducerConfigError);
    expect((error as Error).message).toMatch(
      /^job doc.reindex: debounce needs the dedupe table: the job's record names the send that runs/,
    );
    expect(sent).toHaveLength(0);
  });

  it('is refused in sendBatch and in a flow, which do not send each job on its own', async () => {
    const { producer, sent } = producerAt(testClock().now);
    const options = { id: 'b', debounce: { seconds: 30 } };
    await expect(producer.sendBatch([{ job, payload: { edit: 1 }, options }])).rejects.toThrow(
      /sendBatch item 0 \(job doc.reindex\): debounce is for send only, which sends one job with its own record write: send them one by one with send$/,
    );
    await expect(
      producer.sendFlow({ job, payload: { edit: 1 }, children: [{ job, payload: { edit: 2 }, options }] }),
    ).rejects.toThrow(
      /sendFlow job 1 \(job doc.reindex\): debounce is for send only, .*: a flow's jobs run when their flow says: send a debounced job on its own with send$/,
    );
    expect(sent).toHaveLength(0);
  });
});

describe("a debounced job's record", () => {
  const item = (fields: Record<string, string>): Record<string, AttributeValue> =>
    Object.fromEntries(Object.entries(fields).map(([name, value]) => [name, { S: value }]));

  it('tells a letter of an earlier cycle it was replaced, also when the later cycle was cancelled, as its consumer skips it', () => {
    const later = item({ generation: 'g2', state: 'cancelled', debounceSend: 's9' });
    expect(replacesDebouncedSend(later, 'g1', 's1')).toBe(true);
    expect(replacesDebouncedSend(item({ generation: 'g2', state: 'queued' }), 'g1', 's1')).toBe(true);
  });

  it("never tells a cancelled job's letter it was replaced, as its consumer skips it cancelled", () => {
    expect(
      replacesDebouncedSend(item({ generation: 'g1', state: 'cancelled', debounceSend: 's2' }), 'g1', 's1'),
    ).toBe(false);
    expect(
      replacesDebouncedSend(item({ generation: 'g1', state: 'scheduled', debounceSend: 's2' }), 'g1', 's1'),
    ).toBe(true);
  });

  it('runs a letter whose record names no send yet, and one whose record is gone', async () => {
    expect(replacesDebouncedSend(item({ generation: 'g1', state: 'queued' }), 'g1', 's1')).toBe(false);
    expect(
      replacesDebouncedSend(item({ generation: 'g1', state: 'queued', debounceSend: 's1' }), 'g1', 's1'),
    ).toBe(false);
    const records = new JobRecords(client, table, testClock().now);
    expect(await records.replacedDebouncedSend('never-sent', 'g1', 's1')).toBe(false);
  });

  it('tells a send whose claim complete was refused that its message still runs only while the record of its enqueue names it, or none while a claim is pending', async () => {
    const records = new JobRecords(client, table, testClock().now);
    const runs = async (id: string, fields: Record<string, string>) => {
      await client.send(
        new PutItemCommand({
          TableName: table,
          Item: { ...item(fields), [DEDUPE_TABLE.partitionKey]: { S: jobRecordKey(id) } },
        }),
      );
      return records.runsDebouncedSend(id, 'g1', 's1');
    };
    expect(await runs('runs-pending', { generation: 'g1', status: 'pending' })).toBe(true);
    expect(
      await runs('runs-started', {
        generation: 'g1',
        status: 'pending',
        state: 'processing',
        debounceSend: 's1',
      }),
    ).toBe(true);
    expect(
      await runs('runs-named-other', {
        generation: 'g1',
        status: 'queued',
        state: 'scheduled',
        debounceSend: 's2',
      }),
    ).toBe(false);
    expect(await runs('runs-next-cycle', { generation: 'g2', status: 'pending' })).toBe(false);
    expect(
      await runs('runs-cancelled', {
        generation: 'g1',
        status: 'queued',
        state: 'cancelled',
        debounceSend: 's1',
      }),
    ).toBe(false);
    // A send without debounce took the claim over and completed it: its job holds the id.
    expect(await runs('runs-plain', { generation: 'g1', status: 'queued', state: 'queued' })).toBe(false);
    expect(await records.runsDebouncedSend('runs-gone', 'g1', 's1')).toBe(true);
  });

  it('runs a delivery of a send whose record is gone, untracked, as any job whose record expired', async () => {
    const records = new JobRecords(client, table, testClock().now);
    expect(await records.start('doc-gone', 1, 'g1', undefined, 's1')).toBe('untracked');
  });

  it("answers a repeat of a send's landed write as the write did, also from a store that returns no record on refusal", async () => {
    const time = testClock();
    const { producer, schedules } = producerAt(time.now);
    await producer.send(job, { edit: 1 }, { id: 'doc-quiet', debounce: { minutes: 20 } });
    const first = await producer.status('doc-quiet');
    // dynalite as it ships: a refused write's error carries no item, so the record is read instead.
    const quiet = {
      send: (command: Parameters<DynamoDBClient['send']>[0]) =>
        client.send(command).catch((error: unknown) => {
          throw Object.assign(error as Error, { Item: undefined });
        }),
    } as unknown as DynamoDBClient;
    const records = new JobRecords(quiet, table, time.now);
    const send = {
      generation: first?.generation as string,
      send: 's-repeat',
      dueAt: new Date('2026-11-30T12:21:00Z'),
      scheduleName: 'App-job-repeat',
      replaces: first?.scheduleName as string,
    };
    const calls: string[] = [];
    const counted = {
      send: (command: Parameters<DynamoDBClient['send']>[0]) => {
        calls.push(command.constructor.name);
        return client.send(command);
      },
    } as unknown as DynamoDBClient;
    const replaced = { replacedSchedule: schedules[0]?.name };
    expect(await new JobRecords(counted, table, time.now).debounced('doc-quiet', send)).toEqual(replaced);
    // DynamoDB (and local mode's dynalite) hands back the record a refused write found: no read.
    expect(await new JobRecords(counted, table, time.now).debounced('doc-quiet', send)).toEqual(replaced);
    expect(calls).toEqual(['UpdateItemCommand', 'UpdateItemCommand']);
    expect(await records.debounced('doc-quiet', send)).toEqual(replaced);
    expect(await producer.status('doc-quiet')).toMatchObject({ debounce: { sends: 2 } });
    // Another send's token is not this one's: its write is refused once the job started.
    await records.start('doc-quiet', 1, first?.generation, undefined, 's-repeat');
    expect(await records.debounced('doc-quiet', { ...send, send: 's-other' })).toBeUndefined();
  });

  it('fails a send whose record write fails for another reason than the job having started', async () => {
    const failing = {
      send: async () => {
        throw Object.assign(new Error('Rate of requests exceeds the allowed throughput'), {
          name: 'ThrottlingException',
        });
      },
    } as unknown as DynamoDBClient;
    const records = new JobRecords(failing, table, testClock().now);
    await expect(records.debounced('doc-throttled', { generation: 'g1', send: 's2' })).rejects.toThrow(
      /allowed throughput/,
    );
  });
});
