import { describe, expect, it } from 'vitest';
import {
  type BreakerCircuit,
  circuitStepDue,
  closeDecision,
  coolDownMinutes,
  describeBreakerState,
  describeEndedBreaker,
  encodeCircuitTag,
  halfOpenCircuit,
  MAX_COOL_DOWN_MINUTES,
  type MappingScaling,
  openCircuit,
  PROBE_CONCURRENCY,
  parseCircuitTag,
  postponedCircuit,
  probeDecision,
  probeScaling,
  scalingUpdate,
} from '../../../lambda/shared/circuit-breaker';

const T0 = Date.parse('2026-12-02T14:00:00.000Z');
const minutes = (n: number) => n * 60_000;
const trip = { trippedAt: '2026-12-02T14:00:00.000Z', failed: 8, ended: 10, windowMinutes: 5 };

describe('the circuit breaker: open, half-open, closed', () => {
  it('opens on a first trip with the probe halfOpenAfter later, and plans no probe without halfOpenAfter', () => {
    expect(openCircuit(undefined, T0, 10)).toEqual({
      state: 'open',
      since: '2026-12-02T14:00:00.000Z',
      opens: 1,
      probeAt: '2026-12-02T14:10:00.000Z',
    });
    expect(openCircuit(undefined, T0)).toEqual({
      state: 'open',
      since: '2026-12-02T14:00:00.000Z',
      opens: 1,
    });
  });

  it('doubles the cool-down on each re-open during a probe, up to the cap', () => {
    let circuit: BreakerCircuit | undefined;
    const waits: number[] = [];
    let now = T0;
    for (let i = 0; i < 6; i += 1) {
      circuit = openCircuit(circuit, now, 10);
      waits.push((Date.parse(circuit.probeAt ?? '') - now) / 60_000);
      now = Date.parse(circuit.probeAt ?? '');
      circuit = halfOpenCircuit(circuit, now, { minutes: 5, concurrency: 2 });
      now += minutes(1);
    }
    expect(waits).toEqual([10, 20, 40, 60, 60, 60]);
    expect(circuit?.opens).toBe(6);
  });

  it('starts counting afresh after a probe closed: a later trip is a first open again', () => {
    // Closed is no record: the next trip has no previous circuit.
    expect(openCircuit(undefined, T0, 10).opens).toBe(1);
    // A trip while open (never during a probe) does not count as a re-open.
    expect(openCircuit(openCircuit(undefined, T0, 10), T0, 10).opens).toBe(1);
  });

  it('keeps a halfOpenAfter longer than the cap, without doubling past it', () => {
    expect(coolDownMinutes(90, 1)).toBe(90);
    expect(coolDownMinutes(90, 3)).toBe(90);
    expect(coolDownMinutes(45, 2)).toBe(MAX_COOL_DOWN_MINUTES);
  });

  it('goes half-open for the probe minutes at the probe concurrency, keeping the count of opens', () => {
    const open = openCircuit(openCircuit(undefined, T0, 5), T0, 5);
    expect(halfOpenCircuit(open, T0 + minutes(5), { minutes: 6, concurrency: 2 })).toEqual({
      state: 'half-open',
      since: '2026-12-02T14:05:00.000Z',
      opens: 1,
      closesAt: '2026-12-02T14:11:00.000Z',
      probeConcurrency: 2,
    });
  });

  it('postpones a probe by the minutes given, keeping the rest of the circuit', () => {
    const open = openCircuit(undefined, T0, 5);
    expect(postponedCircuit(open, T0 + minutes(5), 5)).toEqual({
      ...open,
      probeAt: '2026-12-02T14:10:00.000Z',
    });
  });

  it('uses the lowest maximum concurrency an SQS event source mapping accepts deployed, and one batch locally', () => {
    expect(PROBE_CONCURRENCY).toEqual({ deployed: 2, local: 1 });
  });
});

describe('the circuit breaker: an operator always wins over a probe', () => {
  const open = openCircuit(undefined, T0, 5);
  const halfOpen = halfOpenCircuit(open, T0 + minutes(5), { minutes: 5, concurrency: 2 });

  it('probes an open circuit whose consumer is still paused, once the alarm no longer reads ALARM', () => {
    expect(probeDecision({ circuit: open, paused: true, alarmFiring: false })).toBe('probe');
    expect(probeDecision({ circuit: open, paused: true, alarmFiring: true })).toBe('postpone');
  });

  it('runs no probe after an operator resumed the consumer, paused it (record ended) or it is half-open already', () => {
    expect(probeDecision({ circuit: open, paused: false, alarmFiring: false })).toBe('operator-acted');
    expect(probeDecision({ circuit: undefined, paused: true, alarmFiring: false })).toBe('operator-acted');
    expect(probeDecision({ circuit: halfOpen, paused: true, alarmFiring: false })).toBe('operator-acted');
  });

  it('closes a half-open circuit whose consumer runs and whose alarm is not in ALARM', () => {
    expect(closeDecision({ circuit: halfOpen, paused: false, alarmFiring: false })).toBe('close');
    expect(closeDecision({ circuit: halfOpen, paused: false, alarmFiring: true })).toBe('reopening');
  });

  it('closes nothing an operator paused or resumed, or a trip re-opened, meanwhile', () => {
    expect(closeDecision({ circuit: halfOpen, paused: true, alarmFiring: false })).toBe('not-half-open');
    expect(closeDecision({ circuit: undefined, paused: false, alarmFiring: false })).toBe('not-half-open');
    expect(closeDecision({ circuit: open, paused: true, alarmFiring: false })).toBe('not-half-open');
  });

  it("acts on a circuit's step only from its recorded time (a schedule runs at whole seconds), never earlier", () => {
    const due = openCircuit(undefined, T0, 10);
    expect(circuitStepDue(due, T0 + minutes(10) - 999)).toBe(true);
    expect(circuitStepDue(due, T0 + minutes(3))).toBe(false);
    const probing = halfOpenCircuit(due, T0 + minutes(10), { minutes: 7, concurrency: 2 });
    expect(circuitStepDue(probing, T0 + minutes(12))).toBe(false);
    expect(circuitStepDue(probing, T0 + minutes(17))).toBe(true);
  });
});

describe('the circuit breaker in words', () => {
  it('says when the next probe runs, and how often it opened in a row', () => {
    const once = { ...trip, circuit: openCircuit(undefined, T0, 10) };
    expect(describeBreakerState(once)).toBe(
      'paused by circuit breaker at 2026-12-02T14:00:00.000Z: 8 of 10 records failed in 5 minutes; next probe at 2026-12-02T14:10:00.000Z',
    );
    const half = halfOpenCircuit(once.circuit, T0 + minutes(10), { minutes: 5, concurrency: 2 });
    const twice = { ...trip, circuit: openCircuit(half, T0 + minutes(11), 10) };
    expect(describeBreakerState(twice)).toMatch(
      /; next probe at 2026-12-02T14:31:00.000Z, open 2 times in a row$/,
    );
  });

  it('says half-open with its probe concurrency and closing time', () => {
    const circuit = halfOpenCircuit(openCircuit(undefined, T0, 5), T0 + minutes(5), {
      minutes: 5,
      concurrency: 1,
    });
    expect(describeBreakerState({ ...trip, circuit })).toBe(
      'half-open since 2026-12-02T14:05:00.000Z (probe concurrency 1; closes at ~2026-12-02T14:10:00.000Z if nothing fails)',
    );
    expect(describeEndedBreaker({ ...trip, circuit })).toBe(describeBreakerState({ ...trip, circuit }));
  });

  it('says a trip without a probe as before', () => {
    expect(describeBreakerState(trip)).toBe(
      'paused by circuit breaker at 2026-12-02T14:00:00.000Z: 8 of 10 records failed in 5 minutes',
    );
    expect(describeEndedBreaker({ ...trip, circuit: openCircuit(undefined, T0, 5) })).toBe(
      describeBreakerState(trip),
    );
  });
});

describe('the circuit as the deployed mapping tag records it', () => {
  it('reads back every circuit and scaling it writes, in the characters a Lambda tag value allows', () => {
    const open = openCircuit(undefined, T0, 10);
    const half = halfOpenCircuit(open, T0 + minutes(10), { minutes: 7, concurrency: 2 });
    const scalings: MappingScaling[] = [
      { mode: 'on-demand' },
      { mode: 'on-demand', maximumConcurrency: 40 },
      { mode: 'provisioned', minimumPollers: 3 },
      { mode: 'provisioned', maximumPollers: 300 },
      { mode: 'provisioned', minimumPollers: 2, maximumPollers: 200 },
    ];
    expect(parseCircuitTag(encodeCircuitTag(open))).toEqual({ circuit: open });
    for (const restore of scalings) {
      const value = encodeCircuitTag(half, restore);
      expect(value).toMatch(/^[\w .:/=+\-@]{1,256}$/);
      expect(parseCircuitTag(value)).toEqual({ circuit: half, restore });
    }
  });

  it('reads a tag it did not write as no circuit', () => {
    for (const value of [
      undefined,
      '',
      'closed since=2026-12-02T14:00:00.000Z opens=1',
      'open opens=1',
      'open since=later opens=1',
    ])
      expect(parseCircuitTag(value)).toBeUndefined();
  });

  it('probes at 2 (concurrency, or pollers) and restores exactly: an empty ScalingConfig, or both poller bounds', () => {
    expect(scalingUpdate(probeScaling({ mode: 'on-demand', maximumConcurrency: 40 }))).toEqual({
      ScalingConfig: { MaximumConcurrency: 2 },
    });
    expect(scalingUpdate(probeScaling({ mode: 'provisioned', minimumPollers: 5 }))).toEqual({
      ProvisionedPollerConfig: { MinimumPollers: 2, MaximumPollers: 2 },
    });
    expect(scalingUpdate({ mode: 'on-demand' })).toEqual({ ScalingConfig: {} });
    // The bound not configured goes back to Lambda's default, not to the probe's 2.
    expect(scalingUpdate({ mode: 'provisioned', maximumPollers: 300 })).toEqual({
      ProvisionedPollerConfig: { MinimumPollers: 2, MaximumPollers: 300 },
    });
    expect(scalingUpdate({ mode: 'provisioned', minimumPollers: 3 })).toEqual({
      ProvisionedPollerConfig: { MinimumPollers: 3, MaximumPollers: 200 },
    });
  });
});
