import { describe, expect, it } from 'vitest';
import type { BreakerTrip } from '../../../lambda/shared/circuit-breaker';
import {
  breakerTrips,
  countOutcomes,
  describeBreakerTrip,
  KEY_HELD_RECORD,
  POISON_RECORD,
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

  it('trips once, with the counts of the window, when the rule is met', () => {
    const clock = { ms: Date.parse('2026-01-01T00:00:00Z') };
    const { breaker, trips } = breakerAt(clock);
    for (const outcome of ['processed', 'retried', 'duplicate', 'processed']) breaker.observe(outcome);
    expect(trips).toEqual([]);
    breaker.observe('dead-lettered');
    expect(trips).toEqual([{ trippedAt: '2026-01-01T00:00:00.000Z', failed: 2, ended: 4, windowMinutes: 1 }]);
    // The window starts afresh: the failures that tripped it do not trip it again.
    breaker.observe('retried');
    expect(trips).toHaveLength(1);
  });

  it('forgets the records that ended before the window', () => {
    const clock = { ms: 0 };
    const { breaker, trips } = breakerAt(clock);
    for (const outcome of ['retried', 'retried', 'retried']) breaker.observe(outcome);
    clock.ms += 60_000;
    breaker.observe('retried');
    expect(breaker.counts()).toEqual({ ended: 1, failed: 1 });
    expect(trips).toEqual([]);
    clock.ms += 59_999;
    for (const outcome of ['processed', 'retried', 'retried']) breaker.observe(outcome);
    expect(trips).toHaveLength(1);
  });

  it("counts the consumer's outcome lines, but not a poison record's (dead-lettered at once by a PermanentError)", () => {
    const { breaker, trips } = breakerAt({ ms: 0 });
    const line = (outcome: string, extra: Record<string, unknown> = {}) =>
      JSON.stringify({ level: 'INFO', message: CONSUMER_OUTCOME_MESSAGE, outcome, id: 'e', ...extra });
    for (let i = 0; i < 10; i += 1)
      breaker.observeLine(line('dead-lettered', { [POISON_RECORD.outcomeField]: true }));
    breaker.observeLine('consumer said something else');
    expect(breaker.counts()).toEqual({ ended: 0, failed: 0 });
    breaker.observeLine(line('processed'));
    breaker.observeLine(line('dead-lettered'));
    expect(breaker.counts()).toEqual({ ended: 2, failed: 1 });
    expect(trips).toEqual([]);
  });

  it("does not count a copy's retry or dead letter because another execution held its idempotency key, so duplicate deliveries never pause a healthy consumer", () => {
    const { breaker, trips } = breakerAt({ ms: 0 });
    const line = (outcome: string, extra: Record<string, unknown> = {}) =>
      JSON.stringify({ level: 'INFO', message: CONSUMER_OUTCOME_MESSAGE, outcome, id: 'e', ...extra });
    const held = { [KEY_HELD_RECORD.outcomeField]: true };
    for (let i = 0; i < 10; i += 1) breaker.observeLine(line('retried', held));
    breaker.observeLine(line('dead-lettered', held));
    expect(breaker.counts()).toEqual({ ended: 0, failed: 0 });
    breaker.observeLine(line('processed'));
    breaker.observeLine(line('retried'));
    // The handler's own failure still counts, and the copies neither raise nor dilute its share.
    expect(breaker.counts()).toEqual({ ended: 2, failed: 1 });
    expect(trips).toEqual([]);
  });

  it('forgets every outcome on reset, as a resume after any pause does', () => {
    const { breaker, trips } = breakerAt({ ms: 0 });
    for (let i = 0; i < 3; i += 1) breaker.observe('retried');
    breaker.reset();
    breaker.observe('processed');
    expect(breaker.counts()).toEqual({ ended: 1, failed: 0 });
    expect(trips).toEqual([]);
  });

  it('does not count the outcomes of batches still finishing after the consumer was paused', () => {
    const { breaker, trips } = breakerAt({ ms: 0 }, () => false);
    for (let i = 0; i < 10; i += 1) breaker.observe('retried');
    expect(breaker.counts()).toEqual({ ended: 0, failed: 0 });
    expect(trips).toEqual([]);
  });
});
