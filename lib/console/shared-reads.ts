/**
 * A read the console makes of AWS on behalf of every refresh of every open page: the page refreshes every few
 * seconds per tab, and each refresh asking AWS again would spend the account's quota (and seconds of calls) on
 * figures that change more slowly than that. So an answer is reused for a while, and refreshes that come while a
 * read runs wait for that read instead of starting their own (several tabs must not make several calls). A reused
 * answer must not read as current: the page says each one's age in the words of {@link asOfWords}.
 */

import { humanAge } from './ui/human-age';

/** What a read answered, and when it started. */
export interface ReadAnswer {
  /** When the read started (ms since the epoch, of the clock the reads are aged by): the answer is at least this old. */
  readonly at: number;
}

/**
 * Reads running, by what they read: a read asked for again while it runs is joined, not started again. What a read
 * carries beside its answer (how recently it was heard from, say) is its own.
 */
export class ReadsInFlight<R extends { readonly answer: Promise<unknown> }> {
  private readonly running = new Map<string, R>();

  /** The read running for `key`, else the one `start` starts, known by `key` until its answer comes or fails. */
  join(key: string, start: () => R): R {
    const running = this.running.get(key);
    if (running) return running;
    const started = start();
    this.running.set(key, started);
    const forget = () => this.running.delete(key);
    started.answer.then(forget, forget);
    return started;
  }
}

/** One console's reads of one kind, by what they read (a stack's schedules of a queue, say). */
export class SharedReads<T extends ReadAnswer> {
  private readonly last = new Map<string, T>();
  private readonly running = new ReadsInFlight<{ readonly answer: Promise<T> }>();

  /**
   * @param now the clock answers are aged by
   * @param reuseMs how long an answer is reused before `key` is read again
   */
  constructor(
    private readonly now: () => number,
    readonly reuseMs: number,
  ) {}

  /**
   * The answer for `key`: the last one while it is younger than {@link reuseMs} (not from ahead of the clock), else the read running for it,
   * else a new read by `read`, told when it starts and the last answer. A read that throws is not kept: the next
   * refresh reads again.
   */
  read(key: string, read: (at: number, previous: T | undefined) => Promise<T>): Promise<T> {
    const last = this.last.get(key);
    // An answer from ahead of the clock (one set back since) has no age to reuse it by: it would read as just made.
    const age = last ? this.now() - last.at : Number.NaN;
    if (last && age >= 0 && age < this.reuseMs) return Promise.resolve(last);
    return this.running.join(key, () => ({
      answer: read(this.now(), last).then((answer) => {
        this.last.set(key, answer);
        return answer;
      }),
    })).answer;
  }
}

/** An age as the overview says it: `just now` under a second, else `12s ago`, `1m 35s ago`. */
export function ago(ms: number): string {
  return ms < 1_000 ? 'just now' : `${humanAge(Math.floor(ms / 1_000))} ago`;
}

/**
 * How old a shared read's answer is and how often it is made again, as the overview says it beside what the answer
 * says (`as of 12s ago, counted again at most every 30s`): `again` is what the next read will do, `tried` where this
 * one could not say the figure (denied, failed).
 */
export function asOfWords(answer: ReadAnswer, now: number, reuseMs: number, again: string): string {
  return `as of ${ago(Math.max(0, now - answer.at))}, ${again} again at most every ${humanAge(reuseMs / 1_000)}`;
}
