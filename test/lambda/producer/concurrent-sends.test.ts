/**
 * The same job id sent by several callers at the same moment (two Lambda invocations handling one upstream event,
 * a client that retries before its first call answered): the producer's real claims on dynalite, with SQS as a list
 * of the messages sent, each send taking as long as a call to SQS does.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  type BatchEntry,
  JobSendError,
  Producer,
  type ProducerCollaborators,
} from '../../../lambda/producer/producer';
import { createDynamoDedupeStore } from '../../../lambda/shared/dedupe-store';
import { parseEnvelope } from '../../../lambda/shared/envelope';
import { defineJob } from '../../../lambda/shared/job';
import { JobRecords } from '../../../lambda/shared/job-record';
import { useDedupeTable } from '../../helpers/local/dedupe-table';

const table = 'concurrent-sends-dedupe';
let client: DynamoDBClient;
useDedupeTable(table, (ready) => {
  client = ready;
});

const job = defineJob('report.build', z.object({ n: z.number() }), { queue: 'jobs' });
const summary = defineJob('report.summary', z.object({ week: z.string() }), { queue: 'jobs' });
const QUEUES = { jobs: { name: 'jobs', url: 'https://sqs/jobs', fifo: false } };
/** How long a call to SQS takes here: what another caller of the same id waits out. */
const SEND_MS = 20;
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Producers on one dedupe table and one list of sent messages; `failSends` is how many calls to SQS fail first
 * (counted across the producers), `retry` each producer's own retry policy (by default the producer's own: 5
 * attempts from 100 ms).
 */
function producers(
  count: number,
  options: { failSends?: number; retry?: ProducerCollaborators['retry'][] } = {},
) {
  const sent: string[] = [];
  let failSends = options.failSends ?? 0;
  const make = (retry: ProducerCollaborators['retry']) =>
    new Producer({
      queues: QUEUES,
      settings: { dedupe: { tableName: table, ttlSeconds: 3600 } },
      retry,
      now: Date.now,
      sleep,
      async sendBatch(_url: string, entries: readonly BatchEntry[]) {
        await sleep(SEND_MS);
        if (failSends-- > 0) throw new Error('ServiceUnavailable: SQS failed the call');
        sent.push(...entries.map((e) => parseEnvelope(e.MessageBody).id));
        return [];
      },
      putPayload: async () => {},
      dedupe: createDynamoDedupeStore({ client, tableName: table, ttlSeconds: 3600 }),
      records: new JobRecords(client, table),
    });
  const all = Array.from({ length: count }, (_, i) =>
    make(options.retry?.[i] ?? { attempts: 5, baseDelayMs: 100 }),
  );
  return { all, sent };
}

describe('one job id sent by several callers at once', () => {
  it('queues one message: one caller is told it sent the job, every other duplicate: true with its state', async () => {
    const { all, sent } = producers(5);
    const results = await Promise.all(all.map((p) => p.send(job, { n: 1 }, { id: 'same-send' })));

    expect(sent).toEqual(['same-send']);
    expect(results.filter((r) => !r.duplicate)).toEqual([
      { id: 'same-send', state: 'queued', duplicate: false },
    ]);
    expect(results.filter((r) => r.duplicate)).toEqual(
      Array.from({ length: 4 }, () => ({ id: 'same-send', state: 'queued', duplicate: true })),
    );
  });

  it('queues each id of two overlapping sendBatch calls once, each caller told which it sent', async () => {
    const { all, sent } = producers(2);
    const [first, second] = all as [Producer, Producer];
    const [a, b] = await Promise.all([
      first.sendBatch(['o1', 'o2', 'o3'].map((id, n) => ({ job, payload: { n }, options: { id } }))),
      second.sendBatch(['o3', 'o2', 'o4'].map((id, n) => ({ job, payload: { n }, options: { id } }))),
    ]);

    expect([...sent].sort()).toEqual(['o1', 'o2', 'o3', 'o4']);
    const sentBy = [...a, ...b].filter((r) => !r.duplicate).map((r) => r.id);
    expect(sentBy.sort()).toEqual(['o1', 'o2', 'o3', 'o4']);
    expect([...a, ...b].filter((r) => r.duplicate).map((r) => [r.id, r.state])).toHaveLength(2);
    expect([...a, ...b].every((r) => r.state === 'queued')).toBe(true);
  });

  it('sends each child of a flow two callers send at once once, and records its parent waiting once', async () => {
    const { all, sent } = producers(2);
    const flow = {
      job: summary,
      payload: { week: '2026-49' },
      options: { id: 'flow-at-once' },
      children: [1, 2, 3].map((n) => ({ job, payload: { n }, options: { id: `flow-at-once-c${n}` } })),
    };
    const results = await Promise.all(all.map((p) => p.sendFlow(flow)));

    expect([...sent].sort()).toEqual(['flow-at-once-c1', 'flow-at-once-c2', 'flow-at-once-c3']);
    expect(results.map((r) => [r.state, r.duplicate]).sort()).toEqual([
      ['waiting-children', false],
      ['waiting-children', true],
    ]);
    expect(await new JobRecords(client, table).read('flow-at-once')).toMatchObject({
      state: 'waiting-children',
      children: { total: 3, pending: ['flow-at-once-c1', 'flow-at-once-c2', 'flow-at-once-c3'] },
    });
  });

  it('sends the job from a waiting caller when the send holding the id failed, the failed caller told so', async () => {
    // The first caller gives up after two failed calls; the second waits it out and sends.
    const { all, sent } = producers(2, {
      failSends: 2,
      retry: [
        { attempts: 2, baseDelayMs: 5 },
        { attempts: 6, baseDelayMs: 20 },
      ],
    });
    const [first, second] = all as [Producer, Producer];
    const firstSend = first.send(job, { n: 1 }, { id: 'held-send' });
    await sleep(5);
    const [failed, waited] = await Promise.allSettled([
      firstSend,
      second.send(job, { n: 1 }, { id: 'held-send' }),
    ]);

    expect(failed.status === 'rejected' && failed.reason).toBeInstanceOf(JobSendError);
    expect(waited).toEqual({
      status: 'fulfilled',
      value: { id: 'held-send', state: 'queued', duplicate: false },
    });
    expect(sent).toEqual(['held-send']);
  });
});
