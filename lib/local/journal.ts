/**
 * Local mode's event journal: every event the reporter sees (the functions' outcome lines, schedules, replays
 * recorded by the CLI) as one JSON line with its time, in `<state dir>/journal.jsonl`. `hookline trace --local`
 * reads it, so a timeline survives the terminal it was printed on; `hookline tail --local` follows it. Without a data directory the emulators
 * start empty, so the journal starts empty too; with one it is kept across restarts, like the queues. Local mode keeps
 * it within a cap (`HOOKLINE_JOURNAL_MAX`, `journal-retention.ts`) by rotation: once the live file holds half the cap,
 * it becomes `journal.1.jsonl` (the one before is dropped) and a new live file starts, so the two hold at most the cap
 * and at least half of it. Readers read the rotated file, then the live one (`journal-read.ts`).
 */
import {
  appendFileSync,
  closeSync,
  createWriteStream,
  fstatSync,
  mkdirSync,
  openSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  type WriteStream,
  writeFileSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { JournalPosition } from './event-journal';
import type { LocalEvent } from './reporter';

/**
 * One journal line: the event and when it was recorded (ISO 8601); local mode's own lines also carry their run and
 * number in it, as its feed serves them (the CLI's `replayed` lines have neither).
 */
export type JournalEntry = LocalEvent & { readonly at: string } & Partial<JournalPosition>;

/**
 * The rotated journal beside the live one (`journal.jsonl` -> `journal.1.jsonl`): the lines written before the live
 * file started, read before it.
 */
export function rotatedJournalPath(path: string): string {
  const name = basename(path);
  const dot = name.lastIndexOf('.');
  return join(dirname(path), dot > 0 ? `${name.slice(0, dot)}.1${name.slice(dot)}` : `${name}.1`);
}

/** Options of a {@link Journal}. */
export interface JournalOptions {
  /** Empty the journal (the rotated file too) before writing: the run starts with empty emulators. */
  readonly truncate: boolean;
  /**
   * The most the live file and the rotated one hold together: the live file is rotated once it holds half of it.
   * Only local mode rotates (it holds the data directory's lock); the CLI appends its `replayed` lines with
   * {@link appendToJournal}, never through a `Journal`.
   *
   * @default - never rotated
   */
  readonly maxBytes?: number;
}

/** Appends events to the journal file. */
export class Journal {
  private stream: WriteStream;
  /** Bytes the live file holds, as far as this writer knows (the CLI's few `replayed` lines are not counted). */
  private bytes = 0;
  /** Lines appended while a rotation waits for the old file's writes to end: written to the new file, in order. */
  private held: string[] | undefined;
  private rotation: Promise<void> = Promise.resolve();

  constructor(
    readonly path: string,
    private readonly options: JournalOptions,
  ) {
    mkdirSync(dirname(path), { recursive: true });
    // Emptied first, then always opened to append: the CLI appends to the same file (`replayed`), and a stream
    // opened with 'w' writes at its own offset, over the lines another process appended meanwhile.
    if (options.truncate) {
      writeFileSync(path, '');
      rmSync(rotatedJournalPath(path), { force: true });
    } else endTornLine(path);
    this.stream = this.open();
  }

  append(event: LocalEvent, at: Date = new Date(), position?: JournalPosition): void {
    this.write(journalLine(event, at, position));
  }

  private write(line: string): void {
    if (this.held) {
      this.held.push(line);
      return;
    }
    this.stream.write(line);
    this.bytes += Buffer.byteLength(line);
    const { maxBytes } = this.options;
    if (maxBytes !== undefined && this.bytes >= maxBytes / 2) this.rotate();
  }

  /**
   * Renames the live file to the rotated one once every line written to it is in it, then starts a new live file:
   * the rotated file is whole when it gets its name, so a reader that finished it and went on to the new file never
   * misses a line written to it late. Lines appended meanwhile wait, in order, for the new file.
   */
  private rotate(): void {
    const held: string[] = [];
    this.held = held;
    const old = this.stream;
    this.rotation = new Promise((resolve) =>
      old.end(() => {
        try {
          renameSync(this.path, rotatedJournalPath(this.path));
        } catch {
          // Gone or not renameable: the live file goes on as it is, and the next rotation tries again.
        }
        this.stream = this.open();
        this.held = undefined;
        for (const line of held) this.write(line);
        resolve();
      }),
    );
  }

  private open(): WriteStream {
    this.bytes = sizeOf(this.path);
    const stream = createWriteStream(this.path, { flags: 'a' });
    // A journal that cannot be written must not stop the pipeline; trace then shows less.
    stream.on('error', () => {});
    return stream;
  }

  /** Writes what is pending and closes the file. */
  async close(): Promise<void> {
    // A rotation may start another one as it writes the lines that waited for it.
    for (let rotation = this.rotation; ; rotation = this.rotation) {
      await rotation;
      if (rotation === this.rotation) break;
    }
    await new Promise<void>((resolve) => this.stream.end(() => resolve()));
  }
}

/** One event as a journal line. */
function journalLine(event: LocalEvent, at: Date, position?: JournalPosition): string {
  return `${JSON.stringify({ ...event, ...position, at: at.toISOString() })}\n`;
}

/**
 * Appends one event to the journal of a running local mode from another process (the CLI's `replayed` lines). The
 * file is opened by its name for each line, so the line goes to the file live at that moment: a file held open would
 * be the one local mode rotated away meanwhile, where a following `tail` no longer reads, and after a second rotation
 * a deleted one. A line that cannot be written is left out, as local mode's own are: trace then shows less.
 */
export function appendToJournal(path: string, event: LocalEvent, at: Date = new Date()): void {
  try {
    appendFileSync(path, journalLine(event, at));
  } catch {
    // No journal folder (local mode gone meanwhile) or one that cannot be written.
  }
}

/** The size of the file at `path`, 0 when there is none. */
function sizeOf(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
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

/**
 * Parses journal text; torn or foreign lines are skipped.
 *
 * @param keep says which raw lines are parsed at all: a reader that wants a few lines skips JSON.parse for the rest
 * (every line when not given).
 */
export function parseJournal(text: string, keep?: (line: string) => boolean): JournalEntry[] {
  const entries: JournalEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('{') || (keep && !keep(line))) continue;
    try {
      const entry = JSON.parse(line) as JournalEntry;
      if (typeof entry.event === 'string' && typeof entry.at === 'string') entries.push(entry);
    } catch {
      // skipped
    }
  }
  return entries;
}
