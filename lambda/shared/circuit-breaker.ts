/**
 * A consumer's circuit breaker: the one rule that decides when a queue's consumer is failing so much that its
 * event source mapping is better disabled (the messages wait in the queue) than left to burn every record's
 * attempts into the dead-letter queue. Local mode evaluates it over the records its emulated mapping delivered;
 * a deployed stack's alarm evaluates the same rule in metric math over the counts the consumer publishes.
 *
 * Plain constants and pure functions only: the CDK side, local mode, the CLI and the breaker function import it.
 */

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
 * dependency the handler calls, so it is not counted at all; nor is a poison record ({@link POISON_RECORD}).
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

/** Whether the breaker counts a record with this outcome: not a poison record, nor one it skips. */
export function isBreakerOutcome(outcome: string, poison = false): outcome is BreakerOutcome {
  return !poison && Object.hasOwn(BREAKER_OUTCOMES, outcome);
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
  readonly failed: number;
  readonly ended: number;
  readonly windowMinutes: number;
}

/** "paused by circuit breaker at <time>: <n> of <m> records failed in <window>": one wording everywhere. */
export function describeBreakerTrip(trip: BreakerTrip): string {
  const window = trip.windowMinutes === 1 ? '1 minute' : `${trip.windowMinutes} minutes`;
  return `paused by circuit breaker at ${trip.trippedAt}: ${trip.failed} of ${trip.ended} records failed in ${window}`;
}

/** The breaker function's environment variable: which alarm trips which queue's event source mapping. */
export const BREAKER_CONFIG_ENV = 'HOOKLINE_BREAKER_CONFIG';

/** The breaker function's configuration: per alarm name, the queue and its event source mapping's UUID. */
export interface BreakerRuntimeConfig {
  readonly alarms: Readonly<Record<string, { readonly queue: string; readonly mappingId: string }>>;
}

/** The name of a queue's breaker alarm in a stack: fixed, so the breaker function can know it without a cycle. */
export function breakerAlarmName(stackName: string, queue: string): string {
  return `${stackName}-${queue}-circuit-breaker`;
}

/** The breaker function's handler, bundled by the app's CDK (from the package) as the jobs endpoint's is. */
export const BREAKER_ENTRY = 'lambda/breaker/handler.ts';
