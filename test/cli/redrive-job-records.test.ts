/**
 * A redrive marks the records of the jobs it sends back `queued` from what each record said just before its send,
 * never from the operator machine's clock against the consumer's: SQS through the SDK's mock, the job records on
 * dynalite as the consumer writes them.
 */
import { type DynamoDBClient, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { JOB_DEBOUNCE_HEADER, JOB_RECORD_HEADER, JOB_SOURCE } from '../../lambda/shared/job';
import { JobRecords, jobRecordKey } from '../../lambda/shared/job-record';
import { failedDelete } from '../../lib/cli/failed-delete';
import { deletedJobsOn, type RecordJobs, redrivenJobsOn } from '../../lib/cli/jobs';
import { redrive } from '../../lib/cli/redrive';
import { useDedupeTable } from '../helpers/local/dedupe-table';
import { installFakeQueue } from './fake-queue';
import { deadLetterMessage, EVENTS, fakeClock, stackTarget, testBackend } from './helpers';

const sqs = mockClient(SQSClient);
const table = 'redrive-records-dedupe';
let client: DynamoDBClient;
useDedupeTable(table, (ready) => {
  client = ready;
});

beforeEach(() => {
  sqs.reset();
});

/** A job the consumer ran and dead-lettered, by AWS's clock: its record, and its dead letter. */
async function deadLetteredJob(records: JobRecords, id: string, n: number) {
  await client.send(
    new PutItemCommand({
      TableName: table,
      Item: {
        pk: { S: jobRecordKey(id) },
        state: { S: 'queued' },
        generation: { S: 'g' },
        status: { S: 'queued' },
      },
    }),
  );
  expect(await records.start(id, 1, 'g')).toBe('run');
  await records.deadLettered(id, 'PermanentError: no printer', 'g');
  const envelope = {
    v: 1,
    id,
    source: JOB_SOURCE,
    type: 'report.print',
    receivedAt: new Date().toISOString(),
    headers: { 'content-type': 'application/json', [JOB_RECORD_HEADER]: '1' },
    contentType: 'application/json',
    body: JSON.stringify({ n }),
    bodyEncoding: 'utf8',
    generation: 'g',
  };
  return deadLetterMessage(n, {
    id,
    body: JSON.stringify(envelope),
    failure: { name: 'PermanentError', message: 'no printer' },
  });
}

/** SQS takes every message sent back; `onSend` runs first, as a consumer that received it at once would. */
function acceptSends(onSend: () => Promise<unknown> = async () => {}) {
  sqs.on(SendMessageBatchCommand).callsFake(async (input: { Entries: { Id: string }[] }) => {
    await onSend();
    return {
      Successful: input.Entries.map((e) => ({ Id: e.Id, MessageId: `new-${e.Id}`, MD5OfMessageBody: '' })),
      Failed: [],
    };
  });
}

describe('a redrive from a machine whose clock is not AWS’s', () => {
  it('marks the job queued when the operator machine is ten minutes slow', async () => {
    const records = new JobRecords(client, table);
    installFakeQueue(sqs, EVENTS.deadLetterUrl, [await deadLetteredJob(records, 'slow-job', 1)]);
    acceptSends();
    const slow = fakeClock(Date.now() - 10 * 60_000);
    const result = await redrive(testBackend({ clock: slow }), stackTarget(), {
      env: {},
      queue: 'events',
      ids: ['slow-job'],
      recordJobs: redrivenJobsOn(records),
    });
    expect(result).toMatchObject({ moved: 1, failed: 0 });
    expect(await records.read('slow-job')).toMatchObject({
      state: 'queued',
      lastError: 'PermanentError: no printer',
      redrivenAt: new Date(slow.now()).toISOString(),
    });
  });

  it('leaves the job processing when the operator machine is ten minutes fast and the delivery started before the mark', async () => {
    const records = new JobRecords(client, table);
    installFakeQueue(sqs, EVENTS.deadLetterUrl, [await deadLetteredJob(records, 'fast-job', 2)]);
    // The consumer receives the message sent back at once and starts it, before the redrive marks the record.
    acceptSends(async () => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      return records.start('fast-job', 1, 'g');
    });
    const result = await redrive(testBackend({ clock: fakeClock(Date.now() + 10 * 60_000) }), stackTarget(), {
      env: {},
      queue: 'events',
      ids: ['fast-job'],
      recordJobs: redrivenJobsOn(records),
    });
    expect(result).toMatchObject({ moved: 1, failed: 0 });
    expect((await records.read('fast-job'))?.state).toBe('processing');
  });
});

/** A debounced job's dead letter of send `send` of enqueue `generation`, its record as `record` says it is now. */
async function deadLetteredDebouncedSend(
  id: string,
  n: number,
  letter: { generation: string; send: string },
  record: { generation: string; send: string; state: string },
) {
  await client.send(
    new PutItemCommand({
      TableName: table,
      Item: {
        pk: { S: jobRecordKey(id) },
        state: { S: record.state },
        status: { S: record.state },
        generation: { S: record.generation },
        debounceSend: { S: record.send },
      },
    }),
  );
  const envelope = {
    v: 1,
    id,
    source: JOB_SOURCE,
    type: 'doc.reindex',
    receivedAt: new Date().toISOString(),
    headers: {
      'content-type': 'application/json',
      [JOB_RECORD_HEADER]: '1',
      [JOB_DEBOUNCE_HEADER]: letter.send,
    },
    contentType: 'application/json',
    body: JSON.stringify({ n }),
    bodyEncoding: 'utf8',
    generation: letter.generation,
  };
  return deadLetterMessage(n, {
    id,
    body: JSON.stringify(envelope),
    failure: { name: 'PermanentError', message: 'index unavailable' },
  });
}

describe("a redrive of debounced jobs' dead letters", () => {
  it('leaves a letter a later send replaced, and moves the current one and one whose record cannot be read', async () => {
    const records = new JobRecords(client, table);
    installFakeQueue(sqs, EVENTS.deadLetterUrl, [
      // A later send started a new cycle: its consumer would skip this one as superseded.
      await deadLetteredDebouncedSend(
        'old-cycle',
        1,
        { generation: 'g1', send: 's1' },
        { generation: 'g2', send: 's2', state: 'completed' },
      ),
      await deadLetteredDebouncedSend(
        'current',
        2,
        { generation: 'g1', send: 's1' },
        { generation: 'g1', send: 's1', state: 'dead-lettered' },
      ),
      await deadLetteredDebouncedSend(
        'unreadable',
        3,
        { generation: 'g1', send: 's1' },
        { generation: 'g2', send: 's2', state: 'completed' },
      ),
    ]);
    acceptSends();
    const on = redrivenJobsOn(records);
    // Saying nothing of a letter is not saying it runs: a record that cannot be read moves its letter.
    const recordJobs: RecordJobs = Object.assign(
      (jobs: Parameters<RecordJobs>[0], at: Date) => on(jobs, at),
      {
        ...(on.prepare ? { prepare: on.prepare } : {}),
        replacedDebouncedSend: (id: string, generation: string | undefined, send: string) =>
          id === 'unreadable'
            ? Promise.reject(new Error('ThrottlingException'))
            : (on.replacedDebouncedSend?.(id, generation, send) ?? Promise.resolve(false)),
      },
    );
    const result = await redrive(testBackend(), stackTarget(), {
      env: {},
      queue: 'events',
      type: '**',
      recordJobs,
    });
    expect(result).toMatchObject({
      moved: 2,
      failed: 0,
      superseded: [{ messageId: 'sqs-1', id: 'old-cycle' }],
    });
    expect([...result.movedIds].sort()).toEqual(['current', 'unreadable']);
  });
});

describe("failed delete of debounced jobs' dead letters", () => {
  it('leaves the record of a later send of the cycle as it is, and marks the deleted current letter discarded', async () => {
    const records = new JobRecords(client, table);
    // The record names a later send of the same cycle, which runs now: the first send's letter is superseded.
    const replaced = await deadLetteredDebouncedSend(
      'doc-running',
      1,
      { generation: 'g1', send: 's1' },
      { generation: 'g1', send: 's2', state: 'processing' },
    );
    const current = await deadLetteredDebouncedSend(
      'doc-failed',
      2,
      { generation: 'g1', send: 's1' },
      { generation: 'g1', send: 's1', state: 'dead-lettered' },
    );
    const dlq = installFakeQueue(sqs, EVENTS.deadLetterUrl, [replaced, current]);
    const result = await failedDelete(testBackend(), stackTarget(), {
      env: {},
      queue: 'events',
      ids: ['sqs-1', 'sqs-2'],
      yes: true,
      recordJobs: deletedJobsOn(records),
    });
    expect(result).toMatchObject({ deletedMessages: 2 });
    expect(dlq.deleted).toHaveLength(2);
    const running = await records.read('doc-running');
    expect(running?.state).toBe('processing');
    expect(running).not.toHaveProperty('discardedAt');
    expect(await records.read('doc-failed')).toMatchObject({
      state: 'dead-lettered',
      discardedAt: expect.any(String),
    });
  });

  it('leaves the record of a later send that replaced the letter and started while the delete was marking it', async () => {
    // SQS moved send s1's message after receives that recorded nothing: the record still names s1, queued.
    const letter = await deadLetteredDebouncedSend(
      'doc-raced',
      1,
      { generation: 'g1', send: 's1' },
      { generation: 'g1', send: 's1', state: 'queued' },
    );
    const dlq = installFakeQueue(sqs, EVENTS.deadLetterUrl, [letter]);
    // Just before the delete's first write to the record, a later send s2 of the cycle replaces s1 and starts.
    const laterSend = new JobRecords(client, table);
    let raced = false;
    const racing = {
      async send(command: unknown) {
        const marks =
          command instanceof UpdateItemCommand && JSON.stringify(command.input).includes('discardedAt');
        if (marks && !raced) {
          raced = true;
          expect(await laterSend.debounced('doc-raced', { generation: 'g1', send: 's2' })).toEqual({});
          expect(await laterSend.start('doc-raced', 1, 'g1', undefined, 's2')).toBe('run');
        }
        return client.send(command as never);
      },
    } as unknown as DynamoDBClient;
    const result = await failedDelete(testBackend(), stackTarget(), {
      env: {},
      queue: 'events',
      ids: ['sqs-1'],
      yes: true,
      recordJobs: deletedJobsOn(new JobRecords(racing, table)),
    });
    expect(result).toMatchObject({ deletedMessages: 1 });
    expect(dlq.deleted).toHaveLength(1);
    expect(raced).toBe(true);
    // s2 runs: its record is not the deleted letter's to mark dead-lettered.
    const running = await laterSend.read('doc-raced');
    expect(running?.state).toBe('processing');
    expect(running).not.toHaveProperty('discardedAt');
  });
});
