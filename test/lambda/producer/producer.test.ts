/** The producer core with fake collaborators: what it sends, retries, refuses and reports. */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { atExpression } from '../../../lambda/producer/aws';
import {
  type BatchEntry,
  JobBatchError,
  type OneTimeSchedule,
  Producer,
  type ProducerCollaborators,
  ProducerConfigError,
} from '../../../lambda/producer/producer';
import type { DedupeStore } from '../../../lambda/shared/dedupe-store';
import { defineJob } from '../../../lambda/shared/job';

const job = defineJob('report.build', z.object({ n: z.number() }), { queue: 'jobs' });
const fifoJob = defineJob('order.ship', z.object({ n: z.number() }), { queue: 'orders' });

function fakes(refuse: (entry: BatchEntry, attempt: number) => boolean = () => false) {
  const sent: BatchEntry[] = [];
  const calls: number[] = [];
  const attempts = new Map<string, number>();
  const deps: ProducerCollaborators = {
    queues: {
      jobs: { name: 'jobs', url: 'https://sqs/jobs', fifo: false },
      orders: { name: 'orders', url: 'https://sqs/orders.fifo', fifo: true },
    },
    settings: {},
    retry: { attempts: 3, baseDelayMs: 1 },
    now: () => Date.parse('2026-11-30T00:00:00Z'),
    sleep: async () => {},
    async sendBatch(_url, entries) {
      calls.push(entries.length);
      const refused = [];
      for (const entry of entries) {
        const attempt = (attempts.get(entry.MessageBody) ?? 0) + 1;
        attempts.set(entry.MessageBody, attempt);
        if (refuse(entry, attempt)) refused.push({ id: entry.Id, error: 'InternalError: refused' });
        else sent.push(entry);
      }
      return refused;
    },
    async putPayload() {},
  };
  return { deps, sent, calls };
}

describe('producer', () => {
  it('sends in batches of ten and retries only the entries SQS refused', async () => {
    const { deps, sent, calls } = fakes((entry, attempt) => entry.Id === '3' && attempt === 1);
    const results = await new Producer(deps).sendBatch(
      Array.from({ length: 25 }, (_, n) => ({ job, payload: { n } })),
    );
    expect(results).toHaveLength(25);
    expect(calls).toEqual([10, 10, 5, 1]);
    expect(sent).toHaveLength(25);
    expect(JSON.parse(sent[0]?.MessageBody ?? '{}')).toMatchObject({
      v: 1,
      source: 'job',
      type: 'report.build',
    });
  });

  it('reports jobs still refused after every attempt, and what was enqueued', async () => {
    const { deps } = fakes((entry) => entry.Id === '1');
    const error = await new Producer(deps)
      .sendBatch([0, 1, 2].map((n) => ({ job, payload: { n } })))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JobBatchError);
    expect((error as JobBatchError).failed).toEqual([
      expect.objectContaining({ index: 1, error: expect.stringContaining('not enqueued after 3 attempts') }),
    ]);
    expect((error as JobBatchError).sent.map((s) => s.index)).toEqual([0, 2]);
  });

  it('validates every payload before sending any', async () => {
    const { deps, calls } = fakes();
    await expect(
      new Producer(deps).sendBatch([
        { job, payload: { n: 1 } },
        { job, payload: { n: 'x' } as never },
      ]),
    ).rejects.toThrow(/payload of job report.build is invalid: n:/);
    expect(calls).toEqual([]);
  });

  it('delays through DelaySeconds, rounded up so a job never runs early', async () => {
    const { deps, sent } = fakes();
    const result = await new Producer(deps).send(job, { n: 1 }, { delay: { seconds: 1.2 } });
    expect(sent[0]?.DelaySeconds).toBe(2);
    expect(result).toMatchObject({ state: 'scheduled', dueAt: '2026-11-30T00:00:02.000Z' });
  });

  it('refuses a delay on a FIFO queue, a group on a standard queue, and long delays without a scheduler', async () => {
    const producer = new Producer(fakes().deps);
    await expect(producer.send(fifoJob, { n: 1 }, { delay: { seconds: 5 } })).rejects.toThrow(
      /FIFO, and SQS cannot delay a single FIFO message/,
    );
    await expect(producer.send(job, { n: 1 }, { group: 'g' })).rejects.toThrow(/group is for FIFO queues/);
    await expect(producer.send(job, { n: 1 }, { delay: { hours: 2 } })).rejects.toBeInstanceOf(
      ProducerConfigError,
    );
    await expect(producer.send(job, { n: 1 }, { id: 'k' })).rejects.toThrow(/needs the dedupe table/);
  });

  it('refuses, before sending anything, ids and groups that SQS or a table would refuse or change', async () => {
    const { deps, calls } = fakes();
    const producer = new Producer({ ...deps, dedupe: {} as never });
    for (const id of ['', 'with space', 'tab\there', 'é', '\ud800', 'x'.repeat(201)]) {
      await expect(producer.send(job, { n: 1 }, { id })).rejects.toThrow(
        /id .* must be 1 to 200 printable ASCII characters without spaces/,
      );
    }
    for (const group of ['', 'g é', 'x'.repeat(129)]) {
      await expect(producer.send(fifoJob, { n: 1 }, { group })).rejects.toThrow(
        /group .* must be 1 to 128 printable ASCII characters without spaces/,
      );
    }
    expect(calls).toEqual([]);
  });

  it("refuses a delay that ends after 9999-12-31 as the caller's mistake", async () => {
    const { deps, calls } = fakes();
    const producer = new Producer(deps);
    for (const delay of [{ seconds: 1e15 }, { days: 1e9 }, new Date(Date.UTC(10_000, 0, 1))]) {
      const error = await producer.send(job, { n: 1 }, { delay }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ProducerConfigError);
      expect((error as Error).message).toMatch(/the delay ends after 9999-12-31/);
    }
    expect(calls).toEqual([]);
  });

  it('gives FIFO jobs their group and a deduplication id from the job id', async () => {
    const { deps, sent } = fakes();
    await new Producer(deps).send(fifoJob, { n: 1 }, { group: 'customer-1' });
    expect(sent[0]).toMatchObject({
      MessageGroupId: 'customer-1',
      MessageDeduplicationId: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
  });
});

describe('producer delays beyond 15 minutes', () => {
  function scheduling(nowIso: string) {
    const { deps } = fakes();
    const created: OneTimeSchedule[] = [];
    const producer = new Producer({
      ...deps,
      queues: {
        jobs: { name: 'jobs', url: 'https://sqs/jobs', arn: 'arn:aws:sqs:eu-west-1:1:jobs', fifo: false },
      },
      settings: { scheduler: { namePrefix: 'App-job-', roleArn: 'arn:aws:iam::1:role/send' } },
      now: () => Date.parse(nowIso),
      scheduler: {
        async create(schedule) {
          created.push(schedule);
        },
        async delete() {
          return true;
        },
      },
    });
    return { producer, created };
  }

  it('names the first whole minute at or after the due time, as Scheduler fires anywhere within that minute', async () => {
    const { producer, created } = scheduling('2026-11-30T10:00:20.500Z');
    const result = await producer.send(job, { n: 1 }, { delay: { minutes: 20 } });
    expect(atExpression(created[0]?.at as Date)).toBe('at(2026-11-30T10:21:00)');
    expect(result).toMatchObject({ state: 'scheduled', dueAt: '2026-11-30T10:21:00.000Z' });
  });

  it('keeps a due time that is already a whole minute, and never names a minute before a due Date', async () => {
    const { producer, created } = scheduling('2026-11-30T10:00:20.500Z');
    await producer.send(job, { n: 1 }, { delay: new Date('2026-11-30T12:00:00.000Z') });
    await producer.send(job, { n: 2 }, { delay: new Date('2026-11-30T12:00:00.001Z') });
    expect(created.map((s) => atExpression(s.at))).toEqual([
      'at(2026-11-30T12:00:00)',
      'at(2026-11-30T12:01:00)',
    ]);
  });

  it("refuses a delay given as an invalid Date as the caller's mistake", async () => {
    const { producer, created } = scheduling('2026-11-30T10:00:20.500Z');
    await expect(producer.send(job, { n: 1 }, { delay: new Date('nope') })).rejects.toThrow(
      /delay is an invalid Date/,
    );
    expect(created).toEqual([]);
  });
});

describe('producer job keys', () => {
  /** The claim protocol of `dedupe-store.ts` in memory: pending while claimed, queued once completed. */
  function keyed() {
    const { deps, sent } = fakes();
    const records = new Map<string, string>();
    const dedupe: DedupeStore = {
      async claim(key) {
        const status = records.get(key);
        if (status === undefined) {
          records.set(key, 'pending');
          return { status: 'claimed', token: key, generation: `generation-of-${key}` };
        }
        return status === 'queued' ? { status: 'duplicate' } : { status: 'in_progress' };
      },
      async complete(key) {
        records.set(key, 'queued');
      },
      async release(key) {
        records.delete(key);
      },
    };
    return { producer: new Producer({ ...deps, dedupe }), sent };
  }

  it('sends a key repeated within one batch once, and reports the repeat as a duplicate rather than failing it', async () => {
    const { producer, sent } = keyed();
    const results = await producer.sendBatch([
      { job, payload: { n: 1 }, options: { id: 'same' } },
      { job, payload: { n: 2 }, options: { id: 'other' } },
      { job, payload: { n: 1 }, options: { id: 'same' } },
    ]);
    expect(results).toEqual([
      { id: 'same', state: 'queued', duplicate: false },
      { id: 'other', state: 'queued', duplicate: false },
      { id: 'same', state: 'queued', duplicate: true },
    ]);
    expect(sent.map((e) => JSON.parse(e.MessageBody).id)).toEqual(['same', 'other']);
  });
});

describe('producer payloads of delayed jobs', () => {
  const note = defineJob('note.later', z.object({ text: z.string() }), { queue: 'jobs' });
  const DAY = 86_400;

  function withPayloadBucket() {
    const { deps } = fakes();
    const created: OneTimeSchedule[] = [];
    const uploaded: string[] = [];
    const producer = new Producer({
      ...deps,
      queues: {
        jobs: { name: 'jobs', url: 'https://sqs/jobs', arn: 'arn:aws:sqs:eu-west-1:1:jobs', fifo: false },
      },
      settings: {
        payloads: { bucket: 'payloads', inlineLimitBytes: 1_032_192, expirySeconds: 14 * DAY },
        scheduler: { namePrefix: 'App-job-', roleArn: 'arn:aws:iam::1:role/send' },
      },
      async putPayload(object) {
        uploaded.push(object.key);
      },
      scheduler: {
        async create(schedule) {
          created.push(schedule);
        },
        async delete() {
          return true;
        },
      },
    });
    return { producer, created, uploaded };
  }

  it('refuses a delayed job whose payload the bucket would delete before it is due, and sends nothing', async () => {
    const { producer, created, uploaded } = withPayloadBucket();
    const error = await producer
      .send(note, { text: 'x'.repeat(10_000) }, { delay: { days: 20 } })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProducerConfigError);
    expect((error as Error).message).toMatch(/deletes payloads after 14 days \(payloads\.expiry\)/);
    expect([created, uploaded]).toEqual([[], []]);
  });

  it('schedules a large job due well within the payload expiry, and a small one due after it', async () => {
    const { producer, created, uploaded } = withPayloadBucket();
    await producer.send(note, { text: 'x'.repeat(10_000) }, { delay: { days: 12 } });
    await producer.send(note, { text: 'small' }, { delay: { days: 200 } });
    expect(created).toHaveLength(2);
    expect(uploaded).toHaveLength(1);
  });
});

describe('job types', () => {
  it('refuses a type longer than 256 characters, the longest a webhook type is kept', () => {
    expect(defineJob(`a.${'b'.repeat(254)}`, z.object({}), { queue: 'jobs' }).type).toHaveLength(256);
    expect(() => defineJob(`a.${'b'.repeat(255)}`, z.object({}), { queue: 'jobs' })).toThrow(
      /use up to 256 letters, digits/,
    );
  });
});

describe('producer cancel', () => {
  it('answers true once the record says cancelled, even when the schedule cannot be deleted', async () => {
    const { deps } = fakes();
    let state = 'scheduled';
    const producer = new Producer({
      ...deps,
      records: {
        async read(id) {
          return { id, state: state as 'scheduled', scheduleName: 'App-job-abc' };
        },
        async cancel() {
          if (state !== 'scheduled') return undefined;
          state = 'cancelled';
          return { scheduleName: 'App-job-abc' };
        },
      },
      scheduler: {
        async create() {},
        async delete() {
          throw Object.assign(new Error('not authorized'), { name: 'AccessDeniedException' });
        },
      },
    });
    expect(await producer.cancel('later')).toBe(true);
    expect(state).toBe('cancelled');
  });
});
