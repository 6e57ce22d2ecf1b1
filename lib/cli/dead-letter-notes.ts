/**
 * What a read of a dead-letter queue could not show, and that a selection of its dead letters matched none, said the
 * same way by the CLI and the console. No AWS SDK
 * here: the renderers load it for every command.
 */
import { isFifoQueueName } from '../../lambda/shared/contracts';
import { plural } from '../../lambda/shared/plural';
import { heldByOthers, wereHeldByOthers } from '../console/ui/held-by-others';
import type { EventHeldMoreThanOnce } from './dead-letters';
import { CliError } from './errors';
import type { FailedListResult, FailedSummaryResult } from './failed';
import { type CommandHints, nextCommand } from './output';

/**
 * How long a redrive, `failed delete` or a read of the whole DLQ (`failed summary`, `failed show`) holds each dead
 * letter it scans, unless told otherwise (`holdSeconds`): one stopped at once (killed, not Ctrl-C) leaves what it
 * held hidden that long.
 */
export const DEFAULT_HOLD_SECONDS = 300;

/**
 * What to do about dead letters another reader holds: wait for that hold to end. Which reader holds them SQS does not
 * say: a redrive running at the same time moves those it selects itself, so the run again may find none of them.
 */
export const AFTER_THE_HOLD = `run it again once that hold ends (up to ${DEFAULT_HOLD_SECONDS} s after a redrive stopped); where that reader is a redrive still running, it moves those it selects itself, and the run again finds them gone`;

/** Why a scan may have missed an `--id`: `count` dead letters another reader held, which it could not read. */
export function notReachedWhileHeld(count: number): string {
  return `not reached: ${heldByOthers(count)} and could not be read, if it is in the DLQ at all: ${AFTER_THE_HOLD}`;
}

/**
 * What a redrive or `failed delete` that selected by `--type` or `--failure` did not see: `count` dead letters
 * another reader held when it started, which no receive of it returned, so some of them may match and stay in the
 * DLQ though the run ended without an error. `done`: what the run does to what it selects (`moved`, `deleted`).
 */
export function unreadWhileHeld(count: number, done: string): string {
  return `${wereHeldByOthers(count)} when this run started and could not be read, so not ${done} even where the selection matches ${count === 1 ? 'it' : 'them'}: ${AFTER_THE_HOLD}`;
}

/**
 * What a redrive of the whole DLQ, one by one, left: `count` dead letters another reader held when its last receive
 * found nothing, so it ended without them.
 */
export function unreadWhenTheRunEnded(count: number): string {
  return `${wereHeldByOthers(count)} when this run read the rest of the DLQ, so not moved: ${AFTER_THE_HOLD}`;
}

/** Why a read of a FIFO dead-letter queue, which holds what it reads, gets fewer dead letters than are there. */
export const FIFO_GROUPS_HELD =
  "FIFO: SQS returns a message group's later messages only once its earlier ones leave the queue";

/** How many events a note names by id; `--json` lists them all. */
const EVENTS_NAMED = 5;

/**
 * The events a read of the dead-letter queue `queue` found there more than once (`among`: which read, `among those
 * listed`), why, and what a redrive does with the copies; none when every event is there once.
 */
export function heldMoreThanOnceNote(
  held: readonly EventHeldMoreThanOnce[],
  queue: string,
  among: string,
  hints: CommandHints = {},
): string | undefined {
  if (held.length === 0) return undefined;
  const named = held
    .slice(0, EVENTS_NAMED)
    .map((e) => `${e.id}${e.replayId ? ` (replay ${e.replayId.slice(0, 8)})` : ''} ${e.copies} copies`)
    .join(', ');
  const more = held.length > EVENTS_NAMED ? ` and ${held.length - EVENTS_NAMED} more (--json)` : '';
  const events = held.length === 1 ? '1 event is' : `${held.length} events are`;
  return (
    `${events} in the DLQ more than once ${among}: ${named}${more}. ` +
    'A consumer stopped between its dead-letter send and its delete (a crash, an out-of-memory kill, kill -9 locally), so the record came back and was dead-lettered again, or the event reached its queue twice and each copy failed. ' +
    'A redrive moves every copy: where the consumer has idempotency on (the default) the event runs once and its other copies count as duplicates, webhooks and jobs alike; ' +
    `with idempotency off each copy runs it again, so delete the extra copies first by their sqs id: ${nextCommand(hints, `failed delete ${queue} --id <sqs id>`)}`
  );
}

/**
 * Why a `failed list` read shows fewer dead letters than are there, one line per cause (none when it shows all),
 * and the events it shows more than once.
 */
export function failedListNotes(
  result: Pick<
    FailedListResult,
    | 'approximateDepth'
    | 'heldByOthers'
    | 'notReleased'
    | 'messages'
    | 'deadLetterQueueUrl'
    | 'queue'
    | 'eventsHeldMoreThanOnce'
  >,
  hints: CommandHints = {},
): string[] {
  const notes: string[] = [];
  const copies = heldMoreThanOnceNote(
    result.eventsHeldMoreThanOnce,
    result.queue,
    'among those listed',
    hints,
  );
  if (copies) notes.push(copies);
  if (result.heldByOthers > 0 && result.messages.length < result.approximateDepth) {
    notes.push(`${heldByOthers(result.heldByOthers)} and not shown: SQS returns them once that hold ends`);
  }
  if (result.notReleased > 0) notes.push(notReleasedNote(result.notReleased));
  if (isFifoQueueName(result.deadLetterQueueUrl) && result.messages.length < result.approximateDepth) {
    notes.push(`${FIFO_GROUPS_HELD}, so a listing shows fewer than the queue holds`);
  }
  return notes;
}

/**
 * Why a `failed summary` counts fewer dead letters than are there (none when it read them all), and the events it
 * read more than once.
 */
export function failedSummaryNotes(
  result: Pick<
    FailedSummaryResult,
    | 'heldByOthers'
    | 'notReleased'
    | 'interrupted'
    | 'read'
    | 'behindHeldGroups'
    | 'queue'
    | 'eventsHeldMoreThanOnce'
  >,
  hints: CommandHints = {},
): string[] {
  const notes: string[] = [];
  const copies = heldMoreThanOnceNote(
    result.eventsHeldMoreThanOnce,
    result.queue,
    `among the ${result.read} read`,
    hints,
  );
  if (copies) notes.push(copies);
  if (result.behindHeldGroups > 0) {
    notes.push(
      `${FIFO_GROUPS_HELD}, so about ${plural(result.behindHeldGroups, 'dead letter')} behind those read are in no group: the counts cover the ${result.read} read (the earliest of each group), not the whole queue; once those are redriven or deleted, run it again for the rest`,
    );
  }
  if (result.interrupted) {
    notes.push(`stopped by Ctrl-C: the counts cover the ${result.read} read so far, not the whole queue`);
  }
  if (result.heldByOthers > 0) {
    notes.push(`${heldByOthers(result.heldByOthers)} and in no group: SQS returns them once that hold ends`);
  }
  if (result.notReleased > 0) notes.push(notReleasedNote(result.notReleased));
  return notes;
}

/** Messages left in place but hidden: a redrive started at once would not see them. */
function notReleasedNote(count: number): string {
  const hidden = plural(count, 'message');
  return `${hidden} read here could not be made visible again at once: SQS returns them when this read's hold ends`;
}

/** The flags that select dead letters (`redrive`, `failed delete`, `failed list --failure`), as the operator gave them. */
export interface DeadLetterSelectionFlags {
  readonly ids?: readonly string[];
  readonly type?: string;
  readonly failure?: string;
}

/** The selection flags as the operator wrote them, for messages. */
export function describeSelection(options: DeadLetterSelectionFlags): string {
  return [
    ...(options.ids?.length ? [`--id ${options.ids.join(' ')}`] : []),
    ...(options.type !== undefined ? [`--type ${JSON.stringify(options.type)}`] : []),
    ...(options.failure !== undefined ? [`--failure ${options.failure}`] : []),
  ].join(' ');
}

/**
 * A selection that matched nothing: an error, never an empty answer, saying what nothing was done (`moved`,
 * `deleted`, `listed`). `heldElsewhere`: dead letters another reader held, which the read could not receive.
 */
export function nothingMatched(
  output: CommandHints,
  queue: string,
  options: DeadLetterSelectionFlags,
  heldElsewhere = 0,
  done = 'moved',
): CliError {
  // A failure key that matches nothing is one of a failure no longer there: failed summary prints those that are.
  const listing = nextCommand(
    output,
    `${options.failure === undefined ? 'failed list' : 'failed summary'} ${queue}`,
  );
  if (heldElsewhere > 0) {
    return new CliError(
      `no message this run could read in the ${queue} dead-letter queue matches ${describeSelection(options)}: nothing was ${done}; ` +
        `${heldByOthers(heldElsewhere)} and could not be read: ${AFTER_THE_HOLD}, or list them with ${listing}`,
    );
  }
  return new CliError(
    `no message in the ${queue} dead-letter queue matches ${describeSelection(options)}: nothing was ${done}; list them with ${listing}`,
  );
}
