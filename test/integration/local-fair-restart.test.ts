/**
 * Restarting local mode on a data directory while a fair consumer holds a read-ahead backlog, on the real
 * emulators: every stop hands the tenant lanes back, and restarting more times than the queue's maxReceiveCount
 * dead-letters none of it. Afterwards `hookline status --local` and `hookline failed list` (the real CLI) show
 * no dead letters, and every event runs exactly once.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Duration } from 'aws-cdk-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queueDepth } from '../../lib/cli/dead-letters';
import type { QueueStatus } from '../../lib/cli/status';
import { localSqsClient } from '../../lib/local/clients';
import { runHooklineInProcessOk } from '../helpers/local/cli';
import { recordingQueue, startTestPipeline, type TestPipeline, testConfig } from '../helpers/local/pipeline';

const EVENTS = 240;
const BATCH_SIZE = 10;
/** More restarts than the queue's maxReceiveCount (3 in recordingQueue). */
const RESTARTS = 4;

describe('local mode: restarting on a data directory while a fair consumer holds a read-ahead backlog', () => {
  const runId = randomUUID().slice(0, 8);
  const dataDir = mkdtempSync(join(tmpdir(), 'hookline-fair-restart-data-'));
  const recordDir = mkdtempSync(join(tmpdir(), 'hookline-fair-restart-records-'));
  const stateDir = mkdtempSync(join(tmpdir(), 'hookline-fair-restart-state-'));
  const hookline = async (...args: string[]) => (await runHooklineInProcessOk(stateDir, args)).stdout;
  const config = testConfig({
    fair: recordingQueue(
      { tenants: { generic: { path: 'tenant' } } },
      {
        timeout: Duration.seconds(30),
        batchSize: BATCH_SIZE,
        parallelism: 1,
        idempotency: { enabled: false },
        environment: { HOOKLINE_TEST_RECORD_DELAY_MS: '20' },
      },
    ),
  });
  const start = () => startTestPipeline(config, { dataDir, recordDir, stateDir });
  /** The emulator's own counts of the queue and its DLQ (read-ahead messages count in flight there). */
  const emulatorDepths = async (pipeline: TestPipeline) => {
    const queue = Object.values(pipeline.local.topology.queues).find((q) => q.name === 'fair');
    const sqs = localSqsClient(pipeline.local.emulators);
    try {
      return {
        queue: await queueDepth(sqs, queue?.url ?? ''),
        deadLettered: (await queueDepth(sqs, queue?.deadLetterUrl ?? '')).visible,
      };
    } finally {
      sqs.destroy();
    }
  };
  let last: TestPipeline | undefined;
  const completed = () => (last?.sideEffects() ?? []).map((e) => e.id);
  /** Waits until `predicate` holds or `ms` pass; the assertions below say what was missing. */
  const settle = async (predicate: () => boolean, ms: number) => {
    const until = Date.now() + ms;
    while (!predicate() && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 50));
  };
  /** Polls the emulator until every event of the backlog not yet run is held (none is left unread), or `ms` pass. */
  const readAheadWhole = async (pipeline: TestPipeline, ms: number) => {
    const until = Date.now() + ms;
    let depths = await emulatorDepths(pipeline);
    while (depths.queue.visible > 0 && Date.now() < until) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      depths = await emulatorDepths(pipeline);
    }
    return depths;
  };
  let restartsWithReadAhead = 0;
  /** Events left unread on the queue at each stop: each one of them was not read ahead at that stop. */
  const unreadAtEachStop: number[] = [];
  let completedBeforeLastStart = 0;
  const deadLetteredAfterEachRestart: number[] = [];
  let statusRow: QueueStatus | undefined;
  let failedList = '';

  beforeAll(async () => {
    const loading = await start();
    try {
      expect(await loading.local.pauseConsumer('fair')).toBe(true);
      for (let i = 0; i < EVENTS; i += 20) {
        const posts = Array.from({ length: 20 }, (_, n) =>
          loading.post('generic', { id: `e${i + n}-${runId}`, type: 'load', tenant: `t${(i + n) % 2}` }),
        );
        for (const answer of await Promise.all(posts)) expect(answer.status).toBe(202);
      }
    } finally {
      await loading.stop();
    }
    for (let restart = 0; restart < RESTARTS; restart += 1) {
      const pipeline = await start();
      last = pipeline;
      try {
        deadLetteredAfterEachRestart.push((await emulatorDepths(pipeline)).deadLettered);
        const before = completed().length;
        pipeline.local.setConsumerEnabled('fair', true);
        // A batch ran, and the reader has read the rest of the backlog ahead into the lanes; then local mode stops.
        await settle(() => completed().length > before, 20_000);
        const { queue } = await readAheadWhole(pipeline, 20_000);
        unreadAtEachStop.push(queue.visible);
        // More held than one batch in flight: the rest waits in the lanes, read ahead.
        if (queue.inFlight > BATCH_SIZE) restartsWithReadAhead += 1;
      } finally {
        await pipeline.stop();
      }
    }
    completedBeforeLastStart = completed().length;
    last = await start();
    deadLetteredAfterEachRestart.push((await emulatorDepths(last)).deadLettered);
    last.local.setConsumerEnabled('fair', true);
    await settle(() => completed().length >= EVENTS, 90_000);
    await new Promise((resolve) => setTimeout(resolve, 1_000)); // nothing runs twice after the last one
    const status = JSON.parse(await hookline('status', '--local', '--json')) as { queues: QueueStatus[] };
    statusRow = status.queues.find((q) => q.queue === 'fair');
    failedList = await hookline('failed', 'list', 'fair', '--local', '--json');
  }, 300_000);
  afterAll(async () => {
    await last?.stop();
    for (const dir of [dataDir, recordDir, stateDir]) rmSync(dir, { recursive: true, force: true });
  });

  it('stops with the backlog read ahead every time, and dead-letters none of it on the restarts', () => {
    expect(restartsWithReadAhead).toBe(RESTARTS);
    // Nothing was left unread at any stop, so every event that had not run by the last start was read ahead at each
    // of the stops and handed back: more receives than maxReceiveCount, had a stop not taken them back. How many
    // ran before the last start depends on how fast this machine ran the consumer between a batch and the stop.
    expect(unreadAtEachStop).toEqual(Array.from({ length: RESTARTS }, () => 0));
    expect(completedBeforeLastStart).toBeLessThan(EVENTS);
    expect(deadLetteredAfterEachRestart).toEqual(Array.from({ length: RESTARTS + 1 }, () => 0));
  });

  it('shows no failures in hookline status and hookline failed list after more restarts than maxReceiveCount', () => {
    expect(statusRow).toMatchObject({ visible: 0, inFlight: 0, deadLettered: 0 });
    expect(JSON.parse(failedList)).toMatchObject({ queue: 'fair', messages: [] });
  });

  it('runs every event exactly once, each on its first attempt', () => {
    const effects = last?.sideEffects() ?? [];
    expect(effects).toHaveLength(EVENTS);
    expect(new Set(effects.map((e) => e.id)).size).toBe(EVENTS);
    expect(effects.filter((e) => e.attempt !== 1)).toEqual([]);
  });
});
