/**
 * Pausing a fair consumer in local mode, on the real emulators: the backlog its reader has read ahead into the
 * tenant lanes stays held through a pause, so pausing and resuming more times than the queue's maxReceiveCount
 * dead-letters none of it. While paused, `hookline status --local` (the real CLI) counts every waiting message
 * once, as visible (its quiet tenants too), and `hookline failed list` shows nothing; after resuming every event
 * runs exactly once.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Duration } from 'aws-cdk-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { QueueStatus } from '../../lib/cli/status';
import { runHooklineInProcessOk } from '../helpers/local/cli';
import { recordingQueue, startTestPipeline, type TestPipeline, testConfig } from '../helpers/local/pipeline';

const EVENTS = 400;
/** More pause/resume cycles than the queue's maxReceiveCount (3 in recordingQueue). */
const CYCLES = 6;

describe('local mode: pausing a fair consumer with a read-ahead backlog', () => {
  let pipeline: TestPipeline;
  const runId = randomUUID().slice(0, 8);
  const stateDir = mkdtempSync(join(tmpdir(), 'hookline-fair-pause-state-'));
  const hookline = async (...args: string[]) => (await runHooklineInProcessOk(stateDir, args)).stdout;
  const completed = () => pipeline.sideEffects().map((e) => e.id);
  /** Waits until `predicate` holds or `ms` pass; the assertions below say what was missing. */
  const settle = async (predicate: () => boolean, ms: number) => {
    const until = Date.now() + ms;
    while (!predicate() && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 50));
  };
  let cyclesRun = 0;
  let pausedRow: QueueStatus | undefined;
  let completedWhilePaused = 0;
  let failedList = '';

  beforeAll(async () => {
    const queue = recordingQueue(
      { tenants: { generic: { path: 'tenant' } } },
      {
        timeout: Duration.seconds(30),
        batchSize: 10,
        parallelism: 1,
        idempotency: { enabled: false },
        environment: { HOOKLINE_TEST_RECORD_DELAY_MS: '20' },
      },
    );
    pipeline = await startTestPipeline(testConfig({ fair: queue }), { stateDir });
    expect(await pipeline.local.pauseConsumer('fair')).toBe(true);
    for (let i = 0; i < EVENTS; i += 20) {
      const posts = Array.from({ length: 20 }, (_, n) =>
        pipeline.post('generic', { id: `e${i + n}-${runId}`, type: 'load', tenant: `t${(i + n) % 2}` }),
      );
      for (const answer of await Promise.all(posts)) expect(answer.status).toBe(202);
    }
    for (let cycle = 0; cycle < CYCLES; cycle += 1) {
      const before = completed().length;
      pipeline.local.setConsumerEnabled('fair', true);
      // A batch ran, so the reader has read the backlog ahead into the lanes; then the consumer is paused.
      await settle(() => completed().length > before, 15_000);
      expect(await pipeline.local.pauseConsumer('fair')).toBe(true);
      if (completed().length === before) break; // nothing left to run: the backlog is gone
      cyclesRun += 1;
    }
    completedWhilePaused = completed().length;
    const status = JSON.parse(await hookline('status', '--local', '--json')) as { queues: QueueStatus[] };
    pausedRow = status.queues.find((q) => q.queue === 'fair');
    failedList = await hookline('failed', 'list', 'fair', '--local', '--json');
    pipeline.local.setConsumerEnabled('fair', true);
    await settle(() => completed().length >= EVENTS, 90_000);
    await new Promise((resolve) => setTimeout(resolve, 1_000)); // nothing runs twice after the last one
  }, 240_000);
  afterAll(async () => {
    await pipeline?.stop();
    rmSync(stateDir, { recursive: true, force: true });
  });

  it('holds the backlog through the pauses: status counts each waiting event once, none dead-lettered', () => {
    expect(cyclesRun).toBe(CYCLES);
    expect(completedWhilePaused).toBeLessThan(EVENTS / 2);
    expect(pausedRow).toMatchObject({
      consumer: 'Disabled',
      visible: EVENTS - completedWhilePaused,
      inFlight: 0,
      deadLettered: 0,
      // Held in the lanes, nothing being processed: every tenant is quiet, its waiting messages visible.
      quietTenants: { visible: EVENTS - completedWhilePaused },
    });
  });

  it('shows nothing in hookline failed list after more pauses than maxReceiveCount', () => {
    expect(JSON.parse(failedList)).toMatchObject({ queue: 'fair', messages: [] });
  });

  it('runs every event exactly once after resuming', () => {
    const ids = completed();
    expect(ids).toHaveLength(EVENTS);
    expect(new Set(ids).size).toBe(EVENTS);
  });
});
