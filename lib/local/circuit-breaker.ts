/**
 * Local mode's circuit breaker for one consumer: it counts the outcomes the consumer reports for the records its
 * emulated event source mapping delivered, over the last `window`, and trips once the shared rule
 * (`lambda/shared/circuit-breaker.ts`, the same one the deployed alarm computes) says so. The trip pauses the
 * consumer through the path `hookline pause --local` takes; resuming is manual.
 */
import {
  BREAKER_OUTCOMES,
  type BreakerTrip,
  breakerTrips,
  type CircuitBreakerRule,
  isBreakerExemptLine,
  isBreakerOutcome,
  type RecordCounts,
} from '../../lambda/shared/circuit-breaker';
import { parseOutcomeLine } from './reporter';

/** Options of {@link LocalCircuitBreaker}. */
export interface LocalCircuitBreakerOptions {
  readonly rule: CircuitBreakerRule;
  /** Pauses the consumer; called once per trip. */
  readonly trip: (trip: BreakerTrip) => void;
  /** Whether the consumer runs: outcomes of batches still finishing after a pause are not counted. */
  readonly running: () => boolean;
  /** Epoch milliseconds. @default Date.now */
  readonly now?: () => number;
}

/** Outcomes of the last window, oldest first, and the counts they add up to. */
export class LocalCircuitBreaker {
  private readonly outcomes: { readonly atMs: number; readonly failed: boolean }[] = [];
  private failed = 0;

  constructor(private readonly options: LocalCircuitBreakerOptions) {}

  /** The records that ended in the window now, as the rule counts them. */
  counts(): RecordCounts {
    this.forgetBefore(this.now() - this.windowMs);
    return { ended: this.outcomes.length, failed: this.failed };
  }

  /** A line the consumer logged: its `record outcome` lines are observed, every other line is ignored. */
  observeLine(line: string): void {
    const outcome = parseOutcomeLine(line)?.event;
    if (outcome === undefined) return;
    // Only a failed outcome can be left out: a processed line is not read twice.
    this.observe(
      outcome,
      isBreakerOutcome(outcome) && BREAKER_OUTCOMES[outcome].failed && isExemptLine(line),
    );
  }

  /**
   * One record's outcome (its `record outcome` line's `outcome`, and whether that line marks a record the breaker
   * leaves out: a poison record, or a copy whose idempotency key another execution held); trips the breaker when
   * the rule says so.
   */
  observe(outcome: string, exempt = false): void {
    if (!isBreakerOutcome(outcome, exempt) || !this.options.running()) return;
    const failed = BREAKER_OUTCOMES[outcome].failed;
    this.outcomes.push({ atMs: this.now(), failed });
    if (failed) this.failed += 1;
    const counts = this.counts();
    if (!breakerTrips(this.options.rule, counts)) return;
    // A resumed consumer starts a fresh window: the failures that tripped it are not counted twice.
    this.reset();
    this.options.trip({
      trippedAt: new Date(this.now()).toISOString(),
      ...counts,
      windowMinutes: this.options.rule.windowMinutes,
    });
  }

  /** Forgets every outcome: a resumed consumer is judged on what it does from now on. */
  reset(): void {
    this.outcomes.length = 0;
    this.failed = 0;
  }

  private get windowMs(): number {
    return this.options.rule.windowMinutes * 60_000;
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  private forgetBefore(cutoffMs: number): void {
    while (this.outcomes.length > 0 && (this.outcomes[0]?.atMs ?? cutoffMs) <= cutoffMs) {
      if (this.outcomes.shift()?.failed) this.failed -= 1;
    }
  }
}

/** Whether an outcome line marks a record the breaker does not count (`BREAKER_EXEMPT_RECORDS`). */
function isExemptLine(line: string): boolean {
  try {
    return isBreakerExemptLine(JSON.parse(line) as Record<string, unknown>);
  } catch {
    return false;
  }
}
