/**
 * A record the consumer reports failed after the batch was answered: its backoff's `ChangeMessageVisibility` outlasts
 * the deadline margin (a real proxy in front of the emulator holds it back), so the response reports the record
 * without its outcome line, local mode reports the receive itself, and the consumer's own line comes only when its
 * sandbox thaws for its next invocation, as Lambda would write it. One receive must still be one event.
 */
import { randomUUID } from 'node:crypto';
import { Duration } from 'aws-cdk-lib';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { recordingQueue, startTestPipeline, type TestPipeline, testConfig } from '../helpers/local/pipeline';
import { type SqsProxy, sqsProxy } from '../helpers/local/sqs-proxy';

/** Longer than the consumer's 1 s timeout: its backoff is still being set when the batch must be answered. */
const VISIBILITY_CHANGE_DELAY_MS = 1_500;

let proxy: SqsProxy;
let pipeline: TestPipeline;

beforeAll(async () => {
  proxy = await sqsProxy((action) =>
    action === 'ChangeMessageVisibility' ? { delayMs: VISIBILITY_CHANGE_DELAY_MS } : undefined,
  );
  pipeline = await startTestPipeline(
    testConfig({
      events: recordingQueue(
        { maxReceiveCount: 3 },
        { timeout: Duration.seconds(1), environment: { AWS_ENDPOINT_URL_SQS: proxy.url } },
      ),
    }),
  );
  proxy.target.url = pipeline.local.emulators.endpoints.sqs;
}, 120_000);

afterAll(async () => {
  await pipeline?.stop();
  proxy?.server.close();
});

it("reports each receive once when the consumer's own line for it comes after the batch was answered", async () => {
  const id = `late-${randomUUID()}`;
  expect((await pipeline.post('generic', { id, type: 'test.typo' })).status).toBe(202);
  await pipeline.waitFor(
    () => pipeline.events.some((e) => e.event === 'dead-lettered' && e.id === id),
    30_000,
    'the dead-lettered line',
  );
  // The second receive's consumer line, late, comes when the third thaws its sandbox (the third's own may come in
  // time, or on a busy machine be late too, and then never: no invocation follows it).
  await pipeline.waitFor(
    () =>
      pipeline.output.some(
        (line) => line.includes(id) && /attempt(":|=)2\b/.test(line) && line.includes('TypeError'),
      ),
    10_000,
    "the second receive's consumer line",
  );
  const lateNotes = () =>
    pipeline.output
      .map((line) => JSON.parse(line) as { event: string; message?: string })
      .filter((line) => line.event === 'info' && line.message?.includes(`id=${id}`));
  const outcomes = pipeline.events.filter((e) => e.id === id && e.attempt !== undefined);
  expect(outcomes.map((e) => `${e.event} ${e.attempt}`)).toEqual([
    'retried 1',
    'retried 2',
    'dead-lettered 3',
  ]);
  // What the consumer's late line knew (the error it retried on) is still shown, under the receive it belongs to.
  expect(lateNotes().map((note) => note.message)).toEqual([
    expect.stringMatching(/attempt=1 .*retried .*TypeError: Cannot read properties of undefined/),
    expect.stringMatching(/attempt=2 .*retried .*TypeError: Cannot read properties of undefined/),
  ]);
}, 60_000);
