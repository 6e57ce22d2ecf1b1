/**
 * A consumer for local-mode integration tests, built on the real consumer runtime. Every handler run appends
 * `<id> <attempt>` to the file named by HOOKLINE_TEST_RECORD_FILE, so tests can count side effects.
 *
 * Event types steer it: `test.poison` always fails; `test.crash` kills the sandbox (process.exit) on its first
 * attempt, before its side effect; `test.stall` never settles, on every attempt, recording the attempt as
 * `test.poison` does; `test.spin` blocks its thread on its first attempt once the invocation nears its deadline
 * margin, so no timer of the runtime can run and the invocation times out; `test.chatty` writes `chatty <id>` with
 * console.log; `test.body` also appends `{"id", "payload"}` to `<file>.bodies`; `test.clock` writes the local hour of a fixed UTC time; `test.typo` reads a property of undefined (a TypeError thrown from this file) and `test.string`
 * throws a string, each on every attempt; anything else succeeds.
 */
import { appendFileSync } from 'node:fs';
import { defineConsumer } from '../../../lambda/consumer';

const recordFile = process.env.HOOKLINE_TEST_RECORD_FILE;
/** A slow consumer for scheduling tests: milliseconds each record takes before its side effect. */
const recordDelayMs = Number(process.env.HOOKLINE_TEST_RECORD_DELAY_MS ?? 0);

function record(id: string, attempt: number): void {
  if (!recordFile) throw new Error('HOOKLINE_TEST_RECORD_FILE is not set');
  appendFileSync(recordFile, `${id} ${attempt}\n`);
}

export const handler = defineConsumer({
  handlers: {
    '*.test.clock': async (event) => {
      // What a consumer bucketing by local hour reads: 23 in UTC, as deployed, whatever the machine's zone.
      console.log(
        `clock ${event.id} hour=${new Date(Date.UTC(2026, 0, 1, 23, 30)).getHours()} TZ=${process.env.TZ}`,
      );
    },
    '*.test.body': async (event, ctx) => {
      // The body as the consumer got it (a claim-checked one read back from S3), for tests that compare it whole.
      appendFileSync(`${recordFile}.bodies`, `${JSON.stringify({ id: event.id, payload: event.payload })}\n`);
      record(event.id, ctx.attempt);
    },
    '*.test.chatty': async (event, ctx) => {
      console.log(`chatty ${event.id}`);
      record(event.id, ctx.attempt);
    },
    '*.test.poison': async (event, ctx) => {
      appendFileSync(`${recordFile}.attempts`, `${event.id} ${ctx.attempt}\n`);
      throw new Error(`poison message ${event.id}`);
    },
    '*.test.typo': async (event) => {
      const order = (event.payload as { order: { id: string } }).order;
      record(order.id, 0);
    },
    '*.test.string': async (event) => {
      throw `no luck with ${event.id}`;
    },
    '*.test.crash': async (event, ctx) => {
      if (ctx.attempt === 1) process.exit(1);
      record(event.id, ctx.attempt);
    },
    '*.test.stall': async (event, ctx) => {
      appendFileSync(`${recordFile}.attempts`, `${event.id} ${ctx.attempt}\n`);
      await new Promise(() => {});
    },
    '*.test.spin': async (event, ctx) => {
      if (ctx.attempt === 1) {
        // Waits until twice the deadline margin is left (a short timeout's margin is a tenth of it), so batch mates
        // finish first, then blocks for good, before the watchdog's alarm can ring.
        const spinAtMs = ctx.remainingTimeMs() / 5;
        while (ctx.remainingTimeMs() > spinAtMs) await new Promise((resolve) => setTimeout(resolve, 5));
        for (;;);
      }
      record(event.id, ctx.attempt);
    },
  },
  default: async (event, ctx) => {
    if (recordDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, recordDelayMs));
    record(event.id, ctx.attempt);
  },
});
