/**
 * The time a batch may still spend on best-effort bookkeeping before it returns: held-receive counts, handing back
 * records not started, dead-letter sends in the deadline margin, the archive put of its first arrivals. Lambda must have the batch response before its
 * timeout, or the whole batch comes back, records already processed included (and they run again). So these calls
 * run a few at a time, none starts once the invocation's time left falls to the guard, and none is waited for
 * past it: a call that did not start or did not finish by then counts as not done.
 *
 * Made for a batch only when it has such work, so a batch that needs none pays nothing.
 */
import { type Alarm, type InvocationContext, MAX_ALARM_MS } from '../shared/invocation-deadline';

/** What a call comes to when it did not start, or did not finish, before the guard. */
export const OUT_OF_TIME = Symbol('out of time before the batch response');
export type OutOfTime = typeof OUT_OF_TIME;

/**
 * Calls at most at once. The SDK opens up to 50 sockets per client and queues the rest, where no one can take
 * them back; half of that leaves sockets to the records' own calls and keeps DynamoDB from throttling a burst.
 */
export const SETTLE_CONCURRENCY = 25;

/** The time kept for the batch response itself (outcome lines, metrics, Lambda's runtime taking the answer). */
export const SETTLE_GUARD_MS = 500;

/** The guard for a deadline margin: {@link SETTLE_GUARD_MS}, or half a smaller margin. */
export function settleGuardMs(deadlineMarginMs: number): number {
  return Math.min(SETTLE_GUARD_MS, deadlineMarginMs / 2);
}

/** One batch's budget; `close()` it when the batch returns. */
export class SettleBudget {
  #active = 0;
  #waiting: Array<(slot: boolean) => void> = [];
  #expired = false;
  #cancelAlarm: () => void = () => {};
  #endTime: () => void = () => {};
  readonly #timeUp: Promise<OutOfTime>;

  constructor(
    private readonly invocation: InvocationContext,
    private readonly guardMs: number,
    private readonly alarm: Alarm,
    private readonly concurrency = SETTLE_CONCURRENCY,
  ) {
    this.#timeUp = new Promise((resolve) => {
      this.#endTime = () => resolve(OUT_OF_TIME);
    });
    this.#arm();
  }

  /**
   * `work`'s result, or {@link OUT_OF_TIME} when the guard comes first (the work goes on, unawaited). Work already
   * settled wins even past the guard: a record that finished is never reported as not done.
   */
  within<T>(work: Promise<T>): Promise<T | OutOfTime> {
    return Promise.race([work, this.#timeUp]);
  }

  /**
   * `work`'s result, or {@link OUT_OF_TIME} once `share` of the time left before the guard passed: for a read that
   * only refines the call that follows it, so that the call keeps the rest of the budget however slow the read.
   */
  briefly<T>(work: Promise<T>, share: number): Promise<T | OutOfTime> {
    const waitMs = Math.min(this.#timeLeftMs() * share, MAX_ALARM_MS);
    if (waitMs <= 0) return Promise.resolve(OUT_OF_TIME);
    let cancel = () => {};
    const cut = new Promise<OutOfTime>((resolve) => {
      cancel = this.alarm(waitMs, () => resolve(OUT_OF_TIME));
    });
    return this.within(Promise.race([work, cut])).finally(() => cancel());
  }

  /**
   * Starts `call` once fewer than the limit run, unless the guard came first; waits for it until the guard. `ahead`
   * puts it before the calls already waiting: a call that completes what those began (a hand-back of records whose
   * counts are written) would otherwise wait behind counts of records it may never reach.
   */
  async run<T>(call: () => Promise<T>, options: { readonly ahead?: boolean } = {}): Promise<T | OutOfTime> {
    if (!(await this.#slot(options.ahead === true))) return OUT_OF_TIME;
    try {
      if (this.#timeLeftMs() <= 0) {
        this.#expire();
        return OUT_OF_TIME;
      }
      return await this.within(call());
    } finally {
      this.#free();
    }
  }

  /** The batch returned: its alarm is cancelled. */
  close(): void {
    this.#cancelAlarm();
  }

  #timeLeftMs(): number {
    return this.invocation.getRemainingTimeInMillis() - this.guardMs;
  }

  /** Rings at the guard; re-armed when the clock ran slower than the wall's (local mode shares a sandbox's time). */
  #arm(): void {
    const leftMs = this.#timeLeftMs();
    if (leftMs <= 0) this.#expire();
    else if (leftMs <= MAX_ALARM_MS) this.#cancelAlarm = this.alarm(leftMs, () => this.#arm());
  }

  #expire(): void {
    if (this.#expired) return;
    this.#expired = true;
    this.#cancelAlarm();
    this.#endTime();
    const waiting = this.#waiting;
    this.#waiting = [];
    for (const wake of waiting) wake(false);
  }

  /** True once the caller holds a slot; false when the guard came while it waited for one. */
  #slot(ahead: boolean): Promise<boolean> {
    if (this.#expired) return Promise.resolve(false);
    if (this.#active < this.concurrency) {
      this.#active++;
      return Promise.resolve(true);
    }
    return new Promise((resolve) => {
      if (ahead) this.#waiting.unshift(resolve);
      else this.#waiting.push(resolve);
    });
  }

  /** A call ended: its slot goes to the next one waiting, so none slips in between. */
  #free(): void {
    const next = this.#waiting.shift();
    if (next) next(true);
    else this.#active--;
  }
}
