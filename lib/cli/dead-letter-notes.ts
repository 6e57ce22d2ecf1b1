/**
 * What a read of a dead-letter queue could not show, said the same way by the CLI and the console. No AWS SDK
 * here: the renderers load it for every command.
 */
import type { FailedListResult, FailedSummaryResult } from './failed';

/**
 * Dead letters a read could not receive because another reader holds them (a redrive holds what it scans for up
 * to 300 s, the console and `failed` for a moment): they are there, counted by `status`, and come back when that
 * hold ends.
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
