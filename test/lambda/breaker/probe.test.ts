/**
 * The deployed breaker's recovery (`halfOpenAfter`), through its pure core over an in-memory mapping, its tag, the
 * alarm's state and the schedules it creates: every transition (trip, probe, postpone, close, re-open) and the cases
 * where an operator acted and wins.
 */
import { describe, expect, it } from 'vitest';
import {
  type AlarmActionEvent,
  type BreakerCollaborators,
  handleBreakerEvent,
} from '../../../lambda/breaker/core';
import {
  type BreakerScheduleEvent,
  breakerAlarmName,
  type MappingScaling,
  parseCircuitTag,
  previousBreakerAlarmName,
} from '../../../lambda/shared/circuit-breaker';

const ALARM = breakerAlarmName('Shop', 'events');
const ORDERS = breakerAlarmName('Shop', 'orders');
const T0 = Date.parse('2026-12-02T14:00:00.000Z');
const configured: MappingScaling = { mode: 'on-demand', maximumConcurrency: 40 };
const config = {
  alarms: {
    [ALARM]: {
      queue: 'events',
      mappingId: 'uuid-events',
      probe: { halfOpenAfterMinutes: 10, windowMinutes: 5, scaling: configured },
    },
    [ORDERS]: { queue: 'orders', mappingId: 'uuid-orders' },
  },
  scheduler: {
    groupName: 'probes',
    roleArn: 'arn:aws:iam::123456789012:role/probe',
    deadLetterQueueArn: 'arn:aws:sqs:us-east-1:123456789012:probe-dlq',
  },
};

/** One mapping, its tag and scaling, the alarm's state, the schedules created, and a clock the test moves. */
function fakeAws() {
  const aws = {
    now: T0,
    state: 'Enabled',
    scaling: configured as MappingScaling,
    tag: undefined as string | undefined,
    alarm: 'ALARM',
    alarmsRead: [] as string[],
    schedules: [] as { name: string; at: string; event: BreakerScheduleEvent }[],
    calls: [] as string[],
  };
  const collaborators: BreakerCollaborators = {
    config,
    mappingState: async () => aws.state,
    disableMapping: async () => {
      aws.calls.push('disable');
      aws.state = 'Disabled';
      return 'Disabling';
    },
    probes: {
      readCircuit: async () => parseCircuitTag(aws.tag),
      writeCircuit: async (_id, value) => {
        aws.tag = value;
      },
      clearCircuit: async () => {
        aws.tag = undefined;
      },
      enableMapping: async (_id, scaling) => {
        aws.calls.push('enable');
        aws.state = 'Enabled';
        aws.scaling = scaling;
        return 'Enabling';
      },
      setScaling: async (_id, scaling) => {
        aws.calls.push('scale');
        aws.scaling = scaling;
      },
      alarmFiring: async (alarmName) => {
        aws.alarmsRead.push(alarmName);
        return aws.alarm === 'ALARM';
      },
      schedule: async (name, at, event) => {
        aws.schedules.push({ name, at: at.toISOString(), event });
      },
      now: () => aws.now,
    },
    log: () => undefined,
  };
  return { aws, collaborators };
}

const alarmEvent = (alarmName = ALARM): AlarmActionEvent => ({
  alarmData: { alarmName, state: { value: 'ALARM', reason: 'Threshold Crossed' } },
});
const step = (hooklineCircuitBreaker: 'probe' | 'close'): BreakerScheduleEvent => ({
  hooklineCircuitBreaker,
  alarmName: ALARM,
});
const circuitOf = (tag: string | undefined) => parseCircuitTag(tag)?.circuit;
const minutesAfterT0 = (minutes: number) => T0 + minutes * 60_000;

/** The events breaker tripped at T0 (14:00): its mapping disabled, its probe scheduled for 14:10. */
async function tripped() {
  const fake = fakeAws();
  await handleBreakerEvent(alarmEvent(), fake.collaborators);
  return fake;
}

/** Tripped at T0, the alarm back to OK and `probe` run at 14:10: half-open, its close due at 14:17. */
async function probing(probe = step('probe')) {
  const fake = await tripped();
  fake.aws.alarm = 'OK';
  fake.aws.now = minutesAfterT0(10);
  await handleBreakerEvent(probe, fake.collaborators);
  return fake;
}

describe('the deployed circuit breaker with a probe', () => {
  it('on a trip records the open circuit on the mapping, disables it, and schedules the probe halfOpenAfter later', async () => {
    const { aws, collaborators } = fakeAws();
    const result = await handleBreakerEvent(alarmEvent(), collaborators);
    expect(result).toMatchObject({
      action: 'disabled',
      queue: 'events',
      circuit: { state: 'open', opens: 1 },
    });
    expect(aws.state).toBe('Disabled');
    expect(aws.tag).toBe(
      'open since=2026-12-02T14:00:00.000Z opens=1 probeAt=2026-12-02T14:10:00.000Z restore=max-40',
    );
    expect(aws.schedules).toEqual([
      {
        name: 'probe-uuid-events-1796220600',
        at: '2026-12-02T14:10:00.000Z',
        event: { hooklineCircuitBreaker: 'probe', alarmName: ALARM },
      },
    ]);
  });

  it('probes at concurrency 2 once the alarm is back to OK, recording the scaling to restore, and schedules the close', async () => {
    const { aws, collaborators } = await tripped();
    aws.alarm = 'OK';
    aws.now = minutesAfterT0(10);
    const result = await handleBreakerEvent(step('probe'), collaborators);
    expect(result).toMatchObject({ action: 'probing', circuit: { state: 'half-open', probeConcurrency: 2 } });
    expect(aws.state).toBe('Enabled');
    expect(aws.scaling).toEqual({ mode: 'on-demand', maximumConcurrency: 2 });
    // One window plus the margin for the alarm's last datapoint.
    expect(aws.tag).toBe(
      'half-open since=2026-12-02T14:10:00.000Z opens=1 closesAt=2026-12-02T14:17:00.000Z probe=2 restore=max-40',
    );
    expect(aws.schedules[1]).toEqual({
      name: 'close-uuid-events-1796221020',
      at: '2026-12-02T14:17:00.000Z',
      event: { hooklineCircuitBreaker: 'close', alarmName: ALARM },
    });
  });

  it('postpones the probe by a window while the alarm still reads ALARM: a probe then could never trip', async () => {
    const { aws, collaborators } = await tripped();
    aws.now = minutesAfterT0(10);
    expect(await handleBreakerEvent(step('probe'), collaborators)).toMatchObject({ action: 'postponed' });
    expect(aws.state).toBe('Disabled');
    expect(circuitOf(aws.tag)).toMatchObject({ state: 'open', probeAt: '2026-12-02T14:15:00.000Z' });
    expect(aws.schedules.map((s) => s.at)).toEqual(['2026-12-02T14:10:00.000Z', '2026-12-02T14:15:00.000Z']);
  });

  it('closes after a probe window without a trip: the configured scaling exactly, and the tag removed', async () => {
    const { aws, collaborators } = await probing();
    aws.now = minutesAfterT0(17);
    expect(await handleBreakerEvent(step('close'), collaborators)).toEqual({
      action: 'closed',
      queue: 'events',
    });
    expect(aws.scaling).toEqual(configured);
    expect(aws.tag).toBeUndefined();
    expect(aws.state).toBe('Enabled');
  });

  it('re-opens on a trip during the probe with the cool-down doubled, and the late close leaves it alone', async () => {
    const { aws, collaborators } = await probing();
    aws.alarm = 'ALARM';
    aws.now = minutesAfterT0(13);
    expect(await handleBreakerEvent(alarmEvent(), collaborators)).toMatchObject({
      action: 'disabled',
      circuit: { state: 'open', opens: 2, probeAt: '2026-12-02T14:33:00.000Z' },
    });
    aws.now = minutesAfterT0(17);
    expect(await handleBreakerEvent(step('close'), collaborators)).toMatchObject({ action: 'left-alone' });
    expect(aws.state).toBe('Disabled');
    expect(circuitOf(aws.tag)).toMatchObject({ state: 'open', opens: 2 });
  });

  it('re-opens the circuit itself at the close when the alarm reads ALARM but its action never came', async () => {
    const { aws, collaborators } = await probing();
    // The probe fails: the alarm goes to ALARM, but its action's invocation failed for good.
    aws.alarm = 'ALARM';
    aws.now = minutesAfterT0(17);
    const result = await handleBreakerEvent(step('close'), collaborators);
    expect(result).toMatchObject({ action: 'disabled', circuit: { state: 'open', opens: 2 } });
    expect(aws.state).toBe('Disabled');
    expect(circuitOf(aws.tag)).toMatchObject({
      state: 'open',
      opens: 2,
      probeAt: '2026-12-02T14:37:00.000Z',
    });
    expect(aws.schedules.at(-1)).toMatchObject({ at: '2026-12-02T14:37:00.000Z', event: step('probe') });
    // The action arrives late after all: nothing more than the same probe, scheduled again under its name.
    aws.now += 30_000;
    expect(await handleBreakerEvent(alarmEvent(), collaborators)).toMatchObject({
      action: 'already-disabled',
    });
    expect(circuitOf(aws.tag)).toMatchObject({ opens: 2, probeAt: '2026-12-02T14:37:00.000Z' });
    expect(new Set(aws.schedules.map((s) => s.name)).size).toBe(3);
  });

  it("leaves a later probe running when an earlier probe's close schedule fires during it", async () => {
    const { aws, collaborators: base } = fakeAws();
    // halfOpenAfter equal to the window: a new circuit's probe can start before an earlier probe's close time.
    const target = {
      queue: 'events',
      mappingId: 'uuid-events',
      probe: { halfOpenAfterMinutes: 5, windowMinutes: 5, scaling: configured },
    };
    const collaborators = { ...base, config: { ...config, alarms: { ...config.alarms, [ALARM]: target } } };
    await handleBreakerEvent(alarmEvent(), collaborators);
    aws.alarm = 'OK';
    aws.now = minutesAfterT0(5);
    await handleBreakerEvent(step('probe'), collaborators); // closes at 14:12
    // The operator resumes during the probe (hookline restores the scaling, removes the tag; the close schedule
    // stays); it trips again at 14:06, and its own probe runs from 14:11 to 14:18.
    aws.tag = undefined;
    aws.scaling = configured;
    aws.now = minutesAfterT0(6);
    aws.alarm = 'ALARM';
    await handleBreakerEvent(alarmEvent(), collaborators);
    aws.alarm = 'OK';
    aws.now = minutesAfterT0(11);
    await handleBreakerEvent(step('probe'), collaborators);
    expect(circuitOf(aws.tag)).toMatchObject({ state: 'half-open', closesAt: '2026-12-02T14:18:00.000Z' });
    aws.now = minutesAfterT0(12);
    const stale = await handleBreakerEvent(step('close'), collaborators);
    expect(stale).toMatchObject({
      action: 'left-alone',
      why: expect.stringContaining('2026-12-02T14:18:00.000Z'),
    });
    expect(aws.scaling).toEqual({ mode: 'on-demand', maximumConcurrency: 2 });
    expect(circuitOf(aws.tag)).toMatchObject({ state: 'half-open' });
    aws.now = minutesAfterT0(18);
    expect(await handleBreakerEvent(step('close'), collaborators)).toMatchObject({ action: 'closed' });
    expect(aws.scaling).toEqual(configured);
  });

  it("waits for a later circuit's own probe time when an earlier circuit's probe schedule fires first", async () => {
    const { aws, collaborators } = fakeAws();
    await handleBreakerEvent(alarmEvent(), collaborators); // probe due 14:10
    // The operator resumes at 14:02 (the tag goes, the schedule stays); it trips again at 14:03, probe due 14:13.
    aws.tag = undefined;
    aws.state = 'Enabled';
    aws.now = minutesAfterT0(3);
    await handleBreakerEvent(alarmEvent(), collaborators);
    aws.alarm = 'OK';
    aws.now = minutesAfterT0(10);
    const stale = await handleBreakerEvent(step('probe'), collaborators);
    expect(stale).toMatchObject({
      action: 'left-alone',
      why: expect.stringContaining('2026-12-02T14:13:00.000Z'),
    });
    expect(aws.state).toBe('Disabled');
    expect(circuitOf(aws.tag)).toMatchObject({ state: 'open', probeAt: '2026-12-02T14:13:00.000Z' });
    aws.now = minutesAfterT0(13);
    expect(await handleBreakerEvent(step('probe'), collaborators)).toMatchObject({ action: 'probing' });
  });

  it('keeps the doubled cool-down when a re-open is retried after its record was written but the mapping not disabled', async () => {
    const { aws, collaborators } = await probing();
    aws.alarm = 'ALARM';
    aws.now = minutesAfterT0(12);
    const failing = {
      ...collaborators,
      disableMapping: async () => {
        throw new Error('TooManyRequestsException');
      },
    };
    await expect(handleBreakerEvent(alarmEvent(), failing)).rejects.toThrow('TooManyRequestsException');
    // Lambda retries the alarm's invocation a minute later: still the second open in a row, its wait doubled.
    aws.now += 60_000;
    expect(await handleBreakerEvent(alarmEvent(), collaborators)).toMatchObject({
      action: 'disabled',
      circuit: { state: 'open', opens: 2, probeAt: '2026-12-02T14:33:00.000Z' },
    });
  });

  it('schedules the close again when a probe is retried after its close could not be scheduled', async () => {
    const { aws, collaborators } = await tripped();
    aws.alarm = 'OK';
    aws.now = minutesAfterT0(10);
    const failing = {
      ...collaborators,
      probes: {
        ...(collaborators.probes as NonNullable<BreakerCollaborators['probes']>),
        schedule: async () => {
          throw new Error('ThrottlingException');
        },
      },
    };
    await expect(handleBreakerEvent(step('probe'), failing)).rejects.toThrow('ThrottlingException');
    expect(aws.state).toBe('Enabled');
    // Lambda retries the schedule's invocation: the mapping runs half-open, and the close gets scheduled.
    aws.now += 60_000;
    const retried = await handleBreakerEvent(step('probe'), collaborators);
    expect(retried).toMatchObject({ action: 'probing', circuit: { state: 'half-open' } });
    expect(aws.schedules.map((s) => s.name)).toEqual([
      'probe-uuid-events-1796220600',
      'close-uuid-events-1796221020',
    ]);
    expect(aws.calls).toEqual(['disable', 'enable']);
    expect(aws.scaling).toEqual({ mode: 'on-demand', maximumConcurrency: 2 });
  });

  it('schedules the probe again on a repeated alarm action for a mapping its own trip disabled', async () => {
    const { aws, collaborators } = await tripped();
    expect(await handleBreakerEvent(alarmEvent(), collaborators)).toMatchObject({
      action: 'already-disabled',
    });
    expect(aws.schedules.map((s) => s.name)).toEqual([
      'probe-uuid-events-1796220600',
      'probe-uuid-events-1796220600',
    ]);
    expect(aws.calls).toEqual(['disable']);
  });
});

describe('the deployed circuit breaker: schedules', () => {
  it('schedules a probe whose time has passed (a retry long after the trip) a minute from now, never in the past', async () => {
    const { aws, collaborators } = await tripped();
    aws.now = minutesAfterT0(20);
    await handleBreakerEvent(alarmEvent(), collaborators);
    expect(aws.schedules.map((s) => s.at)).toEqual(['2026-12-02T14:10:00.000Z', '2026-12-02T14:21:00.000Z']);
  });
});

describe('the deployed circuit breaker: steps due at a second within a minute', () => {
  /** The earliest Scheduler may fire a one-time schedule: the start of the minute its `at()` names. */
  const earliestFiring = (at: string) => Math.floor(Date.parse(at) / 60_000) * 60_000;

  it('runs the probe when Scheduler fires it at the start of the minute its schedule names', async () => {
    const { aws, collaborators } = fakeAws();
    aws.now = T0 + 30_000;
    await handleBreakerEvent(alarmEvent(), collaborators);
    expect(circuitOf(aws.tag)).toMatchObject({ probeAt: '2026-12-02T14:10:30.000Z' });
    aws.alarm = 'OK';
    aws.now = earliestFiring(aws.schedules[0]?.at ?? '');
    expect(await handleBreakerEvent(step('probe'), collaborators)).toMatchObject({ action: 'probing' });
    expect(aws.now).toBeGreaterThanOrEqual(Date.parse('2026-12-02T14:10:30.000Z'));
  });

  it('closes the probe when Scheduler fires the close at the start of the minute its schedule names', async () => {
    const { aws, collaborators } = await tripped();
    aws.alarm = 'OK';
    // Scheduler ran the probe 42 seconds into its minute: the close is due 7 minutes later, at that second.
    aws.now = minutesAfterT0(10) + 42_000;
    await handleBreakerEvent(step('probe'), collaborators);
    expect(circuitOf(aws.tag)).toMatchObject({ state: 'half-open', closesAt: '2026-12-02T14:17:42.000Z' });
    aws.now = earliestFiring(aws.schedules[1]?.at ?? '');
    expect(await handleBreakerEvent(step('close'), collaborators)).toMatchObject({ action: 'closed' });
    expect(aws.scaling).toEqual(configured);
  });
});

describe('the deployed circuit breaker: an operator wins over a probe', () => {
  it('runs no probe after an operator paused the consumer (the pause removed the tag)', async () => {
    const { aws, collaborators } = await tripped();
    aws.tag = undefined;
    aws.alarm = 'OK';
    aws.now = minutesAfterT0(10);
    expect(await handleBreakerEvent(step('probe'), collaborators)).toMatchObject({ action: 'left-alone' });
    expect(aws.calls).toEqual(['disable']);
  });

  it('runs no probe after an operator resumed the consumer', async () => {
    const { aws, collaborators } = await tripped();
    aws.state = 'Enabled';
    aws.alarm = 'OK';
    aws.now = minutesAfterT0(10);
    expect(await handleBreakerEvent(step('probe'), collaborators)).toMatchObject({ action: 'left-alone' });
    expect(aws.scaling).toEqual(configured);
    expect(aws.schedules).toHaveLength(1);
  });

  it('drops a stale open record of a consumer resumed by other means than hookline, and runs no probe', async () => {
    const { aws, collaborators } = await tripped();
    aws.state = 'Enabled';
    aws.alarm = 'OK';
    aws.now = minutesAfterT0(10);
    expect(await handleBreakerEvent(step('probe'), collaborators)).toMatchObject({ action: 'left-alone' });
    expect(aws.tag).toBeUndefined();
    expect(aws.calls).toEqual(['disable']);
  });

  it('restores the configured scaling of a re-opened circuit resumed by other means than hookline', async () => {
    const { aws, collaborators } = await probing();
    aws.alarm = 'ALARM';
    aws.now = minutesAfterT0(12);
    await handleBreakerEvent(alarmEvent(), collaborators); // re-opened: disabled at the probe's concurrency
    // Enabled in the Lambda console: the tag stays, and so does the probe's concurrency.
    aws.state = 'Enabled';
    aws.alarm = 'OK';
    aws.now = minutesAfterT0(32);
    expect(await handleBreakerEvent(step('probe'), collaborators)).toMatchObject({ action: 'left-alone' });
    expect(aws.tag).toBeUndefined();
    expect(aws.scaling).toEqual(configured);
  });

  it('restores the configured scaling of a probe paused by other means than hookline, and leaves it paused', async () => {
    const { aws, collaborators } = await probing();
    aws.state = 'Disabled';
    expect(await handleBreakerEvent(step('close'), collaborators)).toMatchObject({ action: 'left-alone' });
    expect(aws.state).toBe('Disabled');
    expect(aws.scaling).toEqual(configured);
    expect(aws.tag).toBeUndefined();
  });

  it('does not close, nor touch the scaling of, a probe an operator paused or resumed meanwhile', async () => {
    for (const operator of ['pause', 'resume'] as const) {
      const { aws, collaborators } = await probing();
      // Both remove the tag; the resume also restores the scaling itself.
      aws.tag = undefined;
      if (operator === 'pause') aws.state = 'Disabled';
      const calls = aws.calls.length;
      expect(await handleBreakerEvent(step('close'), collaborators)).toMatchObject({ action: 'left-alone' });
      expect(aws.calls.slice(calls)).toEqual([]);
    }
  });

  it('leaves a breaker without halfOpenAfter exactly as before: no tag, no schedule', async () => {
    const { aws, collaborators } = fakeAws();
    const result = await handleBreakerEvent(alarmEvent(ORDERS), collaborators);
    expect(result).toEqual({ action: 'disabled', queue: 'orders', state: 'Disabling' });
    expect(aws.tag).toBeUndefined();
    expect(aws.schedules).toEqual([]);
    const probe = { hooklineCircuitBreaker: 'probe' as const, alarmName: ORDERS };
    expect(await handleBreakerEvent(probe, collaborators)).toMatchObject({ action: 'ignored' });
  });

  it('ignores a schedule event naming an alarm this stack does not know', async () => {
    const { collaborators } = fakeAws();
    const event = {
      hooklineCircuitBreaker: 'probe' as const,
      alarmName: breakerAlarmName('Other', 'events'),
    };
    expect(await handleBreakerEvent(event, collaborators)).toMatchObject({ action: 'ignored' });
  });
});

describe('a probe schedule created before the breaker alarm was renamed', () => {
  /** The name such a schedule carries: the stack's and the queue's joined with dashes. */
  const legacy = (hooklineCircuitBreaker: 'probe' | 'close'): BreakerScheduleEvent => ({
    hooklineCircuitBreaker,
    alarmName: 'Shop-events-circuit-breaker',
  });

  it('still probes its mapping, reading the alarm and scheduling the close under the current name', async () => {
    const { aws, collaborators } = await tripped();
    aws.alarm = 'OK';
    aws.now = minutesAfterT0(10);
    expect(previousBreakerAlarmName(ALARM)).toBe(legacy('probe').alarmName);
    const result = await handleBreakerEvent(legacy('probe'), collaborators);
    expect(result).toMatchObject({ action: 'probing', queue: 'events', circuit: { state: 'half-open' } });
    expect(aws.state).toBe('Enabled');
    expect(aws.scaling).toEqual({ mode: 'on-demand', maximumConcurrency: 2 });
    expect(aws.alarmsRead).toEqual([ALARM]);
    expect(aws.schedules.at(-1)?.event).toEqual({ hooklineCircuitBreaker: 'close', alarmName: ALARM });
  });

  it('still closes its probe, restoring the configured scaling', async () => {
    const { aws, collaborators } = await probing(legacy('probe'));
    aws.now = minutesAfterT0(17);
    expect(await handleBreakerEvent(legacy('close'), collaborators)).toEqual({
      action: 'closed',
      queue: 'events',
    });
    expect(aws.scaling).toEqual(configured);
    expect(aws.tag).toBeUndefined();
  });

  it("ignores the previous name of another stack's alarm", async () => {
    const { aws, collaborators } = fakeAws();
    const event = { hooklineCircuitBreaker: 'probe' as const, alarmName: 'Other-events-circuit-breaker' };
    expect(await handleBreakerEvent(event, collaborators)).toMatchObject({ action: 'ignored' });
    expect(aws.calls).toEqual([]);
  });
});
