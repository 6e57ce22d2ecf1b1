/**
 * A consumer's circuit breaker with `halfOpenAfter` in local mode, end to end with the real CLI on a data directory:
 * a failing handler trips it; after the cool-down a probe runs the consumer at concurrency 1 and, still failing,
 * re-opens it for a doubled cool-down (across a restart, which keeps the probe's time); once the handler is fixed the
 * next probe closes the circuit and every message is processed, each once, none dead-lettered. An operator's pause
 * then wins over the probe. Local mode's clock is moved forward rather than waited for.
 */
import { mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration } from 'aws-cdk-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CIRCUIT_TICK_MS } from '../../lib/local/breaker-circuits';
import { runHooklineInProcess } from '../helpers/local/cli';
import { startTestPipeline, type TestPipeline, testConfig } from '../helpers/local/pipeline';

const BUGGY_CONSUMER = fileURLToPath(new URL('../helpers/local/buggy-consumer.ts', import.meta.url));
const RECORDS = 12;

const config = testConfig({
  events: {
    // Room for the attempts the trips and the failing probe spend: nothing may reach the DLQ.
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
        halfOpenAfter: Duration.minutes(1),
      },
    },
  },
});

interface AlarmLine {
  event: string;
  alarm?: string;
  state?: string;
  circuit?: string;
  message?: string;
}

describe('local mode: a circuit breaker that recovers on its own (halfOpenAfter)', () => {
  let dataDir: string;
  let stateDir: string;
  let recordDir: string;
  let pipeline: TestPipeline | undefined;
  /** How far local mode's clock runs ahead of the wall clock. */
  let aheadMs = 0;
  const start = async () => {
    pipeline = await startTestPipeline(config, {
      dataDir,
      stateDir,
      recordDir,
      clock: () => Date.now() + aheadMs,
    });
    return pipeline;
  };

  /** The real CLI program, in this process, finding local mode through its state file. */
  const hookline = (...args: string[]) => runHooklineInProcess(stateDir, args);
  const statusRow = async () => JSON.parse((await hookline('status', '--local', '--json')).stdout).queues[0];
  const breakerLines = (p: TestPipeline) =>
    p.output
      .map((line) => JSON.parse(line) as AlarmLine)
      .filter((line) => line.event === 'alarm' && line.alarm === 'circuit-breaker');
  /** Moves local mode's clock to `iso` (and a little past it). */
  const clockTo = (iso: string) => {
    aheadMs = Date.parse(iso) + 1_000 - Date.now();
  };

  beforeAll(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'hookline-half-open-data-'));
    stateDir = mkdtempSync(join(tmpdir(), 'hookline-half-open-state-'));
    recordDir = mkdtempSync(join(tmpdir(), 'hookline-half-open-record-'));
  });
  afterAll(async () => {
    await pipeline?.stop();
    for (const dir of [dataDir, stateDir, recordDir]) rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('probes at concurrency 1, re-opens while the handler fails, closes once it is fixed, each message processed once', async () => {
    let p = await start();
    const bug = `${p.recordFile}.bug`;
    writeFileSync(bug, '');
    const ids = Array.from({ length: RECORDS }, (_, i) => `half-open-${i}-${process.pid}`);
    for (const id of ids) expect((await p.post('generic', { id, type: 'test.fragile' })).status).toBe(202);

    await p.waitFor(() => breakerLines(p).length === 1, 60_000, 'the breaker to trip');
    expect(breakerLines(p)[0]).toMatchObject({ state: 'ALARM', circuit: 'open' });
    expect(breakerLines(p)[0]?.message).toMatch(
      /^events: consumer paused by circuit breaker at \S+: \d+ of \d+ records failed in 1 minute; next probe at \S+; .* The probe then runs it at concurrency 1 for one window; .*hookline resume events --local$/,
    );
    const opened = await statusRow();
    expect(opened).toMatchObject({
      consumer: 'Disabled',
      circuitBreaker: { circuit: { state: 'open', opens: 1 } },
    });
    const firstProbeAt: string = opened.circuitBreaker.circuit.probeAt;
    expect(Date.parse(firstProbeAt) - Date.parse(opened.circuitBreaker.circuit.since)).toBe(60_000);

    // A restart keeps the open circuit and its probe time.
    await p.stop();
    pipeline = undefined;
    p = await start();
    expect((await statusRow()).circuitBreaker).toEqual(opened.circuitBreaker);

    // The cool-down passes: the probe runs, still fails, and the circuit opens again for twice as long.
    clockTo(firstProbeAt);
    await p.waitFor(() => breakerLines(p).length === 2, 30_000, 'the first probe');
    expect(breakerLines(p)[0]).toMatchObject({ state: 'OK', circuit: 'half-open' });
    expect(breakerLines(p)[0]?.message).toMatch(
      /^events: consumer half-open since \S+ \(probe concurrency 1; closes at ~\S+ if nothing fails\)/,
    );
    expect(breakerLines(p)[1]).toMatchObject({ state: 'ALARM', circuit: 'open' });
    const reopened = (await statusRow()).circuitBreaker.circuit;
    expect(reopened).toMatchObject({ state: 'open', opens: 2 });
    expect(Date.parse(reopened.probeAt) - Date.parse(reopened.since)).toBe(120_000);
    expect((await hookline('status', 'events', '--local')).stdout).toMatch(
      /events: consumer paused by circuit breaker at .*; next probe at \S+, open 2 times in a row; resume with: hookline resume events --local/,
    );

    // Fixed: the next probe processes the backlog at concurrency 1, then closes the circuit after one window.
    unlinkSync(bug);
    clockTo(reopened.probeAt);
    await p.waitFor(() => breakerLines(p).length === 3, 30_000, 'the second probe');
    const probing = await hookline('status', 'events', '--local');
    expect(probing.stdout).toMatch(
      /events: consumer half-open since \S+ \(probe concurrency 1; closes at ~\S+ if nothing fails\); resume with: hookline resume events --local/,
    );
    const halfOpen = (await statusRow()).circuitBreaker.circuit;
    expect(halfOpen).toMatchObject({ state: 'half-open', probeConcurrency: 1 });
    clockTo(halfOpen.closesAt);
    await p.waitFor(() => breakerLines(p).length === 4, 30_000, 'the circuit to close');
    expect(breakerLines(p)[3]).toMatchObject({ state: 'OK', circuit: 'closed' });
    await p.waitFor(() => p.sideEffects().length >= RECORDS, 60_000, 'every record processed');
    await p.settled('events', 30_000);
    expect(
      p
        .sideEffects()
        .map((e) => e.id)
        .sort(),
    ).toEqual([...ids].sort());
    const closed = await statusRow();
    expect(closed).toMatchObject({ consumer: 'Enabled', deadLettered: 0 });
    expect(closed.circuitBreaker).toBeUndefined();
    expect(p.events.filter((e) => e.event === 'dead-lettered')).toEqual([]);
    expect(JSON.parse(readFileSync(join(dataDir, 'paused-consumers.json'), 'utf8'))).toEqual({ paused: [] });
  }, 180_000);

  it("runs no probe after an operator's pause: the consumer stays paused until the operator resumes it", async () => {
    const p = pipeline ?? (await start());
    const bug = `${p.recordFile}.bug`;
    writeFileSync(bug, '');
    const before = breakerLines(p).length;
    const ids = Array.from({ length: 6 }, (_, i) => `operator-${i}-${process.pid}`);
    for (const id of ids) expect((await p.post('generic', { id, type: 'test.fragile' })).status).toBe(202);
    await p.waitFor(() => breakerLines(p).length === before + 1, 60_000, 'the breaker to trip again');
    const tripped = (await statusRow()).circuitBreaker.circuit;
    // A trip after the circuit closed is a first open again: the cool-down is back to halfOpenAfter.
    expect(tripped).toMatchObject({ state: 'open', opens: 1 });

    const paused = await hookline('pause', 'events', '--local');
    expect(paused.code).toBe(0);
    expect(paused.stdout).toMatch(
      /^events consumer: Disabled\nevents: paused by you after it was paused by circuit breaker at .*; no probe resumes it\n$/,
    );
    // The pause ends the breaker's record at once: its OK line and the status say so before any tick of the circuits.
    expect(breakerLines(p).slice(before + 1)).toEqual([
      expect.objectContaining({
        state: 'OK',
        circuit: 'closed',
        message: expect.stringMatching(/paused by an operator/),
      }),
    ]);
    expect((await statusRow()).circuitBreaker).toBeUndefined();
    // What must not happen, a probe, can only be waited out: the clock is put past its time for several of the
    // circuits' ticks, after which the consumer is still paused and the breaker has said nothing more.
    clockTo(tripped.probeAt);
    aheadMs += 10 * 60_000;
    await new Promise((r) => setTimeout(r, 6 * CIRCUIT_TICK_MS));
    const row = await statusRow();
    expect(row.consumer).toBe('Disabled');
    expect(row.circuitBreaker).toBeUndefined();
    expect(breakerLines(p)).toHaveLength(before + 2);

    unlinkSync(bug);
    expect((await hookline('resume', 'events', '--local')).stdout).toBe('events consumer: Enabled\n');
    await p.waitFor(
      () => ids.every((id) => p.sideEffects().some((e) => e.id === id)),
      60_000,
      'the operator-resumed consumer to process the rest',
    );
    await p.settled('events', 30_000);
    const counts = new Map<string, number>();
    for (const { id } of p.sideEffects()) counts.set(id, (counts.get(id) ?? 0) + 1);
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
    expect((await statusRow()).deadLettered).toBe(0);
  }, 120_000);
});
