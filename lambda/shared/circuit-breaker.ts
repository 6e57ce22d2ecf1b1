/**
 * A consumer's circuit breaker: the one rule that decides when a queue's consumer is failing so much that its
 * event source mapping is better disabled (the messages wait in the queue) than left to burn every record's
 * attempts into the dead-letter queue. Local mode evaluates it over the records its emulated mapping delivered;
 * a deployed stack's alarm evaluates the same rule in metric math over the counts the consumer publishes.
 *
 * Plain constants and pure functions only: the CDK side, local mode, the CLI and the breaker function import it.
 */

import { plural } from './plural';

/** A breaker's settings, as the stack and local mode hand them over. */
export interface CircuitBreakerRule {
  /** Share of the records that ended which failed, in (0, 1], at or above which the breaker trips. */
  readonly failureRatio: number;
  /** Fewest records that must have ended within the window before the breaker may trip. */
  readonly minimumRecords: number;
  /** How far back the records are counted, in whole minutes. */
  readonly windowMinutes: number;
}

/** The records of one window: how many ended, and how many of those failed. */
export interface RecordCounts {
  readonly ended: number;
  readonly failed: number;
}

/**
 * The consumer outcomes (its `record outcome` lines' `outcome`, and the metric each is counted in) that end a
 * record for the breaker. Failed: the handler failed it, whether it comes back (`retried`) or went to the DLQ
 * (`dead-lettered`). A `duplicate`, `cancelled` or `deferred` (rate-limited) record says nothing about the
 * dependency the handler calls, so it is not counted at all; nor is a record of {@link BREAKER_EXEMPT_RECORDS}.
 */
export const BREAKER_OUTCOMES = {
  processed: { metric: 'Processed', failed: false },
  retried: { metric: 'Retried', failed: true },
  'dead-lettered': { metric: 'DeadLettered', failed: true },
} as const;

/** An outcome the breaker counts, by its outcome-line name. */
export type BreakerOutcome = keyof typeof BREAKER_OUTCOMES;

/**
 * A poison record: one dead-lettered at once because a `PermanentError` (the handler's own, or an invalid envelope
 * or payload, an unknown event type, a claim-checked payload gone) said retrying cannot fix it. It is a bad event,
 * not a failing dependency: pausing would hold every good event back behind it and fix nothing (the dead-letter
 * alarm reports it), so the breaker does not count it. Its `dead-lettered` outcome line carries `outcomeField`
 * (`true`), and the consumer counts it per type as `metric` (among its `DeadLettered`, never published alone).
 */
export const POISON_RECORD = { outcomeField: 'permanent', metric: 'Permanent' } as const;

/**
 * A copy of an event whose idempotency key another execution held when it tried to take it (another copy of the
 * event running, or one that released the key as this copy collided; or its own earlier attempt's lock, not yet
 * expired): its handler did not run, so its `retried` (or, on its last attempt, `dead-lettered`) outcome says nothing
 * about the dependency, and the holder's own run is counted when it ends. Counted as ended it would dilute the
 * failed share, as failed it would let duplicate deliveries pause a healthy consumer: the breaker leaves it out of
 * both. Its outcome line carries `outcomeField` (`true`), and the consumer counts it per type as `metric` (among its
 * `Retried` or `DeadLettered`, published alone too, never among `Failed`).
 */
export const KEY_HELD_RECORD = { outcomeField: 'keyHeldElsewhere', metric: 'KeyHeldElsewhere' } as const;

/** The records the breaker leaves out of both its counts, each marked on its outcome line and counted per type. */
export const BREAKER_EXEMPT_RECORDS = [POISON_RECORD, KEY_HELD_RECORD] as const;

/** Whether an outcome line (parsed) marks a record the breaker leaves out ({@link BREAKER_EXEMPT_RECORDS}). */
export function isBreakerExemptLine(line: Readonly<Record<string, unknown>>): boolean {
  return BREAKER_EXEMPT_RECORDS.some((record) => line[record.outcomeField] === true);
}

/** Whether the breaker counts a record with this outcome: not one it leaves out (`exempt`), nor one it skips. */
export function isBreakerOutcome(outcome: string, exempt = false): outcome is BreakerOutcome {
  return !exempt && Object.hasOwn(BREAKER_OUTCOMES, outcome);
}

/**
 * The per-queue totals a breaker-enabled consumer publishes once per batch under the `service` dimension alone (a
 * CloudWatch alarm cannot SEARCH, so it needs a metric it can name): records that ended and records that failed,
 * as {@link BREAKER_OUTCOMES} counts them.
 */
export const BREAKER_METRICS = { ended: 'BreakerRecordsEnded', failed: 'BreakerRecordsFailed' } as const;

/** The rule: enough records ended in the window, and the failed share reached the ratio. */
export function breakerTrips(rule: CircuitBreakerRule, counts: RecordCounts): boolean {
  if (counts.ended < rule.minimumRecords || counts.ended === 0) return false;
  return counts.failed / counts.ended >= rule.failureRatio;
}

/** The counts of `outcomes`, as the breaker sees them (outcomes it does not count are skipped). */
export function countOutcomes(outcomes: Iterable<string>): RecordCounts {
  let ended = 0;
  let failed = 0;
  for (const outcome of outcomes) {
    if (!isBreakerOutcome(outcome)) continue;
    ended += 1;
    if (BREAKER_OUTCOMES[outcome].failed) failed += 1;
  }
  return { ended, failed };
}

/** What a trip records: when, and the counts that tripped it (the operator is told them). */
export interface BreakerTrip {
  /** ISO 8601 time of the trip. */
  readonly trippedAt: string;
  /** Deployed, the three counts are CloudWatch's; absent when it could not be read (they are not guessed). */
  readonly failed?: number;
  readonly ended?: number;
  readonly windowMinutes?: number;
  /** With `halfOpenAfter`: where the circuit stands since (open, or half-open while a probe runs). */
  readonly circuit?: BreakerCircuit;
}

/** "paused by circuit breaker at <time>: <n> of <m> records failed in <window>": one wording everywhere. */
export function describeBreakerTrip(trip: BreakerTrip): string {
  const at = `paused by circuit breaker at ${trip.trippedAt}`;
  const { failed, ended, windowMinutes } = trip;
  if (failed === undefined || ended === undefined || windowMinutes === undefined)
    return `${at} (how many records failed could not be read from CloudWatch)`;
  return `${at}: ${failed} of ${ended} records failed in ${plural(windowMinutes, 'minute')}`;
}

/** The breaker function's environment variable: which alarm trips which queue's event source mapping. */
export const BREAKER_CONFIG_ENV = 'HOOKLINE_BREAKER_CONFIG';

/**
 * How a consumer's event source mapping scales, as the stack configures it: on demand (with its maximum concurrency,
 * if any), or provisioned pollers (the bounds set; Lambda's defaults fill the others). A probe lowers it; closing
 * the circuit, or an operator's resume, writes it back exactly.
 */
export type MappingScaling =
  | { readonly mode: 'on-demand'; readonly maximumConcurrency?: number }
  | { readonly mode: 'provisioned'; readonly minimumPollers?: number; readonly maximumPollers?: number };

/** The modes of a {@link MappingScaling}: the code reads any but `on-demand` as provisioned, so synth checks them. */
export const SCALING_MODES: readonly MappingScaling['mode'][] = ['on-demand', 'provisioned'];

/** A breaker's probe, deployed: its timing (whole minutes) and the scaling a close restores. */
export interface BreakerProbeConfig {
  readonly halfOpenAfterMinutes: number;
  readonly windowMinutes: number;
  readonly scaling: MappingScaling;
}

/** Per breaker alarm: the queue, its mapping's UUID and, with `halfOpenAfter`, its probe. */
export interface BreakerTarget {
  readonly queue: string;
  readonly mappingId: string;
  readonly probe?: BreakerProbeConfig;
}

/**
 * The breaker function's configuration: per alarm name, its target; with any probe, the stack's schedule group
 * for the probes, the role Scheduler invokes the function with, and the dead-letter queue where Scheduler puts a
 * probe or close it could not deliver.
 */
export interface BreakerRuntimeConfig {
  readonly alarms: Readonly<Record<string, BreakerTarget>>;
  readonly scheduler?: BreakerSchedulerConfig;
}

/** Where the breaker function creates its probe and close schedules, and what each schedule's target is given. */
export interface BreakerSchedulerConfig {
  readonly groupName: string;
  readonly roleArn: string;
  /** Scheduler drops a delivery it gave up on (185 retries or 24 hours) unless its target names a dead-letter queue. */
  readonly deadLetterQueueArn: string;
}

/**
 * The tag on a deployed consumer's event source mapping that records its breaker's circuit (open or half-open;
 * absent when closed, or once an operator paused or resumed the consumer), so status, resume and the probe read the
 * state rather than infer it.
 */
export const BREAKER_TAG = 'hookline:circuit-breaker';

/**
 * Minutes after a probe's window before it closes deployed: the alarm's datapoint for the last minutes of the probe
 * arrives and is evaluated a little after the period ends, and a trip then must still find the probe half-open.
 */
export const CLOSE_MARGIN_MINUTES = 2;

/** What a probe schedule hands the breaker function: which breaker, and whether to probe or to close. */
export interface BreakerScheduleEvent {
  readonly hooklineCircuitBreaker: 'probe' | 'close';
  readonly alarmName: string;
}

/** Whether an event is a probe or close schedule's input (rather than an alarm's action). */
export function isBreakerScheduleEvent(event: unknown): event is BreakerScheduleEvent {
  const e = event as Partial<BreakerScheduleEvent> | null | undefined;
  return (
    (e?.hooklineCircuitBreaker === 'probe' || e?.hooklineCircuitBreaker === 'close') &&
    typeof e.alarmName === 'string'
  );
}

/**
 * The probe or close a schedule's input text holds (as Scheduler puts it in the breaker schedules' dead-letter
 * queue when it could not deliver it), or undefined when it is not one.
 */
export function breakerScheduleEventOf(input: string): BreakerScheduleEvent | undefined {
  let event: unknown;
  try {
    event = JSON.parse(input);
  } catch {
    return undefined;
  }
  return isBreakerScheduleEvent(event) ? event : undefined;
}

/**
 * The name of a probe's or a close's one-time schedule: `<step>-<mapping UUID>-<epoch seconds it fires>`, so a
 * retried step creates the same schedule, and the name says when it was due.
 */
export function breakerStepScheduleName(
  step: BreakerScheduleEvent['hooklineCircuitBreaker'],
  mappingId: string,
  atMs: number,
): string {
  return `${step}-${mappingId}-${Math.floor(atMs / 1000)}`;
}

/** When the step a {@link breakerStepScheduleName} names was due (ISO 8601); undefined for any other name. */
export function breakerStepDueAt(scheduleName: string): string | undefined {
  const match = /^(?:probe|close)-.+-(\d+)$/.exec(scheduleName);
  if (!match) return undefined;
  const at = new Date(Number(match[1]) * 1000);
  return Number.isNaN(at.getTime()) ? undefined : at.toISOString();
}

/** The scaling a probe runs at deployed: {@link PROBE_CONCURRENCY}'s 2 on demand, 2 pollers provisioned. */
export function probeScaling(scaling: MappingScaling): MappingScaling {
  return scaling.mode === 'on-demand'
    ? { mode: 'on-demand', maximumConcurrency: PROBE_CONCURRENCY.deployed }
    : {
        mode: 'provisioned',
        minimumPollers: PROBE_CONCURRENCY.deployed,
        maximumPollers: PROBE_CONCURRENCY.deployed,
      };
}

/**
 * `UpdateEventSourceMapping`'s fields for a scaling: an empty `ScalingConfig` removes a maximum concurrency (as its
 * API reference says); provisioned pollers are written with both bounds.
 */
export function scalingUpdate(scaling: MappingScaling): {
  ScalingConfig?: { MaximumConcurrency?: number };
  ProvisionedPollerConfig?: { MinimumPollers?: number; MaximumPollers?: number };
} {
  if (scaling.mode === 'on-demand')
    return {
      ScalingConfig:
        scaling.maximumConcurrency === undefined ? {} : { MaximumConcurrency: scaling.maximumConcurrency },
    };
  // Both bounds, Lambda's SQS defaults for the one not configured: a bound left out of an update might keep the
  // probe's value rather than go back to the default.
  return {
    ProvisionedPollerConfig: {
      MinimumPollers: scaling.minimumPollers ?? SQS_DEFAULT_POLLERS.minimum,
      MaximumPollers: scaling.maximumPollers ?? SQS_DEFAULT_POLLERS.maximum,
    },
  };
}

/**
 * Lambda's provisioned pollers of an SQS event source when a bound is not set (its API reference): what the
 * validator checks the concurrency against, and what closing a probe writes back.
 */
export const SQS_DEFAULT_POLLERS = { minimum: 2, maximum: 200 } as const;

/** A scaling in a tag value (letters, digits and `-` only): `on-demand`, `max-50`, `pollers-2-200` (`x`: unset). */
function encodeScaling(scaling: MappingScaling): string {
  if (scaling.mode === 'on-demand')
    return scaling.maximumConcurrency === undefined ? 'on-demand' : `max-${scaling.maximumConcurrency}`;
  return `pollers-${scaling.minimumPollers ?? 'x'}-${scaling.maximumPollers ?? 'x'}`;
}

function decodeScaling(text: string): MappingScaling | undefined {
  if (text === 'on-demand') return { mode: 'on-demand' };
  const max = /^max-(\d+)$/.exec(text);
  if (max) return { mode: 'on-demand', maximumConcurrency: Number(max[1]) };
  const pollers = /^pollers-(\d+|x)-(\d+|x)$/.exec(text);
  if (!pollers) return undefined;
  const bound = (value: string | undefined) =>
    value === undefined || value === 'x' ? undefined : Number(value);
  const [minimumPollers, maximumPollers] = [bound(pollers[1]), bound(pollers[2])];
  return {
    mode: 'provisioned',
    ...(minimumPollers !== undefined ? { minimumPollers } : {}),
    ...(maximumPollers !== undefined ? { maximumPollers } : {}),
  };
}

/**
 * The circuit as the mapping's tag records it (a Lambda tag value allows letters, digits, spaces and `_.:/=+-@`):
 * `open since=<t> opens=<n> probeAt=<t>`, or `half-open since=<t> opens=<n> closesAt=<t> probe=<n> restore=<scaling>`
 * (the scaling a resume or a close writes back).
 */
export function encodeCircuitTag(circuit: BreakerCircuit, restore?: MappingScaling): string {
  const fields: [string, string | number | undefined][] = [
    ['since', circuit.since],
    ['opens', circuit.opens],
    ['probeAt', circuit.probeAt],
    ['closesAt', circuit.closesAt],
    ['probe', circuit.probeConcurrency],
    ['restore', restore ? encodeScaling(restore) : undefined],
  ];
  return [circuit.state, ...fields.filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${v}`)].join(' ');
}

/** The circuit (and the scaling to restore) a tag value records; undefined when it is not one this rule writes. */
export function parseCircuitTag(
  value: string | undefined,
): { circuit: BreakerCircuit; restore?: MappingScaling } | undefined {
  const [state, ...pairs] = (value ?? '').split(' ');
  if (state !== 'open' && state !== 'half-open') return undefined;
  const f = Object.fromEntries(pairs.map((pair) => pair.split('=', 2) as [string, string]));
  const opens = Number(f.opens);
  const time = (t: string | undefined) => t === undefined || !Number.isNaN(Date.parse(t));
  if (!f.since || !time(f.since) || !Number.isInteger(opens) || !time(f.probeAt) || !time(f.closesAt))
    return undefined;
  const restore = f.restore === undefined ? undefined : decodeScaling(f.restore);
  const circuit: BreakerCircuit = {
    state,
    since: f.since,
    opens,
    ...(f.probeAt ? { probeAt: f.probeAt } : {}),
    ...(f.closesAt ? { closesAt: f.closesAt } : {}),
    ...(f.probe ? { probeConcurrency: Number(f.probe) } : {}),
  };
  return { circuit, ...(restore ? { restore } : {}) };
}

/**
 * What joins a breaker alarm name's parts. Neither a stack name (letters, digits and `-`, as CloudFormation and CDK
 * enforce) nor a hookline queue name (lower-case letters, digits and `-`) can hold it, so each name is one pair's
 * only; `-` made stack `a-b` with queue `c` and stack `a` with queue `b-c` the same alarm. A CloudWatch alarm name
 * may hold any character but the ASCII control ones, and `/` reads as a path in the console.
 */
const ALARM_NAME_SEPARATOR = '/';

/** The last part of every breaker alarm's name. */
const ALARM_NAME_SUFFIX = 'circuit-breaker';

/**
 * The name of a queue's breaker alarm in a stack, `<stack>/<queue>/circuit-breaker`: fixed, so the breaker function
 * can know it without a cycle, and unique in the account and Region. It must be: CloudWatch keeps one alarm per name
 * there, and PutMetricAlarm creates or overwrites by name
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html), so a second
 * pipeline's alarm of the same name can never stand beside the first: it takes the first one over, or fails its
 * deploy. At most 185 characters (a stack name has at most 128, a queue name 40), within the 255 an alarm name may
 * have.
 */
export function breakerAlarmName(stackName: string, queue: string): string {
  return [stackName, queue, ALARM_NAME_SUFFIX].join(ALARM_NAME_SEPARATOR);
}

/**
 * The queue a breaker alarm's name names: the middle part of {@link breakerAlarmName}'s (no stack or queue name can
 * hold its separator, so it alone is unambiguous), or, given the stack's name, of the earlier name
 * ({@link previousBreakerAlarmName}), which `-` joined. Undefined for any other name.
 */
export function queueOfBreakerAlarm(alarmName: string, stackName?: string): string | undefined {
  const parts = alarmName.split(ALARM_NAME_SEPARATOR);
  if (parts.length === 3 && parts[0] && parts[1] && parts[2] === ALARM_NAME_SUFFIX) return parts[1];
  if (stackName === undefined) return undefined;
  const [before, after] = [`${stackName}-`, `-${ALARM_NAME_SUFFIX}`];
  const fits =
    alarmName.startsWith(before) &&
    alarmName.endsWith(after) &&
    alarmName.length > before.length + after.length;
  return fits ? alarmName.slice(before.length, -after.length) : undefined;
}

/**
 * The name an earlier hookline gave the breaker alarm {@link breakerAlarmName} names now: its parts joined with `-`
 * (`<stack>-<queue>-circuit-breaker`). A probe or close schedule created before the rename carries it, and must
 * still find its consumer, or a tripped consumer would never be probed or closed and stay paused. Within one stack
 * it still names one queue (the stack name is the same). Such a schedule fires within about a day (`halfOpenAfter`
 * and the cool-down are at most a day) and the steps it schedules carry the current name: this can go once no
 * deployment can still hold one.
 */
export function previousBreakerAlarmName(alarmName: string): string {
  return alarmName.split(ALARM_NAME_SEPARATOR).join('-');
}

/** The breaker function's handler, bundled by the app's CDK (from the package) as the jobs endpoint's is. */
export const BREAKER_ENTRY = 'lambda/breaker/handler.ts';

/**
 * A tripped breaker's circuit, when `halfOpenAfter` lets it recover on its own. Closed (the consumer runs at full
 * concurrency, the rule counting) is no record at all. Open: the consumer is paused; with a probe configured, it
 * runs again at `probeAt`. Half-open: it runs at {@link PROBE_CONCURRENCY} until `closesAt`; a trip in between
 * opens it again, else it closes. An operator's pause or resume ends the record, so a probe never re-enables a
 * consumer an operator paused.
 */
export interface BreakerCircuit {
  readonly state: 'open' | 'half-open';
  /** ISO 8601 time the circuit entered this state. */
  readonly since: string;
  /** Trips in a row: 1 on a first trip, one more for each probe that tripped again. */
  readonly opens: number;
  /** Open, with a probe configured: when the probe starts (ISO 8601). */
  readonly probeAt?: string;
  /** Half-open: when the circuit closes if nothing trips (ISO 8601). */
  readonly closesAt?: string;
  /** Half-open: the batches the probe runs at once. */
  readonly probeConcurrency?: number;
}

/**
 * Batches a probe runs at once. Deployed 2: the lowest maximum concurrency an SQS event source mapping accepts
 * (a mapping with provisioned pollers runs its minimum of pollers instead). Locally 1.
 */
export const PROBE_CONCURRENCY = { deployed: 2, local: 1 } as const;

/** The longest a cool-down grows to by doubling on consecutive re-opens (a longer `halfOpenAfter` is kept). */
export const MAX_COOL_DOWN_MINUTES = 60;

/** The cool-down before the next probe: `halfOpenAfter`, doubled for each re-open in a row, up to the cap. */
export function coolDownMinutes(halfOpenAfterMinutes: number, opens: number): number {
  const cap = Math.max(MAX_COOL_DOWN_MINUTES, halfOpenAfterMinutes);
  return Math.min(cap, halfOpenAfterMinutes * 2 ** Math.max(0, opens - 1));
}

const isoAt = (ms: number): string => new Date(ms).toISOString();

/**
 * The circuit a trip opens: a trip during a probe is one more open in a row (its cool-down doubles), any other
 * trip the first. A record still open on a running consumer keeps its count: deployed, that is this very trip
 * retried after its record was written but the mapping not yet disabled (or a consumer resumed outside hookline,
 * which never closed). Without `halfOpenAfterMinutes` no probe is planned: resuming stays the operator's call.
 */
export function openCircuit(
  previous: BreakerCircuit | undefined,
  nowMs: number,
  halfOpenAfterMinutes?: number,
): BreakerCircuit {
  const opens = previous?.state === 'half-open' ? previous.opens + 1 : (previous?.opens ?? 1);
  const probe = halfOpenAfterMinutes
    ? { probeAt: isoAt(nowMs + coolDownMinutes(halfOpenAfterMinutes, opens) * 60_000) }
    : {};
  return { state: 'open', since: isoAt(nowMs), opens, ...probe };
}

/** The circuit a probe starting now makes: half-open for `probeMinutes`. */
export function halfOpenCircuit(
  open: BreakerCircuit,
  nowMs: number,
  probe: { readonly minutes: number; readonly concurrency: number },
): BreakerCircuit {
  return {
    state: 'half-open',
    since: isoAt(nowMs),
    opens: open.opens,
    closesAt: isoAt(nowMs + probe.minutes * 60_000),
    probeConcurrency: probe.concurrency,
  };
}

/** An open circuit whose probe waits `minutes` more (the alarm still reads ALARM). */
export function postponedCircuit(open: BreakerCircuit, nowMs: number, minutes: number): BreakerCircuit {
  return { ...open, probeAt: isoAt(nowMs + minutes * 60_000) };
}

/** What the consumer's breaker knows when a probe or a close is due. */
export interface CircuitFacts {
  /** The recorded circuit; undefined when an operator's pause or resume ended it, or it closed. */
  readonly circuit: BreakerCircuit | undefined;
  /** Whether the consumer is paused (its mapping disabled). */
  readonly paused: boolean;
  /** Whether the breaker's alarm reads ALARM now (locally never: the rule trips at once). */
  readonly alarmFiring: boolean;
}

/**
 * A due probe: run it only while the circuit is still open and the consumer still paused (otherwise an operator
 * acted, and wins). While the alarm still reads ALARM it waits: a probe started then could never trip, since the
 * alarm acts on a transition only.
 */
export function probeDecision(facts: CircuitFacts): 'probe' | 'postpone' | 'operator-acted' {
  if (facts.circuit?.state !== 'open' || !facts.paused) return 'operator-acted';
  return facts.alarmFiring ? 'postpone' : 'probe';
}

/**
 * Whether the recorded circuit's own step has come: a schedule left from an earlier circuit (one an operator ended,
 * or one a probe re-opened) may fire while a later circuit of the same consumer waits, and must not start its probe
 * early nor cut its probe short. A step's own schedule names the first whole minute at or after the recorded time
 * (Scheduler fires anywhere within the minute it names), so it never comes early; a second of slack is kept.
 */
export function circuitStepDue(circuit: BreakerCircuit, nowMs: number): boolean {
  const due = circuit.state === 'open' ? circuit.probeAt : circuit.closesAt;
  return due === undefined || nowMs + 1000 >= Date.parse(due);
}

/**
 * A due close: close only a circuit still half-open with the consumer running. One in ALARM re-opens (as the
 * alarm's action does, which may have been lost); one no longer half-open was re-opened, resumed or paused meanwhile.
 */
export function closeDecision(facts: CircuitFacts): 'close' | 'reopening' | 'not-half-open' {
  if (facts.circuit?.state !== 'half-open' || facts.paused) return 'not-half-open';
  return facts.alarmFiring ? 'reopening' : 'close';
}

/**
 * The breaker's state in one phrase, as status, the console and local mode's lines say it: "paused by circuit
 * breaker at ...[; next probe at <t>]", or "half-open since <t> (probe concurrency n; closes at ~<t> if nothing
 * fails)".
 */
export function describeBreakerState(trip: BreakerTrip): string {
  const { circuit } = trip;
  if (circuit?.state === 'half-open')
    return `half-open since ${circuit.since} (probe concurrency ${circuit.probeConcurrency ?? PROBE_CONCURRENCY.deployed}; closes at ~${circuit.closesAt} if nothing fails)`;
  const again = circuit && circuit.opens > 1 ? `, open ${circuit.opens} times in a row` : '';
  const probe = circuit?.probeAt ? `; next probe at ${circuit.probeAt}${again}` : '';
  return `${describeBreakerTrip(trip)}${probe}`;
}

/** What the breaker's record said when an operator's pause or resume ended it: its trip, or its probe. */
export function describeEndedBreaker(trip: BreakerTrip): string {
  return trip.circuit?.state === 'half-open' ? describeBreakerState(trip) : describeBreakerTrip(trip);
}
