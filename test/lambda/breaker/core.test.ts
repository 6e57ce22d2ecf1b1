import { describe, expect, it } from 'vitest';
import {
  type AlarmActionEvent,
  type BreakerCollaborators,
  handleBreakerAlarm,
} from '../../../lambda/breaker/core';
import { breakerAlarmName } from '../../../lambda/shared/circuit-breaker';

const EVENTS = breakerAlarmName('Shop', 'events');
const ORDERS = breakerAlarmName('Shop', 'orders');
const OTHER = breakerAlarmName('Other', 'events');

const config = {
  alarms: {
    [EVENTS]: { queue: 'events', mappingId: 'uuid-events' },
    [ORDERS]: { queue: 'orders', mappingId: 'uuid-orders' },
  },
};

/** Collaborators over mappings held in memory, recording each call. */
function fakeLambda(states: Record<string, string>) {
  const calls: string[] = [];
  const logs: { message: string; attributes: Record<string, unknown> }[] = [];
  const collaborators: BreakerCollaborators = {
    config,
    mappingState: async (id) => {
      calls.push(`get ${id}`);
      return states[id];
    },
    disableMapping: async (id) => {
      calls.push(`disable ${id}`);
      states[id] = 'Disabling';
      return 'Disabling';
    },
    log: (message, attributes) => logs.push({ message, attributes }),
  };
  return { collaborators, calls, logs, states };
}

const alarmEvent = (alarmName: string, value: string): AlarmActionEvent => ({
  alarmArn: `arn:aws:cloudwatch:eu-west-1:123456789012:alarm:${alarmName}`,
  alarmData: { alarmName, state: { value, reason: 'Threshold Crossed', timestamp: '2026-12-02T14:00:00Z' } },
});

describe('the circuit breaker function', () => {
  it('disables exactly the mapping of the queue whose alarm went into ALARM, and says so', async () => {
    const lambda = fakeLambda({ 'uuid-events': 'Enabled', 'uuid-orders': 'Enabled' });
    const result = await handleBreakerAlarm(alarmEvent(ORDERS, 'ALARM'), lambda.collaborators);
    expect(result).toEqual({ action: 'disabled', queue: 'orders', state: 'Disabling' });
    expect(lambda.calls).toEqual(['get uuid-orders', 'disable uuid-orders']);
    expect(lambda.states['uuid-events']).toBe('Enabled');
    expect(lambda.logs).toEqual([
      expect.objectContaining({
        message: 'circuit breaker paused the consumer',
        attributes: expect.objectContaining({ queue: 'orders', mappingId: 'uuid-orders' }),
      }),
    ]);
  });

  it.each(['OK', 'INSUFFICIENT_DATA'])(
    "ignores a transition to %s: resuming is the operator's call",
    async (value) => {
      const lambda = fakeLambda({ 'uuid-events': 'Disabled' });
      const result = await handleBreakerAlarm(alarmEvent(EVENTS, value), lambda.collaborators);
      expect(result).toMatchObject({ action: 'ignored' });
      expect(lambda.calls).toEqual([]);
    },
  );

  it('ignores an alarm it does not know, with a log line naming it, and touches no mapping', async () => {
    const lambda = fakeLambda({ 'uuid-events': 'Enabled' });
    for (const name of [OTHER, 'Other-events-circuit-breaker', 'toString', '__proto__']) {
      const result = await handleBreakerAlarm(alarmEvent(name, 'ALARM'), lambda.collaborators);
      expect(result).toMatchObject({ action: 'ignored' });
    }
    expect(lambda.calls).toEqual([]);
    expect(lambda.logs.map((l) => [l.message, l.attributes.alarmName])).toEqual([
      ['ignored an alarm this stack does not know', OTHER],
      ['ignored an alarm this stack does not know', 'Other-events-circuit-breaker'],
      ['ignored an alarm this stack does not know', 'toString'],
      ['ignored an alarm this stack does not know', '__proto__'],
    ]);
  });

  it.each(['Disabled', 'Disabling'])(
    'leaves a mapping already %s alone: a second delivery of the alarm, or an operator who paused first',
    async (state) => {
      const lambda = fakeLambda({ 'uuid-events': state });
      const result = await handleBreakerAlarm(alarmEvent(EVENTS, 'ALARM'), lambda.collaborators);
      expect(result).toEqual({ action: 'already-disabled', queue: 'events', state });
      expect(lambda.calls).toEqual(['get uuid-events']);
    },
  );

  it.each([
    ['no event', null],
    ['an empty object', {}],
    ['a string', 'ALARM'],
    ['alarmData null', { alarmData: null }],
    ['a state with no value', { alarmData: { alarmName: EVENTS, state: null } }],
  ])('ignores a malformed event (%s) without touching a mapping', async (_name, event) => {
    const lambda = fakeLambda({ 'uuid-events': 'Enabled' });
    const result = await handleBreakerAlarm(event as AlarmActionEvent, lambda.collaborators);
    expect(result).toMatchObject({ action: 'ignored' });
    expect(lambda.calls).toEqual([]);
  });

  it('rejects when Lambda refuses the update, so the asynchronous invocation is retried', async () => {
    const lambda = fakeLambda({ 'uuid-events': 'Enabled' });
    const refusal = Object.assign(new Error('The operation cannot be performed at this time.'), {
      name: 'ResourceConflictException',
    });
    const collaborators = { ...lambda.collaborators, disableMapping: () => Promise.reject(refusal) };
    await expect(handleBreakerAlarm(alarmEvent(EVENTS, 'ALARM'), collaborators)).rejects.toBe(refusal);
    expect(lambda.logs).toEqual([]);
  });

  it('pauses the consumer of its alarm under the name it had before, which the old alarm keeps until the deploy that renamed it ends', async () => {
    const lambda = fakeLambda({ 'uuid-events': 'Enabled', 'uuid-orders': 'Enabled' });
    const result = await handleBreakerAlarm(
      alarmEvent('Shop-events-circuit-breaker', 'ALARM'),
      lambda.collaborators,
    );
    expect(result).toEqual({ action: 'disabled', queue: 'events', state: 'Disabling' });
    expect(lambda.calls).toEqual(['get uuid-events', 'disable uuid-events']);
    expect(lambda.logs[0]?.attributes.alarmName).toBe(EVENTS);
  });

  it('is idempotent: the same ALARM delivered twice disables the mapping once', async () => {
    const lambda = fakeLambda({ 'uuid-events': 'Enabled' });
    const event = alarmEvent(EVENTS, 'ALARM');
    await handleBreakerAlarm(event, lambda.collaborators);
    await handleBreakerAlarm(event, lambda.collaborators);
    expect(lambda.calls.filter((c) => c.startsWith('disable'))).toEqual(['disable uuid-events']);
  });
});
