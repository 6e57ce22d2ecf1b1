/**
 * A consumer's circuit breaker in local mode, end to end with the real CLI on a data directory: a handler that
 * fails every record trips it, the rest of the backlog waits in the queue (nothing dead-lettered by the pause),
 * `hookline status --local --json` says the circuit breaker paused it, a restart keeps it paused, and once the
 * handler is fixed `hookline resume --local` lets the consumer process the rest.
 */
import { mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration } from 'aws-cdk-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeBreakerTrip } from '../../lambda/shared/circuit-breaker';
import { queueDepth } from '../../lib/cli/dead-letters';
import { localSqsClient } from '../../lib/local/clients';
import { runHooklineInProcess } from '../helpers/local/cli';
import { startTestPipeline, type TestPipeline, testConfig } from '../helpers/local/pipeline';
import { waitFor } from '../helpers/wait-for';

const BUGGY_CONSUMER = fileURLToPath(new URL('../helpers/local/buggy-consumer.ts', import.meta.url));
const RECORDS = 30;
const MINIMUM_RECORDS = 5;

const config = testConfig({
  events: {
    maxReceiveCount: 3,
    consumer: {
      entry: BUGGY_CONSUMER,
      timeout: Duration.seconds(5),
      batchSize: 2,
      retry: { base: Duration.seconds(1), factor: 1, max: Duration.seconds(1) },
      circuitBreaker: { failureRatio: 0.5, minimumRecords: MINIMUM_RECORDS, window: Duration.minutes(1) },
    },
  },
});

describe('local mode: a circuit breaker on a consumer whose every record fails', () => {
  let dataDir: string;
  let stateDir: string;
  let recordDir: string;
  let pipeline: TestPipeline | undefined;
  const start = async () => {
    pipeline = await startTestPipeline(config, { dataDir, stateDir, recordDir });
    return pipeline;
  };

  /** The real CLI program, in this process, finding local mode through its state file. */
  const hookline = (...args: string[]) => runHooklineInProcess(stateDir, args);

  const depthOf = async (p: TestPipeline, url: (q: { url: string; deadLetterUrl: string }) => string) => {
    const queue = p.local.topology.queues.events;
    if (!queue) throw new Error('no queue events');
    const sqs = localSqsClient(p.local.emulators);
    try {
      return await queueDepth(sqs, url(queue));
    } finally {
      sqs.destroy();
    }
  };

  beforeAll(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'hookline-breaker-data-'));
    stateDir = mkdtempSync(join(tmpdir(), 'hookline-breaker-state-'));
    recordDir = mkdtempSync(join(tmpdir(), 'hookline-breaker-record-'));
  });
  afterAll(async () => {
    await pipeline?.stop();
    for (const dir of [dataDir, stateDir, recordDir]) rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('trips, keeps the backlog in the queue across a restart, and processes it after resume', async () => {
    let p = await start();
    const bug = `${p.recordFile}.bug`;
    writeFileSync(bug, '');
    const ids = Array.from({ length: RECORDS }, (_, i) => `breaker-${i}-${process.pid}`);
    for (const id of ids) expect((await p.post('generic', { id, type: 'test.fragile' })).status).toBe(202);

    // Tripped once, saying so as a JSON alarm line that names the command to resume.
    const alarmLines = () =>
      (p.output ?? [])
        .map((line) => JSON.parse(line) as { event: string; alarm?: string; message?: string })
        .filter((line) => line.event === 'alarm' && line.alarm === 'circuit-breaker');
    await waitFor(() => alarmLines().length > 0, 60_000, 'the breaker to trip');
    expect(alarmLines()[0]?.message).toMatch(
      /^events: consumer paused by circuit breaker at \S+: \d+ of \d+ records failed in 1 minute; .*hookline resume events --local$/,
    );

    const tripped = JSON.parse((await hookline('status', '--local', '--json')).stdout).queues[0];
    expect(tripped).toMatchObject({
      queue: 'events',
      consumer: 'Disabled',
      circuitBreaker: { windowMinutes: 1 },
    });
    expect(tripped.circuitBreaker.ended).toBeGreaterThanOrEqual(MINIMUM_RECORDS);
    expect(tripped.circuitBreaker.failed / tripped.circuitBreaker.ended).toBeGreaterThanOrEqual(0.5);
    // Every record is still on the queue once the retried ones are visible again; none spent its attempts.
    await waitFor(
      async () => (await depthOf(p, (q) => q.url)).visible === RECORDS,
      30_000,
      'every record visible on the queue',
    );
    expect((await depthOf(p, (q) => q.deadLetterUrl)).visible).toBe(0);
    expect(p.events.filter((e) => e.event === 'processed' || e.event === 'dead-lettered')).toEqual([]);
    // It stays paused: nothing more is delivered.
    const outcomes = p.events.length;
    await new Promise((r) => setTimeout(r, 2_500));
    expect(p.events.slice(outcomes).filter((e) => e.queue === 'events')).toEqual([]);
    expect(alarmLines()).toHaveLength(1);
    const human = await hookline('status', 'events', '--local');
    expect(human.stdout).toMatch(
      /events: consumer paused by circuit breaker at .*records failed in 1 minute; resume with: hookline resume events --local/,
    );

    await p.stop();
    pipeline = undefined;
    p = await start();
    const restarted = JSON.parse((await hookline('status', '--local', '--json')).stdout).queues[0];
    expect(restarted).toMatchObject({ consumer: 'Disabled', circuitBreaker: tripped.circuitBreaker });
    expect(p.output.join('\n')).toMatch(/consumer events is paused \(paused by circuit breaker at /);

    unlinkSync(bug);
    const resumed = await hookline('resume', 'events', '--local');
    expect(resumed).toMatchObject({ code: 0 });
    expect(resumed.stdout).toBe(
      `events consumer: Enabled\nevents: resumed after it was ${describeBreakerTrip(tripped.circuitBreaker)}\n`,
    );
    await waitFor(
      () => new Set(p.sideEffects().map((e) => e.id)).size === RECORDS,
      60_000,
      'every record processed after resume',
    );
    // The breaker's alarm line returns to OK on the resume, as the README promises of every local alarm.
    expect(
      p.output
        .map(
          (line) => JSON.parse(line) as { event: string; alarm?: string; state?: string; message?: string },
        )
        .filter((line) => line.event === 'alarm' && line.alarm === 'circuit-breaker'),
    ).toEqual([
      {
        event: 'alarm',
        queue: 'events',
        alarm: 'circuit-breaker',
        state: 'OK',
        message: `events: consumer resumed after it was ${describeBreakerTrip(tripped.circuitBreaker)}; its circuit breaker counts afresh`,
      },
    ]);
    const after = JSON.parse((await hookline('status', '--local', '--json')).stdout).queues[0];
    expect(after).toMatchObject({ consumer: 'Enabled', deadLettered: 0 });
    expect(after.circuitBreaker).toBeUndefined();
    expect(JSON.parse(readFileSync(join(dataDir, 'paused-consumers.json'), 'utf8'))).toEqual({ paused: [] });
  }, 240_000);
});
