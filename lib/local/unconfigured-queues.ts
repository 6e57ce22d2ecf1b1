/**
 * Queues a data directory holds that the configuration does not have (a queue renamed or removed, or another stack
 * name): nothing polls them, so the messages they hold are never processed. Local mode names them at start, and
 * `hookline status --local` and the console's overview name them for as long as they hold any, so a rename never
 * hides what the old queue (or its dead-letter queue) held.
 */
import { type CommandHints, nextCommand } from '../cli/output';
import { localModeHints } from './command-hints';

/** A queue the emulator holds that the configuration does not have, and the messages in it. */
export interface UnconfiguredQueue {
  readonly name: string;
  readonly messages: number;
}

/** The unconfigured queues of a data directory that hold messages (none: no entry at all). */
export interface UnconfiguredQueues {
  readonly dataDir: string;
  readonly queues: readonly UnconfiguredQueue[];
}

/** What is said of unconfigured queues that hold messages: nothing will process them, and what to do. */
export function unconfiguredQueuesNotice(
  queues: readonly UnconfiguredQueue[],
  dataDir: string,
  hints: CommandHints = localModeHints(),
): string | undefined {
  if (queues.length === 0) return undefined;
  const each = queues.map((q) => `${q.name} (${q.messages})`).join(', ');
  return (
    `the data directory ${dataDir} holds messages in queues the configuration does not have, which nothing ` +
    `processes: ${each}. A queue renamed or removed keeps what it held: to run those messages, configure the ` +
    `queue again under its old name and let it drain (${nextCommand(hints, 'status')}) before renaming it; to drop them, ` +
    `delete the data directory`
  );
}
