/**
 * The console's count of a deployed stack's jobs scheduled for later, shared by every refresh of every open page.
 * Counting lists the stack's schedules (`scheduler:ListSchedules`, up to `SCHEDULED_JOB_PAGES` calls one after the
 * other), and the overview refreshes every 2 s per open tab: listing at each refresh would spend the account's
 * Region-wide `ListSchedules` quota (50 calls a second by default) and a second of calls per refresh on a figure about
 * jobs due 15 minutes or more from when they were sent. So a count (or why there is none) is reused for
 * {@link SCHEDULED_JOBS_RECOUNT_MS}, and refreshes that come while a listing runs wait for that listing.
 */

import { plural } from '../../lambda/shared/plural';
import type { Clock } from '../cli/backend';
import type { ScheduledJobsCount } from '../cli/scheduled-jobs';
import { ago, asOfWords, SharedReads } from './shared-reads';

/**
 * How long a count, a denial or a failure is reused before the schedules are listed again: at most 10 calls per 30 s
 * (under 1% of the default quota) whatever the number of tabs, and a figure at most 30 s old on jobs that wait at
 * least 15 minutes.
 */
export const SCHEDULED_JOBS_RECOUNT_MS = 30_000;

/** A count that was made, kept to say alongside a later listing that could not count. */
export interface EarlierCount {
  readonly count: number;
  readonly atLeast: boolean;
  /** When its listing started (ms since the epoch, of the console's clock). */
  readonly at: number;
}

/** What the last listing said, and when it started. */
export interface CountAsOf {
  readonly counted: ScheduledJobsCount;
  /** When the listing started (ms since the epoch, of the console's clock): the figure is at least this old. */
  readonly at: number;
  /** The last count made, when this listing could not count (denied, throttled, failed). */
  readonly earlier?: EarlierCount;
}

/** One console's counts, by what they count (a stack, and a queue or all). */
export class ScheduledJobsCounts {
  private readonly reads: SharedReads<CountAsOf>;

  constructor(clock: Pick<Clock, 'now'>, recountMs: number = SCHEDULED_JOBS_RECOUNT_MS) {
    this.reads = new SharedReads(() => clock.now(), recountMs);
  }

  /** How long a count, a denial or a failure is reused before the schedules are listed again. */
  get recountMs(): number {
    return this.reads.reuseMs;
  }

  /**
   * The count of `key`: the last one while it is younger than {@link recountMs}, else the listing running for it,
   * else a new listing by `list`. A listing that throws (rather than answering why it could not count) is not
   * kept: the next refresh lists again.
   */
  count(key: string, list: () => Promise<ScheduledJobsCount>): Promise<CountAsOf> {
    return this.reads.read(key, async (at, last) => {
      const counted = await list();
      return { counted, at, ...earlierOf(counted, last) };
    });
  }
}

/** The count to say beside a listing that could not count: the previous listing's, or the one it kept. */
function earlierOf(counted: ScheduledJobsCount, previous: CountAsOf | undefined) {
  if ('count' in counted || !previous) return {};
  if ('count' in previous.counted) {
    const { count, atLeast } = previous.counted;
    return { earlier: { count, atLeast, at: previous.at } };
  }
  return previous.earlier ? { earlier: previous.earlier } : {};
}

/**
 * The overview's sentence on the jobs scheduled for later, with how old what it says is and how often it is
 * listed again: a count reused from an earlier refresh must not read as current, nor a denial or failure as just
 * tried. Where the last listing could not count, the last count made is said with its own age, never as current.
 */
export function withCountAge<T extends { readonly text: string }>(
  sentence: T,
  asOf: CountAsOf,
  now: number,
  recountMs: number,
): T {
  const age = asOfWords(asOf, now, recountMs, 'count' in asOf.counted ? 'counted' : 'tried');
  const { earlier } = asOf;
  const last = earlier
    ? `; the last count, ${ago(now - earlier.at)}: ${earlier.atLeast ? 'at least ' : ''}${plural(earlier.count, 'job')}`
    : '';
  return { ...sentence, text: `${sentence.text}; ${age}${last}` };
}
