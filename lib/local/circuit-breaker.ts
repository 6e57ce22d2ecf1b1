/**
 * Local mode's circuit breaker for one consumer: it counts the records the consumer reports for the batches its
 * emulated event source mapping delivered, over the last `window`, and trips once the shared rule
 * (`lambda/shared/circuit-breaker.ts`, the same one the deployed alarm computes) says so. The trip pauses the
 * consumer through the path `hookline pause --local` takes; resuming is manual.
 *
 * It reads what the deployed alarm reads: the breaker totals each batch publishes (`BREAKER_METRICS`, an EMF
 * document), not the `record outcome` lines. Those follow the consumer's log level, and at WARN (which the README
 * suggests to cut CloudWatch Logs cost) a record that ended well writes none: counted from the lines, every
 * failure would count against no success, and a consumer failing a few records in thousands would be paused.
 */
import {
  BREAKER_METRICS,
  type BreakerTrip,
  breakerTrips,
  type CircuitBreakerRule,
  type RecordCounts,
} from '../../lambda/shared/circuit-breaker';
import { metricDocumentOf } from './reporter';

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

/** The batches of the last window, oldest first, and the counts they add up to. */
export class LocalCircuitBreaker {
  private readonly batches: { readonly atMs: number; readonly counts: RecordCounts }[] = [];
  private readonly total = { ended: 0, failed: 0 };

  constructor(private readonly options: LocalCircuitBreakerOptions) {}

  /** The records that ended in the window now, as the rule counts them. */
  counts(): RecordCounts {
    this.forgetBefore(this.now() - this.windowMs);
    return { ...this.total };
  }

  /** A line the consumer wrote: the breaker totals of a batch are observed, every other line is ignored. */
  observeLine(line: string): void {
    const counts = breakerTotalsOf(line);
    if (counts) this.observe(counts);
  }

  /**
   * One batch's records, as the consumer counts them for the breaker (poison records and copies whose idempotency
   * key another execution held left out); trips the breaker when the rule says so.
   */
  observe(counts: RecordCounts): void {
    if (counts.ended <= 0 || !this.options.running()) return;
    this.batches.push({ atMs: this.now(), counts });
    this.total.ended += counts.ended;
    this.total.failed += counts.failed;
    const window = this.counts();
    if (!breakerTrips(this.options.rule, window)) return;
    // A resumed consumer starts a fresh window: the failures that tripped it are not counted twice.
    this.reset();
    this.options.trip({
      trippedAt: new Date(this.now()).toISOString(),
      ...window,
      windowMinutes: this.options.rule.windowMinutes,
    });
  }

  /** Forgets every batch: a resumed consumer is judged on what it does from now on. */
  reset(): void {
    this.batches.length = 0;
    this.total.ended = 0;
    this.total.failed = 0;
  }

  private get windowMs(): number {
    return this.options.rule.windowMinutes * 60_000;
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  private forgetBefore(cutoffMs: number): void {
    while (this.batches.length > 0 && (this.batches[0]?.atMs ?? cutoffMs) <= cutoffMs) {
      const forgotten = this.batches.shift()?.counts;
      this.total.ended -= forgotten?.ended ?? 0;
      this.total.failed -= forgotten?.failed ?? 0;
    }
  }
}

/** The breaker totals of an EMF document the consumer wrote (`BREAKER_METRICS`); undefined for any other line. */
function breakerTotalsOf(line: string): RecordCounts | undefined {
  const document = metricDocumentOf(line, BREAKER_METRICS.ended);
  if (!document) return undefined;
  const ended = document[BREAKER_METRICS.ended];
  const failed = document[BREAKER_METRICS.failed];
  if (typeof ended !== 'number' || typeof failed !== 'number') return undefined;
  return { ended, failed };
}
