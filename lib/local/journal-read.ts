/**
 * Reading local mode's journal file a chunk at a time, forward as it grows (`hookline tail`) or back from its end
 * (`trace --local`, the console): a journal kept across restarts may hold gigabytes, more than one string can, so no
 * reader holds more than a chunk and the longest line in memory. The entries are parsed by the journal's one
 * parser, {@link parseJournal}.
 */
import { closeSync, fstatSync, openSync, readSync, statSync } from 'node:fs';
import { type JournalEntry, parseJournal, rotatedJournalPath } from './journal';

/**
 * How much of the journal one read takes: a journal kept across restarts may hold gigabytes, and neither skipping it
 * nor reading it from `--since` holds more than this (and the longest line) in memory.
 */
export const JOURNAL_CHUNK_BYTES = 64 * 1024;

/**
 * The lines appended to local mode's journal since the last read, each once, a chunk at a time. A line is taken
 * only once its newline is written (the writer may write it in two chunks). The file read is held open between reads,
 * so a rotation (local mode renames the live file to `journal.1.jsonl` and starts a new one) loses nothing: the
 * renamed file is read to its end, then the new live file from its start. A file that starts over in place (local
 * mode restarted without a data directory empties it) is read again from its start: it is shorter than what was
 * read, or the last line read is no longer where it was.
 */
export class JournalFollower {
  /** The file read, held open: after a rotation it is the rotated file, read to its end before the new one. */
  private file: { readonly fd: number; readonly ino: bigint } | undefined;
  /** Bytes taken: the end of the last whole line read. */
  private offset = 0;
  /**
   * The end of the last whole line read (up to a chunk of it) and where that starts, to tell a file that started over
   * from one that grew.
   */
  private last: { readonly at: number; readonly bytes: Buffer } | undefined;
  /** Whether the last read stopped at its chunk with more of the file after it: the next read takes it at once. */
  behind = false;

  /**
   * @param from `start`: the rotated file's first line (the oldest the journal keeps), else the live file's; `end`:
   * after the live file's last whole line.
   * @param chunkBytes the most one read of the file takes (a line longer than that is read in several).
   */
  constructor(
    readonly path: string,
    from: 'start' | 'end',
    private readonly chunkBytes = JOURNAL_CHUNK_BYTES,
  ) {
    if (from === 'end') this.skipToEnd();
    else this.file = openJournalFile(rotatedJournalPath(path)) ?? openJournalFile(path);
  }

  /**
   * Starts after the last whole line the file holds now, found by reading back from its end a chunk at a time,
   * without reading or parsing what comes before it.
   */
  private skipToEnd(): void {
    // No journal yet: the first read waits for it.
    this.file = openJournalFile(this.path);
    if (!this.file) return;
    const end = lastNewlineBefore(this.file.fd, fstatSync(this.file.fd).size, this.chunkBytes);
    if (end > 0) this.takeUpTo(this.file.fd, end);
  }

  /** Takes the file up to `end`, a line's end, remembering that line (up to a chunk of it). */
  private takeUpTo(file: number, end: number): void {
    const start = Math.max(0, end - this.chunkBytes);
    const piece = readPiece(file, start, end - start);
    const lineStart = piece.subarray(0, piece.length - 1).lastIndexOf(0x0a) + 1;
    this.last = { at: start + lineStart, bytes: Buffer.from(piece.subarray(lineStart)) };
    this.offset = end;
  }

  /** The entries of the whole lines appended since the last read, about a chunk of them (none while the file does not exist). */
  read(): JournalEntry[] {
    this.file ??= openJournalFile(this.path);
    if (!this.file) return [];
    if (this.startedOver(this.file.fd)) this.startOver();
    // Looked for before the file is read: local mode renames a file only once every line it wrote to it is there, so
    // a file found renamed and then read to its end is whole. Read first, a line written and renamed away between the
    // read and the look would be skipped.
    const replaced = this.replaced(this.file);
    const text = this.takeWholeLines(this.file.fd);
    if (text !== '' || this.behind || !replaced) return parseJournal(text);
    // Every whole line of the file read is taken and another file has its name: rotated (or deleted and created again).
    this.file = this.successorOf(this.file);
    this.startOver();
    return this.file ? parseJournal(this.takeWholeLines(this.file.fd)) : [];
  }

  /**
   * The file after `file`, which is closed: the rotated file when it is another (a follower a whole file behind, the
   * live file rotated twice since it was opened), else the live file.
   */
  private successorOf(file: { readonly fd: number; readonly ino: bigint }) {
    closeSync(file.fd);
    const rotated = openJournalFile(rotatedJournalPath(this.path));
    if (rotated && rotated.ino !== file.ino) return rotated;
    if (rotated) closeSync(rotated.fd);
    return openJournalFile(this.path);
  }

  /** Lets the file read go. */
  close(): void {
    if (this.file) closeSync(this.file.fd);
    this.file = undefined;
  }

  private replaced(file: { readonly ino: bigint }): boolean {
    try {
      return statSync(this.path, { bigint: true }).ino !== file.ino;
    } catch {
      // No live file (between a rotation's rename and the new file): the next read looks again.
      return false;
    }
  }

  private startOver(): void {
    this.offset = 0;
    this.last = undefined;
    this.behind = false;
  }

  private startedOver(file: number): boolean {
    if (fstatSync(file).size < this.offset) return true;
    if (!this.last) return false;
    const now = readPiece(file, this.last.at, this.last.bytes.length);
    return !now.equals(this.last.bytes);
  }

  /**
   * The whole lines of the next chunk after the offset, taken: read a chunk at a time until one holds a newline (a
   * line longer than a chunk), or the file ends.
   */
  private takeWholeLines(file: number): string {
    const size = fstatSync(file).size;
    const pieces: Buffer[] = [];
    let at = this.offset;
    while (at < size) {
      const piece = readPiece(file, at, Math.min(this.chunkBytes, size - at));
      if (piece.length === 0) break;
      pieces.push(piece);
      at += piece.length;
      if (piece.includes(0x0a)) break;
    }
    this.behind = at < size;
    const chunk = pieces.length === 1 ? (pieces[0] as Buffer) : Buffer.concat(pieces);
    const end = chunk.lastIndexOf(0x0a) + 1;
    if (end === 0) return '';
    const lastStart = Math.max(chunk.subarray(0, end - 1).lastIndexOf(0x0a) + 1, end - this.chunkBytes);
    this.last = { at: this.offset + lastStart, bytes: Buffer.from(chunk.subarray(lastStart, end)) };
    this.offset += end;
    return chunk.subarray(0, end).toString('utf8');
  }
}

/** The file at `path` opened to read, with its inode; undefined when there is none. */
function openJournalFile(path: string): { readonly fd: number; readonly ino: bigint } | undefined {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return undefined;
  }
  return { fd, ino: fstatSync(fd, { bigint: true }).ino };
}

/**
 * Which raw journal text a reader parses: one that looks for a few lines skips the others without parsing them, and
 * whole chunks without decoding them.
 */
export interface JournalFilter {
  /** Whether a chunk of whole lines, as read, may hold a line to parse: false skips it undecoded. */
  readonly chunk: (bytes: Buffer) => boolean;
  /** Whether a raw line of a chunk kept is parsed. */
  readonly line: (line: string) => boolean;
}

/**
 * The entries of local mode's journal read back from its end, a chunk at a time, the newest chunk first (each
 * chunk's entries in the order they were written): the live file's, then the rotated file's (`journal.1.jsonl`), so
 * a reader that wants only the newest lines stops without reading or parsing what comes before them. As
 * {@link JournalFollower} reads forward: only whole lines are taken (a last line whose newline is not written yet is
 * left out), and a line longer than a chunk is read in several and given whole. Each byte is read once. The lines are
 * those the files hold when reading starts; lines appended meanwhile are not read.
 *
 * @param filter which raw text is parsed: a reader that looks for one event skips the rest.
 * @default - every line is parsed
 */
export function* journalChunksBack(
  path: string,
  chunkBytes = JOURNAL_CHUNK_BYTES,
  filter?: JournalFilter,
): Generator<JournalEntry[]> {
  const files = openNewestFirst(path);
  try {
    for (const file of files) if (!(yield* entriesBack(file, chunkBytes, filter))) return;
  } finally {
    for (const file of files) closeSync(file);
  }
}

/**
 * The live journal file and the rotated one, opened in that order: a rotation between the two opens makes the
 * rotated file the live one just opened, which is then opened again under the live name (the new file).
 */
function openNewestFirst(path: string): number[] {
  let live = openJournalFile(path);
  const rotated = openJournalFile(rotatedJournalPath(path));
  if (live && rotated && live.ino === rotated.ino) {
    closeSync(live.fd);
    live = openJournalFile(path);
  }
  return [live, rotated].flatMap((file) => (file ? [file.fd] : []));
}

/**
 * One file's entries read back from its end, a chunk at a time, each byte once: the bytes before a chunk's first
 * newline end a line that starts in an earlier chunk, kept until that chunk is read. Returns false when the file no
 * longer holds what was there (it started over meanwhile): what comes before it is not read either.
 */
function* entriesBack(
  file: number,
  chunkBytes: number,
  filter?: JournalFilter,
): Generator<JournalEntry[], boolean> {
  /** The end of a line whose start is in a chunk not read yet, its newline last. */
  const rest: Buffer[] = [];
  let lastLineFound = false;
  for (let end = fstatSync(file).size; end > 0; ) {
    const start = Math.max(0, end - chunkBytes);
    let piece = readPiece(file, start, end - start);
    if (piece.length < end - start) return false;
    end = start;
    if (!lastLineFound) {
      // A last line whose newline is not written yet is left out, as the forward reader leaves it.
      const newline = piece.lastIndexOf(0x0a);
      if (newline < 0) continue;
      piece = piece.subarray(0, newline + 1);
      lastLineFound = true;
    }
    const first = start === 0 ? -1 : piece.indexOf(0x0a);
    if (start > 0 && first < 0) {
      rest.unshift(piece);
      continue;
    }
    const whole = Buffer.concat([piece.subarray(first + 1), ...rest.splice(0)]);
    if (start > 0) rest.push(piece.subarray(0, first + 1));
    if (whole.length === 0) continue;
    yield !filter
      ? parseJournal(whole.toString('utf8'))
      : filter.chunk(whole)
        ? parseJournal(whole.toString('utf8'), filter.line)
        : [];
  }
  return true;
}

/** Where the last whole line before `before` ends (just past its newline), 0 when there is none. */
function lastNewlineBefore(file: number, before: number, chunkBytes: number): number {
  for (let end = before; end > 0; ) {
    const start = Math.max(0, end - chunkBytes);
    const piece = readPiece(file, start, end - start);
    const newline = piece.lastIndexOf(0x0a);
    if (newline >= 0) return start + newline + 1;
    end = start;
  }
  return 0;
}

/** Up to `length` bytes (at most a chunk) of the file from `position`; fewer where it ends. */
function readPiece(file: number, position: number, length: number): Buffer {
  const piece = Buffer.allocUnsafe(length);
  return piece.subarray(0, readSync(file, piece, 0, length, position));
}
