/**
 * The deployed circuit breaker: invoked directly by a consumer's breaker alarm (a CloudWatch alarm Lambda
 * action), it disables the event source mapping of the queue whose alarm went into ALARM, as `hookline pause`
 * does: the messages wait in the queue. Pure: the Lambda API comes in as collaborators.
 *
 * The alarm action may be delivered more than once, and an operator may have paused the consumer already: a
 * mapping already disabled (or disabling) is left alone. OK and INSUFFICIENT_DATA transitions, and alarms this
 * stack did not configure, are ignored (the latter with a log line): resuming is the operator's call.
 */
import type { BreakerRuntimeConfig } from '../shared/circuit-breaker';

/** The part of CloudWatch's alarm Lambda action event the breaker reads. */
export interface AlarmActionEvent {
  readonly alarmArn?: string;
  readonly alarmData?: {
    readonly alarmName?: string;
    readonly state?: { readonly value?: string; readonly reason?: string; readonly timestamp?: string };
  };
}

export interface BreakerCollaborators {
  readonly config: BreakerRuntimeConfig;
  /** `GetEventSourceMapping`'s `State`. */
  mappingState(mappingId: string): Promise<string | undefined>;
  /** `UpdateEventSourceMapping` with `Enabled: false`; resolves with the state it reports. */
  disableMapping(mappingId: string): Promise<string | undefined>;
  readonly log: (message: string, attributes: Record<string, unknown>) => void;
}

/** What the breaker did with one alarm event. */
export type BreakerAction =
  | { readonly action: 'ignored'; readonly why: string }
  | { readonly action: 'already-disabled'; readonly queue: string; readonly state: string }
  | { readonly action: 'disabled'; readonly queue: string; readonly state: string };

/** States in which the mapping delivers nothing more, or is about to: disabling it again would change nothing. */
const STOPPED_STATES = new Set(['Disabled', 'Disabling']);

/** Disables the mapping of the queue whose breaker alarm went into ALARM; every other event is ignored. */
export async function handleBreakerAlarm(
  event: AlarmActionEvent | null | undefined,
  c: BreakerCollaborators,
): Promise<BreakerAction> {
  // Anything but CloudWatch's payload (a test invoke with no event, a hand-written one) is ignored, never a crash
  // that Lambda would retry twice.
  const alarmName = String(event?.alarmData?.alarmName ?? '');
  const state = event?.alarmData?.state?.value;
  if (state !== 'ALARM') return { action: 'ignored', why: `alarm ${alarmName} is ${state ?? 'in no state'}` };
  const target = Object.hasOwn(c.config.alarms, alarmName) ? c.config.alarms[alarmName] : undefined;
  if (!target) {
    c.log('ignored an alarm this stack does not know', { alarmName, alarmArn: event?.alarmArn });
    return { action: 'ignored', why: `alarm ${alarmName} trips no breaker of this stack` };
  }
  const { queue, mappingId } = target;
  const current = await c.mappingState(mappingId);
  if (current !== undefined && STOPPED_STATES.has(current)) {
    c.log('consumer already paused', { queue, mappingId, state: current, alarmName });
    return { action: 'already-disabled', queue, state: current };
  }
  const after = (await c.disableMapping(mappingId)) ?? 'Disabling';
  c.log('circuit breaker paused the consumer', {
    queue,
    mappingId,
    state: after,
    alarmName,
    reason: event?.alarmData?.state?.reason,
  });
  return { action: 'disabled', queue, state: after };
}
