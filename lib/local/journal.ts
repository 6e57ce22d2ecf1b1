/**
 * Local mode's event journal: every event the reporter sees (the functions' outcome lines, schedules, replays
 * recorded by the CLI) as one JSON line with its time, in `<state dir>/journal.jsonl`. `hookline trace --local`
 * reads it, so a timeline survives the terminal it was printed on. Without a data directory the emulators
 * start empty, so the journal starts empty too; with one it keeps growing across restarts, like the queues.
 */
import { createWriteStream, mkdirSync, type WriteStream, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { JournalPosition } from './event-journal';
import type { LocalEvent } from './reporter';

/**
 * One journal line: the event and when it was recorded (ISO 8601); local mode's own lines also carry their run and
 * number in it, as its feed serves them (the CLI's `replayed` lines have neither).
 */
export type JournalEntry = LocalEvent & { readonly at: string } & Partial<JournalPosition>;

/** Appends events to the journal file. */
export class Journal {
  private readonly stream: WriteStream;

  constructor(
    readonly path: string,
    options: { readonly truncate: boolean },
  ) {
    mkdirSync(dirname(path), { recursive: true });
    // Emptied first, then always opened to append: the CLI appends to the same file (`replayed`), and a stream
    // opened with 'w' writes at its own offset, over the lines another process appended meanwhile.
    if (options.truncate) writeFileSync(path, '');
    this.stream = createWriteStream(path, { flags: 'a' });
    // A journal that cannot be written must not stop the pipeline; trace then shows less.
    this.stream.on('error', () => {});
  }

  append(event: LocalEvent, at: Date = new Date(), position?: JournalPosition): void {
    this.stream.write(`${JSON.stringify({ ...event, ...position, at: at.toISOString() })}\n`);
  }

  /** Writes what is pending and closes the file. */
  close(): Promise<void> {
    return new Promise((resolve) => this.stream.end(() => resolve()));
  }
}

/** Parses journal text; torn or foreign lines are skipped. */
export function parseJournal(text: string): JournalEntry[] {
  const entries: JournalEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const entry = JSON.parse(line) as JournalEntry;
      if (typeof entry.event === 'string' && typeof entry.at === 'string') entries.push(entry);
    } catch {
      // skipped
    }
  }
  return entries;
}
