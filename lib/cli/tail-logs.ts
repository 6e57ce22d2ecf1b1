/**
 * `hookline tail` on a deployed stack: the outcome lines of the ingest, jobs endpoint and consumer log groups, as
 * the poller the console's deployed feed shares reads them ({@link OutcomeLogPoller}, which says why it polls
 * `FilterLogEvents`), each turned into the steps it adds to its event's timeline.
 */
import type { Backend } from './backend';
import { explainError } from './errors';
import {
  isPassingPollFailure,
  OUTCOME_POLL_PERMISSION,
  OutcomeLogPoller,
  pollFailedNote,
} from './outcome-log-poll';
import { pause, type TailRun, TailTimelines } from './tail';
import type { StackTarget } from './target';
import type { OutcomeRow } from './trace';

/**
 * Sends `run.emit` every step of the outcome lines `select` selects, from the stack's log groups, until the signal
 * is aborted: from `run.since`, else from now. A poll that fails once the tail is running (throttled, AWS's fault, no
 * answer) is said on stderr and polled again, its time read again by the next poll; any other failure, or one of the
 * first poll, ends the tail with its error.
 */
export async function tailLogGroups(
  backend: Backend,
  target: StackTarget,
  select: (row: OutcomeRow) => boolean,
  run: TailRun,
): Promise<void> {
  const poller = new OutcomeLogPoller(backend, target, run.since?.getTime() ?? backend.clock.now());
  const timelines = new TailTimelines();
  let failing = false;
  while (!run.signal.aborted) {
    try {
      for (const row of await poller.poll(run.signal)) {
        const lines = timelines.steps(row);
        if (select(row)) for (const line of lines) run.emit(line);
      }
      failing = false;
    } catch (error) {
      if (!poller.started || !isPassingPollFailure(error)) throw explainTailError(error, target);
      if (!failing) backend.output.note(pollFailedNote(error));
      failing = true;
    }
    await pause(run.pollIntervalMs ?? poller.intervalMs, run.signal);
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
