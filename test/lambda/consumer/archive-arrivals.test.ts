import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import type { ArchiveBatchSink } from '../../../lambda/consumer/archive-arrivals';
import { type ArchiveRecord, parseArchiveLines } from '../../../lambda/shared/archive';
import { MESSAGE_ATTRIBUTES } from '../../../lambda/shared/envelope';
import { timerAlarm } from '../../../lambda/shared/invocation-deadline';
import { JOB_SOURCE, SCHEDULE_SOURCE } from '../../../lambda/shared/job';
import { envelope, failedIds, harness, lambdaContext, record, runningDownContext, sqsEvent } from './fakes';

class RecordingSink implements ArchiveBatchSink {
  readonly calls: ArchiveRecord[][] = [];
  constructor(private readonly fail = false) {}
  async putLines(lines: readonly Buffer[]) {
    if (this.fail) throw new Error('ServiceUnavailableException');
    this.calls.push(parseArchiveLines(Buffer.concat(lines).toString('utf8')).records);
  }
}

const handlers = { '**': async () => {} };

describe('consumer: archives what reached its queue without the ingest function', () => {
  it('archives jobs and scheduled events on their first receive, in one put, with their origin and queue', async () => {
    const sink = new RecordingSink();
    const { core, logger } = harness({ handlers }, { name: 'jobs' }, { archive: sink });
    const job = envelope({ id: 'job-1', source: JOB_SOURCE, type: 'email.welcome' });
    const scheduled = envelope({ id: 'sch-1', source: SCHEDULE_SOURCE, type: 'report.daily' });

    await core.processBatch(sqsEvent([record(job), record(scheduled)]), lambdaContext());

    expect(sink.calls).toHaveLength(1);
    expect(sink.calls[0]?.map((r) => [r.envelope.id, r.origin, r.queues, r.source])).toStrictEqual([
      ['job-1', 'producer', ['jobs'], JOB_SOURCE],
      ['sch-1', 'schedule', ['jobs'], SCHEDULE_SOURCE],
    ]);
    expect(sink.calls[0]?.[0]?.envelope).toStrictEqual(job);
    expect(logger.lines.filter((l) => l.level === 'error')).toStrictEqual([]);
  });

  it("keeps a job's group: its FIFO group, or its tenant on a standard queue, from the group SQS kept or the tenant attribute", async () => {
    const sink = new RecordingSink();
    const { core } = harness({ handlers }, { name: 'jobs' }, { archive: sink });
    const job = (id: string) => envelope({ id, source: JOB_SOURCE, type: 'email.welcome' });
    const tenant = (value: string) => ({
      [MESSAGE_ATTRIBUTES.tenant]: { dataType: 'String', stringValue: value },
    });

    await core.processBatch(
      sqsEvent([
        record(job('fifo'), { groupId: 'customer-1' }),
        record(job('fair'), { extraAttributes: tenant('acct_quiet') }),
        record(job('none')),
      ]),
      lambdaContext(),
    );

    expect(sink.calls[0]?.map((r) => [r.envelope.id, r.group])).toStrictEqual([
      ['fifo', 'customer-1'],
      ['fair', 'acct_quiet'],
      ['none', undefined],
    ]);
  });

  it('leaves webhooks, retried receives and replayed events alone (they are archived already)', async () => {
    const sink = new RecordingSink();
    const { core } = harness({ handlers }, {}, { archive: sink });
    const webhook = envelope({ id: 'wh-1' });
    const retried = envelope({ id: 'job-2', source: JOB_SOURCE, type: 'email.welcome' });
    const replayed = envelope({
      id: 'job-3',
      source: JOB_SOURCE,
      type: 'email.welcome',
      replay: { id: 'run-1', at: '2026-11-25T12:00:00.000Z' },
    });

    // A webhook whose message lost the ingest's source attribute is still known by its envelope.
    const unlabelledWebhook = { ...record(envelope({ id: 'wh-2' })), messageAttributes: {} };

    await core.processBatch(
      sqsEvent([record(webhook), record(retried, { attempt: 2 }), record(replayed), unlabelledWebhook]),
      lambdaContext(),
    );

    expect(sink.calls).toHaveLength(0);
  });

  it('reads the body only when the source attribute does not already say webhook (schedules send none)', async () => {
    const sink = new RecordingSink();
    const { core } = harness({ handlers }, {}, { archive: sink });
    const scheduled = envelope({ id: 'sch-2', source: SCHEDULE_SOURCE, type: 'report.daily' });
    const withoutAttributes = { ...record(scheduled), messageAttributes: {} };
    // The ingest's attribute is taken at its word: this body is never parsed for the archive.
    const labelledWebhook = record(envelope({ id: 'job-5', source: JOB_SOURCE, type: 'email.welcome' }), {
      extraAttributes: { [MESSAGE_ATTRIBUTES.source]: { dataType: 'String', stringValue: 'github' } },
    });

    await core.processBatch(sqsEvent([withoutAttributes, labelledWebhook]), lambdaContext());

    expect(sink.calls.flat().map((r) => [r.envelope.id, r.origin])).toStrictEqual([['sch-2', 'schedule']]);
  });

  it('keeps the FIFO group a job was sent with, so a replay sends it to that group again', async () => {
    const sink = new RecordingSink();
    const { core } = harness({ handlers }, { fifo: true }, { archive: sink });
    const job = envelope({ id: 'job-6', source: JOB_SOURCE, type: 'email.welcome' });

    await core.processBatch(sqsEvent([record(job, { groupId: 'customer-7' })]), lambdaContext());

    expect(sink.calls.flat().map((r) => [r.envelope.id, r.group])).toStrictEqual([['job-6', 'customer-7']]);
  });

  it('archives nothing and counts no failure when the archive is off', async () => {
    const { core, logger, metrics } = harness({ handlers });
    const job = envelope({ id: 'job-7', source: JOB_SOURCE, type: 'email.welcome' });

    await core.processBatch(sqsEvent([record(job)]), lambdaContext());

    expect(metrics.archiveFailures).toStrictEqual([]);
    expect(logger.lines.filter((l) => l.level === 'error')).toStrictEqual([]);
  });

  it('a failing archive put is logged and counted (ArchiveFailed), and never fails the batch', async () => {
    const { core, logger, metrics } = harness({ handlers }, {}, { archive: new RecordingSink(true) });
    const job = envelope({ id: 'job-4', source: JOB_SOURCE, type: 'email.welcome' });
    const scheduled = envelope({ id: 'sch-4', source: SCHEDULE_SOURCE, type: 'report.daily' });

    const response = await core.processBatch(sqsEvent([record(job), record(scheduled)]), lambdaContext());
    expect(metrics.archiveFailures).toStrictEqual([2]);
    await core.processBatch(sqsEvent([record(job)]), lambdaContext());
    expect(metrics.archiveFailures).toStrictEqual([2, 1]);

    expect(failedIds(response)).toStrictEqual([]);
    expect(logger.lines.find((l) => l.message === 'archive put failed')?.attributes).toMatchObject({
      archiveFailed: 2,
      error: 'ServiceUnavailableException',
    });
  });

  it('names on its ERROR line the events a failed put left out of the archive, as the ingest names its webhook', async () => {
    const { core, logger } = harness({ handlers }, {}, { archive: new RecordingSink(true) });
    const job = envelope({ id: 'job-5', source: JOB_SOURCE, type: 'email.welcome' });
    const scheduled = envelope({ id: 'sch-5', source: SCHEDULE_SOURCE, type: 'report.daily' });

    await core.processBatch(sqsEvent([record(job), record(scheduled)]), lambdaContext());

    expect(logger.lines.find((l) => l.message === 'archive put failed')?.attributes).toMatchObject({
      archiveFailed: 2,
      ids: ['job-5', 'sch-5'],
    });
  });

  it('lists at most 100 ids on that line and says how many more it left out, as a batch may hold 10,000 records', async () => {
    const { core, logger } = harness({ handlers }, {}, { archive: new RecordingSink(true) });
    const jobs = Array.from({ length: 101 }, (_, i) =>
      record(envelope({ id: `job-${i}`, source: JOB_SOURCE, type: 'email.welcome' })),
    );

    await core.processBatch(sqsEvent(jobs), lambdaContext());

    const attributes = logger.lines.find((l) => l.message === 'archive put failed')?.attributes;
    expect(attributes).toMatchObject({ archiveFailed: 101, idsNotListed: 1 });
    expect(attributes?.ids).toHaveLength(100);
  });

  it('counts a job whose inline envelope is too large for a delivery stream record (ArchiveFailed), archiving the rest', async () => {
    const sink = new RecordingSink();
    const { core, logger, metrics } = harness({ handlers }, {}, { archive: sink });
    // Inline in SQS (under the default inline limit of 1 MiB - 16 KiB), above Firehose's 1,000 KiB record.
    const large = envelope({
      id: 'job-large',
      source: JOB_SOURCE,
      type: 'report.export',
      body: JSON.stringify({ rows: 'x'.repeat(1_025_000) }),
    });
    const small = envelope({ id: 'job-small', source: JOB_SOURCE, type: 'email.welcome' });

    const response = await core.processBatch(sqsEvent([record(large), record(small)]), lambdaContext());

    expect(failedIds(response)).toStrictEqual([]);
    expect(sink.calls.flat().map((r) => r.envelope.id)).toStrictEqual(['job-small']);
    expect(metrics.archiveFailures).toStrictEqual([1]);
    expect(logger.lines.find((l) => l.message === 'archive record too large')?.attributes).toMatchObject({
      archiveFailed: 1,
      ids: ['job-large'],
    });
  });

  it('counts both the too-large job and the lines of a failed put as not archived', async () => {
    const { core, metrics } = harness({ handlers }, {}, { archive: new RecordingSink(true) });
    const large = envelope({
      id: 'job-large',
      source: JOB_SOURCE,
      type: 'report.export',
      body: JSON.stringify({ rows: 'x'.repeat(1_025_000) }),
    });
    const small = envelope({ id: 'job-small', source: JOB_SOURCE, type: 'email.welcome' });
    const other = envelope({ id: 'job-other', source: JOB_SOURCE, type: 'email.welcome' });

    await core.processBatch(sqsEvent([record(large), record(small), record(other)]), lambdaContext());

    expect(metrics.archiveFailures).toStrictEqual([3]);
  });
});

/**
 * The archive put runs beside the records and is waited for after them, but never past the batch's budget: a
 * delivery stream that does not answer (or answers after the deadline) must not hold the response past the
 * invocation's timeout, when Lambda would send the whole batch back, processed records included. The real core, on
 * real timers, with a context whose remaining time runs down with the wall clock.
 */
describe('consumer: an archive put that does not answer in time', () => {
  /** The invocation's time left when the batch arrives; its budget's guard is 500 ms before the end. */
  const INVOCATION_MS = 1_500;
  const batch = () => [
    record(envelope({ id: 'job-1', source: JOB_SOURCE, type: 'email.welcome' }), { messageId: 'm-1' }),
    record(envelope({ id: 'sch-1', source: SCHEDULE_SOURCE, type: 'report.daily' }), { messageId: 'm-2' }),
  ];
  const slowConsumer = (archive: ArchiveBatchSink) =>
    harness({ handlers }, { deadlineMarginMs: 1_000 }, { archive, alarm: timerAlarm });

  it('never answering: the batch still answers before the deadline, its records processed, the lines counted and logged as not archived', {
    timeout: 5_000,
  }, async () => {
    const { core, logger, metrics } = slowConsumer({ putLines: () => new Promise<void>(() => {}) });
    const context = runningDownContext(INVOCATION_MS);

    const response = await core.processBatch(sqsEvent(batch()), context);

    expect(context.getRemainingTimeInMillis()).toBeGreaterThan(0);
    expect(failedIds(response)).toStrictEqual([]);
    expect(metrics.total('Processed')).toBe(2);
    expect(metrics.archiveFailures).toStrictEqual([2]);
    const failed = logger.lines.filter((l) => l.message === 'archive put failed');
    expect(failed).toHaveLength(1);
    expect(failed[0]?.level).toBe('error');
    expect(failed[0]?.attributes).toMatchObject({ archiveFailed: 2, ids: expect.any(Array) });
    expect(failed[0]?.attributes.ids).toHaveLength(2);
    expect(String(failed[0]?.attributes.error)).toContain('no answer');
  });

  it.each([
    ['refusing', () => Promise.reject(new Error('ServiceUnavailableException')), false],
    ['taking the lines', () => Promise.resolve(), true],
  ])(
    '%s after the deadline: the batch answered before it, and the late answer counts nothing twice',
    async (_, late, archived) => {
      let answered = false;
      const { core, logger, metrics } = slowConsumer({
        putLines: async () => {
          await sleep(INVOCATION_MS + 200);
          answered = true;
          return late();
        },
      });
      const context = runningDownContext(INVOCATION_MS);

      const response = await core.processBatch(sqsEvent(batch()), context);
      expect(context.getRemainingTimeInMillis()).toBeGreaterThan(0);
      expect(answered).toBe(false);
      await sleep(INVOCATION_MS);

      expect(answered).toBe(true);
      expect(failedIds(response)).toStrictEqual([]);
      expect(metrics.archiveFailures).toStrictEqual([2]);
      expect(logger.lines.filter((l) => l.message === 'archive put failed')).toHaveLength(1);
      // What it answered is told, for the operator who saw the lines counted as not archived.
      const told = logger.lines.find((l) => l.message === 'archive put answered after the batch response');
      expect(told?.attributes).toMatchObject({ lines: 2, archived });
    },
  );
});
