/**
 * Local mode's stand-in for the stack's `DeleteFailed` alarm: it sums the `DeleteFailed` counts every consumer's
 * batches publish (EMF documents, which the deployed alarm's Metrics Insights query sums over every consumer) per
 * period of {@link DELETE_FAILED_PERIOD}, aligned to the epoch as CloudWatch aligns its periods, on local mode's
 * clock. It says once when {@link DELETE_FAILED_PERIODS} periods in a row each had a failed delete (at the first of
 * the last of them, as soon as it is known), and once when a whole period passed without one. Only what the
 * consumers count is counted: a batch that times out or crashes publishes nothing, locally as deployed.
 */
import type { CONSUMER_TYPE_COUNTS } from '../../lambda/shared/contracts';
import { DELETE_FAILED_PERIOD, DELETE_FAILED_PERIODS, deleteFailedText } from '../alarm-conditions';
import { humanAge } from '../console/ui/human-age';
import type { AlarmChange } from './alarm-watch';
import { metricDocumentOf } from './reporter';

/** The consumers' metric counting a finished record whose own delete failed. */
const DELETE_FAILED_METRIC = 'DeleteFailed' satisfies (typeof CONSUMER_TYPE_COUNTS)[number];

/** How often a period's end is looked for while failures are counted or the alarm is on. */
export const DELETE_FAILED_TICK_MS = 1_000;

/** Options of {@link LocalDeleteFailures}. */
export interface LocalDeleteFailuresOptions {
  /** Told each crossing, into the alarm and back. */
  readonly onChange: (change: AlarmChange) => void;
  /** Epoch milliseconds. @default Date.now */
  readonly now?: () => number;
}

/** One period's failed deletes, and the queues whose consumers failed them. */
interface PeriodCount {
  count: number;
  readonly queues: Set<string>;
}

/** The failed deletes of the last periods, and whether the deployed alarm would be in alarm. */
export class LocalDeleteFailures {
  private readonly periods = new Map<number, PeriodCount>();
  private alarming = false;
  /** The queues the last ALARM named, which its OK names again. */
  private alarmQueues: readonly string[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: LocalDeleteFailuresOptions) {}

  /** A line the consumer of `queue` wrote: its batch's `DeleteFailed` counts are observed, other lines ignored. */
  observeLine(queue: string, line: string): void {
    const count = deleteFailedOf(line);
    if (count > 0) this.observe(queue, count);
  }

  /** `count` failed deletes of the consumer of `queue`, now. */
  observe(queue: string, count: number): void {
    if (count <= 0) return;
    const period = this.periodNow();
    const counted = this.periods.get(period) ?? { count: 0, queues: new Set<string>() };
    counted.count += count;
    counted.queues.add(queue);
    this.periods.set(period, counted);
    this.check();
    this.timer ??= setInterval(() => this.check(), DELETE_FAILED_TICK_MS);
    // A notice never keeps the process alive.
    this.timer.unref();
  }

  /** Whether the deployed alarm would be in alarm now. */
  get inAlarm(): boolean {
    return this.alarming;
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /**
   * Looks at the clock (every {@link DELETE_FAILED_TICK_MS} while there is something to look for): in alarm while the
   * last {@link DELETE_FAILED_PERIODS} periods each had a failed delete, those before this one, or this one (from its
   * first) and those before it. Says each crossing once.
   */
  check(): void {
    const current = this.periodNow();
    for (const period of this.periods.keys())
      if (period < current - DELETE_FAILED_PERIODS) this.periods.delete(period);
    const run = (last: number) =>
      Array.from({ length: DELETE_FAILED_PERIODS }, (_, i) => this.periods.get(last - i));
    const counted = [run(current), run(current - 1)].find((periods) => periods.every(Boolean));
    const alarming = counted !== undefined;
    if (!alarming && this.periods.size === 0) this.stop();
    if (alarming === this.alarming) return;
    this.alarming = alarming;
    if (counted) this.alarmQueues = queuesOf(counted);
    this.options.onChange(alarming ? alarmChange(this.alarmQueues) : okChange(this.alarmQueues));
  }

  private periodNow(): number {
    return Math.floor((this.options.now ?? Date.now)() / DELETE_FAILED_PERIOD.toMilliseconds());
  }
}

/** The queues whose consumers failed deletes in `periods`, in name order. */
const queuesOf = (periods: readonly (PeriodCount | undefined)[]): string[] =>
  [...new Set(periods.flatMap((p) => [...(p?.queues ?? [])]))].sort();

/** The deployed alarm's description, naming the consumers whose deletes failed in the periods that crossed. */
function alarmChange(queues: readonly string[]): AlarmChange {
  const consumers =
    queues.length === 1
      ? `the consumer of ${queues[0]}, in its WARN lines`
      : `the consumers of ${queues.join(', ')}, in their WARN lines`;
  return {
    queue: queues[0] ?? '',
    queues,
    alarm: 'delete-failed',
    state: 'ALARM',
    message: `${deleteFailedText(DELETE_FAILED_PERIOD)}${consumers} "DeleteMessage failed" above (what a deployed stack's DeleteFailed alarm pages for)`,
  };
}

function okChange(queues: readonly string[]): AlarmChange {
  const period = humanAge(DELETE_FAILED_PERIOD.toSeconds());
  return {
    queue: queues[0] ?? '',
    queues,
    alarm: 'delete-failed',
    state: 'OK',
    message: `Consumers' deletes failed in none of the last ${period} (a deployed stack's DeleteFailed alarm would return to OK)`,
  };
}

/** The `DeleteFailed` count of an EMF document a consumer wrote; 0 for any other line. */
function deleteFailedOf(line: string): number {
  const count = metricDocumentOf(line, DELETE_FAILED_METRIC)?.[DELETE_FAILED_METRIC];
  return typeof count === 'number' && count > 0 ? count : 0;
}
