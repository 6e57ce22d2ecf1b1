/**
 * Journal lines in the order they happened. Local mode's journal has more than one writer: the ingest's, the jobs
 * endpoint's and every consumer's lines reach it in the order their workers' output is read, and `replay --local`
 * appends its `replayed` lines with the time its run started; each line keeps the time it happened (`at`), so the
 * file's order is not the order of events (a consumer's `processed` can be written before the ingest's `queued` of
 * the same event). Whoever shows lines in time order orders them here: {@link inTimeOrder} for lines read whole,
 * {@link SettlingOrder} for lines read as they are written (`tail`), and {@link LateLines} says which line shown is
 * out of its place (the deployed `tail`'s too, whose lines CloudWatch Logs may take in late).
 */

/** A line that says when it happened (ISO 8601). */
export interface TimedLine {
  readonly at: string;
}

/** The time of a line in ms; one whose time cannot be read counts as after every other, so it is never lost. */
function timeOf(line: TimedLine): number {
  const time = Date.parse(line.at);
  return Number.isNaN(time) ? Number.POSITIVE_INFINITY : time;
}

/** `lines` in the order they happened: by `at`, and lines of the same time in the order given. */
export function inTimeOrder<T extends TimedLine>(lines: readonly T[]): T[] {
  return lines
    .map((line, index) => ({ line, time: timeOf(line), index }))
    .sort((a, b) => a.time - b.time || a.index - b.index)
    .map(({ line }) => line);
}

/**
 * How long a line read from the journal is held before it is shown, so that a line of an earlier time that another
 * writer's output brings to the file a little later is shown before it: local mode relays each function's lines
 * within milliseconds, a few hundred on a loaded machine.
 */
export const JOURNAL_SETTLE_MS = 1_000;

/**
 * Which lines shown come late: a line is late when a line of a later time was shown before it, so it is shown out of
 * its place in time. The one rule of `tail`, locally and deployed, so both mark the same lines the same way.
 */
export class LateLines {
  private newestShown = Number.NEGATIVE_INFINITY;

  /** Whether a line of `time` (ms) shown now would be late. */
  wouldBeLate(time: number): boolean {
    return time < this.newestShown;
  }

  /**
   * Counts a line of `time` (ms) as shown and says whether it is late. A time that cannot be read (NaN) says nothing
   * of the order: it is not late and moves nothing.
   */
  shown(time: number): boolean {
    if (Number.isNaN(time)) return false;
    const late = this.wouldBeLate(time);
    this.newestShown = Math.max(this.newestShown, time);
    return late;
  }
}

/** A line {@link SettlingOrder} lets go, and whether it came too late to be shown in its place. */
export interface SettledLine<T> {
  readonly line: T;
  /**
   * Read after a line of a later time was shown: its writer wrote it more than the settle window after its time
   * (a `replayed` line carries the time its replay run started), so it is shown where it was read, not in its place.
   */
  readonly late: boolean;
}

/**
 * Orders lines read as they are written: each read's lines join those held, and a held line is let go, with every
 * held line of an earlier or equal time, in time order, once no line still to be read can be earlier than it. A
 * line is written within `settleMs` of its time, so a line not yet read is no earlier than the newest time read, nor
 * than the time of the last read that reached the end of the file, less `settleMs`. A line is never held longer than
 * `settleMs` after it was read (one dated ahead of the clock included, and a clock set back meanwhile). A line read after a later one was let go is
 * let go at once, marked late: never dropped.
 */
export class SettlingOrder<T extends TimedLine> {
  private held: {
    readonly line: T;
    readonly time: number;
    readAt: number;
    readonly index: number;
  }[] = [];
  private newestRead = Number.NEGATIVE_INFINITY;
  private caughtUpAt = Number.NEGATIVE_INFINITY;
  private readonly lateLines = new LateLines();
  private linesRead = 0;

  /** @param settleMs how long after its time a line may still be written. @default JOURNAL_SETTLE_MS */
  constructor(private readonly settleMs = JOURNAL_SETTLE_MS) {}

  /**
   * Takes the lines of one read and gives back those let go, in the order to show them.
   *
   * @param readAt the clock (ms) when the read started.
   * @param atEnd the read reached the end of the file: every line written before `readAt` has been read.
   */
  next(lines: readonly T[], readAt: number, atEnd: boolean): SettledLine<T>[] {
    // A clock set back (the system's, by an hour) counts a held line's hold from now: not till the clock catches up.
    for (const held of this.held) held.readAt = Math.min(held.readAt, readAt);
    for (const line of lines) {
      // A line whose time cannot be read is placed at the time it was read.
      const parsed = timeOf(line);
      const time = parsed === Number.POSITIVE_INFINITY ? readAt : parsed;
      this.held.push({ line, time, readAt, index: this.linesRead++ });
      // A line dated ahead of the clock says nothing of what is still to be written after it.
      this.newestRead = Math.max(this.newestRead, Math.min(time, readAt));
    }
    if (atEnd) this.caughtUpAt = Math.max(this.caughtUpAt, readAt);
    return this.letGo(readAt);
  }

  /** Lines held now. */
  get holding(): number {
    return this.held.length;
  }

  private letGo(now: number): SettledLine<T>[] {
    const settled = Math.max(this.newestRead, this.caughtUpAt) - this.settleMs;
    let until = Number.NEGATIVE_INFINITY;
    for (const held of this.held) {
      const due =
        held.time <= settled || held.readAt <= now - this.settleMs || this.lateLines.wouldBeLate(held.time);
      if (due) until = Math.max(until, held.time);
    }
    const going = this.held.filter((held) => held.time <= until);
    if (going.length === 0) return [];
    this.held = this.held.filter((held) => held.time > until);
    going.sort((a, b) => a.time - b.time || a.index - b.index);
    return going.map(({ line, time }) => ({ line, late: this.lateLines.shown(time) }));
  }
}
