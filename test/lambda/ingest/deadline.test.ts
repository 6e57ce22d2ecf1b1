/**
 * The request deadline of the ingest core: a request still waiting on a dependency when the invocation reaches its
 * margin is answered 503 (never 2xx unless every send completed), with its outcome line and Failed metric, and
 * whatever was in flight settles the dedupe claim so that the sender's retry is answered correctly.
 */
import { describe, expect, it } from 'vitest';
import { handleWebhook } from '../../../lambda/ingest/core';
import { DEADLINE_MARGIN_MS, type InvocationContext } from '../../../lambda/shared/invocation-deadline';
import { type Harness, type HeldStep, harness, signedEvent, testConfig } from './fakes';

const PUSH = JSON.stringify({ ref: 'refs/heads/main', commits: [] });
const ghHeaders = { 'x-github-event': 'push' };
/** The Lambda context of an invocation of `timeoutMs` starting now, on the harness's clock. */
function lambdaContext(h: Harness, timeoutMs = 10_000): InvocationContext {
  const endsAt = h.clock + timeoutMs;
  return { getRemainingTimeInMillis: () => endsAt - h.clock };
}

/** Moves the clock on by `ms` (by default to the margin of a 10 s invocation) and checks the deadlines. */
function reachDeadline(h: Harness, ms = 10_000 - DEADLINE_MARGIN_MS): boolean {
  h.clock += ms;
  return h.deadline.check();
}

/** Lets every pending promise chain run (the fakes resolve through microtasks only). */
const settle = () => new Promise((resolve) => setImmediate(resolve));

function delivery(h: Harness, id = 'delivery-1', body = PUSH) {
  return signedEvent(h.deps.config, 'github', body, { id, headers: ghHeaders });
}

const outcomeLines = (h: Harness) => h.logs.filter((l) => l.message === 'webhook outcome');

/** Starts a request whose `step` hangs, and rings the deadline once the request waits on it. */
async function answeredAtDeadline(h: Harness, step: HeldStep, body = PUSH) {
  const gate = h.hold(step);
  const answer = handleWebhook(delivery(h, 'delivery-1', body), h.deps, lambdaContext(h));
  await settle();
  expect(gate.arrived).toBeGreaterThan(0);
  expect(reachDeadline(h)).toBe(true);
  return { gate, response: await answer };
}

describe('a dependency that hangs past the deadline margin', () => {
  it.each([
    ['secrets', 'deadline_secret_fetch', PUSH],
    ['claim', 'deadline_dedupe_claim', PUSH],
    ['payload', 'deadline_payload_upload', JSON.stringify({ ref: 'x'.repeat(5_000) })],
    ['enqueue', 'deadline_enqueue', PUSH],
  ] as const)(
    '%s hangs: 503 with Retry-After and the generic body, outcome line and Failed metric name %s',
    async (step, reason, body) => {
      const h = harness(testConfig({ payloads: { bucket: 'payloads', inlineLimitBytes: 4_096 } }));
      const { response } = await answeredAtDeadline(h, step, body);
      expect(response).toEqual({
        statusCode: 503,
        headers: { 'content-type': 'application/json', 'retry-after': '5' },
        body: JSON.stringify({ message: 'service unavailable' }),
      });
      expect(outcomeLines(h)).toHaveLength(1);
      expect(h.outcome()).toMatchObject({ outcome: 'failed', status: 503, reason, source: 'github' });
      expect(h.metrics.filter((m) => m.name === 'Failed')).toEqual([{ name: 'Failed', reason }]);
      expect(h.metrics.some((m) => m.name === 'Accepted')).toBe(false);
    },
  );

  it.each([
    [10_000, DEADLINE_MARGIN_MS],
    [2_000, 200],
  ])(
    'a %i ms invocation is answered once %i ms are left, not a millisecond sooner',
    async (timeoutMs, marginMs) => {
      const h = harness();
      const gate = h.hold('enqueue');
      const answer = handleWebhook(delivery(h), h.deps, lambdaContext(h, timeoutMs));
      await settle();
      expect(reachDeadline(h, timeoutMs - marginMs - 1)).toBe(false);
      expect(reachDeadline(h, 1)).toBe(true);
      expect((await answer).statusCode).toBe(503);
      gate.open();
    },
  );

  it('follows a remaining time that runs slower than the clock (local mode charges a shared sandbox its share)', async () => {
    const h = harness();
    const gate = h.hold('enqueue');
    const startedAt = h.clock;
    // Half of the wall clock is charged to this request: its 10 s last 20 s of the clock.
    const charged = { getRemainingTimeInMillis: () => 10_000 - (h.clock - startedAt) / 2 };
    const answer = handleWebhook(delivery(h), h.deps, charged);
    await settle();
    expect(reachDeadline(h, 9_000)).toBe(false);
    expect(outcomeLines(h)).toEqual([]);
    expect(reachDeadline(h, 9_000)).toBe(true);
    expect((await answer).statusCode).toBe(503);
    expect(h.outcome()).toMatchObject({ reason: 'deadline_enqueue' });
    gate.open();
  });

  it('without a Lambda context there is no deadline: nothing is watched, the request waits for its dependency', async () => {
    const h = harness();
    const gate = h.hold('enqueue');
    const answer = handleWebhook(delivery(h), h.deps);
    await settle();
    expect(h.deadline.watched.size).toBe(0);
    expect(reachDeadline(h, 60_000)).toBe(false);
    gate.open();
    expect((await answer).statusCode).toBe(202);
  });

  it('a request answered in time is no longer watched: its deadline passing later changes nothing', async () => {
    const h = harness();
    expect((await handleWebhook(delivery(h), h.deps, lambdaContext(h))).statusCode).toBe(202);
    expect(h.deadline.watched.size).toBe(0);
    expect(reachDeadline(h)).toBe(false);
    expect(outcomeLines(h)).toHaveLength(1);
  });
});

describe('what was in flight at the deadline', () => {
  it('a send that completes after the 503 marks the delivery queued: the retry is a duplicate (202), sent once', async () => {
    const h = harness();
    const { gate, response } = await answeredAtDeadline(h, 'enqueue');
    expect(response.statusCode).toBe(503);
    gate.open();
    await settle();
    expect(h.sent).toHaveLength(1);

    const retry = await handleWebhook(delivery(h), h.deps, lambdaContext(h));
    expect(retry.statusCode).toBe(202);
    expect(h.outcome()).toMatchObject({ outcome: 'duplicate' });
    expect(h.sent).toHaveLength(1);
    // One outcome line per request: the late send wrote none for the first.
    expect(outcomeLines(h)).toHaveLength(2);
  });

  it('with dedupe off, a send that completes after the 503 is sent again by the retry (at least once)', async () => {
    const h = harness(testConfig({ dedupe: undefined }));
    const { gate } = await answeredAtDeadline(h, 'enqueue');
    gate.open();
    await settle();
    expect((await handleWebhook(delivery(h), h.deps, lambdaContext(h))).statusCode).toBe(202);
    expect(h.sent.map((m) => m.attributes['hookline.id'])).toEqual(['delivery-1', 'delivery-1']);
  });

  it('a send that fails after the 503 releases the claim: the retry sends', async () => {
    const h = harness();
    const { gate } = await answeredAtDeadline(h, 'enqueue');
    gate.fail('SendMessage timed out');
    await settle();
    expect(h.dedupe.records.size).toBe(0);
    expect((await handleWebhook(delivery(h), h.deps, lambdaContext(h))).statusCode).toBe(202);
    expect(h.sent).toHaveLength(1);
  });

  it('a claim that completes after the 503 starts no upload or send and is released: the retry sends', async () => {
    const h = harness();
    const { gate } = await answeredAtDeadline(h, 'claim');
    gate.open();
    await settle();
    expect(h.sent).toEqual([]);
    expect(h.dedupe.records.size).toBe(0);
    expect((await handleWebhook(delivery(h), h.deps, lambdaContext(h))).statusCode).toBe(202);
    expect(h.sent).toHaveLength(1);
  });

  it('a secret fetch that completes after the 503 claims nothing and sends nothing', async () => {
    const h = harness();
    const { gate } = await answeredAtDeadline(h, 'secrets');
    gate.open();
    await settle();
    expect(h.sent).toEqual([]);
    expect(h.dedupe.records.size).toBe(0);
    expect(outcomeLines(h)).toHaveLength(1);
  });

  it('sends done but the claim still being marked queued: the deadline answers 202, the event is durable', async () => {
    const h = harness();
    const { gate, response } = await answeredAtDeadline(h, 'complete');
    expect(response.statusCode).toBe(202);
    expect(h.outcome()).toMatchObject({ outcome: 'queued', status: 202 });
    expect(h.sent).toHaveLength(1);
    gate.open();
    await settle();
    expect(outcomeLines(h)).toHaveLength(1);
  });

  it('sends done but the archive put never answering: the deadline answers 202, the archive put does not hold it', async () => {
    const h = harness(testConfig({ archive: { deliveryStream: 'Hookline-archive' } }));
    let archiveStarted = false;
    const deps = {
      ...h.deps,
      archive: {
        put: () => {
          archiveStarted = true;
          return new Promise<void>(() => {});
        },
      },
    };
    const answer = handleWebhook(delivery(h), deps, lambdaContext(h));
    await settle();
    expect(archiveStarted).toBe(true);
    expect(h.sent).toHaveLength(1);
    expect(reachDeadline(h)).toBe(true);
    expect((await answer).statusCode).toBe(202);
    expect(h.outcome()).toMatchObject({ outcome: 'queued', status: 202 });
  });

  it('a failed send whose claim release hangs: the deadline answers the send failure (503 enqueue_failed)', async () => {
    const h = harness();
    h.failingQueues.add('events');
    const { response } = await answeredAtDeadline(h, 'release');
    expect(response.statusCode).toBe(503);
    expect(h.outcome()).toMatchObject({ outcome: 'failed', reason: 'enqueue_failed' });
  });
});
