/**
 * A consumer's circuit breaker in local mode when the consumer logs at WARN (`POWERTOOLS_LOG_LEVEL` in its
 * `environment`, as the README's log levels suggest to cut CloudWatch Logs cost): its `processed` lines are not
 * written then, so the breaker counts what the deployed alarm counts, the metrics each batch publishes, which do not
 * depend on the level. Records that ended well keep diluting the failed share, and failures still trip it.
 */
import { Duration } from 'aws-cdk-lib';
import { afterAll, describe, expect, it } from 'vitest';
import { recordingQueue, startTestPipeline, type TestPipeline, testConfig } from '../helpers/local/pipeline';

const config = testConfig({
  events: recordingQueue(
    { maxReceiveCount: 1 },
    {
      environment: { POWERTOOLS_LOG_LEVEL: 'WARN' },
      circuitBreaker: { failureRatio: 0.5, minimumRecords: 5, window: Duration.minutes(1) },
    },
  ),
});

describe('local mode: a circuit breaker on a consumer logging at WARN', () => {
  let pipeline: TestPipeline | undefined;
  afterAll(async () => {
    await pipeline?.stop();
  }, 60_000);

  it('counts the records that ended well, which log no line at WARN, and still trips when most fail', async () => {
    const p = await startTestPipeline(config);
    pipeline = p;
    const trips = () => p.output.filter((line) => line.includes('"alarm":"circuit-breaker"'));
    const deadLetters = () => p.events.filter((e) => e.event === 'dead-lettered').length;
    const post = async (prefix: string, type: string, count: number) => {
      for (let i = 0; i < count; i++) {
        const id = `${prefix}-${i}-${process.pid}`;
        expect((await p.post('generic', { id, type })).status).toBe(202);
      }
    };

    await post('fine', 'test.fine', 20);
    await p.waitFor(() => p.sideEffects().length === 20, 30_000, '20 records processed');
    // 6 failures of 26 records: under the ratio of 0.5, as the deployed alarm computes it.
    await post('failing', 'test.poison', 6);
    await p.waitFor(() => deadLetters() === 6, 30_000, '6 dead letters');
    await p.settled('events', 10_000);
    expect(trips()).toEqual([]);

    // 26 failures of 46: over it.
    await post('more', 'test.poison', 20);
    await p.waitFor(() => trips().length > 0, 30_000, 'the breaker to trip');
    expect(JSON.parse(trips()[0] ?? '{}').message).toMatch(
      /^events: consumer paused by circuit breaker at \S+: \d+ of \d+ records failed in 1 minute;/,
    );
    const [, failed, ended] =
      /: (\d+) of (\d+) records failed/.exec(JSON.parse(trips()[0] ?? '{}').message) ?? [];
    expect(Number(ended) - Number(failed)).toBe(20);
  }, 120_000);
});
