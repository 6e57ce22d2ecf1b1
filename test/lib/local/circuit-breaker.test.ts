import { describe, expect, it } from 'vitest';
import type { BreakerTrip } from '../../../lambda/shared/circuit-breaker';
import {
  BREAKER_METRICS,
  breakerTrips,
  countOutcomes,
  describeBreakerTrip,
} from '../../../lambda/shared/circuit-breaker';
import { CONSUMER_OUTCOME_MESSAGE } from '../../../lambda/shared/contracts';
import { LocalCircuitBreaker } from '../../../lib/local/circuit-breaker';

const rule = { failureRatio: 0.5, minimumRecords: 4, windowMinutes: 1 };

describe('the circuit breaker rule', () => {
  it('trips only once enough records ended and the failed share reached the ratio', () => {
    expect(breakerTrips(rule, { ended: 3, failed: 3 })).toBe(false);
    expect(breakerTrips(rule, { ended: 4, failed: 1 })).toBe(false);
    expect(breakerTrips(rule, { ended: 4, failed: 2 })).toBe(true);
    expect(breakerTrips({ ...rule, failureRatio: 1 }, { ended: 4, failed: 3 })).toBe(false);
    expect(breakerTrips({ ...rule, failureRatio: 1 }, { ended: 4, failed: 4 })).toBe(true);
  });

  it('counts retried and dead-lettered records as failed, processed ones as ended, and ignores duplicates, cancelled and deferred ones', () => {
    expect(
      countOutcomes(['processed', 'retried', 'dead-lettered', 'duplicate', 'cancelled', 'deferred']),
    ).toEqual({ ended: 3, failed: 2 });
  });

  it('says when and how many records failed in which window', () => {
    expect(
      describeBreakerTrip({ trippedAt: '2026-01-01T00:00:00.000Z', failed: 18, ended: 20, windowMinutes: 5 }),
    ).toBe('paused by circuit breaker at 2026-01-01T00:00:00.000Z: 18 of 20 records failed in 5 minutes');
  });
});

describe("local mode's circuit breaker", () => {
  const breakerAt = (clock: { ms: number }, running = () => true) => {
    const trips: BreakerTrip[] = [];
    const breaker = new LocalCircuitBreaker({
      rule,
      trip: (trip) => trips.push(trip),
      running,
      now: () => clock.ms,
    });
    return { breaker, trips };
  };

  const batch = (ended: number, failed: number) => ({ ended, failed });

  it('trips once, with the counts of the window, when the rule is met', () => {
    const clock = { ms: Date.parse('2026-01-01T00:00:00Z') };
    const { breaker, trips } = breakerAt(clock);
    breaker.observe(batch(3, 1));
    expect(trips).toEqual([]);
    breaker.observe(batch(1, 1));
    expect(trips).toEqual([{ trippedAt: '2026-01-01T00:00:00.000Z', failed: 2, ended: 4, windowMinutes: 1 }]);
    // The window starts afresh: the failures that tripped it do not trip it again.
    breaker.observe(batch(1, 1));
    expect(trips).toHaveLength(1);
  });

  it('forgets the batches that ended before the window', () => {
    const clock = { ms: 0 };
    const { breaker, trips } = breakerAt(clock);
    breaker.observe(batch(3, 3));
    clock.ms += 60_000;
    breaker.observe(batch(1, 1));
    expect(breaker.counts()).toEqual({ ended: 1, failed: 1 });
    expect(trips).toEqual([]);
    clock.ms += 59_999;
    breaker.observe(batch(3, 2));
    expect(trips).toHaveLength(1);
  });

  it("counts the breaker totals each batch publishes, as the deployed alarm does, not the consumer's outcome lines, which its log level may drop", () => {
    const { breaker, trips } = breakerAt({ ms: 0 });
    const outcome = (o: string) =>
      JSON.stringify({ level: 'ERROR', message: CONSUMER_OUTCOME_MESSAGE, outcome: o, id: 'e' });
    const totals = (ended: number, failed: number) =>
      JSON.stringify({
        _aws: { Timestamp: 0, CloudWatchMetrics: [{ Namespace: 'Hookline', Dimensions: [['service']] }] },
        service: 'events',
        [BREAKER_METRICS.ended]: ended,
        [BREAKER_METRICS.failed]: failed,
      });
    // At WARN a batch of 20 that ended well writes no outcome line, and its failures' lines are no count.
    for (let i = 0; i < 10; i += 1) breaker.observeLine(outcome('dead-lettered'));
    breaker.observeLine('consumer said something else');
    breaker.observeLine(JSON.stringify({ _aws: {}, service: 'events', Processed: 3 }));
    expect(breaker.counts()).toEqual({ ended: 0, failed: 0 });
    breaker.observeLine(totals(20, 0));
    breaker.observeLine(totals(10, 10));
    expect(breaker.counts()).toEqual({ ended: 30, failed: 10 });
    expect(trips).toEqual([]);
  });

  it('forgets every batch on reset, as a resume after any pause does', () => {
    const { breaker, trips } = breakerAt({ ms: 0 });
    breaker.observe(batch(3, 3));
    breaker.reset();
    breaker.observe(batch(1, 0));
    expect(breaker.counts()).toEqual({ ended: 1, failed: 0 });
    expect(trips).toEqual([]);
  });

  it('does not count the outcomes of batches still finishing after the consumer was paused', () => {
    const { breaker, trips } = breakerAt({ ms: 0 }, () => false);
    breaker.observe(batch(10, 10));
    expect(breaker.counts()).toEqual({ ended: 0, failed: 0 });
    expect(trips).toEqual([]);
  });
});
