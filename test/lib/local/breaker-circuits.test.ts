import { describe, expect, it } from 'vitest';
import type { BreakerTrip } from '../../../lambda/shared/circuit-breaker';
import type { AlarmChange } from '../../../lib/local/alarm-watch';
import { type CircuitSettings, LocalBreakerCircuits } from '../../../lib/local/breaker-circuits';
import type { MappingState } from '../../../lib/local/event-source-mapping';

const T0 = Date.parse('2026-12-02T14:00:00.000Z');
const trip: BreakerTrip = { trippedAt: '2026-12-02T14:00:00.000Z', failed: 5, ended: 5, windowMinutes: 1 };

/** A consumer whose mapping records each enable (with its concurrency) and whose breaker counts its resets. */
function fakeConsumer() {
  const consumer = {
    state: 'Enabled' as MappingState,
    enables: [] as (number | undefined)[],
    resets: 0,
    mapping: {
      get state() {
        return consumer.state;
      },
      enable(maxConcurrency?: number) {
        consumer.state = 'Enabled';
        consumer.enables.push(maxConcurrency);
      },
    },
    breaker: {
      reset() {
        consumer.resets += 1;
      },
    },
  };
  return consumer;
}

function circuitsFor(settings: CircuitSettings | undefined = { windowMinutes: 1, halfOpenAfterMinutes: 2 }) {
  const consumer = fakeConsumer();
  let now = T0;
  const alarms: AlarmChange[] = [];
  let changes = 0;
  const circuits = new LocalBreakerCircuits({
    consumers: new Map([['events', consumer]]),
    settingsOf: (queue) => (queue === 'events' ? settings : undefined),
    now: () => now,
    alarm: (change) => alarms.push(change),
    changed: () => {
      changes += 1;
    },
  });
  /** The breaker tripped: recorded, and the mapping paused as local mode pauses it. */
  const tripNow = () => {
    const recorded = circuits.open('events', { ...trip, trippedAt: new Date(now).toISOString() });
    consumer.state = 'Disabled';
    return recorded;
  };
  return {
    circuits,
    consumer,
    alarms,
    changes: () => changes,
    tripNow,
    at: (ms: number) => {
      now = ms;
      circuits.tick();
    },
  };
}

describe('local mode: a circuit breaker with halfOpenAfter', () => {
  it('probes at concurrency 1 once the cool-down passed, and closes at full concurrency after a window without a trip', () => {
    const c = circuitsFor();
    expect(c.tripNow().circuit).toMatchObject({ state: 'open', probeAt: '2026-12-02T14:02:00.000Z' });
    c.at(T0 + 119_000);
    expect(c.consumer.state).toBe('Disabled');

    c.at(T0 + 120_000);
    expect(c.consumer.enables).toEqual([1]);
    expect(c.consumer.resets).toBe(1);
    expect(c.circuits.get('events')?.circuit).toEqual({
      state: 'half-open',
      since: '2026-12-02T14:02:00.000Z',
      opens: 1,
      closesAt: '2026-12-02T14:03:00.000Z',
      probeConcurrency: 1,
    });
    expect(c.alarms).toEqual([
      expect.objectContaining({
        queue: 'events',
        alarm: 'circuit-breaker',
        state: 'OK',
        circuit: 'half-open',
      }),
    ]);
    expect(c.alarms[0]?.message).toMatch(
      /^events: consumer half-open since 2026-12-02T14:02:00.000Z \(probe concurrency 1; closes at ~2026-12-02T14:03:00.000Z if nothing fails\)/,
    );

    c.at(T0 + 180_000);
    expect(c.consumer.enables).toEqual([1, undefined]);
    expect(c.circuits.get('events')).toBeUndefined();
    expect(c.alarms[1]).toMatchObject({ state: 'OK', circuit: 'closed' });
    expect(c.alarms[1]?.message).toMatch(
      /^events: circuit breaker closed: no trip during the probe since 2026-12-02T14:02:00.000Z/,
    );
    expect(c.changes()).toBe(2);
  });

  it('re-opens on a trip during the probe with a doubled cool-down, and probes again after it', () => {
    const c = circuitsFor();
    c.tripNow();
    c.at(T0 + 120_000);
    c.at(T0 + 150_000);
    expect(c.tripNow().circuit).toEqual({
      state: 'open',
      since: '2026-12-02T14:02:30.000Z',
      opens: 2,
      probeAt: '2026-12-02T14:06:30.000Z',
    });
    c.at(T0 + 180_000);
    expect(c.consumer.state).toBe('Disabled');
    c.at(Date.parse('2026-12-02T14:06:30.000Z'));
    expect(c.consumer.enables).toEqual([1, 1]);
    expect(c.circuits.get('events')?.circuit?.state).toBe('half-open');
  });

  it('runs no probe after an operator resumed or paused the consumer', () => {
    for (const operator of ['resume', 'pause'] as const) {
      const c = circuitsFor();
      c.tripNow();
      expect(c.circuits.end('events')?.circuit?.state).toBe('open');
      if (operator === 'resume') c.consumer.mapping.enable();
      c.at(T0 + 10 * 60_000);
      expect(c.consumer.enables).toEqual(operator === 'resume' ? [undefined] : []);
      expect(c.alarms).toEqual([]);
    }
  });

  it('does not close a probe an operator paused meanwhile, and drops a record whose consumer an operator runs', () => {
    const c = circuitsFor();
    c.tripNow();
    c.at(T0 + 120_000);
    c.consumer.state = 'Disabled';
    c.at(T0 + 180_000);
    expect(c.consumer.enables).toEqual([1]);
    expect(c.circuits.get('events')).toBeUndefined();
    expect(c.alarms.map((a) => a.circuit)).toEqual(['half-open']);
  });

  it('records no circuit, and never probes, without halfOpenAfter', () => {
    const c = circuitsFor({ windowMinutes: 1 });
    expect(c.tripNow()).toEqual(trip);
    c.at(T0 + 24 * 60 * 60_000);
    expect(c.consumer.enables).toEqual([]);
    expect(c.circuits.get('events')).toEqual(trip);
  });

  it('restores an open circuit of a paused consumer and a half-open one of a running consumer, at probe concurrency', () => {
    const open = circuitsFor();
    const recorded = open.tripNow();
    const restored = circuitsFor();
    restored.consumer.state = 'Disabled';
    restored.circuits.restore(new Set(['events']), new Map([['events', recorded]]));
    expect(restored.circuits.get('events')).toEqual(recorded);
    restored.at(T0 + 120_000);
    expect(restored.consumer.enables).toEqual([1]);

    const probing = restored.circuits.get('events');
    if (!probing) throw new Error('no record');
    const again = circuitsFor();
    again.circuits.restore(new Set(), new Map([['events', probing]]));
    expect(again.consumer.enables).toEqual([1]);
    expect(again.circuits.get('events')).toEqual(probing);
  });

  it('drops a saved circuit once halfOpenAfter is removed from the configuration: resuming is manual again', () => {
    const recorded = circuitsFor().tripNow();
    const manual = circuitsFor({ windowMinutes: 1 });
    manual.consumer.state = 'Disabled';
    manual.circuits.restore(new Set(['events']), new Map([['events', recorded]]));
    expect(manual.circuits.get('events')).toEqual({ ...trip });
    manual.at(T0 + 24 * 60 * 60_000);
    expect(manual.consumer.enables).toEqual([]);
  });

  it('restores no record of a consumer that is not in the state the record describes', () => {
    const recorded = circuitsFor().tripNow();
    const c = circuitsFor();
    c.circuits.restore(new Set(), new Map([['events', recorded]]));
    expect(c.circuits.get('events')).toBeUndefined();
  });
});
