/**
 * The deployed circuit breaker: invoked directly by a consumer's breaker alarm (a CloudWatch alarm Lambda
 * action), it disables the event source mapping of the queue whose alarm went into ALARM, as `hookline pause`
 * does: the messages wait in the queue. Pure: the Lambda, CloudWatch and Scheduler APIs come in as collaborators.
 *
 * The alarm action may be delivered more than once, and an operator may have paused the consumer already: a
 * mapping already disabled (or disabling) is left alone. OK and INSUFFICIENT_DATA transitions, and alarms this
 * stack did not configure, are ignored (the latter with a log line).
 *
 * With `halfOpenAfter` the breaker also recovers on its own, by the shared rule (`lambda/shared/circuit-breaker.ts`):
 * a trip records the circuit as a tag on the mapping and schedules a probe (a one-time Scheduler schedule that
 * invokes this function again); the probe, if the tag still says open and the mapping is still disabled (else an
 * operator acted, and wins), enables the mapping at probe concurrency and schedules the close; the close restores
 * the configured scaling and removes the tag unless the alarm reads ALARM (then it re-opens the circuit itself).
 */
import {
  BREAKER_TAG,
  type BreakerCircuit,
  type BreakerProbeConfig,
  type BreakerRuntimeConfig,
  type BreakerScheduleEvent,
  type BreakerTarget,
  breakerStepScheduleName,
  CLOSE_MARGIN_MINUTES,
  circuitStepDue,
  closeDecision,
  encodeCircuitTag,
  halfOpenCircuit,
  isBreakerScheduleEvent,
  type MappingScaling,
  openCircuit,
  PROBE_CONCURRENCY,
  type parseCircuitTag,
  postponedCircuit,
  previousBreakerAlarmName,
  probeDecision,
  probeScaling,
} from '../shared/circuit-breaker';
import { schedulerMinuteAtOrAfter } from '../shared/iso-time';

/** The part of CloudWatch's alarm Lambda action event the breaker reads. */
export interface AlarmActionEvent {
  readonly alarmArn?: string;
  readonly alarmData?: {
    readonly alarmName?: string;
    readonly state?: { readonly value?: string; readonly reason?: string; readonly timestamp?: string };
  };
}

/** The mapping's circuit tag, read and written; Scheduler; CloudWatch: what a probe needs besides the mapping. */
export interface ProbeCollaborators {
  /** `ListTags`: the mapping's {@link BREAKER_TAG}, parsed; undefined when absent. */
  readCircuit(mappingId: string): Promise<ReturnType<typeof parseCircuitTag>>;
  /** `TagResource` with {@link BREAKER_TAG} = `value`. */
  writeCircuit(mappingId: string, value: string): Promise<void>;
  /** `UntagResource` of {@link BREAKER_TAG}. */
  clearCircuit(mappingId: string): Promise<void>;
  /** `UpdateEventSourceMapping` with `Enabled: true` and this scaling; resolves with the state it reports. */
  enableMapping(mappingId: string, scaling: MappingScaling): Promise<string | undefined>;
  /** `UpdateEventSourceMapping` with this scaling only. */
  setScaling(mappingId: string, scaling: MappingScaling): Promise<void>;
  /** Whether the alarm reads ALARM now (`DescribeAlarms`). */
  alarmFiring(alarmName: string): Promise<boolean>;
  /** A one-time schedule in the stack's group invoking this function with `event` at `at`; idempotent by name. */
  schedule(name: string, at: Date, event: BreakerScheduleEvent): Promise<void>;
  /** Epoch milliseconds. */
  now(): number;
}

export interface BreakerCollaborators {
  readonly config: BreakerRuntimeConfig;
  /** `GetEventSourceMapping`'s `State`. */
  mappingState(mappingId: string): Promise<string | undefined>;
  /** `UpdateEventSourceMapping` with `Enabled: false`; resolves with the state it reports. */
  disableMapping(mappingId: string): Promise<string | undefined>;
  /** Present when a breaker of the stack has a probe (`halfOpenAfter`). */
  readonly probes?: ProbeCollaborators;
  readonly log: (message: string, attributes: Record<string, unknown>) => void;
}

/** What the breaker did with one event. */
export type BreakerAction =
  | { readonly action: 'ignored'; readonly why: string }
  | { readonly action: 'already-disabled'; readonly queue: string; readonly state: string }
  | {
      readonly action: 'disabled';
      readonly queue: string;
      readonly state: string;
      readonly circuit?: BreakerCircuit;
    }
  | { readonly action: 'left-alone'; readonly queue: string; readonly why: string }
  | { readonly action: 'postponed'; readonly queue: string; readonly circuit: BreakerCircuit }
  | { readonly action: 'probing'; readonly queue: string; readonly circuit: BreakerCircuit }
  | { readonly action: 'closed'; readonly queue: string };

/** States in which the mapping delivers nothing more, or is about to: disabling it again would change nothing. */
const STOPPED_STATES = new Set(['Disabled', 'Disabling']);

/** One entry point for both: an alarm's action, or a probe schedule's invocation. */
export function handleBreakerEvent(
  event: AlarmActionEvent | BreakerScheduleEvent | null | undefined,
  c: BreakerCollaborators,
): Promise<BreakerAction> {
  return isBreakerScheduleEvent(event) ? handleBreakerSchedule(event, c) : handleBreakerAlarm(event, c);
}

/**
 * The breaker an event names, with its alarm's current name (which later steps read and schedule), or why the event
 * is ignored. The name the alarm had before its parts were joined with `/` ({@link previousBreakerAlarmName}) is
 * recognised too. A probe or close schedule created before that rename carries it, and the consumer it should probe
 * or close would otherwise stay paused for good. An alarm's own action may carry it as well: the deploy that renames
 * the alarm updates this function first and deletes the old alarm (and its permission to invoke this function) only
 * at the end of the update, and a trip in between must still pause. CloudWatch may invoke this function only from
 * this stack's alarms, so the old name can only be this stack's own.
 */
function targetOf(
  alarmName: string,
  c: BreakerCollaborators,
  alarmArn?: string,
): { target: BreakerTarget; alarmName: string } | { ignored: string } {
  const { alarms } = c.config;
  const current = Object.hasOwn(alarms, alarmName)
    ? alarmName
    : Object.keys(alarms).find((name) => previousBreakerAlarmName(name) === alarmName);
  const target = current === undefined ? undefined : alarms[current];
  if (current !== undefined && target) return { target, alarmName: current };
  c.log('ignored an alarm this stack does not know', { alarmName, alarmArn });
  return { ignored: `alarm ${alarmName} trips no breaker of this stack` };
}

/** Disables the mapping of the queue whose breaker alarm went into ALARM; every other event is ignored. */
export async function handleBreakerAlarm(
  event: AlarmActionEvent | null | undefined,
  c: BreakerCollaborators,
): Promise<BreakerAction> {
  // Anything but CloudWatch's payload (a test invoke with no event, a hand-written one) is ignored, never a crash
  // that Lambda would retry twice.
  const named = String(event?.alarmData?.alarmName ?? '');
  const state = event?.alarmData?.state?.value;
  if (state !== 'ALARM') return { action: 'ignored', why: `alarm ${named} is ${state ?? 'in no state'}` };
  const found = targetOf(named, c, event?.alarmArn);
  if ('ignored' in found) return { action: 'ignored', why: found.ignored };
  const { target, alarmName } = found;
  const { queue, mappingId } = target;
  const current = await c.mappingState(mappingId);
  const probes = target.probe ? c.probes : undefined;
  if (current !== undefined && STOPPED_STATES.has(current)) {
    // A repeated alarm action, or a retry after the probe could not be scheduled: the open tag is the breaker's
    // own (an operator's pause removes it), so its probe is scheduled again (idempotent by name).
    if (target.probe && probes) await rescheduleOpenProbe(alarmName, mappingId, probes);
    c.log('consumer already paused', { queue, mappingId, state: current, alarmName });
    return { action: 'already-disabled', queue, state: current };
  }
  // The tag first: a probe is planned only for a mapping whose open circuit is recorded.
  const circuit = target.probe && probes ? await recordOpen(mappingId, target.probe, probes) : undefined;
  const after = (await c.disableMapping(mappingId)) ?? 'Disabling';
  if (circuit?.probeAt && probes) await scheduleStep(probes, 'probe', alarmName, mappingId, circuit.probeAt);
  c.log('circuit breaker paused the consumer', {
    queue,
    mappingId,
    state: after,
    alarmName,
    reason: event?.alarmData?.state?.reason,
    ...(circuit ? { circuit } : {}),
  });
  return { action: 'disabled', queue, state: after, ...(circuit ? { circuit } : {}) };
}

/** Records the circuit a trip opens: a trip during a probe (the tag half-open) is one more open in a row. */
async function recordOpen(
  mappingId: string,
  probe: BreakerProbeConfig,
  p: ProbeCollaborators,
): Promise<BreakerCircuit> {
  const previous = (await p.readCircuit(mappingId))?.circuit;
  const circuit = openCircuit(previous, p.now(), probe.halfOpenAfterMinutes);
  // The configured scaling rides along: an operator resuming a circuit a probe re-opened restores it from there.
  await p.writeCircuit(mappingId, encodeCircuitTag(circuit, probe.scaling));
  return circuit;
}

async function rescheduleOpenProbe(
  alarmName: string,
  mappingId: string,
  p: ProbeCollaborators,
): Promise<void> {
  const circuit = (await p.readCircuit(mappingId))?.circuit;
  if (circuit?.state === 'open' && circuit.probeAt)
    await scheduleStep(p, 'probe', alarmName, mappingId, circuit.probeAt);
}

/** A probe's or a close's schedule, named by the mapping and the time, so a retry creates the same one. */
function scheduleStep(
  p: ProbeCollaborators,
  step: BreakerScheduleEvent['hooklineCircuitBreaker'],
  alarmName: string,
  mappingId: string,
  atIso: string,
): Promise<void> {
  // Never in the past (a retry long after the trip): Scheduler runs a one-time schedule only at a time to come. Never
  // early either: a step that fires before its recorded time is taken for an earlier circuit's and left alone.
  const at = new Date(schedulerMinuteAtOrAfter(Math.max(Date.parse(atIso), p.now() + 60_000)));
  return p.schedule(breakerStepScheduleName(step, mappingId, at.getTime()), at, {
    hooklineCircuitBreaker: step,
    alarmName,
  });
}

/** A probe or a close came due. */
async function handleBreakerSchedule(
  event: BreakerScheduleEvent,
  c: BreakerCollaborators,
): Promise<BreakerAction> {
  const found = targetOf(event.alarmName, c);
  if ('ignored' in found) return { action: 'ignored', why: found.ignored };
  const { target, alarmName } = found;
  const { probe } = target;
  if (!probe || !c.probes)
    return { action: 'ignored', why: `the breaker of ${target.queue} has no probe (halfOpenAfter) any more` };
  const facts = await circuitFacts(event.hooklineCircuitBreaker, alarmName, target, c, c.probes);
  return event.hooklineCircuitBreaker === 'probe'
    ? runProbe(alarmName, target, probe, facts, c, c.probes)
    : runClose(alarmName, target, probe, facts, c, c.probes);
}

type Facts = Awaited<ReturnType<typeof circuitFacts>>;

/** The tag, the mapping's state, and (only where it decides anything) the alarm's. */
async function circuitFacts(
  step: BreakerScheduleEvent['hooklineCircuitBreaker'],
  alarmName: string,
  target: BreakerTarget,
  c: BreakerCollaborators,
  p: ProbeCollaborators,
) {
  const [state, tag] = await Promise.all([c.mappingState(target.mappingId), p.readCircuit(target.mappingId)]);
  const paused = state !== undefined && STOPPED_STATES.has(state);
  const wanted = step === 'probe' ? 'open' : 'half-open';
  const undecided = tag?.circuit.state === wanted && paused === (wanted === 'open');
  const alarmFiring = undecided ? await p.alarmFiring(alarmName) : false;
  return { circuit: tag?.circuit, paused, alarmFiring, state };
}

/** Runs the consumer at probe concurrency for a window, or waits while the alarm still reads ALARM. */
async function runProbe(
  alarmName: string,
  target: BreakerTarget,
  probe: BreakerProbeConfig,
  facts: Facts,
  c: BreakerCollaborators,
  p: ProbeCollaborators,
): Promise<BreakerAction> {
  const { queue, mappingId } = target;
  const decision = probeDecision(facts);
  if (decision === 'operator-acted' || !facts.circuit) {
    // A retried probe whose close could not be scheduled finds its own half-open record on a running mapping:
    // without the close it would stay at probe concurrency, so the close is scheduled again (idempotent by name).
    if (facts.circuit?.state === 'half-open' && !facts.paused && facts.circuit.closesAt) {
      await scheduleStep(p, 'close', alarmName, mappingId, facts.circuit.closesAt);
      return { action: 'probing', queue, circuit: facts.circuit };
    }
    // Resumed by other means than hookline (which removes the tag): the open record is stale, and goes. A circuit a
    // probe re-opened was disabled at the probe's scaling, which that resume kept: the configured one comes back.
    if (facts.circuit?.state === 'open' && !facts.paused) {
      if (facts.circuit.opens > 1) await p.setScaling(mappingId, probe.scaling);
      await p.clearCircuit(mappingId);
    }
    c.log('probe not run: an operator paused or resumed the consumer', {
      queue,
      mappingId,
      state: facts.state,
    });
    return { action: 'left-alone', queue, why: 'an operator paused or resumed the consumer since the trip' };
  }
  const now = p.now();
  if (!circuitStepDue(facts.circuit, now)) return notDue(target, facts.circuit, c);
  if (decision === 'postpone') {
    // A probe started while the alarm still reads ALARM could never trip it again (it acts on a transition).
    const circuit = postponedCircuit(facts.circuit, now, probe.windowMinutes);
    await p.writeCircuit(mappingId, encodeCircuitTag(circuit, probe.scaling));
    await scheduleStep(p, 'probe', alarmName, mappingId, circuit.probeAt ?? '');
    c.log('probe postponed: the breaker alarm still reads ALARM', {
      queue,
      mappingId,
      probeAt: circuit.probeAt,
    });
    return { action: 'postponed', queue, circuit };
  }
  const circuit = halfOpenCircuit(facts.circuit, now, {
    minutes: probe.windowMinutes + CLOSE_MARGIN_MINUTES,
    concurrency: PROBE_CONCURRENCY.deployed,
  });
  await p.writeCircuit(mappingId, encodeCircuitTag(circuit, probe.scaling));
  await p.enableMapping(mappingId, probeScaling(probe.scaling));
  await scheduleStep(p, 'close', alarmName, mappingId, circuit.closesAt ?? '');
  c.log('circuit breaker half-open: probing the consumer', { queue, mappingId, circuit });
  return { action: 'probing', queue, circuit };
}

/** A schedule left from an earlier circuit fired before the recorded one's step: that step's own schedule acts. */
function notDue(target: BreakerTarget, circuit: BreakerCircuit, c: BreakerCollaborators): BreakerAction {
  const due =
    circuit.state === 'open' ? `its probe is due at ${circuit.probeAt}` : `it closes at ${circuit.closesAt}`;
  const why = `a schedule left from an earlier circuit: the circuit is ${circuit.state} and ${due}`;
  c.log('schedule left alone', { queue: target.queue, mappingId: target.mappingId, why });
  return { action: 'left-alone', queue: target.queue, why };
}

/** Restores the configured scaling and removes the tag, once a probe's window passed without a trip. */
async function runClose(
  alarmName: string,
  target: BreakerTarget,
  probe: BreakerProbeConfig,
  facts: Facts,
  c: BreakerCollaborators,
  p: ProbeCollaborators,
): Promise<BreakerAction> {
  const { queue, mappingId } = target;
  const decision = closeDecision(facts);
  if (decision !== 'close' && facts.circuit?.state === 'half-open' && facts.paused) {
    // Paused during the probe by other means than hookline (which restores the scaling and removes the tag): the
    // operator's later resume must run at the configured scaling, not the probe's.
    await p.setScaling(mappingId, probe.scaling);
    await p.clearCircuit(mappingId);
    c.log('circuit not closed: an operator paused the consumer during the probe', { queue, mappingId });
    return { action: 'left-alone', queue, why: 'an operator paused the consumer during the probe' };
  }
  if (facts.circuit?.state === 'half-open' && !circuitStepDue(facts.circuit, p.now()))
    return notDue(target, facts.circuit, c);
  if (decision === 'reopening') {
    // The probe failed and the alarm's own action has not re-opened the circuit (it may be late, or its
    // invocation failed for good): re-opened here, as that action does, rather than left at probe concurrency
    // for good. The action, if it comes after all, finds the mapping disabled and the probe scheduled.
    c.log('circuit not closed: the breaker alarm reads ALARM, re-opening it', { queue, mappingId });
    return handleBreakerAlarm(
      {
        alarmData: {
          alarmName,
          state: { value: 'ALARM', reason: 'the breaker alarm read ALARM at the close' },
        },
      },
      c,
    );
  }
  if (decision !== 'close') {
    const why =
      'the circuit is no longer half-open (re-opened, or an operator paused or resumed the consumer)';
    c.log('circuit not closed', { queue, mappingId, why });
    return { action: 'left-alone', queue, why };
  }
  // Scaling first: a retry after a failed untag finds the tag still half-open and closes again, harmlessly.
  await p.setScaling(mappingId, probe.scaling);
  await p.clearCircuit(mappingId);
  c.log('circuit breaker closed: the consumer runs at its configured scaling', { queue, mappingId });
  return { action: 'closed', queue };
}
