/**
 * Reading local mode's journal file a chunk at a time, forward as it grows (`hookline tail`) or back from its end
 * (`trace --local`, the console): a journal kept across restarts may hold gigabytes, more than one string can, so no
 * reader holds more than a chunk and the longest line in memory. The entries are parsed by the journal's one
 * parser, {@link parseJournal}.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { type JournalEntry, parseJournal } from './journal';

/**
 * How much of the journal one read takes: a journal kept across restarts may hold gigabytes, and neither skipping it
 * nor reading it from `--since` holds more than this (and the longest line) in memory.
 */
export const JOURNAL_CHUNK_BYTES = 64 * 1024;

/**
 * The lines appended to local mode's journal file since the last read, each once, a chunk at a time. A line is taken
 * only once its newline is written (the writer may write it in two chunks); a file that starts over (local mode
 * restarted on a new data directory empties it) is read again from its start: it is shorter than what was read, or
 * the last line read is no longer where it was.
 */
export class JournalFollower {
  /** Bytes taken: the end of the last whole line read. */
  private offset = 0;
  /**
   * The end of the last whole line read (up to a chunk of it) and where that starts, to tell a file that started over
   * from one that grew.
   */
  private last: { readonly at: number; readonly bytes: Buffer } | undefined;
  /** Whether the last read stopped at its chunk with more of the file after it: the next read takes it at once. */
  behind = false;

  /** @param chunkBytes the most one read of the file takes (a line longer than that is read in several). */
  constructor(
    readonly path: string,
    from: 'start' | 'end',
    private readonly chunkBytes = JOURNAL_CHUNK_BYTES,
  ) {
    if (from === 'end') this.skipToEnd();
  }

  /**
   * Starts after the last whole line the file holds now, found by reading back from its end a chunk at a time,
   * without reading or parsing what comes before it.
   */
  private skipToEnd(): void {
    let file: number;
    try {
      file = openSync(this.path, 'r');
    } catch {
      // No journal yet: the first read waits for it.
      return;
    }
    try {
      const end = lastNewlineBefore(file, fstatSync(file).size, this.chunkBytes);
      if (end > 0) this.takeUpTo(file, end);
    } finally {
      closeSync(file);
    }
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
    let file: number;
    try {
      file = openSync(this.path, 'r');
    } catch {
      this.startOver();
      return [];
    }
    try {
      if (this.startedOver(file)) this.startOver();
      return parseJournal(this.takeWholeLines(file));
    } finally {
      closeSync(file);
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

/**
 * The entries of local mode's journal file read back from its end, a chunk at a time, the newest chunk first (each
 * chunk's entries in the order they were written), so a reader that wants only the newest lines stops without reading
 * or parsing what comes before them. As {@link JournalFollower} reads forward: only whole lines are taken (a last line
 * whose newline is not written yet is left out), and a line longer than a chunk is read in several and given whole.
 * The lines are those the file holds when reading starts; lines appended meanwhile are not read.
 */
export function* journalChunksBack(
  path: string,
  chunkBytes = JOURNAL_CHUNK_BYTES,
): Generator<JournalEntry[]> {
  let file: number;
  try {
    file = openSync(path, 'r');
  } catch {
    // No journal yet: nothing to read.
    return;
  }
  try {
    for (let end = lastNewlineBefore(file, fstatSync(file).size, chunkBytes); end > 0; ) {
      const lines = wholeLinesBefore(file, end, chunkBytes);
      if (!lines) return;
      end = lines.start;
      yield parseJournal(lines.text.toString('utf8'));
    }
  } finally {
    closeSync(file);
  }
}

/**
 * The whole lines that end at `end` (a line's end) and start in the chunk before it: read back a chunk at a time
 * until a line's start is found (a line longer than a chunk), or the file's start. Undefined when the file no longer
 * holds what was there (it started over meanwhile).
 */
function wholeLinesBefore(
  file: number,
  end: number,
  chunkBytes: number,
): { readonly start: number; readonly text: Buffer } | undefined {
  const pieces: Buffer[] = [];
  for (let start = end; start > 0; ) {
    const from = Math.max(0, start - chunkBytes);
    const piece = readPiece(file, from, start - from);
    if (piece.length < start - from) return undefined;
    pieces.unshift(piece);
    start = from;
    // A newline before the last byte of what is read ends the line before the first whole one.
    const newline = (pieces.length === 1 ? piece.subarray(0, piece.length - 1) : piece).indexOf(0x0a);
    if (newline >= 0) return { start: from + newline + 1, text: Buffer.concat(pieces).subarray(newline + 1) };
  }
  return { start: 0, text: Buffer.concat(pieces) };
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
  const piece = Buffer.alloc(length);
  return piece.subarray(0, readSync(file, piece, 0, length, position));
}
