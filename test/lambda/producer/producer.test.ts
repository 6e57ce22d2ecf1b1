/** The producer core with fake collaborators: what it sends, retries, refuses and reports. */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { SQSRecord } from 'aws-lambda';
import { describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { arrivalArchiveLines } from '../../../lambda/consumer/archive-arrivals';
import { atExpression } from '../../../lambda/producer/aws';
import {
  type BatchEntry,
  type Delay,
  JobBatchError,
  JobRecordError,
  JobSendError,
  JobTooLargeError,
  type OneTimeSchedule,
  Producer,
  type ProducerCollaborators,
  ProducerConfigError,
  type SendOptions,
} from '../../../lambda/producer/producer';
import { attributeBytes, SQS_MAX_MESSAGE_BYTES } from '../../../lambda/shared/claim-check';
import type { ClaimResult, DedupeStore } from '../../../lambda/shared/dedupe-store';
import { MESSAGE_ATTRIBUTES } from '../../../lambda/shared/envelope';
import {
  defineJob,
  JOB_RECORD_HEADER,
  JobPayloadError,
  jobEnvelope,
  jobHandlerKey,
  validateSentJobPayload,
} from '../../../lambda/shared/job';

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

/** A scheduler that creates nothing and records the names of the schedules it is asked to delete. */
function schedulerRecordingDeletes() {
  const deleted: string[] = [];
  const scheduler: NonNullable<ProducerCollaborators['scheduler']> = {
    async create() {},
    async delete(name) {
      deleted.push(name);
      return true;
    },
  };
  return { scheduler, deleted };
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

describe('producer tenants (fair queues)', () => {
  it('sends a tenant on a standard queue as its message group and tenant attribute, without a deduplication id', async () => {
    const { deps, sent } = fakes();
    await new Producer(deps).send(job, { n: 1 }, { tenant: 'acct_noisy' });
    expect(sent[0]?.MessageGroupId).toBe('acct_noisy');
    expect(sent[0]?.MessageDeduplicationId).toBeUndefined();
    expect(sent[0]?.MessageAttributes[MESSAGE_ATTRIBUTES.tenant]).toEqual({
      DataType: 'String',
      StringValue: 'acct_noisy',
    });
  });

  it('sends a delayed job of up to 15 minutes with its tenant too', async () => {
    const { deps, sent } = fakes();
    await new Producer(deps).send(job, { n: 1 }, { tenant: 'acct_1', delay: { minutes: 15 } });
    expect([sent[0]?.DelaySeconds, sent[0]?.MessageGroupId]).toEqual([900, 'acct_1']);
  });

  it('keeps each job of a batch in its own tenant', async () => {
    const { deps, sent } = fakes();
    await new Producer(deps).sendBatch([
      { job, payload: { n: 1 }, options: { tenant: 'a' } },
      { job, payload: { n: 2 } },
      { job, payload: { n: 3 }, options: { tenant: 'b' } },
    ]);
    expect(sent.map((entry) => entry.MessageGroupId)).toEqual(['a', undefined, 'b']);
  });

  it('refuses, before sending anything, a tenant on a FIFO queue and one SQS would refuse as a group id', async () => {
    const { deps, calls } = fakes();
    const producer = new Producer(deps);
    await expect(producer.send(fifoJob, { n: 1 }, { tenant: 'acct_1' })).rejects.toThrow(
      /tenant is for standard queues, and "orders" is FIFO.*use group/,
    );
    for (const tenant of ['', 'acct 1', 'x'.repeat(129)]) {
      await expect(producer.send(job, { n: 1 }, { tenant })).rejects.toThrow(
        /tenant .* must be 1 to 128 printable ASCII characters without spaces/,
      );
    }
    expect(calls).toEqual([]);
  });

  it('refuses a tenant, group or id that is not a string (a number from JSON) with the reason, not a TypeError', async () => {
    const { deps, calls } = fakes();
    const producer = new Producer(deps);
    const untyped = (options: Record<string, unknown>) => options as never;
    await expect(producer.send(job, { n: 1 }, untyped({ tenant: 42 }))).rejects.toThrow(
      /job .*: tenant 42 \(a number, not a string\) must be 1 to 128 printable ASCII characters/,
    );
    await expect(producer.send(job, { n: 1 }, untyped({ tenant: ['acct_1'] }))).rejects.toThrow(
      /tenant acct_1 \(a list, not a string\) must be/,
    );
    await expect(producer.send(fifoJob, { n: 1 }, untyped({ group: 7 }))).rejects.toThrow(
      /group 7 \(a number, not a string\) must be/,
    );
    await expect(producer.send(job, { n: 1 }, untyped({ id: 12 }))).rejects.toThrow(
      /id 12 \(a number, not a string\) must be 1 to 200/,
    );
    expect(calls).toEqual([]);
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

  it('sends a key repeated within one batch once, and reports the repeat as a duplicate (sent under no tenant) rather than failing it', async () => {
    const { producer, sent } = keyed();
    const results = await producer.sendBatch([
      { job, payload: { n: 1 }, options: { id: 'same', tenant: 'acme' } },
      { job, payload: { n: 2 }, options: { id: 'other' } },
      { job, payload: { n: 1 }, options: { id: 'same', tenant: 'acme' } },
    ]);
    expect(results).toEqual([
      { id: 'same', state: 'queued', duplicate: false, tenant: 'acme' },
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

describe('producer jobs near the SQS limit, with the archive', () => {
  const blob = defineJob('blob.store', z.object({ data: z.string() }), { queue: 'jobs' });
  const fifoBlob = defineJob('blob.order', z.object({ data: z.string() }), { queue: 'orders' });

  /** The consumer's view of a sent entry: a first receive, as Lambda's event source hands it over. */
  const received = (entry: BatchEntry): SQSRecord =>
    ({
      messageId: entry.Id,
      body: entry.MessageBody,
      attributes: {
        ApproximateReceiveCount: '1',
        ...(entry.MessageGroupId ? { MessageGroupId: entry.MessageGroupId } : {}),
      },
      messageAttributes: Object.fromEntries(
        Object.entries(entry.MessageAttributes ?? {}).map(([k, v]) => [k, { stringValue: v.StringValue }]),
      ),
    }) as unknown as SQSRecord;

  function withBucket() {
    const { deps, sent } = granted();
    const uploaded: string[] = [];
    const producer = new Producer({
      ...deps,
      settings: { ...deps.settings, payloads: { bucket: 'payloads', inlineLimitBytes: 1_032_192 } },
      async putPayload(object) {
        uploaded.push(object.key);
      },
    });
    return { producer, sent, uploaded };
  }

  it('claim-checks a job SQS takes inline but whose archive record would not fit, so its consumer archives it', async () => {
    const { producer, sent, uploaded } = withBucket();
    // Its envelope fits SQS (1,032,192 bytes) and is over a delivery stream record (1,024,000 bytes).
    await producer.send(blob, { data: 'x'.repeat(1_025_000) }, { id: 'big', tenant: 'acme' });
    await producer.send(
      fifoBlob,
      { data: 'x'.repeat(1_025_000) },
      { id: 'big-fifo', group: 'g'.repeat(128) },
    );
    expect(uploaded).toHaveLength(2);
    expect(sent).toHaveLength(2);
    for (const entry of sent) {
      const { lines } = arrivalArchiveLines([received(entry)], entry.MessageGroupId ? 'orders' : 'jobs');
      expect(lines).toHaveLength(1);
    }
  });

  it('sends inline a job whose archive record fits, however close', async () => {
    const { producer, sent, uploaded } = withBucket();
    await producer.send(blob, { data: 'x'.repeat(1_010_000) }, { id: 'fits' });
    expect(uploaded).toEqual([]);
    expect(arrivalArchiveLines([received(sent[0] as BatchEntry)], 'jobs').lines).toHaveLength(1);
  });
});

describe('job types', () => {
  it('accepts dot-separated segments of letters, digits, - and _, and nothing else', () => {
    for (const type of ['report', 'email.welcome', 'a.b.c', 'Shop_1.order-paid'])
      expect(defineJob(type, z.object({}), { queue: 'jobs' }).type).toBe(type);
    for (const type of ['', 'bad type', 'x!', 'a..b', '.a', 'a.', 'a/b', 'é'])
      expect(() => defineJob(type, z.object({}), { queue: 'jobs' })).toThrow(/is invalid: use up to 256/);
  });

  it('refuses a job that names no queue', () => {
    expect(() => defineJob('report', z.object({}), { queue: '' })).toThrow(/job report names no queue/);
  });

  it('is handled under the key job.<type>', () => {
    expect(jobHandlerKey('email.welcome')).toBe('job.email.welcome');
  });

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
          return { was: 'scheduled' as const, scheduleName: 'App-job-abc' };
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

/**
 * A producer granted everything (records, delays, a payload bucket), whose collaborators record what they were
 * asked: the claims and record fields, the schedules, the backoff sleeps.
 */
function granted(options: { refuse?: (entry: BatchEntry, attempt: number) => boolean } = {}) {
  const base = fakes(options.refuse);
  const created: OneTimeSchedule[] = [];
  const completed = new Map<string, Record<string, AttributeValue>>();
  const claims = new Map<string, ClaimResult>();
  const sleeps: number[] = [];
  const dedupe: DedupeStore = {
    async claim(key) {
      return claims.get(key) ?? { status: 'claimed', token: key, generation: `generation-of-${key}` };
    },
    async complete(key, _token, fields = {}) {
      completed.set(key, fields);
    },
    async release() {},
  };
  const deps: ProducerCollaborators = {
    ...base.deps,
    queues: {
      jobs: { name: 'jobs', url: 'https://sqs/jobs', arn: 'arn:aws:sqs:eu-west-1:1:jobs', fifo: false },
      orders: {
        name: 'orders',
        url: 'https://sqs/orders.fifo',
        arn: 'arn:aws:sqs:eu-west-1:1:orders.fifo',
        fifo: true,
      },
    },
    settings: {
      dedupe: { tableName: 'dedupe', ttlSeconds: 3 * 86_400 },
      scheduler: {
        namePrefix: 'App-job-',
        roleArn: 'arn:aws:iam::1:role/send',
        groupName: 'app-jobs',
        deadLetterQueueArn: 'arn:aws:sqs:eu-west-1:1:job-schedules-dlq',
      },
    },
    dedupe,
    records: {
      async read() {
        return undefined;
      },
      async cancel() {
        return undefined;
      },
    },
    scheduler: {
      async create(schedule) {
        created.push(schedule);
      },
      async delete() {
        return true;
      },
    },
    sleep: async (ms) => {
      sleeps.push(ms);
    },
  };
  return { deps, sent: base.sent, calls: base.calls, created, completed, claims, sleeps };
}

describe('producer delivery paths', () => {
  it('sends a job delayed exactly 15 minutes through SQS DelaySeconds, not a schedule, whatever its size', async () => {
    const { deps, sent, created, completed } = granted();
    const note = defineJob('note.soon', z.object({ text: z.string() }), { queue: 'jobs' });
    const producer = new Producer({ ...deps, now: () => Date.parse('2026-11-30T00:00:20.500Z') });
    // Larger than a schedule carries: only a one-time schedule would need it in a payload bucket.
    const result = await producer.send(
      note,
      { text: 'x'.repeat(10_000) },
      { id: 'quarter', delay: { minutes: 15 } },
    );
    expect(sent.map((e) => e.DelaySeconds)).toEqual([900]);
    expect(created).toEqual([]);
    expect(result).toMatchObject({ state: 'scheduled', dueAt: '2026-11-30T00:15:20.500Z' });
    expect(completed.get('job#quarter')?.scheduleName).toBeUndefined();
  });

  it('sends a zero delay at once, as a job without delay', async () => {
    const { deps, sent } = fakes();
    const result = await new Producer(deps).send(job, { n: 1 }, { delay: { seconds: 0 } });
    expect([sent[0]?.DelaySeconds, result.state, result.dueAt]).toEqual([undefined, 'queued', undefined]);
  });

  it('sends a job delayed 15 minutes without a scheduler, which only longer delays need', async () => {
    const { deps, sent } = fakes();
    await new Producer(deps).send(job, { n: 1 }, { delay: { minutes: 15 } });
    expect(sent.map((e) => e.DelaySeconds)).toEqual([900]);
  });

  it('sends a short delay once, through SQS, even when the producer may also schedule', async () => {
    const { deps, sent, created } = granted();
    await new Producer(deps).send(job, { n: 1 }, { delay: { seconds: 30 } });
    expect([sent.length, created.length]).toEqual([1, 0]);
  });

  it('sends a job due at a Date within 15 minutes through SQS, to the second, and schedules one due later', async () => {
    const { deps, sent, created } = granted();
    const now = deps.now();
    const producer = new Producer(deps);
    await producer.send(job, { n: 1 }, { delay: new Date(now + 90_500) });
    await producer.send(job, { n: 2 }, { delay: new Date(now + 16 * 60_000) });
    expect([sent.map((e) => e.DelaySeconds), created.length]).toEqual([[91], 1]);
  });

  it('sends a job due at a Date already past at once, as a job without a delay', async () => {
    const { deps, sent, created } = granted();
    const result = await new Producer(deps).send(job, { n: 1 }, { delay: new Date(deps.now() - 3_600_000) });
    expect(result).toMatchObject({ state: 'queued' });
    expect(result).not.toHaveProperty('dueAt');
    expect([sent.map((e) => e.DelaySeconds ?? 0), created.length]).toEqual([[0], 0]);
  });

  it('schedules a long delay once, with the group and the dead-letter queue Scheduler puts an undeliverable job in', async () => {
    const { deps, sent, created, completed } = granted();
    await new Producer(deps).send(job, { n: 1 }, { id: 'later', delay: { hours: 2 } });
    expect(sent).toEqual([]);
    expect(created).toEqual([
      expect.objectContaining({
        groupName: 'app-jobs',
        deadLetterQueueArn: 'arn:aws:sqs:eu-west-1:1:job-schedules-dlq',
        queueArn: 'arn:aws:sqs:eu-west-1:1:jobs',
      }),
    ]);
    expect(completed.get('job#later')).toMatchObject({
      state: { S: 'scheduled' },
      dueAt: { S: '2026-11-30T02:00:00.000Z' },
      scheduleName: { S: created[0]?.name },
    });
  });

  it('schedules a tenant’s job delayed beyond 15 minutes without a message group, which Scheduler sets for FIFO queues only', async () => {
    const { deps, sent, created } = granted();
    await new Producer(deps).send(
      job,
      { n: 1 },
      { id: 'later-tenant', tenant: 'acct_1', delay: { hours: 2 } },
    );
    expect([sent.length, created.length, created[0]?.messageGroupId]).toEqual([0, 1, undefined]);
  });

  it('records a job sent without delay as queued, with no due time and no schedule', async () => {
    const { deps, completed } = granted();
    await new Producer(deps).send(job, { n: 1 }, { id: 'now' });
    const fields = completed.get('job#now');
    expect(fields?.state).toEqual({ S: 'queued' });
    expect([fields?.dueAt, fields?.scheduleName]).toEqual([undefined, undefined]);
  });

  it('refuses a long delay on a queue with an address when the producer was granted no delays', async () => {
    const { deps, calls } = granted();
    for (const producer of [
      new Producer({ ...deps, scheduler: undefined, settings: {} }),
      new Producer({ ...deps, settings: {} }),
      new Producer({ ...deps, scheduler: undefined }),
    ]) {
      await expect(producer.send(job, { n: 1 }, { delay: { hours: 2 } })).rejects.toThrow(
        /a delay over 15 minutes needs a one-time schedule: grant it with pipeline\.grantSend\(fn, 'jobs', \{ delays: true \}\)/,
      );
    }
    expect(calls).toEqual([]);
  });

  it('refuses a duration with a negative or non-finite unit, even one adding up to 0 or more, naming the unit, and sends nothing', async () => {
    const { deps, calls } = fakes();
    const producer = new Producer(deps);
    const refusals: [Record<string, number>, string][] = [
      [
        { seconds: -5 },
        'delay { seconds: -5 } is not a duration: seconds is not a finite number of 0 or more; pass each unit as a finite number of 0 or more, e.g. { minutes: 5 }',
      ],
      [
        { minutes: 1, seconds: -30 },
        'delay { minutes: 1, seconds: -30 } is not a duration: seconds is not a finite number of 0 or more; pass each unit as a finite number of 0 or more, e.g. { minutes: 5 }',
      ],
      [
        { hours: -1, minutes: 90 },
        'delay { hours: -1, minutes: 90 } is not a duration: hours is not a finite number of 0 or more; pass each unit as a finite number of 0 or more, e.g. { minutes: 5 }',
      ],
      [
        { minutes: Number.NaN },
        'delay { minutes: NaN } is not a duration: minutes is not a finite number of 0 or more; pass each unit as a finite number of 0 or more, e.g. { minutes: 5 }',
      ],
      [
        { hours: 1, seconds: Number.POSITIVE_INFINITY },
        'delay { hours: 1, seconds: Infinity } is not a duration: seconds is not a finite number of 0 or more; pass each unit as a finite number of 0 or more, e.g. { minutes: 5 }',
      ],
      [
        { days: -1, seconds: Number.NaN },
        'delay { days: -1, seconds: NaN } is not a duration: days and seconds are not finite numbers of 0 or more; pass each unit as a finite number of 0 or more, e.g. { minutes: 5 }',
      ],
    ];
    for (const [delay, message] of refusals) {
      const error = await producer.send(job, { n: 1 }, { delay }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ProducerConfigError);
      expect((error as Error).message).toBe(message);
    }
    expect(calls).toEqual([]);
  });

  it('refuses a delay that is a number, a string, has a misspelt unit or no unit at all instead of running the job at once', async () => {
    const { deps, calls } = fakes();
    const producer = new Producer(deps);
    const refusals: [unknown, RegExp][] = [
      [
        5000,
        /delay 5000 is not a duration or a Date: pass \{ seconds: n \} \(a number of milliseconds m is \{ seconds: m \/ 1000 \}\)/,
      ],
      [-5, /delay -5 is not a duration or a Date/],
      ['2027-01-15T09:00:00Z', /delay "2027-01-15T09:00:00Z" is not a duration or a Date/],
      [
        { mins: 5 },
        /delay \{"mins":5\} has "mins", which is not a unit: use days, hours, minutes or seconds/,
      ],
      [
        {},
        /^delay \{\} gives no unit: pass at least one of days, hours, minutes or seconds as a number, e\.g\. \{ minutes: 5 \}$/,
      ],
      [{ seconds: undefined }, /^delay \{\} gives no unit/],
    ];
    for (const [delay, reason] of refusals) {
      const error = await producer.send(job, { n: 1 }, { delay: delay as Delay }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ProducerConfigError);
      expect((error as Error).message).toMatch(reason);
    }
    expect(calls).toEqual([]);
  });

  it('refuses a duration whose units are not numbers rather than reading strings or null as some other delay', async () => {
    const { deps, calls } = fakes();
    const producer = new Producer(deps);
    const refusals: [unknown, RegExp][] = [
      [
        { minutes: '1', seconds: '1' },
        /delay \{"minutes":"1","seconds":"1"\} has "minutes", "seconds" not given as a number/,
      ],
      [{ seconds: null }, /delay \{"seconds":null\} has "seconds" not given as a number/],
      [{ hours: true }, /has "hours" not given as a number/],
    ];
    for (const [delay, reason] of refusals) {
      const error = await producer.send(job, { n: 1 }, { delay: delay as Delay }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ProducerConfigError);
      expect((error as Error).message).toMatch(reason);
    }
    await expect(
      producer.send(job, { n: 1 }, { backoff: { base: { seconds: '5' } as never } }),
    ).rejects.toThrow(/backoff\.base \{"seconds":"5"\} has "seconds" not given as a number/);
    const waiting: ProducerCollaborators = {
      ...deps,
      records: { read: async (id) => ({ id, state: 'queued' }), cancel: async () => undefined },
    };
    await expect(new Producer(waiting).waitFor('x', { timeout: { minutes: null } as never })).rejects.toThrow(
      /timeout \{"minutes":null\} has "minutes" not given as a number/,
    );
    expect(calls).toEqual([]);
  });

  it('refuses a send option it does not know, saying what hookline does instead of BullMQ’s', async () => {
    const { deps, calls } = fakes();
    const producer = new Producer(deps);
    const options = { jobId: 'welcome-u1', removeOnComplete: true };
    const error = await producer.send(job, { n: 1 }, options as SendOptions).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProducerConfigError);
    expect((error as Error).message).toBe(
      'job report.build: options "jobId", "removeOnComplete" are not one send takes (id, delay, group, tenant, attempts, backoff, debounce): ' +
        'the job key is id; job records expire after dedupe.ttl in hookline.config.ts',
    );
    await expect(
      producer.sendBatch([{ job, payload: { n: 1 }, options: { priority: 1 } as SendOptions }]),
    ).rejects.toThrow(/option "priority" is not one send takes .*: there are no priorities/);
    await expect(producer.send(job, { n: 1 }, { failParentOnFailure: true } as SendOptions)).rejects.toThrow(
      /option "failParentOnFailure" is not one send takes .*: it is a flow child's option/,
    );
    expect(calls).toEqual([]);
  });

  it('takes null options as none, and refuses options that are not an object with a config error', async () => {
    const { deps, sent } = fakes();
    const producer = new Producer(deps);
    await producer.send(job, { n: 1 }, null as never);
    expect(sent).toHaveLength(1);
    await expect(producer.send(job, { n: 1 }, 'welcome-u1' as never)).rejects.toThrow(
      new ProducerConfigError(
        'job report.build: options must be an object such as { id, delay }, not string',
      ),
    );
    await expect(producer.sendBatch([{ job, payload: { n: 1 }, options: [] as never }])).rejects.toThrow(
      ProducerConfigError,
    );
    expect(sent).toHaveLength(1);
  });

  it('names a refused batch item by position when its id is not a string, without failing on the id', async () => {
    const { deps, calls } = fakes();
    const items = [
      { job, payload: { n: 1 } },
      { job, payload: { n: 2 }, options: { id: 42 } as never },
    ];
    const error = await new Producer(deps).sendBatch(items).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProducerConfigError);
    expect((error as Error).message).toMatch(
      /^sendBatch item 1 \(id 42 \(a number, not a string\)\): job report\.build: id 42 /,
    );
    expect(calls).toEqual([]);
  });

  it('sends an undelayed job without DelaySeconds, and a standard queue’s without group or deduplication id', async () => {
    const { deps, sent } = fakes();
    await new Producer(deps).send(job, { n: 1 });
    expect(Object.keys(sent[0] ?? {}).sort()).toEqual(['Id', 'MessageAttributes', 'MessageBody']);
  });

  it('gives every message the source, type and event id attributes of its envelope', async () => {
    const { deps, sent } = granted();
    await new Producer(deps).send(job, { n: 1 }, { id: 'attrs' });
    expect(sent[0]?.MessageAttributes).toEqual({
      [MESSAGE_ATTRIBUTES.source]: { DataType: 'String', StringValue: 'job' },
      [MESSAGE_ATTRIBUTES.type]: { DataType: 'String', StringValue: 'report.build' },
      [MESSAGE_ATTRIBUTES.eventId]: { DataType: 'String', StringValue: 'attrs' },
    });
  });

  it('marks a job as recorded in its envelope exactly when the producer keeps job records', async () => {
    const withRecords = granted();
    await new Producer(withRecords.deps).send(job, { n: 1 });
    const without = fakes();
    await new Producer(without.deps).send(job, { n: 1 });
    const headersOf = (entries: BatchEntry[]) => JSON.parse(entries[0]?.MessageBody ?? '{}').headers;
    expect(headersOf(withRecords.sent)).toEqual({ [JOB_RECORD_HEADER]: '1' });
    expect(headersOf(without.sent)).toEqual({});
  });

  it('splits a batch whose messages together exceed what one SendMessageBatch carries', async () => {
    const { deps, calls } = fakes();
    const note = defineJob('note.big', z.object({ text: z.string() }), { queue: 'jobs' });
    await new Producer(deps).sendBatch(
      [0, 1, 2].map(() => ({ job: note, payload: { text: 'x'.repeat(400_000) } })),
    );
    expect(calls).toEqual([2, 1]);
  });
});

describe('producer job keys already claimed', () => {
  it('answers a key sent before with the state and due time its record has now', async () => {
    const { deps, sent, claims } = granted();
    claims.set('job#done', { status: 'duplicate' });
    const producer = new Producer({
      ...deps,
      records: {
        async read(id) {
          return { id, state: 'completed', dueAt: '2026-11-30T02:00:00.000Z' };
        },
        async cancel() {
          return undefined;
        },
      },
    });
    expect(await producer.send(job, { n: 1 }, { id: 'done' })).toEqual({
      id: 'done',
      state: 'completed',
      duplicate: true,
      dueAt: '2026-11-30T02:00:00.000Z',
    });
    expect(sent).toEqual([]);
  });

  it('answers a key sent before whose record expired as queued', async () => {
    const { deps, claims } = granted();
    claims.set('job#old', { status: 'duplicate' });
    expect(await new Producer(deps).send(job, { n: 1 }, { id: 'old' })).toEqual({
      id: 'old',
      state: 'queued',
      duplicate: true,
    });
  });

  it('fails a key still being enqueued elsewhere after every retry, rather than answering a duplicate that may never be sent', async () => {
    const { deps, sent, claims } = granted();
    claims.set('job#busy', { status: 'in_progress' });
    const error = await new Producer(deps)
      .sendBatch([{ job, payload: { n: 1 }, options: { id: 'busy' } }])
      .catch((e: unknown) => e);
    expect((error as JobBatchError).failed).toEqual([
      { index: 0, id: 'busy', error: 'the same job id is being enqueued right now: retry shortly' },
    ]);
    expect(sent).toEqual([]);
  });

  it('fails, and sends nothing, a keyed job whose claim the dedupe table could not answer', async () => {
    const { deps, sent } = granted();
    const producer = new Producer({
      ...deps,
      dedupe: {
        ...(deps.dedupe as DedupeStore),
        async claim() {
          throw Object.assign(new Error('slow down'), { name: 'ThrottlingException' });
        },
      },
    });
    const error = await producer
      .sendBatch([{ job, payload: { n: 1 }, options: { id: 'k' } }])
      .catch((e: unknown) => e);
    expect((error as JobBatchError).failed).toEqual([
      { index: 0, id: 'k', error: 'dedupe table unavailable: ThrottlingException: slow down' },
    ]);
    expect(sent).toEqual([]);
  });

  it('says what to set when the process has no AWS credentials or region, as the SDK does not', async () => {
    const { deps, sent } = granted();
    const failing = (error: Error) =>
      new Producer({
        ...deps,
        dedupe: {
          ...(deps.dedupe as DedupeStore),
          async claim() {
            throw error;
          },
        },
      });
    const noCredentials = Object.assign(new Error('Could not load credentials from any providers'), {
      name: 'CredentialsProviderError',
    });
    await expect(failing(noCredentials).send(job, { n: 1 }, { id: 'k' })).rejects.toThrow(
      'job report.build (id "k") was not enqueued: dedupe table unavailable: CredentialsProviderError: Could not load credentials from any providers (this process has no AWS credentials: run it as the role or user the stack granted with grantSend, e.g. AWS_PROFILE or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY for a script)',
    );
    await expect(failing(new Error('Region is missing')).send(job, { n: 1 }, { id: 'k' })).rejects.toThrow(
      "dedupe table unavailable: Error: Region is missing (this process has no AWS region: set AWS_REGION to the pipeline's region)",
    );
    expect(sent).toEqual([]);
  });

  it('says what to set when status, cancel or waitFor cannot reach the job records for want of credentials or a region', async () => {
    const { deps } = granted();
    const failing = (error: Error) =>
      new Producer({
        ...deps,
        records: {
          read: async () => Promise.reject(error),
          cancel: async () => Promise.reject(error),
        },
      });
    const noCredentials = Object.assign(new Error('Could not load credentials from any providers'), {
      name: 'CredentialsProviderError',
    });
    const hint =
      'dedupe table unavailable: CredentialsProviderError: Could not load credentials from any providers (this process has no AWS credentials: run it as the role or user the stack granted with grantSend, e.g. AWS_PROFILE or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY for a script)';
    const producer = failing(noCredentials);
    const calls: [string, Promise<unknown>][] = [
      ['status', producer.status('k')],
      ['cancel', producer.cancel('k')],
      ['waitFor', producer.waitFor('k', { timeout: { minutes: 1 } })],
    ];
    for (const [operation, call] of calls) {
      const error = await call.catch((e: unknown) => e);
      expect(error).toBeInstanceOf(JobRecordError);
      expect((error as Error).message).toBe(`${operation} of job "k" failed: ${hint}`);
      expect((error as Error).cause).toBe(noCredentials);
    }
    await expect(failing(new Error('Region is missing')).status('k')).rejects.toThrow(
      'status of job "k" failed: dedupe table unavailable: Error: Region is missing (this process has no AWS region: set AWS_REGION to the pipeline\'s region)',
    );
  });

  it('fails a send at its first failure for want of credentials or a region, which no retry fixes', async () => {
    const noCredentials = Object.assign(new Error('Could not load credentials from any providers'), {
      name: 'CredentialsProviderError',
    });
    for (const error of [noCredentials, new Error('Region is missing')]) {
      const { deps } = granted();
      const calls = { sendBatch: 0, putPayload: 0, sleeps: 0 };
      /** A producer allowed five tries, whose `failing` call fails with `error`. */
      const failingAt = (failing: 'sendBatch' | 'putPayload') =>
        new Producer({
          ...deps,
          dedupe: undefined,
          settings: { payloads: { bucket: 'payloads', inlineLimitBytes: 1000 } },
          retry: { attempts: 5, baseDelayMs: 1 },
          sleep: async () => void calls.sleeps++,
          [failing]: async () => {
            calls[failing]++;
            throw error;
          },
        });
      const producer = failingAt('sendBatch');
      const sent = await producer.send(job, { n: 1 }).catch((e: unknown) => e);
      expect(sent).toBeInstanceOf(JobSendError);
      expect((sent as JobSendError).reason).toMatch(
        /^not enqueued after 1 attempt: .*\(this process has no AWS/,
      );
      const uploading = failingAt('putPayload');
      const large = { n: 1, pad: 'x'.repeat(2000) } as never;
      const uploaded = await uploading.send(job, large).catch((e: unknown) => e);
      expect((uploaded as JobSendError).reason).toMatch(
        /^payload upload failed: .*\(this process has no AWS/,
      );
      expect(calls).toEqual({ sendBatch: 1, putPayload: 1, sleeps: 0 });
    }
  });

  it('sends a batch’s FIFO jobs in the order given, whichever claim or upload finishes first', async () => {
    const { deps, sent } = granted();
    const delays = [30, 20, 10, 0];
    let claimsMade = 0;
    let uploads = 0;
    const later = (n: number) => new Promise((resolve) => setImmediate(resolve)).then(() => n);
    const waitTurns = async (turns: number) => {
      for (let i = 0; i < turns; i++) await later(i);
    };
    const producer = new Producer({
      ...deps,
      settings: { ...deps.settings, payloads: { bucket: 'payloads', inlineLimitBytes: 1000 } },
      dedupe: {
        ...(deps.dedupe as DedupeStore),
        async claim(key) {
          await waitTurns(delays[claimsMade++] ?? 0);
          return { status: 'claimed', token: key, generation: `generation-of-${key}` };
        },
      },
      async putPayload() {
        await waitTurns(delays[uploads++] ?? 0);
      },
    });
    await producer.sendBatch(
      [0, 1, 2, 3].map((n) => ({
        job: fifoJob,
        payload: { n, pad: 'x'.repeat(n % 2 ? 2000 : 0) } as never,
        options: { id: `order-${n}`, group: 'customer-1' },
      })),
    );
    expect(sent.map((e) => JSON.parse(e.MessageBody).id)).toEqual([
      'order-0',
      'order-1',
      'order-2',
      'order-3',
    ]);
  });
});

describe('producer error codes', () => {
  const codeOf = async (work: Promise<unknown>) =>
    ((await work.catch((e: unknown) => e)) as { code?: string }).code;

  it('name each refusal and failure with a stable code a caller can switch on', async () => {
    const { deps } = fakes();
    const producer = new Producer(deps);
    const elsewhere = defineJob('report.other', z.object({ n: z.number() }), { queue: 'nowhere' });
    expect(await codeOf(producer.send(elsewhere, { n: 1 }))).toBe('UNKNOWN_QUEUE');
    expect(await codeOf(producer.send(job, { n: 1 }, { id: 'k' }))).toBe('NOT_GRANTED');
    expect(await codeOf(producer.status('k'))).toBe('NOT_GRANTED');
    expect(await codeOf(producer.send(job, { n: 1 }, { delay: {} }))).toBe('INVALID_OPTION');
    expect(await codeOf(producer.send(fifoJob, { n: 1 }, { delay: { seconds: 5 } }))).toBe('INVALID_OPTION');
    expect(await codeOf(producer.send(job, { n: 'one' as unknown as number }))).toBe('PAYLOAD_INVALID');
    expect(await codeOf(producer.send(job, { n: 1n as unknown as number }))).toBe('PAYLOAD_NOT_JSON');
    const large = { n: 1, pad: 'x'.repeat(1_100_000) } as never;
    expect(await codeOf(producer.send(job, large))).toBe('JOB_TOO_LARGE');
  });

  it('tell a process without credentials or a region from an outage', async () => {
    const noCredentials = Object.assign(new Error('Could not load credentials from any providers'), {
      name: 'CredentialsProviderError',
    });
    const failingWith = (error: Error) => {
      const { deps } = granted();
      return new Producer({
        ...deps,
        dedupe: undefined,
        async sendBatch() {
          throw error;
        },
        records: { read: async () => Promise.reject(error), cancel: async () => Promise.reject(error) },
      });
    };
    expect(await codeOf(failingWith(noCredentials).send(job, { n: 1 }))).toBe('NO_CREDENTIALS');
    expect(await codeOf(failingWith(new Error('Region is missing')).send(job, { n: 1 }))).toBe('NO_REGION');
    expect(await codeOf(failingWith(new Error('socket hang up')).send(job, { n: 1 }))).toBe('NOT_ENQUEUED');
    expect(
      await codeOf(failingWith(new Error('socket hang up')).sendBatch([{ job, payload: { n: 1 } }])),
    ).toBe('NOT_ENQUEUED');
    expect(await codeOf(failingWith(noCredentials).status('k'))).toBe('NO_CREDENTIALS');
    expect(await codeOf(failingWith(new Error('socket hang up')).cancel('k'))).toBe('RECORDS_UNAVAILABLE');
    const { deps } = granted();
    expect(await codeOf(new Producer(deps).waitFor('k', { timeout: { seconds: 1 } }))).toBe('JOB_NOT_FOUND');
  });
});

describe('producer sends that fail for the credentials themselves', () => {
  const named = (name: string, message: string) => Object.assign(new Error(message), { name });
  const ssoExpired = named(
    'CredentialsProviderError',
    'The SSO session associated with this profile has expired or is otherwise invalid. To refresh this SSO session run aws sso login with the corresponding profile.',
  );
  const tokenExpired = named(
    'ExpiredTokenException',
    'The security token included in the request is expired',
  );
  const rejected = named(
    'UnrecognizedClientException',
    'The security token included in the request is invalid.',
  );

  /** A producer allowed five tries whose every SendMessageBatch fails with `error`, and how often it was called. */
  const failingWith = (error: Error) => {
    const { deps } = granted();
    const calls = { sendBatch: 0, sleeps: 0 };
    const producer = new Producer({
      ...deps,
      dedupe: undefined,
      retry: { attempts: 5, baseDelayMs: 1 },
      sleep: async () => void calls.sleeps++,
      async sendBatch() {
        calls.sendBatch++;
        throw error;
      },
      records: { read: async () => Promise.reject(error), cancel: async () => Promise.reject(error) },
    });
    return { producer, calls };
  };

  it.each([
    [
      'an expired SSO session',
      ssoExpired,
      'CREDENTIALS_EXPIRED',
      'the SSO session this process signs in with expired: sign in again with aws sso login',
    ],
    [
      'temporary credentials past their end',
      tokenExpired,
      'CREDENTIALS_EXPIRED',
      "this process's temporary AWS credentials expired: sign in again with aws sso login, or give it new ones",
    ],
    [
      'credentials AWS does not know',
      rejected,
      'CREDENTIALS_REJECTED',
      "AWS rejected this process's credentials",
    ],
  ])('fail a send at once on %s, with its own code and fix', async (_case, error, code, fix) => {
    const { producer, calls } = failingWith(error);
    const sent = await producer.send(job, { n: 1 }).catch((e: unknown) => e);
    expect(sent).toBeInstanceOf(JobSendError);
    expect((sent as JobSendError).code).toBe(code);
    expect((sent as JobSendError).reason).toContain(`not enqueued after 1 attempt: ${error.name}: `);
    expect((sent as JobSendError).reason).toContain(`(${fix}`);
    expect(calls).toEqual({ sendBatch: 1, sleeps: 0 });
    const read = await producer.status('k').catch((e: unknown) => e);
    expect(read).toBeInstanceOf(JobRecordError);
    expect((read as JobRecordError).code).toBe(code);
    expect((read as Error).message).toContain(`(${fix}`);
  });

  it('names the exact sign-in command, with the profile AWS_PROFILE selects, as the CLI does', async () => {
    vi.stubEnv('AWS_PROFILE', 'prod');
    try {
      for (const error of [ssoExpired, tokenExpired]) {
        const { producer } = failingWith(error);
        const sent = await producer.send(job, { n: 1 }).catch((e: unknown) => e);
        expect((sent as JobSendError).reason).toContain('sign in again with aws sso login --profile prod,');
        expect((sent as JobSendError).code).toBe('CREDENTIALS_EXPIRED');
        const read = await producer.status('k').catch((e: unknown) => e);
        expect((read as Error).message).toContain('sign in again with aws sso login --profile prod,');
      }
      vi.stubEnv('AWS_PROFILE', undefined);
      const sent = await failingWith(ssoExpired)
        .producer.send(job, { n: 1 })
        .catch((e: unknown) => e);
      expect((sent as JobSendError).reason).toContain(
        '(the SSO session this process signs in with expired: sign in again with aws sso login, then send again)',
      );
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it("takes a failed send's code from its failure, never from words in its reason that read like a fix", async () => {
    const noRegionFix = " (this process has no AWS region: set AWS_REGION to the pipeline's region)";
    const { producer } = failingWith(new Error(`socket hang up${noRegionFix}`));
    const sent = await producer.send(job, { n: 1 }).catch((e: unknown) => e);
    expect((sent as JobSendError).reason).toBe(
      `not enqueued after 5 attempts: Error: socket hang up${noRegionFix}`,
    );
    expect((sent as JobSendError).code).toBe('NOT_ENQUEUED');
  });

  it("keeps a setup failure's code from any step of the send, the payload upload's among them", async () => {
    const { deps } = granted();
    const producer = new Producer({
      ...deps,
      dedupe: undefined,
      settings: { payloads: { bucket: 'payloads', inlineLimitBytes: 1000 } },
      putPayload: async () => Promise.reject(tokenExpired),
    });
    const large = { n: 1, pad: 'x'.repeat(2000) } as never;
    const sent = await producer.send(job, large).catch((e: unknown) => e);
    expect((sent as JobSendError).reason).toMatch(/^payload upload failed: ExpiredTokenException: /);
    expect((sent as JobSendError).code).toBe('CREDENTIALS_EXPIRED');
  });

  it('says an expired SSO session is one, where it said the process had no credentials', async () => {
    const { producer } = failingWith(ssoExpired);
    const sent = await producer.send(job, { n: 1 }).catch((e: unknown) => e);
    expect((sent as Error).message).not.toContain('has no AWS credentials');
  });
});

describe('producer batch refusals', () => {
  it('refuses a job argument that is not a job definition, naming the argument, where JavaScript got a TypeError', async () => {
    const { deps, calls } = fakes();
    const producer = new Producer(deps);
    const send = producer.send.bind(producer) as (job: unknown, payload: unknown) => Promise<unknown>;
    const refusals: [unknown, string][] = [
      [undefined, 'undefined: pass the value defineJob returns'],
      [null, 'null: pass the value defineJob returns'],
      ['report.build', 'the string "report.build": pass the definition, not its type name'],
      [
        { type: 'report.build' },
        'an object without a type, a schema and a queue: pass the value defineJob returns',
      ],
    ];
    for (const [given, shown] of refusals) {
      const error = await send(given, { n: 1 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ProducerConfigError);
      expect((error as Error).message).toBe(
        `the job argument is not a job definition, it is ${shown} (const welcomeEmail = defineJob('email.welcome', schema, { queue }); send(welcomeEmail, payload))`,
      );
    }
    const batch = await producer
      .sendBatch([
        { job, payload: { n: 1 } },
        { job: undefined as never, payload: { n: 2 } },
      ])
      .catch((e: unknown) => e);
    expect((batch as Error).message).toMatch(
      /^sendBatch item 1: the job argument is not a job definition, it is undefined: .*; nothing was sent$/,
    );
    expect(calls).toEqual([]);
  });

  it('refuses a sendBatch argument that is not a list of items, naming it, where JavaScript got a TypeError', async () => {
    const { deps, calls } = fakes();
    const producer = new Producer(deps);
    const sendBatch = producer.sendBatch.bind(producer) as (items: unknown) => Promise<unknown>;
    const refusals: [unknown, string][] = [
      [undefined, 'undefined'],
      [null, 'null'],
      [{ job, payload: { n: 1 } }, 'an object: pass [{ job, payload }] for one job'],
      ['report.build', 'a string'],
      [new Set([{ job, payload: { n: 1 } }]), 'a Set: pass an array of its items ([...items])'],
      [
        new Map([['a', { job, payload: { n: 1 } }]]),
        'a Map: pass an array of its items ([...items.values()])',
      ],
    ];
    for (const [given, shown] of refusals) {
      const error = await sendBatch(given).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ProducerConfigError);
      expect((error as ProducerConfigError).code).toBe('INVALID_OPTION');
      expect((error as Error).message).toBe(
        `the items argument of sendBatch is not an array, it is ${shown} (sendBatch([{ job, payload, options }, ...]))`,
      );
    }
    const holed = await sendBatch([{ job, payload: { n: 1 } }, undefined]).catch((e: unknown) => e);
    expect(holed).toBeInstanceOf(ProducerConfigError);
    expect((holed as Error).message).toMatch(
      /^sendBatch item 1: the job argument is not a job definition, it is undefined: .*; nothing was sent$/,
    );
    expect(calls).toEqual([]);
  });

  it('names the position and id of the first refused item of a batch, and how many others, and sends nothing', async () => {
    const { deps, calls } = fakes();
    const items = [0, 1, 2, 3, 4].map((n) => ({
      job,
      payload: { n: n === 2 || n === 4 ? ('two' as unknown as number) : n },
    }));
    const error = await new Producer(deps).sendBatch(items).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JobPayloadError);
    expect((error as Error).message).toMatch(
      /^sendBatch item 2: payload of job report\.build is invalid: n: .*\(1 more refused: item 4\); nothing was sent$/,
    );
    const misnamed = await new Producer(deps)
      .sendBatch([
        { job, payload: { n: 1 } },
        { job, payload: { n: 2 }, options: { id: 'has space' } },
      ])
      .catch((e: unknown) => e);
    expect(misnamed).toBeInstanceOf(ProducerConfigError);
    expect((misnamed as Error).message).toMatch(
      /^sendBatch item 1 \(id "has space"\): job report\.build: id /,
    );
    expect(calls).toEqual([]);
  });

  it('keeps the error of a single send as it is', async () => {
    const { deps } = fakes();
    await expect(new Producer(deps).send(job, { n: 'one' as unknown as number })).rejects.toThrow(
      /^payload of job report\.build is invalid: n: /,
    );
  });
});

describe('producer FIFO batches', () => {
  /** SQS stores a call's messages when it answers: here the first call of a queue answers after the later ones. */
  const slowFirstCall = () => {
    const arrived: string[] = [];
    let calls = 0;
    const turn = () => new Promise((resolve) => setImmediate(resolve));
    const sendBatch: ProducerCollaborators['sendBatch'] = async (_url, entries) => {
      const slow = calls++ === 0;
      for (let i = 0; i < (slow ? 20 : 0); i++) await turn();
      arrived.push(...entries.map((e) => JSON.parse(e.MessageBody).id as string));
      return [];
    };
    return { arrived, sendBatch };
  };
  const orders = (count: number) =>
    Array.from({ length: count }, (_, n) => ({
      job: fifoJob,
      payload: { n },
      options: { group: 'customer-1' },
    }));

  it('sends a FIFO queue’s batches one after another, so a later batch never overtakes an earlier one of its group', async () => {
    const { deps } = fakes();
    const { arrived, sendBatch } = slowFirstCall();
    const results = await new Producer({ ...deps, sendBatch }).sendBatch(orders(25));
    expect(arrived).toEqual(results.map((r) => r.id));
  });

  it('holds back the later jobs of a FIFO group whose job could not be enqueued, reported failed, not sent', async () => {
    const { deps, sent } = fakes((entry) => JSON.parse(entry.MessageBody).body === '{"n":3}');
    const error = (await new Producer(deps)
      .sendBatch([...orders(12), { job: fifoJob, payload: { n: 12 }, options: { group: 'customer-2' } }])
      .catch((e: unknown) => e)) as JobBatchError;
    expect(error).toBeInstanceOf(JobBatchError);
    // The first batch went out but for job 3; of the second, only the other group's job.
    expect(sent.map((e) => JSON.parse(e.MessageBody).body)).toEqual(
      [0, 1, 2, 4, 5, 6, 7, 8, 9, 12].map((n) => `{"n":${n}}`),
    );
    expect(error.failed.map((f) => [f.index, f.error.replace(/:.*/, '')])).toEqual([
      [3, 'not enqueued after 3 attempts'],
      [10, 'not sent'],
      [11, 'not sent'],
    ]);
  });
});

describe('producer retries', () => {
  it('waits between attempts with a backoff that doubles, and never before the first', async () => {
    const random = vi.spyOn(Math, 'random').mockReturnValue(0.5);
    try {
      const { deps, sleeps } = granted({ refuse: (_entry, attempt) => attempt < 3 });
      await new Producer({ ...deps, retry: { attempts: 3, baseDelayMs: 1000 } }).send(job, { n: 1 });
      // Equal jitter: half the ceiling plus a random share of the other half (the ceiling doubles per attempt).
      expect(sleeps).toEqual([750, 1500]);
    } finally {
      random.mockRestore();
    }
  });

  it('retries a payload upload and a schedule that failed once, and sends the job', async () => {
    const { deps, created } = granted();
    let uploadFailures = 1;
    let scheduleFailures = 1;
    const producer = new Producer({
      ...deps,
      settings: { ...deps.settings, payloads: { bucket: 'payloads', inlineLimitBytes: 1000 } },
      async putPayload() {
        if (uploadFailures-- > 0) throw new Error('upload timed out');
      },
      scheduler: {
        async create(schedule) {
          if (scheduleFailures-- > 0) throw new Error('throttled');
          created.push(schedule);
        },
        async delete() {
          return true;
        },
      },
    });
    const note = defineJob('note.later', z.object({ text: z.string() }), { queue: 'jobs' });
    const result = await producer.send(note, { text: 'x'.repeat(10_000) }, { delay: { hours: 2 } });
    expect(result.state).toBe('scheduled');
    expect(created).toHaveLength(1);
  });

  it('says how many jobs of the batch were not enqueued, naming the first three', async () => {
    const { deps } = fakes((entry) => entry.Id !== '0');
    const error = await new Producer(deps)
      .sendBatch([0, 1, 2, 3, 4].map((n) => ({ job, payload: { n } })))
      .catch((e: unknown) => e as JobBatchError);
    expect(error).toBeInstanceOf(JobBatchError);
    const ids = (error as JobBatchError).failed.map((f) => f.id);
    expect((error as JobBatchError).message).toBe(
      `4 of 5 jobs were not enqueued: ${ids
        .slice(0, 3)
        .map((id) => `${id}: not enqueued after 3 attempts: InternalError: refused`)
        .join('; ')}; ...`,
    );
    expect((error as JobBatchError).name).toBe('JobBatchError');
  });

  it('lists all three failures of a batch without an ellipsis', async () => {
    const { deps } = fakes(() => true);
    const error = await new Producer(deps)
      .sendBatch([0, 1, 2].map((n) => ({ job, payload: { n } })))
      .catch((e: unknown) => e);
    expect((error as JobBatchError).message).toMatch(/^3 of 3 jobs were not enqueued: .*refused$/);
  });

  it('tries a payload upload that keeps failing as often as configured, backing off, then reports the job failed', async () => {
    const random = vi.spyOn(Math, 'random').mockReturnValue(0.5);
    try {
      const { deps, sent, sleeps } = granted();
      let uploads = 0;
      const producer = new Producer({
        ...deps,
        retry: { attempts: 3, baseDelayMs: 1000 },
        settings: { ...deps.settings, payloads: { bucket: 'payloads', inlineLimitBytes: 1000 } },
        async putPayload() {
          uploads++;
          throw new Error('upload timed out');
        },
      });
      const note = defineJob('note.big', z.object({ text: z.string() }), { queue: 'jobs' });
      await expect(producer.send(note, { text: 'x'.repeat(2000) }, { id: 'big' })).rejects.toThrow(
        'payload upload failed: Error: upload timed out',
      );
      expect([uploads, sleeps, sent.length]).toEqual([3, [750, 1500], 0]);
    } finally {
      random.mockRestore();
    }
  });

  it('throws a JobSendError naming the job, its id and why, rather than a batch error, for a single job not enqueued', async () => {
    const { deps } = fakes(() => true);
    const dedupe: DedupeStore = {
      claim: async (key) => ({ status: 'claimed', token: key, generation: 'g-1' }),
      complete: async () => {},
      release: async () => {},
    };
    const error = await new Producer({ ...deps, dedupe }).send(job, { n: 1 }, { id: 'report-7' }).then(
      () => {
        throw new Error('sent');
      },
      (e: unknown) => e as JobSendError,
    );
    expect(error).toBeInstanceOf(JobSendError);
    expect(error).not.toBeInstanceOf(JobBatchError);
    expect(error.message).toBe(
      'job report.build (id "report-7") was not enqueued: not enqueued after 3 attempts: InternalError: refused',
    );
    expect([error.name, error.id, error.jobType, error.reason]).toEqual([
      'JobSendError',
      'report-7',
      'report.build',
      'not enqueued after 3 attempts: InternalError: refused',
    ]);
    expect(error.cause).toBeInstanceOf(JobBatchError);
  });
});

describe('producer refusals', () => {
  it('refuses a job for a queue it was not granted, naming the grant', async () => {
    const { deps, calls } = fakes();
    const stray = defineJob('stray.job', z.object({}), { queue: 'billing' });
    const error = (await new Producer(deps).send(stray, {}).catch((e: unknown) => e)) as Error;
    expect([error.name, error instanceof ProducerConfigError]).toEqual(['ProducerConfigError', true]);
    await expect(new Producer(deps).send(stray, {})).rejects.toThrow(
      /job stray\.job goes to queue "billing", which this producer cannot send to \(it can send to: jobs, orders\): grant it with pipeline\.grantSend\(fn, 'billing'\)/,
    );
    expect(calls).toEqual([]);
  });

  it('refuses a job for a queue local mode does not run, naming the configuration to change, not a grant', async () => {
    const { deps, calls } = fakes();
    const stray = defineJob('stray.job', z.object({}), { queue: 'billing' });
    const error = (await new Producer({ ...deps, queuesFrom: 'local' })
      .send(stray, {})
      .catch((e: unknown) => e)) as Error;
    expect(error).toBeInstanceOf(ProducerConfigError);
    expect(error.message).toBe(
      'job stray.job goes to queue "billing", which this producer cannot send to (it can send to: jobs, orders): the running local mode has no such queue: configure it under queues in hookline.config.ts (or fix the job\'s queue), then restart local mode (npm start or npx hookline dev)',
    );
    expect(calls).toEqual([]);
  });

  it('refuses a payload too large for a message when no payload bucket is set', async () => {
    const { deps, calls } = fakes();
    const note = defineJob('note.big', z.object({ text: z.string() }), { queue: 'jobs' });
    const error = await new Producer(deps)
      .send(note, { text: 'x'.repeat(1_100_000) })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JobTooLargeError);
    expect(error).toBeInstanceOf(ProducerConfigError);
    expect((error as Error).name).toBe('JobTooLargeError');
    expect((error as Error).message).toMatch(
      /too large for a message, and no payload bucket is set: send a smaller payload/,
    );
    expect(calls).toEqual([]);
  });

  it('refuses a job delayed beyond 15 minutes too large for a schedule’s input without a bucket, naming that limit, not a message’s', async () => {
    const { deps, calls, created } = granted();
    const note = defineJob('note.later', z.object({ text: z.string() }), { queue: 'jobs' });
    const error = await new Producer(deps)
      .send(note, { text: 'x'.repeat(10_000) }, { delay: { minutes: 20 } })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JobTooLargeError);
    expect((error as Error).message).toBe(
      'payload of job note.later is too large for the one-time schedule that holds a job delayed beyond 15 minutes until it is due (an input of up to 8192 characters), and no payload bucket is set: send a smaller payload (an id to look the data up), delay it at most 15 minutes, or set a payload bucket',
    );
    expect([calls, created]).toEqual([[], []]);
  });

  it('refuses status and cancel without the dedupe table, naming what to enable', async () => {
    const producer = new Producer(fakes().deps);
    await expect(producer.status('a')).rejects.toThrow(
      /status needs the dedupe table: enable dedupe in the configuration and grantSend/,
    );
    await expect(producer.cancel('a')).rejects.toThrow(/cancel needs the dedupe table/);
    await expect(producer.cancel('a')).rejects.toBeInstanceOf(ProducerConfigError);
  });
});

describe('producer status and cancel', () => {
  it('answers status with the job’s record', async () => {
    const { deps } = granted();
    const producer = new Producer({
      ...deps,
      records: {
        async read(id) {
          return { id, state: 'completed', result: { sent: true } };
        },
        async cancel() {
          return undefined;
        },
      },
    });
    expect(await producer.status('x')).toEqual({ id: 'x', state: 'completed', result: { sent: true } });
  });

  it('answers false for a job that already started, and deletes no schedule', async () => {
    const { deps } = granted();
    const { scheduler, deleted } = schedulerRecordingDeletes();
    const producer = new Producer({ ...deps, scheduler });
    expect(await producer.cancel('started')).toBe(false);
    expect(deleted).toEqual([]);
  });

  it('cancels a job waiting in its queue without deleting any schedule', async () => {
    const { deps } = granted();
    const { scheduler, deleted } = schedulerRecordingDeletes();
    const producer = new Producer({
      ...deps,
      records: {
        async read() {
          return undefined;
        },
        async cancel() {
          return { was: 'queued' as const };
        },
      },
      scheduler,
    });
    expect(await producer.cancel('queued-one')).toBe(true);
    expect(deleted).toEqual([]);
  });

  it('cancels a job waiting in its queue without touching schedules, even with none granted', async () => {
    const { deps } = fakes();
    const producer = new Producer({
      ...deps,
      records: {
        async read() {
          return undefined;
        },
        async cancel() {
          return { was: 'queued' as const };
        },
      },
    });
    expect(await producer.cancel('queued-one')).toBe(true);
  });

  it('deletes the schedule of a cancelled delayed job, in the schedule group', async () => {
    const { deps } = granted();
    const deleted: [string, string | undefined][] = [];
    const producer = new Producer({
      ...deps,
      records: {
        async read() {
          return undefined;
        },
        async cancel() {
          return { was: 'scheduled' as const, scheduleName: 'App-job-abc' };
        },
      },
      scheduler: {
        async create() {},
        async delete(name, group) {
          deleted.push([name, group]);
          return true;
        },
      },
    });
    expect(await producer.cancel('later')).toBe(true);
    expect(deleted).toEqual([['App-job-abc', 'app-jobs']]);
  });
});

describe('producer payloads of delayed jobs at the expiry boundary', () => {
  const note = defineJob('note.later', z.object({ text: z.string() }), { queue: 'jobs' });
  it('schedules a large job due exactly a day before its payload expires, and refuses one due a minute later', async () => {
    const { deps, created } = granted();
    const producer = new Producer({
      ...deps,
      settings: {
        ...deps.settings,
        payloads: { bucket: 'payloads', inlineLimitBytes: 1_032_192, expirySeconds: 14 * 86_400 },
      },
    });
    const large = { text: 'x'.repeat(10_000) };
    await producer.send(note, large, { delay: { days: 13 } });
    expect(created).toHaveLength(1);
    await expect(producer.send(note, large, { delay: { days: 13, minutes: 1 } })).rejects.toThrow(
      /deletes payloads after 14 days/,
    );
  });

  it('schedules a large job due at any time when the bucket keeps payloads for ever', async () => {
    const { deps, created } = granted();
    const producer = new Producer({
      ...deps,
      settings: { ...deps.settings, payloads: { bucket: 'payloads', inlineLimitBytes: 1_032_192 } },
    });
    await producer.send(note, { text: 'x'.repeat(10_000) }, { delay: { days: 400 } });
    expect(created).toHaveLength(1);
  });
});

describe('job payloads', () => {
  it('names each invalid field by its path, and the payload itself as (root)', () => {
    const error = new JobPayloadError('report.build', [
      { message: 'Expected number', path: ['lines', { key: 'items' }, 0] },
      { message: 'Required' },
    ]);
    expect(error.message).toBe(
      'payload of job report.build is invalid: lines.items.0: Expected number; (root): Required',
    );
    expect(error.name).toBe('JobPayloadError');
  });

  it('travels as a JSON body the consumer parses, from the job source, marked when its record is kept', async () => {
    const at = new Date('2026-11-30T00:00:00Z');
    expect(jobEnvelope(job, await validateSentJobPayload(job, { n: 1 }), 'id-1', at, true)).toEqual({
      v: 1,
      id: 'id-1',
      source: 'job',
      type: 'report.build',
      receivedAt: '2026-11-30T00:00:00.000Z',
      headers: { [JOB_RECORD_HEADER]: '1' },
      contentType: 'application/json',
      body: '{"n":1}',
      bodyEncoding: 'utf8',
    });
  });

  it('refuses a payload JSON cannot hold, saying why, as the caller’s payload error', async () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    let deep: unknown = 1;
    for (let i = 0; i < 20_000; i++) deep = [deep];
    const refusal = (payload: unknown) =>
      validateSentJobPayload(job, payload).then(
        () => undefined,
        (error: Error) => [error.name, error.message],
      );
    expect(await refusal(cyclic)).toEqual([
      'JobPayloadError',
      'payload of job report.build is invalid: self: is not JSON-serializable: it is an object that contains itself (a cycle), which JSON cannot write',
    ]);
    // The part JSON cannot write is named, where the message said "(root): ... a cycle or a value JSON cannot hold".
    expect(await refusal({ n: 1, order: { lines: [{ sku: 'a' }, { sku: 'b', total: 10n }] } })).toEqual([
      'JobPayloadError',
      'payload of job report.build is invalid: order.lines.1.total: is not JSON-serializable: it is a BigInt, which JSON cannot write: send it as a string (String(n)) or a number',
    ]);
    expect((await refusal(10n))?.[1]).toMatch(/: \(root\): is not JSON-serializable: it is a BigInt/);
    const throwing = {
      toJSON: () => {
        throw new TypeError('no');
      },
    };
    expect((await refusal({ n: throwing }))?.[1]).toMatch(
      /\(root\): is not JSON-serializable: it has a cycle or a value JSON cannot hold$/,
    );
    expect((await refusal(deep))?.[1]).toMatch(/is not JSON-serializable: it is nested too deeply$/);
    expect((await refusal(undefined))?.[1]).toMatch(/\(root\): is not JSON-serializable$/);
    expect((await refusal(() => 1))?.[1]).toMatch(/\(root\): is not JSON-serializable$/);
  });
});

describe('producer payloads JSON changes', () => {
  const reminder = defineJob('reminder.send', z.object({ at: z.date(), n: z.number() }), { queue: 'jobs' });

  it('refuses a payload that fits its schema only before JSON changes it (a Date), naming the field, and sends nothing', async () => {
    const { deps, calls } = fakes();
    const error = await new Producer(deps)
      .send(reminder, { at: new Date('2026-12-24T09:00:00Z'), n: 1 })
      .then(
        () => undefined,
        (e: unknown) => e as JobPayloadError,
      );
    expect(error).toBeInstanceOf(JobPayloadError);
    expect(error?.message).toMatch(
      /^payload of job reminder\.send is invalid: at: .*date.* \(as its consumer receives it: a job travels as JSON, which turns a Date into a string/,
    );
    expect(calls).toEqual([]);
  });

  it('refuses a number JSON writes as null (NaN, Infinity) for a schema that takes any number', async () => {
    const loose = defineJob('loose.number', z.object({ n: z.any().refine((v) => typeof v === 'number') }), {
      queue: 'jobs',
    });
    const { deps, calls } = fakes();
    await expect(new Producer(deps).send(loose, { n: Number.POSITIVE_INFINITY })).rejects.toThrow(
      /^payload of job loose\.number is invalid: n: .*as its consumer receives it/,
    );
    expect(calls).toEqual([]);
  });

  it('refuses a payload that does not fit its schema in the terms of the payload as given', async () => {
    const { deps } = fakes();
    await expect(new Producer(deps).send(reminder, { at: 'tomorrow', n: 1 } as never)).rejects.toThrow(
      /^payload of job reminder\.send is invalid: at: [^(]*$/,
    );
  });

  it('sends a date given as an ISO string to a schema that coerces it, as its consumer reads it', async () => {
    const coerced = defineJob('reminder.coerced', z.object({ at: z.coerce.date() }), { queue: 'jobs' });
    const { deps, sent } = fakes();
    await new Producer(deps).send(coerced, { at: new Date('2026-12-24T09:00:00Z') });
    expect(JSON.parse(JSON.parse(sent[0]?.MessageBody ?? '{}').body)).toEqual({
      at: '2026-12-24T09:00:00.000Z',
    });
  });
});

describe('producer message size', () => {
  const note = defineJob('note.sized', z.object({ text: z.string() }), { queue: 'jobs' });
  const attributes = (id: string) =>
    attributeBytes({
      [MESSAGE_ATTRIBUTES.source]: 'job',
      [MESSAGE_ATTRIBUTES.type]: note.type,
      [MESSAGE_ATTRIBUTES.eventId]: id,
    });

  it('refuses a job that fits a message only without its attributes, which SQS counts too', async () => {
    const probe = fakes();
    await new Producer(probe.deps).send(note, { text: 'x' });
    const overhead = Buffer.byteLength(probe.sent[0]?.MessageBody ?? '') - 1;
    const { deps, calls } = fakes();
    const error = await new Producer(deps)
      .send(note, { text: 'x'.repeat(SQS_MAX_MESSAGE_BYTES - 1 - overhead) })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JobTooLargeError);
    expect(calls).toEqual([]);
  });

  it('refuses up front, claiming nothing, a keyed job that fits only without the generation its claim adds', async () => {
    const generation = '5d6a3c3e-8f0e-4a57-9c31-2f4f5b6a7c8d';
    const probe = granted();
    probe.claims.set('job#sized', { status: 'claimed', token: 't', generation });
    await new Producer(probe.deps).send(note, { text: 'x' }, { id: 'sized' });
    const overhead = Buffer.byteLength(probe.sent[0]?.MessageBody ?? '') - 1;
    const limit = SQS_MAX_MESSAGE_BYTES - attributes('sized');
    const { deps, sent } = granted();
    let claimsMade = 0;
    const producer = new Producer({
      ...deps,
      dedupe: {
        ...(deps.dedupe as DedupeStore),
        async claim() {
          claimsMade++;
          return { status: 'claimed', token: 't', generation };
        },
      },
    });
    const error = await producer
      .send(note, { text: 'x'.repeat(limit + 1 - overhead) }, { id: 'sized' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JobTooLargeError);
    expect([claimsMade, sent.length]).toEqual([0, 0]);
  });
});
