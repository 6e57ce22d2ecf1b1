/**
 * The recent events of local mode, numbered, for tools that follow the pipeline from another process (the web
 * console reads them through `GET /_hookline/events?after=<seq>`). A bounded ring: the oldest entries go first,
 * and a reader that fell behind sees the gap through the sequence numbers. With a file journal it also writes
 * every event there with the same time, run and number, so the console's feed and `hookline trace --local` read
 * one record, and a follower that missed lines of the feed finds them in the file.
 */
import { randomUUID } from 'node:crypto';
import type { LocalEvent } from './reporter';

/** One recorded event with its sequence number (from 1, increasing) and the time it was reported. */
export type JournalEntry = LocalEvent & { readonly seq: number; readonly at: string };

/** The answer to a read: entries after the given sequence number and the newest number recorded. */
export interface JournalPage {
  readonly events: readonly JournalEntry[];
  readonly latest: number;
  /**
   * This run of local mode: its numbers start at 1 again in the next run, so a follower that sees another run
   * knows the numbers it holds belong to the one before.
   */
  readonly run: string;
  /** Local mode is stopping and has drained: nothing more is journaled in this run after `latest`. */
  readonly ended?: true;
}

/** Where a journal line belongs: its run and its number in that run (written to the file with it). */
export interface JournalPosition {
  readonly run: string;
  readonly seq: number;
}

/** Entries kept. @default */
export const DEFAULT_JOURNAL_CAPACITY = 5_000;

/**
 * A follower that read within this long counts as following when local mode stops: the console reads every
 * second, page after page, so a reader quiet for longer is gone or stalled.
 */
export const FOLLOWER_ACTIVE_MS = 3_000;

/** Where every event is also appended (local mode's journal file, `./journal`). */
export interface JournalFile {
  append(event: LocalEvent, at: Date, position?: JournalPosition): void;
}

/** Keeps the last `capacity` events. */
export class EventJournal {
  private readonly entries: JournalEntry[] = [];
  private seq = 0;
  private ended = false;
  /** Per follower (as its reads name it): when it last read, and the newest number it then had. */
  private readonly followers = new Map<string, { readAt: number; has: number; afterEnd: boolean }>();

  constructor(
    private readonly capacity = DEFAULT_JOURNAL_CAPACITY,
    private readonly now: () => Date = () => new Date(),
    private readonly file?: JournalFile,
    readonly run: string = randomUUID(),
  ) {}

  /** Records an event at the time it happened when it says so, else now. */
  record(event: LocalEvent): void {
    const at = event.at !== undefined ? new Date(event.at) : this.now();
    this.seq += 1;
    this.entries.push({ ...event, seq: this.seq, at: at.toISOString() });
    this.file?.append(event, at, { run: this.run, seq: this.seq });
    if (this.entries.length > this.capacity) this.entries.splice(0, this.entries.length - this.capacity);
  }

  /** Entries with a sequence number above `after`, oldest first, at most `limit`, as `follower` reads them. */
  after(after: number, limit = 1_000, follower = ''): JournalPage {
    const first = this.entries.findIndex((e) => e.seq > after);
    const events = first === -1 ? [] : this.entries.slice(first, first + Math.max(1, limit));
    const readAt = this.now().getTime();
    this.forgetQuietFollowers(readAt);
    this.followers.set(follower, {
      readAt,
      has: events.at(-1)?.seq ?? after,
      afterEnd: this.ended,
    });
    return { events, latest: this.seq, run: this.run, ...(this.ended ? { ended: true as const } : {}) };
  }

  /** Followers remembered: those that read within {@link FOLLOWER_ACTIVE_MS} of the latest read. */
  get followersTracked(): number {
    return this.followers.size;
  }

  /**
   * Drops the followers quiet for longer than {@link FOLLOWER_ACTIVE_MS}, which a stop waits for no more: each
   * console names itself afresh, so a long run would otherwise keep one entry per console ever started (or per
   * name any loopback caller made up).
   */
  private forgetQuietFollowers(now: number): void {
    for (const [name, read] of this.followers) {
      if (read.readAt < now - FOLLOWER_ACTIVE_MS) this.followers.delete(name);
    }
  }

  /** Nothing more is journaled for followers in this run: their reads say so from now on. */
  end(): void {
    this.ended = true;
  }

  /**
   * Waits, at most `timeoutMs`, until every follower that read within {@link FOLLOWER_ACTIVE_MS} has read, after
   * {@link end}, up to the last line; resolves to how many had not.
   */
  async followersCaughtUp(timeoutMs: number): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const lagging = this.laggingFollowers();
      if (lagging === 0 || Date.now() >= deadline) return lagging;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  private laggingFollowers(): number {
    const activeSince = this.now().getTime() - FOLLOWER_ACTIVE_MS;
    let lagging = 0;
    for (const read of this.followers.values()) {
      if (read.readAt >= activeSince && !(read.afterEnd && read.has >= this.seq)) lagging += 1;
    }
    return lagging;
  }
}
