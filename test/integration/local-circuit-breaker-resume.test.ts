/**
 * A consumer's circuit breaker in local mode after an operator's pause: the failures an operator paused the
 * consumer to fix are forgotten on resume, so the fixed consumer's first records do not trip the breaker on the
 * stale share of the window.
 */
import { unlinkSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Duration } from 'aws-cdk-lib';
import { afterAll, describe, expect, it } from 'vitest';
import { startTestPipeline, type TestPipeline, testConfig } from '../helpers/local/pipeline';

const BUGGY_CONSUMER = fileURLToPath(new URL('../helpers/local/buggy-consumer.ts', import.meta.url));

// One failing event ends three times (retried, retried, dead-lettered): three failures, one short of the minimum.
const config = testConfig({
  events: {
    maxReceiveCount: 3,
    consumer: {
      entry: BUGGY_CONSUMER,
      timeout: Duration.seconds(5),
      retry: { base: Duration.seconds(1), factor: 1, max: Duration.seconds(1) },
      circuitBreaker: { failureRatio: 0.5, minimumRecords: 4, window: Duration.minutes(5) },
    },
  },
});

describe('local mode: a circuit breaker after an operator paused and resumed the consumer', () => {
  let pipeline: TestPipeline | undefined;
  afterAll(async () => {
    await pipeline?.stop();
  }, 60_000);

  it('judges the resumed consumer on its records from the resume on, not on the failures before the pause', async () => {
    const p = await startTestPipeline(config);
    pipeline = p;
    const bug = `${p.recordFile}.bug`;
    writeFileSync(bug, '');
    const failing = `breaker-failing-${process.pid}`;
    expect((await p.post('generic', { id: failing, type: 'test.fragile' })).status).toBe(202);
    await p.waitFor(
      () => p.events.some((e) => e.event === 'dead-lettered' && e.id === failing),
      30_000,
      'the failing event to spend its attempts',
    );

    // The operator pauses, fixes the handler, resumes: 3 failures and then 1 success would be 3 of 4 failed.
    await p.local.pauseConsumer('events');
    unlinkSync(bug);
    expect(p.local.setConsumerEnabled('events', true)).toBe('Enabled');
    const fixed = `breaker-fixed-${process.pid}`;
    expect((await p.post('generic', { id: fixed, type: 'test.fragile' })).status).toBe(202);
    await p.waitFor(
      () => p.events.some((e) => e.event === 'processed' && e.id === fixed),
      30_000,
      'the fixed consumer to process the next event',
    );

    const alarms = p.output.filter((line) => line.includes('"alarm":"circuit-breaker"'));
    expect(alarms).toEqual([]);
    expect(p.local.status().consumers.events?.state).toBe('Enabled');
  }, 120_000);
});
