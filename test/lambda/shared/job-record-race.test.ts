import {
  type AttributeValue,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { DEDUPE_TABLE } from '../../../lambda/shared/contracts';
import { createDynamoDedupeStore } from '../../../lambda/shared/dedupe-store';
import {
  enqueuedJobFields,
  JobRecords,
  jobRecordKey,
  jobStatusOf,
  MAX_RESULT_BYTES,
} from '../../../lambda/shared/job-record';
import { useDedupeTable } from '../../helpers/local/dedupe-table';

// The producer sends a job, then records it as queued; a fast consumer can start and finish it in between.
describe('a job record written by the producer after the send', () => {
  let client: DynamoDBClient;
  const table = 'race-dedupe';
  useDedupeTable(table, (ready) => {
    client = ready;
  });

  it('never moves a job the consumer already finished back to queued', async () => {
    const dedupe = createDynamoDedupeStore({ client, tableName: table, ttlSeconds: 3600 });
    const records = new JobRecords(client, table);
    const claim = await dedupe.claim(jobRecordKey('fast-job'));
    if (claim.status !== 'claimed') throw new Error(`expected a claim, got ${claim.status}`);

    expect(await records.start('fast-job', 1, claim.generation)).toBe('run');
    await records.complete('fast-job', { sent: true }, claim.generation);
    await dedupe.complete(
      jobRecordKey('fast-job'),
      claim.token,
      enqueuedJobFields({ type: 'email.welcome', queue: 'events', enqueuedAt: new Date() }),
    );

    const status = await records.read('fast-job');
    expect(status?.state).toBe('completed');
    expect(status?.result).toEqual({ sent: true });
    expect(status?.type).toBe('email.welcome');
  });

  it('records a job the consumer has not seen yet as queued', async () => {
    const dedupe = createDynamoDedupeStore({ client, tableName: table, ttlSeconds: 3600 });
    const records = new JobRecords(client, table);
    const claim = await dedupe.claim(jobRecordKey('slow-job'));
    if (claim.status !== 'claimed') throw new Error(`expected a claim, got ${claim.status}`);
    await dedupe.complete(
      jobRecordKey('slow-job'),
      claim.token,
      enqueuedJobFields({ type: 'email.welcome', queue: 'events', enqueuedAt: new Date() }),
    );
    expect((await records.read('slow-job'))?.state).toBe('queued');
  });
});

const DUE = '2026-11-30T12:00:00.000Z';
const DUE_MS = Date.parse(DUE);
const item = (fields: Record<string, string>, id = 'j'): Record<string, AttributeValue> => ({
  [DEDUPE_TABLE.partitionKey]: { S: jobRecordKey(id) },
  ...Object.fromEntries(Object.entries(fields).map(([name, value]) => [name, { S: value }])),
});

describe('a job record as status reads it', () => {
  it('is scheduled until its due time and queued from then on', () => {
    const at = (state: string, nowMs: number) => jobStatusOf(item({ state, dueAt: DUE }), nowMs)?.state;
    expect([at('scheduled', DUE_MS - 1), at('scheduled', DUE_MS), at('scheduled', DUE_MS + 1)]).toEqual([
      'scheduled',
      'queued',
      'queued',
    ]);
    expect(at('queued', DUE_MS - 1)).toBe('scheduled');
  });

  it('keeps any other state, and a state without a due time, as stored', () => {
    expect(jobStatusOf(item({ state: 'completed', dueAt: DUE }), DUE_MS - 1)?.state).toBe('completed');
    expect(jobStatusOf(item({ state: 'cancelled', dueAt: DUE }), DUE_MS + 1)?.state).toBe('cancelled');
    expect(jobStatusOf(item({ state: 'scheduled' }), DUE_MS)?.state).toBe('scheduled');
  });

  it('is no status for an item that is no job record, a claim still pending, or an unknown state', () => {
    const webhook = { ...item({ state: 'queued' }), [DEDUPE_TABLE.partitionKey]: { S: 'github#1' } };
    const keyless = { state: { S: 'queued' } };
    for (const it of [webhook, keyless, item({ status: 'pending' }), item({ state: 'exploded' })])
      expect(jobStatusOf(it, DUE_MS)).toBeUndefined();
  });

  it('is no status once its window has passed (its TTL before the current second), as a claim of its id reads it', () => {
    const until = (seconds: number) => ({
      ...item({ state: 'completed' }),
      [DEDUPE_TABLE.ttlAttribute]: { N: String(seconds) },
    });
    const nowSeconds = Math.floor(DUE_MS / 1000);
    expect(jobStatusOf(until(nowSeconds), DUE_MS)?.state).toBe('completed');
    expect(jobStatusOf(until(nowSeconds + 60), DUE_MS)?.state).toBe('completed');
    expect(jobStatusOf(until(nowSeconds - 1), DUE_MS)).toBeUndefined();
  });

  it('carries the id without its key prefix and every field the record keeps', () => {
    const status = jobStatusOf(
      {
        ...item(
          {
            state: 'dead-lettered',
            type: 'email.welcome',
            queue: 'events',
            dueAt: DUE,
            enqueuedAt: '2026-11-30T10:00:00.000Z',
            updatedAt: '2026-11-30T12:05:00.000Z',
            scheduleName: 'App-job-abc',
            reason: 'TypeError: boom',
            generation: 'g-1',
            result: '{"sent":true}',
          },
          'welcome-u1',
        ),
        attempt: { N: '3' },
      },
      DUE_MS + 1,
    );
    expect(status).toEqual({
      id: 'welcome-u1',
      state: 'dead-lettered',
      type: 'email.welcome',
      queue: 'events',
      dueAt: DUE,
      enqueuedAt: '2026-11-30T10:00:00.000Z',
      updatedAt: '2026-11-30T12:05:00.000Z',
      scheduleName: 'App-job-abc',
      reason: 'TypeError: boom',
      generation: 'g-1',
      attempt: 3,
      result: { sent: true },
    });
  });
});

describe('job records the consumer and cancel write', () => {
  let client: DynamoDBClient;
  const table = 'records-dedupe';
  useDedupeTable(table, (ready) => {
    client = ready;
  });
  const put = (id: string, fields: Record<string, string>) =>
    client.send(
      new PutItemCommand({ TableName: table, Item: { ...item(fields, id), status: { S: 'queued' } } }),
    );

  it('records processing with the attempt that started the job', async () => {
    await put('started', { state: 'queued', generation: 'g' });
    const records = new JobRecords(client, table);
    expect(await records.start('started', 2, 'g')).toBe('run');
    expect(await records.read('started')).toMatchObject({ state: 'processing', attempt: 2 });
  });

  it('skips a cancelled job, also one recorded before generations were kept, and runs an untracked one', async () => {
    await put('cancelled-new', { state: 'cancelled', generation: 'g' });
    await put('cancelled-legacy', { state: 'cancelled' });
    const records = new JobRecords(client, table);
    expect(await records.start('cancelled-new', 1, 'g')).toBe('cancelled');
    expect(await records.start('cancelled-legacy', 1, 'g')).toBe('cancelled');
    expect(await records.start('never-recorded', 1, 'g')).toBe('untracked');
    expect(await records.start('cancelled-new', 1, 'an-earlier-one')).toBe('untracked');
  });

  it('keeps a result up to the size limit, records a larger one as not kept, and none when there is none', async () => {
    for (const id of ['exact', 'over', 'none']) await put(id, { state: 'processing' });
    const records = new JobRecords(client, table);
    const exact = 'x'.repeat(MAX_RESULT_BYTES - 2); // as JSON, with its quotes: the limit exactly
    await records.complete('exact', exact);
    await records.complete('over', `${exact}x`);
    await records.complete('none', undefined);
    expect(await records.read('exact')).toMatchObject({ state: 'completed', result: exact });
    const over = await records.read('over');
    expect([over?.state, over?.result, over?.reason]).toEqual([
      'completed',
      undefined,
      `result not kept: ${MAX_RESULT_BYTES + 1} bytes > ${MAX_RESULT_BYTES}`,
    ]);
    const none = await records.read('none');
    expect([none?.state, none?.result, none?.reason]).toEqual(['completed', undefined, undefined]);
  });

  it('records a job whose result JSON cannot write (a BigInt, a cycle) as completed, saying why it kept none', async () => {
    for (const id of ['bigint', 'cycle']) await put(id, { state: 'processing' });
    const records = new JobRecords(client, table);
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    await records.complete('bigint', { total: 10n });
    await records.complete('cycle', cycle);
    const bigint = await records.read('bigint');
    expect([bigint?.state, bigint?.result, bigint?.reason]).toEqual([
      'completed',
      undefined,
      'result not kept: not JSON (Do not know how to serialize a BigInt)',
    ]);
    expect(await records.read('cycle')).toMatchObject({
      state: 'completed',
      reason: expect.stringMatching(/^result not kept: not JSON \(Converting circular structure to JSON/),
    });
  });

  it('records a job whose result the item cannot take as completed, saying why, not processing for good', async () => {
    await client.send(
      new PutItemCommand({
        TableName: table,
        Item: { ...item({ state: 'processing' }, 'crowded'), notes: { S: 'n'.repeat(200_000) } },
      }),
    );
    const records = new JobRecords(client, table);
    await records.complete('crowded', 'r'.repeat(250_000));
    const status = await records.read('crowded');
    expect([status?.state, status?.result]).toEqual(['completed', undefined]);
    expect(status?.reason).toMatch(/^result not kept: could not write it \(ValidationException: .*size/);
  });

  it('keeps the result of a completion that was written although its answer was lost', async () => {
    await put('lost-answer', { state: 'processing' });
    let answers = 0;
    const losing = {
      send: async (command: Parameters<DynamoDBClient['send']>[0]) => {
        const answer = await client.send(command as GetItemCommand);
        if (answers++ === 0) throw Object.assign(new Error('socket hang up'), { name: 'TimeoutError' });
        return answer;
      },
    } as unknown as DynamoDBClient;
    await new JobRecords(losing, table).complete('lost-answer', { sent: true });
    expect(await new JobRecords(client, table).read('lost-answer')).toMatchObject({
      state: 'completed',
      result: { sent: true },
    });
  });

  it('records why a job was dead-lettered, cut to 4,000 characters', async () => {
    await put('failed', { state: 'processing' });
    const records = new JobRecords(client, table);
    await records.deadLettered('failed', `TypeError: ${'x'.repeat(5000)}`);
    const status = await records.read('failed');
    expect(status?.state).toBe('dead-lettered');
    expect(status?.reason).toBe(`TypeError: ${'x'.repeat(5000)}`.slice(0, 4000));
  });

  it('cancels a job not started yet, answering the state, due time and schedule it changed, and not one already started', async () => {
    await put('later', { state: 'scheduled', dueAt: DUE, scheduleName: 'App-job-abc' });
    await put('waiting', { state: 'queued' });
    await put('running', { state: 'processing' });
    const records = new JobRecords(client, table, () => DUE_MS - 1000);
    expect(await records.cancel('later')).toEqual({
      was: 'scheduled',
      dueAt: DUE,
      scheduleName: 'App-job-abc',
    });
    expect(await records.cancel('waiting')).toEqual({ was: 'queued' });
    expect(await records.cancel('running')).toBeUndefined();
    expect(await records.cancel('unknown')).toBeUndefined();
    expect((await records.read('later'))?.state).toBe('cancelled');
    expect((await records.read('running'))?.state).toBe('processing');
  });
});

describe('job records when the table fails', () => {
  /** A client whose every call fails as a throttled table does; it records what it was asked. */
  function throttled() {
    const calls: unknown[] = [];
    const client = {
      async send(command: { input: unknown }) {
        calls.push(command);
        throw Object.assign(new Error('slow down'), { name: 'ProvisionedThroughputExceededException' });
      },
    } as unknown as DynamoDBClient;
    return { client, calls };
  }

  it('throws a failure that is no failed condition, rather than taking it for a missing or cancelled record', async () => {
    const records = new JobRecords(throttled().client, 'dedupe');
    await expect(records.start('j', 1, 'g')).rejects.toThrow('slow down');
    await expect(records.complete('j', { ok: true }, 'g')).rejects.toThrow('slow down');
    await expect(records.deadLettered('j', 'boom', 'g')).rejects.toThrow('slow down');
    await expect(records.cancel('j')).rejects.toThrow('slow down');
  });

  it('throws a start the table throttled, rather than reading the record and running the job untracked', async () => {
    const client = {
      async send(command: unknown) {
        if (command instanceof GetItemCommand) return { Item: item({ state: 'queued', generation: 'g' }) };
        throw Object.assign(new Error('slow down'), { name: 'ProvisionedThroughputExceededException' });
      },
    } as unknown as DynamoDBClient;
    await expect(new JobRecords(client, 'dedupe').start('j', 1, 'g')).rejects.toThrow('slow down');
  });

  it('reads a record with a consistent read, so a status right after a write sees it', async () => {
    const { client, calls } = throttled();
    await new JobRecords(client, 'dedupe').read('j').catch(() => undefined);
    expect(calls).toEqual([expect.any(GetItemCommand)]);
    expect((calls[0] as GetItemCommand).input.ConsistentRead).toBe(true);
  });
});

// The runbook: a job dead-letters, the fix is deployed, `hookline redrive` (or a replay) runs it again.
describe('the record of a dead-lettered job that runs again', () => {
  let client: DynamoDBClient;
  const table = 'rerun-dedupe';
  useDedupeTable(table, (ready) => {
    client = ready;
  });

  it('keeps no reason of the failed run once the job is processing again and once it completes', async () => {
    const dedupe = createDynamoDedupeStore({ client, tableName: table, ttlSeconds: 3600 });
    const records = new JobRecords(client, table);
    const claim = await dedupe.claim(jobRecordKey('fixed-job'));
    if (claim.status !== 'claimed') throw new Error(`expected a claim, got ${claim.status}`);
    await dedupe.complete(
      jobRecordKey('fixed-job'),
      claim.token,
      enqueuedJobFields({ type: 'email.welcome', queue: 'events', enqueuedAt: new Date() }),
    );
    expect(await records.start('fixed-job', 1, claim.generation)).toBe('run');
    await records.complete('fixed-job', { sent: 'first' }, claim.generation);
    await records.deadLettered('fixed-job', 'PermanentError: bug', claim.generation);
    expect(await records.read('fixed-job')).toMatchObject({
      state: 'dead-lettered',
      reason: 'PermanentError: bug',
    });

    expect(await records.start('fixed-job', 1, claim.generation)).toBe('run');
    const processing = await records.read('fixed-job');
    expect(processing?.state).toBe('processing');
    expect(processing?.reason).toBeUndefined();

    await records.complete('fixed-job', undefined, claim.generation);
    const completed = await records.read('fixed-job');
    expect(completed?.state).toBe('completed');
    expect(completed?.reason).toBeUndefined();
    // This run returned nothing: the first run's result is not this one's.
    expect(completed?.result).toBeUndefined();
  });
});

// Between attempts and after a redrive the job waits in its queue: its record says so, not that it runs or failed.
describe('the record of a job waiting to run again', () => {
  let client: DynamoDBClient;
  const table = 'waiting-dedupe';
  useDedupeTable(table, (ready) => {
    client = ready;
  });
  const put = (id: string, fields: Record<string, string>, attempt?: number) =>
    client.send(
      new PutItemCommand({
        TableName: table,
        Item: {
          ...item(fields, id),
          status: { S: 'queued' },
          ...(attempt === undefined ? {} : { attempt: { N: String(attempt) } }),
        },
      }),
    );
  const at = new Date('2026-11-25T12:00:10.000Z');

  it('is retrying after a failed attempt, with its error and when the next is due, until the next one starts', async () => {
    await put('flaky', { state: 'processing', generation: 'g' }, 2);
    const records = new JobRecords(client, table);
    await records.retrying('flaky', 2, 'Error: mail server down', at, 'g');
    expect(await records.read('flaky')).toMatchObject({
      state: 'retrying',
      attempt: 2,
      lastError: 'Error: mail server down',
      retryAt: at.toISOString(),
    });
    expect(await records.start('flaky', 3, 'g')).toBe('run');
    const running = await records.read('flaky');
    expect([running?.state, running?.attempt, running?.lastError, running?.retryAt]).toEqual([
      'processing',
      3,
      undefined,
      undefined,
    ]);
    await records.retrying('flaky', 3, 'Error: again', undefined, 'g');
    await records.deadLettered('flaky', 'Error: again', 'g');
    const dead = await records.read('flaky');
    expect([dead?.state, dead?.reason, dead?.lastError]).toEqual([
      'dead-lettered',
      'Error: again',
      undefined,
    ]);
  });

  it('is never shown waiting once its next attempt started, nor when it belongs to another enqueue', async () => {
    await put('raced', { state: 'processing', generation: 'g' }, 3);
    const records = new JobRecords(client, table);
    await records.retrying('raced', 2, 'Error: late', at, 'g');
    await records.retrying('raced', 3, 'Error: late', at, 'an-earlier-one');
    expect((await records.read('raced'))?.state).toBe('processing');
  });

  it('keeps progress only from the attempt the record says runs: a late write of an earlier or failed attempt is refused', async () => {
    await put('long', { state: 'processing', generation: 'g' }, 1);
    const records = new JobRecords(client, table);
    expect(await records.progress('long', 1, '{"step":2}', at, 'g')).toBe(true);
    expect(await records.read('long')).toMatchObject({ progress: { step: 2 }, progressAt: at.toISOString() });
    await records.retrying('long', 1, 'Error: timed out', undefined, 'g');
    // Attempt 1 timed out and its handler still runs: its write must not pass for the job's state.
    expect(await records.progress('long', 1, '90', at, 'g')).toBe(false);
    expect(await records.start('long', 2, 'g')).toBe('run');
    // The next attempt starts with the previous progress kept, as BullMQ keeps it, until it reports its own.
    expect((await records.read('long'))?.progress).toEqual({ step: 2 });
    expect(await records.progress('long', 1, '95', at, 'g')).toBe(false);
    expect(await records.progress('long', 2, '10', at, 'an-earlier-one')).toBe(false);
    expect(await records.progress('long', 2, '10', at, 'g')).toBe(true);
    await records.complete('long', 'done', 'g');
    expect(await records.progress('long', 2, '99', at, 'g')).toBe(false);
    expect(await records.read('long')).toMatchObject({ state: 'completed', progress: 10 });
    expect(await records.progress('never-recorded', 1, '1', at, 'g')).toBe(false);
  });

  it('says an operator deleted its dead letter, keeping its reason, and forgets that once it runs again', async () => {
    await put('deleted', { state: 'dead-lettered', reason: 'PermanentError: bug', generation: 'g' }, 5);
    await put('unrecorded', { state: 'processing', lastError: 'Error: slow', generation: 'g' }, 5);
    await put('finished', { state: 'completed', generation: 'g' }, 1);
    const records = new JobRecords(client, table);
    expect(await records.discarded('deleted', 'PermanentError: from the letter', at, 'g')).toBe(true);
    expect(await records.read('deleted')).toMatchObject({
      state: 'dead-lettered',
      reason: 'PermanentError: bug',
      discardedAt: at.toISOString(),
    });
    // SQS moved it after an attempt that recorded nothing: the dead letter's reason is the only one there is.
    expect(await records.discarded('unrecorded', 'Error: timed out', at, 'g')).toBe(true);
    const unrecorded = await records.read('unrecorded');
    expect([unrecorded?.state, unrecorded?.reason, unrecorded?.lastError]).toEqual([
      'dead-lettered',
      'Error: timed out',
      undefined,
    ]);
    expect(await records.discarded('finished', 'Error: x', at, 'g')).toBe(false);
    expect(await records.discarded('deleted', 'Error: x', at, 'an-earlier-one')).toBe(false);
    expect((await records.read('finished'))?.state).toBe('completed');
    // A replay runs it again: it is no longer the deleted job.
    expect(await records.start('deleted', 1, 'g')).toBe('run');
    expect((await records.read('deleted'))?.discardedAt).toBeUndefined();
  });

  it('is queued after a redrive, keeping why it was dead-lettered until it starts, and never reopens a finished job', async () => {
    await put('dead', { state: 'dead-lettered', reason: 'PermanentError: bug', generation: 'g' }, 1);
    await put('crashed', { state: 'processing', generation: 'g' }, 5);
    await put('done', { state: 'completed', generation: 'g' }, 1);
    await put('dropped', { state: 'cancelled', generation: 'g' });
    const records = new JobRecords(client, table);
    // What the redrive read of each record just before its send.
    const seen = async (id: string) => ({ updatedAt: (await records.read(id))?.updatedAt });
    const marked = await Promise.all(
      ['dead', 'crashed', 'done', 'dropped'].map(async (id) =>
        records.redriven(id, `why ${id}`, at, 'g', await seen(id)),
      ),
    );
    expect(marked).toEqual([true, true, false, false]);
    expect(await records.read('dead')).toMatchObject({
      state: 'queued',
      redrivenAt: at.toISOString(),
      lastError: 'why dead',
    });
    expect((await records.read('dead'))?.reason).toBeUndefined();
    expect((await records.read('done'))?.state).toBe('completed');
    expect((await records.read('dropped'))?.state).toBe('cancelled');
    expect(await records.start('dead', 1, 'g')).toBe('run');
    expect(await records.read('dead')).toMatchObject({ state: 'processing', redrivenAt: at.toISOString() });
    // The redriven delivery already ran and failed again before the redrive got to its record: it says so.
    await records.deadLettered('dead', 'PermanentError: again', 'g');
    const beforeTheSend = await seen('dead');
    expect(await records.start('dead', 1, 'g')).toBe('run');
    await records.deadLettered('dead', 'PermanentError: still', 'g');
    expect(await records.redriven('dead', 'why dead', at, 'g', beforeTheSend)).toBe(false);
    expect((await records.read('dead'))?.state).toBe('dead-lettered');
    expect((await records.read('dead'))?.lastError).toBeUndefined();
  });

  it("is queued after a redrive whatever the operator machine's clock says, and left alone once the redriven delivery started", async () => {
    // The consumer writes with AWS's clock; the redrive's `sentAt` comes from the operator's laptop.
    const records = new JobRecords(client, table);
    const minutes = (n: number) => new Date(Date.now() + n * 60_000);
    for (const id of ['behind', 'ahead']) {
      await put(id, { state: 'queued', generation: 'g' });
      expect(await records.start(id, 1, 'g')).toBe('run');
      await records.deadLettered(id, 'PermanentError: bug', 'g');
    }
    const seen = async (id: string) => ({ updatedAt: (await records.read(id))?.updatedAt });

    // A laptop ten minutes slow: the record was updated "after" the redrive by its clock, and is still its to mark.
    expect(
      await records.redriven('behind', 'PermanentError: bug', minutes(-10), 'g', await seen('behind')),
    ).toBe(true);
    expect((await records.read('behind'))?.state).toBe('queued');

    // A laptop ten minutes fast: the redriven delivery started between the send and the mark, and the record says so.
    const beforeTheSend = await seen('ahead');
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(await records.start('ahead', 1, 'g')).toBe('run');
    expect(await records.redriven('ahead', 'PermanentError: bug', minutes(10), 'g', beforeTheSend)).toBe(
      false,
    );
    expect((await records.read('ahead'))?.state).toBe('processing');
  });
});

// A dead letter stays in its DLQ (14 days by default) longer than the dedupe window (3 days) keeps the claim.
describe('a dead-lettered job record', () => {
  let client: DynamoDBClient;
  const table = 'dead-letter-dedupe';
  useDedupeTable(table, (ready) => {
    client = ready;
  });
  const DAY = 86_400;
  const start = Date.parse('2026-12-01T00:00:00Z');
  const expiresAt = async (id: string) => {
    const { Item } = await client.send(
      new GetItemCommand({ TableName: table, Key: { pk: { S: jobRecordKey(id) } }, ConsistentRead: true }),
    );
    return Number(Item?.[DEDUPE_TABLE.ttlAttribute]?.N);
  };
  const sentAndDeadLettered = async (id: string, ttlSeconds: number, deadLetterAtMs: number) => {
    const dedupe = createDynamoDedupeStore({ client, tableName: table, ttlSeconds, now: () => start });
    const claim = await dedupe.claim(jobRecordKey(id));
    if (claim.status !== 'claimed') throw new Error(`expected a claim, got ${claim.status}`);
    const at = new Date(start);
    await dedupe.complete(
      jobRecordKey(id),
      claim.token,
      enqueuedJobFields({ type: 't', queue: 'q', enqueuedAt: at }),
    );
    const records = new JobRecords(client, table, () => deadLetterAtMs, 14 * DAY);
    await records.deadLettered(id, 'Error: boom', claim.generation);
    return records;
  };

  it('is kept as long as its dead-letter queue keeps the message, so the id is not reclaimed meanwhile', async () => {
    const deadLetteredAt = start + 2 * DAY * 1000;
    await sentAndDeadLettered('dl-kept', 3 * DAY, deadLetteredAt);
    expect(await expiresAt('dl-kept')).toBe(deadLetteredAt / 1000 + 14 * DAY);

    const afterWindow = () => start + 10 * DAY * 1000;
    const dedupe = createDynamoDedupeStore({
      client,
      tableName: table,
      ttlSeconds: 3 * DAY,
      now: afterWindow,
    });
    expect((await dedupe.claim(jobRecordKey('dl-kept'))).status).toBe('duplicate');
    const read = new JobRecords(client, table, afterWindow);
    expect((await read.read('dl-kept'))?.state).toBe('dead-lettered');
  });

  it('keeps a dedupe window longer than the dead-letter retention', async () => {
    await sentAndDeadLettered('dl-long-window', 30 * DAY, start + DAY * 1000);
    expect(await expiresAt('dl-long-window')).toBe(start / 1000 + 30 * DAY);
  });
});
