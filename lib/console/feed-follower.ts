/**
 * Follows an event feed across the runs of local mode: every line once, in the console's own numbering, each
 * marked with the run that wrote it, the lines it could not read from the feed (a gap in the numbers, the last
 * lines of a run that stopped or was restarted under it, the recent lines of runs before the one it first reads)
 * read from local mode's journal file, and a count of what neither had. Pure: the feed, the journal file and where
 * the lines go are its collaborators.
 */
import type { EventFeed, FeedEvent, FeedPage } from './feed';

/**
 * The lines of one run of local mode in its journal file numbered `from` or later, oldest first (each with its number
 * in that run); an empty list when the file holds none of them (a restart without a data directory empties it),
 * undefined when there is no file to read. The follower asks from the last line it has, so that line alone tells a
 * run it has read whole from one the file no longer holds.
 */
export type JournalRunLines = (run: string, from: number) => readonly FeedEvent[] | undefined;

/**
 * The recent lines of local mode's journal file, of every run (each line carrying its run and its number there),
 * oldest first: those written at `since` or later, at most the newest `most`.
 */
export type JournalRecentLines = (since: Date, most: number) => Promise<readonly FeedEvent[]>;

/** What the follower could not show. */
export interface FollowerGaps {
  /** Lines neither the feed nor the journal file had when the follower looked for them. */
  readonly missed: number;
  /**
   * Runs whose last lines the follower could not read (nothing of them was left in the journal file), so how many
   * it missed there is unknown.
   */
  readonly runsEndedUnread: number;
}

/** Reads a feed into `deliver`, numbering the lines of every run on from the last. */
export class FeedFollower {
  /** The run being read; undefined before the first page, or for a feed that names none (an older local mode). */
  private run: string | undefined;
  /** The newest number of the current run this follower has. */
  private latest = 0;
  /** Added to a run's numbers, which start at 1 again in every run. */
  private seqBase = 0;
  /** The feed said the run ended and this follower had read it to its last line. */
  private readToEnd = false;
  /** The journal file was found holding lines of the current run (it was read while local mode was down). */
  private runFoundInFile = false;
  private missed = 0;
  private runsEndedUnread = 0;
  /** The first page was read (the lines before it, earlier runs' included, are taken then, once). */
  private started = false;

  /**
   * @param recentLines the journal file's lines within the console's window, read once, before the first page:
   * the runs before the one the feed serves then are not in the feed.
   */
  constructor(
    private readonly deliver: (events: readonly FeedEvent[]) => void,
    private readonly journalLines?: JournalRunLines,
    private readonly recentLines?: () => Promise<readonly FeedEvent[]>,
  ) {}

  gaps(): FollowerGaps {
    return { missed: this.missed, runsEndedUnread: this.runsEndedUnread };
  }

  /**
   * Reads until caught up: a burst journals more than a page a second, and the journal keeps only its newest lines.
   * A feed's failure that comes with its pages ({@link FeedPage.failure}) is thrown once their lines are delivered.
   */
  async read(feed: EventFeed): Promise<void> {
    for (;;) {
      let page = await feed.after(this.latest);
      if (page.run !== undefined && this.run !== undefined && page.run !== this.run) {
        this.endRun();
        page = await feed.after(0);
      }
      this.run ??= page.run;
      if (!this.started) await this.takeEarlierLines(page);
      this.started = true;
      const first = page.events[0]?.seq;
      if (this.latest > 0 && first !== undefined && first > this.latest + 1) this.recover(first);
      this.take(page.events);
      const last = page.events.at(-1)?.seq;
      this.latest = last ?? Math.max(this.latest, page.latest);
      if (page.ended && this.latest >= page.latest) this.readToEnd = true;
      if (last !== undefined && last < page.latest) continue;
      if (page.failure) throw page.failure;
      return;
    }
  }

  /**
   * Local mode cannot be reached (stopped, or killed): the lines of its run this follower has not read are in the
   * journal file, complete once a stop has ended, so they are read from there.
   */
  readStoppedRun(): void {
    if (this.run === undefined || this.readToEnd) return;
    const lines = this.journalLines?.(this.run, this.latest);
    if (!lines || lines.length === 0) return;
    this.runFoundInFile = true;
    this.takeFromFile(lines, Number.POSITIVE_INFINITY);
  }

  /**
   * The feed is another run's (or another local mode's): the lines of the one before that this follower has not
   * read come from the journal file, then the new run is numbered on from the old one's last line.
   */
  endRun(): void {
    if (this.run !== undefined) {
      const lines = this.journalLines?.(this.run, this.latest);
      if (lines && lines.length > 0) this.takeFromFile(lines, Number.POSITIVE_INFINITY);
      else if (!this.readToEnd && !this.runFoundInFile) this.runsEndedUnread += 1;
    }
    this.seqBase += this.latest;
    this.latest = 0;
    this.run = undefined;
    this.readToEnd = false;
    this.runFoundInFile = false;
  }

  /**
   * Before the first page: the file's recent lines the page does not hold, those of earlier runs numbered before
   * the current run's (which keep their own numbers), and those of the current run older than the page's first. A
   * feed that names no run cannot tell its lines from the file's, so nothing is taken for it. Another run's line
   * written after the current run's first is a later run's (local mode restarted while the file was read): the feed
   * serves it once the follower reads that run, so it is not taken as an earlier one.
   */
  private async takeEarlierLines(page: FeedPage): Promise<void> {
    const current = page.run;
    if (current === undefined || !this.recentLines) return;
    const lines = await this.recentLines();
    const before = page.events[0]?.seq ?? page.latest + 1;
    const currentFrom = lines.find((line) => line.run === current)?.at ?? page.events[0]?.at;
    const earlier = lines.filter(
      (line) => line.run !== current && (currentFrom === undefined || line.at <= currentFrom),
    );
    if (earlier.length > 0) this.deliver(earlier.map((line, i) => ({ ...line, seq: i + 1 })));
    this.seqBase = earlier.length;
    // Not counted as missed where their numbers skip: the lines between are older than the window, not lost.
    this.take(lines.filter((line) => line.run === current && line.seq < before));
  }

  /** The feed skipped from `latest` to `next` (its ring dropped them): the lines between come from the file. */
  private recover(next: number): void {
    const lines = this.run !== undefined ? this.journalLines?.(this.run, this.latest) : undefined;
    if (lines) this.takeFromFile(lines, next);
    this.missed += next - this.latest - 1;
  }

  /** Takes the file's lines after `latest` and before `before`, counting the numbers the file lacks as missed. */
  private takeFromFile(lines: readonly FeedEvent[], before: number): void {
    const found = lines
      .filter((line) => line.seq > this.latest && line.seq < before)
      .sort((a, b) => a.seq - b.seq);
    for (const line of found) {
      this.missed += line.seq - this.latest - 1;
      this.take([line]);
      this.latest = line.seq;
    }
  }

  private take(events: readonly FeedEvent[]): void {
    const run = this.run !== undefined ? { run: this.run } : {};
    if (events.length > 0) this.deliver(events.map((e) => ({ ...e, ...run, seq: this.seqBase + e.seq })));
  }
}
