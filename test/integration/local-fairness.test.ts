/**
 * Tenant fairness in local mode, on the real emulators. Two queues of one local pipeline get the same load,
 * one with tenants (fair) and one without: a noisy tenant's backlog of 2,000 messages, then 20 webhooks of a
 * quiet tenant posted through the HTTP API, all while the consumers are paused; then both resume at once. The
 * consumer is slow on purpose (a sleep per record, one record at a time, two batches at once), so a backlog
 * takes far longer to drain than the bound below allows.
 *
 * The bound is stated in completed records rather than seconds, so a loaded machine (which slows every side
 * alike) does not change the verdict: with fairness every quiet record completes among the first quarter of
 * the backlog; without it, none does (they wait behind the backlog).
 *
 * While the backlog drains, `hookline status --local` (the real CLI) and the console's status are read: the
 * messages local mode has read ahead into its tenant lanes are waiting, as they would be on SQS, not in flight.
 * Then `hookline purge` deletes the rest, and the function runs none of what the lanes still held.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type SendMessageBatchRequestEntry,
} from '@aws-sdk/client-sqs';
import { Duration } from 'aws-cdk-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from '../../lib/cli/backend';
import { consoleOutput } from '../../lib/cli/output';
import { type QueueStatus, status } from '../../lib/cli/status';
import type { QueueConfig } from '../../lib/config';
import { localSqsClient } from '../../lib/local/clients';
import { FAIR_PARALLEL_RECEIVES } from '../../lib/local/event-source-mapping';
import { runHooklineInProcessOk } from '../helpers/local/cli';
import { recordingQueue, startTestPipeline, type TestPipeline, testConfig } from '../helpers/local/pipeline';

const NOISY = 2_000;
const QUIET = 20;
/** With fairness every quiet record completes before this many records of its queue have; without, none does. */
const BOUND = NOISY / 4;
const QUEUES = ['fair', 'plain'] as const;
/** Records the consumers of one queue may hold at once: two batches of 10 (local mode's default concurrency). */
const PROCESSING_AT_MOST = 2 * 10;
type QueueName = (typeof QUEUES)[number];

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
 * A queue's noisy backlog: one webhook through the real ingest, then copies of the message it enqueued (same
 * attributes, so the same tenant; each with its own envelope id), sent in batches straight to the queue.
 */
async function enqueueNoisyBacklog(pipeline: TestPipeline, queue: QueueName, run: string): Promise<void> {
  const noisy = (i: number) => ({ id: `${queue}-noisy-${i}-${run}`, type: `${queue}.load`, tenant: 'noisy' });
  expect((await pipeline.post('generic', noisy(0))).status).toBe(202);
  const sqs = localSqsClient(pipeline.local.emulators);
  const queueUrl = pipeline.local.topology.resources.queueUrls[queue] ?? '';
  const received = await sqs.send(
    new ReceiveMessageCommand({ QueueUrl: queueUrl, MessageAttributeNames: ['All'], VisibilityTimeout: 0 }),
  );
  const template = received.Messages?.[0];
  if (!template?.Body) throw new Error(`the ingested webhook is not in ${queue}`);
  const envelope = JSON.parse(template.Body) as { id: string };
  const entries: SendMessageBatchRequestEntry[] = Array.from({ length: NOISY - 1 }, (_, i) => ({
    Id: String(i),
    MessageBody: JSON.stringify({ ...envelope, id: noisy(i + 1).id }),
    MessageAttributes: template.MessageAttributes,
  }));
  const batches = Array.from({ length: Math.ceil(entries.length / 10) }, (_, b) =>
    entries.slice(b * 10, b * 10 + 10),
  );
  // 8 batches in flight; all of them are in the queue before the quiet tenant's first webhook.
  for (let i = 0; i < batches.length; i += 8) {
    await Promise.all(
      batches
        .slice(i, i + 8)
        .map((Entries) => sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries }))),
    );
  }
}

describe('local mode: tenant fairness on a standard queue', () => {
  let pipeline: TestPipeline;
  const runId = randomUUID().slice(0, 8);
  const stateDir = mkdtempSync(join(tmpdir(), 'hookline-fairness-state-'));
  /** The fair queue's row as `hookline status --local --json` and the console show it mid-drain. */
  let cliRow: QueueStatus | undefined;
  let consoleRow: QueueStatus | undefined;
  /** Record ids of one queue, in completion order. */
  const completed = (queue: QueueName) =>
    pipeline
      .sideEffects()
      .map((e) => e.id)
      .filter((id) => id.startsWith(`${queue}-`));
  const quietPositions = (queue: QueueName) =>
    completed(queue)
      .slice(0, BOUND)
      .flatMap((id, position) => (id.startsWith(`${queue}-quiet-`) ? [position] : []));

  beforeAll(async () => {
    pipeline = await startTestPipeline(
      testConfig(
        { fair: slowQueue(true), plain: slowQueue(false) },
        {
          routes: QUEUES.map((queue) => ({ source: 'generic', type: `${queue}.*`, queues: [queue] })),
        },
      ),
      { stateDir },
    );
    for (const queue of QUEUES) expect(await pipeline.local.pauseConsumer(queue)).toBe(true);
    for (const queue of QUEUES) {
      await enqueueNoisyBacklog(pipeline, queue, runId);
      for (let i = 0; i < QUIET; i += 1) {
        const quiet = { id: `${queue}-quiet-${i}-${runId}`, type: `${queue}.load`, tenant: 'quiet' };
        expect((await pipeline.post('generic', quiet)).status).toBe(202);
      }
    }
    for (const queue of QUEUES) pipeline.local.setConsumerEnabled(queue, true);
    await pipeline.waitFor(
      () => QUEUES.every((queue) => completed(queue).length >= BOUND),
      60_000,
      `${BOUND} records of each queue`,
    );
    const env = { ...process.env, HOOKLINE_STATE_DIR: stateDir, NO_COLOR: '1' };
    const { target, backend } = await connect({ local: true }, consoleOutput({ json: true }), env);
    consoleRow = (await status(backend, target)).queues.find((q) => q.queue === 'fair');
    const { stdout } = await runHooklineInProcessOk(stateDir, ['status', '--local', '--json']);
    cliRow = (JSON.parse(stdout) as { queues: QueueStatus[] }).queues.find((q) => q.queue === 'fair');
  }, 210_000);
  afterAll(async () => {
    await pipeline?.stop();
    rmSync(stateDir, { recursive: true, force: true });
  });

  it('serves a quiet tenant beside a noisy backlog when the queue has tenants', () => {
    // Every one of the 20 is done while at least three quarters of the 2,000 still wait.
    expect(quietPositions('fair')).toHaveLength(QUIET);
  });

  it('leaves a quiet tenant behind the backlog when the queue has none', () => {
    expect(quietPositions('plain')).toEqual([]);
  });

  it('counts the backlog waiting in the tenant lanes as visible, not in flight, in status --local and the console', () => {
    // Well over a quarter of the 2,000 still wait; only the batches being processed are in flight, and what the
    // reader's short polls have received but not yet put in the lanes (as a receive in transit is on SQS).
    const receivingAtMost = FAIR_PARALLEL_RECEIVES * 10;
    for (const row of [cliRow, consoleRow]) {
      expect(row?.inFlight).toBeLessThanOrEqual(PROCESSING_AT_MOST + receivingAtMost);
      expect(row?.visible).toBeGreaterThan(NOISY / 4);
    }
  });

  it('runs none of the read-ahead backlog after hookline purge deletes it', async () => {
    const before = completed('fair').length;
    expect(before).toBeLessThan(NOISY);
    await runHooklineInProcessOk(stateDir, ['purge', 'fair', '--local', '--yes']);
    const atPurge = completed('fair').length;
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    // Only batches already running when the queue was purged may finish; the lanes' messages are gone.
    expect(completed('fair').length - atPurge).toBeLessThanOrEqual(2 * PROCESSING_AT_MOST);
  }, 90_000);
});
