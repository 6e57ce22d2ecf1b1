/**
 * What a read of a dead-letter queue could not show, said the same way by the CLI and the console. No AWS SDK
 * here: the renderers load it for every command.
 */
import type { FailedListResult, FailedSummaryResult } from './failed';

/**
 * How long a redrive, `failed delete` or a read of the whole DLQ (`failed summary`, `failed show`) holds each dead
 * letter it scans, unless told otherwise (`holdSeconds`): one stopped at once (killed, not Ctrl-C) leaves what it
 * held hidden that long.
 */
export const DEFAULT_HOLD_SECONDS = 300;

/** What to do about dead letters another reader holds: wait for that hold to end. */
export const AFTER_THE_HOLD = `run it again once that hold ends (up to ${DEFAULT_HOLD_SECONDS} s after a redrive stopped)`;

/** Why a scan may have missed an `--id`: `count` dead letters another reader held, which it could not read. */
export function notReachedWhileHeld(count: number): string {
  return `not reached: ${heldByOthers(count)} and could not be read, if it is in the DLQ at all: ${AFTER_THE_HOLD}`;
}

/**
 * Dead letters a read could not receive because another reader holds them (a redrive holds what it scans for up
 * to {@link DEFAULT_HOLD_SECONDS} s, the console and `failed` for a moment): they are there, counted by `status`,
 * and come back when that hold ends.
 */
export function heldByOthers(count: number): string {
  const held = count === 1 ? '1 message is' : `${count} messages are`;
  return `${held} held by another reader (a redrive, the console, another failed list)`;
}

/** Why a `failed list` read shows fewer dead letters than are there, one line per cause (none when it shows all). */
export function failedListNotes(
  result: Pick<FailedListResult, 'approximateDepth' | 'heldByOthers' | 'notReleased' | 'messages'>,
): string[] {
  const notes: string[] = [];
  if (result.heldByOthers > 0 && result.messages.length < result.approximateDepth) {
    notes.push(`${heldByOthers(result.heldByOthers)} and not shown: SQS returns them once that hold ends`);
  }
  if (result.notReleased > 0) notes.push(notReleasedNote(result.notReleased));
  return notes;
}

/** Why a `failed summary` counts fewer dead letters than are there (none when it read them all). */
export function failedSummaryNotes(
  result: Pick<FailedSummaryResult, 'heldByOthers' | 'notReleased' | 'interrupted' | 'read'>,
): string[] {
  const notes: string[] = [];
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
  const hidden = count === 1 ? '1 message' : `${count} messages`;
  return `${hidden} read here could not be made visible again at once: SQS returns them when this read's hold ends`;
}
