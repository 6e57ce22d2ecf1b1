/**
 * `failed show` of a debounced job's dead letter: whether a later send replaced it (of its cycle, or starting a new one),
 * so that its consumer skips a redrive of the letter as `superseded`. The job's records are real (dynalite), sent by the real producer; the
 * dead-letter queue is an in-memory SQS behind aws-sdk-client-mock.
 */

import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Message } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { type BatchEntry, Producer } from '../../lambda/producer/producer';
import { createDynamoDedupeStore } from '../../lambda/shared/dedupe-store';
import { parseEnvelope } from '../../lambda/shared/envelope';
import { defineJob, JOB_DEBOUNCE_HEADER } from '../../lambda/shared/job';
import { JobRecords } from '../../lambda/shared/job-record';
import { failedShow } from '../../lib/cli/failed';
import { renderFailedShow } from '../../lib/cli/render';
import { testClock, useDedupeTable } from '../helpers/local/dedupe-table';
import { installFakeQueue } from './fake-queue';
import { EVENTS, mockCommandClients, recordingOutput, stackTarget, testBackend } from './helpers';

const { sqs } = mockCommandClients();
const job = defineJob('doc.reindex', z.object({ edit: z.number() }), { queue: 'events' });

let client: DynamoDBClient;
const table = 'failed-show-debounced';
useDedupeTable(table, (ready) => {
  client = ready;
});

/** The real producer on the table, its messages kept; a debounced job's records as its consumer and the CLI read them. */
function producerAt(now: () => number) {
  const sent: BatchEntry[] = [];
  const records = new JobRecords(client, table, now);
  const producer = new Producer({
    queues: { events: { name: 'events', url: EVENTS.url, fifo: false } },
    settings: { dedupe: { tableName: table, ttlSeconds: 3600 } },
    retry: { attempts: 1, baseDelayMs: 1 },
    now,
    sleep: async () => {},
    async sendBatch(_url, entries) {
      sent.push(...entries);
      return [];
    },
    async putPayload() {},
    dedupe: createDynamoDedupeStore({ client, tableName: table, ttlSeconds: 3600, now }),
    records,
  });
  return { producer, records, sent };
}

/** A message as its dead-letter queue holds it once its consumer dead-lettered it. */
function deadLetterOf(entry: BatchEntry | undefined, n: number): Message {
  return {
    MessageId: `sqs-${n}`,
    ReceiptHandle: `rh-${n}`,
    Body: entry?.MessageBody ?? '',
    Attributes: { SentTimestamp: String(Date.parse('2026-11-30T12:00:00Z')), ApproximateReceiveCount: '3' },
    MessageAttributes: {},
  };
}

describe("failed show of a debounced job's dead letter", () => {
  it('says a letter whose cycle a later send replaced is skipped once redriven, and not the current cycle', async () => {
    const time = testClock();
    const { producer, records, sent } = producerAt(time.now);
    await producer.send(job, { edit: 1 }, { id: 'doc-dl', debounce: { seconds: 5 } });
    time.advance(5);
    const [first] = sent.map((entry) => parseEnvelope(entry.MessageBody));
    const startOf = (envelope: typeof first) =>
      records.start('doc-dl', 1, envelope?.generation, undefined, envelope?.headers[JOB_DEBOUNCE_HEADER]);
    expect(await startOf(first)).toBe('run');
    await records.deadLettered('doc-dl', 'PermanentError: index unavailable', first?.generation);
    // A send once the job ended starts a new cycle.
    await producer.send(job, { edit: 2 }, { id: 'doc-dl', debounce: { seconds: 5 } });
    const second = parseEnvelope(sent[1]?.MessageBody ?? '');
    const dlq = installFakeQueue(sqs, EVENTS.deadLetterUrl, [
      deadLetterOf(sent[0], 1),
      deadLetterOf(sent[1], 2),
    ]);
    const replaced = (id: string, generation: string | undefined, send: string) =>
      records.replacedDebouncedSend(id, generation, send);
    const show = (id: string) =>
      failedShow(testBackend(), stackTarget(), { queue: 'events', id, debouncedSendReplaced: replaced });

    const old = await show('sqs-1');
    expect(old.superseded).toBe(true);
    const output = recordingOutput();
    renderFailedShow(output, old);
    expect(output.lines.join('\n')).toMatch(
      /^superseded\s+a later send of this debounced job replaced it: a redrive of this letter is skipped as superseded/m,
    );
    // What the consumer decides once the letter is redriven.
    expect(await startOf(first)).toBe('superseded');

    expect((await show('sqs-2')).superseded).toBe(false);
    const current = recordingOutput();
    renderFailedShow(current, await show('sqs-2'));
    expect(current.lines.join('\n')).not.toMatch(/^superseded/m);
    expect(await startOf(second)).toBe('run');
    // Shown, never taken: both letters stay in the dead-letter queue.
    expect(dlq.deleted).toEqual([]);
  });

  it('says a letter a later send of its own cycle replaced is skipped once redriven, without naming a new cycle', async () => {
    // Both sends waited in the queue (SQS moved the first after its receives, in batches that timed out): the
    // record names the second, of the same cycle, which has not started.
    const time = testClock();
    const { producer, records, sent } = producerAt(time.now);
    await producer.send(job, { edit: 1 }, { id: 'doc-same', debounce: { seconds: 5 } });
    time.advance(2);
    await producer.send(job, { edit: 2 }, { id: 'doc-same', debounce: { seconds: 5 } });
    const [first, second] = sent.map((entry) => parseEnvelope(entry.MessageBody));
    expect(first?.generation).toBe(second?.generation);
    installFakeQueue(sqs, EVENTS.deadLetterUrl, [deadLetterOf(sent[0], 1)]);

    const shown = await failedShow(testBackend(), stackTarget(), {
      queue: 'events',
      id: 'sqs-1',
      debouncedSendReplaced: (id, generation, send) => records.replacedDebouncedSend(id, generation, send),
    });
    expect(shown.superseded).toBe(true);
    const output = recordingOutput();
    renderFailedShow(output, shown);
    const line = output.lines.find((l) => l.startsWith('superseded')) ?? '';
    expect(line).toMatch(
      /a later send of this debounced job replaced it: a redrive of this letter is skipped as superseded/,
    );
    expect(line).not.toMatch(/new cycle/);
    expect(
      await records.start('doc-same', 1, first?.generation, undefined, first?.headers[JOB_DEBOUNCE_HEADER]),
    ).toBe('superseded');
  });

  it('says nothing of a letter sent without debounce, nor reads its record', async () => {
    const time = testClock();
    const { producer, sent } = producerAt(time.now);
    await producer.send(job, { edit: 1 }, { id: 'doc-plain' });
    installFakeQueue(sqs, EVENTS.deadLetterUrl, [deadLetterOf(sent[0], 1)]);
    const read: string[] = [];
    const shown = await failedShow(testBackend(), stackTarget(), {
      queue: 'events',
      id: 'sqs-1',
      debouncedSendReplaced: async (id) => {
        read.push(id);
        return true;
      },
    });
    expect({ superseded: shown.superseded, read }).toEqual({ superseded: undefined, read: [] });
  });
});
