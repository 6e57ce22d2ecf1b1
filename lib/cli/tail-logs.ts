/**
 * `hookline tail` on a deployed stack: the outcome lines of the ingest, jobs endpoint and consumer log groups, as
 * the poller the console's deployed feed shares reads them ({@link OutcomeLogPoller}, which says why it polls
 * `FilterLogEvents`), each turned into the steps it adds to its event's timeline.
 */
import { LateLines } from '../local/journal-order';
import { type Backend, pause } from './backend';
import { explainError } from './errors';
import {
  isPassingPollFailure,
  OUTCOME_POLL_PERMISSION,
  OutcomeLogPoller,
  pollFailedNote,
} from './outcome-log-poll';
import type { Output } from './output';
import { type TailRun, TailTimelines } from './tail';
import type { StackTarget } from './target';
import type { OutcomeRow } from './trace';

/**
 * Sends `run.emit` every step of the outcome lines `select` selects, from the stack's log groups, until the signal
 * is aborted: from `run.since`, else from now, each line as soon as its page is read (a `--since` window is printed
 * as it is paged, not held whole first). A poll that fails once CloudWatch Logs has answered (throttled, AWS's
 * fault, no answer) is said on stderr and polled again, the next poll reading on from the last line sent; any other
 * failure, or one before any answer, ends the tail with its error. A line CloudWatch Logs took in late, read by a
 * later poll than printed lines of later times, is sent when read, marked late ({@link LateLines}, local mode's rule): not
 * held to be put in its place, since each poll's window is already in time order and a line's delay in CloudWatch
 * Logs has no bound short enough to wait out (a poll reads the last minute again for it).
 */
export async function tailLogGroups(
  backend: Backend,
  target: StackTarget,
  select: (row: OutcomeRow) => boolean,
  run: TailRun,
): Promise<void> {
  const now = backend.clock.now();
  const start = run.since?.getTime() ?? now;
  const poller = new OutcomeLogPoller(backend, target, start);
  const timelines = new TailTimelines();
  const lateLines = new LateLines();
  let catchUp = CatchUpNotes.of(backend.output, start, now);
  let failing = false;
  const onRow = (row: OutcomeRow) => {
    catchUp?.read(row.at);
    const lines = timelines.steps(row);
    if (!select(row) || lines.length === 0) return;
    // Of the lines printed alone: a line the filters left out, of a later time, puts no printed line out of place.
    const late = lateLines.shown(Date.parse(row.at));
    for (const line of lines) run.emit(late ? { ...line, late: true } : line);
  };
  while (!run.signal.aborted) {
    try {
      await poller.poll(onRow, run.signal);
      if (!run.signal.aborted) catchUp?.done();
      catchUp = undefined;
      failing = false;
    } catch (error) {
      if (!poller.started || !isPassingPollFailure(error)) throw explainTailError(error, target);
      if (!failing) backend.output.note(pollFailedNote(error));
      failing = true;
    }
    await pause(run.pollIntervalMs ?? poller.intervalMs, run.signal);
  }
}

/** A `--since` window longer than this says on stderr how far it has read, a tenth of it at a time. */
export const CATCH_UP_NOTES_AFTER_MS = 60 * 60_000;

/**
 * How far a long `--since` catch-up has read, as notes on stderr (trace says so of a query still running): a line
 * per tenth of the window, between the lines printed, never redrawn over them as a progress bar would be.
 */
class CatchUpNotes {
  private told = 0;

  private constructor(
    private readonly output: Output,
    private readonly from: number,
    private readonly until: number,
  ) {}

  /** Notes for a window from `from` to `until`; none for a short one, which is read in moments. */
  static of(output: Output, from: number, until: number): CatchUpNotes | undefined {
    return until - from > CATCH_UP_NOTES_AFTER_MS ? new CatchUpNotes(output, from, until) : undefined;
  }

  /** A line of time `at` was read: every line before it was too. */
  read(at: string): void {
    const tenths = Math.floor(((Date.parse(at) - this.from) / (this.until - this.from)) * 10);
    if (tenths <= this.told || tenths >= 10) return;
    this.told = tenths;
    this.output.note(`catching up from --since: read up to ${at} (${tenths * 10}%)`);
  }

  done(): void {
    this.output.note('caught up from --since: following new lines as they come');
  }
}

/** A failure that ends the tail, in the operator's terms, naming the permission a denial lacks. */
function explainTailError(error: unknown, target: StackTarget): unknown {
  return explainError(error, {
    target: target.description,
    local: false,
    stackName: target.stackName,
    region: target.region,
    permissions: [OUTCOME_POLL_PERMISSION],
  });
}
