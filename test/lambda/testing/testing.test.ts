/**
 * `hookline/testing` against real consumers made with `defineConsumer`: each outcome the runtime gives a record, as
 * a user's test sees it, with no AWS, no emulator and no environment variable.
 */
import { Duration } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  defineConsumer,
  defineJob,
  handleJob,
  PermanentError,
  RetryLaterError,
} from '../../../lambda/consumer';
import {
  type ConsumerRunnerOptions,
  consumerRunner,
  handlerContext,
  jobEvent,
  RecordingLogger,
  webhookEvent,
} from '../../../lambda/testing';
import { type RetryConfig, resolveConfig } from '../../../lib/config';

type RunnerRetry = NonNullable<ConsumerRunnerOptions['retry']>;

const charged: string[] = [];
const welcomeEmail = defineJob('email.welcome', z.object({ userId: z.string() }), { queue: 'jobs' });

const handler = defineConsumer({
  handlers: {
    'github.push': async (event, ctx) => {
      ctx.logger.info('push received', { ref: (event.payload as { ref: string }).ref });
    },
    'stripe.invoice.*': {
      schema: z.object({ id: z.string().startsWith('in_'), amount: z.number() }),
      handle: async (event) => {
        if (event.payload.amount < 0) throw new PermanentError('a negative amount cannot be charged');
        charged.push(event.payload.id);
      },
    },
    'shop.order': async () => {
      throw new Error('warehouse API unavailable');
    },
    'shop.throttled': async () => {
      throw new RetryLaterError(120, 'rate limited by the warehouse API');
    },
  },
  jobs: [
    handleJob(welcomeEmail, async (event, ctx) => {
      ctx.progress({ step: 1, of: 2 });
      ctx.progress({ step: 2, of: 2 });
      return { sentTo: event.payload.userId };
    }),
  ],
});

describe('consumerRunner', () => {
  it('runs the handler its key routes to and returns processed, with what the handler logged', async () => {
    const [outcome] = await consumerRunner(handler).run([
      webhookEvent('github.push', { ref: 'refs/heads/main' }, { id: 'delivery-1' }),
    ]);
    expect(outcome).toMatchObject({ id: 'delivery-1', key: 'github.push', attempt: 1, outcome: 'processed' });
    expect(outcome?.logs).toEqual([
      {
        level: 'info',
        message: 'push received',
        attributes: { id: 'delivery-1', source: 'github', type: 'push', attempt: 1, ref: 'refs/heads/main' },
      },
    ]);
  });

  it('validates the payload with the handler schema and dead-letters one that fails it, with its reason', async () => {
    const [valid, invalid] = await consumerRunner(handler, { consumer: 'billing' }).run([
      webhookEvent('stripe.invoice.paid', { id: 'in_1', amount: 12 }),
      webhookEvent('stripe.invoice.paid', { id: 'ch_1', amount: 12 }),
    ]);
    expect(valid?.outcome).toBe('processed');
    expect(charged).toContain('in_1');
    expect(invalid).toMatchObject({
      outcome: 'dead-lettered',
      deadLetter: {
        errorName: 'InvalidPayloadError',
        errorMessage: expect.stringContaining('payload failed schema validation at id'),
        attempt: 1,
        consumer: 'billing',
      },
    });
    expect(invalid?.reason).toMatch(/^InvalidPayloadError: payload failed schema validation at id/);
  });

  it('dead-letters a PermanentError on its first attempt, with its message', async () => {
    const [outcome] = await consumerRunner(handler).run([
      webhookEvent('stripe.invoice.paid', { id: 'in_2', amount: -1 }),
    ]);
    expect(outcome).toMatchObject({
      outcome: 'dead-lettered',
      reason: 'PermanentError: a negative amount cannot be charged',
      deadLetter: {
        errorName: 'PermanentError',
        errorMessage: 'a negative amount cannot be charged',
        attempt: 1,
      },
    });
  });

  it('dead-letters an event no key matches as UnknownEventTypeError', async () => {
    const [outcome] = await consumerRunner(handler).run([webhookEvent('github.issues', {})]);
    expect(outcome?.deadLetter).toMatchObject({
      errorName: 'UnknownEventTypeError',
      errorMessage: 'no handler for "github.issues" and no default handler',
    });
  });

  it('retries a thrown error before the last attempt after its backoff with equal jitter', async () => {
    const events = [webhookEvent('shop.order', {}), webhookEvent('shop.order', {}, { attempt: 3 })];
    const low = await consumerRunner(handler, { random: () => 0 }).run(events);
    const high = await consumerRunner(handler, {
      random: () => 1 - Number.EPSILON,
      retry: { base: { seconds: 30 } },
    }).run(events);
    expect(low.map((o) => [o.outcome, o.retryDelaySeconds, o.reason])).toEqual([
      ['retried', 5, 'Error: warehouse API unavailable'],
      ['retried', 20, 'Error: warehouse API unavailable'],
    ]);
    expect(high.map((o) => o.retryDelaySeconds)).toEqual([30, 120]);
  });

  it('retries a RetryLaterError no sooner than the delay it asked for', async () => {
    const [outcome] = await consumerRunner(handler, { random: () => 0 }).run([
      webhookEvent('shop.throttled', {}),
    ]);
    expect(outcome).toMatchObject({
      outcome: 'retried',
      retryDelaySeconds: 120,
      reason: 'RetryLaterError: rate limited by the warehouse API',
    });
  });

  it('dead-letters a thrown error on the last attempt, with the reason hookline records', async () => {
    const [outcome] = await consumerRunner(handler, { maxReceiveCount: 3, consumer: 'shop' }).run([
      webhookEvent('shop.order', {}, { attempt: 3 }),
    ]);
    expect(outcome).toMatchObject({
      outcome: 'dead-lettered',
      deadLetter: {
        errorName: 'Error',
        errorMessage: 'warehouse API unavailable',
        attempt: 3,
        consumer: 'shop',
        failedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      },
    });
    expect(outcome?.retryDelaySeconds).toBeUndefined();
  });

  it('skips an event id it already processed as a duplicate, in the same run or a later one', async () => {
    const runner = consumerRunner(handler);
    const push = webhookEvent('github.push', { ref: 'refs/heads/main' }, { id: 'delivery-2' });
    const [first] = await runner.run([push]);
    const [again] = await runner.run([push]);
    expect([first?.outcome, again?.outcome]).toEqual(['processed', 'duplicate']);
    expect(again?.logs).toEqual([]);
    const [withoutIdempotency] = await consumerRunner(handler, { idempotency: false }).run([push]);
    expect(withoutIdempotency?.outcome).toBe('processed');
  });

  it('retries the second copy of an id running in the same batch as held elsewhere, never running it twice', async () => {
    const runs: string[] = [];
    const slow = defineConsumer({
      handlers: {
        'shop.order': async (event) => {
          runs.push(event.id);
          await new Promise((resolve) => setTimeout(resolve, 5));
        },
      },
    });
    const order = webhookEvent('shop.order', {}, { id: 'order-1' });
    const [first, second] = await consumerRunner(slow).run([order, order]);
    expect(first?.outcome).toBe('processed');
    expect(second).toMatchObject({
      outcome: 'retried',
      reason: expect.stringMatching(/^IdempotencyAlreadyInProgressError: /),
      retryDelaySeconds: 30,
    });
    expect(runs).toEqual(['order-1']);
  });

  it("runs a job's handler on its validated payload and returns its result and last progress", async () => {
    const [done, invalid] = await consumerRunner(handler).run([
      jobEvent(welcomeEmail, { userId: 'u1' }),
      jobEvent(welcomeEmail, { userId: 7 } as unknown as { userId: string }),
    ]);
    expect(done).toMatchObject({
      key: 'job.email.welcome',
      outcome: 'processed',
      result: { sentTo: 'u1' },
      progress: { step: 2, of: 2 },
    });
    expect(invalid?.deadLetter?.errorName).toBe('InvalidPayloadError');
  });

  it('dead-letters a job failing on the last of its own attempts as AttemptsExhaustedError', async () => {
    const failing = defineConsumer({
      handlers: {},
      jobs: [
        handleJob(welcomeEmail, async () => {
          throw new Error('mail server down');
        }),
      ],
    });
    const [outcome] = await consumerRunner(failing).run([
      jobEvent(welcomeEmail, { userId: 'u1' }, { attempt: 2, attempts: 2 }),
    ]);
    expect(outcome?.deadLetter).toMatchObject({
      errorName: 'AttemptsExhaustedError',
      errorMessage: 'attempts exhausted: 2 of 2 (last error: Error: mail server down)',
    });
  });

  it('runs a consumer given by its definition as by its handler', async () => {
    const [outcome] = await consumerRunner({ handlers: { 'a.b': async () => {} } }).run([
      webhookEvent('a.b', 'text body'),
    ]);
    expect(outcome?.outcome).toBe('processed');
  });

  it('refuses a function defineConsumer did not make, saying what to pass', () => {
    expect(() => consumerRunner(async () => ({ batchItemFailures: [] }))).toThrow(
      'consumerRunner: this function was not made by defineConsumer: pass the handler your consumer file exports, or its definition',
    );
  });

  it('refuses settings the runtime would refuse, naming the setting and its value', () => {
    expect(() => consumerRunner(handler, { maxReceiveCount: 0 })).toThrow(
      /consumerRunner: maxReceiveCount is 0/,
    );
    expect(() => consumerRunner(handler, { retry: { max: { hours: 13 } } })).toThrow(
      /^consumerRunner: retry\.max is 46800 s: .* \(the runtime would refuse it\)$/,
    );
    expect(() => consumerRunner(handler, { retry: { base: { seconds: 1.5 } } })).toThrow(
      'consumerRunner: retry.base is 1.5 s: use whole seconds',
    );
  });

  /** A retry given to the runner, the same retry in `hookline.config.ts`, and how the runner says what is wrong. */
  const DEPLOY_REFUSES: readonly (readonly [string, RunnerRetry, RetryConfig, string])[] = [
    [
      'a base of 0',
      { base: { seconds: 0 } },
      { base: Duration.seconds(0) },
      'retry.base (0 s) is under 1 second',
    ],
    ['a factor above 10', { factor: 20 }, { factor: 20 }, 'retry.factor 20 is not between 1 and 10'],
    [
      'a base above the default max',
      { base: { minutes: 20 } },
      { base: Duration.minutes(20) },
      'retry.base (1200 s) exceeds retry.max (900 s)',
    ],
  ];

  it.each(DEPLOY_REFUSES)(
    'refuses a retry a deploy refuses (%s), by the same rule, naming the option',
    (_, retry, inConfig, said) => {
      // The configuration refuses the same retry: the runner does not pass a test on a curve that never deploys.
      expect(() =>
        resolveConfig({
          sources: { github: { type: 'github' } },
          queues: { jobs: { consumer: { entry: 'lambda/consumers/events.ts', retry: inConfig } } },
        }),
      ).toThrow(/queues\.jobs\.consumer\.retry\.(base|factor)/);
      let thrown: unknown;
      try {
        consumerRunner(handler, { retry });
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(TypeError);
      expect((thrown as Error).message).toMatch(
        new RegExp(`^consumerRunner: ${said.replace(/[.()]/g, '\\$&')}: .* \\(a deploy refuses it too\\)$`),
      );
    },
  );

  it('refuses a duration that is not one as a TypeError, as its other settings, not as a producer error', () => {
    const misspelt = { secs: 5 } as unknown as { seconds: number };
    let thrown: unknown;
    try {
      consumerRunner(handler, { retry: { base: misspelt } });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(TypeError);
    expect((thrown as Error).name).toBe('TypeError');
    expect((thrown as Error).message).toBe(
      'consumerRunner: retry.base {"secs":5} has "secs", which is not a unit: use days, hours, minutes or seconds',
    );
  });
});

describe('consumerRunner on a FIFO queue', () => {
  const shipped: string[] = [];
  const report = defineJob('report.build', z.object({ fail: z.boolean() }), { queue: 'jobs' });
  const fifo = defineConsumer({
    handlers: {
      'shop.order': async (event) => {
        const order = event.payload as { n: string; fail?: boolean };
        if (order.fail) throw new Error(`warehouse refused ${order.n}`);
        shipped.push(order.n);
      },
    },
    jobs: [
      handleJob(report, async (event) => {
        if (event.payload.fail) throw new Error('report failed');
        return 'built';
      }),
    ],
  });
  const order = (n: string, group: string, fail = false, attempt = 1) =>
    webhookEvent('shop.order', { n, fail }, { id: n, group, attempt });

  it('holds back the rest of a failed group in the batch, deferred with its backoff, while other groups go on', async () => {
    shipped.length = 0;
    const runner = consumerRunner(fifo, { fifo: true, random: () => 0 });
    const outcomes = await runner.run([
      order('a1', 'customer-a', true),
      order('b1', 'customer-b'),
      order('a2', 'customer-a'),
      order('b2', 'customer-b'),
    ]);
    expect(outcomes.map((o) => [o.id, o.outcome])).toEqual([
      ['a1', 'retried'],
      ['b1', 'processed'],
      ['a2', 'deferred'],
      ['b2', 'processed'],
    ]);
    expect(outcomes[0]).toMatchObject({ reason: 'Error: warehouse refused a1', retryDelaySeconds: 5 });
    expect(outcomes[2]).toMatchObject({
      reason: 'not started: an earlier message of group customer-a failed',
      retryDelaySeconds: 5,
    });
    expect(shipped).toEqual(['b1', 'b2']);
  });

  it('runs the same batch as a standard queue without fifo: a failure holds nothing back', async () => {
    shipped.length = 0;
    const outcomes = await consumerRunner(fifo).run([
      order('a1', 'customer-a', true),
      order('a2', 'customer-a'),
    ]);
    expect(outcomes.map((o) => o.outcome)).toEqual(['retried', 'processed']);
    expect(shipped).toEqual(['a2']);
  });

  it("dead-letters a record held back on its last receive, with the runtime's reason", async () => {
    const outcomes = await consumerRunner(fifo, { fifo: true, maxReceiveCount: 3 }).run([
      order('a1', 'customer-a', true),
      order('a2', 'customer-a', false, 3),
    ]);
    expect(outcomes[1]).toMatchObject({
      outcome: 'dead-lettered',
      deadLetter: { errorName: 'NotStartedError', attempt: 3 },
    });
    expect(outcomes[1]?.deadLetter?.errorMessage).toContain('an earlier message of group customer-a failed');
  });

  it('groups events given no group as hookline sends them: a webhook by its source, a job by its type', async () => {
    const outcomes = await consumerRunner(fifo, { fifo: true }).run([
      webhookEvent('shop.order', { n: 'x1', fail: true }),
      jobEvent(report, { fail: true }),
      webhookEvent('shop.order', { n: 'x2' }),
      jobEvent(report, { fail: false }),
    ]);
    expect(outcomes.map((o) => o.outcome)).toEqual(['retried', 'retried', 'deferred', 'deferred']);
    expect(outcomes[2]?.reason).toBe('not started: an earlier message of group shop failed');
    expect(outcomes[3]?.reason).toBe('not started: an earlier message of group report.build failed');
  });

  it('refuses a group SQS would refuse, saying what a group may be', () => {
    expect(() => webhookEvent('shop.order', {}, { group: 'customer a' })).toThrow(
      'webhookEvent: group "customer a" is not a FIFO message group: pass 1 to 128 printable ASCII characters, no spaces',
    );
    expect(() => jobEvent(report, { fail: false }, { group: '' })).toThrow('jobEvent: group "" is not');
  });
});

describe('webhookEvent, jobEvent and handlerContext', () => {
  it('build an event and a ctx a handler is called with directly, the ctx recording its log lines', async () => {
    const event = webhookEvent('github.push', { ref: 'refs/heads/dev' }, { attempt: 2, id: 'd-3' });
    const ctx = handlerContext({ event, consumer: 'events' });
    const onPush = async (e: typeof event, c: typeof ctx) =>
      c.logger.warn('push', { ref: e.payload.ref, attempt: c.attempt });
    await onPush(event, ctx);
    expect(event).toMatchObject({ source: 'github', type: 'push', contentType: 'application/json' });
    expect(JSON.parse(ctx.record.body)).toMatchObject({ id: 'd-3', source: 'github', type: 'push' });
    expect(ctx.logger.lines).toEqual([
      {
        level: 'warn',
        message: 'push',
        attributes: { id: 'd-3', source: 'github', type: 'push', attempt: 2, ref: 'refs/heads/dev' },
      },
    ]);
  });

  it('check ctx.progress as the runtime does and keep what was reported', () => {
    const ctx = handlerContext({ event: jobEvent(welcomeEmail, { userId: 'u1' }) });
    ctx.progress(50);
    expect(() => ctx.progress(150)).toThrow('ctx.progress: 150 is not a percentage');
    expect(ctx.progressReports).toEqual([50]);
  });

  it('refuse a key that is not <source>.<type>', () => {
    expect(() => webhookEvent('push', {})).toThrow(
      `webhookEvent: "push" is not a <source>.<type> key: pass one such as 'github.push'`,
    );
  });

  it('give a RecordingLogger child its keys and the parent its lines', () => {
    const logger = new RecordingLogger({ service: 'x' });
    logger.child({ id: 'e1' }).error('boom', new Error('why'));
    expect(logger.lines).toEqual([
      { level: 'error', message: 'boom', attributes: { service: 'x', id: 'e1', error: 'why' } },
    ]);
  });
});
