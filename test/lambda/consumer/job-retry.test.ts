/** A job's own attempts and backoff (`send(..., { attempts, backoff })`) in the consumer runtime, with fakes. */
import { describe, expect, it } from 'vitest';
import { PermanentError } from '../../../lambda/consumer';
import type { HeldReceives } from '../../../lambda/consumer/held-receives';
import { FAILURE_ATTRIBUTES } from '../../../lambda/shared/envelope';
import { JOB_RECORD_HEADER, JOB_SOURCE } from '../../../lambda/shared/job';
import { type JobRetry, jobRetryHeaders } from '../../../lambda/shared/job-retry';
import { envelope, failedIds, harness, lambdaContext, NOW, record, sqsEvent } from './fakes';

/** Every job-record update the consumer makes. */
function recordingJobs() {
  const calls: string[] = [];
  return {
    calls,
    jobs: {
      start: async () => 'run' as const,
      complete: async () => {},
      progress: async () => true,
      async deadLettered(id: string, reason: string) {
        calls.push(`dead-lettered ${id} ${reason}`);
      },
      async retrying(id: string, attempt: number, error: string, retryAt: Date | undefined) {
        calls.push(`retrying ${id} ${attempt} ${error} ${retryAt?.toISOString()}`);
      },
    },
  };
}

const jobEnvelope = (id: string, retry: JobRetry, headers: Record<string, string> = jobRetryHeaders(retry)) =>
  envelope({
    id,
    source: JOB_SOURCE,
    type: 'report.build',
    headers: { [JOB_RECORD_HEADER]: '1', ...headers },
    body: '{"n":1}',
  });

function failingConsumer(error: () => Error = () => new Error('mail server down')) {
  const { calls, jobs } = recordingJobs();
  // Queue: maxReceiveCount 5, backoff base 10 s, factor 2, max 900 s; no jitter (random 1 is the ceiling).
  const h = harness(
    {
      handlers: {
        'job.report.build': async () => {
          throw error();
        },
      },
    },
    {},
    { jobs, random: () => 0.999_999 },
  );
  const run = (id: string, retry: JobRetry, attempt: number, headers?: Record<string, string>) =>
    h.core.processBatch(
      sqsEvent([record(jobEnvelope(id, retry, headers), { attempt, messageId: `m-${id}-${attempt}` })]),
      lambdaContext(),
    );
  return { ...h, calls, run };
}

describe("a job's own attempts", () => {
  it('dead-letters a job failing on its last attempt, below its queue’s, with the reason on the message and its record', async () => {
    const { run, queue, calls, logger } = failingConsumer();
    const response = await run('two-tries', { attempts: 2 }, 2);
    expect(failedIds(response)).toEqual([]);
    expect(queue.deleted).toEqual(['m-two-tries-2']);
    const attributes = queue.deadLetters[0]?.attributes ?? {};
    expect(attributes[FAILURE_ATTRIBUTES.errorName]?.StringValue).toBe('AttemptsExhaustedError');
    expect(attributes[FAILURE_ATTRIBUTES.errorMessage]?.StringValue).toBe(
      'attempts exhausted: 2 of 2 (last error: Error: mail server down)',
    );
    expect(attributes[FAILURE_ATTRIBUTES.attempt]?.StringValue).toBe('2');
    expect(calls).toEqual([
      'dead-lettered two-tries AttemptsExhaustedError: attempts exhausted: 2 of 2 (last error: Error: mail server down)',
    ]);
    expect(logger.outcomeOf('two-tries')).toMatchObject({ outcome: 'dead-lettered', attempt: 2 });
  });

  it('retries a job below its attempts, and dead-letters at once a job asking for one', async () => {
    const { run, queue } = failingConsumer();
    expect(failedIds(await run('retried', { attempts: 3 }, 2))).toEqual(['m-retried-2']);
    expect(queue.deadLetters).toEqual([]);
    await run('once', { attempts: 1 }, 1);
    expect(queue.deadLetters[0]?.attributes[FAILURE_ATTRIBUTES.errorMessage]?.StringValue).toBe(
      'attempts exhausted: 1 of 1 (last error: Error: mail server down)',
    );
  });

  it("caps attempts above the queue's maxReceiveCount at it, with the handler's own error, as SQS would", async () => {
    const { run, queue } = failingConsumer();
    expect(failedIds(await run('many', { attempts: 50 }, 4))).toEqual(['m-many-4']);
    await run('many', { attempts: 50 }, 5);
    expect(queue.deadLetters[0]?.attributes[FAILURE_ATTRIBUTES.errorName]?.StringValue).toBe('Error');
  });

  it('dead-letters a permanent failure as such, whatever attempts are left', async () => {
    const { run, queue } = failingConsumer(() => new PermanentError('no such report'));
    await run('permanent', { attempts: 3 }, 1);
    expect(queue.deadLetters[0]?.attributes[FAILURE_ATTRIBUTES.errorName]?.StringValue).toBe(
      'PermanentError',
    );
  });

  it('ignores attempts it cannot read, leaving the queue’s', async () => {
    const { run, queue } = failingConsumer();
    expect(failedIds(await run('odd', {}, 2, { 'x-hookline-job-attempts': 'two' }))).toEqual(['m-odd-2']);
    expect(queue.deadLetters).toEqual([]);
  });
});

describe("a job's own backoff", () => {
  it('sets the visibility from the job’s curve, and the record’s retryAt with it', async () => {
    const { run, queue, calls } = failingConsumer();
    // Attempt 3: min(max 60, 3 × 4^2 = 48) = 48 s.
    await run('curved', { backoff: { baseSeconds: 3, factor: 4, maxSeconds: 60 } }, 3);
    // Attempt 4: 3 × 4^3 = 192, capped at 60 s.
    await run('capped', { backoff: { baseSeconds: 3, factor: 4, maxSeconds: 60 } }, 4);
    expect(queue.visibilityChanges.map((c) => c.seconds)).toEqual([48, 60]);
    expect(calls).toEqual([
      `retrying curved 3 Error: mail server down ${new Date(NOW + 48_000).toISOString()}`,
      `retrying capped 4 Error: mail server down ${new Date(NOW + 60_000).toISOString()}`,
    ]);
  });

  it('takes the fields a job leaves out from its queue’s consumer.retry', async () => {
    const { run, queue } = failingConsumer();
    // Queue base 10 s, factor 2; the job's max 15 s: attempt 2 would be 20 s.
    await run('max-only', { backoff: { maxSeconds: 15 } }, 2);
    // The job's base 1 s with the queue's factor 2: attempt 3 is 4 s.
    await run('base-only', { backoff: { baseSeconds: 1 } }, 3);
    expect(queue.visibilityChanges.map((c) => c.seconds)).toEqual([15, 4]);
  });

  it('waits with equal jitter, as the queue’s backoff does', async () => {
    const { calls, jobs } = recordingJobs();
    const { core, queue } = harness(
      { handlers: { 'job.report.build': async () => Promise.reject(new Error('down')) } },
      {},
      { jobs, random: () => 0 },
    );
    await core.processBatch(
      sqsEvent([
        record(jobEnvelope('jittered', { backoff: { baseSeconds: 40, factor: 1, maxSeconds: 40 } })),
      ]),
      lambdaContext(),
    );
    expect(queue.visibilityChanges.map((c) => c.seconds)).toEqual([20]);
    expect(calls).toHaveLength(1);
  });
});

/** Held receives kept in memory, by message id, with every count asked for and added. */
function heldReceivesOf(counts: Record<string, number> = {}, failCount = false) {
  const added: string[] = [];
  const heldReceives: HeldReceives = {
    async add(messageId, receive) {
      added.push(`${messageId} ${receive}`);
      return counts[messageId] ?? 0;
    },
    async count(messageId) {
      if (failCount) throw new Error('ProvisionedThroughputExceededException');
      return counts[messageId] ?? 0;
    },
  };
  return { added, heldReceives };
}

describe('a job held on a FIFO queue', () => {
  /** A FIFO job consumer whose `report.build` jobs fail, seeing `ctx.attempt`; `order.blocked` jobs fail first. */
  function fifoConsumer(held: ReturnType<typeof heldReceivesOf>) {
    const { calls, jobs } = recordingJobs();
    const seen: number[] = [];
    const h = harness(
      {
        handlers: {
          'job.report.build': async (_event, ctx) => {
            seen.push(ctx.attempt);
            throw new Error('mail server down');
          },
        },
      },
      { fifo: true },
      { jobs, random: () => 0.999_999, heldReceives: held.heldReceives },
    );
    const run = (id: string, retry: JobRetry, receive: number) =>
      h.core.processBatch(
        sqsEvent([record(jobEnvelope(id, retry), { attempt: receive, messageId: `m-${id}`, groupId: 'g' })]),
        lambdaContext(),
      );
    return { ...h, calls, seen, run };
  }

  it('counts the receive a job was held behind a failed one of its group, and no webhook’s', async () => {
    const held = heldReceivesOf();
    const { core, queue } = fifoConsumer(held);
    const blocked = envelope({ id: 'blocked', source: 'shopify', type: 'order' });
    const records = [
      record(jobEnvelope('head', {}), { messageId: 'm-head', groupId: 'g', attempt: 2 }),
      record(jobEnvelope('behind', { attempts: 2 }), { messageId: 'm-behind', groupId: 'g', attempt: 2 }),
      record(blocked, { messageId: 'm-webhook', groupId: 'g', attempt: 2 }),
    ];
    const response = await core.processBatch(sqsEvent(records), lambdaContext());
    expect(failedIds(response)).toEqual(['m-head', 'm-behind', 'm-webhook']);
    expect(held.added).toEqual(['m-behind 2']);
    expect(queue.deadLetters).toEqual([]);
  });

  it('logs a job held behind a failed one of its group with its attempt, not its receive', async () => {
    const held = heldReceivesOf({ 'm-behind': 1 });
    const { core, logger } = fifoConsumer(held);
    const records = [
      record(jobEnvelope('head', {}), { messageId: 'm-head', groupId: 'g', attempt: 1 }),
      record(jobEnvelope('behind', {}), { messageId: 'm-behind', groupId: 'g', attempt: 2 }),
    ];
    await core.processBatch(sqsEvent(records), lambdaContext());
    expect(logger.outcomeOf('behind')).toMatchObject({ outcome: 'deferred', attempt: 1, receive: 2 });
  });

  it('runs its attempts as runs, not receives: held twice, receive 3 is attempt 1 and receive 4 attempt 2 of 2', async () => {
    const held = heldReceivesOf({ 'm-late': 2 });
    const { run, queue, calls, seen, logger } = fifoConsumer(held);
    expect(failedIds(await run('late', { attempts: 2 }, 3))).toEqual(['m-late']);
    // Attempt 1's backoff: the queue's base, 10 s (receive 3 would have been 40 s).
    expect(queue.visibilityChanges.map((c) => c.seconds)).toEqual([10]);
    expect(queue.deadLetters).toEqual([]);
    await run('late', { attempts: 2 }, 4);
    expect(seen).toEqual([1, 2]);
    const attributes = queue.deadLetters[0]?.attributes ?? {};
    expect(attributes[FAILURE_ATTRIBUTES.errorMessage]?.StringValue).toBe(
      'attempts exhausted: 2 of 2 (last error: Error: mail server down)',
    );
    expect(attributes[FAILURE_ATTRIBUTES.attempt]?.StringValue).toBe('2');
    expect(calls[0]).toMatch(/^retrying late 1 /);
    expect(logger.outcomes().map((l) => [l.outcome, l.attempt])).toEqual([
      ['retried', 1],
      ['dead-lettered', 2],
    ]);
  });

  it("still ends on its queue's maxReceiveCount, whatever attempts its held receives left it", async () => {
    const held = heldReceivesOf({ 'm-bound': 4 });
    const { run, queue } = fifoConsumer(held);
    expect(failedIds(await run('bound', { attempts: 3 }, 5))).toEqual([]);
    expect(queue.deadLetters[0]?.attributes[FAILURE_ATTRIBUTES.errorName]?.StringValue).toBe('Error');
    expect(queue.deadLetters[0]?.attributes[FAILURE_ATTRIBUTES.attempt]?.StringValue).toBe('1');
  });

  it('counts every receive as an attempt when its held receives cannot be read', async () => {
    const held = heldReceivesOf({ 'm-unknown': 2 }, true);
    const { run, queue, seen, logger } = fifoConsumer(held);
    await run('unknown', { attempts: 2 }, 3);
    expect(seen).toEqual([3]);
    expect(queue.deadLetters[0]?.attributes[FAILURE_ATTRIBUTES.errorMessage]?.StringValue).toMatch(
      /^attempts exhausted: 3 of 2/,
    );
    expect(logger.lines.some((l) => /could not read the held receives/.test(String(l.message)))).toBe(true);
  });
});

describe('a job handed back without running, on any queue', () => {
  /** A standard-queue job consumer with idempotency whose `report.build` jobs fail, seeing `ctx.attempt`. */
  function standardConsumer(held: ReturnType<typeof heldReceivesOf>) {
    const { calls, jobs } = recordingJobs();
    const seen: number[] = [];
    const h = harness(
      {
        handlers: {
          'job.report.build': async (_event, ctx) => {
            seen.push(ctx.attempt);
            throw new Error('mail server down');
          },
        },
      },
      {},
      { jobs, random: () => 0.999_999, heldReceives: held.heldReceives, idempotency: true },
    );
    return { ...h, calls, seen };
  }

  it('counts the receive of a copy whose key another execution held, and does not end the job on its attempts', async () => {
    const held = heldReceivesOf({ 'm-busy': 1 });
    const { core, queue, logger, idempotency, seen } = standardConsumer(held);
    idempotency?.states.set('events#job#busy', 'in-progress');
    // Receive 3, one receive held before: attempt 2 of 2. Its handler does not run here, so the job is not over.
    const response = await core.processBatch(
      sqsEvent([record(jobEnvelope('busy', { attempts: 2 }), { attempt: 3, messageId: 'm-busy' })]),
      lambdaContext(),
    );
    expect(failedIds(response)).toEqual(['m-busy']);
    expect(seen).toEqual([]);
    expect(queue.deadLetters).toEqual([]);
    expect(held.added).toEqual(['m-busy 3']);
    expect(logger.outcomeOf('busy')).toMatchObject({
      outcome: 'retried',
      attempt: 2,
      keyHeldElsewhere: true,
      reason: expect.stringMatching(/^IdempotencyAlreadyInProgressError/),
    });
  });

  it('counts the receive of a job not started before the deadline margin, so its next run is its first attempt', async () => {
    const held = heldReceivesOf({ 'm-late': 1 });
    const { core, queue, seen, logger } = standardConsumer(held);
    const late = (receive: number) =>
      record(jobEnvelope('late', { attempts: 1 }), { attempt: receive, messageId: 'm-late' });
    expect(failedIds(await core.processBatch(sqsEvent([late(1)]), lambdaContext(2_000)))).toEqual(['m-late']);
    expect(held.added).toEqual(['m-late 1']);
    // Receive 2 is its first run: with `attempts: 1` its failure dead-lettered it as attempt 1 of 1, not 2 of 1.
    await core.processBatch(sqsEvent([late(2)]), lambdaContext());
    expect(seen).toEqual([1]);
    expect(queue.deadLetters[0]?.attributes[FAILURE_ATTRIBUTES.errorMessage]?.StringValue).toBe(
      'attempts exhausted: 1 of 1 (last error: Error: mail server down)',
    );
    expect(logger.outcomes().map((l) => [l.outcome, l.attempt])).toEqual([
      ['deferred', 1],
      ['dead-lettered', 1],
    ]);
  });

  it('logs a job deferred on a later receive with the attempt its record and ctx.attempt count, its receive beside it', async () => {
    const held = heldReceivesOf({ 'm-again': 1 });
    const { core, logger } = standardConsumer(held);
    const again = record(jobEnvelope('again', { attempts: 3 }), { attempt: 3, messageId: 'm-again' });
    expect(failedIds(await core.processBatch(sqsEvent([again]), lambdaContext(2_000)))).toEqual(['m-again']);
    expect(held.added).toEqual(['m-again 3']);
    // Receive 3, receive 2 held before it: this receive would have been its second run.
    expect(logger.outcomeOf('again')).toMatchObject({ outcome: 'deferred', attempt: 2, receive: 3 });
  });

  it('logs a job deferred with its attempt when its held receive was counted already by a write whose answer was lost', async () => {
    // The count holds receive 3 and one before it; the retried write finds its own receive and counts nothing.
    const heldReceives: HeldReceives = {
      add: async () => undefined,
      count: async (_messageId, receive) => (receive > 3 ? 2 : 0),
    };
    const { core, logger } = harness({ handlers: {} }, {}, { heldReceives });
    const again = record(jobEnvelope('again', { attempts: 3 }), { attempt: 3, messageId: 'm-again' });
    expect(failedIds(await core.processBatch(sqsEvent([again]), lambdaContext(2_000)))).toEqual(['m-again']);
    expect(logger.outcomeOf('again')).toMatchObject({ outcome: 'deferred', attempt: 2, receive: 3 });
  });

  it('logs a job that runs on a later receive with its receive beside its attempt, and a first receive with neither apart', async () => {
    const held = heldReceivesOf({ 'm-second': 1 });
    const { core, logger } = standardConsumer(held);
    await core.processBatch(
      sqsEvent([
        record(jobEnvelope('second', {}), { attempt: 2, messageId: 'm-second' }),
        record(jobEnvelope('first', {}), { attempt: 1, messageId: 'm-first' }),
      ]),
      lambdaContext(),
    );
    expect(logger.outcomeOf('second')).toMatchObject({ outcome: 'retried', attempt: 1, receive: 2 });
    expect(logger.outcomeOf('first')).toMatchObject({ outcome: 'retried', attempt: 1 });
    expect(logger.outcomeOf('first')).not.toHaveProperty('receive');
  });

  it('dead-letters a job not started on its last receive with the attempt its held receives leave it', async () => {
    const held = heldReceivesOf({ 'm-last': 4 });
    const { core, queue, logger } = standardConsumer(held);
    const last = record(jobEnvelope('last', { attempts: 3 }), { attempt: 5, messageId: 'm-last' });
    expect(failedIds(await core.processBatch(sqsEvent([last]), lambdaContext(2_000)))).toEqual([]);
    const attributes = queue.deadLetters[0]?.attributes ?? {};
    expect(attributes[FAILURE_ATTRIBUTES.errorName]?.StringValue).toBe('NotStartedError');
    expect(attributes[FAILURE_ATTRIBUTES.attempt]?.StringValue).toBe('1');
    expect(logger.outcomeOf('last')).toMatchObject({ outcome: 'dead-lettered', attempt: 1, receive: 5 });
  });

  it("still dead-letters a copy whose key another execution held on its queue's last receive: maxReceiveCount cannot be given back", async () => {
    const held = heldReceivesOf({ 'm-end': 3 });
    const { core, queue, idempotency } = standardConsumer(held);
    idempotency?.states.set('events#job#end', 'in-progress');
    await core.processBatch(
      sqsEvent([record(jobEnvelope('end', { attempts: 5 }), { attempt: 5, messageId: 'm-end' })]),
      lambdaContext(),
    );
    expect(queue.deadLetters[0]?.attributes[FAILURE_ATTRIBUTES.errorName]?.StringValue).toBe(
      'DuplicateCopyError',
    );
    expect(held.added).toEqual([]);
  });
});
