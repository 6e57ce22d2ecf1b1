/**
 * Local mode's event journal: every event the reporter sees (the functions' outcome lines, schedules, replays
 * recorded by the CLI) as one JSON line with its time, in `<state dir>/journal.jsonl`. `hookline trace --local`
 * reads it, so a timeline survives the terminal it was printed on; `hookline tail --local` follows it. Without a data directory the emulators
 * start empty, so the journal starts empty too; with one it keeps growing across restarts, like the queues.
 */
import {
  appendFileSync,
  closeSync,
  createWriteStream,
  fstatSync,
  mkdirSync,
  openSync,
  readSync,
  type WriteStream,
  writeFileSync,
} from 'node:fs';
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
    else endTornLine(path);
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

/**
 * Ends a last line a killed writer left torn (`kill -9`, a full disk) before more is appended: the first line
 * written after it would otherwise run on from it, and both would be skipped as one torn line.
 */
function endTornLine(path: string): void {
  let torn = false;
  try {
    const file = openSync(path, 'r');
    try {
      const { size } = fstatSync(file);
      const last = Buffer.alloc(1);
      torn = size > 0 && readSync(file, last, 0, 1, size - 1) === 1 && last[0] !== 0x0a;
    } finally {
      closeSync(file);
    }
    // Appended, never written at an offset: a line another writer appends meanwhile stays whole (an empty line at worst).
    if (torn) appendFileSync(path, '\n');
  } catch {
    // No file yet, or one that cannot be written: the journal's own writes then fail as quietly.
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
