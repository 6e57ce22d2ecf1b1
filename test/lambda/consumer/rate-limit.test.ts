/**
 * The consumer's rate limit: at most `limit` records start per window across concurrent invocations (two
 * limiters over one store stand for two Lambda sandboxes), and a record held back waits inside its invocation
 * instead of going back to the queue, so it keeps its attempts. A fake clock and store: no timers, no waiting.
 */
import { describe, expect, it } from 'vitest';
import { RateLimiter, type RateLimitWindowStore } from '../../../lambda/consumer/rate-limit';
import { rateLimitWindowKey } from '../../../lambda/shared/idempotency-key';
import { envelope, failedIds, harness, lambdaContext, NOW, record, sqsEvent } from './fakes';

/** Virtual time: `sleep` resolves when `run` moves the clock to it, never on a real timer. */
class FakeClock {
  nowMs = NOW;
  #sleepers: Array<{ at: number; wake: () => void }> = [];
  readonly now = () => this.nowMs;
  readonly sleep = (ms: number) =>
    new Promise<void>((wake) => this.#sleepers.push({ at: this.nowMs + ms, wake }));
  /** Lets the callers run, waking the earliest sleeper each time they all wait, until `work` settles. */
  async run<T>(work: Promise<T>): Promise<T> {
    let settled = false;
    const result = work.finally(() => {
      settled = true;
    });
    for (;;) {
      await new Promise((resolve) => setImmediate(resolve));
      if (settled) return result;
      this.#sleepers.sort((a, b) => a.at - b.at);
      const next = this.#sleepers.shift();
      if (!next) return result;
      this.nowMs = Math.max(this.nowMs, next.at);
      next.wake();
    }
  }
}

/** The shared store: counts per window key, as DynamoDB's conditional update keeps them. */
class FakeWindowStore implements RateLimitWindowStore {
  readonly counts = new Map<string, number>();
  calls = 0;
  async take(key: string, limit: number): Promise<boolean> {
    this.calls++;
    const count = this.counts.get(key) ?? 0;
    if (count >= limit) return false;
    this.counts.set(key, count + 1);
    return true;
  }
}

function limiter(clock: FakeClock, store: RateLimitWindowStore, limit: number, intervalMs = 1_000) {
  return new RateLimiter({
    limit,
    intervalMs,
    keyOf: (window) => rateLimitWindowKey('events', window),
    store,
    now: clock.now,
    sleep: clock.sleep,
  });
}

/** The window (index) each start fell in, counted. */
const startsPerWindow = (starts: number[], intervalMs = 1_000) => {
  const windows = new Map<number, number>();
  for (const at of starts) {
    const window = Math.floor(at / intervalMs);
    windows.set(window, (windows.get(window) ?? 0) + 1);
  }
  return windows;
};

describe('consumer rate limit: the limiter', () => {
  it('starts at most the limit per window across two concurrent invocations sharing the store, and every record in the end', async () => {
    const clock = new FakeClock();
    const store = new FakeWindowStore();
    const sandboxes = [limiter(clock, store, 2), limiter(clock, store, 2)];
    const starts: number[] = [];
    const acquire = async (sandbox: RateLimiter) => {
      expect(await sandbox.acquire(Number.MAX_SAFE_INTEGER)).toBe(true);
      starts.push(clock.now());
    };
    // Ten records in each invocation, all waiting at once (parallelism 10).
    const records = sandboxes.flatMap((sandbox) => Array.from({ length: 10 }, () => acquire(sandbox)));
    await clock.run(Promise.all(records));

    expect(starts).toHaveLength(20);
    const windows = startsPerWindow(starts);
    expect(Math.max(...windows.values())).toBe(2);
    // 20 starts at 2 per second: ten consecutive windows, none skipped.
    expect(windows.size).toBe(10);
    expect(Math.max(...windows.keys()) - Math.min(...windows.keys())).toBe(9);
  });

  it('asks the store no more in a window the sandbox already found full', async () => {
    const clock = new FakeClock();
    const store = new FakeWindowStore();
    const sandbox = limiter(clock, store, 1);
    const until = Math.floor(NOW / 1_000) * 1_000 + 999;
    expect(await clock.run(sandbox.acquire(until))).toBe(true);
    expect(await clock.run(sandbox.acquire(until))).toBe(false);
    expect(store.calls).toBe(2);
    // Same window, known full: no write spent on a refusal.
    expect(await clock.run(sandbox.acquire(until))).toBe(false);
    expect(store.calls).toBe(2);
  });

  it("gives up, without counting a start, when the next window begins after the caller's deadline", async () => {
    const clock = new FakeClock();
    const store = new FakeWindowStore();
    const sandbox = limiter(clock, store, 1);
    expect(await clock.run(sandbox.acquire(NOW + 5_000))).toBe(true);
    const window = Math.floor(NOW / 1_000);
    // The window is full, and the next one starts after the deadline.
    expect(await clock.run(sandbox.acquire(window * 1_000 + 999))).toBe(false);
    expect(clock.now()).toBe(NOW);
    expect([...store.counts.values()]).toEqual([1]);
  });

  it("keys windows under the consumer's own prefix, apart from its idempotency keys", () => {
    expect(rateLimitWindowKey('events', 1_764_676_800)).toBe('events#rate-limit#1764676800');
  });
});

describe('consumer rate limit: records held back by it', () => {
  /** A limiter that hands out slots only when the test releases them. */
  function gatedSlots() {
    const waiting: Array<(granted: boolean) => void> = [];
    let untilMs: number | undefined;
    return {
      slots: {
        acquire: (until: number) => {
          untilMs = until;
          return new Promise<boolean>((resolve) => waiting.push(resolve));
        },
      },
      waiting: () => waiting.length,
      release: (granted = true) => waiting.shift()?.(granted),
      untilMs: () => untilMs,
    };
  }
  const settleCallbacks = () => new Promise((resolve) => setImmediate(resolve));

  it('wait inside the invocation and run once released: nothing is reported failed, no visibility changes, no receive spent', async () => {
    const gate = gatedSlots();
    const ran: string[] = [];
    const { core, queue, metrics } = harness(
      { handlers: { 'github.push': async (event) => void ran.push(event.id) } },
      {},
      { rateLimiter: gate.slots },
    );
    const records = ['a', 'b', 'c'].map((id) => record(envelope({ id }), { attempt: 5 }));
    const response = core.processBatch(sqsEvent(records), lambdaContext());
    await settleCallbacks();
    expect(gate.waiting()).toBe(3);
    expect(ran).toEqual([]);
    for (let i = 0; i < 3; i++) {
      gate.release();
      await settleCallbacks();
    }
    expect(failedIds(await response)).toEqual([]);
    expect(ran.sort()).toEqual(['a', 'b', 'c']);
    expect(queue.visibilityChanges).toEqual([]);
    expect(queue.deadLetters).toEqual([]);
    expect(metrics.total('Processed')).toBe(3);
    expect(metrics.total('Failed')).toBe(0);
  });

  it('wait at most until the deadline margin', async () => {
    const gate = gatedSlots();
    const { core } = harness(
      { handlers: { 'github.push': async () => {} } },
      {},
      { rateLimiter: gate.slots },
    );
    const response = core.processBatch(sqsEvent([record(envelope())]), lambdaContext(25_000));
    await settleCallbacks();
    // 25 s remain and the margin is 3 s.
    expect(gate.untilMs()).toBe(NOW + 22_000);
    gate.release();
    await response;
  });

  it('without a slot before the deadline margin are deferred: not failed, not retried, not dead-lettered', async () => {
    const gate = gatedSlots();
    const ran: string[] = [];
    const { core, queue, logger, metrics } = harness(
      { handlers: { 'github.push': async (event) => void ran.push(event.id) } },
      {},
      { rateLimiter: gate.slots },
    );
    const started = record(envelope({ id: 'started' }), { attempt: 4 });
    const held = record(envelope({ id: 'held' }), { attempt: 4 });
    const response = core.processBatch(sqsEvent([started, held]), lambdaContext());
    await settleCallbacks();
    gate.release(true);
    gate.release(false);
    expect(failedIds(await response)).toEqual([held.messageId]);
    expect(ran).toEqual(['started']);
    expect(logger.outcomeOf('held')).toMatchObject({
      outcome: 'deferred',
      reason: expect.stringMatching(/rate limit/),
    });
    expect(queue.visibilityChanges).toEqual([]);
    expect(queue.deadLetters).toEqual([]);
    expect(metrics.total('Failed')).toBe(0);
    expect(metrics.total('Deferred')).toBe(1);
  });

  it('without a slot on their last receive are dead-lettered saying why, not handed back for SQS to move without a reason', async () => {
    const gate = gatedSlots();
    const ran: string[] = [];
    const { core, queue, logger, metrics } = harness(
      { handlers: { 'github.push': async (event) => void ran.push(event.id) } },
      {},
      { rateLimiter: gate.slots },
    );
    const held = record(envelope({ id: 'held' }), { attempt: 5 });
    const response = core.processBatch(sqsEvent([held]), lambdaContext());
    await settleCallbacks();
    gate.release(false);
    expect(failedIds(await response)).toEqual([]);
    expect(ran).toEqual([]);
    expect(queue.deadLetters.map((m) => m.body)).toEqual([held.body]);
    expect(queue.deleted).toEqual([held.messageId]);
    expect(logger.outcomeOf('held')).toMatchObject({
      outcome: 'dead-lettered',
      reason: expect.stringMatching(
        /^NotStartedError: not started: the rate limit .*last receive \(maxReceiveCount 5\)/,
      ),
    });
    expect(metrics.total('DeadLettered')).toBe(1);
  });

  it('still waiting when the deadline alarm rings are deferred as not started, not failed as timed out', async () => {
    const gate = gatedSlots();
    const { core, queue, logger, metrics, deadline } = harness(
      { handlers: { 'github.push': async () => {} } },
      {},
      { rateLimiter: gate.slots },
    );
    const held = record(envelope({ id: 'held' }), { attempt: 4 });
    const response = core.processBatch(sqsEvent([held]), lambdaContext());
    await settleCallbacks();
    expect(deadline.ring()).toBe(true);
    expect(failedIds(await response)).toEqual([held.messageId]);
    expect(logger.outcomeOf('held')).toMatchObject({ outcome: 'deferred' });
    expect(queue.deadLetters).toEqual([]);
    expect(metrics.total('Failed')).toBe(0);
    // A slot granted after the deadline starts nothing.
    gate.release(true);
    await settleCallbacks();
    expect(logger.outcomes()).toHaveLength(1);
  });

  it('still waiting when the deadline alarm rings on their last receive are dead-lettered saying why', async () => {
    const gate = gatedSlots();
    const { core, queue, logger, deadline } = harness(
      { handlers: { 'github.push': async () => {} } },
      {},
      { rateLimiter: gate.slots },
    );
    const held = record(envelope({ id: 'held' }), { attempt: 5 });
    const response = core.processBatch(sqsEvent([held]), lambdaContext());
    await settleCallbacks();
    expect(deadline.ring()).toBe(true);
    expect(failedIds(await response)).toEqual([]);
    expect(queue.deadLetters.map((m) => m.body)).toEqual([held.body]);
    expect(logger.outcomeOf('held')).toMatchObject({
      outcome: 'dead-lettered',
      reason: expect.stringMatching(/^NotStartedError: .*last receive/),
    });
  });

  it('whose limit store fails are retried with backoff like any other fault', async () => {
    const { core, queue, logger } = harness(
      { handlers: { 'github.push': async () => {} } },
      {},
      {
        rateLimiter: {
          acquire: async () => Promise.reject(new Error('ProvisionedThroughputExceededException')),
        },
      },
    );
    const rec = record(envelope({ id: 'r' }));
    expect(failedIds(await core.processBatch(sqsEvent([rec]), lambdaContext()))).toEqual([rec.messageId]);
    expect(logger.outcomeOf('r')).toMatchObject({ outcome: 'retried' });
    expect(queue.visibilityChanges).toHaveLength(1);
  });

  it("keep FIFO group order: a group's records start one after another, each once it has its slot", async () => {
    const gate = gatedSlots();
    const ran: string[] = [];
    const { core } = harness(
      { handlers: { 'github.push': async (event) => void ran.push(event.id) } },
      { fifo: true },
      { rateLimiter: gate.slots },
    );
    const records = ['1', '2', '3'].map((id) => record(envelope({ id }), { groupId: 'g' }));
    const response = core.processBatch(sqsEvent(records), lambdaContext());
    for (let i = 0; i < 3; i++) {
      await settleCallbacks();
      expect(gate.waiting()).toBe(1);
      gate.release();
    }
    expect(failedIds(await response)).toEqual([]);
    expect(ran).toEqual(['1', '2', '3']);
  });
});
