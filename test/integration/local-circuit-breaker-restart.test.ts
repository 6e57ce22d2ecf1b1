/**
 * A circuit breaker's saved circuit across restarts of local mode on a data directory, with the configuration
 * changed in between: the start lines say what the restored record will do (a paused consumer whose breaker no
 * longer probes is promised no probe; a probe that was running continues at concurrency 1 and is said so), and the
 * circuit then moves on as before. Local mode's clock is moved forward rather than waited for.
 */
import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration } from 'aws-cdk-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ResolvedConfig } from '../../lib/config';
import { runHooklineInProcess } from '../helpers/local/cli';
import { startTestPipeline, type TestPipeline, testConfig } from '../helpers/local/pipeline';

const BUGGY_CONSUMER = fileURLToPath(new URL('../helpers/local/buggy-consumer.ts', import.meta.url));

const withBreaker = (halfOpenAfter?: Duration) =>
  testConfig({
    events: {
      maxReceiveCount: 10,
      consumer: {
        entry: BUGGY_CONSUMER,
        timeout: Duration.seconds(5),
        batchSize: 2,
        retry: { base: Duration.seconds(1), factor: 1, max: Duration.seconds(1) },
        circuitBreaker: {
          failureRatio: 0.5,
          minimumRecords: 4,
          window: Duration.minutes(1),
          ...(halfOpenAfter ? { halfOpenAfter } : {}),
        },
      },
    },
  });

describe('local mode: a saved circuit across restarts and configuration changes', () => {
  let dataDir: string;
  let stateDir: string;
  let recordDir: string;
  let pipeline: TestPipeline | undefined;
  let aheadMs = 0;
  const start = async (config: ResolvedConfig) => {
    pipeline = await startTestPipeline(config, {
      dataDir,
      stateDir,
      recordDir,
      clock: () => Date.now() + aheadMs,
    });
    return pipeline;
  };
  const stop = async () => {
    await pipeline?.stop();
    pipeline = undefined;
  };
  const statusRow = async () => {
    const { stdout } = await runHooklineInProcess(stateDir, ['status', '--local', '--json']);
    return JSON.parse(stdout).queues[0];
  };
  const infoLines = (p: TestPipeline) =>
    p.output.map((line) => JSON.parse(line) as { message?: string }).map((line) => line.message ?? '');
  const breakerLines = (p: TestPipeline) =>
    p.output
      .map((line) => JSON.parse(line) as { event: string; alarm?: string; circuit?: string })
      .filter((line) => line.event === 'alarm' && line.alarm === 'circuit-breaker');
  const clockTo = (iso: string) => {
    aheadMs = Date.parse(iso) + 1_000 - Date.now();
  };

  beforeAll(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'hookline-breaker-restart-data-'));
    stateDir = mkdtempSync(join(tmpdir(), 'hookline-breaker-restart-state-'));
    recordDir = mkdtempSync(join(tmpdir(), 'hookline-breaker-restart-record-'));
  });
  afterAll(async () => {
    await stop();
    for (const dir of [dataDir, stateDir, recordDir]) rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('promises no probe once halfOpenAfter is removed, and says a running probe continues after a restart', async () => {
    const probing = withBreaker(Duration.minutes(1));
    let p = await start(probing);
    const bug = `${p.recordFile}.bug`;
    writeFileSync(bug, '');
    const ids = Array.from({ length: 6 }, (_, i) => `restart-${i}-${process.pid}`);
    for (const id of ids) expect((await p.post('generic', { id, type: 'test.fragile' })).status).toBe(202);
    await p.waitFor(() => breakerLines(p).length === 1, 60_000, 'the breaker to trip');
    const opened = (await statusRow()).circuitBreaker.circuit;
    await stop();

    // Without halfOpenAfter the breaker recovers manually: the start line must not promise the saved probe.
    p = await start(withBreaker());
    const paused = infoLines(p).find((line) => line.startsWith('consumer events is paused'));
    expect(paused).toMatch(
      /^consumer events is paused \(paused by circuit breaker at \S+: \d+ of \d+ records/,
    );
    expect(paused).not.toContain('next probe');
    expect((await statusRow()).circuitBreaker).not.toHaveProperty('circuit');
    await stop();

    // With it again, the probe runs; a restart during it continues the probe, and says so.
    p = await start(probing);
    unlinkSync(bug);
    clockTo(opened.probeAt);
    await p.waitFor(() => breakerLines(p).length === 1, 30_000, 'the probe');
    expect(breakerLines(p)[0]).toMatchObject({ circuit: 'half-open' });
    await stop();
    p = await start(probing);
    expect(infoLines(p)).toContainEqual(
      expect.stringMatching(
        /^consumer events is half-open since \S+ \(probe concurrency 1; closes at ~\S+ if nothing fails\) \(saved in .*paused-consumers\.json\): to run it at full concurrency now, resume it with hookline resume events --local$/,
      ),
    );
    const halfOpen = await statusRow();
    expect(halfOpen).toMatchObject({
      consumer: 'Enabled',
      circuitBreaker: { circuit: { state: 'half-open' } },
    });
    clockTo(halfOpen.circuitBreaker.circuit.closesAt);
    await p.waitFor(() => breakerLines(p).some((l) => l.circuit === 'closed'), 30_000, 'the close');
    await p.waitFor(() => p.sideEffects().length >= ids.length, 60_000, 'every record processed');
    expect(p.events.filter((e) => e.event === 'dead-lettered')).toEqual([]);
  }, 240_000);
});
