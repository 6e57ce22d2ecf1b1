/**
 * `hookline tail`: what the pipeline does, as it happens, one line per step in the words `trace` uses. The steps
 * come from the same outcome rows and the same step builder as a trace ({@link journalRow}, {@link insightsRow},
 * {@link stepsOfRow}); only where the rows come from differs. Locally, local mode's journal file is followed
 * ({@link JournalFollower}); deployed, the ingest, jobs endpoint and consumer log groups are polled
 * (`./tail-logs`).
 *
 * Why the journal file and not the control API's `/_hookline/events` feed: the file is the one record that has
 * every line exactly once. The feed keeps only its newest 5,000 lines of the current run, cannot be read while
 * local mode restarts or is down (its follower then reads the file anyway), knows nothing of a run before this
 * one (`--since`), and never carries the `replayed` lines `hookline replay --local` appends to the file.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { EVENT_OUTCOMES, rateKindOf } from '../console/activity';
import { type JournalEntry, parseJournal } from '../local/journal';
import { UsageError } from './errors';
import type { Output } from './output';
import { typeSelector } from './redrive';
import { stepDetails } from './render';
import { sourceNotConfiguredNote, validSourceName } from './source-flag';
import { queueOf, type Target } from './target';
import {
  configuredSources,
  journalRow,
  newTimelineState,
  type OutcomeRow,
  stepsOfRow,
  type TimelineState,
  type TraceStep,
} from './trace';

/** What `tail` shows: every step, or those of the rows these filters select (all of them). */
export interface TailFilters {
  /** Only events of this source (well-formed; one the configuration does not name is taken, with a notice). */
  readonly source?: string;
  /** Only steps on this queue (an ingest's fan-out counts for each of its queues). */
  readonly queue?: string;
  /** Only events whose type matches this pattern (the routes' dialect: `*` one segment, `**` anything). */
  readonly type?: string;
  /** Only rows of this outcome ({@link TAIL_OUTCOMES}): an outcome name, or `received`, `processed`, `failed`. */
  readonly outcome?: string;
}

/**
 * What `--outcome` takes: the console's outcome filter's names (a row's own outcome, or the rate it counts
 * towards), less `error`, which is local mode's own error line and no event's outcome.
 */
export const TAIL_OUTCOMES: readonly string[] = EVENT_OUTCOMES.filter((name) => name !== 'error');

/** One line of `tail`: a trace step and the event it belongs to (its id, and its source and type where known). */
export type TailLine = TraceStep & { readonly id: string };

/** Which rows the filters select; a filter naming nothing that exists is a one-line error naming what does. */
export function tailSelection(target: Target, filters: TailFilters): (row: OutcomeRow) => boolean {
  const { source, queue, outcome } = filters;
  if (source !== undefined) checkSource(source);
  if (queue !== undefined) {
    if (queue.trim() === '') throw new UsageError('--queue is empty: name a queue, or leave it out');
    queueOf(target, queue);
  }
  if (outcome !== undefined && !TAIL_OUTCOMES.includes(outcome)) {
    throw new UsageError(`unknown outcome "${outcome}": use one of ${TAIL_OUTCOMES.join(', ')}`);
  }
  const type =
    filters.type !== undefined
      ? typeSelector(filters.type, 'or leave --type out to see every type')
      : undefined;
  return (row) =>
    (source === undefined || row.source === source) &&
    (queue === undefined || (row.queue ?? '').split(',').includes(queue)) &&
    (type === undefined || (row.type !== undefined && type.test(row.type))) &&
    (outcome === undefined || outcomeMatches(row, outcome));
}

/**
 * Refuses an empty or malformed `--source`. A well-formed one the configuration does not name is taken, as `trace`
 * takes a source its lines name: a source just removed from the configuration still has lines, its events maybe
 * still draining, and `tail` cannot know before they come ({@link tailSourceNote} says so).
 */
function checkSource(source: string): void {
  if (source.trim() === '') throw new UsageError('--source is empty: name a source, or leave it out');
  validSourceName(source);
}

/** The notice of a `--source` the target's configuration does not name; undefined for one it does, or none. */
export function tailSourceNote(target: Target, filters: TailFilters): string | undefined {
  return filters.source === undefined
    ? undefined
    : sourceNotConfiguredNote(filters.source, configuredSources(target));
}

/** As the console's outcome filter: the row's own outcome, or the rate it counts towards. */
function outcomeMatches(row: OutcomeRow, outcome: string): boolean {
  if (row.outcome === outcome) return true;
  const event = row.kind === 'scheduled' || row.kind === 'replayed' ? row.kind : (row.outcome ?? '');
  return rateKindOf({ event, ...(row.attempt !== undefined ? { attempt: row.attempt } : {}) }) === outcome;
}

/** Events whose timelines `tail` remembers (what a redrive or a replay's later lines are read against). */
const REMEMBERED_EVENTS = 10_000;

/**
 * Each event's timeline so far, so a row adds the steps it would add to its trace (a `redriven` step before the
 * attempt that follows a dead-lettering, a replay run's one `replayed` step). The oldest events are forgotten.
 */
export class TailTimelines {
  private readonly states = new Map<string, TimelineState>();

  constructor(private readonly remembered = REMEMBERED_EVENTS) {}

  /** The steps `row` adds to its event's timeline (none for a row without an event id). */
  steps(row: OutcomeRow): TailLine[] {
    if (row.id === undefined) return [];
    const key = `${row.source ?? ''}\u0000${row.id}`;
    const state = this.states.get(key) ?? newTimelineState();
    this.states.delete(key);
    this.states.set(key, state);
    if (this.states.size > this.remembered) this.states.delete(this.states.keys().next().value as string);
    const event = {
      id: row.id,
      ...(row.source !== undefined ? { source: row.source } : {}),
      ...(row.type !== undefined ? { type: row.type } : {}),
    };
    return stepsOfRow(row, state).map((step) => ({ ...event, ...step }));
  }
}

/**
 * The human line of a step: its time and name, the event (id, source, type), then what `trace` says of the step.
 * The step's own source and type are shown once, after the id, not again among its details.
 */
export function renderTailLine(c: Output['colors'], line: TailLine): string {
  const { id, source, type, ...step } = line;
  const event = [id, source, type].filter(Boolean).join(' ');
  return `${line.at}  ${line.step.padEnd(13)} ${c.bold(event)} ${stepDetails(c, step as TraceStep).join(' ')}`.trimEnd();
}

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

/** Where `tail` sends each line, and when it stops. */
export interface TailRun {
  readonly emit: (line: TailLine) => void;
  /** Aborted by Ctrl-C: `tail` returns. */
  readonly signal: AbortSignal;
  /** Only lines from this time on. @default - only lines written after `tail` started */
  readonly since?: Date;
  /**
   * How often the source is read again.
   * @default - 250 ms for local mode's journal file; deployed, 2 s, or 0.4 s per log group when there are more than five
   */
  readonly pollIntervalMs?: number;
}

/**
 * Sends `emit` every step of the rows `select` selects, from the journal at `journalPath`, until the signal is
 * aborted. Rows `select` leaves out, or older than `since`, still inform their event's timeline: so with `since` the
 * journal is read forward from its start, a chunk at a time, rather than from the first line before `since` found
 * back from its end (an event dead-lettered before `since` and redriven after it would lose its `redriven` step).
 */
export async function tailJournal(
  journalPath: string,
  select: (row: OutcomeRow) => boolean,
  run: TailRun,
): Promise<void> {
  const follower = new JournalFollower(journalPath, run.since ? 'start' : 'end');
  const timelines = new TailTimelines();
  const since = run.since?.toISOString();
  while (!run.signal.aborted) {
    for (const entry of follower.read()) {
      const row = journalRow(entry as unknown as Record<string, unknown>);
      if (!row) continue;
      const lines = timelines.steps(row);
      if ((since === undefined || row.at >= since) && select(row)) for (const line of lines) run.emit(line);
    }
    // A journal longer than a read (`--since` reads it from its start) is read on at once, a chunk at a time.
    if (!follower.behind) await pause(run.pollIntervalMs ?? 250, run.signal);
  }
}

/** Waits `ms`, or less when the signal is aborted meanwhile. */
export function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

/** Refuses a `--since` in the future: nothing has happened there yet. */
export function checkSince(since: Date, now: number): void {
  if (since.getTime() > now) {
    throw new UsageError(
      `--since ${since.toISOString()} is in the future (it is ${new Date(now).toISOString()}): give a time in the past or a duration ago (10m), or leave it out to start now`,
    );
  }
}
