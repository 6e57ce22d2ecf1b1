/**
 * Tenant fairness in local mode, on the real emulators: a noisy tenant's backlog of 2,000 messages, then 20
 * webhooks of a quiet tenant posted through the HTTP API, all while the consumer is paused; then the consumer
 * resumes. The consumer is slow on purpose (a sleep per record, one record at a time, two batches at once), so
 * the backlog takes far longer to drain than the bound below allows.
 *
 * The bound is stated in completed records rather than seconds, so a loaded machine (which slows every side
 * alike) does not change the verdict: with fairness every quiet record completes among the first quarter of
 * the backlog; without it, none does (they wait behind the backlog).
 */
import { randomUUID } from 'node:crypto';
import {
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type SendMessageBatchRequestEntry,
} from '@aws-sdk/client-sqs';
import { Duration } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import type { QueueConfig } from '../../lib/config';
import { localSqsClient } from '../../lib/local/clients';
import { recordingQueue, startTestPipeline, type TestPipeline, testConfig } from '../helpers/local/pipeline';

const NOISY = 2_000;
const QUIET = 20;
/** With fairness every quiet record completes before this many records have; without it, none does. */
const BOUND = NOISY / 4;

function slowQueue(fair: boolean): QueueConfig {
  return recordingQueue(fair ? { tenants: { generic: { path: 'tenant' } } } : {}, {
    timeout: Duration.seconds(30),
    batchSize: 10,
    parallelism: 1,
    idempotency: { enabled: false },
    environment: { HOOKLINE_TEST_RECORD_DELAY_MS: '20' },
  });
}

/**
 * The noisy backlog: one webhook through the real ingest, then 2,000 copies of the message it enqueued (same
 * attributes, so the same tenant; each with its own envelope id), sent in batches straight to the queue.
 */
async function enqueueNoisyBacklog(pipeline: TestPipeline, run: string): Promise<void> {
  const first = `noisy-0-${run}`;
  expect((await pipeline.post('generic', { id: first, type: 'load.test', tenant: 'noisy' })).status).toBe(
    202,
  );
  const sqs = localSqsClient(pipeline.local.emulators);
  const queueUrl = pipeline.local.topology.resources.queueUrls.events ?? '';
  const received = await sqs.send(
    new ReceiveMessageCommand({ QueueUrl: queueUrl, MessageAttributeNames: ['All'], VisibilityTimeout: 0 }),
  );
  const template = received.Messages?.[0];
  if (!template?.Body) throw new Error('the ingested webhook is not in the queue');
  const envelope = JSON.parse(template.Body) as { id: string };
  const entries: SendMessageBatchRequestEntry[] = Array.from({ length: NOISY - 1 }, (_, i) => ({
    Id: String(i),
    MessageBody: JSON.stringify({ ...envelope, id: `noisy-${i + 1}-${run}` }),
    MessageAttributes: template.MessageAttributes,
  }));
  for (let i = 0; i < entries.length; i += 10) {
    await sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries.slice(i, i + 10) }));
  }
}

/** Positions (0-based, in completion order) of the quiet tenant's records among the first BOUND completed. */
async function quietPositionsWithinBound(fair: boolean): Promise<number[]> {
  const pipeline = await startTestPipeline(testConfig({ events: slowQueue(fair) }));
  try {
    expect(await pipeline.local.pauseConsumer('events')).toBe(true);
    const run = randomUUID().slice(0, 8);
    await enqueueNoisyBacklog(pipeline, run);
    for (let i = 0; i < QUIET; i += 1) {
      const quiet = { id: `quiet-${i}-${run}`, type: 'load.test', tenant: 'quiet' };
      expect((await pipeline.post('generic', quiet)).status).toBe(202);
    }
    pipeline.local.setConsumerEnabled('events', true);
    const done = () => pipeline.sideEffects().map((e) => e.id);
    const quietDone = () => done().filter((id) => id.startsWith('quiet-')).length;
    await pipeline.waitFor(
      () => done().length >= BOUND || quietDone() === QUIET,
      50_000,
      `${BOUND} records, or every quiet one`,
    );
    return done()
      .slice(0, BOUND)
      .flatMap((id, position) => (id.startsWith('quiet-') ? [position] : []));
  } finally {
    await pipeline.stop();
  }
}

describe('local mode: tenant fairness on a standard queue', () => {
  it('serves a quiet tenant beside a noisy backlog when the queue has tenants, and behind it when not', async () => {
    const fair = await quietPositionsWithinBound(true);
    const unfair = await quietPositionsWithinBound(false);
    // Fairness on: the 20 quiet records are done while at least three quarters of the 2,000 still wait.
    expect(fair).toHaveLength(QUIET);
    // Fairness off: none of them is done by then; they wait behind the backlog.
    expect(unfair).toEqual([]);
  }, 150_000);
});
