/**
 * The recent events of local mode, numbered, for tools that follow the pipeline from another process (the web
 * console reads them through `GET /_hookline/events?after=<seq>`). A bounded ring: the oldest entries go first,
 * and a reader that fell behind sees the gap through the sequence numbers. With a file journal it also writes
 * every event there with the same time, so the console's feed and `hookline trace --local` read one record.
 */
import type { LocalEvent } from './reporter';

/** One recorded event with its sequence number (from 1, increasing) and the time it was reported. */
export type JournalEntry = LocalEvent & { readonly seq: number; readonly at: string };

/** The answer to a read: entries after the given sequence number and the newest number recorded. */
export interface JournalPage {
  readonly events: readonly JournalEntry[];
  readonly latest: number;
}

/** Entries kept. @default */
export const DEFAULT_JOURNAL_CAPACITY = 5_000;

/** Where every event is also appended (local mode's journal file, `./journal`). */
export interface JournalFile {
  append(event: LocalEvent, at: Date): void;
}

/** Keeps the last `capacity` events. */
export class EventJournal {
  private readonly entries: JournalEntry[] = [];
  private seq = 0;

  constructor(
    private readonly capacity = DEFAULT_JOURNAL_CAPACITY,
    private readonly now: () => Date = () => new Date(),
    private readonly file?: JournalFile,
  ) {}

  /** Records an event at the time it happened when it says so, else now. */
  record(event: LocalEvent): void {
    const at = event.at !== undefined ? new Date(event.at) : this.now();
    this.seq += 1;
    this.entries.push({ ...event, seq: this.seq, at: at.toISOString() });
    this.file?.append(event, at);
    if (this.entries.length > this.capacity) this.entries.splice(0, this.entries.length - this.capacity);
  }

  /** Entries with a sequence number above `after`, oldest first, at most `limit`. */
  after(after: number, limit = 1_000): JournalPage {
    const first = this.entries.findIndex((e) => e.seq > after);
    const events = first === -1 ? [] : this.entries.slice(first, first + Math.max(1, limit));
    return { events, latest: this.seq };
  }
}
