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
import { EVENT_OUTCOMES, rateKindOf } from '../console/activity';
import type { JournalEntry } from '../local/journal';
import { LateLines, SettlingOrder } from '../local/journal-order';
import { JournalFollower } from '../local/journal-read';
import { pause } from './backend';
import { UsageError } from './errors';
import type { Output } from './output';
import { typeSelector } from './redrive';
import { stepDetails } from './render';
import { refuseFutureSince } from './since-flag';
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
export type TailLine = TraceStep & {
  readonly id: string;
  /**
   * The step's line was read after lines of later times were shown (`LateLines`): local mode's journal got it
   * more than its settle window after the step happened, or CloudWatch Logs took it in after a poll had read past its
   * time. It is shown when read, out of its place in time.
   */
  readonly late?: true;
};

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
  const { id, source, type, late, ...step } = line;
  const event = [id, source, type].filter(Boolean).join(' ');
  const details = [...stepDetails(c, step as TraceStep), ...(late ? [c.yellow('(written late)')] : [])];
  return `${line.at}  ${line.step.padEnd(13)} ${c.bold(event)} ${details.join(' ')}`.trimEnd();
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
 * journal is read forward from its start (the rotated file's first line, then the live file's), a chunk at a time, rather than from the first line before `since` found
 * back from its end (an event dead-lettered before `since` and redriven after it would lose its `redriven` step).
 * The journal's lines are taken in the order they happened, not the order they were written ({@link SettlingOrder}):
 * each is held up to the settle window (`JOURNAL_SETTLE_MS`, 1 s) after its time, and one written later than that is
 * shown when read, marked late if a line shown before it is of a later time (a line left out marks nothing).
 */
export async function tailJournal(
  journalPath: string,
  select: (row: OutcomeRow) => boolean,
  run: TailRun,
): Promise<void> {
  const follower = new JournalFollower(journalPath, run.since ? 'start' : 'end');
  const order = new SettlingOrder<JournalEntry>();
  // Late among the lines shown: the order's own mark counts the lines the filters leave out too.
  const shownLate = new LateLines();
  const timelines = new TailTimelines();
  const since = run.since?.toISOString();
  try {
    while (!run.signal.aborted) {
      const readAt = Date.now();
      const read = follower.read();
      for (const { line: entry } of order.next(read, readAt, !follower.behind)) {
        const row = journalRow(entry as unknown as Record<string, unknown>);
        if (!row) continue;
        const lines = timelines.steps(row);
        if ((since !== undefined && row.at < since) || !select(row) || lines.length === 0) continue;
        const late = shownLate.shown(Date.parse(row.at));
        for (const line of lines) run.emit(late ? { ...line, late: true } : line);
      }
      // A journal longer than a read (`--since` reads it from its start) is read on at once, a chunk at a time.
      if (!follower.behind) await pause(run.pollIntervalMs ?? 250, run.signal);
    }
  } finally {
    follower.close();
  }
}

/** Refuses a `--since` in the future: nothing has happened there yet. */
export function checkSince(since: Date, now: number): void {
  refuseFutureSince(
    since,
    now,
    'give a time in the past or a duration ago (10m), or leave it out to start now',
  );
}
